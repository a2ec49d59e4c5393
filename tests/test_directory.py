"""The directory through the API on both backends: agencies, units, points of contact,
search, border liaison office pairs, who sees a contact's personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from sitcen.node import Node
from sitcen.operations.directory import on_duty
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _post(client: TestClient, path: str, body: dict[str, Any],
          headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(f"/api/v1/directory/{path}", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_agencies_units_contacts_and_a_liaison_pair(client: TestClient, node: Node,
                                                   as_role: Headers) -> None:
    duty = as_role(Role.duty_officer)
    agency = _post(client, "organisations", {
        "name": "Border Troops of the State Committee for National Security",
        "name_local": "Пограничные войска ГКНБ", "short_name": "PV GKNB",
        "agency_type": "border_guard", "country": "TJ"}, duty)
    assert agency["body"]["node"] == node.settings.node_id
    blo = _post(client, "organisations", {
        "name": "Isfara border liaison office", "agency_type": "border_guard",
        "unit_kind": "border_liaison_office", "parent_id": agency["id"], "country": "TJ",
        "location": {"lon": 70.62, "lat": 40.12},
        "counterpart": {"name": "Batken border liaison office", "country": "KG"}}, duty)
    counterpart = _post(client, "organisations", {
        "name": "Batken border liaison office", "agency_type": "border_guard",
        "unit_kind": "border_liaison_office", "country": "KG", "node": "kg-batken-post",
        "counterpart": {"organisation_id": blo["id"], "name": "Isfara BLO", "country": "TJ"}},
        duty)
    contact = _post(client, "contacts", {
        "organisation_id": blo["id"], "role": "Duty officer", "phones": ["+992 3435 2 11 11"],
        "radio_callsign": "ISFARA-1", "languages": ["tg", "ru"],
        "hours": {"always": False, "time_zone": "Asia/Dushanbe", "days": ["mon", "tue"],
                  "start": "08:00", "end": "18:00"},
        "person": {"name": "Rahimov Farhod", "phones": ["+992 92 000 00 00"]}}, duty)
    assert contact["body"]["personal"]["name"] == "Rahimov Farhod"
    assert "person" not in contact["body"]

    found = client.get("/api/v1/directory?q=isfara-1", headers=as_role(Role.liaison)).json()
    assert [o["body"]["name"] for o in found["organisations"]] == [
        "Isfara border liaison office"]
    (shown,) = found["organisations"][0]["contacts"]
    assert shown["body"]["personal"]["name"] == "Rahimov Farhod"  # a liaison officer sees it
    operator = client.get("/api/v1/directory?q=isfara", headers=as_role(Role.operator)).json()
    (office,) = [o for o in operator["organisations"] if o["id"] == blo["id"]]
    assert office["contacts"][0]["body"]["personal_withheld"] is True
    assert "personal" not in office["contacts"][0]["body"]
    assert office["contacts"][0]["body"]["phones"] == ["+992 3435 2 11 11"]
    # Searching by a contact's name works only for those who may read it.
    assert client.get("/api/v1/directory?q=rahimov",
                      headers=as_role(Role.operator)).json()["organisations"] == []
    # An agency's units come up with it; filters narrow by type and country.
    units = client.get("/api/v1/directory?q=GKNB", headers=as_role(Role.operator)).json()
    assert {o["id"] for o in units["organisations"]} == {agency["id"], blo["id"]}
    kg = client.get("/api/v1/directory?country=KG", headers=as_role(Role.operator)).json()
    assert [o["id"] for o in kg["organisations"]] == [counterpart["id"]]

    # Isfara names Batken only by name: declared; once it names the record, confirmed.
    (pair,) = client.get("/api/v1/directory/liaison-pairs", headers=duty).json()
    assert pair["border"] == "KG-TJ"
    changed = client.put(f"/api/v1/directory/organisations/{blo['id']}?base_version=1", json={
        "name": "Isfara border liaison office", "agency_type": "border_guard",
        "unit_kind": "border_liaison_office", "parent_id": agency["id"], "country": "TJ",
        "counterpart": {"organisation_id": counterpart["id"], "name": "Batken BLO",
                        "country": "KG"}}, headers=duty)
    assert changed.status_code == 200 and changed.json()["version"] == 2
    (pair,) = client.get("/api/v1/directory/liaison-pairs", headers=duty).json()
    assert pair["status"] == "confirmed"
    assert {o["country"] for o in pair["offices"]} == {"KG", "TJ"}


def test_directory_rules_and_roles(client: TestClient, as_role: Headers) -> None:
    duty = as_role(Role.duty_officer)
    assert client.post("/api/v1/directory/organisations", json={
        "name": "Customs", "agency_type": "customs", "country": "KG"},
        headers=as_role(Role.operator)).status_code == 403
    bad = client.post("/api/v1/directory/organisations", json={
        "name": "Customs", "agency_type": "customs", "country": "KG",
        "counterpart": {"name": "x", "country": "TJ"}}, headers=duty)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "counterpart"]
    bad = client.post("/api/v1/directory/contacts", json={
        "organisation_id": "00000000-0000-4000-8000-000000000000", "role": "desk"},
        headers=duty)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == [
        "body", "organisation_id"]
    bad = client.post("/api/v1/directory/organisations", json={
        "name": "Customs", "agency_type": "navy", "country": "KG"}, headers=duty)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "agency_type"]
    missing = client.put("/api/v1/directory/contacts/00000000-0000-4000-8000-000000000000",
                         json={"organisation_id": "00000000-0000-4000-8000-000000000000",
                               "role": "desk"}, headers=duty)
    assert missing.status_code in (404, 422)


def test_on_duty_follows_the_hours_in_the_contacts_zone() -> None:
    hours = {"always": False, "time_zone": "Asia/Dushanbe", "days": ["mon"], "start": "08:00",
             "end": "18:00"}
    monday_9_dushanbe = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 09:00 UTC+5
    assert on_duty(hours, monday_9_dushanbe)
    assert not on_duty(hours, datetime(2026, 12, 7, 13, 30, tzinfo=UTC))  # 18:30 there
    assert not on_duty(hours, datetime(2026, 12, 8, 4, 0, tzinfo=UTC))  # Tuesday
    assert on_duty({"always": True}, monday_9_dushanbe)
