"""Vulnerability assessment: a section's capacity inventory, its history, CSV import, surges."""


import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from sitcen.analysis.vulnerability import (
    CAPACITY_FIELDS,
    adjacency_from_ids,
    capacity_indicators,
    daily_baseline,
    simulate_surge,
)
from sitcen.api.deps import CurrentNode, Reader, require
from sitcen.api.records import record_header
from sitcen.errors import ImportRefusal, InvalidInput, NotFound, error
from sitcen.events import NO_NUL
from sitcen.geo import BorderSection
from sitcen.interop.capacity_import import (
    CapacityImportReport,
    capacity_values,
    check_capacity,
    import_capacity_csv,
)
from sitcen.interop.spreadsheets import SpreadsheetError
from sitcen.node import Node
from sitcen.recompute import (
    assessed_month,
    capacity_from_record,
    load_events,
    section_capacities,
)
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.capacities import capacity_history, current_capacity, put_capacities
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.times import WorkDay
from sitcen.users import Permission

router = APIRouter(tags=["vulnerability"])

Assessor = Annotated[StoredUser, require(Permission.assess_vulnerability)]

#: Largest capacity CSV accepted (a national inventory is a few hundred rows).
MAX_CSV_BYTES = 2 * 1024 * 1024


def known_section(node: Node, section_id: str) -> BorderSection:
    """The node's border section ``section_id``; 404 when it has none."""
    try:
        return node.sections.section(section_id)
    except KeyError:
        raise NotFound("section", section_id) from None


def _doc(name: str) -> str:
    return CAPACITY_FIELDS[name]


#: No border section is longer than this (Kazakhstan's border with Russia, the longest
#: land border of the region, is about 7,600 km).
MAX_KM = 20_000


class CapacityFigures(BaseModel):
    """The figures of a section's capacity inventory (units in each description)."""

    model_config = ConfigDict(extra="forbid")

    length_km: float | None = Field(None, gt=0, le=MAX_KM, allow_inf_nan=False,
                                    description=_doc("length_km")
                                    + "; default: the section's own length")
    staff_per_shift: int = Field(ge=0, le=100_000, description=_doc("staff_per_shift"))
    shifts_per_day: int = Field(ge=1, le=24, description=_doc("shifts_per_day"))
    patrol_hours_per_week: float = Field(ge=0, le=10_000_000, allow_inf_nan=False,
                                         description=_doc("patrol_hours_per_week"))
    vehicles: int = Field(ge=0, le=100_000, description=_doc("vehicles"))
    sensors: int = Field(ge=0, le=100_000, description=_doc("sensors"))
    cameras: int = Field(ge=0, le=100_000, description=_doc("cameras"))
    towers: int = Field(ge=0, le=100_000, description=_doc("towers"))
    covered_km: float = Field(ge=0, le=MAX_KM, allow_inf_nan=False, description=_doc("covered_km"))
    fence_km: float = Field(ge=0, le=MAX_KM, allow_inf_nan=False, description=_doc("fence_km"))
    response_time_min: float = Field(ge=0, le=525_600, allow_inf_nan=False,
                                     description=_doc("response_time_min"))
    terrain_permeability: float = Field(ge=0, le=1, description=_doc("terrain_permeability"))
    assessed_on: WorkDay | None = Field(None, description=_doc("assessed_on"))


class CapacityUpdate(CapacityFigures):
    """A new capacity inventory of a section, as an analyst sends it."""

    note: str = Field("", max_length=4000, pattern=NO_NUL,
                      description="what changed and why, for the history")
    base_version: StrictInt | None = Field(
        None, ge=0, description="the version this change was made from (0: there was none); "
                                "409 when another change came first")


class CapacityPublic(CapacityFigures):
    """A section's capacity inventory as the node holds it, with derived indicators."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str
    section_id: str
    length_km: float | None = None
    assessed_by: str
    note: str
    handling: str
    indicators: dict[str, float | int | None]


class CapacityVersion(BaseModel):
    """One version of a section's capacity inventory."""

    model_config = ConfigDict(extra="allow")

    version: int
    recorded_at: datetime
    section_id: str
    assessed_by: str
    note: str


class SurgeRequest(BaseModel):
    """A simulation exercise: ``factor`` times the usual load for ``days`` days."""

    model_config = ConfigDict(extra="forbid")

    factor: float = Field(gt=0, le=100, allow_inf_nan=False,
                          description="multiple of the usual daily incidents, e.g. 3")
    days: int = Field(ge=1, le=365, description="length of the surge in days")


class SurgeDay(BaseModel):
    """One day of a surge exercise (incidents a day)."""

    day: int
    demand: float
    capacity: float
    shortfall: float
    reinforcement: float
    remaining_shortfall: float


class Reinforcement(BaseModel):
    """What a neighbouring section can lend during a surge."""

    section_id: str
    lendable_officers_per_shift: int
    incidents_per_day: float


class SurgeOutcome(BaseModel):
    """Outcome of a simulation exercise on one section."""

    section_id: str
    factor: float
    days: int
    month: str = Field(description="the usual load is that of the 3 months ending here")
    baseline_daily: float
    days_to_saturation: int | None
    days_to_saturation_reinforced: int | None
    total_shortfall: float
    summary: str
    neighbours_without_inventory: list[str]
    per_day: list[SurgeDay]
    reinforcements: list[Reinforcement]


