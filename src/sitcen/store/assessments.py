"""A section's vulnerability assessment, its impact level and the node's alerts, as records.

Four kinds of record of the shared ``records`` table (store/records.py), all
written through the journal, so they stream to browsers and travel to linked
nodes like events:

- ``capacity``: the capacity inventory of one section. One record per section
  and node; a change is a new version, so the record's versions are the
  inventory's history.
- ``recommendation``: what a vulnerability assessment asks to be done, with
  owner, deadline and status; its versions are the status history.
- ``section_assessment``: the confirmed impact level of a section, with the
  proposed level, the reasons, who confirmed it and the reactions the level
  requires. One record per section and node; versions are the level history.
- ``alert``: an early-warning or cluster alarm. One record per episode (its
  dedup key): an episode that grows becomes a new version, never a second
  alert.

Records this node owns get ids derived from what they are about (node, kind,
section or dedup key), so two processes creating "the" record of a section at
once collide on the key instead of making two. Reading "the current" record of
a section prefers the node's own and falls back to the newest one received
from a linked node (a post shows the level its national centre set).

This module stores bodies it is given; checking capacity figures against the
analysis model and computing levels happens in :mod:`sitcen.analysis_layer`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.store.journal import (
    NotOwnerError,
    Record,
    RecordKind,
    VersionConflictError,
    now_micros,
    write_records,
)
from sitcen.store.records import (
    RecordError,
    StoredRecord,
    get_record,
    list_records,
    record_history,
    record_row,
)
from sitcen.taxonomy import Handling, SectionImpactLevel

#: Handling of every record written here: shared with partners by agreement only.
HANDLING = Handling.amber.value

_ID_NAMESPACE = uuid.UUID("6f1c3f5e-2a55-4d0c-9a43-5e7cf3a1b0d2")


class AssessmentError(RecordError):
    """A change refused for a reason the user can fix; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def own_record_id(node_id: str, kind: str, key: str) -> str:
    """The id of the record of ``kind`` about ``key`` (a section, a dedup key) this node owns."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{node_id}\x1f{kind}\x1f{key}"))


def _next_record(engine: sa.Engine, kind: str, record_id: str, body: Mapping[str, Any],
                 node_id: str, base_version: int | None = None,
                 current: StoredRecord | None = None) -> Record:
    """The next version of the record ``record_id`` (version 1 when there is none yet)."""
    if current is None:
        current = get_record(engine, record_id)
    if current is None:
        if base_version not in (None, 0):
            raise VersionConflictError(record_id, None, (base_version or 0) + 1)
        version = 1
    else:
        if current.kind != kind:
            raise RecordError(f"record {record_id} is a {current.kind}, not a {kind}")
        if current.origin != node_id:
            raise NotOwnerError(record_id, current.origin)
        if base_version is not None and base_version != current.version:
            raise VersionConflictError(record_id, current.version, base_version + 1)
        version = current.version + 1
    row = record_row(kind, record_id, node_id, version, body, recorded_at=now_micros())
    return Record(kind, row)


def _write(engine: sa.Engine, records: Sequence[Record], node_id: str) -> list[StoredRecord]:
    if records:
        write_records(engine, records, node_id=node_id)
    found = [get_record(engine, r.id) for r in records]
    return [r for r in found if r is not None]


def _current_by_section(engine: sa.Engine, kind: str, node_id: str,
                        section_id: str | None = None) -> dict[str, StoredRecord]:
    """Per section, the node's own record of ``kind``, else the newest one received."""
    found: dict[str, StoredRecord] = {}
    for stored in list_records(engine, kind, subject=section_id, limit=100_000):
        if stored.subject is None:
            continue
        held = found.get(stored.subject)
        if held is None or (stored.origin == node_id and held.origin != node_id):
            found[stored.subject] = stored  # newest first: the first seen is the newest
    return found


def _history(engine: sa.Engine, record: StoredRecord | None) -> list[dict[str, Any]]:
    if record is None:
        return []
    return [{"version": v["version"], "recorded_at": v["recorded_at"], **v["body"]}
            for v in record_history(engine, record.id)]


# ----------------------------------------------------------------------------- capacity


def capacity_record_id(node_id: str, section_id: str) -> str:
    """The id of this node's capacity record of a section."""
    return own_record_id(node_id, RecordKind.capacity, section_id)


def capacity_body(section_id: str, values: Mapping[str, Any], *, assessed_by: str,
                  note: str = "") -> dict[str, Any]:
    """The stored body of a capacity inventory (the figures are checked by the caller)."""
    return {**values, "section_id": section_id, "handling": HANDLING,
            "assessed_by": assessed_by, "note": note}


