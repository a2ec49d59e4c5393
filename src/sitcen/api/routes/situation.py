"""The situation at a glance: the strip above the map, and the picture binned on the server."""


from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.api.routes.events import COUNTRY_PATTERN, EventQuery, ListParam, _check_pattern, _split
from sitcen.store.picture import bin_size_for_zoom, binned, situation
from sitcen.store.queries import count_matching, filter_conditions
from sitcen.times import from_micros, to_micros

router = APIRouter(prefix="/situation", tags=["situation"])


class SituationStrip(BaseModel):
    """The last 24 hours against normal, open alerts by severity, sections at high or critical."""

    since: datetime
    until: datetime
    last_24h: int
    normal: float
    normal_low: int
    normal_high: int
    by_category: dict[str, int]
    serious: int
    open_alerts: dict[str, int]
    sections_high: list[dict[str, Any]]


class Bins(BaseModel):
    """A window's events counted per grid cell, with counts by category and impact level."""

    count: int
    size_deg: float
    bins: list[dict[str, Any]]


@router.get("", response_model=SituationStrip)
def read_situation(node: CurrentNode, _user: Reader, country: ListParam = None) -> dict[str, Any]:
    """Where it is worst right now: last 24 h against normal, open alerts, sections at risk."""
    countries = _check_pattern("country", _split(country), COUNTRY_PATTERN)
    with node.engine.connect() as conn:
        s = situation(conn, to_micros(datetime.now(UTC)), countries=countries)
    return {"since": from_micros(s.since), "until": from_micros(s.until),
            "last_24h": s.last_24h, "normal": round(s.normal, 1), "normal_low": s.normal_low,
            "normal_high": s.normal_high, "by_category": s.by_category, "serious": s.serious,
            "open_alerts": s.open_alerts, "sections_high": s.sections_high}


@router.get("/bins", response_model=Bins)
def read_situation_bins(node: CurrentNode, _user: Reader, filt: EventQuery,
                        zoom: Annotated[float, Query(ge=0, le=16)] = 5.0) -> dict[str, Any]:
    """The events of a query binned on a grid fitted to the map's zoom (for large windows)."""
    size = bin_size_for_zoom(zoom)
    with node.engine.connect() as conn:
        bins = binned(conn, filter_conditions(filt), size)
        total = count_matching(conn, filt)
    return {"count": total, "size_deg": size, "bins": [b.to_dict() for b in bins]}
