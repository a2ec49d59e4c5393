"""Section impact levels: the proposed level, its confirmation or override, and the history."""


from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader, require
from sitcen.api.records import RecordPublic, record_header
from sitcen.api.routes.capacity import known_section
from sitcen.errors import InvalidInput, error
from sitcen.events import NO_NUL
from sitcen.recompute import proposed_level, reactions_for
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.levels import (
    confirm_level,
    current_level,
    current_levels,
    level_history,
    tick_reaction,
)
from sitcen.store.records import AssessmentError, StoredRecord
from sitcen.store.users import StoredUser
from sitcen.taxonomy import SectionImpactLevel
from sitcen.users import Permission

router = APIRouter(tags=["levels"])

LevelSetter = Annotated[StoredUser, require(Permission.set_impact_level)]


class LevelConfirm(BaseModel):
    """A section impact level as an authorised officer confirms or overrides it."""

    model_config = ConfigDict(extra="forbid")

    level: SectionImpactLevel
    justification: str = Field("", max_length=4000, pattern=NO_NUL,
                               description="required when the level differs from the proposed")
    base_version: StrictInt | None = Field(None, ge=0, description="409 when no longer current")


class ChecklistTick(BaseModel):
    """An item of a level's reaction checklist ticked off (or unticked)."""

    model_config = ConfigDict(extra="forbid")

    item: int = Field(ge=0, le=50, description="the item's place in the level's reactions")
    done: bool = True
    note: str = Field("", max_length=2000, pattern=NO_NUL, description="what was done")
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class LevelPublic(RecordPublic):
    """A confirmed section impact level, with the reactions it requires."""

    section_id: str
    level: SectionImpactLevel
    proposed_level: SectionImpactLevel | None
    overridden: bool
    justification: str
    confirmed_by: str
    reasons: list[str]
    reactions: list[str]
    checklist: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="by item number: done, by whom, when, a note")


class LevelList(BaseModel):
    """The confirmed level of every section that has one."""

    levels: list[LevelPublic]


class SectionLevel(BaseModel):
    """A section's proposed and confirmed level, and every level confirmed before."""

    section_id: str
    proposed_level: SectionImpactLevel | None
    reasons: list[str]
    proposed_reactions: list[str]
    confirmed: LevelPublic | None
    history: list[dict[str, Any]]


def _public(record: StoredRecord) -> dict[str, Any]:
    return {**record_header(record), **record.body}


@router.get("/levels", response_model=LevelList)
def read_levels(node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """The current confirmed impact level of every section that has one."""
    levels = current_levels(node.engine, node.settings.node_id)
    return {"levels": [_public(levels[k]) for k in sorted(levels)]}


@router.get("/sections/{section_id}/level", response_model=SectionLevel)
async def read_section_level(section_id: str, node: CurrentNode,
                             _user: Reader) -> dict[str, Any]:
    """A section's proposed level (latest risk table), confirmed level and level history."""
    known_section(node, section_id)
    node_id = node.settings.node_id
    proposed, reasons = await run_in_threadpool(proposed_level, node.engine, node_id,
                                                section_id)
    confirmed = current_level(node.engine, node_id, section_id)
    return {"section_id": section_id, "proposed_level": proposed, "reasons": reasons,
            "proposed_reactions": reactions_for(proposed) if proposed else [],
            "confirmed": None if confirmed is None else _public(confirmed),
            "history": level_history(node.engine, node_id, section_id)}


@router.post("/sections/{section_id}/level", status_code=status.HTTP_201_CREATED,
             response_model=LevelPublic)
async def confirm_section_level(section_id: str, item: LevelConfirm, node: CurrentNode,
                                user: LevelSetter) -> dict[str, Any]:
    """Confirm or override a section's proposed impact level (justify an override)."""
    known_section(node, section_id)
    node_id = node.settings.node_id
    proposed, reasons = await run_in_threadpool(proposed_level, node.engine, node_id,
                                                section_id)
    try:
        record = confirm_level(node.engine, node_id, section_id, level=item.level.value,
                               proposed_level=proposed, reasons=reasons,
                               reactions=reactions_for(item.level.value),
                               confirmed_by=user.username, justification=item.justification,
                               base_version=item.base_version)
    except AssessmentError as exc:
        raise InvalidInput([error(("body", exc.field), str(exc), "missing")]) from exc
    audit.record(node.engine, user.username, AuditAction.level_confirmed, section_id,
                 {"level": item.level.value, "proposed": proposed,
                  "version": record.version})
    return _public(record)


@router.post("/sections/{section_id}/level/checklist", response_model=LevelPublic)
def create_checklist_tick(section_id: str, item: ChecklistTick, node: CurrentNode,
                          user: LevelSetter) -> dict[str, Any]:
    """Tick off (or untick) an item of the reaction checklist of the section's level."""
    known_section(node, section_id)
    try:
        record = tick_reaction(node.engine, node.settings.node_id, section_id, item=item.item,
                               done=item.done, by=user.username, note=item.note,
                               base_version=item.base_version)
    except AssessmentError as exc:
        raise InvalidInput([error(("body", exc.field), str(exc), "out_of_range")]) from exc
    return _public(record)
