"""The duty log and the shift handover.

- ``duty_log_entry``: one line of the shift's running log — a decision, a call,
  information or an instruction — with who wrote it and when, and the records it
  is about. Written once; a correction is a new entry that says so.
- ``handover``: made at the end of a shift from what the node holds at that moment:
  what is open (reports waiting at this node's level or returned for correction,
  open alerts, tasks not done, section levels raised during the shift, overdue
  recommendations), what happened (reports, decisions in the queue, alerts
  closed, tasks finished, the log), and the outgoing officer's own words. The
  incoming officer signs it off (a new version); a second sign-off is refused
  with who and when. The handovers are the record of past shifts and are
  searched as such.

Both are records of this node; by default they stay in the operations room
(the default agreement up leaves them out; an agreement may name them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sitcen.errors import NotFound
from sitcen.events import NO_NUL
from sitcen.operations.chain import Chain
from sitcen.operations.phrases import summary_of
from sitcen.operations.queue import micros_or_none, queue_counts, queue_page
from sitcen.operations.tasks import FINAL, list_tasks
from sitcen.store import schema
from sitcen.store.alerts import list_alerts
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.recommendations import list_recommendations
from sitcen.store.records import (
    HANDLING,
    RecordError,
    StoredRecord,
    get_record,
    list_records,
    next_version,
    record_history,
    write_own,
)
from sitcen.times import from_micros, iso, to_micros

#: How far back a first handover looks when no earlier one exists.
FIRST_SHIFT = timedelta(hours=12)
#: Items of each kind a handover lists (the counts say how many there are).
LISTED = 50
_LEVELS = ("low", "medium", "high", "critical")


class EntryType(StrEnum):
    """What a line of the duty log records."""

    decision = "decision"
    call = "call"
    information = "information"
    instruction = "instruction"


class RecordRef(BaseModel):
    """A record a log entry is about."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")


class DutyLogEntryCreate(BaseModel):
    """A line of the duty log as the officer writes it."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    entry_type: EntryType
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    related: list[RecordRef] = Field(default_factory=list, max_length=20)


class HandoverCreate(BaseModel):
    """The end of a shift: the outgoing officer's words; the rest is generated."""

    model_config = ConfigDict(extra="forbid")

    notes: str = Field("", max_length=8000, pattern=NO_NUL,
                       description="what the next officer should know, in one's own words")
    to_officer: str | None = Field(None, max_length=64, pattern=NO_NUL,
                                   description="who takes over, when known")


class SignOff(BaseModel):
    """The incoming officer signing a handover off."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=4000, pattern=NO_NUL)
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class ShiftError(RecordError):
    """A change refused, with who did what and when where it applies."""

    def __init__(self, field: str, message: str, kind: str = "value_error",
                 ctx: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.field, self.kind, self.ctx = field, kind, dict(ctx or {})


# ----------------------------------------------------------------------------- the log


def write_entry(engine: sa.Engine, node_id: str, item: DutyLogEntryCreate, *, by: str
                ) -> StoredRecord:
    """Add a line to the duty log."""
    body = {"author": by, "entry_type": item.entry_type, "text": item.text,
            "related": [r.model_dump() for r in item.related], "at": iso(from_micros(
                now_micros())), "handling": HANDLING}
    record = next_version(engine, RecordKind.duty_log_entry, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def _window(kind: str, since_us: int | None, until_us: int | None) -> sa.Select[Any]:
    r = schema.records
    query = sa.select(r).where(r.c.kind == kind)
    if since_us is not None:
        query = query.where(r.c.recorded_at >= since_us)
    if until_us is not None:
        query = query.where(r.c.recorded_at < until_us)
    return query.order_by(r.c.recorded_at.desc(), r.c.id)


def read_entries(engine: sa.Engine, *, since_us: int | None = None, until_us: int | None = None,
                 text: str | None = None, entry_type: str | None = None,
                 author: str | None = None, limit: int = 500) -> list[StoredRecord]:
    """Log entries newest first, in a window, optionally containing ``text`` (any case)."""
    return _search(engine, RecordKind.duty_log_entry, since_us, until_us, text, limit,
                   lambda b: (entry_type is None or b.get("entry_type") == entry_type)
                   and (author is None or b.get("author") == author),
                   lambda b: f"{b.get('text')} {b.get('author')}")


def _search(engine: sa.Engine, kind: str, since_us: int | None, until_us: int | None,
            text: str | None, limit: int, keep: Callable[[dict[str, Any]], bool],
            words: Callable[[dict[str, Any]], str]) -> list[StoredRecord]:
    query = _window(kind, since_us, until_us)
    needle = text.casefold() if text else None
    found = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            body = orjson.loads(row.body)
            if not keep(body):
                continue
            if needle is not None and needle not in words(body).casefold():
                continue
            found.append(StoredRecord(kind=row.kind, id=row.id, origin=row.origin,
                                      version=row.version, subject=row.subject,
                                      recorded_at=from_micros(row.recorded_at), body=body))
            if len(found) >= limit:
                break
    return found


# ----------------------------------------------------------------------------- handovers


def last_handover(engine: sa.Engine) -> StoredRecord | None:
    """The newest handover of this node."""
    found = list_records(engine, RecordKind.handover, limit=1)
    return found[0] if found else None


def shift_start(engine: sa.Engine, now_us: int) -> int:
    """Where the shift ending now began: the end of the last handover, else 12 h ago."""
    last = last_handover(engine)
    if last is not None and isinstance(last.body.get("period_to"), str):
        return to_micros(datetime.fromisoformat(last.body["period_to"].replace("Z", "+00:00")))
    return now_us - int(FIRST_SHIFT.total_seconds() * 1_000_000)


def _levels_raised(engine: sa.Engine, node_id: str, since_us: int) -> list[dict[str, Any]]:
    """This node's section levels whose level went up since ``since_us``."""
    raised = []
    for record in list_records(engine, RecordKind.section_assessment, origin=node_id,
                               limit=100_000):
        if to_micros(record.recorded_at) < since_us:
            continue
        versions = record_history(engine, record.id)
        before = None
        for v in versions:
            at = to_micros(v["recorded_at"])
            level = v["body"].get("level")
            if at >= since_us and before in _LEVELS and level in _LEVELS and \
                    _LEVELS.index(level) > _LEVELS.index(before):
                raised.append({"section_id": record.subject, "from": before, "to": level,
                               "by": v["body"].get("confirmed_by"), "at": iso(v["recorded_at"]),
                               "justification": v["body"].get("justification", "")})
            elif at >= since_us and before is None and level in ("high", "critical"):
                raised.append({"section_id": record.subject, "from": None, "to": level,
                               "by": v["body"].get("confirmed_by"), "at": iso(v["recorded_at"]),
                               "justification": v["body"].get("justification", "")})
            before = level
    return sorted(raised, key=lambda r: str(r["at"]))


