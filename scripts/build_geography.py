#!/usr/bin/env python3
"""Build sitcen's shipped reference geography from Natural Earth 1:10m.

Source: ``countries-10m.json`` of the npm package ``world-atlas@2`` (pinned in
``scripts/geodata/package-lock.json``), a TopoJSON topology of Natural Earth
admin-0 countries. We decode the topology ourselves and write into
``src/sitcen/data/``:

- ``countries.geojson``        the five Central Asian states and clipped neighbours
- ``border_sections.geojson``  land border sections of about 50 km, from shared arcs
- ``crossing_points.geojson``  hand-curated BCPs from ``scripts/geodata/crossing_points.csv``

Usage: ``python scripts/build_geography.py [--check]``. The same input gives
byte-identical output; ``--check`` compares with the shipped files instead of
writing them. See ``docs/geography.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sitcen import geo  # noqa: E402  (after the path set-up above)

GEODATA = ROOT / "scripts" / "geodata"
SOURCE = GEODATA / "node_modules" / "world-atlas" / "countries-10m.json"
BCP_SOURCE = GEODATA / "crossing_points.csv"
DATA = ROOT / "src" / "sitcen" / "data"

# ISO 3166-1 numeric id in countries-10m -> (iso2, iso3)
COUNTRIES: dict[str, tuple[str, str]] = {
    "398": ("KZ", "KAZ"),
    "417": ("KG", "KGZ"),
    "762": ("TJ", "TJK"),
    "795": ("TM", "TKM"),
    "860": ("UZ", "UZB"),
    "004": ("AF", "AFG"),
    "156": ("CN", "CHN"),
    "643": ("RU", "RUS"),
    "364": ("IR", "IRN"),
}
CENTRAL_ASIA = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
# Baikonur (leased to Russia, no ISO id in Natural Earth) lies inside Kazakhstan.
MERGED_INTO = {"Baikonur": "KZ"}
CLIP_BBOX = (44.0, 30.0, 92.0, 58.0)  # lon/lat box kept of the neighbours
DECIMALS = 4  # ~10 m; the source grid is ~0.0036° x 0.0017°
SECTION_KM = 50.0
BCP_MAX_KM = 10.0

# Commonly cited border lengths (CIA World Factbook), km, for a sanity check only.
REFERENCE_KM: dict[tuple[str, str], float] = {
    ("KZ", "RU"): 7644,
    ("CN", "KZ"): 1765,
    ("KG", "KZ"): 1212,
    ("KZ", "UZ"): 2330,
    ("KZ", "TM"): 413,
    ("CN", "KG"): 1063,
    ("KG", "TJ"): 984,
    ("KG", "UZ"): 1314,
    ("CN", "TJ"): 477,
    ("AF", "TJ"): 1357,
    ("TJ", "UZ"): 1312,
    ("TM", "UZ"): 1793,
    ("AF", "TM"): 804,
    ("IR", "TM"): 1148,
    ("AF", "UZ"): 144,
}

Point = tuple[int, int]  # quantized TopoJSON coordinates


# ---------------------------------------------------------------------------
# TopoJSON decoding


class Topology:
    """A decoded TopoJSON topology: arcs in quantized integer coordinates."""

    def __init__(self, topo: dict[str, Any]) -> None:
        transform = topo["transform"]
        self.scale = (float(transform["scale"][0]), float(transform["scale"][1]))
        self.translate = (float(transform["translate"][0]), float(transform["translate"][1]))
        self.arcs: list[list[Point]] = []
        for arc in topo["arcs"]:
            x = y = 0
            points: list[Point] = []
            for dx, dy in arc:  # delta encoding: each position is relative to the previous
                x += dx
                y += dy
                points.append((x, y))
            self.arcs.append(points)

    def arc(self, index: int) -> list[Point]:
        """Points of arc ``index``; a negative index ``~i`` means arc ``i`` reversed."""
        return self.arcs[index] if index >= 0 else self.arcs[~index][::-1]

    def ring(self, indices: list[int]) -> list[Point]:
        """Stitch arcs into one ring (each arc starts where the previous one ended)."""
        points: list[Point] = []
        for k, index in enumerate(indices):
            arc = self.arc(index)
            points.extend(arc if k == 0 else arc[1:])
        return points

    def lonlat(self, points: list[Point]) -> list[tuple[float, float]]:
        """Dequantize points to lon/lat degrees."""
        sx, sy = self.scale
        tx, ty = self.translate
        return [(x * sx + tx, y * sy + ty) for x, y in points]


def polygons_of(geometry: dict[str, Any]) -> list[list[list[int]]]:
    """Arc-index rings of each polygon of a TopoJSON (Multi)Polygon."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["arcs"])
    raise ValueError(f"unexpected geometry type {geometry['type']}")


