"""The validation queue of this node: every report's stays, kept up to date from the journal.

:class:`QueueKeeper` follows the journal from its own cursor (``validation_queue``):
for each event or action on an event written or received, it replays the report's
story with :func:`sitcen.operations.chain.intervals` and replaces the report's rows of
``queue_stays``. The open rows at a level are that level's queue, so the next level's
queue fills through federation with no message of its own: when the regional
centre's validation reaches the national centre, the national keeper sees it and
the report waits there. The keeper also tells the duty officers what needs them: a
serious incident or a late report entering their queue, a report waiting longer
than ``SITCEN_QUEUE_OVERDUE_MIN`` (here, or at the level below), and, at the node
that made the report, a report returned for correction.

``queue_stays`` is derived: not journaled, not shared, rebuilt from the records by
:meth:`QueueKeeper.rebuild`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa

from sitcen.errors import InvalidInput, NotFound, Refused, VersionConflictError, error
from sitcen.exchange.links import Relation, list_peers
from sitcen.operations.audience import Audience
from sitcen.operations.chain import (
    CHAIN_ACTIONS,
    Act,
    Chain,
    Report,
    Stay,
    intervals,
    last_at,
    waiting_at,
)
from sitcen.operations.notifications import JournalFollower, notify_users
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.cursors import FollowerCursor, journal_head
from sitcen.store.events import get_event
from sitcen.store.journal import (
    RecordKind,
    follow_kinds,
    now_micros,
    write_transaction,
)
from sitcen.store.records import StoredRecord, get_record, next_version, own_record_id, write_own
from sitcen.store.sql import among, chunked, json_fields
from sitcen.times import from_micros, iso, to_micros
from sitcen.users import Permission

log = logging.getLogger("sitcen.queue")

CURSOR = "validation_queue"
LEASE = "validation_queue"
#: Seconds between two looks for reports waiting too long.
ESCALATE_EVERY_S = 10.0
#: The most waiting reports one look for overdue ones tells about (the rest: next time).
ESCALATE_BATCH = 200


def chain_of(settings: Settings) -> Chain:
    """The node's place in the validation chain, from its settings."""
    return Chain(levels=tuple(settings.chain_levels), level=settings.chain_level or None,
                 node_id=settings.node_id, serious_types=frozenset(settings.serious_types),
                 overdue_us=settings.queue_overdue_min * 60 * 1_000_000,
                 horizon_us=settings.queue_horizon_days * 24 * 3600 * 1_000_000)


