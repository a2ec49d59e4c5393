"""The sharing function: properties over random records, agreements and 3-hop chains, and rules.

Chains are A → B → C → D, a random agreement per hop, each hop applying
``share`` to what it received. Whatever the agreements, nothing downstream may
hold a field, a precision, a handling or personal data that any hop on the way
did not grant, and a record the originator marked ``onward: false`` never
leaves the second node.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sitcen.events import EventPublic
from sitcen.exchange.agreements import (
    DETAIL_FIELDS,
    EVENT_FIELDS,
    MANDATORY_FIELDS,
    PRECISION_ORDER,
    Agreement,
    PersonalData,
    Precision,
    default_agreement,
)
from sitcen.exchange.sharing import (
    MAX_PRECISION_M,
    REPORT_WITHHELD_BY_PERSONAL_DATA,
    REPORT_WITHHELD_BY_PRECISION,
    SharedRecord,
    Sharing,
    aggregate,
    region_precision_m,
    retraction,
    section_infos,
    share,
)
from sitcen.geo import load_default_sections
from sitcen.sealing import TAGS, digest, seal, tags_present
from sitcen.taxonomy import EVENT_TYPES, HANDLING_ORDER, Category, Handling, Status

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NODES = ("node-a", "node-b", "node-c", "node-d")
SECTIONS = section_infos(load_default_sections())
SECTION_IDS = sorted(SECTIONS)
BORDERS = sorted({s[:6] + "*" for s in SECTION_IDS})
COUNTRIES = ["AF", "KG", "KZ", "TJ", "TM", "UZ"]
GRANTABLE = sorted({*EVENT_FIELDS, *(f"details.{d}" for d in DETAIL_FIELDS)}
                   - set(MANDATORY_FIELDS))
HANDLINGS = list(Handling)

PROPERTY = settings(max_examples=300, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# Strategies


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@st.composite
def persons(draw: st.DrawFn) -> dict[str, Any]:
    return {"nationality": draw(st.sampled_from(COUNTRIES)),
            "sex": draw(st.sampled_from(["male", "female", "unknown"])),
            "age_group": draw(st.sampled_from(["minor", "adult", "unknown"])),
            "count": draw(st.integers(1, 40))}


@st.composite
def event_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A body shaped like :class:`sitcen.events.EventPublic` in JSON, of any type."""
    etype = EVENT_TYPES[draw(st.sampled_from(sorted(EVENT_TYPES)))]
    section_id: str | None
    if draw(st.booleans()):
        section_id = draw(st.sampled_from(SECTION_IDS))
        info = SECTIONS[section_id]
        lon = info.lon + draw(st.floats(-0.2, 0.2))
        lat = info.lat + draw(st.floats(-0.2, 0.2))
        distance = draw(st.floats(0, 25))
    else:
        section_id = None
        lon, lat = draw(st.floats(46, 88)), draw(st.floats(35, 55))
        distance = draw(st.floats(25.01, 600))
    occurred = NOW - timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    detail_names = draw(st.sets(st.sampled_from(etype.details))) if etype.details else set()
    return {
        "id": str(uuid.UUID(int=draw(st.integers(0, 2**64)))),
        "origin": NODES[0],
        "version": draw(st.integers(1, 5)),
        "category": str(etype.category),
        "type": etype.id,
        "occurred_at": _iso(occurred),
        "reported_at": _iso(occurred + timedelta(minutes=5)),
        "recorded_at": _iso(occurred + timedelta(minutes=6)),
        "location": {"lon": lon, "lat": lat,
                     "precision_m": draw(st.none() | st.floats(0, 5000))},
        "section_id": section_id,
        "section_distance_km": distance,
        "country": draw(st.sampled_from(COUNTRIES)),
        "impact_level": draw(st.sampled_from(["low", "medium", "high", "very_high"])),
        "confidence": {"source_reliability": draw(st.sampled_from("ABCDEF")),
                       "information_credibility": draw(st.integers(1, 6))},
        "handling": str(draw(st.sampled_from(HANDLINGS))),
        "status": str(draw(st.sampled_from([*Status, Status.validated, Status.reported]))),
        "details": {name: draw(st.integers(0, 100)) for name in sorted(detail_names)},
        "persons": draw(st.lists(persons(), max_size=3)) if etype.persons else [],
        "transport": draw(st.none() | st.sampled_from(["on_foot", "car", "boat"])),
        "modus_operandi": draw(st.lists(st.sampled_from(["mountain_path", "throw_over"]),
                                        max_size=2, unique=True)),
        "reaction": draw(st.lists(st.sampled_from(["monitoring", "apprehended"]), max_size=2,
                                  unique=True)),
        "description": draw(st.text(max_size=20)),
        "follow_up_of": None,
        "has_personal_data": draw(st.booleans()),
    }


