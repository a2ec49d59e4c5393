"""The attributes of the scenario's events: where, when, who, what, how many, which way.

:func:`attributes` gives every event drawn for a (section, day, type) its
columns, one family of attributes after another, each step a function of
its own. Every step draws from the one random generator in turn, so their
order, and the order of the draws within each, is part of the scenario.
The numbers of the model are in :mod:`sitcen.demo.scenario_tables`, those
that only say how the attributes are drawn are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sitcen.demo.scenario_geometry import BorderGeometry, along
from sitcen.demo.scenario_tables import (
    AGE_GROUPS,
    AIRCRAFT_TRANSPORT,
    COUNTRIES,
    DAY_US,
    DETECTION,
    DETECTIONS,
    F64,
    FRAUD_KINDS,
    HANDLINGS,
    HAZARDS,
    HOURS,
    I8,
    I16,
    I64,
    IMPACTS,
    KIND_OF,
    MIGRANT_TYPES,
    MODI,
    OUTWARD,
    REACTION_SETS,
    RELIABILITY,
    SECOND_US,
    SEIZURE_SIZES,
    SEXES,
    SUBSTANCES,
    TRANSPORTS,
    TYPE_CODE,
    TYPE_PROFILES,
    TYPES,
    UNITS,
    UNKNOWN_COUNTRY,
    UNKNOWN_COUNTRY_CODE,
    UTC_OFFSET_H,
    Bool,
    IntP,
    border_named,
    country_code,
    monthly,
    shares,
)
from sitcen.geo import unproject
from sitcen.taxonomy import EVENT_TYPES

# Where events lie, measured from the section line.
_NEAR_MAX_KM = 5  # events near the line lie at most this far from it
_INLAND_SHARE = 0.12  # the share placed further inland, between these distances
_INLAND_KM = (5, 40)
_SECTION_REACH_KM = 25  # further inland an event belongs to no section
_BCP_SPREAD_KM = 0.8  # events at a crossing point scatter this much around it
_PRECISION_AT_BCP_M = (100, 250, 500)
_PRECISION_M = (50, 100, 250, 500, 1000, 2000)
# Local time: UTC+5 but where UTC_OFFSET_H says otherwise.
_LOCAL_UTC_OFFSET_H = 5
# Reported after: log-normal around the median, clipped (within EUROSUR's 24 h).
_REPORT_DELAY_S = (60, 1800, 23 * 3600)  # shortest, median, longest
_REPORT_DELAY_LOG_SD = 1.0
# Grading, in the order of the code tables RELIABILITY, credibility 1..6, HANDLINGS.
_RELIABILITY_SHARE = (.1, .45, .3, .08, .02, .05)
_CREDIBILITY_SHARE = (.25, .4, .2, .08, .02, .05)
_HANDLING_SHARE = (.15, .72, .05, .08)
_VALIDATED_SHARE = 0.8  # the others are still "reported"
# Persons: the size of a group is capped; most are adult men, but for trafficking.
_LARGEST_GROUP = 400
_FEMALE_SHARE = {"human_trafficking": .6}
_FEMALE_SHARE_OTHERWISE = .07
_MINOR_SHARE = {"human_trafficking": .2}
_MINOR_SHARE_OTHERWISE = .04
_ACTUAL_SHARE = .65  # crossings that were actual, not attempted
_INLAND_DETECTION_KM = 10  # detected further from the line: "inland"
# Casualties: mean killed and injured per event; armed incidents without shots kill nobody.
_CASUALTIES = {"natural_disaster": (.15, .4), "armed_incident": (.3, .7)}
_SHOTS_FIRED_SHARE = .7
_HIGH_IMPACT_KG = 10  # a drug seizure above this is at least high, above the next very high
_VERY_HIGH_IMPACT_KG = 50
_CASES = (8, 1.2)  # an epidemic's cases: median and log-sd
_FRAUD = {"forged": 4, "counterfeit": 2, "impostor": 3, "fraudulently_obtained": 1}
# Directions: the share of exits of a flow, reported by the side it goes to and the
# side it comes from; the direction of a suspicious person is known for some only.
_EXIT_WITH_FLOW = (0.1, 0.9)
_PERSON_DIRECTION_KNOWN = 0.6
_FLOW_TYPES = ("drug_smuggling", "weapons_smuggling")


def _pick(rng: np.random.Generator, n: int, table: Mapping[Any, float],
          values: Sequence[Any]) -> I8:
    """Codes into ``values`` drawn with the weights of ``table`` (-1 if the table is empty)."""
    if not table:
        return np.full(n, -1, dtype=np.int8)
    return rng.choice(len(values), n, p=shares(table, values)).astype(np.int8)


@dataclass(frozen=True)
class _Events:
    """The events being given attributes, and their groups by type and by border."""

    section: IntP  # the section, day and type (index into TYPES) of each event
    day: I64
    type_code: IntP
    month: IntP  # calendar month of each event, 0 = January
    borders: list[str]  # the borders of the sections, sorted
    border_of: IntP  # per event: index into ``borders``
    by_type: list[IntP]  # per type: the indexes of its events
    by_border: list[IntP]  # per border: the indexes of its events

    def __len__(self) -> int:
        return int(self.section.size)

    @classmethod
    def group(cls, geo: BorderGeometry, months: F64, sec: IntP, day: I64, typ: IntP) -> _Events:
        """The events of these sections, days and types, grouped."""
        borders = sorted(set(geo.border))
        border_of = np.array([borders.index(b) for b in geo.border], dtype=np.intp)[sec]
        return cls(sec, day, typ, np.floor(months[day]).astype(np.intp), borders, border_of,
                   [np.flatnonzero(typ == t) for t in range(len(TYPES))],
                   [np.flatnonzero(border_of == b) for b in range(len(borders))])

    def per_type(self, values: Sequence[Any]) -> npt.NDArray[Any]:
        """A value per event from one value per type (in :data:`TYPES` order)."""
        return np.array(values)[self.type_code]

    def per_border(self, values: Sequence[Any], dtype: Any = None) -> npt.NDArray[Any]:
        """A value per event from one value per border (in ``borders`` order)."""
        return np.array(values, dtype=dtype)[self.border_of]

    def of_type(self, name: str) -> IntP:
        """The indexes of the events of one type."""
        return self.by_type[TYPE_CODE[name]]


@dataclass(frozen=True)
class _Places:
    """Who reported each event, and where it lies."""

    country: I8
    offset_km: F64  # distance from the border line
    section: I16  # -1 when further inland than a section reaches
    lon: F64
    lat: F64
    precision_m: npt.NDArray[np.int32]


def attributes(rng: np.random.Generator, geo: BorderGeometry, start_us: int, months: F64,
                sec: IntP, day: I64, typ: IntP, fixed_x: F64, fixed_y: F64) -> dict[str, Any]:
    """Every column of the events (unsorted), one family of attributes after another.

    ``sec``, ``day`` and ``typ`` say which section, scenario day and type each
    event was drawn for; ``fixed_x`` and ``fixed_y`` are the projected
    positions of the last events (planted clusters; NaN: place as usual). The
    order of the steps is the order of the draws: keep it, or every seed gives
    other events (``tests/test_scenario.py`` holds a digest).
    """
    events = _Events.group(geo, months, sec, day, typ)
    places = _place(rng, geo, events, fixed_x, fixed_y)
    occurred, reported = _times(rng, events, places.country, start_us)
    cols: dict[str, Any] = {
        "occurred_at": occurred, "reported_at": reported,
        "lon": np.round(places.lon, 5), "lat": np.round(places.lat, 5),
        "precision_m": places.precision_m, "type": typ.astype(np.int8),
        "section": places.section, "country": places.country,
        **_grading(rng, len(events)), **_absent(len(events)),
    }
    _details_per_type(rng, cols, events, places.offset_km)
    _nationalities_and_substances(rng, cols, events)
    _hazards(rng, cols, events)
    _casualties(rng, cols, events)
    _fraud_kinds(rng, cols, events)
    _aircraft_transport(cols, events)
    _quantities(rng, cols, events)
    _directions(rng, cols, events, places.country, months)
    _no_boats_on_dry_land(cols, geo, events)
    return cols


def _place(rng: np.random.Generator, geo: BorderGeometry, events: _Events, fixed_x: F64,
           fixed_y: F64) -> _Places:
    """Which side reports each event, and where: along its section on that side, near a
    crossing point for the types found there, some further inland."""
    n, sec = len(events), events.section
    by_side_a = rng.random(n) < geo.p_report_a[sec]
    country = np.where(by_side_a, geo.side_a[sec], geo.side_b[sec]).astype(np.int8)
    bcp_share = events.per_type([TYPE_PROFILES[t].bcp for t in TYPES]) * events.per_border(
        [border_named(b).bcp for b in events.borders])
    at_bcp = (rng.random(n) < bcp_share) & (geo.bcp_count[sec] > 0)
    x, y, normal_x, normal_y, left = along(geo, sec, rng.random(n))
    near = np.minimum(rng.exponential(1.0, n) * events.per_type(
        [TYPE_PROFILES[t].offset_km for t in TYPES]), _NEAR_MAX_KM)
    offset = np.where(rng.random(n) < _INLAND_SHARE,
                      rng.uniform(_INLAND_KM[0], _INLAND_KM[1], n), near)
    # The reporting side's side of the line (either, where the geometry could not tell).
    side = np.where(left == 0, rng.choice([-1, 1], n), left) * np.where(by_side_a, 1, -1)
    x += side * offset * normal_x
    y += side * offset * normal_y
    del normal_x, normal_y
    if geo.bcp_x.size:
        x, y = _at_crossing_points(rng, geo, sec, at_bcp, x, y)
    # Planted cluster events come last, with positions of their own.
    fixed = np.zeros(n, dtype=bool)
    tail = slice(n - fixed_x.size, n)
    fixed[tail] = ~np.isnan(fixed_x)
    x[tail] = np.where(fixed[tail], fixed_x, x[tail])
    y[tail] = np.where(fixed[tail], fixed_y, y[tail])
    section = np.where(at_bcp | fixed | (offset <= _SECTION_REACH_KM), sec, -1).astype(np.int16)
    lon, lat = unproject(x, y)
    del x, y
    precision = np.where(at_bcp, rng.choice(_PRECISION_AT_BCP_M, n),
                         rng.choice(_PRECISION_M, n)).astype(np.int32)
    return _Places(country, offset, section, lon, lat, precision)


def _at_crossing_points(rng: np.random.Generator, geo: BorderGeometry, sec: IntP, at_bcp: Bool,
                        x: F64, y: F64) -> tuple[F64, F64]:
    """Events at a crossing point moved to one of their section's, scattered a little."""
    n = sec.size
    bcp = np.minimum(geo.bcp_first[sec] + (rng.random(n) * geo.bcp_count[sec]).astype(np.intp),
                     geo.bcp_x.size - 1)
    return (np.where(at_bcp, geo.bcp_x[bcp] + rng.normal(0, _BCP_SPREAD_KM, n), x),
            np.where(at_bcp, geo.bcp_y[bcp] + rng.normal(0, _BCP_SPREAD_KM, n), y))


