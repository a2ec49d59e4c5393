"""Tasking: send a unit or a post to an event, a section or a point, and follow its answers."""


import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from sitcen.analysis.workflow import day_in, durations_by
from sitcen.api.deps import CurrentNode, Reader, Reporting, require
from sitcen.api.records import RecordPublic, found_record, record_header
from sitcen.errors import InvalidInput, Refused, error
from sitcen.exchange.links import Relation, list_peers
from sitcen.node import Node
from sitcen.operations.tasks import (
    TaskCreate,
    TaskError,
    TaskOutcome,
    TaskUpdate,
    answer_task,
    apply_outcome,
    create_task,
    known_units,
    list_tasks,
    merged,
    response_rows,
    responses_to,
    update_own_task,
)
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.times import zone
from sitcen.users import Permission, allows

router = APIRouter(prefix="/tasks", tags=["tasks"])

Tasker = Annotated[StoredUser, require(Permission.task_units)]


class TaskPublic(RecordPublic):
    """A task as it stands: the task's own versions and the post's answers merged."""

    unit_id: str
    unit: dict[str, Any]
    target: dict[str, Any]
    priority: str
    instructions: str
    status: str
    dispatched_at: str
    dispatched_by: str
    history: list[dict[str, Any]]
    mine: bool = Field(description="given by this node (else: given to this node's post)")


class TaskList(BaseModel):
    """Tasks, newest first."""

    tasks: list[TaskPublic]


class UnitPublic(BaseModel):
    """A unit that can be tasked: an own asset, or a linked post answering for itself."""

    kind: str
    id: str
    name: str
    callsign: str
    node: str | None
    location: dict[str, Any] | None
    open_tasks: int


class UnitList(BaseModel):
    """Every unit that can be tasked."""

    units: list[UnitPublic]


class TaskStatistics(BaseModel):
    """Response times (dispatch to on scene) and acknowledgement times, in seconds."""

    since: str
    until: str
    tz: str
    tasks: int
    by_status: dict[str, int]
    response: list[dict[str, Any]]
    response_by_day: list[dict[str, Any]]
    acknowledgement: list[dict[str, Any]]


def _posts(node: Node) -> dict[str, str]:
    return {p.node_id: p.name for p in list_peers(node.engine) if p.relation == Relation.child}


def public(task: StoredRecord, body: dict[str, Any], node_id: str) -> dict[str, Any]:
    """The API form of a task and its merged body."""
    return {**body, **record_header(task), "mine": task.origin == node_id}


def _refused(exc: TaskError) -> InvalidInput:
    return InvalidInput([error(("body", *exc.field.split(".")), str(exc), exc.kind)])


def _task(node: Node, task_id: uuid.UUID) -> StoredRecord:
    return found_record(node, RecordKind.task, task_id)


