"""Patrol plans: where a post's teams go tomorrow, against an adversary that adapts (issue 17)."""


import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, Reporting, require
from sitcen.api.records import found_record, record_header
from sitcen.errors import InvalidInput, error
from sitcen.exchange.links import Relation, list_peers
from sitcen.operations.patrols import (
    AdjustmentCreate,
    PatrolPlanCreate,
    PatrolPlanError,
    adjust_plan,
    compute_plan,
    plan_view,
    plans_for,
    schedule_csv,
    schedule_of,
    task_instructions,
)
from sitcen.operations.tasks import (
    Priority,
    TargetKind,
    TaskCreate,
    TaskError,
    TaskTarget,
    create_task,
    known_units,
)
from sitcen.recompute import risk_table
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.users import Permission

router = APIRouter(prefix="/patrols", tags=["patrols"])

Planner = Annotated[StoredUser, require(Permission.task_units)]
#: Reading a plan is for the node's own people who report and patrol (operators, duty
#: officers), not for a partner's liaison: a randomised plan protects only while unread.
PlanReader = Reporting


class PatrolPlanPublic(BaseModel):
    """A post's plan for a day: coverage and reasons per section, the day's schedule."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str
    post_id: str
    day: str
    shifts: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    response: dict[str, Any] = Field(description="the adversary's fitted SUQR weights")
    expected: dict[str, float] = Field(
        description="value interdicted per attempt: plan, proportional, uniform")
    sections: list[dict[str, Any]]
    schedule: list[dict[str, Any]] = Field(description="the day's schedule, as adjusted")
    planned_schedule: list[dict[str, Any]] = Field(description="the schedule as drawn")
    adjustments: list[dict[str, Any]]


class PatrolPlanSummary(BaseModel):
    """A plan in a list."""

    id: uuid.UUID
    post_id: str
    day: str
    computed_at: str
    computed_by: str


class PatrolPlanList(BaseModel):
    """Plans, newest first."""

    plans: list[PatrolPlanSummary]


class AdjustmentPublic(BaseModel):
    """A duty officer's change to one assignment, kept as its own record."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str
    plan_id: str
    team_id: str
    shift: str
    section_id: str | None
    previous_section_id: str | None
    by: str


class PlanTasks(BaseModel):
    """The tasks the plan became, and the teams no unit of this node answers for."""

    tasks: list[str]
    skipped: list[str]


def _refused(exc: PatrolPlanError | TaskError) -> InvalidInput:
    return InvalidInput([error(("body", *exc.field.split(".")), str(exc))])


def _plan(node: CurrentNode, plan_id: uuid.UUID) -> StoredRecord:
    return found_record(node, RecordKind.patrol_plan, plan_id, "patrol plan")


def _risk_values(node: CurrentNode) -> dict[str, float]:
    table = risk_table(node.engine, node.settings.node_id)
    return {row["section_id"]: float(row["risk"]) for row in table["sections"]}


@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=PatrolPlanPublic)
def create_patrol_plan(item: PatrolPlanCreate, node: CurrentNode,
                       user: Planner) -> dict[str, Any]:
    """Compute a post's plan for a day: coverage per section and shift, and a drawn schedule."""
    try:
        plan = compute_plan(node.engine, node.settings.node_id, node.sections, item,
                            risk=_risk_values(node), by=user.username)
    except PatrolPlanError as exc:
        raise _refused(exc) from exc
    return {**plan_view(node.engine, plan), **record_header(plan)}


@router.get("/plans", response_model=PatrolPlanList)
def read_patrol_plans(
    node: CurrentNode, _user: PlanReader,
    post_id: Annotated[str | None, Query(max_length=64)] = None,
    day: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Plans, newest first, for a post and/or a day."""
    found = plans_for(node.engine, post_id=post_id, day=day, limit=limit)
    return {"plans": [{"id": p.id, "post_id": p.body["post_id"], "day": p.body["day"],
                       "computed_at": p.body["computed_at"],
                       "computed_by": p.body["computed_by"]} for p in found]}


@router.get("/plans/{plan_id}", response_model=PatrolPlanPublic)
def read_patrol_plan(plan_id: uuid.UUID, node: CurrentNode, _user: PlanReader) -> dict[str, Any]:
    """A plan with its adjustments applied to the day's schedule."""
    plan = _plan(node, plan_id)
    return {**plan_view(node.engine, plan), **record_header(plan)}


@router.post("/plans/{plan_id}/adjustments", status_code=status.HTTP_201_CREATED,
             response_model=AdjustmentPublic)
def create_patrol_adjustment(plan_id: uuid.UUID, item: AdjustmentCreate, node: CurrentNode,
                             user: Planner) -> dict[str, Any]:
    """Change one assignment (a team, a shift, another section or none), kept as its own record."""
    plan = _plan(node, plan_id)
    try:
        record = adjust_plan(node.engine, node.settings.node_id, plan, item, by=user.username)
    except PatrolPlanError as exc:
        raise _refused(exc) from exc
    return {**record.body, **record_header(record)}


@router.get("/plans/{plan_id}/schedule.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def read_patrol_schedule_csv(plan_id: uuid.UUID, node: CurrentNode, _user: PlanReader) -> Response:
    """The day's schedule, as adjusted, as CSV (one line per team and shift)."""
    plan = _plan(node, plan_id)
    name = f"patrols-{plan.body['post_id']}-{plan.body['day']}.csv"
    return Response(schedule_csv(node.engine, plan), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/plans/{plan_id}/tasks", status_code=status.HTTP_201_CREATED,
             response_model=PlanTasks)
def create_patrol_tasks(plan_id: uuid.UUID, node: CurrentNode, user: Planner) -> dict[str, Any]:
    """Send the day's schedule as tasks, one per team and shift, to the teams this node knows."""
    plan = _plan(node, plan_id)
    posts = {p.node_id: p.name for p in list_peers(node.engine) if p.relation == Relation.child}
    units = known_units(node.engine, posts)
    created: list[str] = []
    skipped: list[str] = []
    for entry in schedule_of(node.engine, plan):
        if entry["team_id"] not in units or units[entry["team_id"]].kind != "asset":
            skipped.append(entry["team_id"])
            continue
        item = TaskCreate(unit_id=entry["team_id"],
                          target=TaskTarget(kind=TargetKind.section,
                                            section_id=entry["section_id"]),
                          priority=Priority.routine,
                          instructions=task_instructions(plan, entry))
        try:
            task = create_task(node.engine, node.settings.node_id, node.sections, item,
                               by=user.username, units=units,
                               max_km=node.settings.section_max_km)
        except TaskError as exc:
            raise _refused(exc) from exc
        created.append(task.id)
    return {"tasks": created, "skipped": sorted(set(skipped))}
