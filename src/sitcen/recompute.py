"""The node's analysis layer: risk table, alerts and forecasts computed from its own tables.

The analysis functions (``sitcen.analysis``) are pure; this module feeds them
from the node's database and puts their results where the API, the CLI and
the console read them:

- the **risk table** (threat, vulnerability, impact and risk of every border
  section, with its decomposition) is cached in ``analysis_results``, so
  every app process of the node serves the same table without recomputing;
- **alerts** of early warning and the space-time scan are written as
  ``alert`` records, one per episode (:func:`sitcen.store.levels.record_alerts`);
- **forecasts** of monthly counts are computed on request.

:func:`recompute` does one full pass and is what tests, the CLI and the demo
call; :class:`AnalysisScheduler` runs it every ``SITCEN_ANALYSIS_INTERVAL_MIN``
minutes in ``sitcen serve``, under a lease so that one process of the node
recomputes at a time.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from sitcen import metrics
from sitcen.analysis.alerts import detect_alarms
from sitcen.analysis.event_table import DAY_US, events_frame
from sitcen.analysis.forecast import forecast, trend_summary
from sitcen.analysis.risk import REACTIONS, RiskAssessment, assess_risk
from sitcen.analysis.vulnerability import SectionCapacity, capacity_indicators
from sitcen.store import schema
from sitcen.store.alerts import AlertWrites, record_alerts
from sitcen.store.capacities import all_capacities
from sitcen.store.engine import open_engine
from sitcen.store.journal import RecordKind
from sitcen.store.leases import acquire
from sitcen.store.levels import current_levels
from sitcen.store.records import StoredRecord, list_records
from sitcen.store.results import load_result, result_age_s, store_results
from sitcen.store.sections import load_sections
from sitcen.taxonomy import EVENT_TYPES, Category
from sitcen.times import iso

log = logging.getLogger("sitcen.analysis")

#: Names of the cached results in ``analysis_results``: the table, and one
#: detail per section (``risk_detail:<section id>``).
RISK_TABLE = "risk_table"
RISK_DETAIL = "risk_detail:"
#: Months of events read for the risk table (the threat's history).
RISK_HISTORY_MONTHS = 36
#: Months of a section's monthly counts shown with its risk detail.
TREND_MONTHS = 24
LEASE = "analysis:recompute"

Progress = Callable[[int, int], None]  # (done, total)


# ----------------------------------------------------------------------------- events


def _months_back(day: date, months: int) -> date:
    month = day.year * 12 + day.month - 1 - months
    return date(month // 12, month % 12 + 1, 1)


def _micros_of(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def load_events(engine: sa.Engine, *, since: date, until: date | None = None,
                progress: Progress | None = None, chunk: int = 20_000) -> pd.DataFrame:
    """The events table of :mod:`sitcen.analysis.event_table` for ``since <= day < until``.

    Own and received events alike (received ones carry what their agreement
    granted; a withheld section or location is simply empty). Rejected reports
    are left out. Adds ``lon`` and ``lat`` (NaN when withheld).
    """
    e = schema.events
    where = [e.c.occurred_at >= _micros_of(since)]
    if until is not None:
        where.append(e.c.occurred_at < _micros_of(until))
    where.append(sa.or_(e.c.status.is_(None), e.c.status != "rejected"))
    with engine.connect() as conn:
        total = int(conn.execute(sa.select(sa.func.count()).select_from(e).where(*where))
                    .scalar_one())
        bodies: list[dict[str, Any]] = []
        result = conn.execution_options(yield_per=chunk).execute(
            sa.select(e.c.body).where(*where).order_by(e.c.occurred_at, e.c.id))
        for part in result.partitions(chunk):
            bodies += [orjson.loads(row.body) for row in part]
            if progress is not None:
                progress(len(bodies), total)
    # A type a linked node's newer taxonomy has and this node's does not cannot be scored.
    bodies = [b for b in bodies if b.get("type") in EVENT_TYPES and b.get("status") != "rejected"]
    frame = events_frame(bodies, include_rejected=False)
    locations = [b.get("location") or {} for b in bodies]
    frame["lon"] = np.array([loc.get("lon", np.nan) for loc in locations], dtype=np.float64)
    frame["lat"] = np.array([loc.get("lat", np.nan) for loc in locations], dtype=np.float64)
    return frame


# ----------------------------------------------------------------------------- cache








# ----------------------------------------------------------------------------- risk


def assessed_month(now: datetime) -> str:
    """The month a risk table computed at ``now`` assesses: the last complete one."""
    first = date(now.year, now.month, 1)
    return str(pd.Period(first - timedelta(days=1), freq="M"))


def _monthly_trend(events: pd.DataFrame, section_ids: Sequence[str], month: str
                   ) -> dict[str, list[dict[str, Any]]]:
    """Events per month of each section over the ``TREND_MONTHS`` ending with ``month``."""
    last = pd.Period(month, freq="M")
    months = pd.period_range(last - (TREND_MONTHS - 1), last, freq="M")
    if len(events):
        day = events["occurred_at"].to_numpy(np.int64) // DAY_US
        ordinal = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        index = {sid: i for i, sid in enumerate(section_ids)}
        sec = np.array([index.get(s, -1) if isinstance(s, str) else -1
                        for s in events["section_id"]], dtype=np.int64)
        col = ordinal - months[0].ordinal
        keep = (sec >= 0) & (col >= 0) & (col < len(months))
        counts = np.zeros((len(section_ids), len(months)), dtype=np.int64)
        np.add.at(counts, (sec[keep], col[keep]), 1)
    else:
        counts = np.zeros((len(section_ids), len(months)), dtype=np.int64)
    labels = [str(m) for m in months]
    return {sid: [{"month": m, "events": int(c)} for m, c in zip(labels, counts[i], strict=True)]
            for i, sid in enumerate(section_ids)}


def _indicators(capacities: Mapping[str, SectionCapacity]) -> dict[str, dict[str, Any]]:
    if not capacities:
        return {}
    table = capacity_indicators(list(capacities.values()))
    return {str(sid): {str(k): _finite(v) for k, v in row.items()}
            for sid, row in table.to_dict("index").items()}


def _finite(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def risk_results(assessment: RiskAssessment, *, computed_at: datetime,
                 capacities: Mapping[str, SectionCapacity], events: pd.DataFrame,
                 events_read: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The cached risk table and, per section, the details behind it (JSON-ready)."""
    table = assessment.table
    window = int(assessment.threat.attrs.get("window_months",
                                             assessment.settings.threat.window_months))
    last = pd.Period(assessment.month, freq="M")
    period = {"month": assessment.month, "window_months": window,
              "from": str((last - (window - 1)).start_time.date()),
              "to": str(last.end_time.date()), "events_read": events_read}
    sections = []
    for sid, row in table.iterrows():
        sections.append({
            "section_id": str(sid), "rank": int(row["rank"]),
            "risk": _finite(float(row["risk"])), "threat": _finite(float(row["threat"])),
            "vulnerability": _finite(float(row["vulnerability"])),
            "impact": _finite(float(row["impact"])),
            "vulnerability_known": bool(row["vulnerability_known"]),
            "proposed_level": str(row["proposed_level"]),
            "reasons": str(row["reasons"]).split("; "),
        })
    ids = [str(s) for s in table.index]
    trend = _monthly_trend(events, ids, assessment.month)
    indicators = _indicators(capacities)
    details = {}
    for sid in ids:
        detail = assessment.explain(sid)
        detail["monthly"] = trend[sid]
        capacity = capacities.get(sid)
        detail["capacity"] = None if capacity is None else capacity.to_dict()
        detail["indicators"] = indicators.get(sid)
        details[sid] = detail
    head = {"computed_at": iso(computed_at), "period": period, "sections": sections}
    return head, {sid: {"computed_at": head["computed_at"], "period": period, **detail}
                  for sid, detail in details.items()}


