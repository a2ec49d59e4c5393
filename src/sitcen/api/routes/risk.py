"""The risk table: every border section ranked by risk, and what each score is made of."""


from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader
from sitcen.api.routes.capacity import known_section
from sitcen.errors import NotFound
from sitcen.recompute import risk_detail, risk_table
from sitcen.store.levels import current_level

router = APIRouter(prefix="/risk", tags=["risk"])


class RiskPeriod(BaseModel):
    """The months a risk table assesses."""

    model_config = ConfigDict(populate_by_name=True)

    month: str = Field(description="the assessed month (the last complete one), YYYY-MM")
    window_months: int = Field(description="months of activity behind the current threat")
    from_: str = Field(alias="from", description="first day of the window")
    to: str = Field(description="last day of the window")
    events_read: int


class RiskRow(BaseModel):
    """One section's place in the ranking."""

    section_id: str
    rank: int
    risk: float
    threat: float
    vulnerability: float
    impact: float
    vulnerability_known: bool = Field(description="false: no capacity inventory, assumed")
    proposed_level: str
    confirmed_level: str | None
    reasons: list[str]


class RiskTable(BaseModel):
    """Every section, highest risk first."""

    computed_at: str
    period: RiskPeriod
    sections: list[RiskRow]


class RiskDetail(BaseModel):
    """One section's risk taken apart: terms, contributions, capacity and monthly trend."""

    model_config = ConfigDict(extra="allow")

    section_id: str
    computed_at: str
    period: RiskPeriod
    rank: int
    risk: float
    proposed_level: str
    confirmed_level: str | None
    reasons: list[str]
    reactions: list[str]
    contributions: dict[str, float]
    threat: dict[str, Any]
    vulnerability: dict[str, Any]
    impact: dict[str, Any]
    capacity: dict[str, Any] | None
    indicators: dict[str, Any] | None
    monthly: list[dict[str, Any]]


@router.get("", response_model=RiskTable, response_model_by_alias=True)
async def read_risk_table(node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """The risk ranking of every border section, from the latest recomputation."""
    return await run_in_threadpool(risk_table, node.engine, node.settings.node_id)


@router.get("/{section_id}", response_model=RiskDetail, response_model_by_alias=True)
async def read_section_risk(section_id: str, node: CurrentNode,
                            _user: Reader) -> dict[str, Any]:
    """A section's risk decomposed: threat, vulnerability and impact terms and their shares."""
    known_section(node, section_id)
    detail = await run_in_threadpool(risk_detail, node.engine, node.settings.node_id,
                                     section_id)
    if detail is None:
        raise NotFound("risk assessment", section_id,
                       f"section {section_id} is not in the latest risk table; it is "
                       "recomputed on schedule")
    level = current_level(node.engine, node.settings.node_id, section_id)
    detail["confirmed_level"] = None if level is None else level.body.get("level")
    return detail