@st.composite
def agreements(draw: st.DrawFn, from_node: str, to_node: str) -> Agreement:
    """A random agreement; two in three are generous in scope (so chains reach the end)
    and random in what they let through (fields, precision, personal data, onward)."""
    generous = draw(st.integers(0, 2)) > 0
    kinds = set(draw(st.sets(st.sampled_from(["personal_data", "alert", "asset_position"]))))
    if generous or draw(st.integers(0, 7)):
        kinds.add("event")
    categories = set(Category) if generous else draw(st.sets(st.sampled_from(list(Category))))
    types = draw(st.sets(st.sampled_from(sorted(EVENT_TYPES)), max_size=4))
    if not categories and not types:
        categories = set(Category)
    events: dict[str, Any] = {"categories": sorted(categories), "types": sorted(types)}
    if not generous and not draw(st.integers(0, 2)):
        events["countries"] = sorted(draw(st.sets(st.sampled_from(COUNTRIES), max_size=2)))
        events["sections"] = sorted(draw(st.sets(st.sampled_from(BORDERS + SECTION_IDS[:20]),
                                                 max_size=3)))
        if draw(st.booleans()):
            lon, lat = draw(st.floats(46, 80)), draw(st.floats(35, 50))
            events["bbox"] = [lon, lat, lon + draw(st.floats(0, 10)), lat + draw(st.floats(0, 5))]
    if draw(st.integers(0, 2)):
        fields = sorted(draw(st.sets(st.sampled_from(GRANTABLE))))
    else:
        fields = GRANTABLE
    delay = "none" if generous else draw(st.sampled_from(["none", "daily_aggregates", "minutes"]))
    ceiling = Handling.red if generous else draw(st.sampled_from(HANDLINGS))
    return Agreement.model_validate({
        "id": f"{from_node}-{to_node}",
        "from_node": from_node,
        "to_node": to_node,
        "direction": draw(st.sampled_from(["up", "down", "peer"])),
        "kinds": sorted(kinds),
        "events": events,
        "fields": fields,
        "location_precision": draw(st.sampled_from(list(Precision))),
        "personal_data": draw(st.sampled_from(list(PersonalData))),
        "handling_ceiling": ceiling,
        "delay": {"minutes": draw(st.integers(1, 600))} if delay == "minutes" else delay,
        "onward_sharing": draw(st.integers(0, 5)) > 0,
    })


@st.composite
def chains(draw: st.DrawFn) -> list[Agreement]:
    return [draw(agreements(NODES[i], NODES[i + 1])) for i in range(3)]


def _event(body: dict[str, Any]) -> SharedRecord:
    return SharedRecord("event", body["origin"], body["id"], body["version"], body)


def _field_allowed(name: str, hops: list[Agreement]) -> bool:
    return all(name in a.allowed_fields for a in hops)


# ---------------------------------------------------------------------------
# Properties


def test_generated_bodies_are_event_public() -> None:
    @given(event_bodies())
    @settings(max_examples=50, derandomize=True, deadline=None)
    def check(body: dict[str, Any]) -> None:
        EventPublic.model_validate(body)

    check()


@PROPERTY
@given(body=event_bodies(), hops=chains())
def test_chain_of_three_hops_grants_no_more_than_any_hop(
    body: dict[str, Any], hops: list[Agreement]
) -> None:
    original = copy.deepcopy(body)
    record = _event(body)
    outputs: list[SharedRecord | None] = []
    current: SharedRecord | None = record
    for agreement in hops:
        if current is None:
            outputs.append(None)
            continue
        received = copy.deepcopy(current)
        current = share(current, agreement, now=NOW, sections=SECTIONS)
        assert current is not received
        outputs.append(current)
    assert body == original, "share mutated its input"
    event(f"hops passed: {sum(o is not None for o in outputs)}")

    for i, out in enumerate(outputs):
        upto = hops[: i + 1]
        if out is None:
            continue
        # Every hop on the way allowed this record at all.
        assert original["status"] != Status.rejected
        assert all("event" in a.kinds for a in upto)
        assert all(a.delay != "daily_aggregates" for a in upto)
        # Onward: a hop that forbade it ends the chain at the next node.
        assert all(a.onward_sharing for a in hops[:i])
        # Fields: nothing outside any hop's grant.
        for name in out.body:
            if name == "details":
                assert all("details" in a.allowed_fields
                           or any(f.startswith("details.") for f in a.allowed_fields)
                           for a in upto)
                for sub in out.body["details"]:
                    assert all({"details", f"details.{sub}"} & a.allowed_fields for a in upto)
            else:
                assert _field_allowed(name, upto), name
        for name in MANDATORY_FIELDS:
            assert out.body[name] == original[name]
        # Handling never above any ceiling on the way.
        rank = HANDLING_ORDER[Handling(out.body["handling"])]
        assert all(rank <= HANDLING_ORDER[Handling(a.handling_ceiling)] for a in upto)
        assert out.sharing.ceiling == min((Handling(a.handling_ceiling) for a in upto),
                                          key=HANDLING_ORDER.__getitem__)
        # Precision never finer than the coarsest granted on the way.
        coarsest = max((Precision(a.location_precision) for a in upto),
                       key=PRECISION_ORDER.__getitem__)
        assert out.sharing.precision == coarsest
        location = out.body.get("location")
        if coarsest != Precision.exact:
            # Coordinates, if any, are a section midpoint or a cell centre (checked below),
            # never the reported point (unless it happened to lie exactly there).
            assert "section_distance_km" not in out.body
        if coarsest == Precision.country:
            assert location is None and "section_id" not in out.body
        elif coarsest == Precision.region:
            assert "section_id" not in out.body
            if location is not None:
                assert (location["lon"] - 0.5).is_integer()
                assert (location["lat"] - 0.5).is_integer()
                assert location["precision_m"] >= min(region_precision_m(location["lat"]),
                                                      MAX_PRECISION_M)
        elif coarsest == Precision.section and location is not None:
            info = SECTIONS[original["section_id"]]
            assert location == {"lon": info.lon, "lat": info.lat,
                                "precision_m": info.precision_m}
        elif coarsest == Precision.exact and location is not None:
            assert location == original["location"]
        # Personal data never where not granted.
        least = min((PersonalData(a.personal_data) for a in upto),
                    key=PERSONAL_ORDER.__getitem__)
        assert out.sharing.personal_data == least
        if least == PersonalData.none:
            assert "persons" not in out.body
        if least != PersonalData.full:
            assert "has_personal_data" not in out.body
        # Provenance.
        assert out.sharing.chain == NODES[: i + 1]
        assert out.sharing.onward == all(a.onward_sharing for a in upto)


