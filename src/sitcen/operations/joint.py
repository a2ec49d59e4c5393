"""Joint operations: the plan of the coordinating centre, daily reports of each participant.

A joint operation is a ``joint_operation`` record of the coordinating node:
name, area (border sections), period, participating agencies and countries,
deployed resources (assets and teams with their home unit and period) and the
operational plan (structured objectives; the plan document is an attachment).
Each participant reports every day with an ``operation_report`` record of its
own node (counts, incidents, resources used, remarks); the coordinating node
merges a day's reports into a report of its own, and at the end evaluates
the results against the objectives. Only the coordinator changes the
operation (docs/architecture.md, principle 1). Knows no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL, CountryCode
from sitcen.settings import NODE_ID_PATTERN
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import (
    StoredRecord,
    get_record,
    list_records,
    next_version,
    own_record_id,
    write_own,
    write_record,
)
from sitcen.taxonomy import Handling
from sitcen.times import UtcDatetime, to_micros

_Strict = ConfigDict(extra="forbid", use_enum_values=True)


class Indicator(StrEnum):
    """What a daily report counts, and what an objective may aim at."""

    patrols = "patrols"
    persons_checked = "persons_checked"
    vehicles_checked = "vehicles_checked"
    events_detected = "events_detected"
    persons_apprehended = "persons_apprehended"
    drugs_seized_kg = "drugs_seized_kg"
    weapons_seized = "weapons_seized"


class ResourceKind(StrEnum):
    asset = "asset"  # a vehicle, a boat, a drone, a sensor: one thing
    team = "team"  # people: a patrol, a dog team, a mobile unit


def _node_id(value: str) -> str:
    if not NODE_ID_PATTERN.match(value):
        raise ValueError("a node id is 2-63 lowercase letters, digits or '-'")
    return value


#: A participant's node.
NodeId = Annotated[str, AfterValidator(_node_id)]


class Participant(BaseModel):
    """An agency taking part, with the node it reports from."""

    model_config = _Strict

    node: NodeId
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    country: CountryCode
    organisation_id: UUID | None = None


class Resource(BaseModel):
    """An asset or a team deployed to the operation, from its home unit, for a period."""

    model_config = _Strict

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    kind: ResourceKind
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    node: NodeId = Field(description="the participant's node that deploys it")
    home_unit: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    asset_id: str | None = Field(None, max_length=128, pattern=NO_NUL,
                                 description="its id on the map, for an asset that reports")
    people: int | None = Field(None, ge=0, le=10_000)
    starts_at: UtcDatetime
    ends_at: UtcDatetime


class Objective(BaseModel):
    """One aim of the operational plan; measurable when it names an indicator and target."""

    model_config = _Strict

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    text: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)
    indicator: Indicator | None = None
    target: float | None = Field(None, ge=0)


class OperationBase(BaseModel):
    """A joint operation as the coordinating centre plans it."""

    model_config = _Strict

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL, examples=["Kanal-Batken"])
    description: str = Field("", max_length=8000, pattern=NO_NUL)
    sections: list[str] = Field(min_length=1, max_length=200)
    countries: list[CountryCode] = Field(min_length=1, max_length=20)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    participants: list[Participant] = Field(min_length=1, max_length=50)
    resources: list[Resource] = Field(default_factory=list, max_length=500)
    objectives: list[Objective] = Field(default_factory=list, max_length=50)
    handling: Handling = Handling.amber

    @model_validator(mode="after")
    def _coherent(self) -> OperationBase:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must come after starts_at")
        ids = [r.id for r in self.resources]
        if len(set(ids)) != len(ids):
            raise ValueError("resource ids must differ")
        if len({o.id for o in self.objectives}) != len(self.objectives):
            raise ValueError("objective ids must differ")
        return self


class OperationCreate(OperationBase):
    """A new joint operation (or the next version of one, with ``base_version``)."""


class ReportCreate(BaseModel):
    """A participant's daily report (00:00-24:00 UTC of ``day``)."""

    model_config = _Strict

    day: date
    counts: dict[Indicator, float] = Field(default_factory=dict)
    incidents: list[UUID] = Field(default_factory=list, max_length=500,
                                  description="events of the day that belong to the operation")
    resources_used: list[str] = Field(default_factory=list, max_length=500)
    remarks: str = Field("", max_length=8000, pattern=NO_NUL)

    @field_validator("counts")
    @classmethod
    def _positive(cls, value: dict[Indicator, float]) -> dict[Indicator, float]:
        if any(v < 0 for v in value.values()):
            raise ValueError("counts are not negative")
        return value


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _check_plan(item: OperationBase, known_sections: Iterable[str]) -> None:
    errors = []
    known = set(known_sections)
    for i, section in enumerate(item.sections):
        if section not in known:
            errors.append(error(("body", "sections", i), f"unknown border section {section}",
                                "not_found"))
    nodes = {p.node for p in item.participants}
    for i, resource in enumerate(item.resources):
        if resource.node not in nodes:
            errors.append(error(("body", "resources", i, "node"),
                                f"{resource.node} is not a participant", "value_error"))
        if resource.ends_at <= resource.starts_at:
            errors.append(error(("body", "resources", i, "ends_at"),
                                "a deployment ends after it starts", "value_error"))
    if errors:
        raise InvalidInput(errors)