def put_capacities(engine: sa.Engine, node_id: str,
                   items: Sequence[tuple[str, Mapping[str, Any], str]], *, assessed_by: str,
                   base_version: int | None = None) -> list[StoredRecord]:
    """Write the capacity inventory of each (section, figures, note), all or nothing.

    ``base_version`` (only with a single item) is the version the change was
    made from: a stale one raises :class:`VersionConflictError`.
    """
    if base_version is not None and len(items) != 1:
        raise ValueError("base_version applies to a single section")
    if len({section_id for section_id, _, _ in items}) != len(items):
        raise AssessmentError("section_id", "a section appears more than once")
    records = [
        _next_record(engine, RecordKind.capacity, capacity_record_id(node_id, section_id),
                     capacity_body(section_id, values, assessed_by=assessed_by, note=note),
                     node_id, base_version)
        for section_id, values, note in items
    ]
    return _write(engine, records, node_id)


def current_capacity(engine: sa.Engine, node_id: str, section_id: str) -> StoredRecord | None:
    """The capacity inventory of a section: this node's own, else the newest received."""
    return _current_by_section(engine, RecordKind.capacity, node_id, section_id).get(section_id)


def all_capacities(engine: sa.Engine, node_id: str) -> dict[str, StoredRecord]:
    """The current capacity inventory of every section that has one."""
    return _current_by_section(engine, RecordKind.capacity, node_id)


def capacity_history(engine: sa.Engine, node_id: str, section_id: str) -> list[dict[str, Any]]:
    """Every version of a section's current capacity inventory, oldest first."""
    return _history(engine, current_capacity(engine, node_id, section_id))


# ----------------------------------------------------------------------------- recommendations


RECOMMENDATION_STATUSES = ("open", "in_progress", "done", "cancelled")
#: Which status may follow which: done and cancelled are final (a recommendation
#: that must be taken up again is made anew).
RECOMMENDATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "open": frozenset({"open", "in_progress", "done", "cancelled"}),
    "in_progress": frozenset({"in_progress", "open", "done", "cancelled"}),
    "done": frozenset({"done"}),
    "cancelled": frozenset({"cancelled"}),
}
OPEN_STATUSES = frozenset({"open", "in_progress"})


def is_overdue(body: Mapping[str, Any], today: date) -> bool:
    """Whether a recommendation is still open or in progress after its deadline."""
    return body.get("status") in OPEN_STATUSES and date.fromisoformat(body["deadline"]) < today


def add_recommendation(engine: sa.Engine, node_id: str, *, section_id: str, text: str,
                       owner: str, deadline: date, created_by: str,
                       status: str = "open") -> StoredRecord:
    """Record a recommendation of a vulnerability assessment."""
    if status not in RECOMMENDATION_STATUSES:
        raise AssessmentError(
            "status", f"status must be one of {', '.join(RECOMMENDATION_STATUSES)}")
    body = {"section_id": section_id, "text": text, "owner": owner,
            "deadline": deadline.isoformat(), "status": status, "created_by": created_by,
            "updated_by": created_by, "note": "", "handling": HANDLING}
    record = _next_record(engine, RecordKind.recommendation, str(uuid.uuid4()), body, node_id)
    return _write(engine, [record], node_id)[0]


def update_recommendation(engine: sa.Engine, node_id: str, record_id: str, *,
                          updated_by: str, status: str | None = None, owner: str | None = None,
                          deadline: date | None = None, note: str | None = None,
                          base_version: int | None = None) -> StoredRecord:
    """Write the next version of a recommendation: new status, owner, deadline or note.

    Raises ``KeyError`` for an unknown one, :class:`AssessmentError` for a
    status that may not follow the current one.
    """
    current = get_record(engine, record_id)
    if current is None or current.kind != RecordKind.recommendation:
        raise KeyError(record_id)
    body = dict(current.body)
    if status is not None:
        if status not in RECOMMENDATION_STATUSES:
            raise AssessmentError(
                "status", f"status must be one of {', '.join(RECOMMENDATION_STATUSES)}")
        if status not in RECOMMENDATION_TRANSITIONS[body["status"]]:
            raise AssessmentError(
                "status", f"a recommendation that is {body['status']} cannot become {status}")
        body["status"] = status
    if owner is not None:
        body["owner"] = owner
    if deadline is not None:
        body["deadline"] = deadline.isoformat()
    body["note"] = "" if note is None else note
    body["updated_by"] = updated_by
    record = _next_record(engine, RecordKind.recommendation, record_id, body, node_id,
                          base_version, current)
    return _write(engine, [record], node_id)[0]