PERSONAL_ORDER = {p: i for i, p in enumerate(PersonalData)}


@PROPERTY
@given(body=event_bodies(), hops=chains(), subjects=st.integers(0, 3),
       generous=st.lists(st.booleans(), min_size=3, max_size=3))
def test_personal_data_records_travel_only_where_granted_in_full(
    body: dict[str, Any], hops: list[Agreement], subjects: int, generous: list[bool]
) -> None:
    for i, hop in enumerate(hops):  # grant personal data often, or nothing would travel
        if generous[i]:
            hop = hop.model_copy(update={"personal_data": PersonalData.full,
                                         "kinds": [*hop.kinds, "personal_data"]})
            hops[i] = hop
    first = _event(body)
    pd_body = {"event_id": body["id"],
               "subjects": [{"role": "suspect", "full_name": f"Person {n}",
                             "birth_date": "1990-01-01", "nationality": "TJ",
                             "document_kind": None, "document_number": f"N{n}"}
                            for n in range(subjects)]}
    original = copy.deepcopy(pd_body)
    pd: SharedRecord | None = SharedRecord("personal_data", body["origin"], str(uuid.uuid4()), 1,
                                           pd_body, about=first)
    held_event: SharedRecord | None = first
    for i, agreement in enumerate(hops):
        upto = hops[: i + 1]
        shared_event = (share(held_event, agreement, now=NOW, sections=SECTIONS)
                        if held_event is not None else None)
        shared_pd = None
        if pd is not None and held_event is not None:
            shared_pd = share(replace_about(pd, held_event), agreement, now=NOW,
                              sections=SECTIONS)
        if shared_pd is not None:
            assert shared_event is not None
            assert all(a.personal_data == PersonalData.full for a in upto)
            assert all("personal_data" in a.kinds for a in upto)
            assert shared_pd.body == original
            assert shared_pd.about is None
        held_event, pd = shared_event, shared_pd
        if pd is not None:
            event(f"personal data reached hop {i + 1}")
    assert pd_body == original


def replace_about(record: SharedRecord, about: SharedRecord | None) -> SharedRecord:
    return dataclasses.replace(record, about=about)


@PROPERTY
@given(body=event_bodies(), hops=chains())
def test_onward_false_never_leaves_the_second_node(
    body: dict[str, Any], hops: list[Agreement]
) -> None:
    hops[0] = hops[0].model_copy(update={"onward_sharing": False})
    first = share(_event(body), hops[0], now=NOW, sections=SECTIONS)
    if first is None:
        return
    assert first.sharing.onward is False
    assert share(first, hops[1], now=NOW, sections=SECTIONS) is None
    # However generous B's own agreement is.
    generous = default_agreement(NODES[1], NODES[2], "up")
    assert share(first, generous, now=NOW, sections=SECTIONS) is None


# ---------------------------------------------------------------------------
# Hand-written rules


def body_at(**change: Any) -> dict[str, Any]:
    info = SECTIONS["KG-TJ-007"]
    body: dict[str, Any] = {
        "id": "3f6a1a7e-0000-4000-8000-000000000001", "origin": "kg-blo", "version": 1,
        "category": "unauthorised_crossing", "type": "green_border_crossing",
        "occurred_at": "2026-05-01T10:00:00Z", "reported_at": "2026-05-01T10:05:00Z",
        "recorded_at": "2026-05-01T10:05:01Z",
        "location": {"lon": info.lon + 0.01, "lat": info.lat - 0.01, "precision_m": 50.0},
        "section_id": "KG-TJ-007", "section_distance_km": 1.2, "country": "KG",
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "handling": "AMBER", "status": "reported",
        "details": {"stage": "actual", "direction": "entry"},
        "persons": [{"nationality": "TJ", "sex": "male", "age_group": "adult", "count": 3}],
        "transport": "on_foot", "modus_operandi": ["mountain_path"], "reaction": ["apprehended"],
        "description": "three men crossed at night", "follow_up_of": None,
        "has_personal_data": True,
    }
    body.update(change)
    return body


def rec(**change: Any) -> SharedRecord:
    return _event(body_at(**change))


def blo(**change: Any) -> Agreement:
    data: dict[str, Any] = {
        "id": "blo", "from_node": "kg-blo", "to_node": "tj-blo", "direction": "peer",
        "kinds": ["event"],
        "events": {"categories": ["unauthorised_crossing"], "sections": ["KG-TJ-*"]},
        "fields": ["location", "section_id", "section_distance_km", "status", "persons",
                   "details.direction", "has_personal_data"],
        "location_precision": "exact", "personal_data": "full",
        "handling_ceiling": "AMBER", "onward_sharing": True,
    }
    data.update(change)
    return Agreement.model_validate(data)


def test_kind_must_be_granted() -> None:
    assert share(rec(), blo(kinds=[]), now=NOW) is None
    alert = SharedRecord("alert", "kg-blo", "x", 1, {"handling": "CLEAR"})
    assert share(alert, blo(kinds=["event", "alert"]), now=NOW) is None  # no rule yet


