"""The spatial grid behind bbox queries: 0.5-degree cells numbered row by row."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

CELLS_PER_DEGREE = 2
_COLUMNS = 360 * CELLS_PER_DEGREE
_ROWS = 180 * CELLS_PER_DEGREE


def cell_of(lons: npt.NDArray[np.float64], lats: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Cell number of each point (vectorised)."""
    col = np.clip(np.floor((lons + 180.0) * CELLS_PER_DEGREE), 0, _COLUMNS - 1).astype(np.int64)
    row = np.clip(np.floor((lats + 90.0) * CELLS_PER_DEGREE), 0, _ROWS - 1).astype(np.int64)
    return row * _COLUMNS + col


def cell_of_point(lon: float, lat: float) -> int:
    """Cell number of one point (same numbering as :func:`cell_of`, without numpy)."""
    col = min(max(math.floor((lon + 180.0) * CELLS_PER_DEGREE), 0), _COLUMNS - 1)
    row = min(max(math.floor((lat + 90.0) * CELLS_PER_DEGREE), 0), _ROWS - 1)
    return row * _COLUMNS + col


def cells_in(bbox: tuple[float, float, float, float]) -> list[int]:
    """Every cell a bbox (min lon, min lat, max lon, max lat) touches, in order."""
    min_lon, min_lat, max_lon, max_lat = bbox
    c0 = max(0, math.floor((min_lon + 180.0) * CELLS_PER_DEGREE))
    c1 = min(_COLUMNS - 1, math.floor((max_lon + 180.0) * CELLS_PER_DEGREE))
    r0 = max(0, math.floor((min_lat + 90.0) * CELLS_PER_DEGREE))
    r1 = min(_ROWS - 1, math.floor((max_lat + 90.0) * CELLS_PER_DEGREE))
    return [r * _COLUMNS + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def cell_inside(cell: int, bbox: tuple[float, float, float, float]) -> bool:
    """Whether a cell lies wholly inside a bbox (its points then need no lon/lat test)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    row, col = divmod(cell, _COLUMNS)
    lon0 = col / CELLS_PER_DEGREE - 180.0
    lat0 = row / CELLS_PER_DEGREE - 90.0
    size = 1.0 / CELLS_PER_DEGREE
    return min_lon <= lon0 and lon0 + size <= max_lon and min_lat <= lat0 and lat0 + size <= max_lat
