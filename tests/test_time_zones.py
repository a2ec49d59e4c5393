"""Every place that reads a time zone name reads it one way (``times.zone``): a name that
is not a zone, a folder of the zone database ("Asia") included, is a clear refusal,
never a crash (issue 15)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import auth
from sitcen.reports.templates import ReportTemplate
from sitcen.settings import Settings
from sitcen.times import zone
from sitcen.users import Role

NOT_ZONES = ["Asia", "Europe/", "../etc/passwd", "Mars/Olympus", "", "Asia/Dushanbe\\x"]


@pytest.mark.parametrize("name", NOT_ZONES)
def test_a_name_that_is_not_a_zone_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        zone(name)


def test_a_zone_is_read() -> None:
    assert str(zone("Asia/Dushanbe")) == "Asia/Dushanbe"


@pytest.mark.parametrize("path", ["/api/v1/stats/categories", "/api/v1/queue/statistics",
                                  "/api/v1/tasks/statistics"])
@pytest.mark.parametrize("name", ["Asia", "Mars/Olympus"])
def test_routes_refuse_a_folder_or_unknown_zone_naming_tz(
        client: TestClient, tokens: dict[Role, str], path: str, name: str) -> None:
    answer = client.get(path, params={"tz": name}, headers=auth(tokens[Role.duty_officer]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "tz"]


def test_a_contacts_hours_in_a_folder_zone_are_refused(client: TestClient,
                                                       tokens: dict[Role, str]) -> None:
    duty = auth(tokens[Role.duty_officer])
    organisation = client.post("/api/v1/directory/organisations", headers=duty, json={
        "name": "Isfara border liaison office", "agency_type": "border_guard",
        "unit_kind": "border_liaison_office", "country": "TJ"})
    assert organisation.status_code == 201, organisation.text
    contact = client.post("/api/v1/directory/contacts", headers=duty, json={
        "organisation_id": organisation.json()["id"], "role": "Duty officer",
        "hours": {"always": False, "time_zone": "Asia", "days": ["mon"],
                  "start": "08:00", "end": "18:00"}})
    assert contact.status_code == 422, contact.text
    assert "time_zone" in contact.json()["detail"][0]["loc"]


def test_settings_and_templates_refuse_a_folder_zone() -> None:
    with pytest.raises(ValidationError, match="digest_tz"):
        Settings(digest_tz="Asia")
    with pytest.raises(ValidationError, match="time zone"):
        ReportTemplate.model_validate({"id": "t", "name": "t", "product": "daily",
                                       "time_zone": "Asia"})
