"""Querying the picture: time window, bbox, section, country, taxonomy, cursor pages, GeoJSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
NOW = datetime.now(UTC).replace(microsecond=0)

# (lon, lat, where): TJ-AF near Nizhny Panj, KG-TJ near Batken, KZ inland near Astana.
PLACES = [(68.60, 37.22, "panj"), (70.80, 39.95, "batken"), (71.43, 51.17, "astana")]


@pytest.fixture
def seeded(client: TestClient, as_role: Headers) -> list[dict[str, Any]]:
    """60 events: 20 days x 3 places, alternating types and impact levels."""
    events = []
    for day in range(20):
        for k, (lon, lat, _) in enumerate(PLACES):
            seizure = (day + k) % 2 == 0
            events.append(report(
                occurred_at=iso(NOW - timedelta(days=day, hours=k)),
                location={"lon": lon, "lat": lat},
                type="drug_smuggling" if seizure else "green_border_crossing",
                details=({"substance": "opium", "quantity": 1.0, "unit": "kg"} if seizure
                         else {"stage": "actual", "direction": "entry"}),
                impact_level="high" if day % 5 == 0 else "low",
                country=["TJ", "KG", "KZ"][k],
            ))
    response = client.post("/api/v1/events/batch", json={"events": events},
                           headers=as_role(Role.operator))
    assert response.status_code == 201, response.text
    return events


def _all_pages(client: TestClient, headers: dict[str, str], query: str,
               limit: int = 7) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/api/v1/events?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.usefixtures("seeded")
def test_cursor_pages_cover_everything_once_newest_first(client: TestClient,
                                                         as_role: Headers) -> None:
    items = _all_pages(client, as_role(Role.analyst), "country=TJ,KG,KZ")
    assert len(items) == 60
    assert len({i["id"] for i in items}) == 60
    keys = [(i["occurred_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bbox=68,36.5,69.5,38", 20),
        ("bbox=60,30,80,45", 40),  # many cells: falls back to the time index
        ("bbox=-10,-10,179,80", 60),
        ("bbox=20,20,21,21", 0),
        ("type=drug_smuggling", 30),
        ("category=unauthorised_crossing", 30),
        ("impact_level=high", 12),
        ("country=KZ", 20),  # reported by KZ; Astana is inland
        ("country=TJ", 40),  # reported by TJ at Panj, or on a KG-TJ section at Batken
        ("country=AF", 20),  # on an AF-TJ section
        ("status=reported", 60),
        ("status=validated", 0),
        ("handling=AMBER", 60),
    ],
)
def test_filters(client: TestClient, as_role: Headers, query: str, expected: int) -> None:
    assert len(_all_pages(client, as_role(Role.liaison), query, limit=13)) == expected


@pytest.mark.usefixtures("seeded")
def test_time_window_and_bbox_together(client: TestClient, as_role: Headers) -> None:
    since = iso(NOW - timedelta(days=6, hours=12))
    until = iso(NOW + timedelta(minutes=1))
    query = f"since={since}&until={until}&bbox=68,36.5,69.5,38"
    items = _all_pages(client, as_role(Role.analyst), query.replace("+", "%2B"), limit=3)
    assert len(items) == 7
    assert {round(i["location"]["lat"], 2) for i in items} == {37.22}


@pytest.mark.usefixtures("seeded")
def test_section_filter_uses_assigned_sections(client: TestClient, as_role: Headers) -> None:
    items = _all_pages(client, as_role(Role.analyst), "bbox=68,36.5,69.5,38")
    section = items[0]["section_id"]
    assert section.startswith("AF-TJ-")
    same = _all_pages(client, as_role(Role.analyst), f"section={section}")
    assert {i["id"] for i in same} == {i["id"] for i in items}


@pytest.mark.usefixtures("seeded")
def test_geojson_output(client: TestClient, as_role: Headers) -> None:
    response = client.get("/api/v1/events?format=geojson&limit=5&bbox=70,39,72,41",
                          headers=as_role(Role.analyst))
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 5
    feature = body["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [70.8, 39.95]}
    assert feature["properties"]["section_id"].startswith("KG-TJ-")
    assert body["next_cursor"]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,10,5,5", "bbox"),
        ("bbox=170,0,-170,10", "bbox"),  # across the antimeridian: refused, not empty
        ("bbox=a,b,c,d", "bbox"),
        ("cursor=bm9wZQ", "cursor"),
        ("type=alien_landing", "type"),
        ("status=lost", "status"),
        ("since=2026-01-01T00:00:00", "since"),
        ("since=9999-12-31T23:59:59-14:00", "since"),  # outside the calendar in UTC
        ("until=0001-01-01T00:00:00%2B14:00", "until"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("format=kml", "format"),
        ("country=tj", "country"),
        ("country=%25", "country"),
    ],
)
def test_bad_query_gets_422(client: TestClient, as_role: Headers, query: str, loc: str) -> None:
    response = client.get(f"/api/v1/events?{query}", headers=as_role(Role.analyst))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", loc]
