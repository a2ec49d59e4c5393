"""Reference data through the API: sections, crossing points, taxonomy, health, journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from conftest import report
from sitcen.store.migrations import MIGRATIONS
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]

CUSTOM = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature",
         "geometry": {"type": "LineString", "coordinates": [[68.0, 37.1], [69.0, 37.3]]},
         "properties": {"id": "AF-TJ-001", "name": "Panj lower reach"}},
        {"type": "Feature",
         "geometry": {"type": "LineString", "coordinates": [[70.5, 39.9], [71.0, 40.0]]},
         "properties": {"id": "KG-TJ-001", "name": "Batken"}},
    ],
}


def test_sections_are_geojson(client: TestClient, as_role: Headers) -> None:
    body = client.get("/api/v1/sections", headers=as_role(Role.liaison)).json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) > 100
    ids = {f["properties"]["id"] for f in body["features"]}
    assert {"KG-TJ-001", "AF-TJ-001", "KZ-RU-001"} <= ids
    one = client.get("/api/v1/sections/KG-TJ-001", headers=as_role(Role.liaison)).json()
    assert one["geometry"]["type"] in {"LineString", "MultiLineString"}
    assert one["properties"]["countries"] == ["KG", "TJ"]
    assert client.get("/api/v1/sections/XX-YY-001",
                      headers=as_role(Role.liaison)).status_code == 404


def test_crossing_points_are_geojson(client: TestClient, as_role: Headers) -> None:
    body = client.get("/api/v1/crossing-points", headers=as_role(Role.operator)).json()
    assert len(body["features"]) >= 25
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 44 < lon < 92 and 30 < lat < 58
        assert len(feature["properties"]["countries"]) == 2


def test_custom_sections_replace_defaults(client: TestClient, as_role: Headers) -> None:
    refused = client.put("/api/v1/sections", json=CUSTOM, headers=as_role(Role.operator))
    assert refused.status_code == 403
    done = client.put("/api/v1/sections", json=CUSTOM, headers=as_role(Role.admin))
    assert done.status_code == 200, done.text
    assert [f["id"] for f in done.json()["features"]] == ["AF-TJ-001", "KG-TJ-001"]
    placed = client.post("/api/v1/events", json=report(location={"lon": 68.5, "lat": 37.2}),
                         headers=as_role(Role.operator)).json()
    assert placed["section_id"] == "AF-TJ-001"
    restored = client.delete("/api/v1/sections", headers=as_role(Role.admin)).json()
    assert len(restored["features"]) > 100


def test_bad_custom_sections_name_the_feature(client: TestClient, as_role: Headers) -> None:
    bad: dict[str, Any] = {"type": "FeatureCollection", "features": [
        CUSTOM["features"][0],
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [70, 40]},
         "properties": {"id": "KG-TJ-002"}},
    ]}
    response = client.put("/api/v1/sections", json=bad, headers=as_role(Role.admin))
    assert response.status_code == 422
    assert "feature 1" in response.json()["detail"][0]["msg"]
    still = client.get("/api/v1/sections", headers=as_role(Role.admin)).json()
    assert len(still["features"]) > 100


def test_taxonomy_labels_follow_accept_language(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.operator)
    ru = client.get("/api/v1/taxonomy", headers={**headers, "Accept-Language": "ru-RU,ru;q=0.9"})
    en = client.get("/api/v1/taxonomy", headers={**headers, "Accept-Language": "en"})
    kk = client.get("/api/v1/taxonomy?lang=kk", headers=headers)
    labels = {}
    for name, response in (("ru", ru), ("en", en), ("kk", kk)):
        body = response.json()
        assert body["language"] == name
        crime = next(c for c in body["categories"] if c["id"] == "cross_border_crime")
        drugs = next(t for t in crime["types"] if t["id"] == "drug_smuggling")
        assert drugs["required"] == ["substance"]
        assert "kg" in drugs["units"]
        labels[name] = drugs["label"]
    assert labels["en"] == "Drug smuggling"
    assert "наркотик" in labels["ru"].lower()
    assert labels["kk"] not in (labels["en"], "type.drug_smuggling")
    enums = ru.json()["enums"]
    assert {v["id"] for v in enums["handling"]} == {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT",
                                                    "RED"}


def test_health_names_the_node(client: TestClient) -> None:
    health = client.get("/api/v1/health").json()
    assert health["node_id"] == "tj-test-centre"
    assert health["migrations"] == [name for name, _ in MIGRATIONS]
    assert health["database"] in {"sqlite", "postgresql"}


def test_links_are_shown(client: TestClient, as_role: Headers, node: Any) -> None:
    from sitcen.exchange.identity import NodeIdentity
    from sitcen.exchange.links import Relation, add_peer

    key = NodeIdentity.generate("kg-national-centre").public_key_text
    add_peer(node.engine, "kg-national-centre", url="http://kg-nc:8080", public_key=key,
             relation=Relation.peer)
    peers = client.get("/api/v1/peers", headers=as_role(Role.liaison)).json()
    assert peers == [{"node_id": "kg-national-centre", "name": "kg-national-centre",
                      "url": "http://kg-nc:8080", "public_key": key, "relation": "peer",
                      "agreement_id": None, "acked_seq": 0, "received_seq": 0}]


def test_other_processes_pick_up_replaced_sections(node: Any) -> None:
    from sitcen.node import Node
    from sitcen.store.sections import replace_sections

    other = Node.open(node.settings, engine=node.engine)  # as a second app process would
    replace_sections(node.engine, CUSTOM)
    other._checked_at = 0.0  # as if the check interval had passed
    assert len(other.reporter.sections) == 2
    assert other.reporter.sections.assign_one(68.5, 37.2)[0] == "AF-TJ-001"
