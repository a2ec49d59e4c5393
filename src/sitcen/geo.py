"""Reference geography: land border sections, border crossing points, assignment.

A *border section* is a piece of a land border (about 50 km in the shipped
data) with a stable id such as ``KG-TJ-007``. Events, assets and assessments
refer to sections by id. :class:`SectionIndex` assigns positions to the
nearest section within a maximum distance, or marks them inland.

The shipped geometry is Natural Earth 1:10m (see ``docs/geography.md``); it can
be ~10 km off the real line, so nothing here decides which *country* a point
near a border belongs to.

This module knows no database and no HTTP: numpy and shapely only.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, MultiLineString

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

#: Default radius within which a position is assigned to a border section.
DEFAULT_MAX_KM = 25.0
#: Default margin around any border within which :func:`country_at` refuses to answer.
DEFAULT_COUNTRY_MARGIN_KM = 15.0

#: English and Russian short names of the countries in the shipped data.
COUNTRY_NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "AF": ("Afghanistan", "Афганистан"),
        "CN": ("China", "Китай"),
        "IR": ("Iran", "Иран"),
        "KG": ("Kyrgyzstan", "Кыргызстан"),
        "KZ": ("Kazakhstan", "Казахстан"),
        "RU": ("Russia", "Россия"),
        "TJ": ("Tajikistan", "Таджикистан"),
        "TM": ("Turkmenistan", "Туркменистан"),
        "UZ": ("Uzbekistan", "Узбекистан"),
    }
)

_SECTION_ID = re.compile(r"^([A-Z]{2})-([A-Z]{2})-(\d{3})$")
_ISO2 = re.compile(r"^[A-Z]{2}$")
_BCP_KINDS = frozenset({"road", "rail", "road+rail"})
_BCP_STATUSES = frozenset({"open", "closed", "limited"})

# WGS84 ellipsoid, kilometres.
_WGS84_A = 6378.137
_WGS84_F = 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)

# Spherical Lambert conformal conic for Central Asia (no pyproj at run time).
# Standard parallels 37°N and 50°N keep the scale error within about ±1.5 %
# over 35–55°N; distances are corrected by the local scale factor anyway.
_R = 6371.0088
_LAT1, _LAT2, _LAT0, _LON0 = (math.radians(v) for v in (37.0, 50.0, 44.0, 68.0))


def _t(phi: float) -> float:
    return math.tan(math.pi / 4 + phi / 2)


_N = math.log(math.cos(_LAT1) / math.cos(_LAT2)) / math.log(_t(_LAT2) / _t(_LAT1))
_F = math.cos(_LAT1) * _t(_LAT1) ** _N / _N
_RHO0 = _R * _F / _t(_LAT0) ** _N


class GeographyError(ValueError):
    """Invalid geographic input (e.g. a custom border-section file); the message says where."""


@dataclass(frozen=True)
class BorderSection:
    """A piece of a land border between two countries, identified by a stable id."""

    id: str
    name: str
    name_ru: str
    countries: tuple[str, str]
    length_km: float
    geometry: Any  # shapely LineString or MultiLineString, lon/lat WGS84

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Bounding box ``(min_lon, min_lat, max_lon, max_lat)`` of the section."""
        b = self.geometry.bounds
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


@dataclass(frozen=True)
class CrossingPoint:
    """A border crossing point (BCP); its position is approximate to ``precision_m``."""

    id: str
    name: str
    name_ru: str
    countries: tuple[str, str]
    lon: float
    lat: float
    kind: str
    status: str
    precision_m: int


@dataclass(frozen=True)
class Country:
    """A country outline (neighbours of the five Central Asian states are clipped)."""

    iso2: str
    iso3: str
    name: str
    name_ru: str
    geometry: Any  # shapely Polygon or MultiPolygon, lon/lat WGS84