def list_recommendations(engine: sa.Engine, *, section_id: str | None = None,
                         status: str | None = None,
                         overdue_on: date | None = None) -> list[StoredRecord]:
    """Recommendations, earliest deadline first; ``overdue_on`` keeps those overdue that day."""
    found = list_records(engine, RecordKind.recommendation, subject=section_id, limit=100_000)
    if status is not None:
        found = [r for r in found if r.body.get("status") == status]
    if overdue_on is not None:
        found = [r for r in found if is_overdue(r.body, overdue_on)]
    return sorted(found, key=lambda r: (r.body.get("deadline", ""), r.id))


def recommendation_history(engine: sa.Engine, record_id: str) -> list[dict[str, Any]]:
    """Every version of a recommendation (its status history), oldest first."""
    return _history(engine, get_record(engine, record_id))


# ----------------------------------------------------------------------------- section levels


def level_record_id(node_id: str, section_id: str) -> str:
    """The id of this node's record of a section's confirmed impact level."""
    return own_record_id(node_id, RecordKind.section_assessment, section_id)


def confirm_level(engine: sa.Engine, node_id: str, section_id: str, *, level: str,
                  proposed_level: str | None, reasons: Sequence[str],
                  reactions: Sequence[str], confirmed_by: str, justification: str = "",
                  base_version: int | None = None) -> StoredRecord:
    """Confirm (or override) the proposed impact level of a section; the next version.

    Overriding (a level other than the proposed one) needs a justification;
    without a proposal every level counts as an override.
    """
    valid = [v.value for v in SectionImpactLevel]
    if level not in valid:
        raise AssessmentError("level", f"level must be one of {', '.join(valid)}")
    overridden = level != proposed_level
    justification = justification.strip()
    if overridden and not justification:
        what = (f"the proposed level is {proposed_level}" if proposed_level
                else "there is no proposed level")
        raise AssessmentError("justification",
                              f"{what}: setting {level} needs a justification")
    body = {"section_id": section_id, "level": level, "proposed_level": proposed_level,
            "reasons": list(reasons), "confirmed_by": confirmed_by, "overridden": overridden,
            "justification": justification, "reactions": list(reactions),
            "handling": HANDLING}
    record = _next_record(engine, RecordKind.section_assessment,
                          level_record_id(node_id, section_id), body, node_id, base_version)
    return _write(engine, [record], node_id)[0]


def current_levels(engine: sa.Engine, node_id: str) -> dict[str, StoredRecord]:
    """The confirmed impact level of every section that has one (own, else received)."""
    return _current_by_section(engine, RecordKind.section_assessment, node_id)


def current_level(engine: sa.Engine, node_id: str, section_id: str) -> StoredRecord | None:
    """The confirmed impact level of a section, or None."""
    return _current_by_section(engine, RecordKind.section_assessment, node_id,
                               section_id).get(section_id)


def level_history(engine: sa.Engine, node_id: str, section_id: str) -> list[dict[str, Any]]:
    """Every confirmed level of a section, oldest first."""
    return _history(engine, current_level(engine, node_id, section_id))


# ----------------------------------------------------------------------------- alerts


ALERT_STATUSES = ("open", "acknowledged")
# Fields of an alert body that are the node's, not the alarm's: a re-run that
# finds the same alarm compares everything else.
_ALERT_OWN_FIELDS = frozenset({"status", "acknowledged_by", "acknowledged_note", "handling"})


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
            status = current.body.get("status", "open")
            if status == "acknowledged" and _rank(fresh.get("severity")) > _rank(
                    current.body.get("severity")):
                status = "open"
            body = {**fresh, "status": status, "handling": HANDLING,
                    **{k: v for k, v in current.body.items()
                       if k in ("acknowledged_by", "acknowledged_note")}}
            updated.append(record_id)
        records.append(_next_record(engine, RecordKind.alert, record_id, body, node_id,
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


def acknowledge_alert(engine: sa.Engine, node_id: str, alert_id: str, *, by: str,
                      note: str = "", base_version: int | None = None) -> StoredRecord:
    """Mark an alert of this node acknowledged (a new version); ``KeyError`` if unknown."""
    current = get_record(engine, alert_id)
    if current is None or current.kind != RecordKind.alert:
        raise KeyError(alert_id)
    body = {**current.body, "status": "acknowledged", "acknowledged_by": by,
            "acknowledged_note": note}
    record = _next_record(engine, RecordKind.alert, alert_id, body, node_id, base_version,
                          current)
    return _write(engine, [record], node_id)[0]


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