def micros_or_none(value: Any) -> int | None:
    """The microseconds of an ISO 8601 text in a record body; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return to_micros(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def children_of(engine: sa.Engine) -> frozenset[str]:
    """The nodes linked to this one as its children (their reports come up to it)."""
    return frozenset(p.node_id for p in list_peers(engine) if p.relation == Relation.child)


def load_reports(conn: sa.Connection, ids: Sequence[str], children: frozenset[str]
                 ) -> dict[str, Report]:
    """The reports of these events as the chain sees them (events not held are absent)."""
    e = schema.events
    dialect = conn.dialect
    # The database reads the three body fields needed: parsing every whole body in
    # Python cost the keeper as much as the rest of its work (issue 19).
    recorded, reported, killed = json_fields(dialect, e.c.body, ("recorded_at",),
                                             ("reported_at",), ("details", "killed"))
    rows = conn.execute(sa.select(e.c.id, e.c.origin, e.c.version, e.c.type, e.c.impact_level,
                                  e.c.status, e.c.occurred_at, e.c.reported_at,
                                  e.c.recorded_at, e.c.provenance, recorded.label("body_recorded"),
                                  reported.label("body_reported"), killed.label("killed"))
                        .where(among(dialect, e.c.id, ids))).all()
    several = [r.id for r in rows if r.version > 1]
    history: dict[str, dict[int, int]] = {}
    if several:
        h = schema.event_versions
        (version_recorded,) = json_fields(dialect, h.c.body, ("recorded_at",))
        for old in conn.execute(sa.select(h.c.id, h.c.version, version_recorded.label("at"))
                                .where(among(dialect, h.c.id, several))):
            at = micros_or_none(old.at)
            if at is not None:
                history.setdefault(old.id, {})[old.version] = at
    reports = {}
    for row in rows:
        provenance = orjson.loads(row.provenance) if row.provenance else []
        current = micros_or_none(row.body_recorded) or row.recorded_at
        times = {**history.get(row.id, {}), row.version: current}
        reported_at = row.reported_at or micros_or_none(row.body_reported) or current
        reports[row.id] = Report(
            id=row.id, origin=row.origin, version=row.version, type=row.type,
            impact_level=row.impact_level, killed=_count(row.killed),
            status=row.status, occurred_at=row.occurred_at, reported_at=reported_at,
            first_recorded_at=times[min(times)], status_at=current,
            from_child=bool(provenance) and provenance[-1] in children,
            direct_from_origin=provenance == [row.origin], version_times=times)
    return reports


def _count(text: str | None) -> int:
    """A whole number read from a body as text (0 when it is missing or not one)."""
    return int(text) if text is not None and text.isdigit() else 0


def load_acts(conn: sa.Connection, ids: Sequence[str]) -> dict[str, list[Act]]:
    """The actions on these events this node holds, by event."""
    r = schema.records
    acts: dict[str, list[Act]] = {}
    for row in conn.execute(sa.select(r.c.id, r.c.origin, r.c.subject, r.c.recorded_at, r.c.body)
                            .where(r.c.kind == RecordKind.event_action,
                                   among(conn.dialect, r.c.subject, ids))):
        body = orjson.loads(row.body)
        version = body.get("event_version")
        acts.setdefault(row.subject, []).append(Act(
            id=row.id, origin=row.origin, action=str(body.get("action")),
            level=body.get("level"), at=micros_or_none(body.get("at")) or row.recorded_at,
            by=str(body.get("by") or row.origin),
            event_version=version if isinstance(version, int) else None,
            text=str(body.get("text") or "")))
    return acts


def compute_stays(conn: sa.Connection, chain: Chain, ids: Sequence[str],
                  children: frozenset[str]) -> dict[str, list[Stay]]:
    """Every stay of these events in the chain's queues, computed from the records now."""
    reports = load_reports(conn, ids, children)
    acts = load_acts(conn, list(reports))
    return {event_id: intervals(report, acts.get(event_id, ()), chain)
            for event_id, report in reports.items()}


def _row(stay: Stay) -> dict[str, Any]:
    return {"event_id": stay.event_id, "level": stay.level, "round": stay.round,
            "origin": stay.origin, "entered_at": stay.entered_at, "left_at": stay.left_at,
            "state": stay.outcome or "waiting", "acted_by": stay.by, "acted_node": stay.node,
            "act_id": stay.act_id, "note": stay.act_text or None,
            "priority": 0 if stay.serious else 1, "late": stay.late,
            "awaiting_correction": stay.awaiting_correction}