def test_category_or_type_must_be_granted() -> None:
    drug = rec(category="cross_border_crime", type="drug_smuggling",
               details={"substance": "heroin"})
    assert share(drug, blo(), now=NOW) is None
    events = {"categories": ["unauthorised_crossing"], "types": ["drug_smuggling"]}
    assert share(drug, blo(events=events), now=NOW) is not None
    assert share(rec(category="crisis"), blo(), now=NOW) is None  # category must fit type


@pytest.mark.parametrize("events, section_id, country, loc, shared", [
    ({"sections": ["KG-TJ-*"]}, "KG-TJ-007", "KG", None, True),
    ({"sections": ["KG-TJ-008"]}, "KG-TJ-007", "KG", None, False),
    ({"sections": ["KG-TJ-007"]}, "KG-TJ-007", "KG", None, True),
    ({"sections": ["KG-TJ-*"]}, None, "KG", None, False),
    ({"countries": ["TJ"]}, "KG-TJ-007", "KG", None, True),
    ({"countries": ["UZ"]}, "KG-TJ-007", "KG", None, False),
    ({"countries": ["KG"]}, None, "KG", None, True),
    ({"bbox": [70, 39, 71, 40]}, None, "KG", (70.5, 39.5), True),
    ({"bbox": [70, 39, 71, 40]}, None, "KG", (71.5, 39.5), False),
    ({"bbox": [70, 39, 71, 40], "countries": ["UZ"]}, None, "UZ", (80.0, 45.0), True),
])
def test_area_restriction(events: dict[str, Any], section_id: str | None, country: str,
                          loc: tuple[float, float] | None, shared: bool) -> None:
    change: dict[str, Any] = {"section_id": section_id, "country": country}
    if loc is not None:
        change["location"] = {"lon": loc[0], "lat": loc[1], "precision_m": None}
    agreement = blo(events={"categories": ["unauthorised_crossing"], **events})
    assert (share(rec(**change), agreement, now=NOW) is not None) is shared


def test_handling_ceiling_own_and_received() -> None:
    assert share(rec(handling="AMBER+STRICT"), blo(), now=NOW) is None
    assert share(rec(handling="AMBER"), blo(), now=NOW) is not None
    received = Sharing(ceiling=Handling.green, chain=("tj-ncc",))
    relayed = SharedRecord("event", "tj-ncc", "x", 1, body_at(origin="tj-ncc"), received)
    assert share(relayed, blo(handling_ceiling="RED"), now=NOW) is None
    out = share(relayed.__class__("event", "tj-ncc", "x", 1, body_at(handling="GREEN"), received),
                blo(handling_ceiling="RED"), now=NOW)
    assert out is not None and out.sharing.ceiling == Handling.green
    assert share(rec(handling="PINK"), blo(handling_ceiling="AMBER+STRICT"), now=NOW) is None
    assert share(rec(handling="PINK"), blo(handling_ceiling="RED"), now=NOW) is not None


def test_rejected_is_not_shared() -> None:
    assert share(rec(status="rejected"), blo(), now=NOW) is None
    assert share(rec(status="closed"), blo(), now=NOW) is not None


def test_onward_restriction_binds_relays_not_the_origin() -> None:
    closed = Sharing(onward=False, chain=("kg-blo",))
    own = SharedRecord("event", "kg-blo", "x", 1, body_at(), closed)
    assert share(own, blo(), now=NOW) is not None
    foreign = SharedRecord("event", "kg-osh", "x", 1, body_at(origin="kg-osh"), closed)
    assert share(foreign, blo(), now=NOW) is None
    out = share(rec(), blo(onward_sharing=False), now=NOW)
    assert out is not None and out.sharing.onward is False
    assert out.sharing.to_dict() == {"onward": False, "ceiling": "AMBER", "chain": ["kg-blo"],
                                     "precision": "exact", "personal_data": "full"}


def test_fields_are_filtered_mandatory_always_travel() -> None:
    out = share(rec(), blo(fields=["details.direction"]), now=NOW)
    assert out is not None
    assert set(out.body) == {*MANDATORY_FIELDS, "details"}
    assert out.body["details"] == {"direction": "entry"}
    out = share(rec(), blo(fields=["details"]), now=NOW)
    assert out is not None and out.body["details"] == {"stage": "actual", "direction": "entry"}
    out = share(rec(), blo(fields=[]), now=NOW)
    assert out is not None and set(out.body) == set(MANDATORY_FIELDS)


def test_precision_exact_keeps_everything() -> None:
    out = share(rec(), blo(), now=NOW, sections=SECTIONS)
    assert out is not None
    assert out.body["location"] == body_at()["location"]
    assert out.body["section_distance_km"] == 1.2


def test_precision_section_snaps_to_the_midpoint() -> None:
    info = SECTIONS["KG-TJ-007"]
    out = share(rec(), blo(location_precision="section"), now=NOW, sections=SECTIONS)
    assert out is not None
    assert out.body["location"] == {"lon": info.lon, "lat": info.lat,
                                    "precision_m": info.length_km * 500}
    assert out.body["section_id"] == "KG-TJ-007"
    assert "section_distance_km" not in out.body
    # Without section geometry, or inland: no coordinates at all.
    out = share(rec(), blo(location_precision="section"), now=NOW)
    assert out is not None and "location" not in out.body
    inland = blo(location_precision="section", events={"categories": ["unauthorised_crossing"]})
    out = share(rec(section_id=None), inland, now=NOW, sections=SECTIONS)
    assert out is not None and "location" not in out.body


