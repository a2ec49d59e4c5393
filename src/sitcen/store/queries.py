"""Reading the picture: events by time window, place, section, country and taxonomy.

Results come newest first (occurred_at, then id, descending) with an opaque
cursor for the next page. A bbox is answered cell by cell from the
(cell, occurred_at, id) index: each cell is one index range read in time
order and cut at the page size, so a page costs O(cells x page) rows read
whatever the number of events stored. Very large boxes fall back to the time
index with an exact lon/lat filter.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.grid import cell_inside, cells_in

MAX_CELLS_PER_QUERY = 48

e = schema.events


@dataclass(frozen=True)
class EventFilter:
    """What a query asks for; empty sequences and None mean "any"."""

    since: int | None = None
    until: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    section_ids: Sequence[str] = ()
    countries: Sequence[str] = ()
    categories: Sequence[str] = ()
    types: Sequence[str] = ()
    impact_levels: Sequence[str] = ()
    statuses: Sequence[str] = ()
    handlings: Sequence[str] = ()
    origins: Sequence[str] = field(default_factory=tuple)


class BadCursorError(ValueError):
    """The cursor given does not come from this API."""


def encode_cursor(occurred_at: int, event_id: str) -> str:
    """An opaque cursor for the position after (occurred_at, id)."""
    return base64.urlsafe_b64encode(f"{occurred_at}|{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The position an opaque cursor stands for."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, event_id = raw.split("|", 1)
        return int(at), str(uuid.UUID(event_id))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursorError("cursor is not one this API gave out") from exc


def _conditions(
    f: EventFilter, after: tuple[int, str] | None, *, bbox: bool = True
) -> list[sa.ColumnElement[bool]]:
    cond: list[sa.ColumnElement[bool]] = []
    if f.since is not None:
        cond.append(e.c.occurred_at >= f.since)
    if f.until is not None:
        cond.append(e.c.occurred_at < f.until)
    if bbox and f.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = f.bbox
        cond += [e.c.lon >= min_lon, e.c.lon <= max_lon, e.c.lat >= min_lat, e.c.lat <= max_lat]
    if f.countries:
        # A country's events: those it reported, and those placed on a section
        # of its borders (section ids are AA-BB-NNN, the two ISO codes sorted).
        cond.append(sa.or_(*(
            sa.or_(e.c.country == c, e.c.section_id.startswith(f"{c}-"),
                   e.c.section_id.like(f"__-{c}-%"))
            for c in f.countries
        )))
    for column, values in (
        (e.c.section_id, f.section_ids),
        (e.c.category, f.categories),
        (e.c.type, f.types),
        (e.c.impact_level, f.impact_levels),
        (e.c.status, f.statuses),
        (e.c.handling, f.handlings),
        (e.c.origin, f.origins),
    ):
        if values:
            cond.append(column.in_(list(values)))
    if after is not None:
        at, event_id = after
        cond.append(sa.or_(e.c.occurred_at < at, sa.and_(e.c.occurred_at == at, e.c.id < event_id)))
    return cond


def filter_conditions(f: EventFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of a query (for aggregates over the same events)."""
    return _conditions(f, None)


def _by_cells(
    f: EventFilter, bbox: tuple[float, float, float, float], cells: list[int],
    after: tuple[int, str] | None, limit: int,
) -> sa.Select[tuple[int, str, str]]:
    """Newest keys per cell, merged, then the bodies of the one page that wins.

    A cell lying wholly inside the bbox needs no lon/lat test, so its part is
    answered from the (cell, occurred_at, id) index alone (when no other filter
    applies); only the page's bodies are then read from the table.
    """
    clipped = _conditions(f, after)
    whole = _conditions(f, after, bbox=False)
    order = (e.c.occurred_at.desc(), e.c.id.desc())
    parts = [
        sa.select(e.c.occurred_at, e.c.id)
        .where(e.c.cell == cell, *(whole if cell_inside(cell, bbox) else clipped))
        .order_by(*order)
        .limit(limit + 1)
        for cell in cells
    ]
    keys = (
        parts[0] if len(parts) == 1
        else sa.select(sa.union_all(*(sa.select(p.subquery()) for p in parts)).subquery())
    ).subquery()
    page = (
        sa.select(keys.c.occurred_at, keys.c.id)
        .order_by(keys.c.occurred_at.desc(), keys.c.id.desc())
        .limit(limit + 1)
        .subquery()
    )
    return (
        sa.select(e.c.occurred_at, e.c.id, e.c.body)
        .join(page, page.c.id == e.c.id)
        .order_by(*order)
    )


