"""What ``sitcen demo`` and ``sitcen seed`` put into a node, and what keeps it moving.

- :func:`seed_scenario` writes years of synthetic activity (the scenario) up to now;
- :class:`LiveFeed` keeps reporting a new event every few seconds, as a post would;
- :class:`DemoStory` gives the node capacity inventories, a risk table,
  confirmed section levels, its directory and the start of the shift (queue
  decisions, the night's handover signed off, the duty log; ``demo/shift.py``)
  before it serves, then, once it serves, writes the alerts of early warning,
  has the duty officer raise the riskiest section's level (a level change on the
  live stream) and task the demo's patrols every few minutes, which answer.

No HTTP and no terminal here: progress goes to a callback the CLI draws.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sitcen.analysis.risk import LEVEL_ORDER
from sitcen.demo.cameras import seed_camera_and_drone
from sitcen.demo.capacities import synthetic_capacities
from sitcen.demo.patrols import plan_tomorrow
from sitcen.demo.scenario import generate, live_events
from sitcen.demo.shift import (
    DAY_OFFICER,
    PatrolTasking,
    QueueWork,
    ShiftStart,
    log_level_raised,
    open_shift,
    seed_directory,
)
from sitcen.demo.surveillance import seed_surveillance
from sitcen.events import EventCreate
from sitcen.interop.capacity_import import capacity_values
from sitcen.node import Node
from sitcen.operations.queue import chain_of
from sitcen.recompute import (
    RISK_HISTORY_MONTHS,
    compute_risk,
    load_events,
    reactions_for,
    run_alerts,
)
from sitcen.reports.library import NodeFacts, edit_draft, issue_draft, make_draft
from sitcen.store.capacities import put_capacities
from sitcen.store.events import report_events
from sitcen.store.levels import confirm_level
from sitcen.store.records import StoredRecord
from sitcen.store.users import add_user, list_users
from sitcen.users import Role

log = logging.getLogger("sitcen.demo")

Progress = Callable[[int, int], None]  # (done, total)

#: (username, password, role, full name) of the demo node's users.
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("operator", "operator-demo-1", "operator", "Post operator (demo)"),
    ("duty", "duty-demo-1", "duty_officer", "Duty officer (demo)"),
    ("night", "night-demo-1", "duty_officer", "Night duty officer (demo)"),
    ("analyst", "analyst-demo-1", "analyst", "Risk analyst (demo)"),
    ("liaison", "liaison-demo-1", "liaison", "Liaison officer (demo)"),
    ("admin", "admin-demo-1", "admin", "Administrator (demo)"),
)


def add_demo_users(node: Node) -> None:
    """Create the users of :data:`DEMO_USERS`."""
    for username, password, role, full_name in DEMO_USERS:
        add_user(node.engine, username, password, Role(role), full_name)


def seed_scenario(node: Node, *, years: float, seed: int, scale: float = 1.0,
                  truth: Path | None = None, progress: Progress | None = None) -> int:
    """Write ``years`` of the synthetic scenario, up to now, into the node; the count written.

    Reports whose time of reporting is still in the future are left out.
    ``truth``, when given, receives the planted anomalies and trend shifts.
    """
    start = (datetime.now(UTC) - timedelta(days=365.25 * years)).date()
    scenario = generate(years, seed=seed, start=start, scale=scale)
    total = len(scenario)
    now = datetime.now(UTC)
    written = done = 0
    for batch in scenario.batches(10_000):
        items = [EventCreate.model_validate(p) for p in batch]
        items = [it for it in items if (it.reported_at or it.occurred_at) <= now]
        if items:
            report_events(node.engine, node.reporter, items, batch=True)
            written += len(items)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    if truth is not None:
        truth.write_text(json.dumps(scenario.truth_json(), indent=2), encoding="utf-8")
    return written


@dataclass
class LiveFeed:
    """Reports a new synthetic event every ``every_s`` seconds on average, until stopped."""

    node: Node
    stop: threading.Event
    every_s: float = 4.0

    def start(self) -> LiveFeed:
        """Start reporting in a daemon thread."""
        threading.Thread(target=self._run, name="live-feed", daemon=True).start()
        return self

    def _run(self) -> None:
        # live_events sleeps between reports (a Poisson process at this rate).
        for payload in live_events(60.0 / self.every_s, seed=int(time.time())):
            if self.stop.is_set():
                return
            try:
                report_events(self.node.engine, self.node.reporter,
                              [EventCreate.model_validate(payload)])
            except Exception:  # the feed must never take the server down
                log.exception("live feed: skipped one event")


@dataclass
class DemoStory:
    """What happens at the demo node besides reports: analysis, levels, and the shift's work.

    Call :meth:`prepare` before the node serves, then :meth:`jobs` for what to
    start with the server; ``stop`` ends the patrols' tasking. ``task_every_s``
    is the time between two tasks (0: no tasking).
    """

    node: Node
    raise_after_s: float = 20.0
    progress: Callable[[str], Progress] | None = None
    say: Callable[[str], None] = print
    stop: threading.Event = field(default_factory=threading.Event)
    task_every_s: float = 180.0
    _rows: list[dict[str, Any]] = field(default_factory=list, init=False)
    _events: Any = field(default=None, init=False)
    _today: Any = field(default=None, init=False)
    _shift: ShiftStart | None = field(default=None, init=False)

    @property
    def _node_id(self) -> str:
        return self.node.settings.node_id

    def prepare(self) -> None:
        """Synthetic capacity inventories, the risk table, and five confirmed levels."""
        engine = self.node.engine
        capacities = synthetic_capacities(self.node.sections.sections)
        put_capacities(engine, self._node_id,
                       [(c.section_id, capacity_values(c), "[synthetic] demo inventory")
                        for c in capacities], assessed_by="analyst")
        self.say(f"capacity inventories: {len(capacities)} sections (synthetic)")
        self._today = datetime.now(UTC).date()
        self._events = load_events(
            engine, since=self._today - timedelta(days=31 * RISK_HISTORY_MONTHS),
            until=self._today + timedelta(days=1),
            progress=self.progress("analysis: reading events") if self.progress else None)
        self._rows = compute_risk(engine, self._node_id, events=self._events)["sections"]
        self.say(f"risk table: {len(self._rows)} sections from {len(self._events)} events")
        for row in self._rows[1:5]:
            self._confirm(row, row["proposed_level"])
        self._issue_daily_report()
        top = self._top_riser()
        if top is None:
            if self._rows:
                self._confirm(self._rows[0], self._rows[0]["proposed_level"])
        else:
            before = self._level_before(top)
            self._confirm(top, before, "[demo] the level confirmed last month, before the rise")
            self.say(f"levels: 5 sections confirmed; {top['section_id']} goes from {before} to "
                     f"{top['proposed_level']} shortly after start")
        self._open_shift(top)
        self.say(seed_surveillance(self.node))
        self.say(seed_camera_and_drone(self.node))
        plans = plan_tomorrow(self.node, self._rows)
        self.say(f"patrol plans: tomorrow's for {', '.join(p.body['post_id'] for p in plans)} "
                 "(Patrols page)")

    def _open_shift(self, top: dict[str, Any] | None) -> None:
        """The directory, and the night's decisions, log and handover (``demo/shift.py``)."""
        directory = seed_directory(self.node)
        self.say(f"directory: {len(directory)} agencies, units and points of contact (demo)")
        self._shift = open_shift(self.node, chain_of(self.node.settings),
                                 watch=None if top is None else top["section_id"],
                                 watch_level=None if top is None else top["proposed_level"])
        self.say("shift: the night's handover signed off by the duty officer; queue, duty log")

    def _issue_daily_report(self) -> None:
        """Yesterday's daily situation report, drafted with commentary and issued by the duty
        officer, so the reports library has one from the start."""
        node = self.node
        if node.identity is None:
            return
        s = node.settings
        facts = NodeFacts.of(node)
        draft = make_draft(node.engine, facts, product="daily",
                           day=self._today - timedelta(days=1), by="analyst", language="ru")
        draft = edit_draft(node.engine, s.node_id, draft.id, by="analyst", commentary={
            0: "[demo] Комментарий аналитика: обстановка в целом спокойная; усилить "
               "наблюдение на участках с подтверждённым высоким уровнем."})
        duty = next(u for u in list_users(node.engine) if u.username == "duty")
        issued = issue_draft(node.engine, facts, draft.id, duty)
        self.say(f"daily situation report {issued.body['period']['label']} issued by the "
                 "duty officer (reports library)")

    def jobs(self) -> list[threading.Thread]:
        """The alerts pass, (``raise_after_s`` later) the level rise, and the patrols'
        tasking, not yet started."""
        jobs = [threading.Thread(target=self.write_alerts, name="demo-alerts", daemon=True)]
        if self._top_riser() is not None:
            timer = threading.Timer(self.raise_after_s, self.raise_level)
            timer.daemon = True
            jobs.append(timer)
        if self.task_every_s > 0:
            returned = self._shift.returned if self._shift is not None else None
            tasking = PatrolTasking(self.node, self.stop,
                                    riskiest=[r["section_id"] for r in self._rows],
                                    every_s=self.task_every_s,
                                    skip_events=frozenset({returned} if returned else ()))
            jobs.append(threading.Thread(target=tasking.run, name="demo-tasking",
                                         daemon=True))
            work = QueueWork(self.node, chain_of(self.node.settings), self.stop,
                             every_s=max(1.0, self.task_every_s / 3),
                             after_s=max(5.0, self.task_every_s * 3))
            jobs.append(threading.Thread(target=work.run, name="demo-queue", daemon=True))
        return jobs

    def write_alerts(self) -> None:
        """Early warning and the cluster scan over the events read by :meth:`prepare`."""
        try:
            writes = run_alerts(self.node.engine, self._node_id, self._events,
                                section_ids=[s.id for s in self.node.sections.sections],
                                today=self._today)
            self.say(f"demo: alerts written: {len(writes.created)}")
        except Exception:  # a demo nicety must never take the server down
            log.exception("demo: alerts pass failed")

    def raise_level(self) -> None:
        """The duty officer confirms the riskiest section's proposed (higher) level."""
        top = self._top_riser()
        if top is None:
            return
        try:
            record = self._confirm(top, top["proposed_level"])
            log_level_raised(self.node, record, self._level_before(top))
        except Exception:  # a demo nicety must never take the server down
            log.exception("demo: could not raise the level of %s", top["section_id"])

    @staticmethod
    def _level_before(top: dict[str, Any]) -> str:
        """The level one below the proposed one: where the riskiest section stood before."""
        return LEVEL_ORDER[LEVEL_ORDER.index(top["proposed_level"]) - 1]

    def _top_riser(self) -> dict[str, Any] | None:
        """The riskiest section, when its proposed level is above the lowest one."""
        if not self._rows or LEVEL_ORDER.index(self._rows[0]["proposed_level"]) == 0:
            return None
        return self._rows[0]

    def _confirm(self, row: dict[str, Any], level: str, why: str = "") -> StoredRecord:
        return confirm_level(self.node.engine, self._node_id, row["section_id"], level=level,
                             proposed_level=row["proposed_level"], reasons=row["reasons"],
                             reactions=reactions_for(level), confirmed_by=DAY_OFFICER,
                             justification=why)
