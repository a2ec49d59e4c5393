"""Synthetic capacity inventories for the demo: plausible figures by terrain, one per section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from sitcen.analysis.vulnerability import SectionCapacity
from sitcen.geo import BorderSection


@dataclass(frozen=True)
class _Terrain:
    """What a kind of border line is like to hold (synthetic demo figures, *ours*)."""

    staff_per_10km: float  # officers on duty per shift
    patrol_h_per_km: float  # patrol hours per km a week
    vehicles_per_10km: float
    covered: float  # share of the line watched
    fenced: float  # share of the line fenced
    response_min: tuple[float, float]
    permeability: float


_TERRAINS: dict[str, _Terrain] = {
    "river": _Terrain(2.2, 4.0, 0.8, 0.45, 0.0, (15, 35), 0.45),
    "mountain": _Terrain(0.6, 1.2, 0.3, 0.10, 0.0, (60, 150), 0.20),
    "valley": _Terrain(2.0, 4.5, 1.0, 0.50, 0.25, (10, 30), 0.75),
    "steppe": _Terrain(0.5, 1.5, 0.6, 0.20, 0.10, (30, 75), 0.90),
    "guarded": _Terrain(1.5, 3.0, 1.2, 0.70, 0.50, (15, 40), 0.50),
}


_VALLEY_BORDERS = frozenset({"KG-TJ", "KG-UZ", "TJ-UZ"})


_GUARDED_BORDERS = frozenset({"CN-KZ", "CN-KG", "CN-TJ"})


def terrain_of(section: BorderSection) -> str:
    """The demo terrain class of a section: river, mountain, valley, steppe or guarded."""
    from sitcen.demo.scenario import is_high_pass, is_river

    border = "-".join(sorted(section.countries))
    centre = section.geometry.centroid
    if is_river(border, float(centre.x)):
        return "river"
    if border in _GUARDED_BORDERS:
        return "guarded"
    if is_high_pass(float(centre.x), float(centre.y)):
        return "mountain"
    return "valley" if border in _VALLEY_BORDERS else "steppe"


def synthetic_capacities(sections: Sequence[BorderSection], *, seed: int = 1,
                         assessed_on: date | None = None) -> list[SectionCapacity]:
    """Plausible, entirely synthetic capacity inventories for the demo, one per section.

    Deterministic for ``seed`` and each section id; figures follow the
    section's terrain (:func:`terrain_of`) and length, spread by +-40 %, so
    that the risk table has weak and strong sections to tell apart.
    """
    import zlib

    import numpy as np

    out = []
    for section in sections:
        rng = np.random.default_rng([seed, zlib.crc32(section.id.encode())])
        t = _TERRAINS[terrain_of(section)]
        km = max(round(section.length_km, 1), 0.1)

        def spread(value: float, rng: np.random.Generator = rng) -> float:
            return float(value * rng.uniform(0.6, 1.4))

        staff = max(1, round(spread(t.staff_per_10km) * km / 10))
        covered = min(km, round(km * min(1.0, spread(t.covered)), 1))
        watchers = max(0, round(covered / 4))
        out.append(SectionCapacity(
            section_id=section.id, length_km=km, staff_per_shift=staff,
            shifts_per_day=3 if staff >= 3 else 2,
            patrol_hours_per_week=round(spread(t.patrol_h_per_km) * km, 1),
            vehicles=max(1, round(spread(t.vehicles_per_10km) * km / 10)),
            sensors=int(rng.integers(0, watchers + 1)), cameras=watchers,
            towers=max(0, round(covered / 15)), covered_km=covered,
            fence_km=min(km, round(km * min(1.0, spread(t.fenced)), 1)),
            response_time_min=round(float(rng.uniform(*t.response_min))),
            terrain_permeability=round(min(1.0, spread(t.permeability)), 2),
            assessed_on=assessed_on))
    return out
