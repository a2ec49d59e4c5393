"""The synthetic scenario: realistic event reports on the Central Asian borders, with ground truth.

One importable builder for the demo, the tests and the benchmarks. Daily counts
are drawn per (border section, day, event type) from a gamma-mixed Poisson
(negative binomial) process whose rate depends on the border, the section's
length, the season and the weekday; every event then gets a position, a time
of day and report attributes consistent with its type, all vectorised with
numpy and deterministic for a seed. Anomalies, trend shifts and space-time
clusters are planted on top, marked event by event and listed in
:attr:`Scenario.truth` so that early-warning and trend analysis can be scored.
See ``docs/scenario.md`` for what is modelled and why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from sitcen.geo import (
    BorderSection,
    load_countries,
    load_crossing_points,
    load_default_sections,
    project,
    unproject,
)
from sitcen.taxonomy import (
    EVENT_TYPES,
    AircraftKind,
    DocumentFraud,
    DocumentKind,
    ExciseGoods,
    Hazard,
    ImpactLevel,
    ModusOperandi,
    Reaction,
    SourceReliability,
    Substance,
    Transport,
    Unit,
    VehicleKind,
    WeaponKind,
)
from sitcen.times import from_micros, iso, to_micros

I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntP = npt.NDArray[np.intp]

DEFAULT_START = date(2023, 1, 1)
TYPES: tuple[str, ...] = tuple(EVENT_TYPES)
_T = {name: i for i, name in enumerate(TYPES)}
CENTRAL_ASIA = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
# Code tables of the columnar data (a column holds an index into one of these).
COUNTRIES: tuple[str, ...] = ("KZ", "KG", "TJ", "TM", "UZ", "AF", "CN", "IR", "RU", "PK", "IN",
                              "BD", "TR", "AZ", "XX")
IMPACTS = tuple(v.value for v in ImpactLevel)
RELIABILITY = tuple(v.value for v in SourceReliability)
HANDLINGS = ("GREEN", "AMBER", "AMBER+STRICT", "RED")
STATUSES = ("reported", "validated")
STAGES = ("attempted", "actual")
DIRECTIONS = ("entry", "exit")
DETECTIONS = ("bcp_check", "surveillance", "patrol", "inland", "other")
SEXES = ("male", "female", "unknown")
AGE_GROUPS = ("minor", "adult", "unknown")
UNITS = tuple(v.value for v in Unit)
TRANSPORTS = tuple(v.value for v in Transport)
MODI = tuple(v.value for v in ModusOperandi)
DISEASES = ("anthrax", "brucellosis", "measles", "cholera",
            "Crimean-Congo haemorrhagic fever", "foot-and-mouth disease")
# The "kind" column: which details attribute it fills per type, and its values.
KIND_OF: dict[str, tuple[str, tuple[str, ...]]] = {
    "drug_smuggling": ("substance", tuple(v.value for v in Substance)),
    "weapons_smuggling": ("weapon_kind", tuple(v.value for v in WeaponKind)),
    "excise_goods_smuggling": ("goods", tuple(v.value for v in ExciseGoods)),
    "document_fraud": ("document_kind", tuple(v.value for v in DocumentKind)),
    "stolen_vehicle": ("vehicle_kind", tuple(v.value for v in VehicleKind)),
    "suspicious_vehicle": ("vehicle_kind", tuple(v.value for v in VehicleKind)),
    "natural_disaster": ("hazard", tuple(v.value for v in Hazard)),
    "suspicious_aircraft": ("aircraft_kind", tuple(v.value for v in AircraftKind)),
    "epidemic": ("disease", DISEASES),
}
FRAUD_KINDS = tuple(v.value for v in DocumentFraud)
REACTIONS = tuple(v.value for v in Reaction)

_US = 1_000_000
_DAY_US = 86_400 * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------- model tables


@dataclass(frozen=True)
class _Border:
    """How one land border behaves: rate, type mix, flows, people met there."""

    rate: float  # events per km of border per year at scale 1
    mix: Mapping[str, float]  # type weights overriding _BASE_MIX
    drugs: str = "other"  # substance profile (_SUBSTANCES key)
    north: str | None = None  # side the Northern Route drug flow goes to
    destination: str | None = None  # side labour migrants go to
    bcp: float = 1.0  # multiplies each type's share placed at a BCP
    people: Mapping[str, float] = field(default_factory=dict)


_SHORT = {"green": "green_border_crossing", "river": "river_crossing",
          "at_bcp": "clandestine_at_bcp", "drug": "drug_smuggling", "weapons": "weapons_smuggling",
          "excise": "excise_goods_smuggling", "migrant": "migrant_smuggling",
          "trafficking": "human_trafficking", "documents": "document_fraud",
          "vehicle": "stolen_vehicle", "disaster": "natural_disaster", "armed": "armed_incident",
          "epidemic": "epidemic", "person": "suspicious_person", "car": "suspicious_vehicle",
          "aircraft": "suspicious_aircraft", "sign": "damaged_border_sign", "lost": "lost_person"}


def _mix(**weights: float) -> dict[str, float]:
    return {_SHORT[k]: v for k, v in weights.items()}


_BASE_MIX = _mix(green=20, river=0, at_bcp=4, drug=4, weapons=.5, excise=6, migrant=3,
                 trafficking=.5, documents=6, vehicle=1.5, disaster=.4, armed=.03, epidemic=.1,
                 person=8, car=4, aircraft=.3, sign=2, lost=.5)
_TRANSIT = {"AF": .03, "PK": .02, "IN": .02, "BD": .02}
_BORDERS: dict[str, _Border] = {
    "AF-TJ": _Border(8.0, _mix(river=25, drug=20, green=8, weapons=2, aircraft=4, armed=.3,
                               disaster=.8, excise=1, documents=2),
                     "afghan", "TJ", people={"AF": .5, "TJ": .45, "PK": .05}),
    "AF-UZ": _Border(20.0, _mix(river=15, drug=18, green=5, at_bcp=6, excise=3),
                     "afghan", "UZ", people={"AF": .55, "UZ": .43, "PK": .02}),
    "AF-TM": _Border(4.0, _mix(river=10, drug=14, green=14, weapons=1),
                     "afghan", "TM", people={"AF": .6, "TM": .38, "IR": .02}),
    "KG-TJ": _Border(6.0, _mix(armed=.8, drug=8, green=20, person=12, sign=5, excise=6),
                     "northern", "KG", people={"KG": .48, "TJ": .5, "UZ": .02}),
    "KG-KZ": _Border(3.5, _mix(drug=6, migrant=10, excise=10, documents=8), "northern", "KZ", "KZ",
                     people={"KG": .6, "KZ": .25, "TJ": .08, "UZ": .05, **_TRANSIT}),
    "KZ-UZ": _Border(2.5, _mix(migrant=12, green=24, excise=10, documents=10), "other", "KZ", "KZ",
                     people={"UZ": .6, "KZ": .2, "TJ": .1, **_TRANSIT}),
    "KG-UZ": _Border(4.0, _mix(migrant=8, green=22, excise=10), "northern",
                     people={"KG": .45, "UZ": .5, "TJ": .05}),
    "TJ-UZ": _Border(3.0, _mix(excise=8, drug=5, migrant=4), "northern", "UZ",
                     people={"TJ": .5, "UZ": .45, "AF": .05}),
    "TM-UZ": _Border(1.5, _mix(excise=8, drug=4, green=16), "other", "UZ",
                     people={"TM": .45, "UZ": .5, "AF": .05}),
    "IR-TM": _Border(2.5, _mix(migrant=10, green=18, drug=6, excise=4), "iranian", "TM",
                     people={"IR": .3, "TM": .25, "AF": .3, "PK": .1, "BD": .05}),
    "CN-KZ": _Border(1.2, _mix(excise=18, at_bcp=6, documents=8, green=4, vehicle=3, drug=2),
                     bcp=2.5, people={"CN": .5, "KZ": .48, "KG": .02}),
    "CN-KG": _Border(1.0, _mix(excise=10, green=4, disaster=1.2), bcp=2.0,
                     people={"CN": .45, "KG": .55}),
    "CN-TJ": _Border(0.8, _mix(excise=6, green=3, disaster=1.2), bcp=2.0,
                     people={"CN": .4, "TJ": .6}),
    "KZ-RU": _Border(0.6, _mix(excise=8, vehicle=5, documents=8, migrant=4, green=10, drug=3),
                     "russian", "RU", "RU",
                     people={"RU": .35, "KZ": .35, "UZ": .12, "TJ": .1, "KG": .06, "AZ": .02}),
    "KZ-TM": _Border(1.0, _mix(green=10, excise=6, migrant=4), "other", "KZ", "KZ",
                     people={"TM": .5, "KZ": .4, "UZ": .1}),
}
_DEFAULT_BORDER = _Border(1.0, {})

_SUBSTANCES: dict[str, dict[str, float]] = {
    "afghan": {"heroin": 28, "opium": 22, "hashish": 30, "methamphetamine": 12, "precursor": 5,
               "cannabis": 3},
    "northern": {"hashish": 30, "heroin": 25, "opium": 10, "methamphetamine": 12, "cannabis": 13,
                 "synthetic_other": 5, "psychotropic_medicine": 5},
    "iranian": {"opium": 45, "heroin": 25, "hashish": 15, "methamphetamine": 15},
    "russian": {"synthetic_other": 30, "psychotropic_medicine": 20, "cannabis": 20, "hashish": 10,
                "methamphetamine": 10, "precursor": 10},
    "other": {"cannabis": 30, "hashish": 15, "synthetic_other": 20, "psychotropic_medicine": 15,
              "methamphetamine": 10, "precursor": 5, "heroin": 5},
}
# Seizure sizes: unit, median, log-sd (kg substances below 1 kg are written in g).
_QUANTITY: dict[str, tuple[str, float, float]] = {
    "heroin": ("kg", 1.5, 1.3), "opium": ("kg", 4.0, 1.3), "hashish": ("kg", 3.0, 1.4),
    "cannabis": ("kg", 2.0, 1.5), "methamphetamine": ("kg", 0.5, 1.5),
    "amphetamine": ("kg", 0.3, 1.3), "cocaine": ("kg", 0.2, 1.2),
    "synthetic_other": ("kg", 0.05, 1.5), "psychotropic_medicine": ("tablets", 300, 1.2),
    "precursor": ("l", 150, 1.2), "other": ("kg", 0.5, 1.3),
    "firearm": ("pieces", 1.5, 0.7), "ammunition": ("rounds", 100, 1.2),
    "explosive": ("kg", 2.0, 1.0), "cold_weapon": ("pieces", 2.0, 0.7),
    "tobacco": ("packs", 500, 1.3), "alcohol": ("l", 50, 1.2), "fuel": ("l", 800, 1.0),
    "goods_other": ("pieces", 200, 1.3),
}


@dataclass(frozen=True)
class _Profile:
    """How reports of one event type look."""

    impact: tuple[float, float, float, float]  # low, medium, high, very_high
    hours: str  # diurnal profile: night, day or flat
    bcp: float  # share placed near a BCP when the section has one
    persons: float  # mean group size (0: no persons)
    reaction: Mapping[tuple[str, ...], float]
    transport: Mapping[str, float] = field(default_factory=dict)
    modus: Mapping[str, float] = field(default_factory=dict)
    kinds: Mapping[str, float] = field(default_factory=dict)
    offset_km: float = 1.5  # mean distance from the border line (most within 5 km)


_CAUGHT = {("apprehended",): 6, ("turned_back",): 2, ("patrol_dispatched",): 1,
           ("apprehended", "neighbour_notified"): 1, ("monitoring",): 0.5}
_PROFILES: dict[str, _Profile] = {
    "green_border_crossing": _Profile(
        (.6, .3, .08, .02), "night", .03, 2.0, _CAUGHT,
        {"on_foot": 7, "car": 1, "motorcycle": 1, "animal": .7, "other": .3},
        {"green_border_on_foot": 7, "mountain_path": 2, "other": .5}),
    "river_crossing": _Profile(
        (.5, .35, .12, .03), "night", 0, 2.5,
        {("apprehended",): 4, ("turned_back",): 2, ("patrol_dispatched",): 2,
         ("neighbour_notified",): 1, ("rescued",): .3},
        {"boat": 6, "on_foot": 3, "other": 1}, {"river_crossing": 1}, offset_km=0.3),
    "clandestine_at_bcp": _Profile(
        (.5, .4, .08, .02), "day", .95, 1.5,
        {("apprehended",): 6, ("apprehended", "handed_to_police"): 3, ("turned_back",): 1},
        {"truck": 5, "car": 3, "train": 1.5, "bus": 1},
        {"concealment_in_vehicle": 5, "concealment_in_cargo": 4, "corruption": .3}),
    "drug_smuggling": _Profile(
        (.3, .4, .22, .08), "night", .25, 1.4,
        {("seized", "apprehended"): 5, ("seized",): 2, ("seized", "investigation_opened"): 3,
         ("seized", "apprehended", "neighbour_notified"): 1},
        {"on_foot": 3, "car": 3, "truck": 2, "boat": 1, "animal": .5, "train": .5},
        {"concealment_in_vehicle": 3, "concealment_in_cargo": 2, "concealment_on_body": 2,
         "body_packing": .7, "river_crossing": 1.5, "mountain_path": 1, "throw_over": .5,
         "drone_drop": .2}),
    "weapons_smuggling": _Profile(
        (.2, .4, .3, .1), "night", .2, 1.3,
        {("seized", "apprehended"): 5, ("seized", "investigation_opened"): 3, ("seized",): 1},
        {"on_foot": 3, "car": 3, "truck": 1, "animal": .5},
        {"concealment_in_vehicle": 3, "concealment_on_body": 2, "mountain_path": 2,
         "green_border_on_foot": 2},
        {"firearm": 4, "ammunition": 4, "explosive": 1, "cold_weapon": 1}),
    "excise_goods_smuggling": _Profile(
        (.7, .25, .04, .01), "day", .55, 1.3,
        {("seized",): 5, ("seized", "handed_to_police"): 2, ("seized", "investigation_opened"): 1},
        {"truck": 4, "car": 4, "on_foot": 1, "animal": .5, "train": 1},
        {"concealment_in_vehicle": 4, "concealment_in_cargo": 4, "green_border_on_foot": 1,
         "throw_over": .5},
        {"tobacco": 5, "fuel": 3, "alcohol": 1.5, "other": 1}),
    "migrant_smuggling": _Profile(
        (.3, .45, .2, .05), "night", .15, 6.0,
        {("apprehended", "investigation_opened"): 5, ("apprehended",): 3,
         ("apprehended", "neighbour_notified"): 1},
        {"car": 3, "truck": 2, "on_foot": 3, "bus": 1},
        {"green_border_on_foot": 3, "concealment_in_vehicle": 3, "false_documents": 2,
         "mountain_path": 1}),
    "human_trafficking": _Profile(
        (.1, .4, .35, .15), "flat", .5, 2.5,
        {("rescued", "investigation_opened"): 4, ("apprehended", "investigation_opened"): 3,
         ("handed_to_police",): 1},
        {"car": 3, "bus": 2, "train": 1, "aircraft": .5, "on_foot": .5},
        {"false_documents": 3, "concealment_in_vehicle": 1, "other": 1}),
    "document_fraud": _Profile(
        (.6, .35, .04, .01), "day", .9, 1.1,
        {("apprehended",): 3, ("turned_back",): 4, ("handed_to_police",): 2},
        {"car": 2, "bus": 2, "train": 1, "on_foot": 2, "aircraft": .3}, {"false_documents": 1},
        {"passport": 6, "id_card": 2, "visa": 2, "residence_permit": 1, "vehicle_document": 1}),
    "stolen_vehicle": _Profile(
        (.6, .3, .08, .02), "day", .8, 1.2,
        {("seized", "apprehended"): 4, ("seized", "neighbour_notified"): 2},
        {"car": 6, "truck": 2, "motorcycle": 1}, {"false_documents": 2, "other": 1},
        {"car": 7, "truck": 2, "motorcycle": 1}),
    "natural_disaster": _Profile(
        (.4, .35, .2, .05), "flat", 0, 0,
        {("monitoring",): 4, ("rescued",): 1, ("patrol_dispatched",): 2, ("none_yet",): 1},
        offset_km=4.0),
    "armed_incident": _Profile(
        (0, .2, .5, .3), "flat", .05, 0,
        {("neighbour_notified",): 3, ("patrol_dispatched", "neighbour_notified"): 4,
         ("monitoring",): 1, ("investigation_opened",): 1}, offset_km=0.8),
    "epidemic": _Profile(
        (.4, .4, .15, .05), "day", .3, 0,
        {("monitoring",): 3, ("neighbour_notified", "monitoring"): 2}, offset_km=6.0,
        kinds={d: w for d, w in zip(DISEASES, (2, 3, 2, .5, 1, 2), strict=True)}),
    "suspicious_person": _Profile(
        (.85, .13, .02, 0), "night", .1, 1.2,
        {("monitoring",): 3, ("patrol_dispatched",): 3, ("apprehended",): 2},
        {"on_foot": 5, "car": 2, "motorcycle": 1}),
    "suspicious_vehicle": _Profile(
        (.85, .13, .02, 0), "night", .4, 1.5,
        {("monitoring",): 3, ("patrol_dispatched",): 3, ("turned_back",): 1},
        {"car": 5, "truck": 2, "motorcycle": 1}, kinds={"car": 5, "truck": 2, "motorcycle": 1}),
    "suspicious_aircraft": _Profile(
        (.5, .35, .12, .03), "night", 0, 0,
        {("monitoring",): 4, ("neighbour_notified",): 2, ("patrol_dispatched",): 1},
        kinds={"drone": 7, "aircraft": .5, "helicopter": .5, "balloon": .3, "unknown": 1.5}),
    "damaged_border_sign": _Profile(
        (.9, .1, 0, 0), "day", 0, 0,
        {("monitoring",): 2, ("neighbour_notified",): 2, ("other",): 1}, offset_km=0.2),
    "lost_person": _Profile(
        (.3, .5, .15, .05), "flat", 0, 1.3,
        {("rescued",): 4, ("patrol_dispatched",): 3, ("neighbour_notified",): 1}, {"on_foot": 1},
        offset_km=3.0),
}
REACTION_SETS: tuple[tuple[str, ...], ...] = tuple(
    dict.fromkeys(r for p in _PROFILES.values() for r in p.reaction))
_AIRCRAFT_TRANSPORT = {"drone": "drone", "aircraft": "aircraft", "helicopter": "aircraft"}

_HOURS: dict[str, list[float]] = {  # local hour weights 0..23
    "night": [6, 6, 6, 5, 4, 3, 2, 1.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2, 3, 4, 5, 6, 6],
    "day": [.3, .3, .2, .2, .3, .5, 1, 2, 4, 5, 5, 5, 4.5, 5, 5, 5, 4, 3, 2, 1.5, 1, .8, .5, .4],
    "flat": [1.0] * 24,
}
_UTC_OFFSET_H = {"KG": 6}  # the others keep UTC+5
# Monthly factors, January..December (interpolated day by day).
_PASS_OPEN = [.08, .08, .15, .45, .85, 1, 1, 1, 1, .8, .35, .1]  # high passes under snow
_LOW_WATER = [1.4, 1.3, 1.0, .8, .6, .5, .5, .6, .9, 1.2, 1.4, 1.5]  # Panj / Amu Darya
_MIGRATION = [.8, .9, 1.5, 1.8, 1.5, .9, .85, .85, .85, 1.0, 1.3, 1.3]  # labour migration
_OUTWARD = [.5, .55, .75, .8, .75, .6, .5, .5, .45, .4, .3, .3]  # share leaving the origin
_HAZARD_SEASON = [1.5, 1.5, 1.6, 1.8, 1.6, 1.0, .6, .5, .4, .5, .7, 1.2]
_HAZARDS: tuple[dict[str, float], ...] = (  # by season: Dec-Mar, Apr-Jul, Aug-Nov
    {"avalanche": 6, "landslide": 1, "earthquake": 1.5, "flood": .5, "other": .5},
    {"mudflow": 4.5, "flood": 2.5, "landslide": 1.5, "earthquake": 1, "avalanche": .5},
    {"wildfire": 3, "earthquake": 3, "landslide": 2, "mudflow": 1, "flood": 1},
)
_WEEKDAY = [1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.9]  # Monday..Sunday
# Elevation proxy: a section whose centroid lies in one of these boxes
# (lon0, lat0, lon1, lat1) crosses high passes that snow closes in winter.
HIGH_PASS_BOXES: dict[str, tuple[float, float, float, float]] = {
    "Pamir (eastern Badakhshan, TJ-CN, Zaalay)": (70.9, 36.5, 75.5, 39.7),
    "Central and inner Tian Shan (KG-CN, Khan Tengri)": (73.5, 39.4, 80.5, 42.6),
    "Turkestan and Alay ranges (high KG-TJ)": (69.2, 39.3, 70.9, 39.75),
}
_MIGRANT_TYPES = ("green_border_crossing", "migrant_smuggling", "clandestine_at_bcp",
                  "document_fraud", "human_trafficking")
_DETECTION: dict[str, dict[str, float]] = {
    "clandestine_at_bcp": {"bcp_check": 1},
    "river_crossing": {"surveillance": 5, "patrol": 4.5, "other": .5},
    "default": {"patrol": 5, "surveillance": 3, "bcp_check": 1, "other": 1},
}
_CONFIDENCE = ([.1, .45, .3, .08, .02, .05], [.25, .4, .2, .08, .02, .05])


def is_high_pass(lon: float, lat: float) -> bool:
    """Whether a section centroid lies in one of the :data:`HIGH_PASS_BOXES`."""
    return any(a <= lon <= c and b <= lat <= d for a, b, c, d in HIGH_PASS_BOXES.values())


def is_river(border: str, lon: float) -> bool:
    """Whether a section runs along the Panj / Amu Darya (all AF-TJ, AF-UZ, eastern AF-TM)."""
    return border in ("AF-TJ", "AF-UZ") or (border == "AF-TM" and lon >= 65.4)


def _monthly(table: Sequence[float], months: F64) -> F64:
    """Smooth a January..December table over fractional months (0 = 1 January)."""
    x = np.arange(-1, 13) + 0.5
    y = np.array([table[11], *table, table[0]], dtype=np.float64)
    return np.asarray(np.interp(months, x, y), dtype=np.float64)


def _weights(table: Mapping[Any, float], values: Sequence[Any]) -> F64:
    w = np.array([table.get(v, 0.0) for v in values], dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


# --------------------------------------------------------------------------- geometry


@dataclass
class _Geometry:
    """Border sections as flat arrays of projected segments, for vectorised placement."""

    sections: tuple[BorderSection, ...]
    border: list[str]
    lon: F64
    lat: F64
    high_pass: npt.NDArray[np.bool_]
    river: npt.NDArray[np.bool_]
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


def _country_code(code: str) -> int:
    return COUNTRIES.index(code) if code in COUNTRIES else COUNTRIES.index("XX")


def _build_geometry(sections: Sequence[BorderSection]) -> _Geometry:
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
        side_a.append(_country_code(a))
        side_b.append(_country_code(b))
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
    return _Geometry(
        sections, border, np.array(lon), np.array(lat), np.array(high), np.array(river),
        np.array(side_a, dtype=np.int8), np.array(side_b, dtype=np.int8), np.array(p_a),
        first, count, xs, ys, dx, dy, length, cum, left,
        np.cumsum(bcp_count) - bcp_count, bcp_count,
        np.array([f[0] for f in flat], dtype=np.float64),
        np.array([f[1] for f in flat], dtype=np.float64))


def _along(geo: _Geometry, sec: IntP, u: F64) -> tuple[F64, F64, F64, F64, I8]:
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


# --------------------------------------------------------------------------- rates


def _calendar(start: datetime, n_days: int) -> tuple[F64, IntP]:
    """Fractional month (0 = 1 January) and weekday (0 = Monday) of each scenario day."""
    d64 = np.datetime64(start.date(), "D") + np.arange(n_days)
    months = d64.astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    dim = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    month = (months - d64.astype("datetime64[Y]").astype("datetime64[M]")).astype(np.int64)
    frac = month + (d64 - first).astype(np.int64) / dim
    return np.asarray(frac, dtype=np.float64), np.asarray((d64.astype(np.int64) + 3) % 7)


def _rates(geo: _Geometry, months: F64, weekday: IntP, scale: float,
           rng: np.random.Generator) -> F64:
    """Expected events per (section, day, type): border, length, season, weekday."""
    n_sec, n_types = len(geo.sections), len(TYPES)
    base = np.zeros((n_sec, n_types))
    hetero = rng.lognormal(-0.125, 0.5, n_sec)  # some sections are hotspots, some quiet
    for i, s in enumerate(geo.sections):
        b = _BORDERS.get(geo.border[i], _DEFAULT_BORDER)
        mix = {**_BASE_MIX, **b.mix}
        if not geo.river[i]:
            mix["green_border_crossing"] += mix["river_crossing"]
            mix["river_crossing"] = 0.0
        if geo.high_pass[i]:
            mix["natural_disaster"] *= 3
        w = np.array([mix[t] for t in TYPES]) / sum(mix.values())
        for t in ("clandestine_at_bcp", "document_fraud", "excise_goods_smuggling",
                  "stolen_vehicle"):  # checks find these at the crossing points
            w[_T[t]] *= 1 + 1.5 * min(int(geo.bcp_count[i]), 2) * b.bcp
        base[i] = b.rate * s.length_km * hetero[i] * w * scale / 365.25
    lam: F64 = base[:, None, :] * np.array(_WEEKDAY)[weekday][None, :, None]
    nat = _T["natural_disaster"]
    hazard = lam[:, :, nat] * _monthly(_HAZARD_SEASON, months)[None, :]
    lam *= np.where(geo.high_pass[:, None], _monthly(_PASS_OPEN, months)[None, :], 1.0)[:, :, None]
    lam[:, :, nat] = hazard
    water = np.where(geo.river[:, None], _monthly(_LOW_WATER, months)[None, :], 1.0)
    for t in ("river_crossing", "drug_smuggling", "green_border_crossing"):
        lam[:, :, _T[t]] *= water
    moving = np.array([_BORDERS.get(b, _DEFAULT_BORDER).destination is not None
                       for b in geo.border])
    migration = np.where(moving[:, None], _monthly(_MIGRATION, months)[None, :], 1.0)
    for t in _MIGRANT_TYPES:
        lam[:, :, _T[t]] *= migration
    return lam


# --------------------------------------------------------------------------- planting


@dataclass
class _Planted:
    sec: list[IntP] = field(default_factory=list)
    day: list[I64] = field(default_factory=list)
    typ: list[IntP] = field(default_factory=list)
    mark: list[I16] = field(default_factory=list)
    x: list[F64] = field(default_factory=list)  # fixed projected positions (nan: place normally)
    y: list[F64] = field(default_factory=list)

    def add(self, sec: int, days: I64, typ: int, mark: int,
            xy: tuple[F64, F64] | None = None) -> None:
        n = days.size
        self.sec.append(np.full(n, sec, dtype=np.intp))
        self.day.append(days.astype(np.int64))
        self.typ.append(np.full(n, typ, dtype=np.intp))
        self.mark.append(np.full(n, mark, dtype=np.int16))
        self.x.append(xy[0] if xy else np.full(n, np.nan))
        self.y.append(xy[1] if xy else np.full(n, np.nan))


def _iso_day(start: datetime, day: float) -> str:
    return _iso(int((start + timedelta(days=day)).timestamp()) * _US)


_Surge = tuple[int, int, int, int, float]  # section, type, first day, end day, factor


def _plant(geo: _Geometry, lam: F64, start: datetime, years: float, scale: float,
           rng: np.random.Generator) -> tuple[list[dict[str, Any]], _Planted, list[_Surge]]:
    """Plant trend shifts and clusters, choose anomalies (filled in by :func:`_surge`).

    Scales ``lam`` down where a trend falls, so call it before drawing the background.
    """
    n_sec, n_days, _ = lam.shape
    truth: list[dict[str, Any]] = []
    out = _Planted()
    used: set[int] = set()
    surges: list[_Surge] = []
    # (a) Anomalies: k times the usual rate of a busy (section, type) for d days.
    totals = lam.sum(axis=1)
    busy = np.argsort(totals, axis=None)[::-1][:24]
    for _ in range(max(3, round(2 * years))):
        order = rng.permutation(busy)
        s, t = 0, 0
        for cell in order:
            s, t = divmod(int(cell), len(TYPES))
            if s not in used:
                break
        used.add(s)
        k = float(rng.integers(6, 13)) / 2  # 3.0 .. 6.0
        dur = int(min(rng.integers(3, 15), n_days))
        d0, best = 0, -1.0
        for _try in range(20):  # prefer a window with a usable baseline (not a closed pass)
            cand = int(rng.integers(0, n_days - dur + 1))
            b = float(lam[s, cand:cand + dur, t].sum())
            if b > best:
                d0, best = cand, b
            if b >= 3:
                break
        surges.append((s, t, d0, d0 + dur, k))
        truth.append(_truth("anomaly", geo, s, t, start, d0, d0 + dur, k, best, 0))
    # (b) Trend shift: displacement from one section to its neighbour on the same border.
    pairs = [i for i in range(n_sec - 1) if geo.border[i] == geo.border[i + 1]
             and not {i, i + 1} & used and not geo.high_pass[i] and not geo.high_pass[i + 1]]
    if pairs:  # among the busiest pairs, so that the shift is there to be found
        activity = [min(totals[i].sum(), totals[i + 1].sum()) for i in pairs]
        i = int(rng.choice(np.array(pairs)[np.argsort(activity)[::-1][:20]]))
        down, up = (i, i + 1) if rng.random() < 0.5 else (i + 1, i)
        t = int(np.argmax(totals[down] + totals[up]))
        d0 = int(rng.integers(int(0.35 * n_days), int(0.65 * n_days) + 1))
        ramp = int(rng.integers(60, 121)) if rng.random() < 0.5 else 0
        f_down, f_up = float(rng.uniform(0.3, 0.6)), float(rng.uniform(1.8, 3.0))
        progress = np.clip((np.arange(n_days) - d0 + 1) / max(ramp, 1), 0.0, 1.0)
        progress[: d0] = 0.0
        before = {s: float(lam[s, d0:, t].sum()) for s in (down, up)}
        lam[down, :, t] *= 1 - (1 - f_down) * progress
        days = np.repeat(np.arange(n_days), rng.poisson(lam[up, :, t] * (f_up - 1) * progress))
        pair = len(truth)
        for s, f, n in ((down, f_down, 0), (up, f_up, days.size)):
            entry = _truth("trend_shift", geo, s, t, start, d0, n_days, f, before[s], n)
            entry.update(shape="ramp" if ramp else "step", ramp_days=ramp,
                         pair=pair + (1 if s == down else 0))
            truth.append(entry)
        out.add(up, days, t, pair + 1)
        used |= {down, up}
    # (c) Space-time clusters: armed incidents on KG-TJ, crossings on KZ-UZ / KG-UZ.
    for kind, borders, size in (("armed_incident", ("KG-TJ",), 12),
                                ("green_border_crossing", ("KZ-UZ", "KG-UZ"), 25)):
        cands = [i for i in range(n_sec) if geo.border[i] in borders and i not in used
                 and not geo.high_pass[i]] or [i for i in range(n_sec) if i not in used]
        s = int(rng.choice(cands))
        used.add(s)
        dur = int(min(rng.integers(2, 8), n_days))
        d0 = int(rng.integers(0, n_days - dur + 1))
        radius = float(rng.uniform(3, 6))
        n = max(6, round(size * scale))
        cx, cy, nx, ny, left = _along(geo, np.array([s]), rng.uniform(0.3, 0.7, 1))
        side = float(left[0]) if left[0] else 1.0
        cx, cy = cx + side * 1.5 * nx, cy + side * 1.5 * ny  # just inside country A
        r = np.minimum(np.abs(rng.normal(0, radius / 2, n)), radius)
        a = rng.uniform(0, 2 * np.pi, n)
        xy = (cx[0] + r * np.cos(a), cy[0] + r * np.sin(a))
        out.add(s, d0 + rng.integers(0, dur, n), _T[kind], len(truth), xy)
        entry = _truth("cluster", geo, s, _T[kind], start, d0, d0 + dur, None,
                       float(lam[s, d0:d0 + dur, _T[kind]].sum()), n)
        lon, lat = unproject(cx, cy)
        entry.update(centre=[round(float(lon[0]), 5), round(float(lat[0]), 5)],
                     radius_km=round(radius, 2))
        truth.append(entry)
    return truth, out, surges


def _surge(truth: list[dict[str, Any]], out: _Planted, surges: list[_Surge], lam: F64,
           counts: npt.NDArray[np.int64], rng: np.random.Generator) -> None:
    """Top each anomaly window up to ``factor`` x its expected background count."""
    anomalies = [i for i, t in enumerate(truth) if t["kind"] == "anomaly"]
    for j, (s, t, d0, d1, k) in zip(anomalies, surges, strict=True):
        expected = lam[s, d0:d1, t]
        base = float(expected.sum())
        n = max(round(k * base) - int(counts[s, d0:d1, t].sum()), round((k - 1) * base / 2))
        if n and base > 0:
            out.add(s, d0 + rng.choice(d1 - d0, n, p=expected / base), t, j)
        truth[j]["planted"] = int(n if base > 0 else 0)


def _truth(kind: str, geo: _Geometry, sec: int, typ: int, start: datetime, d0: int, d1: int,
           factor: float | None, baseline: float, planted: int) -> dict[str, Any]:
    return {"kind": kind, "section_id": geo.sections[sec].id, "type": TYPES[typ],
            "start": _iso_day(start, d0), "end": _iso_day(start, d1),
            "factor": None if factor is None else round(factor, 3),
            "centre": None, "radius_km": None, "baseline": round(baseline, 1),
            "planted": int(planted)}


# --------------------------------------------------------------------------- attributes


def _pick(rng: np.random.Generator, n: int, table: Mapping[Any, float],
          values: Sequence[Any]) -> I8:
    """Codes into ``values`` drawn with the weights of ``table`` (-1 if the table is empty)."""
    if not table:
        return np.full(n, -1, dtype=np.int8)
    return rng.choice(len(values), n, p=_weights(table, values)).astype(np.int8)


def _attributes(rng: np.random.Generator, geo: _Geometry, start_us: int, months: F64,
                sec: IntP, day: I64, typ: IntP, fx: F64, fy: F64) -> dict[str, Any]:
    """Every column of the events (unsorted), drawn type by type and border by border."""
    n = sec.size
    borders = sorted(set(geo.border))
    border_of = np.array([borders.index(b) for b in geo.border], dtype=np.intp)[sec]
    profile = [_PROFILES[t] for t in TYPES]
    by_type = [np.flatnonzero(typ == t) for t in range(len(TYPES))]
    by_border = [np.flatnonzero(border_of == b) for b in range(len(borders))]
    month = np.floor(months[day]).astype(np.intp)
    # Who reports, and where.
    rep_a = rng.random(n) < geo.p_report_a[sec]
    country = np.where(rep_a, geo.side_a[sec], geo.side_b[sec]).astype(np.int8)
    bcp_share = np.array([p.bcp for p in profile])[typ] * np.array(
        [_BORDERS.get(b, _DEFAULT_BORDER).bcp for b in borders])[border_of]
    at_bcp = (rng.random(n) < bcp_share) & (geo.bcp_count[sec] > 0)
    x, y, nx, ny, left = _along(geo, sec, rng.random(n))
    near = np.minimum(rng.exponential(1.0, n) * np.array([p.offset_km for p in profile])[typ], 5)
    offset = np.where(rng.random(n) < 0.12, rng.uniform(5, 40, n), near)
    side = np.where(left == 0, rng.choice([-1, 1], n), left) * np.where(rep_a, 1, -1)
    x += side * offset * nx
    y += side * offset * ny
    if geo.bcp_x.size:
        j = np.minimum(geo.bcp_first[sec] + (rng.random(n) * geo.bcp_count[sec]).astype(np.intp),
                       geo.bcp_x.size - 1)
        x = np.where(at_bcp, geo.bcp_x[j] + rng.normal(0, 0.8, n), x)
        y = np.where(at_bcp, geo.bcp_y[j] + rng.normal(0, 0.8, n), y)
    fixed = np.zeros(n, dtype=bool)  # cluster events come last, with their own positions
    tail = slice(n - fx.size, n)
    fixed[tail] = ~np.isnan(fx)
    x[tail], y[tail] = np.where(fixed[tail], fx, x[tail]), np.where(fixed[tail], fy, y[tail])
    del nx, ny
    section = np.where(at_bcp | fixed | (offset <= 25), sec, -1).astype(np.int16)
    lon, lat = unproject(x, y)
    del x, y
    precision = np.where(at_bcp, rng.choice([100, 250, 500], n),
                         rng.choice([50, 100, 250, 500, 1000, 2000], n)).astype(np.int32)
    # When: a diurnal profile in local time, reported minutes to hours later.
    hour = np.zeros(n, dtype=np.int64)
    for name, weights in _HOURS.items():
        idx = np.flatnonzero(np.array([p.hours == name for p in profile])[typ])
        hour[idx] = rng.choice(24, idx.size, p=np.array(weights) / sum(weights))
    tz = np.array([_UTC_OFFSET_H.get(c, 5) for c in COUNTRIES])[country]
    seconds = (hour * 3600 + rng.integers(0, 3600, n) - tz * 3600) % 86_400
    occurred = start_us + day * _DAY_US + seconds * _US
    delay = np.clip(rng.lognormal(np.log(1800), 1.0, n), 60, 23 * 3600).astype(np.int64)
    cols: dict[str, Any] = {
        "occurred_at": occurred, "reported_at": occurred + delay * _US,
        "lon": np.round(lon, 5), "lat": np.round(lat, 5), "precision_m": precision,
        "type": typ.astype(np.int8), "section": section, "country": country,
        "reliability": rng.choice(6, n, p=_CONFIDENCE[0]).astype(np.int8),
        "credibility": (rng.choice(6, n, p=_CONFIDENCE[1]) + 1).astype(np.int8),
        "handling": rng.choice(4, n, p=[.15, .72, .05, .08]).astype(np.int8),
        "status": (rng.random(n) < 0.8).astype(np.int8),
    }
    for name in ("impact", "transport", "modus", "reaction", "kind", "kind2", "stage",
                 "direction", "detection", "unit", "sex", "age", "nationality"):
        cols[name] = np.full(n, -1, dtype=np.int8)
    for name in ("persons", "killed", "injured", "shots"):
        cols[name] = np.full(n, -1 if name == "shots" else 0, dtype=np.int16)
    quantity = np.full(n, np.nan, dtype=np.float64)
    for t, idx in enumerate(by_type):
        p, k = profile[t], idx.size
        cols["impact"][idx] = _pick(rng, k, dict(zip(IMPACTS, p.impact, strict=True)), IMPACTS)
        cols["transport"][idx] = _pick(rng, k, p.transport, TRANSPORTS)
        cols["modus"][idx] = _pick(rng, k, p.modus, MODI)
        cols["reaction"][idx] = _pick(rng, k, p.reaction, REACTION_SETS)
        if TYPES[t] in KIND_OF and p.kinds:
            cols["kind"][idx] = _pick(rng, k, p.kinds, KIND_OF[TYPES[t]][1])
        if p.persons:
            cols["persons"][idx] = np.minimum(rng.geometric(1 / p.persons, k), 400)
            female = .6 if TYPES[t] == "human_trafficking" else .07
            cols["sex"][idx] = rng.choice(3, k, p=[.95 - female, female, .05])
            minor = .2 if TYPES[t] == "human_trafficking" else .04
            cols["age"][idx] = rng.choice(3, k, p=[minor, .94 - minor, .06])
        if "stage" in EVENT_TYPES[TYPES[t]].details:
            cols["stage"][idx] = rng.random(k) < .65
            det = _DETECTION.get(TYPES[t], _DETECTION["default"])
            cols["detection"][idx] = _pick(rng, k, det, DETECTIONS)
            cols["detection"][idx[offset[idx] > 10]] = DETECTIONS.index("inland")
    # Type details that depend on the border or the season.
    drug = by_type[_T["drug_smuggling"]]
    for b, idx in enumerate(by_border):
        prof = _BORDERS.get(borders[b], _DEFAULT_BORDER)
        a, c = borders[b].split("-")
        nat = prof.people or {a: .45, c: .45, "XX": .1}
        cols["nationality"][idx] = _pick(rng, idx.size, nat, COUNTRIES)
        d = np.intersect1d(idx, drug, assume_unique=True)
        cols["kind"][d] = _pick(rng, d.size, _SUBSTANCES[prof.drugs], KIND_OF["drug_smuggling"][1])
    nd = by_type[_T["natural_disaster"]]
    season = np.select([np.isin(month[nd], [11, 0, 1, 2]), np.isin(month[nd], [3, 4, 5, 6])],
                       [0, 1], 2)
    for si, table in enumerate(_HAZARDS):
        idx = nd[season == si]
        cols["kind"][idx] = _pick(rng, idx.size, table, KIND_OF["natural_disaster"][1])
    for tname, victims in (("natural_disaster", (.15, .4)), ("armed_incident", (.3, .7))):
        idx = by_type[_T[tname]]
        cols["killed"][idx] = rng.poisson(victims[0], idx.size)
        cols["injured"][idx] = rng.poisson(victims[1], idx.size)
    armed = by_type[_T["armed_incident"]]
    cols["shots"][armed] = rng.random(armed.size) < .7
    cols["killed"][armed[cols["shots"][armed] == 0]] = 0
    cols["impact"][armed[cols["killed"][armed] > 0]] = IMPACTS.index("very_high")
    doc = by_type[_T["document_fraud"]]
    cols["kind2"][doc] = _pick(rng, doc.size, {"forged": 4, "counterfeit": 2, "impostor": 3,
                                               "fraudulently_obtained": 1}, FRAUD_KINDS)
    air = by_type[_T["suspicious_aircraft"]]
    kinds = KIND_OF["suspicious_aircraft"][1]
    lut = np.array([TRANSPORTS.index(_AIRCRAFT_TRANSPORT.get(k, "other")) for k in kinds])
    cols["transport"][air] = lut[cols["kind"][air]]
    _quantities(rng, cols, quantity, by_type)
    # Directions: Northern Route drugs go north, precursors south, migrants out in spring.
    north = np.array([_country_code(_BORDERS.get(b, _DEFAULT_BORDER).north or "XX")
                      for b in borders], dtype=np.int8)[border_of]
    dest = np.array([_country_code(_BORDERS.get(b, _DEFAULT_BORDER).destination or "XX")
                     for b in borders], dtype=np.int8)[border_of]
    p_exit = np.full(n, 0.5)
    flow = np.isin(typ, [_T[t] for t in ("drug_smuggling", "weapons_smuggling")]) & (north != 14)
    precursor = (typ == _T["drug_smuggling"]) & (
        cols["kind"] == KIND_OF["drug_smuggling"][1].index("precursor"))
    p_exit[flow] = np.where((country == north)[flow] != precursor[flow], 0.1, 0.9)
    moving = np.isin(typ, [_T[t] for t in _MIGRANT_TYPES]) & (dest != 14)
    out = _monthly(_OUTWARD, months)[day]
    p_exit[moving] = np.where((country == dest)[moving], 1 - out[moving], out[moving])
    direction = (rng.random(n) < p_exit).astype(np.int8)
    has_dir = np.array(["direction" in EVENT_TYPES[t].details for t in TYPES])[typ]
    has_dir &= (typ != _T["suspicious_person"]) | (rng.random(n) < 0.6)
    cols["direction"] = np.where(has_dir, direction, -1).astype(np.int8)
    # No boats or river tactics away from the rivers.
    dry = ~geo.river[sec]
    cols["transport"][dry & (cols["transport"] == TRANSPORTS.index("boat"))] = 0
    cols["modus"][dry & (cols["modus"] == MODI.index("river_crossing"))] = 0
    cols["quantity"] = quantity
    return cols


def _quantities(rng: np.random.Generator, cols: dict[str, Any], quantity: F64,
                by_type: list[IntP]) -> None:
    """Seizure sizes: log-normal per substance or goods; big drug seizures raise the impact."""
    for tname in ("drug_smuggling", "weapons_smuggling", "excise_goods_smuggling"):
        idx = by_type[_T[tname]]
        values = KIND_OF[tname][1]
        for c, kind in enumerate(values):
            sel = idx[cols["kind"][idx] == c]
            key = "goods_other" if tname == "excise_goods_smuggling" and kind == "other" else kind
            unit, median, sigma = _QUANTITY[key]
            q = rng.lognormal(np.log(median), sigma, sel.size)
            if unit in ("pieces", "rounds", "packs", "tablets"):
                q = np.maximum(np.round(q), 1)
                cols["unit"][sel] = UNITS.index(unit)
            elif unit == "kg":
                small = (q < 1) & (tname == "drug_smuggling")  # only drugs are weighed in g
                q = np.maximum(q, 0.01)
                q = np.where(small, np.round(q * 1000, 1), np.round(q, 2))
                cols["unit"][sel] = np.where(small, UNITS.index("g"), UNITS.index("kg"))
                if tname == "drug_smuggling":
                    imp = cols["impact"]
                    imp[sel[~small & (q > 10)]] = np.maximum(imp[sel[~small & (q > 10)]], 2)
                    imp[sel[~small & (q > 50)]] = 3
            else:
                q = np.round(q, 1)
                cols["unit"][sel] = UNITS.index(unit)
            quantity[sel] = q
    epi = by_type[_T["epidemic"]]
    quantity[epi] = np.maximum(np.round(rng.lognormal(np.log(8), 1.2, epi.size)), 1)


# --------------------------------------------------------------------------- the scenario


def _iso(us: int) -> str:
    """A generated moment (µs) as the API writes it; the scenario reports whole seconds."""
    return iso(from_micros(us), "seconds")


def _micros(value: date | datetime) -> int:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_micros(value)


_COLUMNS = ("occurred_at", "reported_at", "lon", "lat", "precision_m", "type", "section",
            "country", "impact", "reliability", "credibility", "handling", "status",
            "transport", "modus", "reaction", "kind", "kind2", "quantity", "unit", "stage",
            "direction", "detection", "killed", "injured", "shots", "persons", "nationality",
            "sex", "age", "planted")


@dataclass(frozen=True, eq=False)
class Scenario:
    """Synthetic events in columnar form, sorted by ``occurred_at``, with their ground truth.

    Code columns are indexes into the module's code tables (``type`` into
    :attr:`types`, ``section`` into :attr:`section_ids` or -1 when the event lies
    more than 25 km inland, ``country``/``nationality`` into :data:`COUNTRIES`,
    ``kind`` into the values of :data:`KIND_OF` for the type, ``reaction`` into
    :data:`REACTION_SETS`...); -1 means absent. ``quantity`` holds the number of
    cases for epidemics. ``planted`` is the index of the :attr:`truth` entry
    that planted the event, or -1 for background.
    """

    occurred_at: I64  # µs since the epoch, UTC
    reported_at: I64
    lon: F64
    lat: F64
    precision_m: npt.NDArray[np.int32]
    type: I8
    section: I16
    country: I8
    impact: I8
    reliability: I8
    credibility: I8
    handling: I8
    status: I8
    transport: I8
    modus: I8
    reaction: I8
    kind: I8
    kind2: I8
    quantity: F64
    unit: I8
    stage: I8
    direction: I8
    detection: I8
    killed: I16
    injured: I16
    shots: I16
    persons: I16
    nationality: I8
    sex: I8
    age: I8
    planted: I16
    section_ids: tuple[str, ...]
    truth: list[dict[str, Any]]
    seed: int
    start_us: int
    end_us: int
    types: tuple[str, ...] = TYPES

    def __len__(self) -> int:
        return int(self.occurred_at.size)

    def _select(self, sel: slice | npt.NDArray[Any]) -> Scenario:
        return replace(self, **{name: getattr(self, name)[sel] for name in _COLUMNS})

    def window(self, since: date | datetime | int, until: date | datetime | int) -> Scenario:
        """The events with ``since <= occurred_at < until`` (µs or dates/datetimes, UTC)."""
        lo, hi = (v if isinstance(v, int) else _micros(v) for v in (since, until))
        a, b = np.searchsorted(self.occurred_at, [lo, hi], side="left")
        return self._select(slice(int(a), int(b)))

    def payloads(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """API-ready JSON dicts (``EventCreate`` shape) of events ``start`` to ``stop``."""
        stop = len(self) if stop is None else min(stop, len(self))
        for lo in range(start, stop, 4096):
            yield from self._build(lo, min(lo + 4096, stop))

    def payload(self, i: int) -> dict[str, Any]:
        """The API-ready JSON dict of event ``i``."""
        i = range(len(self))[i]  # IndexError when out of range; negative counts from the end
        return self._build(i, i + 1)[0]

    def batches(self, size: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Payloads in lists of ``size`` (the API takes up to 10,000 per batch)."""
        for lo in range(0, len(self), size):
            yield list(self.payloads(lo, lo + size))

    def truth_json(self) -> list[dict[str, Any]]:
        """The planted ground truth (JSON-serialisable), with its index as ``id``."""
        return [{"id": i, **t} for i, t in enumerate(self.truth)]

    def _build(self, lo: int, hi: int) -> list[dict[str, Any]]:
        c = {name: getattr(self, name)[lo:hi].tolist() for name in _COLUMNS}
        out = []
        for i in range(hi - lo):
            t = self.types[c["type"][i]]
            details: dict[str, Any] = {}
            if (k := c["kind"][i]) >= 0:
                attr, values = KIND_OF[t]
                details[attr] = values[k]
            if c["kind2"][i] >= 0:
                details["fraud_kind"] = FRAUD_KINDS[c["kind2"][i]]
            if c["unit"][i] >= 0:
                details["quantity"] = c["quantity"][i]
                details["unit"] = UNITS[c["unit"][i]]
            if t == "epidemic":
                details["cases"] = int(c["quantity"][i])
            if c["stage"][i] >= 0:
                details["stage"] = STAGES[c["stage"][i]]
                details["detection"] = DETECTIONS[c["detection"][i]]
            if c["direction"][i] >= 0:
                details["direction"] = DIRECTIONS[c["direction"][i]]
            if t in ("natural_disaster", "armed_incident"):
                details["killed"], details["injured"] = c["killed"][i], c["injured"][i]
            if c["shots"][i] >= 0:
                details["shots_fired"] = bool(c["shots"][i])
            persons = [] if c["persons"][i] <= 0 else [{
                "nationality": COUNTRIES[c["nationality"][i]], "sex": SEXES[c["sex"][i]],
                "age_group": AGE_GROUPS[c["age"][i]], "count": c["persons"][i]}]
            s = c["section"][i]
            where = f"near {self.section_ids[s]}" if s >= 0 else "inland"
            out.append({
                "type": t,
                "occurred_at": _iso(c["occurred_at"][i]),
                "reported_at": _iso(c["reported_at"][i]),
                "location": {"lon": c["lon"][i], "lat": c["lat"][i],
                             "precision_m": float(c["precision_m"][i])},
                "impact_level": IMPACTS[c["impact"][i]],
                "confidence": {"source_reliability": RELIABILITY[c["reliability"][i]],
                               "information_credibility": c["credibility"][i]},
                "handling": HANDLINGS[c["handling"][i]],
                "details": details,
                "persons": persons,
                "transport": TRANSPORTS[c["transport"][i]] if c["transport"][i] >= 0 else None,
                "modus_operandi": [MODI[c["modus"][i]]] if c["modus"][i] >= 0 else [],
                "reaction": list(REACTION_SETS[c["reaction"][i]]),
                "description": f"[synthetic] {t.replace('_', ' ')} {where}",
                "country": COUNTRIES[c["country"][i]],
                "status": STATUSES[c["status"][i]],
            })
        return out