def query_events(
    conn: sa.Connection, f: EventFilter, *, limit: int = 100, cursor: str | None = None
) -> tuple[list[str], str | None]:
    """One page of event bodies (JSON text) matching the filter, and the next cursor."""
    after = decode_cursor(cursor) if cursor else None
    cells = cells_in(f.bbox) if f.bbox is not None else []
    query: sa.Select[tuple[int, str, str]]
    if f.bbox is not None and len(cells) <= MAX_CELLS_PER_QUERY:
        query = _by_cells(f, f.bbox, cells, after, limit)
    else:
        query = (
            sa.select(e.c.occurred_at, e.c.id, e.c.body)
            .where(*_conditions(f, after))
            .order_by(e.c.occurred_at.desc(), e.c.id.desc())
            .limit(limit + 1)
        )
    rows = conn.execute(query).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][0], rows[-1][1])
    return [str(r[2]) for r in rows], next_cursor


def count_events(conn: sa.Connection) -> int:
    """How many events the node holds."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(e)).scalar_one())


def count_matching(conn: sa.Connection, f: EventFilter) -> int:
    """How many events match the filter (all pages together)."""
    query = sa.select(sa.func.count()).select_from(e).where(*_conditions(f, None))
    return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class EventExtent:
    """Where and when the node's events lie: lon/lat box of the located ones, time span."""

    bbox: tuple[float, float, float, float] | None
    first: int | None
    last: int | None


def event_extent(conn: sa.Connection) -> EventExtent:
    """The bounding box and the first and last ``occurred_at`` of all events."""
    lon_lat = conn.execute(sa.select(sa.func.min(e.c.lon), sa.func.min(e.c.lat),
                                     sa.func.max(e.c.lon), sa.func.max(e.c.lat))).one()
    first, last = conn.execute(sa.select(sa.func.min(e.c.occurred_at),
                                         sa.func.max(e.c.occurred_at))).one()
    bbox = None if lon_lat[0] is None else (
        float(lon_lat[0]), float(lon_lat[1]), float(lon_lat[2]), float(lon_lat[3]))
    return EventExtent(bbox, None if first is None else int(first),
                       None if last is None else int(last))


# What a map and a list of events need of each one (GET /api/v1/events/columns).
SUMMARY_COLUMNS = ("id", "version", "occurred_at", "lon", "lat", "category", "type",
                   "impact_level", "status", "section_id")


def event_columns(
    conn: sa.Connection, f: EventFilter, *, limit: int
) -> tuple[dict[str, list[Any]], bool]:
    """The summary columns of the newest ``limit`` matching events, and whether more matched.

    One query in (occurred_at, id) descending order reading only the summary
    columns, never the bodies, so a whole window fits in one answer.
    """
    query = (
        sa.select(*(e.c[name] for name in SUMMARY_COLUMNS))
        .where(*_conditions(f, None))
        .order_by(e.c.occurred_at.desc(), e.c.id.desc())
        .limit(limit + 1)
    )
    rows = conn.execute(query).all()
    truncated = len(rows) > limit
    values = list(zip(*rows[:limit], strict=True)) or [()] * len(SUMMARY_COLUMNS)
    return {name: list(v) for name, v in zip(SUMMARY_COLUMNS, values, strict=True)}, truncated