def signed_area(ring: list[tuple[float, float]]) -> float:
    """Shoelace area, positive for counter-clockwise rings."""
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))


def rnd(points: list[tuple[float, float]]) -> list[list[float]]:
    """Round positions to the published precision (dropping repeats made by rounding)."""
    out: list[list[float]] = []
    for x, y in points:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or p != out[-1]:
            out.append(p)
    return out


def oriented(ring: list[tuple[float, float]], exterior: bool) -> list[tuple[float, float]]:
    """RFC 7946 winding: exterior rings counter-clockwise, holes clockwise."""
    ccw = signed_area(ring) > 0
    return ring if ccw == exterior else ring[::-1]


# ---------------------------------------------------------------------------
# Countries


def country_features(topo: dict[str, Any], topology: Topology) -> list[dict[str, Any]]:
    """GeoJSON features of the nine countries, neighbours clipped to CLIP_BBOX."""
    geometries = topo["objects"]["countries"]["geometries"]
    merged_rings: dict[str, set[frozenset[int]]] = defaultdict(set)
    for g in geometries:
        target = MERGED_INTO.get(g["properties"].get("name"))
        if target:
            for polygon in polygons_of(g):
                merged_rings[target].add(frozenset(abs_arc(i) for i in polygon[0]))
    features = []
    for g in sorted(geometries, key=lambda g: COUNTRIES.get(g.get("id") or "", ("ZZ",))[0]):
        if g.get("id") not in COUNTRIES:
            continue
        iso2, iso3 = COUNTRIES[g["id"]]
        polygons = []
        for polygon in polygons_of(g):
            rings = []
            for k, arc_ring in enumerate(polygon):
                if k > 0 and frozenset(abs_arc(i) for i in arc_ring) in merged_rings[iso2]:
                    continue  # the hole left by Baikonur: fill it (Baikonur becomes KZ)
                ring = topology.lonlat(topology.ring(arc_ring))
                rings.append(oriented(ring, exterior=k == 0))
            polygons.append(rings)
        if iso2 in CENTRAL_ASIA:
            coords = [[rnd(r) for r in rings] for rings in polygons]
        else:
            coords = clipped(polygons)
        if len(coords) == 1:
            geometry: dict[str, Any] = {"type": "Polygon", "coordinates": coords[0]}
        else:
            geometry = {"type": "MultiPolygon", "coordinates": coords}
        name, name_ru = geo.COUNTRY_NAMES[iso2]
        props = {"iso2": iso2, "iso3": iso3, "name": name, "name_ru": name_ru}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return features


def clipped(polygons: list[list[list[tuple[float, float]]]]) -> list[list[list[list[float]]]]:
    """Clip polygons to CLIP_BBOX; returns rounded, RFC 7946-oriented polygon coordinates."""
    out = []
    for rings in polygons:
        poly = shapely.Polygon(rings[0], rings[1:])
        if not poly.intersects(shapely.box(*CLIP_BBOX)):
            continue
        part = shapely.clip_by_rect(poly, *CLIP_BBOX)
        for piece in shapely.get_parts(part):
            if piece.geom_type != "Polygon" or piece.is_empty:
                continue
            ext = oriented(list(piece.exterior.coords), exterior=True)
            holes = [oriented(list(h.coords), exterior=False) for h in piece.interiors]
            out.append([rnd(ext), *[rnd(h) for h in holes]])
    # Deterministic order: largest piece first.
    out.sort(key=lambda p: (-abs(signed_area([(q[0], q[1]) for q in p[0]])), p[0][0]))
    return out


def abs_arc(index: int) -> int:
    return index if index >= 0 else ~index


# ---------------------------------------------------------------------------
# Border sections


def arcs_by_country(topo: dict[str, Any]) -> dict[str, set[int]]:
    """Arc indices (unsigned) used by each country's rings; Baikonur's arcs count as KZ's."""
    used: dict[str, set[int]] = defaultdict(set)
    for g in topo["objects"]["countries"]["geometries"]:
        iso2 = COUNTRIES.get(g.get("id") or "", (None,))[0] or MERGED_INTO.get(
            g["properties"].get("name")
        )
        if iso2 is None:
            continue
        for polygon in polygons_of(g):
            for ring in polygon:
                used[iso2].update(abs_arc(i) for i in ring)
    return used


