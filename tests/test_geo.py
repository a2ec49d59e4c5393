"""Tests of the shipped reference geography and of section assignment (real data)."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import shapely

from sitcen import geo

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build_geography.py"

EXPECTED_BORDERS = {
    ("AF", "TJ"),
    ("AF", "TM"),
    ("AF", "UZ"),
    ("CN", "KG"),
    ("CN", "KZ"),
    ("CN", "TJ"),
    ("IR", "TM"),
    ("KG", "KZ"),
    ("KG", "TJ"),
    ("KG", "UZ"),
    ("KZ", "RU"),
    ("KZ", "TM"),
    ("KZ", "UZ"),
    ("TJ", "UZ"),
    ("TM", "UZ"),
}


@pytest.fixture(scope="module")
def sections() -> list[geo.BorderSection]:
    return geo.load_default_sections()


@pytest.fixture(scope="module")
def index() -> geo.SectionIndex:
    return geo.default_index()


def _raw_sections() -> dict[str, Any]:
    text = resources.files("sitcen").joinpath("data").joinpath("border_sections.geojson")
    data: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return data


def test_shipped_files_load(sections: list[geo.BorderSection]) -> None:
    countries = geo.load_countries()
    assert set(countries) == {"AF", "CN", "IR", "KG", "KZ", "RU", "TJ", "TM", "UZ"}
    assert all(c.geometry.is_valid for c in countries.values())
    assert len(sections) > 300
    points = geo.load_crossing_points()
    assert 35 <= len(points) <= 60
    assert {p.kind for p in points} <= {"road", "rail", "road+rail"}


def test_every_bilateral_border_exists(sections: list[geo.BorderSection]) -> None:
    assert {s.countries for s in sections} == EXPECTED_BORDERS


def test_section_ids_unique_well_formed_and_stable(sections: list[geo.BorderSection]) -> None:
    ids = [s.id for s in sections]
    assert len(ids) == len(set(ids))
    for s in sections:
        assert re.fullmatch(r"[A-Z]{2}-[A-Z]{2}-\d{3}", s.id)
        assert geo.section_countries(s.id) == s.countries
        assert s.countries[0] < s.countries[1]
        assert s.geometry.geom_type in {"LineString", "MultiLineString"}
    # Numbers run 001..n without gaps on every border.
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in sections:
        numbers[s.countries].append(int(s.id[-3:]))
    for border, nums in numbers.items():
        assert sorted(nums) == list(range(1, len(nums) + 1)), border
    by_id = {s.id: s for s in sections}
    for sid in ("KG-TJ-007", "AF-TJ-003", "KZ-RU-100", "KG-UZ-019", "AF-UZ-001"):
        assert sid in by_id
    assert by_id["KG-TJ-007"].name == "Kyrgyzstan–Tajikistan section 7"
    assert by_id["KG-TJ-007"].name_ru == "Кыргызстан–Таджикистан, участок 7"
    west, south, east, north = by_id["AF-TJ-003"].bbox
    assert west < 68.6 < east and south < 37.3 < north


@pytest.mark.parametrize(
    ("border", "cited_km"),
    [(("KZ", "RU"), 7644), (("AF", "TJ"), 1357), (("KG", "TJ"), 984), (("AF", "UZ"), 144)],
)
def test_border_lengths_near_cited_values(
    sections: list[geo.BorderSection], border: tuple[str, str], cited_km: float
) -> None:
    total = sum(s.length_km for s in sections if s.countries == border)
    assert 0.75 * cited_km <= total <= 1.25 * cited_km


def test_sections_are_about_50_km(sections: list[geo.BorderSection]) -> None:
    lengths = np.array([s.length_km for s in sections])
    assert 35 <= np.median(lengths) <= 65


def test_point_on_tajik_afghan_border_near_nizhny_panj(index: geo.SectionIndex) -> None:
    sid, km = index.assign_one(68.62, 37.22)
    assert sid is not None and sid.startswith("AF-TJ-")
    assert km < 3


def test_astana_is_inland_with_distance(index: geo.SectionIndex) -> None:
    sid, km = index.assign_one(71.43, 51.17)
    assert sid is None
    assert 150 < km < 600


def test_sokh_enclave_assigns_to_kyrgyz_uzbek_section(index: geo.SectionIndex) -> None:
    sid, km = index.assign_one(71.13, 39.96)
    assert sid is not None and sid.startswith("KG-UZ-")
    assert km < 25


def test_crossing_points_lie_near_their_border(sections: list[geo.BorderSection]) -> None:
    for p in geo.load_crossing_points():
        own = [s for s in sections if s.countries == p.countries]
        _, km = geo.SectionIndex(own).assign_one(p.lon, p.lat)
        assert km <= 10 + p.precision_m / 1000, p.id


def test_assignment_is_deterministic_and_vectorised(index: geo.SectionIndex) -> None:
    rng = np.random.default_rng(7)
    lons = rng.uniform(50, 85, 20_000)
    lats = rng.uniform(35, 52, 20_000)
    first = index.assign(lons, lats)
    second = geo.SectionIndex(list(reversed(index.sections))).assign(lons, lats)
    assert np.array_equal(first.section_ids, second.section_ids)
    assert np.array_equal(first.distance_km, second.distance_km)
    assert (~first.inland).any() and first.inland.any()
    # Inland distances are exact, not approximate: compare with a plain GEOS search.
    x, y = geo.project(lons, lats)
    projected = [
        shapely.transform(s.geometry, lambda c: np.column_stack(geo.project(c[:, 0], c[:, 1])))
        for s in index.sections
    ]
    exact = shapely.distance(shapely.points(x, y)[:, None], np.array(projected)[None, :]).min(1)
    np.testing.assert_allclose(first.distance_km, exact / geo.scale_factor(lats), atol=1e-6)
    assert np.all(first.inland == (first.distance_km > geo.DEFAULT_MAX_KM))


def test_assignment_handles_invalid_positions_and_shapes(index: geo.SectionIndex) -> None:
    result = index.assign(
        np.array([[np.nan, 68.62], [200.0, 71.43]]), np.array([[0, 37.22], [0, 51.17]])
    )
    assert result.section_ids.shape == (2, 2)
    assert result.section_ids[0, 0] is None and np.isnan(result.distance_km[0, 0])
    assert result.section_ids[1, 0] is None
    assert str(result.section_ids[0, 1]).startswith("AF-TJ-")
    with pytest.raises(ValueError, match="shape"):
        index.assign(np.zeros(3), np.zeros(2))


def test_ties_go_to_the_smallest_section_id() -> None:
    line = {"type": "LineString", "coordinates": [[70.0, 40.0], [70.0, 41.0]]}
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"id": "KG-UZ-002"}, "geometry": line},
            {"type": "Feature", "properties": {"id": "KG-TJ-001"}, "geometry": line},
        ],
    }
    idx = geo.SectionIndex(geo.sections_from_geojson(data))
    assert idx.assign_one(70.05, 40.5)[0] == "KG-TJ-001"
    assert idx.assign_one(71.5, 40.5)[0] is None  # ~127 km away: inland, for both methods


def test_country_at_only_answers_far_from_borders() -> None:
    assert geo.country_at(71.43, 51.17) == "KZ"  # Astana
    assert geo.country_at(75.99, 41.43) == "KG"  # Naryn
    assert geo.country_at(74.68, 43.03) is None  # Korday crossing
    assert geo.country_at(68.62, 37.22) is None  # on the Panj
    assert geo.country_at(0.0, 0.0) is None


def _feature_collection() -> dict[str, Any]:
    data = _raw_sections()
    return {"type": "FeatureCollection", "features": copy.deepcopy(data["features"][:5])}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f[2]["properties"].pop("id"), r"feature 2: missing id"),
        (
            lambda f: f[3]["properties"].update(id=f[1]["properties"]["id"]),
            r"feature 3 .*duplicate id",
        ),
        (lambda f: f[1]["properties"].update(id="TJ-AF-001"), r"feature 1 .*alphabetical"),
        (lambda f: f[1]["properties"].update(id="AF-TJ-1"), r"feature 1: id 'AF-TJ-1' is not"),
        (
            lambda f: f[4].update(geometry={"type": "Point", "coordinates": [1, 2]}),
            r"feature 4 .*LineString",
        ),
        (
            lambda f: f[0]["geometry"]["coordinates"].__setitem__(0, [190.0, 37.0]),
            r"feature 0 .*position 0.*WGS84",
        ),
        (lambda f: f[2]["properties"].update(countries=["AF"]), r"feature 2 .*two ISO2 codes"),
        (lambda f: f[2]["properties"].update(countries=["AF", "UZ"]), r"feature 2 .*do not match"),
        (lambda f: f[2]["properties"].update(length_km=-1), r"feature 2 .*length_km"),
    ],
)
def test_sections_from_geojson_names_the_offending_feature(mutate: Any, message: str) -> None:
    data = _feature_collection()
    mutate(data["features"])
    with pytest.raises(geo.GeographyError, match=message):
        geo.sections_from_geojson(data)


def test_sections_from_geojson_computes_missing_length() -> None:
    data = _feature_collection()
    expected = data["features"][0]["properties"].pop("length_km")
    data["features"][0]["properties"].pop("name")
    (first, *_) = geo.sections_from_geojson(data)
    assert first.length_km == expected
    assert first.name == "Afghanistan–Tajikistan section 1"
    with pytest.raises(geo.GeographyError, match="no features"):
        geo.sections_from_geojson({"type": "FeatureCollection", "features": []})


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_geography", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_reproduces_shipped_files() -> None:
    build = _build_module()
    if not build.SOURCE.exists():
        pytest.skip("scripts/geodata/node_modules absent: run `npm ci --prefix scripts/geodata`")
    files, _ = build.build(build.SOURCE)
    data_dir = ROOT / "src" / "sitcen" / "data"
    for name, content in files.items():
        assert (data_dir / name).read_bytes() == content, name


# --- bounding boxes: one rule set for the API, OGC, agreements and the command line -------


@pytest.mark.parametrize(("text", "box"), [
    ("68,36.5,69.5,38", (68.0, 36.5, 69.5, 38.0)),
    (" 68 , 36.5 ,69.5, 38 ", (68.0, 36.5, 69.5, 38.0)),
    ("-180,-90,180,90", (-180.0, -90.0, 180.0, 90.0)),
    ("68.6,37.2,68.6,37.2", (68.6, 37.2, 68.6, 37.2)),  # a point: the edges are inclusive
])
def test_parse_bbox_reads_min_lon_min_lat_max_lon_max_lat(
        text: str, box: tuple[float, float, float, float]) -> None:
    assert geo.parse_bbox(text) == box


@pytest.mark.parametrize(("text", "words"), [
    ("1,2,3", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("", "four numbers"),
    ("1,2,3,4,5,6", "four numbers"),  # heights only where OGC asks for them
    ("nan,1,2,3", "finite"),
    ("0,0,inf,1", "finite"),
    ("-181,0,0,1", "out of range"),
    ("0,0,1,91", "out of range"),
    ("68,40,69,38", "latitudes in the wrong order"),
    ("170,0,-170,10", "antimeridian"),
])
def test_parse_bbox_refuses_with_the_rule_broken(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        geo.parse_bbox(text)


def test_parse_bbox_reads_ogc_heights_when_asked_and_check_bbox_takes_numbers() -> None:
    assert geo.parse_bbox("68,36,-10,69,38,4000", heights=True) == (68.0, 36.0, 69.0, 38.0)
    assert geo.check_bbox([68, 36, 69, 38]) == (68.0, 36.0, 69.0, 38.0)
    with pytest.raises(ValueError, match="antimeridian"):
        geo.check_bbox((80, 40, 70, 45))
