"""Alerts of early warning and the cluster scan as the duty officer's work.

List them with a one-line summary in the reader's language; acknowledge, assign
to a person, add notes, close with an outcome; the false-alarm rate of the
closed ones. Each step is a new version of the alert (this node's own record).
"""


import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sitcen.analysis.workflow import durations_by, false_alarm_rate
from sitcen.api.deps import CurrentNode, Reader, ReaderLanguage, require
from sitcen.api.records import RecordPublic, found_record, record_header
from sitcen.errors import InvalidInput, Refused, error
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.operations.notifications import notify_users
from sitcen.operations.phrases import render, summary_of
from sitcen.store.alerts import (
    AlertHandled,
    acknowledge_alert,
    assign_alert,
    close_alert,
    list_alerts,
    note_alert,
)
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, record_history
from sitcen.store.users import StoredUser, list_users
from sitcen.times import WorkDay, iso, to_micros, to_utc
from sitcen.users import Permission

router = APIRouter(prefix="/alerts", tags=["alerts"])

# Working on alerts is part of watching the picture: the duty officer's permission.
Watcher = Annotated[StoredUser, require(Permission.change_status)]


class AlertStatus(StrEnum):
    """Whether a duty officer has taken an alert in hand, and whether it is done."""

    open = "open"
    acknowledged = "acknowledged"
    closed = "closed"


class AlertOutcome(StrEnum):
    """How a closed alert turned out."""

    confirmed = "confirmed"
    false_alarm = "false_alarm"
    already_known = "already_known"


class AlertPublic(RecordPublic):
    """An alert as the node holds it: one per episode, a new version as it grows or is worked."""

    section_id: str | None
    severity: str
    status: AlertStatus
    first_day: str
    last_day: str
    explanation: str
    event_ids: list[str]
    summary: dict[str, Any] = Field(description="the one-line summary: catalogue key and "
                                                "parameters")
    summary_text: str = Field(description="the one-line summary in the language asked for")
    assigned_to: str | None = None
    outcome: AlertOutcome | None = None
    notes: list[dict[str, Any]] = Field(default_factory=list)


class AlertList(BaseModel):
    """Alerts, latest first."""

    alerts: list[AlertPublic]


class AlertDetail(AlertPublic):
    """One alert with every version of it (the work done on it, oldest first)."""

    history: list[dict[str, Any]]


