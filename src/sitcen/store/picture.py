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

from sitcen.store import schema
from sitcen.store.stats import Window, window_where

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


def binned(conn: sa.Connection, w: Window, size_deg: float,
           extra: Sequence[sa.ColumnElement[bool]] = ()) -> list[Bin]:
    """Events of the window counted per grid cell of ``size_deg`` degrees (cells with events).

    ``extra`` narrows the events further (the console's filters). Each bin
    stands at the mean position of its events, so a lone cluster is drawn where
    it is, not at a cell corner. Events without a location are left out.
    """
    ix = _floor(conn, (e.c.lon + 180.0) / size_deg).label("ix")
    iy = _floor(conn, (e.c.lat + 90.0) / size_deg).label("iy")
    where = [*window_where(w), e.c.lon.isnot(None), e.c.lat.isnot(None), *extra]
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


def records_of_kinds(conn: sa.Connection, kinds: Sequence[str]) -> list[RecordVersion]:
    """Current versions of every record of the given kinds (kinds this node may not know yet)."""
    r = schema.records
    return [RecordVersion(row.id, row.origin, row.version, row.recorded_at,
                          orjson.loads(row.body))
            for row in conn.execute(sa.select(r.c.id, r.c.origin, r.c.version, r.c.recorded_at,
                                              r.c.body).where(r.c.kind.in_(list(kinds)))
                                    .order_by(r.c.recorded_at))]