def save_operation(engine: sa.Engine, node_id: str, item: OperationCreate, *, by: str,
                   known_sections: Iterable[str], record_id: str | None = None,
                   base_version: int | None = None) -> StoredRecord:
    """Write a joint operation this node coordinates (new, or its next version)."""
    _check_plan(item, known_sections)
    body = item.model_dump(mode="json")
    body.update(coordinator=node_id, by=by)
    if record_id is None:
        return write_record(engine, RecordKind.joint_operation, body, node_id=node_id)
    current = get_operation(engine, record_id)
    if "evaluation" in current.body:
        body["evaluation"] = current.body["evaluation"]
    record = next_version(engine, RecordKind.joint_operation, record_id, body, node_id,
                          base_version, current)
    return write_own(engine, [record], node_id)[0]


def get_operation(engine: sa.Engine, operation_id: str) -> StoredRecord:
    """A joint operation this node holds (:class:`~sitcen.errors.NotFound` if not)."""
    found = get_record(engine, operation_id)
    if found is None or found.kind != RecordKind.joint_operation:
        raise NotFound("joint operation", operation_id, f"no joint operation {operation_id} here")
    return found


def operation_status(body: Mapping[str, Any], now: datetime) -> str:
    """planned, active, ended or evaluated."""
    if body.get("evaluation"):
        return "evaluated"
    if now < _parse(body["starts_at"]):
        return "planned"
    return "active" if now < _parse(body["ends_at"]) else "ended"


def list_operations(engine: sa.Engine, now: datetime) -> list[dict[str, Any]]:
    """Every joint operation this node holds (own and received), latest start first."""
    found = []
    for record in list_records(engine, RecordKind.joint_operation, limit=10_000):
        item = record.to_dict()
        item["status"] = operation_status(record.body, now)
        found.append(item)
    found.sort(key=lambda o: str(o["body"].get("starts_at")), reverse=True)
    return found


def reports_of(engine: sa.Engine, operation_id: str) -> list[StoredRecord]:
    """Every daily report on an operation this node holds, by day then participant."""
    found = list_records(engine, RecordKind.operation_report, subject=operation_id,
                         limit=100_000)
    return sorted(found, key=lambda r: (str(r.body.get("day")), str(r.body.get("scope")),
                                        str(r.body.get("participant", {}).get("node"))))


def _participant(operation: StoredRecord, node_id: str) -> dict[str, Any]:
    for participant in operation.body.get("participants", []):
        if participant.get("node") == node_id:
            return dict(participant)
    raise InvalidInput([error(("path", "operation_id"), f"node {node_id} does not take part "
                              "in this operation", "not_participant")])


