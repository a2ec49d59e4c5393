"""Dashboard figures: events per category over time, busiest sections, per-section sparklines."""


from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.api.routes.events import COUNTRY_PATTERN, ListParam, _check_pattern, _split, _time
from sitcen.errors import InvalidInput, error
from sitcen.store.stats import (
    DAY_US,
    WEEK_US,
    Window,
    bucket_index,
    bucket_start,
    per_category,
    section_days,
    top_sections,
)
from sitcen.taxonomy import Category
from sitcen.times import from_micros, to_micros, zone

router = APIRouter(prefix="/stats", tags=["stats"])

DEFAULT_DAYS = 30
MAX_BUCKETS = 1200


class Bucket(StrEnum):
    day = "day"
    week = "week"


class CategorySeries(BaseModel):
    category: str
    counts: list[int]


class CategoryStats(BaseModel):
    """Event counts per category, one number per day or week of the window."""

    bucket: Bucket
    tz: str
    buckets: list[str]
    series: list[CategorySeries]
    total: int


class SectionCount(BaseModel):
    section_id: str
    count: int
    previous: int
    change: float | None


class SectionStats(BaseModel):
    """The busiest sections of the window, with the window of equal length before it."""

    since: datetime
    until: datetime
    previous_since: datetime
    sections: list[SectionCount]


class SectionSeries(BaseModel):
    section_id: str
    counts: list[int]


class SectionDaily(BaseModel):
    """Daily counts of some sections (for sparklines)."""

    tz: str
    days: list[str]
    sections: list[SectionSeries]


Since = Annotated[datetime | None, Query(description="window start (default: 30 days ago)")]
Until = Annotated[datetime | None, Query(description="window end, exclusive (default: now)")]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone whose midnight starts a "
                                                       "day, e.g. Asia/Almaty")]


def _window(since: datetime | None, until: datetime | None, tz: str,
            country: list[str] | None) -> Window:
    end = _time("until", until) or to_micros(datetime.now(UTC))
    start = _time("since", since) or end - DEFAULT_DAYS * DAY_US
    if start >= end:
        raise InvalidInput([error(("query", "since"), "since must lie before until", "window")])
    try:
        local = zone(tz)
    except ValueError as exc:
        raise InvalidInput([error(("query", "tz"), f"unknown time zone {tz!r}", "tz")]) from exc
    offset = from_micros(end).astimezone(local).utcoffset() or timedelta(0)
    return Window(start, end, int(offset.total_seconds()) * 1_000_000,
                  _check_pattern("country", _split(country), COUNTRY_PATTERN))


def _buckets(w: Window, bucket_us: int) -> list[int]:
    first = bucket_index(w.since, bucket_us, w.offset_us)
    last = bucket_index(w.until - 1, bucket_us, w.offset_us)
    if last - first + 1 > MAX_BUCKETS:
        raise InvalidInput([error(("query", "since"),
                                  f"the window spans more than {MAX_BUCKETS} buckets; "
                                  "choose a shorter one or bucket=week", "window")])
    return list(range(first, last + 1))


def _local_date(index: int, bucket_us: int, w: Window) -> str:
    start = bucket_start(index, bucket_us, w.offset_us) + w.offset_us
    return from_micros(start).date().isoformat()


@router.get("/categories", response_model=CategoryStats)
def read_category_stats(
    node: CurrentNode, _user: Reader, since: Since = None, until: Until = None,
    bucket: Bucket = Bucket.day, tz: Tz = "UTC", country: ListParam = None,
) -> dict[str, Any]:
    """Events per category per day or week over a window."""
    w = _window(since, until, tz, country)
    size = DAY_US if bucket == Bucket.day else WEEK_US
    numbers = _buckets(w, size)
    with node.engine.connect() as conn:
        counts = per_category(conn, w, size)
    series = {c.value: [counts.get(c.value, {}).get(b, 0) for b in numbers] for c in Category}
    return {"bucket": bucket, "tz": tz, "buckets": [_local_date(b, size, w) for b in numbers],
            "series": [{"category": c, "counts": n} for c, n in series.items()],
            "total": sum(sum(n) for n in series.values())}


@router.get("/sections", response_model=SectionStats)
def read_section_stats(
    node: CurrentNode, _user: Reader, since: Since = None, until: Until = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10, tz: Tz = "UTC", country: ListParam = None,
) -> dict[str, Any]:
    """The sections with the most events in a window, and their trend against the window before."""
    w = _window(since, until, tz, country)
    with node.engine.connect() as conn:
        top = top_sections(conn, w, limit)
    return {"since": from_micros(w.since), "until": from_micros(w.until),
            "previous_since": from_micros(2 * w.since - w.until),
            "sections": [{"section_id": t.section_id, "count": t.count, "previous": t.previous,
                          "change": None if t.change is None else round(t.change, 4)}
                         for t in top]}


@router.get("/sections/daily", response_model=SectionDaily)
def read_section_daily(
    node: CurrentNode, _user: Reader, since: Since = None, until: Until = None,
    section: ListParam = None, limit: Annotated[int, Query(ge=1, le=50)] = 10,
    tz: Tz = "UTC", country: ListParam = None,
) -> dict[str, Any]:
    """Daily event counts per section (the given ones, or the busiest), for sparklines."""
    w = _window(since, until, tz, country)
    days = _buckets(w, DAY_US)
    with node.engine.connect() as conn:
        ids = _split(section)[:50] or [t.section_id for t in top_sections(conn, w, limit)]
        counts = section_days(conn, w, ids)
    return {"tz": tz, "days": [_local_date(d, DAY_US, w) for d in days],
            "sections": [{"section_id": s, "counts": [counts[s].get(d, 0) for d in days]}
                         for s in ids]}