def _times(rng: np.random.Generator, events: _Events, country: I8,
           start_us: int) -> tuple[I64, I64]:
    """When each event occurred (an hour from its type's diurnal profile in the reporting
    side's local time) and was reported (minutes to hours later), in µs."""
    n = len(events)
    hour = np.zeros(n, dtype=np.int64)
    for diurnal, weights in HOURS.items():
        idx = np.flatnonzero(events.per_type([TYPE_PROFILES[t].hours == diurnal for t in TYPES]))
        hour[idx] = rng.choice(24, idx.size, p=np.array(weights) / sum(weights))
    utc_offset = np.array([UTC_OFFSET_H.get(c, _LOCAL_UTC_OFFSET_H) for c in COUNTRIES])[country]
    seconds = (hour * 3600 + rng.integers(0, 3600, n) - utc_offset * 3600) % 86_400
    occurred = start_us + events.day * DAY_US + seconds * SECOND_US
    shortest, median, longest = _REPORT_DELAY_S
    delay = np.clip(rng.lognormal(np.log(median), _REPORT_DELAY_LOG_SD, n), shortest,
                    longest).astype(np.int64)
    return occurred, occurred + delay * SECOND_US


def _grading(rng: np.random.Generator, n: int) -> dict[str, I8]:
    """Source reliability, information credibility, handling and status of each report."""
    return {
        "reliability": rng.choice(len(RELIABILITY), n, p=_RELIABILITY_SHARE).astype(np.int8),
        "credibility": (rng.choice(6, n, p=_CREDIBILITY_SHARE) + 1).astype(np.int8),  # 1..6
        "handling": rng.choice(len(HANDLINGS), n, p=_HANDLING_SHARE).astype(np.int8),
        "status": (rng.random(n) < _VALIDATED_SHARE).astype(np.int8),
    }


