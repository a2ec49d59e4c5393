"""The shift's work in the demo: directory, queue decisions, handover, duty log, patrols tasked.

- :func:`seed_directory` enters the demo node's own agencies, units and points of
  contact;
- :func:`open_shift` has the night officer work the validation queue down to its
  newest reports (validating the older ones) and return one for correction, log
  the night and hand the shift over; the day officer (``duty``) signs the handover
  off and opens the day's log;
- :class:`PatrolTasking` has the duty officer task one of the demo's patrols every
  few minutes, and the patrol answer as its device would: acknowledged, en route,
  on scene, done with an outcome.

Everything is written through the functions of ``sitcen.operations`` that the
console's routes call (``queue.decide``, ``tasks``, ``shift``, ``directory``): the demo
has no write path of its own. Names, numbers and texts are invented and marked
"(demo)" or "[demo]". No HTTP and no terminal here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.demo.patrols import DEMO_PATROLS
from sitcen.node import Node
from sitcen.operations.chain import Chain
from sitcen.operations.directory import (
    ContactPointCreate,
    OrganisationCreate,
    save_contact_point,
    save_organisation,
)
from sitcen.operations.queue import QueueKeeper, decide, queue_counts, queue_page
from sitcen.operations.shift import (
    DutyLogEntryCreate,
    HandoverCreate,
    SignOff,
    hand_over,
    sign_off,
    write_entry,
)
from sitcen.operations.tasks import (
    FINAL,
    TaskCreate,
    TaskError,
    TaskOutcome,
    apply_outcome,
    create_task,
    known_units,
    list_tasks,
    merged,
    responses_to,
    update_own_task,
)
from sitcen.store.queries import EventFilter, query_events
from sitcen.store.records import StoredRecord, get_record
from sitcen.times import to_micros

log = logging.getLogger("sitcen.demo")

#: The officer whose shift ends as the demo starts, and the one who takes over.
NIGHT_OFFICER = "night"
DAY_OFFICER = "duty"


# ----------------------------------------------------------------------------- directory


def seed_directory(node: Node) -> list[StoredRecord]:
    """The demo node's agencies, units and points of contact (invented, marked demo)."""
    engine, node_id = node.engine, node.settings.node_id
    written: list[StoredRecord] = []

    def organisation(**values: Any) -> str:
        record = save_organisation(engine, node_id, OrganisationCreate.model_validate(
            {"country": "TJ", **values}), by="admin")
        written.append(record)
        return record.id

    def contact(organisation_id: str, **values: Any) -> None:
        written.append(save_contact_point(engine, node_id, ContactPointCreate.model_validate(
            {"organisation_id": organisation_id, "languages": ["tg", "ru"],
             "hours": {"always": True, "time_zone": "Asia/Dushanbe"}, **values}), by="admin"))

    troops = organisation(name="Border Troops (demo)", name_local="Пограничные войска (демо)",
                          short_name="BT demo", agency_type="border_guard",
                          notes="[demo] an invented agency for the demo node")
    centre = organisation(name="National coordination centre (demo)",
                          name_local="Национальный координационный центр (демо)",
                          short_name="NCC demo", agency_type="border_guard",
                          unit_kind="situation_centre", parent_id=troops, node=node_id,
                          location={"lon": 68.78, "lat": 38.56})
    panj = organisation(name="Panj border detachment (demo)",
                        name_local="Пянджский пограничный отряд (демо)",
                        agency_type="border_guard", unit_kind="regional_office",
                        parent_id=troops, location={"lon": 69.05, "lat": 37.24})
    isfara = organisation(name="Isfara border liaison office (demo)",
                          agency_type="border_guard", unit_kind="border_liaison_office",
                          parent_id=troops, location={"lon": 70.60, "lat": 40.12},
                          counterpart={"name": "Batken border liaison office (demo)",
                                       "country": "KG"})
    customs = organisation(name="Customs Service (demo)", name_local="Таможенная служба (демо)",
                           short_name="CS demo", agency_type="customs")
    crossing = organisation(name="Nizhny Panj customs post (demo)", agency_type="customs",
                            unit_kind="crossing_point", parent_id=customs,
                            location={"lon": 68.60, "lat": 37.22})
    contact(centre, role="Duty officer, national coordination centre (demo)",
            phones=["+992 00 000 01 01"], radio_callsign="CENTRE-DEMO",
            languages=["tg", "ru", "en"], email="duty.ncc@demo.invalid",
            person={"name": "Demo Officer Karimov (invented)", "phones": ["+992 00 000 91 01"]})
    contact(panj, role="Duty desk, Panj detachment (demo)", phones=["+992 00 000 02 02"],
            radio_callsign="PANJ-DESK")
    contact(isfara, role="Liaison officer on duty (demo)", phones=["+992 00 000 03 03"],
            radio_callsign="ISFARA-BLO", languages=["tg", "ru", "ky"],
            hours={"always": False, "time_zone": "Asia/Dushanbe",
                   "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                   "start": "08:00", "end": "20:00"})
    contact(crossing, role="Customs shift supervisor (demo)", phones=["+992 00 000 04 04"],
            radio_callsign="NPANJ-CUSTOMS")
    return written


# ----------------------------------------------------------------------------- the shift


def _entry(node: Node, entry_type: str, text: str, *, by: str,
           related: Sequence[tuple[str, str]] = ()) -> StoredRecord:
    item = DutyLogEntryCreate.model_validate({
        "entry_type": entry_type, "text": text,
        "related": [{"kind": kind, "id": record_id} for kind, record_id in related]})
    return write_entry(node.engine, node.settings.node_id, item, by=by)


#: Reports of the seeded history the night officer leaves waiting (the newest ones).
LEFT_WAITING = 10


def _waiting(engine: sa.Engine, chain: Chain) -> list[str]:
    """The reports waiting at this node's level that are not serious, oldest first."""
    found: list[str] = []
    after: tuple[int, int, str] | None = None
    while True:
        page = queue_page(engine, chain, limit=500, after=after)
        found += [i.event_id for i in page if not i.serious]
        if len(page) < 500:
            return found
        last = page[-1]
        after = (0 if last.serious else 1, last.entered_at, last.event_id)


@dataclass(frozen=True)
class ShiftStart:
    """What :func:`open_shift` left for the story to build on."""

    handover: StoredRecord
    returned: str | None  # the report sent back for correction
    validated: str | None


def open_shift(node: Node, chain: Chain, *, watch: str | None = None,
               watch_level: str | None = None) -> ShiftStart:
    """The night shift's last decisions, its log and handover; the day shift's first entries.

    ``watch`` and ``watch_level``: a section the night officer leaves for the morning
    review, and the level the risk table proposes for it.
    """
    engine = node.engine
    # Queue the reports the node holds now (the keeper that serves continues from here).
    QueueKeeper(engine, chain).rebuild()
    waiting = _waiting(engine, chain)
    # The night officer worked the queue down to its newest reports and sent one back.
    older, keep = waiting[:-LEFT_WAITING], waiting[-LEFT_WAITING:]
    for event_id in older:
        decide(engine, chain, event_id, "validate", by=NIGHT_OFFICER)
    validated: str | None = older[-1] if older else None
    returned: str | None = keep[0] if keep else None
    if returned is not None:
        decide(engine, chain, returned, "return_for_correction", by=NIGHT_OFFICER,
               text="[demo] The location is far from the section named and the persons "
                    "count is missing; check the coordinates and count the group again.")
    if validated is None and len(keep) > 1:
        validated = keep[-1]
        decide(engine, chain, validated, "validate", by=NIGHT_OFFICER)
    _entry(node, "information", "[demo] Quiet night on the Kyrgyz-Tajik border; two groups "
           "turned back near Isfara by the border liaison office's patrol.", by=NIGHT_OFFICER)
    _entry(node, "call", "[demo] Termez river patrol by radio: relay down 02:10-02:40, "
           "restored; no crossings seen meanwhile.", by=NIGHT_OFFICER)
    notes = ["[demo] Batken drone grounded until 06:00 for wind; back in the air since."]
    if returned is not None:
        notes.insert(0, f"[demo] Report {returned[:8]} returned for correction: the location "
                        "does not match its section.")
    if watch is not None:
        notes.append(f"[demo] Watch {watch}: the risk table proposes {watch_level}; I left the "
                     "level for the morning review.")
    handover = hand_over(engine, node.settings.node_id, chain,
                         HandoverCreate(notes="\n".join(notes), to_officer=DAY_OFFICER),
                         by=NIGHT_OFFICER, today=datetime.now(UTC).date())
    handover = sign_off(engine, node.settings.node_id, handover.id,
                        SignOff(note="[demo] Taken over; the proposed levels first."),
                        by=DAY_OFFICER)
    counts = queue_counts(engine, chain)
    _entry(node, "information", f"[demo] Shift taken over from {NIGHT_OFFICER} (handover signed "
           f"off): {counts['waiting']} reports waiting, {counts['returned']} returned for "
           "correction.", by=DAY_OFFICER, related=[("handover", handover.id)])
    _entry(node, "call", "[demo] Panj detachment duty desk (PANJ-DESK): the river is rising at "
           "Nizhny Panj; crossings likely to move upstream tonight.", by=DAY_OFFICER)
    _entry(node, "decision", "[demo] Patrols of the Panj detachment to favour the upstream "
           "fords until the water falls; the analyst reviews the proposed levels by noon.",
           by=DAY_OFFICER)
    _entry(node, "instruction", "[demo] All patrols: acknowledge tasks within five minutes and "
           "report on arrival.", by=DAY_OFFICER)
    return ShiftStart(handover, returned, validated)


def log_level_raised(node: Node, record: StoredRecord, before: str) -> StoredRecord:
    """The duty officer's log line for a section level raised."""
    body = record.body
    reasons = "; ".join(str(r) for r in list(body.get("reasons") or [])[:2])
    return _entry(node, "decision", f"[demo] Raised the level of {body.get('section_id')} from "
                  f"{before} to {body.get('level')}, as the risk table proposes"
                  + (f" ({reasons})" if reasons else "") + "; its reactions apply now.",
                  by=str(body.get("confirmed_by") or DAY_OFFICER),
                  related=[("section_assessment", record.id)])


# ----------------------------------------------------------------------------- tasking

#: When the patrol answers, as a fraction of the time between two tasks after dispatch.
#: A task lasts longer than the gap between two, so one is always in progress.
ANSWERS: tuple[tuple[str, float], ...] = (
    ("acknowledged", 0.1), ("en_route", 0.35), ("on_scene", 0.85), ("done", 1.7))
#: How far back a high-impact event is recent enough to send a patrol to.
RECENT = timedelta(hours=48)
_NOTES = {"acknowledged": "[demo] {callsign}: received, moving out.",
          "en_route": "[demo] {callsign}: en route, about twenty minutes out.",
          "on_scene": "[demo] {callsign}: on scene."}
#: (result, summary, reactions) of the tasks' ends, in turn; said so that they fit any target.
OUTCOMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("confirmed", "[demo] Confirmed on the spot: the report holds; photos sent to the duty desk.",
     ("patrol_dispatched", "monitoring")),
    ("nothing_found", "[demo] Nothing found on the spot; the area was searched for an hour.",
     ("patrol_dispatched",)),
    ("handled", "[demo] Handled on the spot; the detachment takes it over from here.",
     ("patrol_dispatched",)),
)


@dataclass
@dataclass
class QueueWork:
    """The duty officer works the live queue: every ``every_s`` the reports waiting
    longer than ``after_s`` are validated, so the queue stays live without growing
    for ever (a report every few seconds would otherwise pile up overdue). The
    newest reports, the serious ones and those returned for correction are left for
    the visitor to handle."""

    node: Node
    chain: Chain
    stop: threading.Event
    every_s: float = 60.0
    after_s: float = 600.0
    officer: str = DAY_OFFICER

    def run(self) -> None:
        """Work the queue every ``every_s`` until ``stop`` is set."""
        while not self.stop.wait(self.every_s):
            try:
                self.work(datetime.now(UTC))
            except Exception:  # a demo nicety must never take the server down
                log.exception("demo: working the queue failed")

    def work(self, now: datetime) -> int:
        """Validate what has waited longer than ``after_s`` at ``now``; how many."""
        cutoff = to_micros(now - timedelta(seconds=self.after_s))
        done = 0
        for item in queue_page(self.node.engine, self.chain, limit=500):
            if item.serious or item.entered_at > cutoff:
                continue
            try:
                decide(self.node.engine, self.chain, item.event_id, "validate", by=self.officer)
            except Exception:  # handled meanwhile by someone at the console
                continue
            done += 1
        return done


@dataclass
class _Running:
    task_id: str
    unit_id: str
    callsign: str
    dispatched: float  # on the tasking's clock
    answered: int = 0  # how many of ANSWERS the patrol has given


@dataclass
class PatrolTasking:
    """The duty officer tasks a demo patrol every ``every_s``; the patrol answers as it goes.

    :meth:`step` does what is due at a time of ``clock`` (a test may drive it
    directly); :meth:`run` calls it until ``stop`` is set (``DemoStory.jobs`` gives it
    a thread).
    Patrols are tasked once their positions are known (the patrols write them once
    the node serves), one task at a time each, to the newest high-impact event of the
    last two days on their border, else to the riskiest section of their border.
    """

    node: Node
    stop: threading.Event
    riskiest: Sequence[str] = ()  # section ids, riskiest first
    every_s: float = 180.0
    officer: str = DAY_OFFICER
    skip_events: frozenset[str] = frozenset()  # reports not to send anyone to
    clock: Callable[[], float] = time.monotonic
    _running: dict[str, _Running] = field(default_factory=dict, init=False)
    _sent_to: set[str] = field(default_factory=set, init=False)
    _next_at: float | None = field(default=None, init=False)
    _turn: int = field(default=0, init=False)
    _outcome: int = field(default=0, init=False)

    def run(self) -> None:
        """Step every few seconds (a twentieth of ``every_s``) until ``stop`` is set."""
        tick = min(5.0, max(0.05, self.every_s / 20))
        while not self.stop.is_set():
            try:
                self.step(self.clock())
            except Exception:  # a demo nicety must never take the server down
                log.exception("demo: tasking step failed")
            self.stop.wait(tick)

    def step(self, now: float) -> None:
        """Give every answer that is due, then dispatch a task when one is due."""
        for running in list(self._running.values()):
            while running.answered < len(ANSWERS):
                status, after = ANSWERS[running.answered]
                if now < running.dispatched + after * self.every_s:
                    break
                if not self._answer(running, status):
                    running.answered = len(ANSWERS)  # the task moved on without the patrol
                    break
                running.answered += 1
            if running.answered >= len(ANSWERS):
                self._running.pop(running.task_id, None)
        due = self._next_at is None or now >= self._next_at
        if due and self.dispatch(now) is not None:
            self._next_at = now + self.every_s

    def dispatch(self, now: float) -> StoredRecord | None:
        """Task the next free patrol (None when no patrol is known or free yet)."""
        engine, node_id = self.node.engine, self.node.settings.node_id
        units = known_units(engine, {})
        busy = {str(b.get("unit_id")) for _t, b in list_tasks(engine, open_only=True)}
        # In turn: the first free patrol after the one tasked last.
        order = [(self._turn + i) % len(DEMO_PATROLS) for i in range(len(DEMO_PATROLS))]
        free = [i for i in order if DEMO_PATROLS[i][0] in units
                and DEMO_PATROLS[i][0] not in busy]
        if not free:
            return None
        self._turn = free[0] + 1
        asset_id, _kind, name, section_id = DEMO_PATROLS[free[0]]
        target, priority, what = self._target(section_id)
        instructions = (f"[demo] {what[:1].upper()}{what[1:]}: confirm what is there, count "
                        "persons and vehicles, report on arrival and when done.")
        task = create_task(engine, node_id, self.node.sections, TaskCreate.model_validate({
            "unit_id": asset_id, "target": target, "priority": priority,
            "instructions": instructions}), by=self.officer, units=units,
            max_km=self.node.settings.section_max_km)
        related = [("task", task.id)]
        if target.get("event_id"):
            related.append(("event", str(target["event_id"])))
        _entry(self.node, "instruction", f"[demo] Tasked {name} ({priority}): {what}.",
               by=self.officer, related=related)
        self._running[task.id] = _Running(task.id, asset_id, units[asset_id].callsign, now)
        return task

    def _target(self, section_id: str) -> tuple[dict[str, Any], str, str]:
        """Where to send a patrol of ``section_id``: target, priority, and in words."""
        border = section_id[:5]
        since = to_micros(datetime.now(UTC) - RECENT)
        with self.node.engine.connect() as conn:
            bodies, _ = query_events(conn, EventFilter(since=since,
                                                       impact_levels=("high", "very_high")),
                                     limit=500)
        events = [orjson.loads(b) for b in bodies]
        nearby = [e for e in events if str(e.get("section_id") or "").startswith(border)
                  and str(e["id"]) not in self._sent_to and str(e["id"]) not in self.skip_events]
        if nearby:
            # The patrol's own section first, then the newest (the list is newest first).
            event = next((e for e in nearby if e.get("section_id") == section_id), nearby[0])
            self._sent_to.add(str(event["id"]))
            priority = "immediate" if event.get("impact_level") == "very_high" else "priority"
            what = (f"go to the {str(event.get('type')).replace('_', ' ')} reported on "
                    f"{event.get('section_id')}")
            return {"kind": "event", "event_id": str(event["id"])}, priority, what
        section = next((s for s in self.riskiest if s.startswith(border)), None)
        if section is None:
            return ({"kind": "section", "section_id": section_id}, "routine",
                    f"patrol section {section_id}")
        return ({"kind": "section", "section_id": section}, "routine",
                f"patrol section {section}, the riskiest of the border")

    def _answer(self, running: _Running, status: str) -> bool:
        """The patrol's answer, as its device would give it; False when the task moved on."""
        engine, node_id = self.node.engine, self.node.settings.node_id
        try:
            if status != "done":
                update_own_task(engine, node_id, running.task_id, status, by=running.unit_id,
                                via="device", note=_NOTES[status].format(
                                    callsign=running.callsign))
                return True
            result, summary, reactions = OUTCOMES[self._outcome % len(OUTCOMES)]
            self._outcome += 1
            outcome = TaskOutcome.model_validate({"result": result, "summary": summary,
                                                  "reaction": list(reactions)})
            task = get_record(engine, running.task_id)
            if task is None or merged(task, responses_to(engine, [task.id]).get(
                    task.id, []))["status"] in FINAL:
                return False  # ended in the console: its outcome is the officer's
            try:
                done = apply_outcome(engine, self.node.reporter, task, outcome,
                                     by=running.unit_id)
            except Exception:  # the event may not take the change; the task still ends
                log.exception("demo: task %s outcome not applied", running.task_id[:8])
                done = {"result": result, "summary": summary, "by": running.unit_id}
            update_own_task(engine, node_id, running.task_id, "done", by=running.unit_id,
                            via="device", note=summary, outcome=done)
            return True
        except TaskError:
            # The visitor moved the task on in the console (done, cancelled): let it be.
            return False