@dataclass(frozen=True)
class Assignment:
    """Result of :meth:`SectionIndex.assign`, element-wise for the input positions.

    ``section_ids[i]`` is the nearest section's id, or ``None`` when the position
    is farther than ``max_km`` from every section (inland) or invalid.
    ``distance_km[i]`` is the distance to the nearest section, inland or not
    (``nan`` for invalid positions).
    """

    section_ids: ObjectArray
    distance_km: FloatArray

    @property
    def inland(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of positions assigned to no section."""
        return np.asarray(self.section_ids == None, dtype=bool)  # noqa: E711  (element-wise)


# ---------------------------------------------------------------------------
# Measures and projection


BBox = tuple[float, float, float, float]


def check_bbox(values: Sequence[float]) -> BBox:
    """A bounding box, checked by the one rule set every bbox in sitcen obeys.

    Four WGS84 numbers in degrees, in the order ``min_lon, min_lat, max_lon,
    max_lat`` (as GeoJSON and OGC API write them); each finite, longitudes in
    -180..180, latitudes in -90..90; a minimum not above its maximum (a box
    may shrink to a line or a point, and is inclusive at its edges). A box
    crossing the antimeridian (``min_lon > max_lon``, as GeoJSON allows) is
    refused: no sitcen border comes near it, and the answer says to send two
    boxes. Raises :class:`ValueError` saying which rule is broken.
    """
    if len(values) != 4:
        raise ValueError("a bbox is four numbers: min_lon,min_lat,max_lon,max_lat (degrees)")
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise ValueError("a bbox is four finite numbers: min_lon,min_lat,max_lon,max_lat")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180
            and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("bbox corners out of range: longitudes -180..180, latitudes -90..90")
    if min_lat > max_lat:
        raise ValueError("bbox latitudes in the wrong order: min_lon,min_lat,max_lon,max_lat")
    if min_lon > max_lon:
        raise ValueError("a bbox crossing the antimeridian (min_lon > max_lon) is not "
                         "supported; send the two boxes on either side of it")
    return min_lon, min_lat, max_lon, max_lat


def parse_bbox(text: str, *, heights: bool = False) -> BBox:
    """A bounding box written as text, ``min_lon,min_lat,max_lon,max_lat`` (:func:`check_bbox`).

    With ``heights``, the six-number form of OGC API Features
    (``min_lon,min_lat,min_height,max_lon,max_lat,max_height``) is read too
    and its heights are ignored.
    """
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError("a bbox is four numbers: min_lon,min_lat,max_lon,max_lat "
                         "(degrees)") from None
    if heights and len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    return check_bbox(numbers)


def geodesic_length_km(lons: npt.ArrayLike, lats: npt.ArrayLike) -> float:
    """Length in km on the WGS84 ellipsoid of the polyline through the given vertices.

    Each segment is measured with the local radii of curvature at its mid
    latitude, which is exact to better than 0.01 % for segments under 50 km.
    """
    seg = segment_lengths_km(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
    return float(seg.sum())


def segment_lengths_km(lons: FloatArray, lats: FloatArray) -> FloatArray:
    """Ellipsoidal lengths in km of the segments between consecutive vertices."""
    phi = np.radians(lats)
    lam = np.radians(lons)
    phim = (phi[1:] + phi[:-1]) / 2
    s2 = np.sin(phim) ** 2
    w = np.sqrt(1 - _WGS84_E2 * s2)
    meridional = _WGS84_A * (1 - _WGS84_E2) / w**3
    normal = _WGS84_A / w
    dn = meridional * np.diff(phi)
    de = normal * np.cos(phim) * np.diff(lam)
    return np.asarray(np.hypot(dn, de), dtype=np.float64)


def project(lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Project lon/lat degrees to Central Asia Lambert conformal conic x/y in km."""
    lam = np.radians(np.asarray(lons, dtype=np.float64))
    phi = np.radians(np.asarray(lats, dtype=np.float64))
    rho = _R * _F / np.tan(np.pi / 4 + phi / 2) ** _N
    theta = _N * (lam - _LON0)
    return rho * np.sin(theta), _RHO0 - rho * np.cos(theta)


def unproject(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`project`: x/y km back to lon/lat degrees."""
    xa = np.asarray(x, dtype=np.float64)
    dy = _RHO0 - np.asarray(y, dtype=np.float64)
    rho = np.hypot(xa, dy)
    theta = np.arctan2(xa, dy)
    phi = 2 * np.arctan((_R * _F / rho) ** (1 / _N)) - np.pi / 2
    return np.degrees(theta / _N + _LON0), np.degrees(phi)


def scale_factor(lats: npt.ArrayLike) -> FloatArray:
    """Point scale factor of the (conformal) projection at the given latitudes."""
    phi = np.radians(np.asarray(lats, dtype=np.float64))
    rho = _R * _F / np.tan(np.pi / 4 + phi / 2) ** _N
    return np.asarray(rho * _N / (_R * np.cos(phi)), dtype=np.float64)


def _project_geometry(geom: Any) -> Any:
    def fn(coords: FloatArray) -> FloatArray:
        x, y = project(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


# ---------------------------------------------------------------------------
# Parsing and loading


def section_countries(section_id: str) -> tuple[str, str]:
    """The two ISO2 country codes of a section id such as ``KG-TJ-007``."""
    m = _SECTION_ID.match(section_id)
    if m is None:
        raise GeographyError(f"section id {section_id!r} is not of the form AA-BB-NNN")
    return (m.group(1), m.group(2))


def section_name(countries: tuple[str, str], number: int) -> tuple[str, str]:
    """English and Russian display names of section ``number`` of a border."""
    a, b = (COUNTRY_NAMES.get(c, (c, c)) for c in countries)
    return (f"{a[0]}–{b[0]} section {number}", f"{a[1]}–{b[1]}, участок {number}")


def _check_position(where: str, pos: Any) -> tuple[float, float]:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
        raise GeographyError(f"{where}: a position must be [lon, lat], got {pos!r}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos):
        raise GeographyError(f"{where}: position {pos!r} has a non-numeric value")
    lon, lat = float(pos[0]), float(pos[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeographyError(f"{where}: position {pos!r} is not finite")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise GeographyError(f"{where}: position {pos!r} is outside WGS84 lon/lat range")
    return lon, lat


def _parse_line(where: str, coords: Any) -> list[tuple[float, float]]:
    if not isinstance(coords, list) or len(coords) < 2:
        raise GeographyError(f"{where}: a line needs at least two positions")
    points = [_check_position(f"{where}, position {j}", p) for j, p in enumerate(coords)]
    if len(set(points)) < 2:
        raise GeographyError(f"{where}: a line needs two distinct positions")
    return points


def _parse_section_geometry(where: str, geometry: Any) -> list[list[tuple[float, float]]]:
    if not isinstance(geometry, dict):
        raise GeographyError(f"{where}: geometry is missing")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "LineString":
        return [_parse_line(where, coords)]
    if kind == "MultiLineString":
        if not isinstance(coords, list) or not coords:
            raise GeographyError(f"{where}: MultiLineString has no lines")
        return [_parse_line(f"{where}, line {j}", c) for j, c in enumerate(coords)]
    raise GeographyError(f"{where}: geometry must be a LineString or MultiLineString, not {kind!r}")


def _features(data: Any, what: str) -> list[Any]:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise GeographyError(f"{what}: expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise GeographyError(f"{what}: the FeatureCollection has no features")
    return features


def sections_from_geojson(data: dict[str, Any]) -> list[BorderSection]:
    """Parse and strictly validate a GeoJSON FeatureCollection of border sections.

    Each feature needs ``properties.id`` of the form ``AA-BB-NNN`` (two ISO2
    codes in alphabetical order and a three-digit number) and a LineString or
    MultiLineString geometry in WGS84 lon/lat. ``countries`` (if given) must
    match the id; ``name``/``name_ru`` default to generated names and
    ``length_km`` is computed when absent. Raises :class:`GeographyError`
    naming the offending feature index and the problem.
    """
    sections: list[BorderSection] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(_features(data, "border sections")):
        where = f"feature {i}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise GeographyError(f"{where}: not a GeoJSON Feature")
        props = feature.get("properties")
        if not isinstance(props, dict):
            raise GeographyError(f"{where}: properties are missing")
        sid = props.get("id", feature.get("id"))
        if sid is None:
            raise GeographyError(f"{where}: missing id")
        if not isinstance(sid, str):
            raise GeographyError(f"{where}: id must be a string, got {sid!r}")
        m = _SECTION_ID.match(sid)
        if m is None:
            raise GeographyError(
                f"{where}: id {sid!r} is not of the form AA-BB-NNN (e.g. KG-TJ-007)"
            )
        where = f"feature {i} ({sid})"
        if sid in seen:
            raise GeographyError(f"{where}: duplicate id, first used by feature {seen[sid]}")
        seen[sid] = i
        a, b = m.group(1), m.group(2)
        if a >= b:
            raise GeographyError(
                f"{where}: the two country codes in the id must be distinct and alphabetical"
            )
        countries = props.get("countries", [a, b])
        if (
            not isinstance(countries, list | tuple)
            or len(countries) != 2
            or not all(isinstance(c, str) and _ISO2.match(c) for c in countries)
        ):
            raise GeographyError(f"{where}: countries must be two ISO2 codes, got {countries!r}")
        if tuple(countries) != (a, b):
            raise GeographyError(f"{where}: countries {countries!r} do not match the id")
        lines = _parse_section_geometry(where, feature.get("geometry"))
        length = props.get("length_km")
        if length is None:
            length = round(sum(geodesic_length_km(*zip(*ln, strict=True)) for ln in lines), 1)
        elif isinstance(length, bool) or not isinstance(length, int | float) or not length > 0:
            raise GeographyError(f"{where}: length_km must be a positive number, got {length!r}")
        default_name, default_ru = section_name((a, b), int(m.group(3)))
        name = props.get("name", default_name)
        name_ru = props.get("name_ru", default_ru)
        if not isinstance(name, str) or not name.strip():
            raise GeographyError(f"{where}: name must be a non-empty string")
        if not isinstance(name_ru, str) or not name_ru.strip():
            raise GeographyError(f"{where}: name_ru must be a non-empty string")
        geometry = LineString(lines[0]) if len(lines) == 1 else MultiLineString(lines)
        sections.append(BorderSection(sid, name, name_ru, (a, b), float(length), geometry))
    return sections


def crossing_points_from_geojson(data: dict[str, Any]) -> list[CrossingPoint]:
    """Parse and validate a GeoJSON FeatureCollection of border crossing points."""
    points: list[CrossingPoint] = []
    seen: set[str] = set()
    for i, feature in enumerate(_features(data, "crossing points")):
        where = f"feature {i}"
        props = feature.get("properties") if isinstance(feature, dict) else None
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or not isinstance(geometry, dict):
            raise GeographyError(f"{where}: not a GeoJSON Feature with properties and geometry")
        pid = props.get("id")
        if not isinstance(pid, str) or not pid or pid in seen:
            raise GeographyError(f"{where}: missing or duplicate id {pid!r}")
        seen.add(pid)
        if geometry.get("type") != "Point":
            raise GeographyError(f"{where} ({pid}): geometry must be a Point")
        lon, lat = _check_position(f"{where} ({pid})", geometry.get("coordinates"))
        countries = props.get("countries")
        if not (
            isinstance(countries, list)
            and len(countries) == 2
            and all(isinstance(c, str) and _ISO2.match(c) for c in countries)
        ):
            raise GeographyError(f"{where} ({pid}): countries must be two ISO2 codes")
        if props.get("kind") not in _BCP_KINDS or props.get("status") not in _BCP_STATUSES:
            raise GeographyError(f"{where} ({pid}): unknown kind or status")
        points.append(
            CrossingPoint(
                id=pid,
                name=str(props["name"]),
                name_ru=str(props["name_ru"]),
                countries=(countries[0], countries[1]),
                lon=lon,
                lat=lat,
                kind=str(props["kind"]),
                status=str(props["status"]),
                precision_m=int(props["precision_m"]),
            )
        )
    return points


def _read_data(name: str) -> Any:
    return json.loads(resources.files("sitcen").joinpath("data").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def _default_sections() -> tuple[BorderSection, ...]:
    return tuple(sections_from_geojson(_read_data("border_sections.geojson")))


@lru_cache(maxsize=1)
def _crossing_points() -> tuple[CrossingPoint, ...]:
    return tuple(crossing_points_from_geojson(_read_data("crossing_points.geojson")))


@lru_cache(maxsize=1)
def _countries() -> Mapping[str, Country]:
    out: dict[str, Country] = {}
    for feature in _read_data("countries.geojson")["features"]:
        p = feature["properties"]
        geom = shapely.from_geojson(json.dumps(feature["geometry"]))
        if not geom.is_valid:
            # The quantized source has a few rings touching themselves (e.g. KZ
            # near the Volga delta); repair so that containment tests are sound.
            parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(geom)))
            polys = [q for q in parts if q.geom_type == "Polygon"]
            geom = shapely.MultiPolygon(polys)
        out[p["iso2"]] = Country(p["iso2"], p["iso3"], p["name"], p["name_ru"], geom)
    return MappingProxyType(out)


def load_countries() -> Mapping[str, Country]:
    """The shipped country outlines by ISO2 code (read once, cached)."""
    return _countries()


def load_default_sections() -> list[BorderSection]:
    """The shipped land border sections, sorted by id (read once, cached)."""
    return list(_default_sections())


def load_crossing_points() -> list[CrossingPoint]:
    """The shipped starter list of border crossing points (read once, cached)."""
    return list(_crossing_points())


@lru_cache(maxsize=1)
def default_index() -> SectionIndex:
    """A :class:`SectionIndex` over the shipped sections (built once, cached)."""
    return SectionIndex(_default_sections())


# ---------------------------------------------------------------------------
# Assignment


# Above this many inland positions in one call, the grid search is the faster one.
GRID_SEARCH_FROM = 30_000


class SectionIndex:
    """Spatial index assigning positions to the nearest border section.

    The rule: a position belongs to the nearest section if that section is
    within ``max_km``; otherwise it is inland. Distances are measured in a
    Lambert conformal conic projection for Central Asia and corrected by the
    local scale factor. Equidistant sections are broken by smallest id.
    """

    def __init__(self, sections: Sequence[BorderSection]) -> None:
        if not sections:
            raise GeographyError("a section index needs at least one border section")
        ordered = sorted(sections, key=lambda s: s.id)
        for prev, cur in pairwise(ordered):
            if prev.id == cur.id:
                raise GeographyError(f"duplicate section id {cur.id!r}")
        self.sections: tuple[BorderSection, ...] = tuple(ordered)
        self._by_id = {s.id: s for s in ordered}
        self._ids: ObjectArray = np.array([s.id for s in ordered] + [None], dtype=object)
        starts: list[FloatArray] = []
        ranks: list[npt.NDArray[np.intp]] = []
        for rank, section in enumerate(ordered):
            for line in shapely.get_parts(section.geometry):
                xy = shapely.get_coordinates(line)
                x, y = project(xy[:, 0], xy[:, 1])
                pts = np.column_stack([x, y])
                seg = np.stack([pts[:-1], pts[1:]], axis=1)
                keep = np.any(seg[:, 0] != seg[:, 1], axis=1)  # drop repeated vertices
                starts.append(seg[keep])
                ranks.append(np.full(int(keep.sum()), rank, dtype=np.intp))
        # One item per segment, in rank order: cheap nearest tests, and the first
        # of equidistant segments is always the one of the smallest section id.
        segments = np.concatenate(starts)
        self._seg_a: FloatArray = segments[:, 0]
        self._seg_d: FloatArray = segments[:, 1] - segments[:, 0]
        self._seg_len2: FloatArray = np.einsum("ij,ij->i", self._seg_d, self._seg_d)
        self._segment_rank = np.concatenate(ranks)
        self._tree = shapely.STRtree(shapely.linestrings(segments))

    def __len__(self) -> int:
        return len(self.sections)

    def section(self, section_id: str) -> BorderSection:
        """The section with this id (``KeyError`` if unknown)."""
        return self._by_id[section_id]

    def assign(
        self, lons: npt.ArrayLike, lats: npt.ArrayLike, max_km: float = DEFAULT_MAX_KM
    ) -> Assignment:
        """Assign positions (WGS84 degrees, arrays of equal shape) to border sections.

        Positions within ``max_km`` of a section get the nearest section's id,
        the others ``None``; ``distance_km`` is always the distance to the
        nearest section. Invalid positions (NaN, out of range) get ``None``
        and ``nan``.
        """
        lon = np.asarray(lons, dtype=np.float64)
        lat = np.asarray(lats, dtype=np.float64)
        if lon.shape != lat.shape:
            raise ValueError(f"lons and lats differ in shape: {lon.shape} vs {lat.shape}")
        if not max_km >= 0:
            raise ValueError("max_km must be a non-negative number")
        shape = lon.shape
        lon, lat = lon.ravel(), lat.ravel()
        valid = (np.abs(lon) <= 180) & (np.abs(lat) < 89)  # also False for NaN
        where = np.flatnonzero(valid)
        distance = np.full(lon.shape, np.nan)
        best = np.full(lon.shape, len(self.sections), dtype=np.intp)
        if where.size:
            x, y = project(lon[where], lat[where])
            k = scale_factor(lat[where])
            # 1. Positions near a section: GEOS nearest search bounded by max_km
            #    (in projected km, so scaled by the largest local scale factor).
            radius = max(float(max_km) * float(k.max()), 1e-9)
            points = shapely.points(x, y)
            (qi, ti), dist = self._tree.query_nearest(
                points, max_distance=radius, return_distance=True, all_matches=True
            )
            # all_matches returns every equidistant segment: keep the smallest section rank.
            rank = self._segment_rank[ti]
            order = np.lexsort((rank, qi))
            first = np.ones(order.size, dtype=bool)
            first[1:] = qi[order][1:] != qi[order][:-1]
            chosen = order[first]
            near = qi[chosen]
            best[where[near]] = rank[chosen]
            distance[where[near]] = dist[chosen] / k[near]
            # 2. The others are inland: an unbounded GEOS search is slow for far
            #    positions, so measure their distance with a grid of candidates.
            far = np.ones(where.size, dtype=bool)
            far[near] = False
            n_far = int(far.sum())
            if 0 < n_far <= GRID_SEARCH_FROM:
                # Few inland positions: an unbounded GEOS search costs a few µs
                # each, while the grid below has a fixed cost of tens of ms.
                (_, _), d_far = self._tree.query_nearest(
                    points[far], return_distance=True, all_matches=False
                )
                distance[where[far]] = d_far / k[far]
            elif n_far:
                d_far, _ = self._nearest_by_grid(x[far], y[far])
                distance[where[far]] = d_far / k[far]
        best[~(distance <= max_km)] = len(self.sections)  # NaN compares False → inland
        return Assignment(self._ids[best].reshape(shape), distance.reshape(shape))

    def _nearest_by_grid(
        self, x: FloatArray, y: FloatArray
    ) -> tuple[FloatArray, npt.NDArray[np.intp]]:
        """Exact nearest-segment distance (projected km) and section rank, by grid cells.

        For each occupied cell, only segments that can be nearest to some point
        of the cell are tested: those whose distance to the cell centre is at
        most the smallest such distance plus the cell diagonal.
        """
        x0, y0 = float(x.min()), float(y.min())
        extent = max(float(x.max()) - x0, float(y.max()) - y0)
        size = max(50.0, extent / 64)  # at most 65 x 65 cells
        cols = int(extent // size) + 1
        cell = (np.floor((y - y0) / size) * cols + np.floor((x - x0) / size)).astype(np.int64)
        cells, inverse = np.unique(cell, return_inverse=True)
        cx = np.asarray(x0 + (cells % cols + 0.5) * size, dtype=np.float64)
        cy = np.asarray(y0 + (cells // cols + 0.5) * size, dtype=np.float64)
        diagonal = size * math.sqrt(2) + 1e-6
        members = np.argsort(inverse, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=cells.size))])
        dist = np.empty(x.size)
        rank = np.empty(x.size, dtype=np.intp)
        for lo in range(0, cells.size, 256):
            hi = min(lo + 256, cells.size)
            dc = self._segment_distance(cx[lo:hi], cy[lo:hi], np.arange(self._seg_a.shape[0]))
            limit = dc.min(axis=1) + diagonal
            for c in range(lo, hi):
                candidates = np.flatnonzero(dc[c - lo] <= limit[c - lo])
                idx = members[bounds[c] : bounds[c + 1]]
                d = self._segment_distance(x[idx], y[idx], candidates)
                j = np.argmin(d, axis=1)  # first minimum = smallest rank (segments in rank order)
                dist[idx] = d[np.arange(idx.size), j]
                rank[idx] = self._segment_rank[candidates[j]]
        return dist, rank

    def _segment_distance(
        self, x: FloatArray, y: FloatArray, segments: npt.NDArray[np.intp]
    ) -> FloatArray:
        """Distances (len(x), len(segments)) from points to segments, projected km."""
        a = self._seg_a[segments]
        d = self._seg_d[segments]
        px = x[:, None] - a[None, :, 0]
        py = y[:, None] - a[None, :, 1]
        t = np.clip((px * d[None, :, 0] + py * d[None, :, 1]) / self._seg_len2[segments], 0.0, 1.0)
        return np.asarray(np.hypot(px - t * d[None, :, 0], py - t * d[None, :, 1]))

    def assign_one(
        self, lon: float, lat: float, max_km: float = DEFAULT_MAX_KM
    ) -> tuple[str | None, float]:
        """Assign one position: ``(section id or None, distance to nearest section in km)``."""
        result = self.assign(np.array([lon]), np.array([lat]), max_km)
        sid = result.section_ids[0]
        return (None if sid is None else str(sid), float(result.distance_km[0]))


@lru_cache(maxsize=1)
def _projected_countries() -> tuple[tuple[str, Any], ...]:
    out = []
    for iso2, country in sorted(_countries().items()):
        geom = _project_geometry(country.geometry)
        shapely.prepare(geom)
        out.append((iso2, geom))
    return tuple(out)


def country_at(lon: float, lat: float, margin_km: float = DEFAULT_COUNTRY_MARGIN_KM) -> str | None:
    """ISO2 code of the shipped country containing a position far from any border.

    Only for positions well inside a country: returns ``None`` when the position
    is within ``margin_km`` of its country's outline (land borders, coasts and
    the clipping edge of neighbours), or outside all shipped countries. Natural
    Earth 1:10m lines can be ~10 km off; never use this to decide on which side
    of a border an event happened.
    """
    x, y = project(np.array([lon]), np.array([lat]))
    point = shapely.points(x[0], y[0])
    k = float(scale_factor(np.array([lat]))[0])
    for iso2, geom in _projected_countries():
        if shapely.contains(geom, point):
            if float(shapely.distance(geom.boundary, point)) / k <= margin_km:
                return None
            return iso2
    return None


def simplified(collection: Mapping[str, Any], tolerance_deg: float,
               decimals: int = 3) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with lighter geometry, for a map on a poor link.

    Each geometry is simplified (Douglas-Peucker, keeping rings valid) to
    ``tolerance_deg`` and its coordinates rounded to ``decimals`` places (3: about
    100 m); properties stay as they are. The shipped country outlines shrink from
    about 100 KB to 20 KB on the wire at 0.02° (2 km), plenty for a background.
    """
    def rounded(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, decimals)
        if isinstance(value, (list, tuple)):
            return [rounded(v) for v in value]
        return value

    features = []
    for feature in collection["features"]:
        geometry = shapely.geometry.mapping(
            shapely.geometry.shape(feature["geometry"]).simplify(tolerance_deg,
                                                                 preserve_topology=True))
        features.append({**feature, "geometry": {
            "type": geometry["type"], "coordinates": rounded(geometry["coordinates"])}})
    return {"type": "FeatureCollection", "features": features}


def simple_polygon(ring: Sequence[Sequence[float]], what: str) -> None:
    """Refuse a ring of [lon, lat] points that is not a simple polygon with an area.

    Raises ValueError naming ``what`` (a camera's field of view, a flight's mission area).
    """
    for lon, lat in ring:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"{what}: [{lon}, {lat}] is not a longitude and latitude")
    polygon = shapely.Polygon(ring)
    if not polygon.is_valid or polygon.area == 0:
        raise ValueError(f"{what} must be a simple polygon with an area (its edges may not "
                         "cross)")
