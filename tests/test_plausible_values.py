"""Values no border guard could mean are refused with a 422 naming the field, not stored
(issue 15): a year-1 deadline, a birth in 9999, a 1e308 km section, a boolean for a
version, a window at the edge of the calendar."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import auth, report
from sitcen.users import Role

SECTION = "AF-TJ-003"
FIGURES = {"staff_per_shift": 6, "shifts_per_day": 3, "patrol_hours_per_week": 120,
           "vehicles": 3, "sensors": 4, "cameras": 6, "towers": 2, "covered_km": 20,
           "fence_km": 5, "response_time_min": 25, "terrain_permeability": 0.6}


def _loc(answer: Any) -> list[Any]:
    assert answer.status_code == 422, answer.text
    return list(answer.json()["detail"][0]["loc"])


@pytest.mark.parametrize(("change", "field"), [
    ({"length_km": 1e308}, "length_km"),
    ({"covered_km": 1e9}, "covered_km"),
    ({"response_time_min": 1e12}, "response_time_min"),
    ({"assessed_on": "0001-01-01"}, "assessed_on"),
    ({"base_version": True}, "base_version"),
])
def test_capacity_figures_beyond_any_border(client: TestClient, tokens: dict[Role, str],
                                            change: dict[str, Any], field: str) -> None:
    answer = client.put(f"/api/v1/sections/{SECTION}/capacity", json={**FIGURES, **change},
                        headers=auth(tokens[Role.analyst]))
    assert _loc(answer)[-1] == field


def test_a_recommendation_due_in_year_one(client: TestClient, tokens: dict[Role, str]) -> None:
    answer = client.post("/api/v1/recommendations", headers=auth(tokens[Role.analyst]), json={
        "section_id": SECTION, "text": "Two thermal cameras at the ford",
        "owner": "Panj detachment", "deadline": "0001-01-01"})
    assert _loc(answer) == ["body", "deadline"]


def test_a_person_born_in_9999(client: TestClient, tokens: dict[Role, str]) -> None:
    body = report(subjects=[{"role": "suspect", "full_name": "X", "birth_date": "9999-01-01"}])
    answer = client.post("/api/v1/events", json=body, headers=auth(tokens[Role.duty_officer]))
    assert _loc(answer) == ["body", "subjects", 0, "birth_date"]


def test_a_version_given_as_a_boolean(client: TestClient, tokens: dict[Role, str]) -> None:
    operator = auth(tokens[Role.operator])
    event_id = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    answer = client.put(f"/api/v1/events/{event_id}", headers=operator,
                        json=report(status="reported", base_version=False))
    assert _loc(answer) == ["body", "base_version"]


@pytest.mark.parametrize("query", ["since=0001-01-01", "since=0"])
def test_alerts_since_the_first_year(client: TestClient, tokens: dict[Role, str],
                                     query: str) -> None:
    answer = client.get(f"/api/v1/alerts?{query}", headers=auth(tokens[Role.analyst]))
    assert _loc(answer) == ["query", "since"]


@pytest.mark.parametrize("bound", ["since=9999-12-31T23:59:59-14:00",
                                   "until=0001-01-01T00:00:00%2B14:00"])
def test_alert_statistics_at_the_edge_of_the_calendar(client: TestClient,
                                                      tokens: dict[Role, str],
                                                      bound: str) -> None:
    answer = client.get(f"/api/v1/alerts/statistics?{bound}",
                        headers=auth(tokens[Role.analyst]))
    assert _loc(answer)[0] == "query"