def _absent(n: int) -> dict[str, Any]:
    """The columns the next steps fill in for the types that have them: absent until then."""
    cols: dict[str, Any] = {
        name: np.full(n, -1, dtype=np.int8)
        for name in ("impact", "transport", "modus", "reaction", "kind", "fraud_kind", "stage",
                     "direction", "detection", "unit", "sex", "age", "nationality")}
    for name in ("persons", "killed", "injured"):
        cols[name] = np.zeros(n, dtype=np.int16)
    cols["shots"] = np.full(n, -1, dtype=np.int16)
    cols["quantity"] = np.full(n, np.nan, dtype=np.float64)
    return cols


def _details_per_type(rng: np.random.Generator, cols: dict[str, Any], events: _Events,
                      offset_km: F64) -> None:
    """From each type's profile: impact, transport and modus operandi, reaction, the type's
    own kind, the group of persons, stage and detection (drawn type after type)."""
    for t, idx in enumerate(events.by_type):
        name, profile, k = TYPES[t], TYPE_PROFILES[TYPES[t]], idx.size
        cols["impact"][idx] = _pick(rng, k, dict(zip(IMPACTS, profile.impact, strict=True)),
                                    IMPACTS)
        cols["transport"][idx] = _pick(rng, k, profile.transport, TRANSPORTS)
        cols["modus"][idx] = _pick(rng, k, profile.modus, MODI)
        cols["reaction"][idx] = _pick(rng, k, profile.reaction, REACTION_SETS)
        if name in KIND_OF and profile.kinds:
            cols["kind"][idx] = _pick(rng, k, profile.kinds, KIND_OF[name][1])
        if profile.persons:
            _group_of_persons(rng, cols, idx, name, profile.persons)
        if "stage" in EVENT_TYPES[name].details:
            _stage_and_detection(rng, cols, idx, name, offset_km)


