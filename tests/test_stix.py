"""STIX 2.1 export checked by stix2-validator and stix2; import of bundles built with stix2."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stix2
from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance

from conftest import iso
from sitcen.exchange.sharing import SharedRecord, section_infos
from sitcen.geo import load_default_sections
from sitcen.interop.stix import (
    EXTENSION_ID,
    TLP2_MARKINGS,
    bundle,
    extension_definition,
    to_stix,
)
from sitcen.taxonomy import Handling
from sitcen.users import Role

SECTIONS = section_infos(load_default_sections())
EVENT_ID = "6c1f1a52-9a34-4b6a-8a53-2b0e3c1a1111"
RECORDED = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _event(**changes: Any) -> SharedRecord:
    body = {
        "id": EVENT_ID, "origin": "tj-ncc", "version": 2, "type": "drug_smuggling",
        "category": "cross_border_crime", "occurred_at": "2026-05-01T10:00:00Z",
        "reported_at": "2026-05-01T11:00:00Z", "handling": "AMBER", "section_id": "AF-TJ-003",
        "country": "TJ", "location": {"lon": 68.6, "lat": 37.22, "precision_m": 50},
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "details": {"substance": "heroin", "quantity": 12.5, "unit": "kg"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 2}],
        "description": "Два курьера задержаны при переправе через Пяндж",
        **changes,
    }
    return SharedRecord("event", "tj-ncc", EVENT_ID, int(body["version"]), body)


ALERT = SharedRecord("alert", "tj-ncc", "7c1f1a52-9a34-4b6a-8a53-2b0e3c1a2222", 1, {
    "section_id": "AF-TJ-003", "severity": "high", "status": "open",
    "first_day": "2026-05-01", "last_day": "2026-05-03", "methods": ["cusum", "scan"],
    "explanation": "Рост числа задержаний в 4 раза", "event_ids": [EVENT_ID],
    "handling": "AMBER", "observed": 9, "expected": 2.1})
LEVEL = SharedRecord("section_assessment", "tj-ncc", "8c1f1a52-9a34-4b6a-8a53-2b0e3c1a3333", 3, {
    "section_id": "AF-TJ-003", "level": "high", "proposed_level": "medium", "overridden": True,
    "justification": "Данные разведки о новом маршруте", "reasons": ["Рост задержаний"],
    "reactions": ["Усилить патрулирование"], "handling": "GREEN"})


def _valid(document: dict[str, Any]) -> None:
    result = validate_instance(document, ValidationOptions(strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    assert not result.warnings, [str(w) for w in result.warnings]


def _all_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for record in (_event(), ALERT, LEVEL):
        converted = to_stix(record, recorded_at=RECORDED, sections=SECTIONS,
                            node_names={"tj-ncc": "Национальный центр, Душанбе"})
        assert converted is not None
        objects += converted.all
    return objects


def test_every_exported_object_type_passes_the_validator_in_strict_mode() -> None:
    objects = _all_objects()
    types = {o["type"] for o in objects}
    assert types == {"identity", "extension-definition", "marking-definition", "incident",
                     "location", "sighting", "report", "note"}
    for obj in objects:
        _valid(obj)
    _valid(bundle(objects))


def test_the_stix2_library_reads_the_export_without_custom_content() -> None:
    parsed = stix2.parse(bundle(_all_objects()), allow_custom=False)
    incident = next(o for o in parsed.objects if o.type == "incident")
    assert incident.description == "Два курьера задержаны при переправе через Пяндж"
    assert incident.extensions[EXTENSION_ID]["event_type"] == "drug_smuggling"


def test_event_fields_travel_in_the_extension_and_markings_are_tlp2() -> None:
    converted = to_stix(_event(), recorded_at=RECORDED, sections=SECTIONS)
    assert converted is not None
    incident, location, sighting = converted.objects
    ext = incident["extensions"][EXTENSION_ID]
    assert ext["details"] == {"substance": "heroin", "quantity": 12.5, "unit": "kg"}
    assert ext["persons_total"] == 2 and ext["section_id"] == "AF-TJ-003"
    assert ext["impact_level"] == "medium" and ext["source_reliability"] == "B"
    assert incident["confidence"] == 70  # credibility 2, STIX Appendix A
    assert incident["object_marking_refs"] == [TLP2_MARKINGS[Handling.amber]]
    assert (location["latitude"], location["longitude"], location["precision"]) == (
        37.22, 68.6, 50.0)
    assert sighting["sighting_of_ref"] == incident["id"]
    assert sighting["where_sighted_refs"] == [location["id"]]
    assert sighting["first_seen"] == "2026-05-01T10:00:00.000000Z"
    assert incident["modified"] == "2026-05-01T12:00:00.123456Z"
    schema = json.loads(extension_definition()["schema"])
    assert set(ext) <= set(schema["properties"])


def test_ids_are_stable_across_exports_and_versions() -> None:
    first = to_stix(_event(), recorded_at=RECORDED)
    again = to_stix(_event(), recorded_at=RECORDED)
    later = to_stix(_event(version=3, impact_level="high"),
                    recorded_at=RECORDED + timedelta(hours=1))
    assert first is not None and again is not None and later is not None
    assert first.all == again.all
    assert [o["id"] for o in first.objects] == [o["id"] for o in later.objects]
    assert first.objects[0]["modified"] < later.objects[0]["modified"]
    assert first.objects[0]["created"] == later.objects[0]["created"]
    assert bundle(first.all)["id"] == bundle(again.all)["id"]


def test_an_event_shared_at_country_precision_has_no_location() -> None:
    converted = to_stix(_event(location=None, section_id=None), recorded_at=RECORDED)
    assert converted is not None
    assert [o["type"] for o in converted.objects] == ["incident", "sighting"]
    assert "where_sighted_refs" not in converted.objects[1]
    for obj in converted.all:
        _valid(obj)


def test_kinds_without_a_stix_form_are_not_converted() -> None:
    record = SharedRecord("capacity", "tj-ncc", EVENT_ID, 1, {"section_id": "AF-TJ-003"})
    assert to_stix(record, recorded_at=RECORDED) is None


# ---------------------------------------------------------------------------- import


PARTNER = stix2.Identity(name="Пограничная служба КР", identity_class="organization")


def _partner_bundle(*extra: Any, event: dict[str, Any] | None = None,
                    marking: str = TLP2_MARKINGS[Handling.green]) -> dict[str, Any]:
    fields = {"extension_type": "property-extension", "kind": "event",
              "sitcen_id": "0d1f6a52-9a34-4b6a-8a53-2b0e3c1a4444", "origin": "kg-ncc",
              "version": 1, "event_type": "green_border_crossing",
              "occurred_at": iso(datetime.now(UTC) - timedelta(hours=5)),
              "impact_level": "high",
              "details": {"stage": "actual", "direction": "entry"},
              "persons": [{"nationality": "TJ", "count": 3}]}
    fields.update(event or {})
    incident = stix2.Incident(name="Незаконное пересечение", description="Трое нарушителей",
                              created_by_ref=PARTNER.id, object_marking_refs=[marking],
                              extensions={EXTENSION_ID: fields}, allow_custom=True)
    place = stix2.Location(latitude=39.95, longitude=70.80, precision=200,
                           created_by_ref=PARTNER.id)
    seen = stix2.Sighting(sighting_of_ref=incident.id, where_sighted_refs=[place.id],
                          first_seen=fields["occurred_at"], created_by_ref=PARTNER.id)
    content = stix2.Bundle(PARTNER, incident, place, seen, *extra, allow_custom=True)
    document: dict[str, Any] = json.loads(content.serialize())
    return document


def _post(client: TestClient, headers: dict[str, str], document: Any,
          dry_run: bool = False) -> Any:
    response = client.post(f"/api/v1/stix/bundles?dry_run={str(dry_run).lower()}",
                           content=json.dumps(document).encode(),
                           headers={**headers, "Content-Type": "application/json"})
    return response


def test_a_partner_incident_becomes_an_event_once(
    client: TestClient, as_role: Callable[[Role], dict[str, str]],
) -> None:
    operator = as_role(Role.operator)
    document = _partner_bundle()
    dry = _post(client, operator, document, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["imported"] == 1 and client.get(
        "/api/v1/events", headers=operator).json()["items"] == []
    done = _post(client, operator, document).json()
    assert done["imported"] == 1
    outcomes = {o["type"]: o for o in done["objects"]}
    assert outcomes["identity"]["outcome"] == "supporting"
    event_id = outcomes["incident"]["event_id"]
    event = client.get(f"/api/v1/events/{event_id}", headers=operator).json()
    assert event["type"] == "green_border_crossing" and event["handling"] == "GREEN"
    assert event["location"] == {"lon": 70.8, "lat": 39.95, "precision_m": 200.0}
    assert event["persons"][0]["count"] == 3 and event["impact_level"] == "high"
    assert "Трое нарушителей" in event["description"]
    assert "Пограничная служба КР" in event["description"]
    again = _post(client, operator, document).json()
    assert again["imported"] == 0
    incident = next(o for o in again["objects"] if o["type"] == "incident")
    assert incident["reason"] == "imported before" and incident["event_id"] == event_id


def test_what_cannot_be_mapped_is_reported_with_the_reason(
    client: TestClient, as_role: Callable[[Role], dict[str, str]],
) -> None:
    indicator = stix2.Indicator(pattern="[ipv4-addr:value = '10.0.0.1']", pattern_type="stix",
                                valid_from="2026-01-01T00:00:00Z")
    bare = stix2.Incident(name="Чужой инцидент")
    document = _partner_bundle(indicator, bare)
    document["objects"].append({"type": "incident", "id": "incident--1", "spec_version": "2.1"})
    document["objects"].append({"type": "incident", "spec_version": "2.0",
                                "id": "incident--0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c"})
    document["objects"].append("not an object")
    report = _post(client, as_role(Role.operator), document).json()
    reasons = {o["id"]: o.get("reason", "") for o in report["objects"]}
    assert "not a border event" in reasons[indicator.id]
    assert "without the sitcen border-event extension" in reasons[bare.id]
    assert reasons["incident--1"] == "id is not <type>--<uuid>"
    assert "not 2.1" in reasons["incident--0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c"]
    assert "not a STIX object" in reasons[f"objects[{len(document['objects']) - 1}]"]
    assert report["imported"] == 1


@pytest.mark.parametrize(("event", "reason", "field"), [
    ({"event_type": "smuggling_of_unicorns"}, "not in the taxonomy", None),
    ({"details": {"stage": "actual"}}, "breaks a rule", "direction"),
    ({"impact_level": "катастрофический"}, "not valid", "impact_level"),
    ({"occurred_at": iso(datetime.now(UTC) + timedelta(days=2))}, "breaks a rule",
     "occurred_at"),
])
def test_an_invalid_event_is_skipped_naming_the_field(
    client: TestClient, as_role: Callable[[Role], dict[str, str]], event: dict[str, Any],
    reason: str, field: str | None,
) -> None:
    report = _post(client, as_role(Role.operator), _partner_bundle(event=event)).json()
    incident = next(o for o in report["objects"] if o["type"] == "incident")
    assert incident["outcome"] == "skipped" and reason in incident["reason"]
    if field is not None:
        assert any(field in map(str, e["loc"]) for e in incident["errors"])
    assert report["imported"] == 0


def test_an_incident_without_a_located_sighting_is_skipped(
    client: TestClient, as_role: Callable[[Role], dict[str, str]],
) -> None:
    document = _partner_bundle()
    document["objects"] = [o for o in document["objects"] if o["type"] != "sighting"]
    report = _post(client, as_role(Role.operator), document).json()
    incident = next(o for o in report["objects"] if o["type"] == "incident")
    assert "no location" in incident["reason"]


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b'"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"', 422),
    (b'{"type": "report", "id": "bundle--x"}', 422),
    (b'{"type": "bundle", "id": "x", "objects": []}', 422),
    (b'{"type": "bundle", "id": "bundle--x", "objects": {}}', 422),
    ("{\"type\": \"bundle\"}".encode("utf-16"), 400),
])
def test_bad_documents_get_a_clear_answer(
    client: TestClient, as_role: Callable[[Role], dict[str, str]], body: bytes, status: int,
) -> None:
    response = client.post("/api/v1/stix/bundles", content=body,
                           headers={**as_role(Role.operator),
                                    "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_only_reporting_roles_import(
    client: TestClient, as_role: Callable[[Role], dict[str, str]],
) -> None:
    assert _post(client, as_role(Role.liaison), _partner_bundle()).status_code == 403
    assert client.post("/api/v1/stix/bundles", content=b"{}").status_code == 401


def test_the_extension_definition_is_served_and_valid(
    client: TestClient, as_role: Callable[[Role], dict[str, str]],
) -> None:
    response = client.get("/api/v1/stix/extension-definition", headers=as_role(Role.liaison))
    assert response.headers["content-type"] == "application/stix+json;version=2.1"
    _valid(response.json())