@dataclass
class QueueKeeper(JournalFollower):
    """Keeps ``queue_stays`` in step with the journal and tells the officers what needs them.

    One app process of the node follows at a time (a lease); :meth:`refresh` may be
    called by any process (after an officer's action, so that their own page is
    right at once): it recomputes inside a write transaction, so the later of two
    refreshes of a report always stores what the latest records say.
    """

    LEASE: ClassVar[str] = LEASE
    CURSOR: ClassVar[str] = CURSOR
    engine: sa.Engine
    chain: Chain
    partner_users: Mapping[str, str] = field(default_factory=dict)
    page: int = 2000
    poll_s: float = 0.2
    holder: str = field(default_factory=lambda: f"queue:{uuid.uuid4()}")
    _audience: Audience | None = field(default=None, repr=False)
    _children: frozenset[str] | None = field(default=None, repr=False)
    _escalated: float = field(default=float("-inf"), repr=False)  # monotonic s
    _cursor: FollowerCursor | None = field(default=None, repr=False)
    _overdue_told: set[tuple[str, str, int]] = field(default_factory=set, repr=False)

    def own_node(self) -> str:
        return self.chain.node_id

    @property
    def children(self) -> frozenset[str]:
        if self._children is None:
            self._children = children_of(self.engine)
        return self._children

    def refresh(self, event_ids: Iterable[str], *, tell: bool = True) -> dict[str, list[Stay]]:
        """Recompute and store the stays of these events; the stays computed."""
        ids = sorted(set(event_ids))
        if not ids:
            return {}
        with write_transaction(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                # Refreshes of one node serialise: the later one reads the latest records.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301004)"))
            stays = compute_stays(conn, self.chain, ids, self.children)
            q = schema.queue_stays
            conn.execute(q.delete().where(among(conn.dialect, q.c.event_id, ids)))
            rows = [_row(s) for found in stays.values() for s in found]
            if rows:
                conn.execute(q.insert(), rows)
        if tell:
            self._tell(stays)
        return stays

    def _tell(self, stays: Mapping[str, list[Stay]]) -> None:
        """Tell the duty officers about serious and late arrivals, the origin about returns."""
        chain = self.chain
        officers: list[str] | None = None
        for event_id, found in stays.items():
            for stay in found:
                if stay.open and stay.level == chain.level and (stay.serious or stay.late):
                    if officers is None:
                        officers = self.audience.people_with(Permission.change_status)
                    reason = "serious_incident" if stay.serious else "late_report"
                    notify_users(self.engine, chain.node_id, officers, kind=RecordKind.event,
                                 record_id=event_id, reason=reason,
                                 key=f"{reason}:{stay.level}:{stay.round}",
                                 audience=self.audience)
                if (stay.awaiting_correction and stay.origin == chain.node_id
                        and stay.act_id):
                    # Everyone who reports at this node but the officer who returned it.
                    reporters = [u for u in self.audience.people_with(Permission.report_events)
                                 if not (stay.node == chain.node_id and u == stay.by)]
                    notify_users(self.engine, chain.node_id, reporters,
                                 kind=RecordKind.event_action, record_id=stay.act_id,
                                 reason="returned", by=stay.by, key="returned",
                                 audience=self.audience)

    def follow_once(self) -> int:
        """Refresh the reports of one page of the journal after the cursor; how many."""
        cursor = self.cursor.read()
        if cursor is None:
            self.rebuild()
            return 0
        with self.engine.connect() as conn:
            entries, position = follow_kinds(
                conn, cursor, [RecordKind.event, RecordKind.event_action, RecordKind.retraction],
                self.page)
            ids = {e.record_id for e in entries if e.kind == RecordKind.event}
            retracted = [e.record_id for e in entries if e.kind == RecordKind.retraction]
            action_ids = [e.record_id for e in entries if e.kind == RecordKind.event_action]
            if action_ids:
                ids.update(s for s in conn.execute(
                    sa.select(schema.records.c.subject)
                    .where(among(conn.dialect, schema.records.c.id, action_ids))).scalars() if s)
        ids.update(retracted)  # a withdrawn event leaves every queue (no rows are computed)
        if ids:
            self.refresh(ids)
        self.cursor.move(position, save=bool(ids))
        return len(ids)

    def rebuild(self) -> int:
        """Recompute every report's stays from the records (first run, or by hand)."""
        head = journal_head(self.engine)
        horizon = now_micros() - self.chain.horizon_us
        with self.engine.connect() as conn:
            ids = list(conn.execute(sa.select(schema.events.c.id)
                                    .where(schema.events.c.recorded_at >= horizon)).scalars())
        with write_transaction(self.engine) as conn:
            conn.execute(schema.queue_stays.delete())
        for chunk in chunked(ids, 2000):
            self.refresh(chunk, tell=False)
        self.cursor.move(head, save=True)
        return len(ids)

    def escalate(self, now_us: int | None = None) -> int:
        """Tell the officers about reports waiting too long here or one level below.

        Each waiting stay is looked at once per process (``_overdue_told``); a pass tells
        about at most :data:`ESCALATE_BATCH` of them, those waiting longest first, and the
        next pass goes on. Telling is idempotent, so a restart looks at every stay once
        more and writes nothing new. (Every stay at every pass kept a node holding 50,000
        waiting reports busy for good, and told its officers of each one in a burst.)
        """
        chain = self.chain
        if chain.index is None:
            return 0
        now_us = now_micros() if now_us is None else now_us
        q = schema.queue_stays
        levels = [chain.levels[i] for i in (chain.index - 1, chain.index) if i >= 0]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(q.c.event_id, q.c.level, q.c.round)
                                .where(q.c.level.in_(levels), q.c.state == "waiting",
                                       q.c.entered_at < now_us - chain.overdue_us)
                                .order_by(q.c.entered_at)).all()
        waiting = {(row.event_id, row.level, row.round) for row in rows}
        self._overdue_told &= waiting  # those no longer waiting are forgotten
        fresh = [key for key in ((row.event_id, row.level, row.round) for row in rows)
                 if key not in self._overdue_told][:ESCALATE_BATCH]
        if not fresh:
            return 0
        officers = self.audience.people_with(Permission.change_status)
        told = 0
        for event_id, level, round_ in fresh:
            reason = "overdue" if level == chain.level else "overdue_below"
            told += len(notify_users(self.engine, chain.node_id, officers,
                                     kind=RecordKind.event, record_id=event_id,
                                     reason=reason, key=f"{reason}:{level}:{round_}",
                                     text=level, audience=self.audience))
            self._overdue_told.add((event_id, level, round_))
        return told

    def renewed(self, gained: bool) -> None:
        super().renewed(gained)
        self._children = None  # links may have changed

    def work(self, moment: float) -> bool:
        """The background loop's pass: escalate now and then, follow one page."""
        if moment - self._escalated > ESCALATE_EVERY_S:
            self.escalate()
            self._escalated = moment
        return bool(self.follow_once())


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class QueueItem:
    """A report waiting in a queue, with what the officer needs to judge it."""

    event_id: str
    level: str
    round: int
    origin: str
    entered_at: int
    serious: bool
    late: bool
    state: str
    acted_by: str | None
    acted_node: str | None
    left_at: int | None
    note: str | None
    event: dict[str, Any]