def _group_of_persons(rng: np.random.Generator, cols: dict[str, Any], idx: IntP, type_name: str,
                      mean_size: float) -> None:
    """The size, sex and age group of the one group of persons of each event."""
    k = idx.size
    cols["persons"][idx] = np.minimum(rng.geometric(1 / mean_size, k), _LARGEST_GROUP)
    female = _FEMALE_SHARE.get(type_name, _FEMALE_SHARE_OTHERWISE)
    cols["sex"][idx] = rng.choice(len(SEXES), k, p=[.95 - female, female, .05])
    minor = _MINOR_SHARE.get(type_name, _MINOR_SHARE_OTHERWISE)
    cols["age"][idx] = rng.choice(len(AGE_GROUPS), k, p=[minor, .94 - minor, .06])


def _stage_and_detection(rng: np.random.Generator, cols: dict[str, Any], idx: IntP,
                         type_name: str, offset_km: F64) -> None:
    """Attempted or actual, and how the crossing was detected (far from the line: inland)."""
    cols["stage"][idx] = rng.random(idx.size) < _ACTUAL_SHARE
    detection = DETECTION.get(type_name, DETECTION["default"])
    cols["detection"][idx] = _pick(rng, idx.size, detection, DETECTIONS)
    cols["detection"][idx[offset_km[idx] > _INLAND_DETECTION_KM]] = DETECTIONS.index("inland")


