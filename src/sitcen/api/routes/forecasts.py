"""Forecasts of monthly event counts 1-6 months ahead, with prediction intervals."""


from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import InvalidInput, error
from sitcen.recompute import default_series, forecasts, parse_series
from sitcen.times import iso

router = APIRouter(prefix="/forecasts", tags=["risk"])


class ForecastMonth(BaseModel):
    """One month ahead: the forecast (a median) and its 80 and 95 % intervals."""

    month: str
    horizon: int
    forecast: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float


class SeriesForecast(BaseModel):
    """One series: recent months, the months ahead, the method and the yearly trend."""

    series: str
    months: int
    history: list[dict[str, Any]]
    forecast: list[ForecastMonth]
    method: str | None
    trend: dict[str, Any] | None
    note: str | None = None


class Forecasts(BaseModel):
    """Forecasts of every series asked for."""

    computed_at: str
    series: list[SeriesForecast]


@router.get("", response_model=Forecasts)
async def read_forecasts(
    node: CurrentNode, _user: Reader,
    series: Annotated[list[str] | None, Query(
        description="total, a category (or category:<c>), section:<id> or type:<t>; "
                    "comma-separated or repeated; default: the total and every category")]
    = None,
    horizon: Annotated[int, Query(ge=1, le=6, description="months ahead")] = 6,
) -> dict[str, Any]:
    """Monthly event counts forecast 1-6 months ahead with 80 and 95 % intervals."""
    names = [p.strip() for v in series or [] for p in v.split(",") if p.strip()]
    names = names or default_series()
    if len(names) > 50:
        raise InvalidInput([error(("query", "series"), "at most 50 series at once")])
    for name in names:
        try:
            parse_series(name)
        except ValueError as exc:
            raise InvalidInput([error(("query", "series"), str(exc), "enum")]) from exc
    now = datetime.now(UTC)
    found = await run_in_threadpool(forecasts, node.engine, names, horizon=horizon, now=now)
    return {"computed_at": iso(now), "series": found}