def _public(record: StoredRecord) -> dict[str, Any]:
    indicators = capacity_indicators([capacity_from_record(record)]).iloc[0].to_dict()
    return {**record_header(record), **record.body,
            "indicators": {str(k): (None if v != v else v) for k, v in indicators.items()}}


@router.get("/sections/{section_id}/capacity", response_model=CapacityPublic)
def read_capacity(section_id: str, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """The current capacity inventory of a section, with derived indicators."""
    known_section(node, section_id)
    record = current_capacity(node.engine, node.settings.node_id, section_id)
    if record is None:
        raise NotFound("capacity inventory", section_id,
                       f"section {section_id} has no capacity inventory yet")
    return _public(record)


@router.put("/sections/{section_id}/capacity", response_model=CapacityPublic)
def update_capacity(section_id: str, item: CapacityUpdate, node: CurrentNode,
                    user: Assessor) -> dict[str, Any]:
    """Record a new capacity inventory of a section (a new version; history keeps the old)."""
    section = known_section(node, section_id)
    figures = item.model_dump(exclude={"note", "base_version"})
    try:
        capacity = check_capacity(section_id, figures, section_length_km=section.length_km)
    except ValueError as exc:
        field = str(exc).split(" ", 1)[0]
        loc = ("body", field) if field in CAPACITY_FIELDS else ("body",)
        raise InvalidInput([error(loc, str(exc))]) from exc
    (record,) = put_capacities(node.engine, node.settings.node_id,
                               [(section_id, capacity_values(capacity), item.note)],
                               assessed_by=user.username, base_version=item.base_version)
    return _public(record)


@router.get("/sections/{section_id}/capacity/history", response_model=list[CapacityVersion])
def read_capacity_history(section_id: str, node: CurrentNode,
                          _user: Reader) -> list[dict[str, Any]]:
    """Every version of a section's capacity inventory, oldest first."""
    known_section(node, section_id)
    return capacity_history(node.engine, node.settings.node_id, section_id)


_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"},
                                 "example": "section_id,staff_per_shift,shifts_per_day,"
                                            "patrol_hours_per_week,vehicles,sensors,cameras,"
                                            "towers,covered_km,fence_km,response_time_min,"
                                            "terrain_permeability\n"
                                            "TJ-AF-001,6,3,120,3,4,6,2,20,5,25,0.6\n"}},
    }
}


@router.post("/capacity/import", response_model=CapacityImportReport, openapi_extra=_CSV_BODY,
             responses={422: {"model": ImportRefusal[CapacityImportReport],
                              "description": "problems; nothing written"}})
async def import_capacity(
    request: Request, node: CurrentNode, user: Assessor,
    dry_run: Annotated[bool, Query(description="check only, write nothing")] = False,
) -> Any:
    """Import capacity inventories from CSV (one row per section), all or nothing."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput([error(("body",), f"the file is over {MAX_CSV_BYTES} bytes")])
    lengths = {s.id: s.length_km for s in node.sections.sections}
    try:
        report = await run_in_threadpool(
            import_capacity_csv, node.engine, node.settings.node_id, raw,
            section_lengths=lengths, assessed_by=user.username, dry_run=dry_run)
    except SpreadsheetError as exc:
        raise InvalidInput([error(("body",), str(exc), "spreadsheet")]) from exc
    if not report.ok:
        raise InvalidInput([error(("body",), f"{report.problem_count} problems in the file; "
                                  "nothing written", "import_refused")], report=report.to_dict())
    body = report.to_dict()
    if not dry_run:
        audit.record(node.engine, user.username, AuditAction.import_, "capacity",
                     {"bytes": len(raw), "written": body.get("written")})
    return body


@router.post("/sections/{section_id}/simulation", response_model=SurgeOutcome)
def simulate_section_surge(section_id: str, item: SurgeRequest, node: CurrentNode,
                           _user: Reader) -> dict[str, Any]:
    """Simulation exercise: can the section absorb a surge of k times the usual for d days?"""
    known_section(node, section_id)
    capacities = section_capacities(node.engine, node.settings.node_id)
    if section_id not in capacities:
        raise InvalidInput([error(("path", "section_id"),
                                  f"section {section_id} has no capacity inventory: record "
                                  "one first (PUT .../capacity)", "missing")])
    now = datetime.now(UTC)
    month = assessed_month(now)
    # The usual load: the 3 complete months before this one (daily_baseline's default).
    since = (pd.Period(month, freq="M") - 2).start_time.date()
    events = load_events(node.engine, since=since, until=now.date().replace(day=1))
    ids = [s.id for s in node.sections.sections]
    baseline = daily_baseline(events, section_ids=ids, month=month)
    neighbour_ids = adjacency_from_ids(ids).get(section_id, [])
    neighbours = {n: capacities[n] for n in neighbour_ids if n in capacities}
    result = simulate_surge(capacities[section_id], float(baseline[section_id]), item.factor,
                            item.days, neighbours,
                            {n: float(baseline[n]) for n in neighbours})
    return {
        "section_id": section_id, "factor": item.factor, "days": item.days, "month": month,
        "baseline_daily": float(baseline[section_id]),
        "days_to_saturation": result.days_to_saturation,
        "days_to_saturation_reinforced": result.days_to_saturation_reinforced,
        "total_shortfall": result.total_shortfall, "summary": result.summary,
        "neighbours_without_inventory": [n for n in neighbour_ids if n not in capacities],
        "per_day": result.days.to_dict("records"),
        "reinforcements": result.reinforcements.to_dict("records"),
    }