def test_precision_region_is_the_one_degree_cell() -> None:
    location = {"lon": 70.93, "lat": 39.98, "precision_m": 10.0}
    out = share(rec(location=location), blo(location_precision="region"), now=NOW)
    assert out is not None
    assert out.body["location"]["lon"] == 70.5 and out.body["location"]["lat"] == 39.5
    expected = math.hypot(111.32 * math.cos(math.radians(39.5)) / 2, 110.574 / 2) * 1000
    assert out.body["location"]["precision_m"] == pytest.approx(expected, abs=1)
    assert "section_id" not in out.body and "section_distance_km" not in out.body
    edge = share(rec(location={"lon": 180.0, "lat": 90.0, "precision_m": None}),
                 blo(location_precision="region", events={"categories": ["unauthorised_crossing"]}),
                 now=NOW)
    assert edge is not None and edge.body["location"]["lon"] == 179.5
    assert edge.body["location"]["lat"] == 89.5


def test_precision_country_drops_coordinates() -> None:
    out = share(rec(), blo(location_precision="country"), now=NOW, sections=SECTIONS)
    assert out is not None
    assert "location" not in out.body and "section_id" not in out.body
    assert out.sharing.precision == Precision.country


def test_received_precision_is_never_refined() -> None:
    first = share(rec(), blo(location_precision="region"), now=NOW, sections=SECTIONS)
    assert first is not None
    # Region dropped the section id, so a relay restricted to sections has nothing to go on.
    relay = blo(from_node="tj-blo", to_node="tj-ncc", location_precision="exact")
    assert share(first, relay, now=NOW, sections=SECTIONS) is None
    relay = relay.model_copy(update={"events": relay.events.model_copy(update={"sections": []})})
    again = share(first, relay, now=NOW, sections=SECTIONS)
    assert again is not None
    assert again.body["location"] == first.body["location"]
    assert again.sharing.precision == Precision.region
    assert again.sharing.chain == ("kg-blo", "tj-blo")


def test_personal_data_levels() -> None:
    out = share(rec(), blo(personal_data="counts_only"), now=NOW)
    assert out is not None and out.body["persons"][0]["count"] == 3
    assert "has_personal_data" not in out.body
    out = share(rec(), blo(personal_data="none"), now=NOW)
    assert out is not None and "persons" not in out.body
    pd = SharedRecord("personal_data", "kg-blo", "p1", 1,
                      {"event_id": body_at()["id"], "subjects": [{"role": "suspect"}]},
                      about=rec())
    granted = blo(kinds=["event", "personal_data"])
    assert share(pd, granted, now=NOW) is not None
    assert share(pd, blo(kinds=["event", "personal_data"], personal_data="counts_only"),
                 now=NOW) is None
    assert share(pd, blo(), now=NOW) is None  # kind not granted
    from dataclasses import replace

    assert share(replace(pd, about=None), granted, now=NOW) is None
    assert share(replace(pd, about=rec(handling="RED")), granted, now=NOW) is None


def test_delay_minutes_and_daily_aggregates() -> None:
    late = blo(delay={"minutes": 90})
    occurred = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert share(rec(), late, now=occurred + timedelta(minutes=89)) is None
    assert share(rec(), late, now=occurred + timedelta(minutes=90)) is not None
    assert share(rec(occurred_at="garbage"), late, now=NOW) is None
    assert share(rec(), blo(delay="daily_aggregates"), now=NOW) is None


def test_validity_window() -> None:
    window = {"valid_from": "2026-05-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z"}
    assert share(rec(), blo(**window), now=NOW) is not None
    assert share(rec(), blo(**window), now=datetime(2026, 6, 1, tzinfo=UTC)) is None
    assert share(rec(), blo(**window), now=datetime(2026, 4, 30, tzinfo=UTC)) is None


def test_input_is_not_mutated() -> None:
    record = rec()
    before = copy.deepcopy(record)
    out = share(record, blo(location_precision="region", personal_data="none"), now=NOW)
    assert record == before
    assert out is not None and out.body is not record.body


@pytest.mark.parametrize("change, reason", [
    ({"handling": "RED"}, "ceiling"),
    ({"status": "rejected"}, "rejected"),
    ({"section_id": "KG-UZ-001"}, "out of area"),
    ({"category": "other", "type": "suspicious_person"}, "not granted"),
])
def test_retraction_when_out_of_scope(change: dict[str, Any], reason: str) -> None:
    assert retraction(rec(), blo()) is None
    notice = retraction(rec(version=2, **change), blo())
    assert notice is not None and reason in notice.reason
    assert notice.to_dict()["retract"] is True and notice.version == 2


def test_delay_never_retracts() -> None:
    assert retraction(rec(), blo(delay={"minutes": 600})) is None


def test_sharing_block_parses_strictly() -> None:
    block = Sharing(onward=False, ceiling=Handling.amber, chain=("a", "b"),
                    precision=Precision.section, personal_data=PersonalData.counts_only)
    assert Sharing.from_dict(block.to_dict()) == block
    assert Sharing.from_dict({}) == Sharing(onward=False, ceiling=Handling.clear,
                                            precision=Precision.country,
                                            personal_data=PersonalData.none)
    with pytest.raises(ValueError):
        Sharing.from_dict({"ceiling": "PURPLE"})
    with pytest.raises(ValueError):
        Sharing.from_dict({"onward": "yes"})