def submit_report(engine: sa.Engine, node_id: str, operation_id: str, item: ReportCreate, *,
                  by: str) -> StoredRecord:
    """Write this participant's report of a day (again: its next version)."""
    operation = get_operation(engine, operation_id)
    participant = _participant(operation, node_id)
    start, end = _parse(operation.body["starts_at"]), _parse(operation.body["ends_at"])
    day_start = datetime.combine(item.day, time(), UTC)
    if day_start + timedelta(days=1) <= start or day_start >= end:
        raise InvalidInput([error(("body", "day"), "the day lies outside the operation's "
                                  "period", "value_error")])
    known = {r.get("id") for r in operation.body.get("resources", [])}
    unknown = [r for r in item.resources_used if r not in known]
    if unknown:
        raise InvalidInput([error(("body", "resources_used"), f"no resource {unknown[0]} in "
                                  "the operation", "not_found")])
    body = {
        "operation_id": operation.id, "operation_origin": operation.origin, "scope": "participant",
        "day": item.day.isoformat(), "participant": participant,
        "counts": {str(k): v for k, v in item.counts.items()},
        "incidents": [str(i) for i in item.incidents], "resources_used": item.resources_used,
        "remarks": item.remarks, "handling": operation.body.get("handling", Handling.amber),
        "by": by, "at": _iso(datetime.now(UTC)),
    }
    record_id = own_record_id(node_id, RecordKind.operation_report,
                              f"{operation.id}/{item.day.isoformat()}")
    record = next_version(engine, RecordKind.operation_report, record_id, body, node_id)
    return write_own(engine, [record], node_id)[0]


def merge_reports(operation: Mapping[str, Any], reports: Sequence[StoredRecord],
                  day: str) -> dict[str, Any]:
    """The participants' reports of a day as one (pure): counts summed, incidents and
    resources joined, each participant's remarks kept, and who has not reported."""
    day_reports = [r for r in reports if r.body.get("day") == day
                   and r.body.get("scope") == "participant"]
    counts: dict[str, float] = {}
    incidents: list[str] = []
    resources: list[str] = []
    remarks = []
    for report in day_reports:
        for key, value in (report.body.get("counts") or {}).items():
            counts[key] = round(counts.get(key, 0.0) + float(value), 3)
        incidents += [i for i in report.body.get("incidents", []) if i not in incidents]
        resources += [r for r in report.body.get("resources_used", []) if r not in resources]
        participant = report.body.get("participant", {})
        if report.body.get("remarks"):
            remarks.append({"node": participant.get("node"), "name": participant.get("name"),
                            "text": report.body["remarks"]})
    reported = {r.body.get("participant", {}).get("node") for r in day_reports}
    return {
        "day": day, "counts": counts, "incidents": incidents, "resources_used": resources,
        "remarks": remarks,
        "sources": [{"id": r.id, "origin": r.origin, "version": r.version} for r in day_reports],
        "missing": [p["node"] for p in operation.get("participants", [])
                    if p.get("node") not in reported],
    }


def merge_day(engine: sa.Engine, node_id: str, operation_id: str, day: date, *,
              by: str) -> StoredRecord:
    """The coordinating node's merged report of a day (a record of its own, shared back)."""
    operation = get_operation(engine, operation_id)
    if operation.origin != node_id:
        raise InvalidInput([error(("path", "operation_id"), f"only the coordinating node "
                                  f"({operation.origin}) merges the reports", "not_coordinator")])
    merged = merge_reports(operation.body, reports_of(engine, operation_id), day.isoformat())
    if not merged["sources"]:
        raise InvalidInput([error(("body", "day"), "no participant has reported that day",
                                  "value_error")])
    body = {"operation_id": operation.id, "operation_origin": operation.origin,
            "scope": "merged", "participant": {"node": node_id, "name": "merged"},
            **merged, "handling": operation.body.get("handling", Handling.amber), "by": by,
            "at": _iso(datetime.now(UTC))}
    record_id = own_record_id(node_id, RecordKind.operation_report,
                              f"{operation.id}/{day.isoformat()}/merged")
    record = next_version(engine, RecordKind.operation_report, record_id, body, node_id)
    return write_own(engine, [record], node_id)[0]


