"""Counts for the dashboard: events per category over time, busiest sections and their trend.

Every figure is one SQL GROUP BY over the events table, on SQLite and
PostgreSQL alike. Times are integer microseconds (store/schema.py), so a day
or a week is an integer division of ``occurred_at`` shifted by the viewer's
UTC offset: days start at local midnight, weeks on Monday.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from sitcen.store import schema

e = schema.events

DAY_US = 86_400 * 1_000_000
WEEK_US = 7 * DAY_US
# 1970-01-01 was a Thursday: shifting by three days makes week buckets start on Monday.
_MONDAY_SHIFT_US = 3 * DAY_US


@dataclass(frozen=True)
class Window:
    """A time window [since, until) in microseconds, and the viewer's UTC offset."""

    since: int
    until: int
    offset_us: int = 0
    countries: Sequence[str] = ()
    #: Section ids or whole borders (``KG-TJ-*``); events on none of them are left out.
    sections: Sequence[str] = ()


def _bucket_shift(bucket_us: int, offset_us: int) -> int:
    return offset_us + (_MONDAY_SHIFT_US if bucket_us == WEEK_US else 0)


def bucket_start(index: int, bucket_us: int, offset_us: int) -> int:
    """The UTC start (microseconds) of bucket number ``index``."""
    return index * bucket_us - _bucket_shift(bucket_us, offset_us)


def bucket_index(at: int, bucket_us: int, offset_us: int) -> int:
    """The number of the bucket a time falls in."""
    return (at + _bucket_shift(bucket_us, offset_us)) // bucket_us


def window_where(w: Window) -> list[sa.ColumnElement[bool]]:
    cond: list[sa.ColumnElement[bool]] = [e.c.occurred_at >= w.since, e.c.occurred_at < w.until]
    if w.countries:
        cond.append(sa.or_(*(
            sa.or_(e.c.country == c, e.c.section_id.startswith(f"{c}-"),
                   e.c.section_id.like(f"__-{c}-%"))
            for c in w.countries
        )))
    if w.sections:
        exact = [p for p in w.sections if not p.endswith("*")]
        borders = [p[:-1] for p in w.sections if p.endswith("*")]
        cond.append(sa.or_(*([e.c.section_id.in_(exact)] if exact else []),
                           *(e.c.section_id.startswith(b) for b in borders)))
    return cond


def _bucket_expr(bucket_us: int, offset_us: int) -> sa.ColumnElement[int]:
    # Integer floor division renders as plain integer "/" on both backends;
    # every shifted time is positive, so truncation and floor agree.
    shifted = e.c.occurred_at + sa.literal(_bucket_shift(bucket_us, offset_us), sa.BigInteger)
    return shifted // sa.literal(bucket_us, sa.BigInteger)


def per_category(conn: sa.Connection, w: Window, bucket_us: int) -> dict[str, dict[int, int]]:
    """Event counts by category and bucket number: ``{category: {bucket: count}}``."""
    bucket = _bucket_expr(bucket_us, w.offset_us).label("bucket")
    rows = conn.execute(
        sa.select(e.c.category, bucket, sa.func.count().label("n"))
        .where(*window_where(w))
        .group_by(e.c.category, bucket)
    )
    out: dict[str, dict[int, int]] = {}
    for category, b, n in rows:
        out.setdefault(str(category), {})[int(b)] = int(n)
    return out


def per_section(conn: sa.Connection, w: Window) -> dict[str, int]:
    """Event counts per border section in the window (events on no section left out)."""
    rows = conn.execute(
        sa.select(e.c.section_id, sa.func.count())
        .where(*window_where(w), e.c.section_id.isnot(None))
        .group_by(e.c.section_id)
    )
    return {str(s): int(n) for s, n in rows}


@dataclass(frozen=True)
class SectionTrend:
    """A section's count in the window, in the window of equal length before, and the change."""

    section_id: str
    count: int
    previous: int

    @property
    def change(self) -> float | None:
        """Relative change against the previous window (None when it had no events)."""
        if self.previous == 0:
            return None
        return (self.count - self.previous) / self.previous


def top_sections(conn: sa.Connection, w: Window, limit: int) -> list[SectionTrend]:
    """The busiest sections of the window, most events first, with the previous window's count."""
    now = per_section(conn, w)
    length = w.until - w.since
    before = per_section(conn, Window(w.since - length, w.since, w.offset_us, w.countries,
                                      w.sections))
    ranked = sorted(now.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [SectionTrend(s, n, before.get(s, 0)) for s, n in ranked]


def section_days(conn: sa.Connection, w: Window,
                 section_ids: Sequence[str]) -> dict[str, dict[int, int]]:
    """Daily event counts of the given sections: ``{section: {day number: count}}``."""
    if not section_ids:
        return {}
    day = _bucket_expr(DAY_US, w.offset_us).label("day")
    rows = conn.execute(
        sa.select(e.c.section_id, day, sa.func.count())
        .where(*window_where(w), e.c.section_id.in_(list(section_ids)))
        .group_by(e.c.section_id, day)
    )
    out: dict[str, dict[int, int]] = {s: {} for s in section_ids}
    for s, d, n in rows:
        out[str(s)][int(d)] = int(n)
    return out
