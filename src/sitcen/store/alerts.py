"""Alerts of early warning and the cluster scan (``alert`` records), and the work on them.

One record per episode (its dedup key): an episode that grows becomes a new
version, never a second alert. The duty officer's work is kept in the same
record, as new versions of it (the alert is this node's own): acknowledged (by
whom, when), assigned to a person, notes, and closed with an outcome —
confirmed, false alarm or already known — so the early-warning false-alarm
rate can be measured on real use. Re-runs of the analysis keep all of it; an
acknowledged or closed alert whose severity rises opens again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.errors import NotFound
from sitcen.store.journal import (
    Record,
    RecordKind,
    write_records,
)
from sitcen.store.records import (
    HANDLING,
    RecordError,
    StoredRecord,
    get_record,
    list_records,
    next_version,
    own_record_id,
    write_own,
)
from sitcen.times import iso

ALERT_STATUSES = ("open", "acknowledged", "closed")
#: How a closed alert turned out.
ALERT_OUTCOMES = ("confirmed", "false_alarm", "already_known")

#: Fields of an alert body that record the officers' work on it.
WORK_FIELDS = frozenset({
    "status", "acknowledged_by", "acknowledged_at", "acknowledged_note", "assigned_to",
    "assigned_by", "assigned_at", "notes", "outcome", "closed_by", "closed_at", "closing_note",
    "reopened",
})
# Fields of an alert body that are the node's, not the alarm's: a re-run that
# finds the same alarm compares everything else.
_ALERT_OWN_FIELDS = WORK_FIELDS | {"handling"}


@dataclass(frozen=True)
class AlertWrites:
    """What one pass of :func:`record_alerts` did."""

    created: list[str]
    updated: list[str]
    unchanged: int


def dedup_key_of(alarm: Mapping[str, Any]) -> str:
    """The episode an alarm belongs to (its ``dedup_key``)."""
    key = alarm.get("dedup_key") or alarm.get("key")
    if not isinstance(key, str) or not key:
        raise RecordError("an alarm needs a non-empty 'dedup_key'")
    return key


def record_alerts(engine: sa.Engine, node_id: str,
                  alarms: Iterable[Mapping[str, Any]]) -> AlertWrites:
    """Write alarms as alert records, one record per episode, all in one transaction.

    A new episode becomes version 1 with status ``open``. An episode already
    recorded becomes a new version only when the alarm changed (it grew, its
    severity rose, more events joined); its status stays as the duty officer
    left it, except that an acknowledged alert whose severity rises opens
    again. An unchanged alarm writes nothing, so running the analysis twice
    over the same events writes each alert once.
    """
    by_key: dict[str, Mapping[str, Any]] = {}
    for alarm in alarms:
        by_key[dedup_key_of(alarm)] = alarm  # the last word on an episode wins
    records: list[Record] = []
    created: list[str] = []
    updated: list[str] = []
    unchanged = 0
    for key, alarm in by_key.items():
        record_id = own_record_id(node_id, RecordKind.alert, key)
        current = get_record(engine, record_id)
        # The alarm's own id and key are the record's id and dedup_key here.
        fresh = _as_json({k: v for k, v in alarm.items()
                          if k not in _ALERT_OWN_FIELDS and k not in ("id", "key")})
        fresh["dedup_key"] = key
        if current is None:
            body = {**fresh, "status": "open", "handling": HANDLING}
            created.append(record_id)
        else:
            kept = {k: v for k, v in current.body.items() if k not in _ALERT_OWN_FIELDS}
            if kept == fresh:
                unchanged += 1
                continue
            work = {k: v for k, v in current.body.items() if k in WORK_FIELDS}
            if work.get("status") in ("acknowledged", "closed") and _rank(
                    fresh.get("severity")) > _rank(current.body.get("severity")):
                work.update(status="open", reopened=True, outcome=None)
            body = {**fresh, "status": "open", **work, "handling": HANDLING}
            updated.append(record_id)
        records.append(next_version(engine, RecordKind.alert, record_id, body, node_id,
                                    current=current))
    if records:
        write_records(engine, records, node_id=node_id)
    return AlertWrites(created, updated, unchanged)


_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _rank(severity: Any) -> int:
    return _SEVERITY_RANK.get(str(severity), -1)


def _as_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as they will be stored: dates as ISO text, tuples and arrays as lists.

    A re-run's alarm then compares equal to the stored body it would write.
    """
    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    try:
        out: dict[str, Any] = orjson.loads(orjson.dumps(dict(values), option=option))
    except TypeError as exc:
        raise RecordError(f"alert: alarm is not JSON: {exc}") from exc
    return out