View = str  # "waiting" (a level's queue), "below" (the levels under this one), "returned"


def queue_page(engine: sa.Engine, chain: Chain, *, view: View = "waiting",
               level: str | None = None, limit: int = 50,
               after: tuple[int, int, str] | None = None) -> list[QueueItem]:
    """A page of a queue, serious first, then oldest first; ``after`` is the last key seen."""
    q, e = schema.queue_stays, schema.events
    query = (sa.select(q.c.event_id, q.c.level, q.c.round, q.c.origin, q.c.entered_at,
                       q.c.priority, q.c.late, q.c.state, q.c.acted_by, q.c.acted_node,
                       q.c.left_at, q.c.note, e.c.body)
             .join(e, e.c.id == q.c.event_id))
    if view == "returned":
        query = query.where(q.c.awaiting_correction.is_(True))
    else:
        query = query.where(q.c.state == "waiting", q.c.level.in_(levels_of(chain, view, level)))
    if after is not None:
        query = query.where(sa.tuple_(q.c.priority, q.c.entered_at, q.c.event_id) > after)
    query = query.order_by(q.c.priority, q.c.entered_at, q.c.event_id).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    items = []
    for row in rows:
        body = orjson.loads(row.body)
        body.pop("provenance", None)
        body.pop("sharing", None)
        items.append(QueueItem(row.event_id, row.level, row.round, row.origin, row.entered_at,
                               row.priority == 0, bool(row.late), row.state, row.acted_by,
                               row.acted_node, row.left_at, row.note, body))
    return items


def levels_of(chain: Chain, view: View, level: str | None) -> list[str]:
    """The levels a view of the queue covers."""
    if level is not None:
        return [level]
    if view == "below":
        return list(chain.levels[:chain.index or 0])
    return [chain.level] if chain.level else []


def queue_counts(engine: sa.Engine, chain: Chain, now_us: int | None = None) -> dict[str, int]:
    """How many wait at this level (and of them, too long and serious), below, and returned."""
    now_us = now_micros() if now_us is None else now_us
    q = schema.queue_stays
    mine = levels_of(chain, "waiting", None)
    below = levels_of(chain, "below", None)
    waiting = (q.c.state == "waiting")
    with engine.connect() as conn:
        def count(*where: Any) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(q).where(*where))
                       .scalar_one())

        return {
            "waiting": count(waiting, q.c.level.in_(mine)),
            "overdue": count(waiting, q.c.level.in_(mine),
                             q.c.entered_at < now_us - chain.overdue_us),
            "serious": count(waiting, q.c.level.in_(mine), q.c.priority == 0),
            "late": count(waiting, q.c.level.in_(mine), q.c.late.is_(True)),
            "below": count(waiting, q.c.level.in_(below)),
            "returned": count(q.c.awaiting_correction.is_(True)),
        }


#: Outcomes that end a stay by the level's own decision (they count in time in queue).
DECIDED = ("validated", "returned", "rejected")


def closed_stays(engine: sa.Engine, *, since_us: int, until_us: int) -> list[dict[str, Any]]:
    """Stays a level decided within a window: level, node, entered, left, outcome, serious."""
    q = schema.queue_stays
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.level, q.c.acted_node, q.c.entered_at, q.c.left_at,
                                      q.c.state, q.c.priority, q.c.late)
                            .where(q.c.left_at >= since_us, q.c.left_at < until_us,
                                   q.c.state.in_(DECIDED))).all()
    return [{"level": r.level, "node": r.acted_node, "entered_at": r.entered_at,
             "left_at": r.left_at, "outcome": r.state, "serious": r.priority == 0,
             "late": bool(r.late)} for r in rows]


