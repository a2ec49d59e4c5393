"""The picture summed up on the server: grid bins of a window, the serious events, what changed.

The console asks for bins instead of points when a window holds more events
than a browser should draw; the situation strip and the products read the
same functions, so a figure in a report is the figure on the screen. Every
function here is one or two SQL statements over the events or records table,
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from sitcen.store import schema
from sitcen.store.stats import DAY_US, Window, per_category, window_where

e = schema.events

SERIOUS_LEVELS = ("high", "very_high")


@dataclass(frozen=True)
class Bin:
    """Events of one grid cell of a window: where, how many, by category and impact level."""

    lon: float
    lat: float
    size_deg: float
    count: int
    by_category: dict[str, int]
    by_impact: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API returns."""
        return {"lon": self.lon, "lat": self.lat, "size_deg": self.size_deg,
                "count": self.count, "by_category": self.by_category,
                "by_impact": self.by_impact}


def bin_size_for_zoom(zoom: float) -> float:
    """Cell size in degrees for a web-map zoom: about 40 px per cell on screen."""
    size = 360.0 / (2 ** max(0.0, min(zoom, 16.0))) / 256.0 * 40.0
    # Round to a power of two fraction so that bins nest from one zoom to the next.
    return float(2.0 ** math.floor(math.log2(size)))