def silent_sensors(engine: sa.Engine, node_id: str) -> dict[str, int]:
    """Per border section, the node's sensors silent or faulty now (open ``sensor_fault``
    records of those conditions; docs/surveillance.md)."""
    down: dict[str, set[str]] = {}
    for fault in list_records(engine, RecordKind.sensor_fault, origin=node_id, limit=100_000):
        b = fault.body
        if b.get("ended_at") is None and b.get("condition") in ("silent", "fault") \
                and b.get("section_id"):
            down.setdefault(b["section_id"], set()).add(b["sensor_id"])
    return {section: len(sensors) for section, sensors in down.items()}


def compute_risk(engine: sa.Engine, node_id: str, *, now: datetime | None = None,
                 events: pd.DataFrame | None = None, progress: Progress | None = None
                 ) -> dict[str, Any]:
    """Recompute the risk table of every border section of the node and cache it.

    Assesses the last complete month (:func:`assessed_month`) from the events
    of the ``RISK_HISTORY_MONTHS`` before it and the current capacity
    inventories. Returns the cached table (as GET /risk serves it, without
    confirmed levels).
    """
    now = now or datetime.now(UTC)
    month = assessed_month(now)
    if events is None:
        events = load_events(engine, since=_months_back(now.date(), RISK_HISTORY_MONTHS),
                             progress=progress)
    section_ids = [s.id for s in load_sections(engine)]
    capacities = {k: v for k, v in section_capacities(engine, node_id).items()
                  if k in set(section_ids)}
    assessment = assess_risk(events, capacities, section_ids=section_ids, month=month,
                             silent_sensors=silent_sensors(engine, node_id))
    head, detail = risk_results(assessment, computed_at=now, capacities=capacities,
                                events=events, events_read=len(events))
    store_results(engine, {RISK_TABLE: head, **{RISK_DETAIL + k: v for k, v in detail.items()}},
                  computed_at=int(now.timestamp() * 1_000_000), replace_prefix=RISK_DETAIL)
    return head