class AlertHandled(RecordError):
    """The alert is already in the state asked for: who put it there, and when."""

    def __init__(self, alert_id: str, status: str, by: str | None, at: str | None) -> None:
        super().__init__(f"alert {alert_id} is already {status}"
                         + (f" by {by}" if by else "") + (f" at {at}" if at else ""))
        self.status, self.by, self.at = status, by, at


def _now_iso() -> str:
    return iso(datetime.now(UTC))


def _work(engine: sa.Engine, node_id: str, alert_id: str, base_version: int | None,
          change: Callable[[dict[str, Any]], dict[str, Any]]) -> StoredRecord:
    current = get_record(engine, alert_id)
    if current is None or current.kind != RecordKind.alert:
        raise NotFound("alert", alert_id)
    body = change(dict(current.body))
    record = next_version(engine, RecordKind.alert, alert_id, body, node_id, base_version,
                          current)
    return write_own(engine, [record], node_id)[0]


def acknowledge_alert(engine: sa.Engine, node_id: str, alert_id: str, *, by: str,
                      note: str = "", base_version: int | None = None) -> StoredRecord:
    """Mark an alert of this node acknowledged (a new version); :class:`NotFound` if unknown.

    An alert already acknowledged or closed is refused (:class:`AlertHandled`,
    naming who and when): two officers do not take the same alert in hand.
    """
    def change(body: dict[str, Any]) -> dict[str, Any]:
        status = body.get("status", "open")
        if status == "acknowledged":
            raise AlertHandled(alert_id, status, body.get("acknowledged_by"),
                               body.get("acknowledged_at"))
        if status == "closed":
            raise AlertHandled(alert_id, status, body.get("closed_by"), body.get("closed_at"))
        return {**body, "status": "acknowledged", "acknowledged_by": by,
                "acknowledged_at": _now_iso(), "acknowledged_note": note}

    return _work(engine, node_id, alert_id, base_version, change)


def assign_alert(engine: sa.Engine, node_id: str, alert_id: str, *, to: str, by: str,
                 base_version: int | None = None) -> StoredRecord:
    """Give an alert to a person (a new version); it stays open or acknowledged."""
    def change(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("status") == "closed":
            raise AlertHandled(alert_id, "closed", body.get("closed_by"), body.get("closed_at"))
        return {**body, "assigned_to": to, "assigned_by": by, "assigned_at": _now_iso()}

    return _work(engine, node_id, alert_id, base_version, change)


def note_alert(engine: sa.Engine, node_id: str, alert_id: str, *, text: str, by: str,
               base_version: int | None = None) -> StoredRecord:
    """Add a note to an alert (a new version); notes are kept in order, never changed."""
    def change(body: dict[str, Any]) -> dict[str, Any]:
        notes = [*list(body.get("notes") or []), {"by": by, "at": _now_iso(), "text": text}]
        return {**body, "notes": notes}

    return _work(engine, node_id, alert_id, base_version, change)


def close_alert(engine: sa.Engine, node_id: str, alert_id: str, *, outcome: str, by: str,
                note: str = "", base_version: int | None = None) -> StoredRecord:
    """Close an alert with its outcome (confirmed, false_alarm, already_known)."""
    if outcome not in ALERT_OUTCOMES:
        raise RecordError(f"outcome must be one of {', '.join(ALERT_OUTCOMES)}")

    def change(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("status") == "closed":
            raise AlertHandled(alert_id, "closed", body.get("closed_by"), body.get("closed_at"))
        at = _now_iso()
        body = {**body, "status": "closed", "outcome": outcome, "closed_by": by,
                "closed_at": at, "closing_note": note}
        if not body.get("acknowledged_at"):  # closing takes it in hand too
            body.update(acknowledged_by=by, acknowledged_at=at)
        return body

    return _work(engine, node_id, alert_id, base_version, change)


def list_alerts(engine: sa.Engine, *, status: str | None = None, section_id: str | None = None,
                since: date | None = None, limit: int = 1000) -> list[StoredRecord]:
    """Alerts, latest last day first; ``since`` keeps those still alarming on or after it."""
    found = list_records(engine, RecordKind.alert, subject=section_id, limit=100_000)
    if status is not None:
        found = [r for r in found if r.body.get("status") == status]
    if since is not None:
        found = [r for r in found if str(r.body.get("last_day", "")) >= since.isoformat()]
    found.sort(key=lambda r: (str(r.body.get("last_day", "")), r.recorded_at), reverse=True)
    return found[:limit]