def test_aggregate_counts_per_day_area_and_type() -> None:
    hub = Agreement.model_validate({
        "id": "hub", "from_node": "kg-blo", "to_node": "caricc", "direction": "peer",
        "kinds": ["event"], "events": {"categories": ["unauthorised_crossing"]},
        "fields": ["persons"], "location_precision": "section", "personal_data": "counts_only",
        "handling_ceiling": "AMBER", "delay": "daily_aggregates",
    })
    records = [
        rec(),
        rec(id="2"),
        rec(id="3", section_id=None),
        rec(id="4", status="rejected"),
        rec(id="5", handling="RED"),
        rec(id="6", occurred_at="2026-05-02T01:00:00Z"),
    ]
    before = copy.deepcopy(records)
    rows = aggregate(records, hub, date(2026, 5, 1))
    assert records == before
    assert rows == [
        {"day": "2026-05-01", "area_kind": "country", "area": "KG",
         "category": "unauthorised_crossing", "type": "green_border_crossing",
         "events": 1, "persons": 3},
        {"day": "2026-05-01", "area_kind": "section", "area": "KG-TJ-007",
         "category": "unauthorised_crossing", "type": "green_border_crossing",
         "events": 2, "persons": 6},
    ]
    coarse = hub.model_copy(update={"location_precision": "country", "personal_data": "none"})
    assert aggregate(records, coarse, date(2026, 5, 1)) == [
        {"day": "2026-05-01", "area_kind": "country", "area": "KG",
         "category": "unauthorised_crossing", "type": "green_border_crossing", "events": 3},
    ]


def test_default_agreements_through_share() -> None:
    up = default_agreement("kg-blo", "kg-ncc", "up")
    out = share(rec(handling="RED"), up, now=NOW, sections=SECTIONS)
    assert out is not None and out.body == body_at(handling="RED")
    assert share(rec(), default_agreement("kg-blo", "tj-blo", "peer"), now=NOW) is None
    down = default_agreement("kg-ncc", "kg-batken", "down", sections=["KG-TJ-*"])
    out = share(rec(), down, now=NOW)
    assert out is not None and "persons" not in out.body
    assert share(rec(section_id="KG-UZ-001"), down, now=NOW) is None
    assert share(rec(handling="AMBER+STRICT"), down, now=NOW) is None


@PROPERTY
@given(body=event_bodies(), hops=chains())
def test_retraction_agrees_with_share(body: dict[str, Any], hops: list[Agreement]) -> None:
    # Once every delay has passed, a record is shared exactly when it needs no retraction.
    later = NOW + timedelta(days=30)
    agreement = hops[0]
    shared = share(_event(body), agreement, now=later, sections=SECTIONS)
    assert (shared is None) == (retraction(_event(body), agreement) is not None)


# ---------------------------------------------------------------------------
# Other kinds: alerts, section levels, actions on events, daily aggregates

def _other(kind: str, body: dict[str, Any], origin: str = "node-a") -> SharedRecord:
    return SharedRecord(kind, origin, str(uuid.uuid4()), 1, body)


DOWN = default_agreement("node-a", "node-b", "down", sections=["KG-TJ-*"])


def test_alert_goes_down_only_in_the_childs_area_and_under_the_ceiling() -> None:
    inside = _other("alert", {"section_id": "KG-TJ-007", "handling": "AMBER",
                              "location": {"lon": 70.8, "lat": 39.95, "precision_m": 10}})
    shared = share(inside, DOWN, now=NOW, sections=SECTIONS)
    assert shared is not None and shared.body == inside.body
    assert shared.sharing.chain == ("node-a",) and shared.sharing.onward is False
    assert share(_other("alert", {"section_id": "AF-TJ-007", "handling": "AMBER"}), DOWN,
                 now=NOW) is None
    assert share(_other("alert", {"section_id": "KG-TJ-007", "handling": "RED"}), DOWN,
                 now=NOW) is None
    unlabelled = _other("alert", {"section_id": "KG-TJ-007"})  # no label reads as RED
    assert retraction(unlabelled, DOWN) is not None
    assert share(_other("capacity", {"section_id": "KG-TJ-007", "handling": "GREEN"}), DOWN,
                 now=NOW) is None  # kind not granted down


def test_other_kinds_are_coarsened_like_events() -> None:
    partner = Agreement.model_validate({
        "id": "a-b", "from_node": "node-a", "to_node": "node-b", "direction": "peer",
        "kinds": ["alert"], "location_precision": "region", "handling_ceiling": "AMBER"})
    alert = _other("alert", {"section_id": "KG-TJ-007", "handling": "GREEN",
                             "location": {"lon": 70.81, "lat": 39.93, "precision_m": 10}})
    shared = share(alert, partner, now=NOW, sections=SECTIONS)
    assert shared is not None
    assert "section_id" not in shared.body
    assert shared.body["location"]["lon"] == 70.5 and shared.body["location"]["lat"] == 39.5
    assert alert.body["section_id"] == "KG-TJ-007"  # input untouched


def test_an_action_on_an_event_goes_only_with_its_event() -> None:
    event_body = {"type": "green_border_crossing", "category": "unauthorised_crossing",
                  "section_id": "KG-TJ-007", "handling": "AMBER", "status": "reported"}
    event_record = _other("event", event_body)
    action = SharedRecord("event_action", "node-a", str(uuid.uuid4()), 1,
                          {"event_id": event_record.id, "action": "validate",
                           "handling": "AMBER"}, about=event_record)
    assert share(action, DOWN, now=NOW) is not None
    outside = SharedRecord("event", "node-a", event_record.id, 1,
                           {**event_body, "section_id": "AF-TJ-001"})
    assert share(replace_about(action, outside), DOWN, now=NOW) is None
    assert share(replace_about(action, None), DOWN, now=NOW) is None