def risk_table(engine: sa.Engine, node_id: str, *, now: datetime | None = None
               ) -> dict[str, Any]:
    """The cached risk table with each section's confirmed level (computed if never cached)."""
    head = load_result(engine, RISK_TABLE)
    if head is None:
        head = compute_risk(engine, node_id, now=now)
    levels = current_levels(engine, node_id)
    for row in head["sections"]:
        level = levels.get(row["section_id"])
        row["confirmed_level"] = None if level is None else level.body.get("level")
    return head


def risk_detail(engine: sa.Engine, node_id: str, section_id: str, *,
                now: datetime | None = None) -> dict[str, Any] | None:
    """The decomposition of one section's risk (None for a section not in the table)."""
    if load_result(engine, RISK_TABLE) is None:
        compute_risk(engine, node_id, now=now)
    return load_result(engine, RISK_DETAIL + section_id)


def proposed_level(engine: sa.Engine, node_id: str, section_id: str
                   ) -> tuple[str | None, list[str]]:
    """The level the latest risk table proposes for a section, and its reasons."""
    head = load_result(engine, RISK_TABLE)
    if head is None:
        head = compute_risk(engine, node_id)
    for row in head["sections"]:
        if row["section_id"] == section_id:
            return str(row["proposed_level"]), list(row["reasons"])
    return None, []


def reactions_for(level: str) -> list[str]:
    """The reaction checklist a section impact level requires."""
    return list(REACTIONS[level])


# ----------------------------------------------------------------------------- forecasts


SERIES_KINDS = ("total", "category", "section", "type")


def monthly_counts(engine: sa.Engine, *, now: datetime | None = None
                   ) -> tuple[pd.DataFrame, pd.Period]:
    """Per event: month, category, type and section; and the last complete month."""
    now = now or datetime.now(UTC)
    last = pd.Period(assessed_month(now), freq="M")
    e = schema.events
    query = sa.select(e.c.occurred_at, e.c.category, e.c.type, e.c.section_id).where(
        e.c.occurred_at < _micros_of(date(now.year, now.month, 1)),
        sa.or_(e.c.status.is_(None), e.c.status != "rejected"))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["occurred_at", "category", "type", "section_id"])
    day = frame["occurred_at"].to_numpy(np.int64) // DAY_US
    frame["month"] = pd.PeriodIndex(
        day.astype("datetime64[D]").astype("datetime64[M]"), freq="M")
    return frame, last


def parse_series(name: str) -> tuple[str, str | None]:
    """``total``, ``category:<c>`` (or a bare category), ``section:<id>``, ``type:<t>``."""
    if name == "total":
        return "total", None
    if name in {c.value for c in Category}:
        return "category", name
    kind, sep, value = name.partition(":")
    if not sep or kind not in SERIES_KINDS or kind == "total" or not value:
        raise ValueError(f"series {name!r}: use total, a category, category:<c>, "
                         "section:<id> or type:<t>")
    if kind == "category" and value not in {c.value for c in Category}:
        raise ValueError(f"series {name!r}: unknown category {value!r}")
    return kind, value