def _floor(conn: sa.Connection, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # The value is never negative (shifted by 180 and 90 degrees): SQLite's integer cast
    # truncates, which is the floor here; PostgreSQL's cast would round, so it floors.
    if conn.dialect.name == "sqlite":
        return sa.cast(value, sa.Integer)
    return sa.func.floor(value)


def binned(conn: sa.Connection, conditions: Sequence[sa.ColumnElement[bool]],
           size_deg: float) -> list[Bin]:
    """Events counted per grid cell of ``size_deg`` degrees (cells with events only).

    ``conditions`` choose the events (:func:`window_where` of a window, or a
    query's :func:`sitcen.store.queries.filter_conditions`). Each bin
    stands at the mean position of its events, so a lone cluster is drawn where
    it is, not at a cell corner. Events without a location are left out.
    """
    ix = _floor(conn, (e.c.lon + 180.0) / size_deg).label("ix")
    iy = _floor(conn, (e.c.lat + 90.0) / size_deg).label("iy")
    where = [*conditions, e.c.lon.isnot(None), e.c.lat.isnot(None)]
    impact = sa.func.coalesce(e.c.impact_level, sa.literal_column("'unknown'"))
    rows = conn.execute(
        sa.select(ix, iy, e.c.category, impact, sa.func.count(), sa.func.sum(e.c.lon),
                  sa.func.sum(e.c.lat))
        .where(*where).group_by(ix, iy, e.c.category, impact))
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for x, y, category, impact, n, sum_lon, sum_lat in rows:
        cell = cells.setdefault((int(x), int(y)), {"n": 0, "lon": 0.0, "lat": 0.0,
                                                   "cat": {}, "imp": {}})
        cell["n"] += int(n)
        cell["lon"] += float(sum_lon)
        cell["lat"] += float(sum_lat)
        cell["cat"][str(category)] = cell["cat"].get(str(category), 0) + int(n)
        cell["imp"][str(impact)] = cell["imp"].get(str(impact), 0) + int(n)
    return [Bin(round(c["lon"] / c["n"], 5), round(c["lat"] / c["n"], 5), size_deg, c["n"],
                dict(sorted(c["cat"].items())), dict(sorted(c["imp"].items())))
            for _, c in sorted(cells.items())]


def serious_events(conn: sa.Connection, w: Window, *, levels: Sequence[str] = SERIOUS_LEVELS,
                   limit: int = 5000) -> list[dict[str, Any]]:
    """Bodies of the window's events of the given impact levels, oldest first."""
    rows = conn.execute(sa.select(e.c.body)
                        .where(*window_where(w), e.c.impact_level.in_(list(levels)))
                        .order_by(e.c.occurred_at, e.c.id).limit(limit))
    return [orjson.loads(row.body) for row in rows]


def count_by_level(conn: sa.Connection, w: Window) -> dict[str, int]:
    """Events of the window per reported impact level (``unknown`` when none was given)."""
    level = sa.func.coalesce(e.c.impact_level, sa.literal_column("'unknown'"))
    rows = conn.execute(sa.select(level, sa.func.count()).where(*window_where(w)).group_by(level))
    return {str(k): int(n) for k, n in rows}


@dataclass(frozen=True)
class RecordVersion:
    """One version of a record of the ``records`` table, with when it was stored."""

    id: str
    origin: str
    version: int
    recorded_at: int
    body: dict[str, Any]


def versions_recorded(conn: sa.Connection, kind: str, since: int, until: int
                      ) -> list[RecordVersion]:
    """Every version of records of ``kind`` stored in [since, until), oldest first.

    Current versions come from ``records``, earlier ones from ``record_versions``.
    """
    r, v = schema.records, schema.record_versions
    found = [RecordVersion(row.id, row.origin, row.version, row.recorded_at,
                           orjson.loads(row.body))
             for row in conn.execute(
                 sa.select(r.c.id, r.c.origin, r.c.version, r.c.recorded_at, r.c.body)
                 .where(r.c.kind == kind, r.c.recorded_at >= since, r.c.recorded_at < until))]
    older = conn.execute(
        sa.select(v.c.id, r.c.origin, v.c.version, v.c.recorded_at, v.c.body)
        .join(r, r.c.id == v.c.id)
        .where(r.c.kind == kind, v.c.recorded_at >= since, v.c.recorded_at < until))
    found += [RecordVersion(row.id, row.origin, row.version, row.recorded_at,
                            orjson.loads(row.body)) for row in older]
    return sorted(found, key=lambda x: (x.recorded_at, x.id, x.version))


def previous_version(conn: sa.Connection, record_id: str, version: int) -> dict[str, Any] | None:
    """The body of the version before ``version`` of a record, if this node holds it."""
    if version <= 1:
        return None
    v = schema.record_versions
    body = conn.execute(sa.select(v.c.body).where(v.c.id == record_id,
                                                  v.c.version == version - 1)).scalar()
    return None if body is None else dict(orjson.loads(body))


@dataclass(frozen=True)
class Situation:
    """Where it is worst right now: the last 24 h against normal, open alerts, sections at risk."""

    since: int
    until: int
    last_24h: int
    normal: float
    normal_low: int
    normal_high: int
    by_category: dict[str, int]
    serious: int
    open_alerts: dict[str, int]
    sections_high: list[dict[str, Any]]


def situation(conn: sa.Connection, now_us: int, *, countries: Sequence[str] = (),
              baseline_days: int = 28) -> Situation:
    """The situation strip: events of the last 24 h, and what the 24 h usually hold.

    *Normal* is the mean of the same 24 hours on each of the ``baseline_days``
    days before; its range is the 10th to 90th percentile of those days, so
    "above normal" means above what 9 days in 10 brought.
    """
    day = DAY_US
    since = now_us - day
    w = Window(since, now_us, 0, tuple(countries))
    by_category = {k: sum(v.values()) for k, v in per_category(conn, w, day * 2).items()}
    total = sum(by_category.values())
    before = Window(since - baseline_days * day, since, 0, tuple(countries))
    counts = [0] * baseline_days
    offset = sa.literal(before.since, sa.BigInteger)
    slot = ((e.c.occurred_at - offset) / sa.literal(day, sa.BigInteger)).label("slot")
    for index, n in conn.execute(sa.select(slot, sa.func.count()).where(*window_where(before))
                                 .group_by(slot)):
        if 0 <= int(index) < baseline_days:
            counts[int(index)] = int(n)
    ordered = sorted(counts)
    levels = count_by_level(conn, w)
    r = schema.records
    alerts: dict[str, int] = {}
    for body in conn.execute(sa.select(r.c.body).where(r.c.kind == "alert")).scalars():
        alert = orjson.loads(body)
        if alert.get("status", "open") == "open":
            severity = str(alert.get("severity", "low"))
            alerts[severity] = alerts.get(severity, 0) + 1
    high: list[dict[str, Any]] = []
    for body in conn.execute(sa.select(r.c.body).where(r.c.kind == "section_assessment"))\
            .scalars():
        level = orjson.loads(body)
        if level.get("level") in ("high", "critical"):
            high.append({"section_id": level.get("section_id"), "level": level.get("level")})
    high.sort(key=lambda x: (x["level"] != "critical", str(x["section_id"])))
    return Situation(since, now_us, total, sum(counts) / baseline_days,
                     ordered[int(0.1 * (baseline_days - 1))],
                     ordered[round(0.9 * (baseline_days - 1))], by_category,
                     sum(v for k, v in levels.items() if k in SERIOUS_LEVELS), alerts, high)


def _month(conn: sa.Connection) -> sa.ColumnElement[str]:
    """``YYYY-MM`` (UTC) of an event's time, in the database."""
    if conn.dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m", e.c.occurred_at / 1_000_000, "unixepoch")
    return sa.func.to_char(sa.func.to_timestamp(e.c.occurred_at / 1_000_000.0), "YYYY-MM")


def _first_nationality(conn: sa.Connection) -> sa.ColumnElement[str]:
    """The nationality of an event's first group of persons, read from its body in SQL."""
    if conn.dialect.name == "sqlite":
        return sa.func.json_extract(e.c.body, "$.persons[0].nationality")
    extracted: sa.ColumnElement[str] = sa.cast(e.c.body, JSONB)[
        ("persons", 0, "nationality")].astext
    return extracted


def monthly_counts_by(conn: sa.Connection, w: Window, *, by_route: bool = False
                      ) -> list[tuple[Any, ...]]:
    """Events per month of a window, by category, or by route (nationality, section, country).

    One GROUP BY instead of reading every body: the monthly products need a
    year or more of counts, which at a national centre is hundreds of
    thousands of events. A route's nationality is that of the event's first
    group of persons (null when none is given).
    """
    month = _month(conn).label("month")
    where = [*window_where(w), sa.or_(e.c.status.is_(None), e.c.status != "rejected")]
    if by_route:
        nationality = _first_nationality(conn).label("nationality")
        query = (sa.select(month, nationality, e.c.section_id, e.c.country, sa.func.count())
                 .where(*where).group_by(month, nationality, e.c.section_id, e.c.country))
    else:
        query = (sa.select(month, e.c.category, sa.func.count()).where(*where)
                 .group_by(month, e.c.category))
    return [tuple(row) for row in conn.execute(query)]
