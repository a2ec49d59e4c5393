"""Tasking: a unit or a post sent to an event, a section or a point, and how it answers.

A ``task`` is a record of the node that tasks (its subject is the unit): the unit
(an own asset — patrol, vehicle, drone team — or a post, that is a linked node),
the target, the priority, the instructions, and the status with every change
timestamped. Changes made at the tasking node — by the officer in the console,
or by the unit's TAK device replying — are new versions of the task. A post on
another node answers with a ``task_response`` of its own that references the
task (docs/architecture.md, principle 1); the task as read here merges both.

Statuses, in order: ``assigned → acknowledged → en_route → on_scene → done``; a
unit may skip ahead, never go back; ``declined`` (with a reason) and
``cancelled`` (by the tasking node) end a task too. Response time is dispatch to
the first ``on_scene``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sitcen.errors import FieldError, NotFound
from sitcen.events import NO_NUL, EventBase, EventCreate, EventUpdate, Location
from sitcen.geo import SectionIndex
from sitcen.store import schema
from sitcen.store.events import Reporter, get_event, report_events, update_event
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import (
    RecordError,
    StoredRecord,
    get_record,
    list_records,
    next_version,
    write_own,
    write_record,
)
from sitcen.store.users import author_of
from sitcen.taxonomy import Handling, Reaction
from sitcen.times import from_micros, iso


class TaskStatus(StrEnum):
    """Where a task stands."""

    assigned = "assigned"
    acknowledged = "acknowledged"
    en_route = "en_route"
    on_scene = "on_scene"
    done = "done"
    declined = "declined"
    cancelled = "cancelled"


#: The way forward; a unit may skip ahead but not go back.
PROGRESS: tuple[str, ...] = ("assigned", "acknowledged", "en_route", "on_scene", "done")
FINAL = frozenset({"done", "declined", "cancelled"})
#: Where each status's time is kept in a task.
STATUS_TIMES = {"acknowledged": "acknowledged_at", "en_route": "en_route_at",
                "on_scene": "on_scene_at", "done": "done_at", "declined": "declined_at",
                "cancelled": "cancelled_at"}


class Priority(StrEnum):
    """How fast: routine, priority, immediate."""

    routine = "routine"
    priority = "priority"
    immediate = "immediate"


class UnitKind(StrEnum):
    """An own asset of this node, or a post (a linked node) that answers for itself."""

    asset = "asset"
    post = "post"


class TargetKind(StrEnum):
    """Where the unit is sent."""

    event = "event"
    section = "section"
    point = "point"


class TaskTarget(BaseModel):
    """An event, a section or a point."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    kind: TargetKind
    event_id: uuid.UUID | None = None
    section_id: str | None = Field(None, max_length=64)
    location: Location | None = None


class TaskCreate(BaseModel):
    """A task as the officer gives it."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    unit_kind: UnitKind = UnitKind.asset
    unit_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                         description="the asset id, or the post's node id")
    target: TaskTarget
    priority: Priority = Priority.priority
    instructions: str = Field("", max_length=4000, pattern=NO_NUL)
    handling: Handling = Handling.amber


class TaskUpdate(BaseModel):
    """A status change: the unit's answer, or the officer's on its behalf."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    status: TaskStatus
    note: str = Field("", max_length=4000, pattern=NO_NUL,
                      description="what happened; required to decline")
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class TaskError(RecordError, FieldError):
    """A task or a change refused for a reason the user can fix; ``field`` names what."""

    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        super().__init__(field, message)
        self.kind = kind


@dataclass(frozen=True)
class Unit:
    """Who can be tasked: an asset this node knows or a linked post."""

    kind: str
    id: str
    name: str
    callsign: str
    node: str | None  # the node that answers for it (a post); None: this node's asset
    location: dict[str, Any] | None = None


def _iso(micros: int | None = None) -> str:
    return iso(from_micros(now_micros() if micros is None else micros))