def _events_reported(engine: sa.Engine, since_us: int, until_us: int) -> dict[str, Any]:
    """Reports made during the shift (by when they were made, not imported or received)."""
    e = schema.events
    made = sa.func.coalesce(e.c.reported_at, e.c.recorded_at)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.category, sa.func.count())
                            .where(e.c.recorded_at >= since_us, made >= since_us,
                                   made < until_us)
                            .group_by(e.c.category)).all()
    by_category = {str(c): int(n) for c, n in rows}
    return {"count": sum(by_category.values()), "by_category": by_category}


def _queue_decisions(engine: sa.Engine, level: str | None, since_us: int,
                     until_us: int) -> dict[str, int]:
    q = schema.queue_stays
    if level is None:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.state, sa.func.count())
                            .where(q.c.level == level, q.c.left_at >= since_us,
                                   q.c.left_at < until_us)
                            .group_by(q.c.state)).all()
    return {str(s): int(n) for s, n in rows}


def shift_summary(engine: sa.Engine, node_id: str, chain: Chain, *, since_us: int,
                  until_us: int, today: date) -> dict[str, Any]:
    """What is open now and what happened between ``since_us`` and ``until_us``."""
    waiting = queue_page(engine, chain, limit=LISTED)
    returned = queue_page(engine, chain, view="returned", limit=LISTED)
    alerts = [a for a in list_alerts(engine, limit=100_000)
              if a.body.get("status", "open") != "closed"]
    tasks = list_tasks(engine, limit=100_000)
    open_tasks = [(t, b) for t, b in tasks if b.get("status") not in FINAL]
    overdue = list_recommendations(engine, overdue_on=today)
    closed_alerts = [a for a in list_alerts(engine, status="closed", limit=100_000)
                     if since_us <= (micros_or_none(a.body.get("closed_at")) or 0) < until_us]
    finished = [b for _t, b in tasks if b.get("status") in FINAL
                and since_us <= max(micros_or_none(b.get(f"{b.get('status')}_at")) or 0,
                                    micros_or_none((b.get("history") or [{}])[-1].get("at"))
                                    or 0) < until_us]
    log = read_entries(engine, since_us=since_us, until_us=until_us, limit=1000)
    return {
        "open": {
            "queue": queue_counts(engine, chain, until_us),
            "reports_waiting": [{"event_id": i.event_id, "level": i.level,
                                 "entered_at": iso(from_micros(i.entered_at)),
                                 "serious": i.serious, "late": i.late,
                                 "type": i.event.get("type"),
                                 "section_id": i.event.get("section_id")} for i in waiting],
            "reports_returned": [{"event_id": i.event_id, "level": i.level,
                                  "by": i.acted_by, "note": i.note,
                                  "type": i.event.get("type")} for i in returned],
            "alerts": [{"id": a.id, "severity": a.body.get("severity"),
                        "status": a.body.get("status", "open"),
                        "assigned_to": a.body.get("assigned_to"),
                        "section_id": a.body.get("section_id"),
                        "summary": summary_of(RecordKind.alert, a.body)}
                       for a in alerts[:LISTED]],
            "alerts_count": len(alerts),
            "tasks": [{"id": t.id, "unit": (b.get("unit") or {}).get("callsign"),
                       "status": b.get("status"), "priority": b.get("priority"),
                       "dispatched_at": b.get("dispatched_at"),
                       "instructions": b.get("instructions")} for t, b in open_tasks[:LISTED]],
            "tasks_count": len(open_tasks),
            "levels_raised": _levels_raised(engine, node_id, since_us),
            "recommendations_overdue": [{"id": r.id, "section_id": r.subject,
                                         "text": r.body.get("text"),
                                         "owner": r.body.get("owner"),
                                         "deadline": r.body.get("deadline")}
                                        for r in overdue[:LISTED]],
            "recommendations_overdue_count": len(overdue),
        },
        "happened": {
            "events": _events_reported(engine, since_us, until_us),
            "queue_decisions": _queue_decisions(engine, chain.level, since_us, until_us),
            "alerts_closed": {o: sum(1 for a in closed_alerts if a.body.get("outcome") == o)
                              for o in ("confirmed", "false_alarm", "already_known")},
            "tasks_finished": {s: sum(1 for b in finished if b.get("status") == s)
                               for s in ("done", "declined", "cancelled")},
            "log": [{"id": e.id, "entry_type": e.body.get("entry_type"),
                     "text": e.body.get("text"), "author": e.body.get("author"),
                     "at": e.body.get("at")} for e in reversed(log)],
        },
    }