def _nationalities_and_substances(rng: np.random.Generator, cols: dict[str, Any],
                                  events: _Events) -> None:
    """Per border: the nationality of the persons met there, and the drugs of its flow."""
    drugs = events.of_type("drug_smuggling")
    substances = KIND_OF["drug_smuggling"][1]
    for b, idx in enumerate(events.by_border):
        name = events.borders[b]
        border = border_named(name)
        one, other = name.split("-")
        # Without a table of its own: either side's nationals, some not known.
        people = border.people or {one: .45, other: .45, UNKNOWN_COUNTRY: .1}
        cols["nationality"][idx] = _pick(rng, idx.size, people, COUNTRIES)
        seized = np.intersect1d(idx, drugs, assume_unique=True)
        cols["kind"][seized] = _pick(rng, seized.size, SUBSTANCES[border.drugs], substances)


def _hazards(rng: np.random.Generator, cols: dict[str, Any], events: _Events) -> None:
    """What each natural disaster is, by the season it happens in."""
    disasters = events.of_type("natural_disaster")
    hazards = KIND_OF["natural_disaster"][1]
    for months, table in HAZARDS:
        idx = disasters[np.isin(events.month[disasters], months)]
        cols["kind"][idx] = _pick(rng, idx.size, table, hazards)


def _casualties(rng: np.random.Generator, cols: dict[str, Any], events: _Events) -> None:
    """Killed and injured in disasters and armed incidents; shots fired in armed incidents,
    which kill nobody without them and are of very high impact when they kill."""
    for type_name, (killed, injured) in _CASUALTIES.items():
        idx = events.of_type(type_name)
        cols["killed"][idx] = rng.poisson(killed, idx.size)
        cols["injured"][idx] = rng.poisson(injured, idx.size)
    armed = events.of_type("armed_incident")
    cols["shots"][armed] = rng.random(armed.size) < _SHOTS_FIRED_SHARE
    cols["killed"][armed[cols["shots"][armed] == 0]] = 0
    cols["impact"][armed[cols["killed"][armed] > 0]] = IMPACTS.index("very_high")


def _fraud_kinds(rng: np.random.Generator, cols: dict[str, Any], events: _Events) -> None:
    """How each fraudulent document was made."""
    frauds = events.of_type("document_fraud")
    cols["fraud_kind"][frauds] = _pick(rng, frauds.size, _FRAUD, FRAUD_KINDS)


def _aircraft_transport(cols: dict[str, Any], events: _Events) -> None:
    """A suspicious aircraft's transport follows its kind (a helicopter is an aircraft)."""
    aircraft = events.of_type("suspicious_aircraft")
    transport_of_kind = np.array([TRANSPORTS.index(AIRCRAFT_TRANSPORT.get(kind, "other"))
                                  for kind in KIND_OF["suspicious_aircraft"][1]])
    cols["transport"][aircraft] = transport_of_kind[cols["kind"][aircraft]]


def _quantities(rng: np.random.Generator, cols: dict[str, Any], events: _Events) -> None:
    """Seizure sizes: log-normal per substance or goods; big drug seizures raise the impact.

    Epidemics count their cases in ``quantity``.
    """
    quantity = cols["quantity"]
    for type_name in ("drug_smuggling", "weapons_smuggling", "excise_goods_smuggling"):
        idx = events.of_type(type_name)
        for code, kind in enumerate(KIND_OF[type_name][1]):
            seized = idx[cols["kind"][idx] == code]
            key = ("goods_other" if type_name == "excise_goods_smuggling" and kind == "other"
                   else kind)
            quantity[seized] = _seizure(rng, cols, seized, type_name, *SEIZURE_SIZES[key])
    epidemics = events.of_type("epidemic")
    median, sigma = _CASES
    cases = rng.lognormal(np.log(median), sigma, epidemics.size)
    quantity[epidemics] = np.maximum(np.round(cases), 1)