def generate(years: float = 3, *, seed: int = 1, start: date | datetime = DEFAULT_START,
             scale: float = 1.0, sections: Sequence[BorderSection] | None = None,
             anomalies: bool = True) -> Scenario:
    """Generate ``years`` of synthetic reports (≈ 50,000 a year at ``scale`` 1).

    Deterministic for ``seed`` (numpy PCG64). ``scale`` multiplies every rate
    (background and planted alike); ``sections`` defaults to the shipped border
    sections; ``anomalies=False`` plants nothing and leaves ``truth`` empty.
    """
    if years <= 0 or scale <= 0:
        raise ValueError("years and scale must be positive")
    rng = np.random.Generator(np.random.PCG64(seed))
    geo = _geometry(tuple(sections) if sections is not None else None)
    start_us = _micros(start)
    start_dt = _EPOCH + timedelta(microseconds=start_us)
    n_days = max(1, round(years * 365.25))
    months, weekday = _calendar(start_dt, n_days)
    lam = _rates(geo, months, weekday, scale, rng)
    truth, planted, surges = _plant(geo, lam, start_dt, years, scale, rng) if anomalies else (
        [], _Planted(), [])
    # Background: gamma-mixed Poisson (negative binomial); armed incidents come in bursts.
    shape = np.where(np.array(TYPES) == "armed_incident", 0.3, 3.0)
    counts = rng.poisson(lam * rng.gamma(shape, 1 / shape, lam.shape))
    _surge(truth, planted, surges, lam, counts, rng)
    del lam
    flat = counts.reshape(-1)
    cells = np.repeat(np.flatnonzero(flat), flat[flat > 0])
    del counts, flat
    n_types = len(TYPES)
    sec = np.concatenate([cells // (n_days * n_types), *planted.sec]).astype(np.intp)
    day = np.concatenate([(cells // n_types) % n_days, *planted.day]).astype(np.int64)
    typ = np.concatenate([cells % n_types, *planted.typ]).astype(np.intp)
    mark = np.concatenate([np.full(cells.size, -1, dtype=np.int16), *planted.mark])
    fx, fy = np.concatenate([np.zeros(0), *planted.x]), np.concatenate([np.zeros(0), *planted.y])
    del cells
    cols = _attributes(rng, geo, start_us, months, sec, day, typ, fx, fy)
    del sec, day, typ
    cols["planted"] = mark
    order = np.argsort(cols["occurred_at"], kind="stable")
    sorted_cols = {name: cols.pop(name)[order] for name in _COLUMNS}
    return Scenario(**sorted_cols, section_ids=tuple(s.id for s in geo.sections), truth=truth,
                    seed=seed, start_us=start_us, end_us=start_us + n_days * _DAY_US)


_GEOMETRY: dict[tuple[BorderSection, ...] | None, _Geometry] = {}


def _geometry(sections: tuple[BorderSection, ...] | None) -> _Geometry:
    """Geometry arrays for these sections (the shipped ones are built once)."""
    if sections is None:
        if None not in _GEOMETRY:
            _GEOMETRY[None] = _build_geometry(load_default_sections())
        return _GEOMETRY[None]
    return _build_geometry(sections)


def live_events(rate_per_minute: float, *, seed: int,
                now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Endless new reports with the scenario's mix, as a live feed would bring them.

    Reports arrive as a Poisson process of ``rate_per_minute``. With ``now``
    given the clock is simulated: the first report is stamped ``now`` plus one
    gap and nothing sleeps. With ``now=None`` the generator sleeps between
    reports and stamps them with the wall clock. ``reported_at`` is the arrival,
    ``occurred_at`` minutes to hours before it; status is ``reported``.
    """
    if rate_per_minute <= 0:
        raise ValueError("rate_per_minute must be positive")
    rng = np.random.Generator(np.random.PCG64(seed))
    clock = now.astimezone(UTC) if now is not None else datetime.now(UTC)
    pool = generate(0.25, seed=seed, start=(clock - timedelta(days=92)).date(), anomalies=False)
    while True:
        gap = float(rng.exponential(60.0 / rate_per_minute))
        if now is None:
            time.sleep(gap)
            clock = datetime.now(UTC)
        else:
            clock += timedelta(seconds=gap)
        i = int(rng.integers(len(pool)))
        item = pool.payload(i)
        delay = int(pool.reported_at[i] - pool.occurred_at[i])
        stamp = _micros(clock)
        item.update(reported_at=_iso(stamp), occurred_at=_iso(stamp - delay), status="reported")
        yield item