def default_series() -> list[str]:
    """The series forecast when none is asked for: the total and every category."""
    return ["total", *(f"category:{c.value}" for c in Category)]


def forecasts(engine: sa.Engine, series: Sequence[str], *, horizon: int = 6,
              history_months: int = 24, now: datetime | None = None) -> list[dict[str, Any]]:
    """Forecasts 1..``horizon`` months ahead with 80 and 95 % intervals for each series.

    Series are monthly event counts of the node up to the last complete month.
    Each result has the recent history, the forecast rows, the method used and
    the 12-month trend (when there are 24 months).
    """
    if not 1 <= horizon <= 6:
        raise ValueError("horizon must lie between 1 and 6 months")
    parsed = [(name, *parse_series(name)) for name in series]
    frame, last = monthly_counts(engine, now=now)
    # Every series starts with the node's first complete month: the month its
    # records begin in is partial (unless they begin on the 1st) and would read
    # as a slump. Months without events after that are true zeros.
    start = None
    if not frame.empty:
        first_day = pd.Timestamp(int(frame["occurred_at"].min()), unit="us")
        start = frame["month"].min() + (0 if first_day.day == 1 else 1)
    out = []
    for name, kind, value in parsed:
        column = "section_id" if kind == "section" else kind
        rows = frame if kind == "total" else frame[frame[column] == value]
        if start is None or start > last:
            out.append({"series": name, "months": 0, "history": [], "forecast": [],
                        "method": None, "trend": None,
                        "note": "the node has no complete month of events yet"})
            continue
        counts = rows.groupby("month").size()
        index = pd.period_range(start, last, freq="M")
        monthly = counts.reindex(index, fill_value=0).astype("int64")
        ahead = forecast(monthly, horizon=horizon)
        trend = trend_summary(monthly) if len(monthly) >= 24 else None
        out.append({
            "series": name, "months": len(monthly),
            "history": [{"month": str(m), "count": int(c)}
                        for m, c in monthly.iloc[-history_months:].items()],
            "forecast": [{"month": str(m), **{k: _finite(float(v)) if k != "horizon" else int(v)
                                                for k, v in r.items()}}
                         for m, r in ahead.iterrows()],
            "method": ahead.attrs.get("method"),
            "trend": None if trend is None else {
                "last_12": trend.last_12, "previous_12": trend.previous_12,
                "change_pct": trend.change_pct, "direction": trend.direction,
                "p_value": trend.p_value, "note": trend.note},
        })
    return out


# ----------------------------------------------------------------------------- alerts








def run_alerts(engine: sa.Engine, node_id: str, events: pd.DataFrame, *,
               section_ids: Sequence[str], today: date, replicates: int = 999,
               progress: Progress | None = None) -> AlertWrites:
    """Run early warning and the space-time scan up to ``today``; record their alerts."""
    alarms = detect_alarms(events, section_ids=section_ids, today=today,
                           replicates=replicates, progress=progress)
    return record_alerts(engine, node_id, alarms)


# ----------------------------------------------------------------------------- one pass


@dataclass(frozen=True)
class Recomputation:
    """What one pass of :func:`recompute` did."""

    computed_at: datetime
    events: int
    sections: int
    alerts: AlertWrites
    seconds: float

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (f"risk table of {self.sections} sections from {self.events} events; "
                f"alerts: {len(self.alerts.created)} new, {len(self.alerts.updated)} updated, "
                f"{self.alerts.unchanged} unchanged ({self.seconds:.1f} s)")


def recompute(engine: sa.Engine, node_id: str, *, now: datetime | None = None,
              stages: Callable[[str], Progress] | None = None) -> Recomputation:
    """Recompute the risk table and run early warning + scan, writing alerts: one full pass.

    Reads the events once. Safe to run again at any time: the risk table is
    replaced and alerts are written once per episode. ``stages``, when given,
    is called with the name of each long step and returns the progress
    callback of that step (the CLI draws a bar per step).
    """
    started = time.monotonic()
    now = now or datetime.now(UTC)
    events = load_events(engine, since=_months_back(now.date(), RISK_HISTORY_MONTHS),
                         until=now.date() + timedelta(days=1),
                         progress=stages("reading events") if stages else None)
    head = compute_risk(engine, node_id, now=now, events=events)
    section_ids = [s.id for s in load_sections(engine)]
    alerts = run_alerts(engine, node_id, events, section_ids=section_ids, today=now.date(),
                        progress=stages("charts and scan") if stages else None)
    return Recomputation(now, len(events), len(head["sections"]), alerts,
                         time.monotonic() - started)