def _seizure(rng: np.random.Generator, cols: dict[str, Any], seized: IntP, type_name: str,
             unit: str, median: float, sigma: float) -> F64:
    """The amounts of these seizures; sets their unit and, for big drug seizures, impact."""
    amount = rng.lognormal(np.log(median), sigma, seized.size)
    if unit in ("pieces", "rounds", "packs", "tablets"):
        cols["unit"][seized] = UNITS.index(unit)
        return np.asarray(np.maximum(np.round(amount), 1), dtype=np.float64)
    if unit != "kg":
        cols["unit"][seized] = UNITS.index(unit)
        return np.asarray(np.round(amount, 1), dtype=np.float64)
    drugs = type_name == "drug_smuggling"
    in_grams = (amount < 1) & drugs  # only drugs are weighed in g
    amount = np.maximum(amount, 0.01)
    amount = np.where(in_grams, np.round(amount * 1000, 1), np.round(amount, 2))
    cols["unit"][seized] = np.where(in_grams, UNITS.index("g"), UNITS.index("kg"))
    if drugs:
        impact = cols["impact"]
        big = seized[~in_grams & (amount > _HIGH_IMPACT_KG)]
        impact[big] = np.maximum(impact[big], IMPACTS.index("high"))
        impact[seized[~in_grams & (amount > _VERY_HIGH_IMPACT_KG)]] = IMPACTS.index("very_high")
    return np.asarray(amount, dtype=np.float64)


def _directions(rng: np.random.Generator, cols: dict[str, Any], events: _Events, country: I8,
                months: F64) -> None:
    """Entry or exit: Northern Route drugs and weapons go north, precursors south, labour
    migrants leave in spring and come back in winter, the rest go either way."""
    n, type_code = len(events), events.type_code
    north = events.per_border([country_code(border_named(b).north or UNKNOWN_COUNTRY)
                               for b in events.borders], np.int8)
    destination = events.per_border(
        [country_code(border_named(b).destination or UNKNOWN_COUNTRY) for b in events.borders],
        np.int8)
    p_exit = np.full(n, 0.5)
    flow = (np.isin(type_code, [TYPE_CODE[t] for t in _FLOW_TYPES])
            & (north != UNKNOWN_COUNTRY_CODE))
    precursor = (type_code == TYPE_CODE["drug_smuggling"]) & (
        cols["kind"] == KIND_OF["drug_smuggling"][1].index("precursor"))
    into_reporter = (country == north)[flow] != precursor[flow]  # the flow enters its side
    p_exit[flow] = np.where(into_reporter, *_EXIT_WITH_FLOW)
    moving = (np.isin(type_code, [TYPE_CODE[t] for t in MIGRANT_TYPES])
              & (destination != UNKNOWN_COUNTRY_CODE))
    outward = monthly(OUTWARD, months)[events.day]
    p_exit[moving] = np.where((country == destination)[moving], 1 - outward[moving],
                              outward[moving])
    direction = (rng.random(n) < p_exit).astype(np.int8)
    has_direction = events.per_type(["direction" in EVENT_TYPES[t].details for t in TYPES])
    has_direction &= ((type_code != TYPE_CODE["suspicious_person"])
                      | (rng.random(n) < _PERSON_DIRECTION_KNOWN))
    cols["direction"] = np.where(has_direction, direction, -1).astype(np.int8)


def _no_boats_on_dry_land(cols: dict[str, Any], geo: BorderGeometry, events: _Events) -> None:
    """Away from the rivers, boats become feet and river crossings green-border walks."""
    dry = ~geo.river[events.section]
    cols["transport"][dry & (cols["transport"] == TRANSPORTS.index("boat"))] = (
        TRANSPORTS.index("on_foot"))
    cols["modus"][dry & (cols["modus"] == MODI.index("river_crossing"))] = (
        MODI.index("green_border_on_foot"))
