"""The numbers of the synthetic scenario: what its columns hold and how the borders behave.

The code tables the scenario's columns index into (:data:`COUNTRIES`,
:data:`KIND_OF`, :data:`REACTION_SETS`...) and the model that
:mod:`sitcen.demo.scenario` draws from: each border's rate, type mix, flows and
people, each event type's profile, the seasons and the time of day. The
values are ours, chosen to look plausible, not estimates of real flows (see
docs/scenario.md). Tables and small lookups only: nothing here draws at
random. Other code takes the public names from :mod:`sitcen.demo.scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

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

# The arrays of the scenario's columns and of the steps that draw them.
I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
IntP = npt.NDArray[np.intp]
Bool = npt.NDArray[np.bool_]

#: The types the scenario generates: every type but those added for the monthly indicators
#: (docs/network.md), so that the scenario's draws stay what they were.
INDICATOR_ONLY_TYPES = frozenset({"refusal_of_entry", "illegal_stay", "asylum_at_border"})
TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in INDICATOR_ONLY_TYPES)
TYPE_CODE = {name: i for i, name in enumerate(TYPES)}  # index into TYPES
CENTRAL_ASIA = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
# Code tables of the columnar data (a column holds an index into one of these).
UNKNOWN_COUNTRY = "XX"  # nationality not known, or a border without a flow to a side
COUNTRIES: tuple[str, ...] = ("KZ", "KG", "TJ", "TM", "UZ", "AF", "CN", "IR", "RU", "PK", "IN",
                              "BD", "TR", "AZ", UNKNOWN_COUNTRY)
UNKNOWN_COUNTRY_CODE = COUNTRIES.index(UNKNOWN_COUNTRY)
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

# Times are int64 µs since the epoch.
SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US


# --------------------------------------------------------------------------- model tables


@dataclass(frozen=True)
class Border:
    """How one land border behaves: rate, type mix, flows, people met there."""

    rate: float  # events per km of border per year at scale 1
    mix: Mapping[str, float]  # type weights overriding BASE_MIX
    drugs: str = "other"  # substance profile (SUBSTANCES key)
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


BASE_MIX = _mix(green=20, river=0, at_bcp=4, drug=4, weapons=.5, excise=6, migrant=3,
                trafficking=.5, documents=6, vehicle=1.5, disaster=.4, armed=.03, epidemic=.1,
                person=8, car=4, aircraft=.3, sign=2, lost=.5)
_TRANSIT = {"AF": .03, "PK": .02, "IN": .02, "BD": .02}
_BORDERS: dict[str, Border] = {
    "AF-TJ": Border(8.0, _mix(river=25, drug=20, green=8, weapons=2, aircraft=4, armed=.3,
                              disaster=.8, excise=1, documents=2),
                    "afghan", "TJ", people={"AF": .5, "TJ": .45, "PK": .05}),
    "AF-UZ": Border(20.0, _mix(river=15, drug=18, green=5, at_bcp=6, excise=3),
                    "afghan", "UZ", people={"AF": .55, "UZ": .43, "PK": .02}),
    "AF-TM": Border(4.0, _mix(river=10, drug=14, green=14, weapons=1),
                    "afghan", "TM", people={"AF": .6, "TM": .38, "IR": .02}),
    "KG-TJ": Border(6.0, _mix(armed=.8, drug=8, green=20, person=12, sign=5, excise=6),
                    "northern", "KG", people={"KG": .48, "TJ": .5, "UZ": .02}),
    "KG-KZ": Border(3.5, _mix(drug=6, migrant=10, excise=10, documents=8), "northern", "KZ", "KZ",
                    people={"KG": .6, "KZ": .25, "TJ": .08, "UZ": .05, **_TRANSIT}),
    "KZ-UZ": Border(2.5, _mix(migrant=12, green=24, excise=10, documents=10), "other", "KZ", "KZ",
                    people={"UZ": .6, "KZ": .2, "TJ": .1, **_TRANSIT}),
    "KG-UZ": Border(4.0, _mix(migrant=8, green=22, excise=10), "northern",
                    people={"KG": .45, "UZ": .5, "TJ": .05}),
    "TJ-UZ": Border(3.0, _mix(excise=8, drug=5, migrant=4), "northern", "UZ",
                    people={"TJ": .5, "UZ": .45, "AF": .05}),
    "TM-UZ": Border(1.5, _mix(excise=8, drug=4, green=16), "other", "UZ",
                    people={"TM": .45, "UZ": .5, "AF": .05}),
    "IR-TM": Border(2.5, _mix(migrant=10, green=18, drug=6, excise=4), "iranian", "TM",
                    people={"IR": .3, "TM": .25, "AF": .3, "PK": .1, "BD": .05}),
    "CN-KZ": Border(1.2, _mix(excise=18, at_bcp=6, documents=8, green=4, vehicle=3, drug=2),
                    bcp=2.5, people={"CN": .5, "KZ": .48, "KG": .02}),
    "CN-KG": Border(1.0, _mix(excise=10, green=4, disaster=1.2), bcp=2.0,
                    people={"CN": .45, "KG": .55}),
    "CN-TJ": Border(0.8, _mix(excise=6, green=3, disaster=1.2), bcp=2.0,
                    people={"CN": .4, "TJ": .6}),
    "KZ-RU": Border(0.6, _mix(excise=8, vehicle=5, documents=8, migrant=4, green=10, drug=3),
                    "russian", "RU", "RU",
                    people={"RU": .35, "KZ": .35, "UZ": .12, "TJ": .1, "KG": .06, "AZ": .02}),
    "KZ-TM": Border(1.0, _mix(green=10, excise=6, migrant=4), "other", "KZ", "KZ",
                    people={"TM": .5, "KZ": .4, "UZ": .1}),
}
_DEFAULT_BORDER = Border(1.0, {})


def border_named(name: str) -> Border:
    """How the border of this name behaves (the default for one not in :data:`_BORDERS`)."""
    return _BORDERS.get(name, _DEFAULT_BORDER)


SUBSTANCES: dict[str, dict[str, float]] = {
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
SEIZURE_SIZES: dict[str, tuple[str, float, float]] = {
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
class TypeProfile:
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
TYPE_PROFILES: dict[str, TypeProfile] = {
    "green_border_crossing": TypeProfile(
        (.6, .3, .08, .02), "night", .03, 2.0, _CAUGHT,
        {"on_foot": 7, "car": 1, "motorcycle": 1, "animal": .7, "other": .3},
        {"green_border_on_foot": 7, "mountain_path": 2, "other": .5}),
    "river_crossing": TypeProfile(
        (.5, .35, .12, .03), "night", 0, 2.5,
        {("apprehended",): 4, ("turned_back",): 2, ("patrol_dispatched",): 2,
         ("neighbour_notified",): 1, ("rescued",): .3},
        {"boat": 6, "on_foot": 3, "other": 1}, {"river_crossing": 1}, offset_km=0.3),
    "clandestine_at_bcp": TypeProfile(
        (.5, .4, .08, .02), "day", .95, 1.5,
        {("apprehended",): 6, ("apprehended", "handed_to_police"): 3, ("turned_back",): 1},
        {"truck": 5, "car": 3, "train": 1.5, "bus": 1},
        {"concealment_in_vehicle": 5, "concealment_in_cargo": 4, "corruption": .3}),
    "drug_smuggling": TypeProfile(
        (.3, .4, .22, .08), "night", .25, 1.4,
        {("seized", "apprehended"): 5, ("seized",): 2, ("seized", "investigation_opened"): 3,
         ("seized", "apprehended", "neighbour_notified"): 1},
        {"on_foot": 3, "car": 3, "truck": 2, "boat": 1, "animal": .5, "train": .5},
        {"concealment_in_vehicle": 3, "concealment_in_cargo": 2, "concealment_on_body": 2,
         "body_packing": .7, "river_crossing": 1.5, "mountain_path": 1, "throw_over": .5,
         "drone_drop": .2}),
    "weapons_smuggling": TypeProfile(
        (.2, .4, .3, .1), "night", .2, 1.3,
        {("seized", "apprehended"): 5, ("seized", "investigation_opened"): 3, ("seized",): 1},
        {"on_foot": 3, "car": 3, "truck": 1, "animal": .5},
        {"concealment_in_vehicle": 3, "concealment_on_body": 2, "mountain_path": 2,
         "green_border_on_foot": 2},
        {"firearm": 4, "ammunition": 4, "explosive": 1, "cold_weapon": 1}),
    "excise_goods_smuggling": TypeProfile(
        (.7, .25, .04, .01), "day", .55, 1.3,
        {("seized",): 5, ("seized", "handed_to_police"): 2, ("seized", "investigation_opened"): 1},
        {"truck": 4, "car": 4, "on_foot": 1, "animal": .5, "train": 1},
        {"concealment_in_vehicle": 4, "concealment_in_cargo": 4, "green_border_on_foot": 1,
         "throw_over": .5},
        {"tobacco": 5, "fuel": 3, "alcohol": 1.5, "other": 1}),
    "migrant_smuggling": TypeProfile(
        (.3, .45, .2, .05), "night", .15, 6.0,
        {("apprehended", "investigation_opened"): 5, ("apprehended",): 3,
         ("apprehended", "neighbour_notified"): 1},
        {"car": 3, "truck": 2, "on_foot": 3, "bus": 1},
        {"green_border_on_foot": 3, "concealment_in_vehicle": 3, "false_documents": 2,
         "mountain_path": 1}),
    "human_trafficking": TypeProfile(
        (.1, .4, .35, .15), "flat", .5, 2.5,
        {("rescued", "investigation_opened"): 4, ("apprehended", "investigation_opened"): 3,
         ("handed_to_police",): 1},
        {"car": 3, "bus": 2, "train": 1, "aircraft": .5, "on_foot": .5},
        {"false_documents": 3, "concealment_in_vehicle": 1, "other": 1}),
    "document_fraud": TypeProfile(
        (.6, .35, .04, .01), "day", .9, 1.1,
        {("apprehended",): 3, ("turned_back",): 4, ("handed_to_police",): 2},
        {"car": 2, "bus": 2, "train": 1, "on_foot": 2, "aircraft": .3}, {"false_documents": 1},
        {"passport": 6, "id_card": 2, "visa": 2, "residence_permit": 1, "vehicle_document": 1}),
    "stolen_vehicle": TypeProfile(
        (.6, .3, .08, .02), "day", .8, 1.2,
        {("seized", "apprehended"): 4, ("seized", "neighbour_notified"): 2},
        {"car": 6, "truck": 2, "motorcycle": 1}, {"false_documents": 2, "other": 1},
        {"car": 7, "truck": 2, "motorcycle": 1}),
    "natural_disaster": TypeProfile(
        (.4, .35, .2, .05), "flat", 0, 0,
        {("monitoring",): 4, ("rescued",): 1, ("patrol_dispatched",): 2, ("none_yet",): 1},
        offset_km=4.0),
    "armed_incident": TypeProfile(
        (0, .2, .5, .3), "flat", .05, 0,
        {("neighbour_notified",): 3, ("patrol_dispatched", "neighbour_notified"): 4,
         ("monitoring",): 1, ("investigation_opened",): 1}, offset_km=0.8),
    "epidemic": TypeProfile(
        (.4, .4, .15, .05), "day", .3, 0,
        {("monitoring",): 3, ("neighbour_notified", "monitoring"): 2}, offset_km=6.0,
        kinds={d: w for d, w in zip(DISEASES, (2, 3, 2, .5, 1, 2), strict=True)}),
    "suspicious_person": TypeProfile(
        (.85, .13, .02, 0), "night", .1, 1.2,
        {("monitoring",): 3, ("patrol_dispatched",): 3, ("apprehended",): 2},
        {"on_foot": 5, "car": 2, "motorcycle": 1}),
    "suspicious_vehicle": TypeProfile(
        (.85, .13, .02, 0), "night", .4, 1.5,
        {("monitoring",): 3, ("patrol_dispatched",): 3, ("turned_back",): 1},
        {"car": 5, "truck": 2, "motorcycle": 1}, kinds={"car": 5, "truck": 2, "motorcycle": 1}),
    "suspicious_aircraft": TypeProfile(
        (.5, .35, .12, .03), "night", 0, 0,
        {("monitoring",): 4, ("neighbour_notified",): 2, ("patrol_dispatched",): 1},
        kinds={"drone": 7, "aircraft": .5, "helicopter": .5, "balloon": .3, "unknown": 1.5}),
    "damaged_border_sign": TypeProfile(
        (.9, .1, 0, 0), "day", 0, 0,
        {("monitoring",): 2, ("neighbour_notified",): 2, ("other",): 1}, offset_km=0.2),
    "lost_person": TypeProfile(
        (.3, .5, .15, .05), "flat", 0, 1.3,
        {("rescued",): 4, ("patrol_dispatched",): 3, ("neighbour_notified",): 1}, {"on_foot": 1},
        offset_km=3.0),
}
REACTION_SETS: tuple[tuple[str, ...], ...] = tuple(
    dict.fromkeys(r for p in TYPE_PROFILES.values() for r in p.reaction))
AIRCRAFT_TRANSPORT = {"drone": "drone", "aircraft": "aircraft", "helicopter": "aircraft"}

HOURS: dict[str, list[float]] = {  # local hour weights 0..23
    "night": [6, 6, 6, 5, 4, 3, 2, 1.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2, 3, 4, 5, 6, 6],
    "day": [.3, .3, .2, .2, .3, .5, 1, 2, 4, 5, 5, 5, 4.5, 5, 5, 5, 4, 3, 2, 1.5, 1, .8, .5, .4],
    "flat": [1.0] * 24,
}
UTC_OFFSET_H = {"KG": 6}  # the others keep UTC+5
# Monthly factors, January..December (interpolated day by day).
PASS_OPEN = [.08, .08, .15, .45, .85, 1, 1, 1, 1, .8, .35, .1]  # high passes under snow
LOW_WATER = [1.4, 1.3, 1.0, .8, .6, .5, .5, .6, .9, 1.2, 1.4, 1.5]  # Panj / Amu Darya
MIGRATION = [.8, .9, 1.5, 1.8, 1.5, .9, .85, .85, .85, 1.0, 1.3, 1.3]  # labour migration
OUTWARD = [.5, .55, .75, .8, .75, .6, .5, .5, .45, .4, .3, .3]  # share leaving the origin
HAZARD_SEASON = [1.5, 1.5, 1.6, 1.8, 1.6, 1.0, .6, .5, .4, .5, .7, 1.2]
# Natural hazards by season: the months (0 = January) and the weights of each hazard.
HAZARDS: tuple[tuple[tuple[int, ...], dict[str, float]], ...] = (
    ((11, 0, 1, 2), {"avalanche": 6, "landslide": 1, "earthquake": 1.5, "flood": .5,
                     "other": .5}),
    ((3, 4, 5, 6), {"mudflow": 4.5, "flood": 2.5, "landslide": 1.5, "earthquake": 1,
                    "avalanche": .5}),
    ((7, 8, 9, 10), {"wildfire": 3, "earthquake": 3, "landslide": 2, "mudflow": 1, "flood": 1}),
)
WEEKDAY = [1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.9]  # Monday..Sunday
# Elevation proxy: a section whose centroid lies in one of these boxes
# (lon0, lat0, lon1, lat1) crosses high passes that snow closes in winter.
HIGH_PASS_BOXES: dict[str, tuple[float, float, float, float]] = {
    "Pamir (eastern Badakhshan, TJ-CN, Zaalay)": (70.9, 36.5, 75.5, 39.7),
    "Central and inner Tian Shan (KG-CN, Khan Tengri)": (73.5, 39.4, 80.5, 42.6),
    "Turkestan and Alay ranges (high KG-TJ)": (69.2, 39.3, 70.9, 39.75),
}
MIGRANT_TYPES = ("green_border_crossing", "migrant_smuggling", "clandestine_at_bcp",
                 "document_fraud", "human_trafficking")
DETECTION: dict[str, dict[str, float]] = {
    "clandestine_at_bcp": {"bcp_check": 1},
    "river_crossing": {"surveillance": 5, "patrol": 4.5, "other": .5},
    "default": {"patrol": 5, "surveillance": 3, "bcp_check": 1, "other": 1},
}


def is_high_pass(lon: float, lat: float) -> bool:
    """Whether a section centroid lies in one of the :data:`HIGH_PASS_BOXES`."""
    return any(a <= lon <= c and b <= lat <= d for a, b, c, d in HIGH_PASS_BOXES.values())


def is_river(border: str, lon: float) -> bool:
    """Whether a section runs along the Panj / Amu Darya (all AF-TJ, AF-UZ, eastern AF-TM)."""
    return border in ("AF-TJ", "AF-UZ") or (border == "AF-TM" and lon >= 65.4)


def monthly(table: Sequence[float], months: F64) -> F64:
    """Smooth a January..December table over fractional months (0 = 1 January)."""
    x = np.arange(-1, 13) + 0.5
    y = np.array([table[11], *table, table[0]], dtype=np.float64)
    return np.asarray(np.interp(months, x, y), dtype=np.float64)


def shares(table: Mapping[Any, float], values: Sequence[Any]) -> F64:
    """The weights of ``table`` for ``values`` (0 for one it lacks), summing to 1."""
    w = np.array([table.get(v, 0.0) for v in values], dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


def country_code(code: str) -> int:
    """The index of a country code in :data:`COUNTRIES` (unknown for one not there)."""
    return COUNTRIES.index(code) if code in COUNTRIES else UNKNOWN_COUNTRY_CODE