@router.get("", response_model=TaskList)
def read_tasks(
    node: CurrentNode, _user: Reader,
    open_only: Annotated[bool, Query(alias="open")] = False,
    unit_id: Annotated[str | None, Query(max_length=64)] = None,
    event_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> dict[str, Any]:
    """Tasks, newest first: all, or only those not done, declined or cancelled."""
    found = list_tasks(node.engine, unit_id=unit_id, open_only=open_only,
                       event_id=None if event_id is None else str(event_id), limit=limit)
    node_id = node.settings.node_id
    return {"tasks": [public(t, b, node_id) for t, b in found]}


@router.get("/units", response_model=UnitList)
def read_task_units(node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """Who can be tasked: own patrols, vehicles and aircraft, and the linked posts."""
    units = known_units(node.engine, _posts(node))
    busy: dict[str, int] = {}
    for _task_record, body in list_tasks(node.engine, open_only=True):
        busy[str(body.get("unit_id"))] = busy.get(str(body.get("unit_id")), 0) + 1
    return {"units": [{**u.__dict__, "open_tasks": busy.get(u.id, 0)}
                      for u in sorted(units.values(), key=lambda u: (u.kind, u.name))]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TaskPublic)
def create_unit_task(item: TaskCreate, node: CurrentNode, user: Tasker) -> dict[str, Any]:
    """Send a unit or a post to an event, a section or a point, with priority and instructions."""
    try:
        task = create_task(node.engine, node.settings.node_id, node.sections, item,
                           by=user.username, units=known_units(node.engine, _posts(node)),
                           max_km=node.settings.section_max_km)
    except TaskError as exc:
        raise _refused(exc) from exc
    return public(task, task.body, node.settings.node_id)


@router.get("/statistics", response_model=TaskStatistics)
def read_task_statistics(
    node: CurrentNode, _user: Reader,
    since: datetime | None = None, until: datetime | None = None,
    tz: Annotated[str, Query(max_length=64, description="IANA zone of the days")] = "UTC",
) -> dict[str, Any]:
    """Response time (dispatch to on scene) per unit kind, priority and day, and time to answer."""
    try:
        local_zone = zone(tz)
    except ValueError as exc:
        raise InvalidInput([error(("query", "tz"), f"unknown time zone {tz!r}", "tz")]) from exc
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput([error(("query", name), "needs a time zone, e.g. Z", "tz")])
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    low, high = start.timestamp() * 1e6, end.timestamp() * 1e6
    rows = [r for r in response_rows(b for _t, b in list_tasks(node.engine, limit=100_000))
            if low <= r["dispatched"] < high]
    for row in rows:
        row["day"] = day_in(row["dispatched"], local_zone)
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
    return {"since": start.isoformat(), "until": end.isoformat(), "tz": tz, "tasks": len(rows),
            "by_status": counts,
            "response": durations_by(rows, ["unit_kind", "priority"], start="dispatched",
                                     end="on_scene"),
            "response_by_day": durations_by(rows, ["day"], start="dispatched", end="on_scene"),
            "acknowledgement": durations_by(rows, ["unit_kind"], start="dispatched",
                                            end="acknowledged")}


@router.get("/{task_id}", response_model=TaskPublic)
def read_task(task_id: uuid.UUID, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """One task as it stands, with every change of status."""
    task = _task(node, task_id)
    body = merged(task, responses_to(node.engine, [task.id]).get(task.id, []))
    return public(task, body, node.settings.node_id)


@router.post("/{task_id}/status", response_model=TaskPublic)
def create_task_status(task_id: uuid.UUID, item: TaskUpdate, node: CurrentNode,
                       user: Reporting) -> dict[str, Any]:
    """Move a task on (acknowledged, en route, on scene, done), decline it, or cancel it."""
    task = _task(node, task_id)
    node_id = node.settings.node_id
    if item.status == "cancelled" and not allows(user.role, Permission.task_units):
        raise Refused(f"role {user.role.value} may not cancel a task")
    try:
        if task.origin == node_id:
            task = update_own_task(node.engine, node_id, task.id, item.status, by=user.username,
                                   via="console", note=item.note,
                                   base_version=item.base_version)
        else:
            unit = task.body.get("unit") or {}
            if unit.get("node") != node_id:
                raise InvalidInput([error(("path", "task_id"), f"task of node {task.origin} "
                                          "given to another unit: only its node changes it",
                                          "not_owner")])
            answer_task(node.engine, node_id, task, item.status, by=user.username,
                        via="console", note=item.note)
    except TaskError as exc:
        raise _refused(exc) from exc
    body = merged(task, responses_to(node.engine, [task.id]).get(task.id, []))
    return public(task, body, node_id)


@router.post("/{task_id}/outcome", response_model=TaskPublic)
def create_task_outcome(task_id: uuid.UUID, item: TaskOutcome, node: CurrentNode,
                        user: Reporting) -> dict[str, Any]:
    """Close a task as done with what was found: it can update its event or report a new one."""
    task = _task(node, task_id)
    node_id = node.settings.node_id
    if task.origin != node_id:
        raise InvalidInput([error(("path", "task_id"), f"task of node {task.origin}: its node "
                                  "records the outcome", "not_owner")])
    body = merged(task, responses_to(node.engine, [task.id]).get(task.id, []))
    if body.get("status") in ("done", "declined", "cancelled"):
        raise Refused(f"the task is already {body.get('status')}", status=409, kind="final",
                      loc=["path", "task_id"])
    if item.base_version is not None and item.base_version != task.version:
        raise Refused(f"the task is at version {task.version}, not {item.base_version}",
                      status=409, kind="version_conflict", loc=["body", "base_version"])
    done = apply_outcome(node.engine, node.reporter, task, item, by=user.username)
    try:
        task = update_own_task(node.engine, node_id, task.id, "done", by=user.username,
                               via="console", note=item.summary, base_version=item.base_version,
                               outcome=done)
    except TaskError as exc:
        raise _refused(exc) from exc
    body = merged(task, responses_to(node.engine, [task.id]).get(task.id, []))
    return public(task, body, node_id)