def merge_arcs(topology: Topology, arcs: list[int]) -> list[list[Point]]:
    """Join arcs end to end into maximal continuous lines with deterministic start and direction.

    Open lines start at their westernmost end (then southernmost); closed lines
    (e.g. around an enclave) start at their westernmost vertex and run
    counter-clockwise.
    """
    edges = {a: topology.arcs[a] for a in arcs}
    incident: dict[Point, list[int]] = defaultdict(list)
    for a, pts in edges.items():
        incident[pts[0]].append(a)
        incident[pts[-1]].append(a)
    used: set[int] = set()
    lines: list[list[Point]] = []

    def walk(start: Point, first_arc: int) -> list[Point]:
        line = [start]
        node, arc = start, first_arc
        while True:
            used.add(arc)
            pts = edges[arc]
            pts = pts if pts[0] == node else pts[::-1]
            line.extend(pts[1:])
            node = pts[-1]
            nxt = [a for a in incident[node] if a not in used]
            if len(incident[node]) != 2 or not nxt:
                return line
            arc = nxt[0]

    # Open chains from nodes where the border does not simply continue.
    for node in sorted(n for n, inc in incident.items() if len(inc) != 2):
        for a in sorted(incident[node]):
            if a not in used:
                lines.append(walk(node, a))
    # Remaining arcs form closed rings.
    for a in sorted(edges):
        if a not in used:
            start = edges[a][0]
            lines.append(walk(start, a))
    out = []
    for line in lines:
        if line[0] == line[-1]:
            ring = line[:-1]
            k = min(range(len(ring)), key=lambda i: ring[i])
            ring = ring[k:] + ring[:k]
            ring.append(ring[0])
            if signed_area([(float(x), float(y)) for x, y in ring]) < 0:
                ring = ring[::-1]
            out.append(ring)
        else:
            out.append(line if line[0] <= line[-1] else line[::-1])
    return out


def cut(lonlat: np.ndarray, pieces: int) -> list[np.ndarray]:
    """Cut a polyline into ``pieces`` parts of equal ellipsoidal length."""
    seg = geo.segment_lengths_km(lonlat[:, 0], lonlat[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    marks = [total * k / pieces for k in range(pieces + 1)]
    out = []
    for k in range(pieces):
        lo, hi = marks[k], marks[k + 1]
        inner = np.flatnonzero((cum > lo) & (cum < hi))
        pts = [point_at(lonlat, cum, lo), *lonlat[inner], point_at(lonlat, cum, hi)]
        out.append(np.array(pts))
    return out


def point_at(lonlat: np.ndarray, cum: np.ndarray, d: float) -> np.ndarray:
    """Point at distance ``d`` km along the polyline (linear in lon/lat within a segment)."""
    i = int(np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(cum) - 2))
    span = cum[i + 1] - cum[i]
    t = 0.0 if span == 0 else (d - cum[i]) / span
    return np.asarray(lonlat[i] + t * (lonlat[i + 1] - lonlat[i]))


def section_features(
    topo: dict[str, Any], topology: Topology
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], list[float]]]:
    """Border-section features for every land border touching one of the five states."""
    used = arcs_by_country(topo)
    codes = sorted(used)
    features = []
    summary: dict[tuple[str, str], list[float]] = {}
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            if a not in CENTRAL_ASIA and b not in CENTRAL_ASIA:
                continue
            shared = sorted(used[a] & used[b])
            if not shared:
                continue
            lines = [np.array(topology.lonlat(ln)) for ln in merge_arcs(topology, shared)]
            lines.sort(key=lambda ln: (-geo.geodesic_length_km(ln[:, 0], ln[:, 1]), ln[0].tolist()))
            number = 0
            lengths: list[float] = []
            for line in lines:
                total = geo.geodesic_length_km(line[:, 0], line[:, 1])
                pieces = max(1, round(total / SECTION_KM))
                for piece in cut(line, pieces):
                    number += 1
                    coords = rnd([(float(x), float(y)) for x, y in piece])
                    arr = np.array(coords)
                    length = round(geo.geodesic_length_km(arr[:, 0], arr[:, 1]), 1)
                    lengths.append(length)
                    name, name_ru = geo.section_name((a, b), number)
                    props = {
                        "id": f"{a}-{b}-{number:03d}",
                        "name": name,
                        "name_ru": name_ru,
                        "countries": [a, b],
                        "length_km": length,
                        "border_type": "land",
                    }
                    geometry = {"type": "LineString", "coordinates": coords}
                    features.append({"type": "Feature", "properties": props, "geometry": geometry})
            summary[(a, b)] = lengths
    return features, summary