def test_daily_aggregates_go_only_on_their_own_link() -> None:
    hub = Agreement.model_validate({
        "id": "a-hub", "from_node": "node-a", "to_node": "node-b", "direction": "peer",
        "kinds": ["event"], "events": {"categories": ["cross_border_crime"]},
        "delay": "daily_aggregates"})
    mine = _other("daily_aggregate", {"to_node": "node-b", "day": "2026-04-30", "rows": []})
    assert share(mine, hub, now=NOW) is not None
    assert share(_other("daily_aggregate", {"to_node": "node-c", "rows": []}), hub,
                 now=NOW) is None
    assert share(mine, DOWN, now=NOW) is None  # that link sends single records


# ---------------------------------------------------------------------------
# Issued reports: sealed parts withheld by precision and personal data, signature intact



@st.composite
def report_contents(draw: st.DrawFn, depth: int = 0) -> Any:
    """A report-like JSON tree with sealed parts of every tag, nested at random."""
    leaf = st.one_of(st.integers(-5, 10_000), st.text(max_size=8), st.booleans(),
                     st.floats(-180, 180, allow_nan=False))
    if depth >= 3:
        return draw(leaf)
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(leaf)
    if choice == 1:
        return seal(draw(st.sampled_from(sorted(TAGS))), draw(report_contents(depth + 1)),
                    salt=draw(st.text("abcdef", min_size=4, max_size=8)))
    if choice == 2:
        return [draw(report_contents(depth + 1)) for _ in range(draw(st.integers(0, 3)))]
    keys = draw(st.lists(st.sampled_from(["a", "b", "rows", "map", "text"]), max_size=3,
                         unique=True))
    return {k: draw(report_contents(depth + 1)) for k in keys}


@st.composite
def issued_reports(draw: st.DrawFn) -> SharedRecord:
    content = {"blocks": [draw(report_contents()) for _ in range(draw(st.integers(1, 4)))],
               "anchor": seal("location", [68.6, 37.2], salt="fixed")}
    body = {"product": "daily", "status": draw(st.sampled_from(["issued", "issued",
                                                                 "withdrawn"])),
            "handling": draw(st.sampled_from(HANDLINGS)), "country": draw(st.sampled_from(
                COUNTRIES)), "content": content, "signature": {"digest": digest(content)}}
    return SharedRecord("report", NODES[0], str(uuid.uuid4()), 1, body)


@st.composite
def report_chains(draw: st.DrawFn) -> list[Agreement]:
    hops = draw(chains())
    return [h.model_copy(update={"kinds": [*h.kinds, "report"]}) if draw(st.integers(0, 3))
            else h for h in hops]


@PROPERTY
@given(record=issued_reports(), hops=report_chains())
def test_reports_lose_what_any_hop_withholds_and_keep_their_digest(
    record: SharedRecord, hops: list[Agreement]
) -> None:
    original = copy.deepcopy(record.body)
    signed = record.body["signature"]["digest"]
    current: SharedRecord | None = record
    withheld: set[str] = set()
    for hop in hops:
        assert current is not None
        shared = share(current, hop, now=NOW, sections=SECTIONS)
        if shared is None:
            break
        assert "report" in hop.kinds and current.body["status"] == "issued"
        assert HANDLING_ORDER[Handling(current.body["handling"])] <= hop.ceiling_rank
        withheld |= REPORT_WITHHELD_BY_PRECISION[Precision(hop.location_precision)]
        withheld |= REPORT_WITHHELD_BY_PERSONAL_DATA[PersonalData(hop.personal_data)]
        # Nothing a hop on the way withheld is open downstream; the digest never changes.
        assert not tags_present(shared.body["content"]) & withheld
        assert digest(shared.body["content"]) == signed
        assert set(shared.body["withheld"]) == withheld
        current = shared
    assert record.body == original  # share never mutates its input
# Cooperation: the directory, requests and responses, attachments, joint operations

COOPERATION = ["organisation", "contact_point", "joint_operation", "attachment",
               "thread_message", "operation_report"]


def _with_kinds(agreement: Agreement, kinds: list[str]) -> Agreement:
    return agreement.model_copy(update={"kinds": sorted({*agreement.kinds, *kinds})})


@st.composite
def cooperation_records(draw: st.DrawFn) -> SharedRecord:
    """A directory entry, an operation, or a record belonging to an event, with a personal
    block and, for attachments, the place a photo was taken."""
    kind = draw(st.sampled_from(COOPERATION))
    handling = draw(st.sampled_from([*HANDLINGS, "PINK"]))
    section = draw(st.sampled_from(SECTION_IDS))
    info = SECTIONS[section]
    body: dict[str, Any] = {"handling": handling, "personal": {"name": "Rahimov F."}}
    about = None
    if kind == "joint_operation":
        body.update(sections=[section], countries=[section[:2]],
                    participants=[{"node": "node-z"}])
    elif kind in ("attachment", "thread_message", "operation_report"):
        event_body = body_at(section_id=section, handling=handling, origin="node-a")
        about = SharedRecord("event", "node-a", event_body["id"], 1, event_body)
        body["record_id" if kind != "operation_report" else "operation_id"] = about.id
        if kind == "attachment":
            body.update(section_id=section, location={"lon": info.lon + 0.01,
                                                      "lat": info.lat, "precision_m": None})
    elif kind == "contact_point":
        body["organisation_id"] = str(uuid.uuid4())
    return SharedRecord(kind, "node-a", str(uuid.uuid4()), 1, body, about=about)