def known_units(engine: sa.Engine, posts: Mapping[str, str]) -> dict[str, Unit]:
    """Every unit that can be tasked, by id: the assets held and the posts (node id → name)."""
    units: dict[str, Unit] = {}
    for asset in list_records(engine, RecordKind.asset_position, limit=5000):
        body = asset.body
        asset_id = str(body.get("asset_id") or asset.subject)
        if body.get("kind") in ("sensor", "camera"):
            continue  # a sensor stands still: it is not sent anywhere
        name = str(body.get("name") or asset_id)
        units.setdefault(asset_id, Unit("asset", asset_id, name, name, None,
                                        body.get("location")))
    for node_id, name in posts.items():
        units.setdefault(node_id, Unit("post", node_id, name or node_id, name or node_id,
                                       node_id))
    return units


def _target(engine: sa.Engine, sections: SectionIndex, target: TaskTarget, max_km: float
            ) -> dict[str, Any]:
    """The target as stored, with the place a unit goes to (and the task is shared by)."""
    if target.kind == TargetKind.event:
        if target.event_id is None:
            raise TaskError("target.event_id", "an event target needs the event's id", "missing")
        with engine.connect() as conn:
            row = conn.execute(sa.select(schema.events.c.origin, schema.events.c.body)
                               .where(schema.events.c.id == str(target.event_id))).first()
        if row is None:
            raise TaskError("target.event_id", f"no event {target.event_id}", "not_found")
        body = orjson.loads(row.body)
        return {"kind": "event", "event_id": str(target.event_id), "event_origin": row.origin,
                "event_type": body.get("type"), "section_id": body.get("section_id"),
                "location": body.get("location")}
    if target.kind == TargetKind.section:
        if not target.section_id or target.section_id not in {s.id for s in sections.sections}:
            raise TaskError("target.section_id", f"no border section {target.section_id!r}",
                            "not_found")
        line = sections.section(target.section_id).geometry
        middle = line.interpolate(0.5, normalized=True)
        return {"kind": "section", "section_id": target.section_id,
                "location": {"lon": round(float(middle.x), 5), "lat": round(float(middle.y), 5)}}
    if target.location is None:
        raise TaskError("target.location", "a point target needs a location", "missing")
    point = target.location.model_dump(exclude_none=True)
    placed = sections.assign(np.array([point["lon"]]), np.array([point["lat"]]), max_km)
    return {"kind": "point", "section_id": placed.section_ids[0], "location": point}