class Acknowledgement(BaseModel):
    """A duty officer taking an alert in hand."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=4000, pattern=NO_NUL, description="what is being done")
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class Assignment(BaseModel):
    """Who is to follow an alert up."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class AlertNote(BaseModel):
    """A note on an alert: what was checked, who was called."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class AlertClosure(BaseModel):
    """Closing an alert with how it turned out."""

    model_config = ConfigDict(extra="forbid")

    outcome: AlertOutcome
    note: str = Field("", max_length=4000, pattern=NO_NUL)
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class Assignee(BaseModel):
    """A person an alert can be given to."""

    username: str
    full_name: str
    role: str


class AssigneeList(BaseModel):
    """The active users of this node (partners' officers left out)."""

    assignees: list[Assignee]


class AlertStatistics(BaseModel):
    """Closed alerts by outcome (the false-alarm rate), and how soon alerts were taken in hand."""

    since: str
    until: str
    closed: int
    by_outcome: dict[str, int]
    false_alarm_rate: float | None
    by_severity: list[dict[str, Any]]
    by_method: list[dict[str, Any]]
    time_to_acknowledge: list[dict[str, Any]]
    open: int
    acknowledged: int


def public(record: StoredRecord, language: str) -> dict[str, Any]:
    """The API form of an alert, with its summary in ``language``."""
    summary = summary_of(RecordKind.alert, record.body)
    return {"event_ids": [], "explanation": "", "notes": [], **record.body, **record_header(record),
            "summary": summary, "summary_text": render(summary, language)}


@router.get("", response_model=AlertList)
def read_alerts(
    node: CurrentNode, _user: Reader, language: ReaderLanguage,
    status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
    section_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[WorkDay | None, Query(description="still alarming on or after this day")]
    = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Alerts by status, section and day, latest first, each with a one-line summary."""
    found = list_alerts(node.engine, status=None if status_ is None else status_.value,
                        section_id=section_id, since=since, limit=limit)
    return {"alerts": [public(r, language) for r in found]}


@router.get("/statistics", response_model=AlertStatistics)
def read_alert_statistics(
    node: CurrentNode, _user: Reader,
    since: datetime | None = None, until: datetime | None = None,
) -> dict[str, Any]:
    """The false-alarm rate of the alerts closed in a window (default 90 days), and more."""
    bounds: dict[str, datetime] = {}
    for name, value in (("since", since), ("until", until)):
        if value is None:
            continue
        if value.tzinfo is None:
            raise InvalidInput([error(("query", name), "needs a time zone, e.g. Z", "tz")])
        try:
            bounds[name] = to_utc(value)
        except ValueError as exc:
            raise InvalidInput([error(("query", name), str(exc), "datetime")]) from exc
    end = bounds.get("until") or datetime.now(UTC)
    start = bounds.get("since") or end - timedelta(days=90)
    lo, hi = to_micros(start), to_micros(end)

    def within(value: Any) -> bool:
        at = _micros(value)
        return at is not None and lo <= at < hi

    alerts = list_alerts(node.engine, limit=1_000_000)
    closed = [a.body for a in alerts if a.body.get("status") == "closed"
              and within(a.body.get("closed_at"))]
    figures = false_alarm_rate(str(a.get("outcome")) for a in closed)
    by_severity = [{"severity": s, **false_alarm_rate(
        str(a.get("outcome")) for a in closed if a.get("severity") == s)}
        for s in sorted({str(a.get("severity")) for a in closed})]
    methods = sorted({m for a in closed for m in (a.get("methods") or [])})
    by_method = [{"method": m, **false_alarm_rate(
        str(a.get("outcome")) for a in closed if m in (a.get("methods") or []))}
        for m in methods]
    taken = [{"severity": a.body.get("severity"), "created": to_micros(_first_seen(node, a)),
              "acknowledged": _micros(a.body.get("acknowledged_at"))}
             for a in alerts if within(a.body.get("acknowledged_at"))]
    return {"since": start.isoformat(), "until": end.isoformat(), **figures,
            "by_severity": by_severity, "by_method": by_method,
            "time_to_acknowledge": durations_by(taken, ["severity"], start="created",
                                                end="acknowledged"),
            "open": sum(1 for a in alerts if a.body.get("status", "open") == "open"),
            "acknowledged": sum(1 for a in alerts if a.body.get("status") == "acknowledged")}


def _at(value: Any) -> str:
    """An ISO time as comparable text in UTC (+00:00), '' when missing."""
    if not isinstance(value, str):
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    except ValueError:
        return ""


def _micros(value: Any) -> int | None:
    text = _at(value)
    return to_micros(datetime.fromisoformat(text)) if text else None


def _first_seen(node: Node, alert: StoredRecord) -> datetime:
    """When the alert was first written (its version 1)."""
    history = record_history(node.engine, alert.id)
    first = history[0]["recorded_at"] if history else alert.recorded_at
    return first if isinstance(first, datetime) else alert.recorded_at


@router.get("/assignees", response_model=AssigneeList)
def read_alert_assignees(node: CurrentNode, _user: Watcher) -> dict[str, Any]:
    """Who an alert can be given to: the node's active users."""
    partners = node.settings.partner_users
    return {"assignees": [{"username": u.username, "full_name": u.full_name,
                           "role": u.role.value} for u in list_users(node.engine)
                          if not u.disabled and u.username not in partners]}


@router.get("/{alert_id}", response_model=AlertDetail)
def read_alert(alert_id: uuid.UUID, node: CurrentNode, _user: Reader,
               language: ReaderLanguage) -> dict[str, Any]:
    """One alert with every version of it: how it grew and what was done about it."""
    record = found_record(node, RecordKind.alert, alert_id)
    history = [{"version": v["version"],
                "recorded_at": iso(v["recorded_at"]),
                **{k: v["body"].get(k) for k in ("status", "severity", "assigned_to", "outcome",
                                                 "last_day", "observed")}}
               for v in record_history(node.engine, record.id)]
    return {**public(record, language), "history": history}


def _refused(exc: AlertHandled) -> Refused:
    """Someone has already done it: 409, saying who and when."""
    return Refused(str(exc), status=409, kind="already_handled", loc=["body"])


@router.post("/{alert_id}/acknowledge", response_model=AlertPublic)
def create_alert_acknowledgement(alert_id: uuid.UUID, node: CurrentNode, user: Watcher,
                item: Acknowledgement | None = None) -> dict[str, Any]:
    """Acknowledge an alert: take it in hand (refused, with who and when, if someone has)."""
    item = item or Acknowledgement()
    try:
        record = acknowledge_alert(node.engine, node.settings.node_id, str(alert_id),
                                   by=user.username, note=item.note,
                                   base_version=item.base_version)
    except AlertHandled as exc:
        raise _refused(exc) from exc
    return public(record, "en")


@router.post("/{alert_id}/assign", response_model=AlertPublic)
def create_alert_assignment(alert_id: uuid.UUID, item: Assignment, node: CurrentNode,
                            user: Watcher) -> dict[str, Any]:
    """Give an alert to a person of this node to follow up; they are notified."""
    people = {u.username: u for u in list_users(node.engine)}
    person = people.get(item.username)
    if person is None or person.disabled:
        raise InvalidInput([error(("body", "username"), f"no active user {item.username!r} "
                                  "on this node", "not_found")])
    try:
        record = assign_alert(node.engine, node.settings.node_id, str(alert_id),
                              to=item.username, by=user.username,
                              base_version=item.base_version)
    except AlertHandled as exc:
        raise _refused(exc) from exc
    if item.username != user.username:
        notify_users(node.engine, node.settings.node_id, [item.username], kind=RecordKind.alert,
                     record_id=record.id, reason="assigned", by=user.username,
                     partner_users=node.settings.partner_users)
    return public(record, "en")


@router.post("/{alert_id}/notes", response_model=AlertPublic)
def create_alert_note(alert_id: uuid.UUID, item: AlertNote, node: CurrentNode,
                      user: Watcher) -> dict[str, Any]:
    """Add a note to an alert: what was checked, who was called."""
    try:
        record = note_alert(node.engine, node.settings.node_id, str(alert_id), text=item.text,
                            by=user.username, base_version=item.base_version)
    except AlertHandled as exc:
        raise _refused(exc) from exc
    return public(record, "en")


@router.post("/{alert_id}/close", response_model=AlertPublic)
def create_alert_closure(alert_id: uuid.UUID, item: AlertClosure, node: CurrentNode,
                         user: Watcher) -> dict[str, Any]:
    """Close an alert with its outcome: confirmed, false alarm or already known."""
    try:
        record = close_alert(node.engine, node.settings.node_id, str(alert_id),
                             outcome=item.outcome.value, by=user.username, note=item.note,
                             base_version=item.base_version)
    except AlertHandled as exc:
        raise _refused(exc) from exc
    return public(record, "en")