# ---------------------------------------------------------------------------
# Crossing points


def crossing_point_features(path: Path = BCP_SOURCE) -> list[dict[str, Any]]:
    """GeoJSON point features of the hand-curated crossing points."""
    features = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["id"].startswith("#")]
    for r in sorted(rows, key=lambda r: r["id"]):
        countries = sorted(r["countries"].split("-"))
        if not r["id"].startswith("-".join(countries) + "-"):
            raise ValueError(f"{path.name}: id {r['id']} must start with {'-'.join(countries)}-")
        props: dict[str, Any] = {
            "id": r["id"],
            "name": r["name"],
            "name_ru": r["name_ru"],
            "countries": countries,
            "kind": r["kind"],
            "status": r["status"],
            "precision_m": int(r["precision_m"]),
        }
        if r.get("note"):
            props["note"] = r["note"]
        point = [round(float(r["lon"]), DECIMALS), round(float(r["lat"]), DECIMALS)]
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": point},
            }
        )
    return features


# ---------------------------------------------------------------------------
# Output


def dump(features: list[dict[str, Any]]) -> bytes:
    """A compact FeatureCollection, one feature per line (readable diffs)."""
    body = ",\n".join(
        json.dumps(f, ensure_ascii=False, separators=(",", ":"), sort_keys=False) for f in features
    )
    return ('{"type":"FeatureCollection","features":[\n' + body + "\n]}\n").encode("utf-8")


def ensure_source() -> Path:
    """Path of countries-10m.json, installing the pinned npm package if needed."""
    if not SOURCE.exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(GEODATA), "--no-audit", "--no-fund"], check=True
        )
    return SOURCE


def build(source: Path) -> tuple[dict[str, bytes], dict[tuple[str, str], list[float]]]:
    """Decode the topology and return (file name -> bytes, per-border section lengths)."""
    topo = json.loads(source.read_text(encoding="utf-8"))
    topology = Topology(topo)
    sections, summary = section_features(topo, topology)
    files = {
        "countries.geojson": dump(country_features(topo, topology)),
        "border_sections.geojson": dump(sections),
        "crossing_points.geojson": dump(crossing_point_features()),
    }
    return files, summary


def check_crossing_points(files: dict[str, bytes]) -> list[str]:
    """Warnings for BCPs farther than BCP_MAX_KM from their bilateral border."""
    sections = geo.sections_from_geojson(json.loads(files["border_sections.geojson"]))
    points = geo.crossing_points_from_geojson(json.loads(files["crossing_points.geojson"]))
    warnings = []
    for p in points:
        own = [s for s in sections if s.countries == p.countries]
        if not own:
            warnings.append(f"{p.id}: no {'-'.join(p.countries)} border in the data")
            continue
        _, km = geo.SectionIndex(own).assign_one(p.lon, p.lat)
        if km > BCP_MAX_KM:
            warnings.append(f"{p.id}: {km:.1f} km from the {'-'.join(p.countries)} border")
    return warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with shipped files, write nothing"
    )
    args = parser.parse_args(argv)
    files, summary = build(ensure_source())
    print(f"{'border':8} {'sections':>8} {'km (ours)':>10} {'km (cited)':>10} {'ratio':>6}")
    for (a, b), lengths in sorted(summary.items()):
        ref = REFERENCE_KM.get((a, b))
        total = sum(lengths)
        ratio = f"{total / ref:6.2f}" if ref else "     -"
        print(f"{a}-{b:5} {len(lengths):8d} {total:10.1f} {ref or 0:10.0f} {ratio}")
    for w in check_crossing_points(files):
        print(f"warning: {w}")
    if args.check:
        stale = [n for n, data in files.items() if (DATA / n).read_bytes() != data]
        for n in stale:
            print(f"differs: src/sitcen/data/{n}")
        return 1 if stale else 0
    DATA.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (DATA / name).write_bytes(data)
        print(f"wrote src/sitcen/data/{name} ({len(data) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