def evaluate(operation: Mapping[str, Any], reports: Sequence[StoredRecord]) -> dict[str, Any]:
    """Results against the objectives over the whole operation (pure).

    Totals add up every participant's reports (never the merged ones, which
    would count twice); an objective with an indicator and a target is met
    when the total reaches the target.
    """
    own = [r for r in reports if r.body.get("scope") == "participant"]
    totals: dict[str, float] = {}
    days: dict[str, set[str]] = {}
    for report in own:
        for key, value in (report.body.get("counts") or {}).items():
            totals[key] = round(totals.get(key, 0.0) + float(value), 3)
        node = str(report.body.get("participant", {}).get("node"))
        days.setdefault(node, set()).add(str(report.body.get("day")))
    start = _parse(operation["starts_at"]).date()
    end = (_parse(operation["ends_at"]) - timedelta(microseconds=1)).date()
    length = (end - start).days + 1
    objectives = []
    for objective in operation.get("objectives", []):
        indicator, target = objective.get("indicator"), objective.get("target")
        achieved = totals.get(indicator, 0.0) if indicator else None
        objectives.append({
            **objective, "achieved": achieved,
            "met": None if indicator is None or target is None else achieved >= target,
        })
    return {
        "totals": totals, "objectives": objectives, "days": length,
        "reporting": [{"node": p.get("node"), "name": p.get("name"),
                       "days_reported": len(days.get(str(p.get("node")), set()))}
                      for p in operation.get("participants", [])],
        "incidents": len({i for r in own for i in r.body.get("incidents", [])}),
    }


def record_evaluation(engine: sa.Engine, node_id: str, operation_id: str, *, remarks: str,
                      by: str, now: datetime) -> StoredRecord:
    """The coordinator's end-of-operation evaluation, kept in the operation (next version)."""
    operation = get_operation(engine, operation_id)
    if operation.origin != node_id:
        raise InvalidInput([error(("path", "operation_id"), "only the coordinating node "
                                  "evaluates the operation", "not_coordinator")])
    if now < _parse(operation.body["ends_at"]):
        raise InvalidInput([error(("path", "operation_id"), "the operation has not ended",
                                  "value_error")])
    evaluation = {**evaluate(operation.body, reports_of(engine, operation_id)),
                  "remarks": remarks, "by": by, "at": _iso(now)}
    body = {**operation.body, "evaluation": evaluation}
    record = next_version(engine, RecordKind.joint_operation, operation_id, body, node_id,
                          None, operation)
    return write_own(engine, [record], node_id)[0]


def draft_counts(engine: sa.Engine, node_id: str, operation: Mapping[str, Any],
                 day: date) -> dict[str, Any]:
    """What this node's own events say about a day of the operation, to start a report:
    events on its sections, persons apprehended, kilograms of drugs seized."""
    e = schema.events
    start = datetime.combine(day, time(), UTC)
    query = (sa.select(e.c.id, e.c.body)
             .where(e.c.origin == node_id, e.c.section_id.in_(list(operation["sections"])),
                    e.c.occurred_at >= to_micros(start),
                    e.c.occurred_at < to_micros(start + timedelta(days=1))))
    events = 0
    apprehended = 0.0
    seized = 0.0
    ids = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            body = orjson.loads(row.body)
            if body.get("status") == "rejected":
                continue
            events += 1
            ids.append(row.id)
            reactions = body.get("reaction") or []
            if "apprehended" in reactions:
                apprehended += sum(int(p.get("count", 0)) for p in body.get("persons") or [])
            details = body.get("details") or {}
            if body.get("type") == "drug_smuggling" and details.get("unit") == "kg":
                seized += float(details.get("quantity") or 0)
    return {"day": day.isoformat(),
            "counts": {Indicator.events_detected: events,
                       Indicator.persons_apprehended: apprehended,
                       Indicator.drugs_seized_kg: round(seized, 3)},
            "incidents": ids}
