"""Recommendations of vulnerability assessments: owner, deadline, status and their monitoring."""


import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sitcen.api.deps import CurrentNode, Reader, require
from sitcen.api.records import RecordPublic, found_record, record_header
from sitcen.api.routes.capacity import known_section
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL
from sitcen.store.journal import RecordKind
from sitcen.store.recommendations import (
    add_recommendation,
    is_overdue,
    list_recommendations,
    recommendation_history,
    update_recommendation,
)
from sitcen.store.records import AssessmentError, StoredRecord
from sitcen.store.users import StoredUser
from sitcen.times import WorkDay
from sitcen.users import Permission

router = APIRouter(prefix="/recommendations", tags=["vulnerability"])

Assessor = Annotated[StoredUser, require(Permission.assess_vulnerability)]


class RecommendationStatus(StrEnum):
    """Where a recommendation stands; done and cancelled are final."""

    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class RecommendationCreate(BaseModel):
    """A recommendation of a vulnerability assessment, as an analyst records it."""

    model_config = ConfigDict(extra="forbid")

    section_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL,
                      description="what is to be done")
    owner: str = Field(min_length=1, max_length=200, pattern=NO_NUL,
                       description="who is to do it (a unit or a person)")
    deadline: WorkDay
    status: RecommendationStatus = RecommendationStatus.open


class RecommendationUpdate(BaseModel):
    """A change of status, owner or deadline; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    status: RecommendationStatus | None = None
    owner: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)
    deadline: WorkDay | None = None
    note: str | None = Field(None, max_length=4000, pattern=NO_NUL,
                             description="why, for the status history")
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class RecommendationPublic(RecordPublic):
    """A recommendation as the node holds it."""

    section_id: str
    text: str
    owner: str
    deadline: WorkDay
    status: RecommendationStatus
    overdue: bool
    history: list[dict[str, Any]] | None = None


class RecommendationList(BaseModel):
    """Recommendations, earliest deadline first."""

    recommendations: list[RecommendationPublic]


def _public(record: StoredRecord, today: date, *, history: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    out = {**record_header(record), **record.body,
           "overdue": is_overdue(record.body, today)}
    if history is not None:
        out["history"] = history
    return out


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("", response_model=RecommendationList)
def read_recommendations(
    node: CurrentNode, _user: Reader,
    section_id: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[RecommendationStatus | None, Query(alias="status")] = None,
    overdue: Annotated[bool, Query(description="only those past their deadline and not done")]
    = False,
) -> dict[str, Any]:
    """Recommendations, earliest deadline first; ?overdue=true for those past due."""
    today = _today()
    found = list_recommendations(node.engine, section_id=section_id,
                                 status=None if status_ is None else status_.value,
                                 overdue_on=today if overdue else None)
    return {"recommendations": [_public(r, today) for r in found]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RecommendationPublic)
def create_recommendation(item: RecommendationCreate, node: CurrentNode,
                          user: Assessor) -> dict[str, Any]:
    """Record a recommendation for a section, with owner and deadline."""
    try:
        known_section(node, item.section_id)
    except NotFound as exc:
        raise InvalidInput([error(("body", "section_id"), f"no section {item.section_id}")]
                           ) from exc
    record = add_recommendation(node.engine, node.settings.node_id, section_id=item.section_id,
                                text=item.text, owner=item.owner, deadline=item.deadline,
                                created_by=user.username, status=item.status.value)
    return _public(record, _today())


@router.get("/{recommendation_id}", response_model=RecommendationPublic)
def read_recommendation(recommendation_id: uuid.UUID, node: CurrentNode,
                        _user: Reader) -> dict[str, Any]:
    """One recommendation with its status history (every version, oldest first)."""
    record = found_record(node, RecordKind.recommendation, recommendation_id)
    return _public(record, _today(),
                   history=recommendation_history(node.engine, str(recommendation_id)))


@router.patch("/{recommendation_id}", response_model=RecommendationPublic)
def update_one_recommendation(recommendation_id: uuid.UUID, item: RecommendationUpdate,
                              node: CurrentNode, user: Assessor) -> dict[str, Any]:
    """Change a recommendation's status, owner or deadline (a new version)."""
    try:
        record = update_recommendation(
            node.engine, node.settings.node_id, str(recommendation_id), updated_by=user.username,
            status=None if item.status is None else item.status.value, owner=item.owner,
            deadline=item.deadline, note=item.note, base_version=item.base_version)
    except AssessmentError as exc:
        raise InvalidInput([error(("body", exc.field), str(exc), "forbidden_transition")]
                           ) from exc
    return _public(record, _today())