def stays_of(engine: sa.Engine, chain: Chain, event_id: str) -> list[Stay]:
    """A report's stays, computed from the records now (not from the table)."""
    with engine.connect() as conn:
        return compute_stays(conn, chain, [event_id], children_of(engine)).get(event_id, [])



# ----------------------------------------------------------------------------- deciding

_DONE = {"validated": "validated", "returned": "returned it for correction",
         "rejected": "rejected it", "closed": "closed it", "superseded": "validated it higher up",
         "interrupted": "had it returned for correction"}


def _iso_us(micros: int) -> str:
    return iso(from_micros(micros))


def _handled(level: str, by: str | None, node_id: str | None, at: str | None,
             outcome: str) -> Refused:
    """409: another officer has already acted on this stay; who, on which node, when."""
    who = f"{by or '?'}" + (f" on {node_id}" if node_id else "")
    when = f" at {at}" if at else ""
    return Refused(f"already handled at level {level}: {who} {_DONE.get(outcome, outcome)}{when}",
                   status=409, kind="already_handled", loc=["body", "action"])


def decide(engine: sa.Engine, chain: Chain, event_id: str, action: str, *, by: str,
           text: str = "", partner_users: Mapping[str, str] | None = None) -> StoredRecord:
    """Validate, return for correction or reject a report waiting at this node's level.

    The officer's decision is an ``event_action`` of this node whose id is derived
    from the report, the level and the stay, so it is taken once per stay: a second
    officer is refused (:class:`sitcen.errors.Refused`, 409) with who did what and
    when; so is a report that does not wait here, or a node with no level. A return
    or a rejection needs a reason the reporter can read. The report's stays are
    refreshed at once, so the officer's own queue is right on the next read.
    """
    if action not in CHAIN_ACTIONS:
        raise InvalidInput([error(("body", "action"), f"not a decision of the validation "
                                  f"chain: {', '.join(sorted(CHAIN_ACTIONS))}", "enum")])
    if action != "validate" and not text.strip():
        what = "a rejection" if action == "reject" else "a return for correction"
        raise InvalidInput([error(("body", "text"), f"{what} needs a reason the reporter can "
                                  "read", "missing")])
    if chain.level is None:
        raise Refused("this node validates at no level of the chain (SITCEN_CHAIN_LEVEL is "
                      "empty)", status=409, kind="no_level", loc=["body", "action"])
    event = get_event(engine, event_id)
    if event is None:
        raise NotFound("event", event_id)
    stays = stays_of(engine, chain, event_id)
    stay = waiting_at(stays, chain.level)
    if stay is None:
        last = last_at(stays, chain.level)
        if last is not None and last.outcome is not None:
            at = None if last.left_at is None else _iso_us(last.left_at)
            raise _handled(chain.level, last.by, last.node, at, last.outcome)
        returned = next((s for s in stays if s.awaiting_correction), None)
        if returned is not None:
            raise _handled(returned.level, returned.by, returned.node,
                           None if returned.left_at is None else _iso_us(returned.left_at),
                           "returned")
        where = [s.level for s in stays if s.open]
        raise Refused(f"not waiting at level {chain.level}"
                      + (f": it waits at level {', '.join(where)}" if where else
                         ": it is not in this node's validation chain"),
                      status=409, kind="not_in_queue", loc=["body", "action"])
    node_id = chain.node_id
    body: dict[str, Any] = {
        "event_id": event_id, "event_origin": event.origin, "event_version": event.version,
        "action": action, "impact_level": None, "text": text, "by": by,
        "at": _iso_us(now_micros()), "handling": str(event.handling), "level": chain.level,
    }
    record_id = own_record_id(node_id, RecordKind.event_action,
                              f"{event_id}|{chain.level}|{stay.round}")
    try:
        record = write_own(engine, [next_version(engine, RecordKind.event_action, record_id,
                                                 body, node_id, base_version=0)], node_id)[0]
    except VersionConflictError:
        other = get_record(engine, record_id)
        if other is None:
            raise
        raise _handled(chain.level, other.body.get("by"), other.origin, other.body.get("at"),
                       {"validate": "validated", "reject": "rejected"}.get(
                           str(other.body.get("action")), "returned")) from None
    QueueKeeper(engine, chain, dict(partner_users or {})).refresh([event_id], tell=False)
    return record
