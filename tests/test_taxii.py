"""The TAXII 2.1 server, read with taxii2-client from a real uvicorn server on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import sqlalchemy as sa
from fastapi.testclient import TestClient
from stix2validator import ValidationOptions, validate_instance
from taxii2client.common import TokenAuth
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import Collection, Server, as_pages

from conftest import add_users, make_settings, report
from sitcen.api.main import create_app
from sitcen.events import EventCreate, EventUpdate
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_agreement, add_peer
from sitcen.interop.stix import EXTENSION_ID
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.events import get_event, report_events, update_event
from sitcen.store.journal import now_micros
from sitcen.store.levels import confirm_level
from sitcen.store.users import issue_token
from sitcen.testing import serve_in_thread
from sitcen.users import Role

KG = """
id: tj-kg-crossings
from_node: tj-ncc
to_node: kg-ncc
direction: peer
purpose: Незаконные пересечения на кыргызско-таджикской границе
kinds: [event]
events: {categories: [unauthorised_crossing], countries: [KG]}
fields: [location, section_id, impact_level, details, description]
location_precision: exact
handling_ceiling: AMBER
"""
UZ = """
id: tj-uz-levels
from_node: tj-ncc
to_node: uz-ncc
direction: peer
kinds: [section_assessment]
location_precision: section
handling_ceiling: AMBER
"""
CROSSING: dict[str, Any] = {
    "type": "green_border_crossing", "location": {"lon": 70.80, "lat": 39.95},
    "details": {"stage": "actual", "direction": "entry"}, "persons": [],
    "transport": None, "modus_operandi": [], "reaction": []}
USERS = {"liaison-kg": "liaison", "liaison-uz": "liaison", "liaison-local": "liaison",
         "admin": "admin", "duty": "duty_officer"}


@dataclass
class Running:
    node: Node
    url: str
    tokens: dict[str, str]
    granted: list[str]  # event ids the KG agreement grants
    withheld: list[str]  # event ids it does not




def _report(node: Node, *changes: dict[str, Any]) -> list[str]:
    items = [EventCreate.model_validate(report(**c)) for c in changes]
    return [w.id for w in report_events(node.engine, node.reporter, items, batch=True)]


@pytest.fixture
def running(database_url: str, tmp_path: Path, password_hash: str) -> Iterator[Running]:
    settings = make_settings(database_url, tmp_path, node_id="tj-ncc", node_name="НЦУ Душанбе",
                             partner_users={"liaison-kg": "kg-ncc", "liaison-uz": "uz-ncc"})
    node = Node.open(settings)
    tokens = add_users(node.engine, password_hash,
                       {name: (Role(role), name) for name, role in USERS.items()})
    for peer in ("kg-ncc", "uz-ncc"):
        add_peer(node.engine, peer, url=f"http://{peer}.example", relation=Relation.peer,
                 public_key=NodeIdentity.generate(peer).public_key_text)
    add_agreement(node.engine, KG, own_node_id="tj-ncc")
    add_agreement(node.engine, UZ, own_node_id="tj-ncc")
    granted = _report(node, *({**CROSSING, "description": f"Нарушитель №{i}"}
                              for i in range(5)))
    withheld = _report(node, {**CROSSING, "handling": "RED"},  # above the ceiling
                       {})  # a drug seizure on the Afghan border: type and area not granted
    served = serve_in_thread(node)
    yield Running(node, served.url, tokens, granted, withheld)
    served.stop()
    node.engine.dispose()


def _server(running: Running, user: str) -> Server:
    return Server(f"{running.url}/taxii2/", user=user, password=running.tokens[user])


def _kg_collection(running: Running) -> Collection:
    collections = _server(running, "liaison-kg").api_roots[0].collections
    assert len(collections) == 1
    return collections[0]


def _sitcen_ids(objects: list[dict[str, Any]]) -> list[str]:
    return [o["extensions"][EXTENSION_ID]["sitcen_id"] for o in objects
            if o["type"] == "incident"]


def test_discovery_and_api_root(running: Running) -> None:
    server = _server(running, "liaison-kg")
    assert server.title == "sitcen node НЦУ Душанбе"
    assert server.default.url == f"{running.url}/taxii2/api/"
    root = server.api_roots[0]
    assert root.versions == ["application/taxii+json;version=2.1"]


def test_each_user_lists_only_the_collections_of_their_partner(running: Running) -> None:
    def aliases(user: str) -> set[str]:
        return {c.alias for c in _server(running, user).api_roots[0].collections}

    assert aliases("liaison-kg") == {"tj-kg-crossings"}
    assert aliases("liaison-uz") == {"tj-uz-levels"}
    assert aliases("admin") == {"tj-kg-crossings", "tj-uz-levels"}
    assert aliases("liaison-local") == set()  # a liaison officer of this node, no partner
    assert aliases("duty") == set()
    kg = _kg_collection(running)
    other = Collection(kg.url, user="liaison-uz", password=running.tokens["liaison-uz"])
    with pytest.raises(requests.HTTPError) as refused:
        other.get_objects()
    assert refused.value.response is not None and refused.value.response.status_code == 404


def test_paging_with_next_serves_exactly_what_the_agreement_grants(running: Running) -> None:
    collection = _kg_collection(running)
    pages = list(as_pages(collection.get_objects, per_request=10))
    assert len(pages) >= 3 and [p["more"] for p in pages][-1] is False
    assert all(p["more"] and len(p["objects"]) <= 10 for p in pages[:-1])
    objects = [o for p in pages for o in p.get("objects", [])]
    assert sorted(set(_sitcen_ids(objects))) == sorted(running.granted)
    for withheld in running.withheld:
        assert withheld not in str(objects)
    options = ValidationOptions(strict=True)
    for obj in objects:
        result = validate_instance(obj, options)
        assert result.is_valid, [str(e) for e in result.errors]
    incident = next(o for o in objects if o["type"] == "incident")
    ext = incident["extensions"][EXTENSION_ID]
    assert "persons" not in ext and "transport" not in ext  # fields not granted
    assert incident["description"].startswith("Нарушитель №")


def test_added_after_resumes_where_the_last_page_ended(running: Running) -> None:
    collection = _kg_collection(running)
    headers = {"Authorization": f"Bearer {running.tokens['liaison-kg']}",
               "Accept": "application/taxii+json;version=2.1"}
    with httpx.Client(base_url=collection.url, headers=headers) as client:
        first = client.get("objects/", params={"limit": 1000})
        assert first.headers["content-type"] == "application/taxii+json;version=2.1"
        last = first.headers["X-TAXII-Date-Added-Last"]
        assert first.headers["X-TAXII-Date-Added-First"] <= last
        assert sorted(_sitcen_ids(first.json()["objects"])) == sorted(running.granted)
    assert collection.get_objects(added_after=last) == {"more": False}
    newer = _report(running.node, {**CROSSING, "description": "Ещё один"})
    fresh = collection.get_objects(added_after=last)
    assert _sitcen_ids(fresh["objects"]) == newer


def test_manifest_object_and_versions(running: Running) -> None:
    collection = _kg_collection(running)
    event_id = running.granted[0]
    current = get_event(running.node.engine, event_id)
    assert current is not None
    update = EventUpdate.model_validate({
        **report(**CROSSING), "status": "validated", "impact_level": "high",
        "occurred_at": current.occurred_at.isoformat()})
    update_event(running.node.engine, running.node.reporter, event_id, update,
                 may_change_status=True)
    objects = collection.get_objects(type="incident")["objects"]
    assert {o["type"] for o in objects} == {"incident"}
    incident = next(o for o in objects
                    if o["extensions"][EXTENSION_ID]["sitcen_id"] == event_id)
    versions = collection.object_versions(incident["id"])["versions"]
    assert len(versions) == 2 and versions[-1] == incident["modified"]
    every = collection.get_object(incident["id"], version="all")["objects"]
    assert [o["extensions"][EXTENSION_ID]["impact_level"] for o in every] == ["medium", "high"]
    assert collection.get_object(incident["id"])["objects"] == [incident]
    manifest = collection.get_manifest(type="incident")["objects"]
    assert {m["id"] for m in manifest} == {o["id"] for o in objects}
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)


def test_a_record_raised_above_the_ceiling_disappears_with_its_versions(
    running: Running,
) -> None:
    collection = _kg_collection(running)
    event_id = running.granted[1]
    before = collection.get_objects(type="incident")["objects"]
    incident = next(o for o in before if o["extensions"][EXTENSION_ID]["sitcen_id"] == event_id)
    current = get_event(running.node.engine, event_id)
    assert current is not None
    update_event(running.node.engine, running.node.reporter, event_id, EventUpdate.model_validate(
        {**report(**CROSSING), "status": "reported", "handling": "RED",
         "occurred_at": current.occurred_at.isoformat()}), may_change_status=True)
    after = collection.get_objects(type="incident")["objects"]
    assert event_id not in _sitcen_ids(after)
    with pytest.raises(requests.HTTPError):
        collection.object_versions(incident["id"])


def test_levels_go_to_the_partner_granted_them_at_section_precision(running: Running) -> None:
    confirm_level(running.node.engine, "tj-ncc", "KG-TJ-003", level="high",
                  proposed_level="high", reasons=["Рост числа пересечений"],
                  reactions=["Усилить наряды"], confirmed_by="duty")
    uz = _server(running, "liaison-uz").api_roots[0].collections[0]
    objects = uz.get_objects()["objects"]
    note = next(o for o in objects if o["type"] == "note")
    assert note["extensions"][EXTENSION_ID]["level"] == "high"
    place = next(o for o in objects if o["id"] == note["object_refs"][0])
    assert place["type"] == "location" and place["name"] == "KG-TJ-003"
    assert "incident" not in {o["type"] for o in objects}
    assert "note" not in {o["type"] for o in _kg_collection(running).get_objects()["objects"]}


def test_token_auth_and_refusals(running: Running) -> None:
    token = running.tokens["liaison-kg"]
    server = Server(f"{running.url}/taxii2/", auth=TokenAuth(token))
    assert len(server.api_roots[0].collections) == 1
    with pytest.raises(requests.HTTPError) as wrong:
        Server(f"{running.url}/taxii2/", user="liaison-uz", password=token).refresh()
    refusal = wrong.value.response
    assert refusal is not None and refusal.status_code == 401
    assert refusal.json()["http_status"] == "401"
    with httpx.Client(base_url=running.url) as client:
        assert client.get("/taxii2/").status_code == 401
        for bad in ("Basic ☃".encode(), b"Basic bm9jb2xvbg==", b"Digest x", b"Bearer x"):
            assert client.get("/taxii2/", headers=[(b"Authorization", bad)]).status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/taxii2/", headers={**auth, "Accept": "text/html"}).status_code == 406
        collection = _kg_collection(running)
        for params in ({"added_after": "вчера"}, {"next": "-1"}, {"limit": "0"},
                       {"match[version]": "first"}, {"match[spec_version]": "2.0"}):
            answer = client.get(collection.url + "objects/", params=params, headers=auth)
            assert answer.status_code == 400, params
            assert answer.headers["content-type"] == "application/taxii+json;version=2.1"
            assert answer.json()["description"]
    with pytest.raises(TAXIIServiceException):
        collection.add_objects({"type": "bundle", "id": "bundle--x", "objects": []})


def test_nothing_is_served_without_links(database_url: str, tmp_path: Path,
                                         password_hash: str) -> None:
    node = Node.open(make_settings(database_url, tmp_path))
    try:
        with node.engine.begin() as conn:
            conn.execute(schema.users.insert().values(
                username="admin", full_name="admin", role="admin", password_hash=password_hash,
                disabled=False, created_at=now_micros()))
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.peers)).scalar() \
                == 0
        token = issue_token(node.engine, "admin", 1)[0]
        with TestClient(create_app(node)) as client:
            answer = client.get("/taxii2/api/collections/",
                                headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json() == {}
    finally:
        node.engine.dispose()