def hand_over(engine: sa.Engine, node_id: str, chain: Chain, item: HandoverCreate, *, by: str,
              today: date) -> StoredRecord:
    """Close the shift: a handover of what is open and what happened, for the next officer."""
    now_us = now_micros()
    since_us = shift_start(engine, now_us)
    summary = shift_summary(engine, node_id, chain, since_us=since_us, until_us=now_us,
                            today=today)
    body = {"from_officer": by, "to_officer": item.to_officer,
            "period_from": iso(from_micros(since_us)), "period_to": iso(from_micros(now_us)),
            **summary, "notes": item.notes, "status": "handed_over", "signed_off_by": None,
            "signed_off_at": None, "sign_off_note": "", "handling": HANDLING}
    record = next_version(engine, RecordKind.handover, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def sign_off(engine: sa.Engine, node_id: str, handover_id: str, item: SignOff, *,
             by: str) -> StoredRecord:
    """The incoming officer takes the shift over; refused for the outgoing one and twice."""
    current = get_record(engine, handover_id)
    if current is None or current.kind != RecordKind.handover:
        raise NotFound("handover", handover_id)
    body = current.body
    if body.get("status") == "signed_off":
        raise ShiftError("handover_id", f"already signed off by {body.get('signed_off_by')} at "
                         f"{body.get('signed_off_at')}", "already_handled",
                         {"by": body.get("signed_off_by"), "at": body.get("signed_off_at")})
    if body.get("from_officer") == by:
        raise ShiftError("handover_id", "the officer handing over cannot sign it off: the "
                         "incoming officer does", "same_officer")
    signed = {**body, "status": "signed_off", "signed_off_by": by,
              "signed_off_at": iso(from_micros(now_micros())), "sign_off_note": item.note,
              "to_officer": body.get("to_officer") or by}
    record = next_version(engine, RecordKind.handover, handover_id, signed, node_id,
                          item.base_version, current)
    return write_own(engine, [record], node_id)[0]


def search_handovers(engine: sa.Engine, *, since_us: int | None = None,
                     until_us: int | None = None, text: str | None = None,
                     officer: str | None = None, limit: int = 100) -> list[StoredRecord]:
    """Past shifts, newest first: in a window, by officer, or containing ``text``."""
    return _search(engine, RecordKind.handover, since_us, until_us, text, limit,
                   lambda b: officer is None or officer in (b.get("from_officer"),
                                                            b.get("to_officer"),
                                                            b.get("signed_off_by")),
                   _handover_words)


def _handover_words(body: dict[str, Any]) -> str:
    """What a search of past shifts looks in: the officers, the notes and the log."""
    log = (body.get("happened") or {}).get("log") or []
    return " ".join([str(body.get(k) or "") for k in ("from_officer", "to_officer",
                                                      "signed_off_by", "notes",
                                                      "sign_off_note")]
                    + [str(e.get("text") or "") for e in log])


def entries_between(engine: sa.Engine, handover: StoredRecord) -> Sequence[StoredRecord]:
    """The log entries of the shift a handover closed."""
    return read_entries(engine, since_us=micros_or_none(handover.body.get("period_from")),
                        until_us=micros_or_none(handover.body.get("period_to")), limit=5000)