def create_task(engine: sa.Engine, node_id: str, sections: SectionIndex, item: TaskCreate, *,
                by: str, units: Mapping[str, Unit], max_km: float = 25.0) -> StoredRecord:
    """Write a new task (status ``assigned``); :class:`TaskError` names a wrong field."""
    unit = units.get(item.unit_id)
    if unit is None or unit.kind != item.unit_kind:
        what = "asset" if item.unit_kind == UnitKind.asset else "linked post"
        raise TaskError("unit_id", f"no {what} {item.unit_id!r} known to this node", "not_found")
    target = _target(engine, sections, item.target, max_km)
    at = _iso()
    body = {
        "unit_id": unit.id, "unit": {"kind": unit.kind, "id": unit.id, "name": unit.name,
                                     "callsign": unit.callsign, "node": unit.node},
        "target": target, "section_id": target.get("section_id"),
        "location": target.get("location"), "priority": item.priority,
        "instructions": item.instructions, "status": "assigned",
        "dispatched_at": at, "dispatched_by": by,
        "history": [{"status": "assigned", "at": at, "by": by, "via": "console", "note": ""}],
        "handling": item.handling, "outcome": None,
    }
    record = next_version(engine, RecordKind.task, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def check_change(current: str, new: str, note: str) -> None:
    """Whether a task may go from ``current`` to ``new``; :class:`TaskError` says why not."""
    if current in FINAL:
        raise TaskError("status", f"the task is already {current}", "final")
    if new == "declined":
        if not note.strip():
            raise TaskError("note", "declining needs a reason", "missing")
        return
    if new == "cancelled":
        return
    if new not in PROGRESS or PROGRESS.index(new) <= PROGRESS.index(current):
        raise TaskError("status", f"a task goes forward only: it is {current}, not {new}",
                        "transition")


def changed(body: Mapping[str, Any], status: str, *, by: str, via: str, note: str,
            at: str | None = None) -> dict[str, Any]:
    """A task body moved to ``status`` (its time kept once: the first time it got there)."""
    at = at or _iso()
    out = {**body, "status": status,
           "history": [*list(body.get("history") or []),
                       {"status": status, "at": at, "by": by, "via": via, "note": note}]}
    time_field = STATUS_TIMES.get(status)
    if time_field and not out.get(time_field):
        out[time_field] = at
    if status in ("en_route", "on_scene", "done") and not out.get("acknowledged_at"):
        out["acknowledged_at"] = at  # moving is answering
    if status == "declined":
        out["declined_reason"] = note
    return out


def update_own_task(engine: sa.Engine, node_id: str, task_id: str, status: str, *, by: str,
                    via: str, note: str = "", base_version: int | None = None,
                    outcome: Mapping[str, Any] | None = None) -> StoredRecord:
    """A new version of one of this node's tasks with a new status."""
    current = get_record(engine, task_id)
    if current is None or current.kind != RecordKind.task:
        raise NotFound("task", task_id)
    effective = merged(current, responses_to(engine, [task_id]).get(task_id, []))
    check_change(str(effective["status"]), status, note)
    # From the task as it stands: a post's answers so far become part of the new
    # version (their times and history), rather than being overtaken by it.
    body = changed(effective, status, by=by, via=via, note=note)
    if outcome is not None:
        body["outcome"] = dict(outcome)
    record = next_version(engine, RecordKind.task, task_id, body, node_id, base_version,
                          current)
    return write_own(engine, [record], node_id)[0]


def answer_task(engine: sa.Engine, node_id: str, task: StoredRecord, status: str, *, by: str,
                via: str, note: str = "") -> StoredRecord:
    """A post's answer to another node's task: a ``task_response`` of this node."""
    effective = merged(task, responses_to(engine, [task.id]).get(task.id, []))
    check_change(str(effective["status"]), status, note)
    if status == "cancelled":
        raise TaskError("status", "only the node that gave the task cancels it", "forbidden")
    body = {"task_id": task.id, "task_origin": task.origin, "status": status, "note": note,
            "by": by, "via": via, "at": _iso(), "section_id": task.body.get("section_id"),
            "handling": task.body.get("handling", "AMBER")}
    record = next_version(engine, RecordKind.task_response, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def responses_to(engine: sa.Engine, task_ids: Sequence[str]) -> dict[str, list[StoredRecord]]:
    """The answers held for these tasks, by task, oldest first."""
    found: dict[str, list[StoredRecord]] = {}
    for start in range(0, len(task_ids), 900):
        for r in list_records(engine, RecordKind.task_response,
                              subjects=list(task_ids[start:start + 900]), limit=100_000):
            found.setdefault(str(r.subject), []).append(r)
    for answers in found.values():
        answers.sort(key=lambda r: str(r.body.get("at")))
    return found


def merged(task: StoredRecord, answers: Iterable[StoredRecord]) -> dict[str, Any]:
    """The task as it stands: its own versions and the answers of the post, in time order."""
    body = dict(task.body)
    for answer in answers:
        a = answer.body
        status = str(a.get("status"))
        try:
            check_change(str(body["status"]), status, str(a.get("note") or "x"))
        except TaskError:
            continue  # an answer overtaken by a later change of the task's own
        body = changed(body, status, by=f"{a.get('by')}@{answer.origin}",
                       via=str(a.get("via") or "post"), note=str(a.get("note") or ""),
                       at=str(a.get("at")))
    return body


def list_tasks(engine: sa.Engine, *, unit_id: str | None = None, open_only: bool = False,
               event_id: str | None = None, limit: int = 500) -> list[tuple[StoredRecord,
                                                                          dict[str, Any]]]:
    """Tasks newest first, each with its merged body (answers applied)."""
    tasks = list_records(engine, RecordKind.task, subject=unit_id, limit=10_000)
    answers = responses_to(engine, [t.id for t in tasks])
    out = []
    for task in tasks:
        body = merged(task, answers.get(task.id, []))
        if open_only and body.get("status") in FINAL:
            continue
        if event_id is not None and (body.get("target") or {}).get("event_id") != event_id:
            continue
        out.append((task, body))
    out.sort(key=lambda tb: str(tb[1].get("dispatched_at")), reverse=True)
    return out[:limit]


def open_tasks_for(engine: sa.Engine, *, unit_ids: Iterable[str] = (),
                   callsigns: Iterable[str] = ()) -> list[tuple[StoredRecord, dict[str, Any]]]:
    """This node's open tasks of an asset known by any of these ids or callsigns."""
    ids, names = set(unit_ids), {c.casefold() for c in callsigns}
    return [(t, b) for t, b in list_tasks(engine, open_only=True)
            if (b.get("unit") or {}).get("kind") == "asset"
            and (b.get("unit_id") in ids
                 or str((b.get("unit") or {}).get("callsign") or "").casefold() in names)]


def response_rows(bodies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per task: unit kind, priority, dispatch, acknowledgement and arrival times (µs)."""
    rows = []
    for b in bodies:
        def micros(name: str, body: Mapping[str, Any] = b) -> int | None:
            value = body.get(name)
            if not isinstance(value, str):
                return None
            return int(datetime.fromisoformat(value.replace("Z", "+00:00"))
                       .astimezone(UTC).timestamp() * 1_000_000)

        dispatched = micros("dispatched_at")
        if dispatched is None:
            continue
        rows.append({"unit_kind": (b.get("unit") or {}).get("kind"),
                     "priority": b.get("priority"), "dispatched": dispatched,
                     "acknowledged": micros("acknowledged_at"),
                     "on_scene": micros("on_scene_at"), "status": b.get("status")})
    return rows


class TaskResult(StrEnum):
    """What the unit found."""

    confirmed = "confirmed"
    nothing_found = "nothing_found"
    handled = "handled"
    other = "other"


class TaskOutcome(BaseModel):
    """How a task ended: what was found and done, and what it changes in the picture.

    On an event of this node, the reactions are added to the event and the summary to
    its description (a new version); on another node's event, the summary becomes a
    comment of this node on it; ``report`` makes a new event (a follow-up of the
    target event when there is one).
    """

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    result: TaskResult
    summary: str = Field("", max_length=4000, pattern=NO_NUL)
    reaction: list[Reaction] = Field(default_factory=list, max_length=12)
    report: EventCreate | None = None
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


def apply_outcome(engine: sa.Engine, reporter: Reporter, task: StoredRecord,
                  outcome: TaskOutcome, *, by: str) -> dict[str, Any]:
    """What a task's outcome changes in the picture; the ids of the events it touched.

    Raises :class:`sitcen.events.InvalidInput` for a report that breaks a rule.
    """
    done: dict[str, Any] = {"result": outcome.result, "summary": outcome.summary,
                            "by": by, "at": _iso()}
    target = task.body.get("target") or {}
    event_id = target.get("event_id") if target.get("kind") == "event" else None
    note = f"[task {task.id[:8]}] {outcome.summary}".strip()
    if event_id is not None:
        current = get_event(engine, event_id)
        if current is not None and current.origin == reporter.node_id:
            base = current.model_dump(mode="json", include=set(EventBase.model_fields))
            base["reaction"] = list(dict.fromkeys([*base.get("reaction", []),
                                                   *outcome.reaction]))
            if outcome.summary:
                base["description"] = (f"{base.get('description') or ''}\n{note}").strip()[:8000]
            update = EventUpdate.model_validate({**base, "status": current.status or "reported",
                                                 "base_version": current.version})
            # The tasking duty officer's authority: the answer may add to a decided event.
            update_event(engine, reporter, event_id, update, may_change_status=False,
                         on_authority=True, by=author_of(engine, by))
            done["updated_event"] = event_id
        elif current is not None and outcome.summary:
            write_record(engine, RecordKind.event_action, {
                "event_id": event_id, "event_origin": current.origin,
                "event_version": current.version, "action": "comment", "text": note[:4000],
                "by": by, "at": _iso(), "handling": str(current.handling)},
                node_id=reporter.node_id)
            done["commented_event"] = event_id
    if outcome.report is not None:
        report = outcome.report
        if event_id is not None and report.follow_up_of is None:
            report = report.model_copy(update={"follow_up_of": uuid.UUID(event_id)})
        written = report_events(engine, reporter, [report], by=author_of(engine, by))[0]
        done["reported_event"] = written.id
    return done