@dataclass
class AnalysisScheduler:
    """Recomputes every ``interval_s`` in a background thread, one process at a time (lease).

    Every process of a node may run one; the lease (renewed each pass, valid
    for two intervals) makes sure a single one recomputes, and another takes
    over when that process dies.
    """

    engine: sa.Engine
    node_id: str
    interval_s: float
    holder: str = field(default_factory=lambda: f"analysis:{uuid.uuid4()}")
    first_delay_s: float = 60.0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _child: BaseProcess | None = field(default=None, repr=False)

    def run_once(self, now: datetime | None = None) -> Recomputation | None:
        """One pass if this process holds (or takes) the lease; None when another does."""
        if not acquire(self.engine, LEASE, self.holder, max(2 * self.interval_s, 120.0)):
            return None
        done = recompute(self.engine, self.node_id, now=now)
        metrics.observe_analysis_pass(done.seconds)
        return done

    def start(self) -> AnalysisScheduler:
        """Start recomputing in a daemon thread: at once, then every interval.

        Each pass runs in a child process at low CPU priority, so that the
        API, the live stream and the federation senders of this process keep
        their pace while the analysis works (in a thread it would hold the
        interpreter for seconds at a time).
        """
        self._thread = threading.Thread(target=self._run, name="analysis", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop now: a pass under way is abandoned (the next one redoes it)."""
        self._stop.set()
        child = self._child
        if child is not None and child.is_alive():
            child.terminate()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        # A table computed less than an interval ago (by the demo, or before a
        # restart) is fresh: the first pass waits for it to age.
        age = result_age_s(self.engine, RISK_TABLE)
        if age is not None and age < self.interval_s:
            self._stop.wait(self.interval_s - age)
        else:
            # Not in the same seconds as the start of every process of the node
            # (and of its neighbours after a shared restart).
            self._stop.wait(min(self.first_delay_s, self.interval_s))
        url = self.engine.url.render_as_string(hide_password=False)
        context = get_context("spawn")
        while not self._stop.is_set():
            try:
                if acquire(self.engine, LEASE, self.holder, max(2 * self.interval_s, 120.0)):
                    receiver, sender = context.Pipe(duplex=False)
                    self._child = context.Process(target=_pass_in_child, name="sitcen-analysis",
                                                  args=(url, self.node_id, sender), daemon=True)
                    self._child.start()
                    sender.close()
                    self._child.join()
                    if receiver.poll():
                        summary, seconds = receiver.recv()
                        metrics.observe_analysis_pass(seconds)
                        log.info("analysis: %s", summary)
                    elif not self._stop.is_set():
                        metrics.observe_analysis_pass(None)
                        log.error("analysis pass ended without a result (exit code %s)",
                                  self._child.exitcode)
                    receiver.close()
            except Exception:  # the schedule must outlive any one failure
                log.exception("analysis pass failed")
            self._stop.wait(self.interval_s)


def _lower_priority() -> None:
    """Let serving come first: the analysis child runs at a lower CPU priority."""
    os.nice(10)


def _pass_in_child(url: str, node_id: str, result: Connection) -> None:
    """One recomputation in the analysis child process, at low priority; sends its summary."""
    _lower_priority()
    engine = open_engine(url, apply_migrations=False)
    try:
        done = recompute(engine, node_id)
        result.send((done.summary(), done.seconds))
    finally:
        engine.dispose()
        result.close()


def capacity_from_record(record: StoredRecord) -> SectionCapacity:
    """The inventory a ``capacity`` record holds."""
    data = {f.name: record.body.get(f.name) for f in fields(SectionCapacity)}
    data["section_id"] = record.subject or str(record.body.get("section_id", ""))
    return SectionCapacity.from_mapping(data)


def section_capacities(engine: sa.Engine, node_id: str) -> dict[str, SectionCapacity]:
    """The current inventory of every section that has one (a malformed received one is skipped)."""
    out: dict[str, SectionCapacity] = {}
    for section_id, record in all_capacities(engine, node_id).items():
        try:
            out[section_id] = capacity_from_record(record)
        except ValueError:
            continue  # a linked node's record of another shape: not ours to judge here
    return out
