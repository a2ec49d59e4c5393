"""The border sections as flat arrays of projected segments, for placing events in bulk.

Each section becomes a run of straight segments in the Lambert projection of
:mod:`sitcen.geo` (km), with the side each country lies on and the crossing
points near it, so that :func:`along` finds points on thousands of sections
at once. Built once for the shipped sections. Nothing here draws at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from sitcen.demo.scenario_tables import (
    CENTRAL_ASIA,
    F64,
    I8,
    Bool,
    IntP,
    country_code,
    is_high_pass,
    is_river,
)
from sitcen.geo import (
    BorderSection,
    load_countries,
    load_crossing_points,
    load_default_sections,
    project,
    unproject,
)


@dataclass
class BorderGeometry:
    """Border sections as flat arrays of projected segments, for vectorised placement."""

    sections: tuple[BorderSection, ...]
    border: list[str]
    lon: F64
    lat: F64
    high_pass: Bool
    river: Bool
    side_a: I8  # per country pair: who may report (index into COUNTRIES), A and B
    side_b: I8
    p_report_a: F64
    seg_first: IntP  # per section: first segment and number of segments
    seg_count: IntP
    x0: F64
    y0: F64
    dx: F64
    dy: F64
    length: F64
    cum: F64  # cumulative length at segment start, within its section
    left_is_a: I8  # +1 if country A lies to the left of the segment, -1 right, 0 unknown
    bcp_first: IntP
    bcp_count: IntP
    bcp_x: F64
    bcp_y: F64


def build_geometry(sections: Sequence[BorderSection]) -> BorderGeometry:
    """The arrays of these sections (sorted by id), with their crossing points."""
    sections = tuple(sorted(sections, key=lambda s: s.id))
    countries = load_countries()
    parts: list[tuple[F64, F64, int, float]] = []  # x, y, section rank, side sign
    seg_first: list[int] = []
    seg_count: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    high: list[bool] = []
    river: list[bool] = []
    border: list[str] = []
    side_a: list[int] = []
    side_b: list[int] = []
    p_a: list[float] = []
    projected: list[Any] = []
    n = 0
    for rank, s in enumerate(sections):
        a, b = s.countries
        key = f"{a}-{b}"
        c = s.geometry.centroid
        lon.append(c.x)
        lat.append(c.y)
        border.append(key)
        high.append(is_high_pass(c.x, c.y))
        river.append(is_river(key, c.x))
        side_a.append(country_code(a))
        side_b.append(country_code(b))
        p_a.append(0.5 if (a in CENTRAL_ASIA) == (b in CENTRAL_ASIA) else float(a in CENTRAL_ASIA))
        seg_first.append(n)
        lines = []
        for line in shapely.get_parts(s.geometry):
            xy = shapely.get_coordinates(line)
            x, y = project(xy[:, 0], xy[:, 1])
            lines.append(np.column_stack([x, y]))
            keep = np.flatnonzero((np.diff(x) != 0) | (np.diff(y) != 0))
            # Which country lies left of this line: probe 2 km off a few segments.
            probe = keep[np.linspace(0, keep.size - 1, min(5, keep.size)).astype(int)]
            ddx, ddy = x[probe + 1] - x[probe], y[probe + 1] - y[probe]
            norm = np.hypot(ddx, ddy)
            px, py = (x[probe] + ddx / 2 - 2 * ddy / norm, y[probe] + ddy / 2 + 2 * ddx / norm)
            plon, plat = unproject(px, py)
            votes = 0
            if a in countries:
                votes += int(shapely.contains_xy(countries[a].geometry, plon, plat).sum())
            if b in countries:
                votes -= int(shapely.contains_xy(countries[b].geometry, plon, plat).sum())
            parts.append((x[np.r_[keep, keep[-1] + 1]], y[np.r_[keep, keep[-1] + 1]], rank,
                          float(np.sign(votes))))
            n += keep.size
        seg_count.append(n - seg_first[-1])
        projected.append(shapely.multilinestrings(lines))
    xs = np.concatenate([p[0][:-1] for p in parts])
    ys = np.concatenate([p[1][:-1] for p in parts])
    dx = np.concatenate([np.diff(p[0]) for p in parts])
    dy = np.concatenate([np.diff(p[1]) for p in parts])
    length = np.hypot(dx, dy)
    left = np.concatenate([np.full(p[0].size - 1, p[3]) for p in parts]).astype(np.int8)
    first = np.array(seg_first, dtype=np.intp)
    count = np.array(seg_count, dtype=np.intp)
    cum = np.cumsum(length) - length
    cum -= np.repeat(cum[first], count)
    # Crossing points: each goes to the nearest section of its border within 30 km.
    pair_of = {tuple(s.countries): i for i, s in enumerate(sections)}
    bcps: dict[int, list[tuple[float, float]]] = {}
    for p in load_crossing_points():
        if tuple(p.countries) not in pair_of:
            continue
        bx, by = project(p.lon, p.lat)
        cands = [i for i, s in enumerate(sections) if s.countries == p.countries]
        d = [float(shapely.distance(projected[i], shapely.Point(float(bx), float(by))))
             for i in cands]
        if min(d) <= 30:
            bcps.setdefault(cands[int(np.argmin(d))], []).append((float(bx), float(by)))
    bcp_count = np.array([len(bcps.get(i, [])) for i in range(len(sections))], dtype=np.intp)
    flat = [xy for i in range(len(sections)) for xy in bcps.get(i, [])]
    return BorderGeometry(
        sections, border, np.array(lon), np.array(lat), np.array(high), np.array(river),
        np.array(side_a, dtype=np.int8), np.array(side_b, dtype=np.int8), np.array(p_a),
        first, count, xs, ys, dx, dy, length, cum, left,
        np.cumsum(bcp_count) - bcp_count, bcp_count,
        np.array([f[0] for f in flat], dtype=np.float64),
        np.array([f[1] for f in flat], dtype=np.float64))


def along(geo: BorderGeometry, sec: IntP, u: F64) -> tuple[F64, F64, F64, F64, I8]:
    """Points at fraction ``u`` of each section's length: x, y, unit normal (left), side sign."""
    last = geo.seg_first + geo.seg_count - 1
    total = geo.cum[last] + geo.length[last]
    target = u * total[sec]
    seg = geo.seg_first[sec].copy()
    # Binary search within each section's own run of segments, all sections at once.
    lo, hi = np.zeros_like(seg), geo.seg_count[sec] - 1
    while np.any(lo < hi):
        mid = (lo + hi + 1) // 2
        up = geo.cum[seg + mid] <= target
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid - 1)
    seg += lo
    t = np.clip((target - geo.cum[seg]) / geo.length[seg], 0.0, 1.0)
    nx, ny = -geo.dy[seg] / geo.length[seg], geo.dx[seg] / geo.length[seg]
    return geo.x0[seg] + t * geo.dx[seg], geo.y0[seg] + t * geo.dy[seg], nx, ny, geo.left_is_a[seg]


_GEOMETRY: dict[tuple[BorderSection, ...] | None, BorderGeometry] = {}


def geometry_of(sections: tuple[BorderSection, ...] | None) -> BorderGeometry:
    """Geometry arrays for these sections (the shipped ones are built once)."""
    if sections is None:
        if None not in _GEOMETRY:
            _GEOMETRY[None] = build_geometry(load_default_sections())
        return _GEOMETRY[None]
    return build_geometry(sections)