@PROPERTY
@given(record=cooperation_records(), hops=chains())
def test_cooperation_records_over_three_hops(record: SharedRecord,
                                             hops: list[Agreement]) -> None:
    hops = [_with_kinds(h, [*COOPERATION, "event"]) if h.kinds else h for h in hops]
    original = copy.deepcopy(record.body)
    held: SharedRecord | None = record
    about = record.about
    for i, agreement in enumerate(hops):
        upto = hops[: i + 1]
        if held is None:
            break
        shared = share(held, agreement, now=NOW, sections=SECTIONS)
        if about is not None:  # what it belongs to travels (or not) on the same hop
            about = share(about, agreement, now=NOW, sections=SECTIONS)
        if shared is None:
            break
        # Personal blocks only where every hop grants personal data in full.
        full = all(a.personal_data == PersonalData.full for a in upto)
        assert ("personal" in shared.body) == full
        assert shared.body.get("personal_withheld", False) is (not full)
        # Handling under every ceiling on the way.
        label = shared.body["handling"]
        rank = HANDLING_ORDER[Handling(label) if label in list(Handling) else Handling.red]
        assert rank <= min(a.ceiling_rank for a in upto)
        # A photo's place never finer than the coarsest hop grants.
        coarsest = max((Precision(a.location_precision) for a in upto),
                       key=PRECISION_ORDER.__getitem__)
        location = shared.body.get("location")
        if location is not None and coarsest != Precision.exact:
            assert (location["lon"], location["lat"]) != (
                original["location"]["lon"], original["location"]["lat"])
        if i >= 1:
            assert all(a.onward_sharing for a in hops[:i])
        held = dataclasses.replace(shared, about=about)
        event(f"{record.kind} reached hop {i + 1}")
    assert record.body == original


@PROPERTY
@given(kind=st.sampled_from(["request_for_information", "request_response"]),
       to_node=st.sampled_from(NODES[1:]), hops=chains(), onward=st.booleans())
def test_an_addressed_record_goes_only_to_its_addressee(
        kind: str, to_node: str, hops: list[Agreement], onward: bool) -> None:
    hops = [_with_kinds(h, [kind]) for h in hops]
    body = {"to_node": to_node, "handling": "CLEAR", "onward": onward, "title": "t"}
    held: SharedRecord | None = SharedRecord(kind, "node-a", str(uuid.uuid4()), 1, body)
    reached = []
    for agreement in hops:
        if held is None:
            break
        held = share(held, agreement, now=NOW, sections=SECTIONS)
        if held is not None:
            reached.append(agreement.to_node)
    # It may reach its addressee, directly, and never any node beyond.
    assert reached in ([], [to_node]) and (not reached or to_node == NODES[1])


@PROPERTY
@given(allowed=st.sampled_from([True, False, None]), hop=agreements("node-b", "node-c"))
def test_a_forward_leaves_only_with_the_originators_consent(
        allowed: bool | None, hop: Agreement) -> None:
    hop = _with_kinds(hop, ["request_for_information"])
    first = SharedRecord("request_for_information", "node-a", str(uuid.uuid4()), 1,
                         {"to_node": "node-b", "handling": "CLEAR", "forward_allowed": allowed},
                         Sharing(onward=False, chain=("node-a",)))
    forward = SharedRecord("request_for_information", "node-b", str(uuid.uuid4()), 1,
                           {"to_node": "node-c", "handling": "CLEAR",
                            "forwarded_from": {"id": first.id, "origin": "node-a"}},
                           about=first)
    shared = share(forward, hop, now=NOW, sections=SECTIONS)
    if allowed is not True:
        assert shared is None
        assert retraction(forward, hop) is not None
    assert share(dataclasses.replace(forward, about=None), hop, now=NOW) is None


def test_an_answer_marked_not_onward_stays_with_the_asking_node() -> None:
    relay = Agreement.model_validate({
        "id": "b-c", "from_node": "node-b", "to_node": "node-c", "direction": "up",
        "kinds": ["request_response"], "handling_ceiling": "RED", "onward_sharing": True,
        "personal_data": "full"})
    answer = SharedRecord("request_response", "node-a", str(uuid.uuid4()), 1,
                          {"to_node": "node-c", "handling": "GREEN", "onward": False},
                          Sharing(onward=True, chain=("node-a",)))
    assert share(answer, relay, now=NOW) is None
    assert share(dataclasses.replace(answer, body={**answer.body, "onward": True}), relay,
                 now=NOW) is not None


def test_a_reaction_goes_back_to_the_node_that_holds_the_record() -> None:
    back = Agreement.model_validate({
        "id": "b-a", "from_node": "node-b", "to_node": "node-a", "direction": "peer",
        "kinds": ["thread_message", "attachment"], "handling_ceiling": "AMBER",
        "events": {"categories": ["crisis"], "sections": ["KG-TJ-*"]}})
    request = SharedRecord("request_for_information", "node-a", str(uuid.uuid4()), 1,
                           {"to_node": "node-b", "handling": "AMBER"},
                           Sharing(onward=False, chain=("node-a",)))
    message = SharedRecord("thread_message", "node-b", str(uuid.uuid4()), 1,
                           {"record_id": request.id, "handling": "AMBER", "text": "ok"},
                           about=request)
    assert share(message, back, now=NOW) is not None  # node-a asked: it holds the request
    elsewhere = back.model_copy(update={"to_node": "node-c", "id": "b-c"})
    assert share(message, elsewhere, now=NOW) is None  # node-c holds nothing of it
    placed = dataclasses.replace(message, kind="attachment", body={
        **message.body, "section_id": "AF-TJ-001"})
    assert share(placed, back, now=NOW) is None  # a photo outside the area stays home
