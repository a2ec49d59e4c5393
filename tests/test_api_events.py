"""Reporting events through the API on both backends: create, batch, update, validation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.journal import Record, write_records
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _errors(response: Any) -> list[tuple[tuple[Any, ...], str]]:
    assert response.status_code == 422, response.text
    return [(tuple(e["loc"]), e["msg"]) for e in response.json()["detail"]]


def _locs(response: Any) -> set[tuple[Any, ...]]:
    return {loc for loc, _ in _errors(response)}


def _count(node: Node, table: sa.Table) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_report_is_placed_on_its_border_section_and_journaled(
    client: TestClient, as_role: Headers
) -> None:
    created = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["section_id"].startswith("AF-TJ-")
    assert body["section_distance_km"] < 5
    event = client.get(f"/api/v1/events/{body['id']}", headers=as_role(Role.liaison)).json()
    assert event["origin"] == "tj-test-centre"
    assert event["category"] == "cross_border_crime"
    assert event["status"] == "reported"
    assert event["details"] == {"substance": "heroin", "quantity": 12.5, "unit": "kg",
                                "direction": "entry"}
    assert event["description"].startswith("Два курьера")
    journal = client.get("/api/v1/journal?after=0", headers=as_role(Role.analyst)).json()
    assert [(e["record_id"], e["version"], e["kind"]) for e in journal["entries"]] == [
        (body["id"], 1, "event")
    ]
    assert journal["entries"][0]["record"]["id"] == body["id"]
    after = client.get(f"/api/v1/journal?after={journal['last_seq']}",
                       headers=as_role(Role.analyst)).json()
    assert after == {"entries": [], "last_seq": journal["last_seq"]}


def test_inland_event_keeps_its_distance(client: TestClient, as_role: Headers) -> None:
    astana = report(type="lost_person", details={}, persons=[],
                    location={"lon": 71.43, "lat": 51.17})
    body = client.post("/api/v1/events", json=astana, headers=as_role(Role.operator)).json()
    assert body["section_id"] is None
    assert body["section_distance_km"] > 100


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        ({"type": "alien_landing"}, ("body", "type"), "Input should be"),
        ({"location": {"lon": 70, "lat": 123}}, ("body", "location", "lat"), "less than"),
        ({"location": {"lon": 200, "lat": 40}}, ("body", "location", "lon"), "less than"),
        ({"handling": "PURPLE"}, ("body", "handling"), "Input should be"),
        ({"occurred_at": "2026-05-01T10:00:00"}, ("body", "occurred_at"), "time zone"),
        # An offset that takes the moment outside Python's calendar: a 422, not a crash.
        ({"occurred_at": "0001-01-01T00:00:00+14:00"}, ("body", "occurred_at"), "between"),
        ({"occurred_at": "9999-12-31T23:59:59-14:00"}, ("body", "occurred_at"), "between"),
        ({"details": {"substance": "heroin", "quantity": -3, "unit": "kg"}},
         ("body", "details", "quantity"), "greater than or equal to 0"),
        ({"details": {"substance": "heroin", "quantity": 3}}, ("body", "details", "unit"),
         "needs a unit"),
        ({"details": {"substance": "heroin", "quantity": 3, "unit": "rounds"}},
         ("body", "details", "unit"), "does not fit"),
        ({"details": {"quantity": 3, "unit": "kg"}}, ("body", "details", "substance"),
         "required"),
        ({"details": {"substance": "heroin", "hazard": "flood"}},
         ("body", "details", "hazard"), "does not apply"),
        ({"persons": [{"nationality": "ZZ", "count": 1}]},
         ("body", "persons", 0, "nationality"), "unknown country"),
        ({"confidence": {"source_reliability": "G", "information_credibility": 2}},
         ("body", "confidence", "source_reliability"), "Input should be"),
        ({"confidence": {"source_reliability": "A", "information_credibility": 7}},
         ("body", "confidence", "information_credibility"), "less than"),
        ({"impact_level": "critical"}, ("body", "impact_level"), "Input should be"),
        ({"colour": "red"}, ("body", "colour"), "Extra inputs"),
        ({"status": "closed"}, ("body", "status"), "new report"),
        ({"follow_up_of": "6f1c1d59-0000-4000-8000-000000000000"}, ("body", "follow_up_of"),
         "no event"),
        ({"reported_at": "2020-01-01T00:00:00Z"}, ("body", "reported_at"), "earlier"),
    ],
)
def test_bad_field_gets_422_naming_field_and_reason(
    client: TestClient, as_role: Headers, node: Node, change: dict[str, Any],
    loc: tuple[Any, ...], words: str,
) -> None:
    response = client.post("/api/v1/events", json=report(**change), headers=as_role(Role.admin))
    errors = _errors(response)
    assert any(e_loc == loc and words in msg for e_loc, msg in errors), errors
    assert _count(node, schema.events) == 0
    assert _count(node, schema.journal) == 0


def test_future_occurrence_beyond_clock_skew_is_refused(client: TestClient,
                                                        as_role: Headers) -> None:
    soon = iso(datetime.now(UTC) + timedelta(minutes=2))
    later = iso(datetime.now(UTC) + timedelta(hours=2))
    ok = client.post("/api/v1/events", json=report(occurred_at=soon),
                     headers=as_role(Role.operator))
    assert ok.status_code == 201, ok.text
    bad = client.post("/api/v1/events", json=report(occurred_at=later),
                      headers=as_role(Role.operator))
    assert ("body", "occurred_at") in _locs(bad)


def test_batch_is_all_or_nothing_with_per_item_errors(
    client: TestClient, as_role: Headers, node: Node
) -> None:
    future = iso(datetime.now(UTC) + timedelta(days=1))
    events = [report() for _ in range(50)]
    events[7] = report(details={"substance": "heroin", "quantity": 2})
    events[31] = report(occurred_at=future)
    response = client.post("/api/v1/events/batch", json={"events": events},
                           headers=as_role(Role.operator))
    assert _locs(response) == {("body", "events", 7, "details", "unit"),
                               ("body", "events", 31, "occurred_at")}
    assert _count(node, schema.events) == 0
    structural = [report(), report(location={"lon": 1, "lat": 99})]
    response = client.post("/api/v1/events/batch", json={"events": structural},
                           headers=as_role(Role.operator))
    assert _locs(response) == {("body", "events", 1, "location", "lat")}
    good = client.post("/api/v1/events/batch", json={"events": [report() for _ in range(50)]},
                       headers=as_role(Role.operator))
    assert good.status_code == 201
    assert good.json()["written"] == 50
    assert _count(node, schema.events) == 50
    assert _count(node, schema.journal) == 50


def test_a_written_batch_closes_its_connection(client: TestClient, as_role: Headers) -> None:
    # So that a client's next batch goes to whichever app process is free
    # (sitcen serve --workers N), not to the one its kept-alive connection holds.
    good = client.post("/api/v1/events/batch", json={"events": [report()]},
                       headers=as_role(Role.operator))
    assert good.status_code == 201
    assert good.headers["connection"] == "close"
    single = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    assert single.status_code == 201
    assert "connection" not in single.headers


def test_batch_limit_is_ten_thousand(client: TestClient, as_role: Headers) -> None:
    payload = orjson.dumps({"events": [report()] * 10_001})
    response = client.post("/api/v1/events/batch", content=payload,
                           headers={**as_role(Role.operator), "Content-Type": "application/json"})
    assert ("body", "events") in _locs(response)
    empty = client.post("/api/v1/events/batch", json={"events": []},
                        headers=as_role(Role.operator))
    assert ("body", "events") in _locs(empty)


def test_personal_data_is_kept_apart(client: TestClient, as_role: Headers, node: Node) -> None:
    subjects = [{"role": "courier", "full_name": "Иванов Иван", "document_kind": "passport",
                 "document_number": "AB1234567", "nationality": "AF"}]
    created = client.post("/api/v1/events", json=report(subjects=subjects),
                          headers=as_role(Role.operator)).json()
    event = client.get(f"/api/v1/events/{created['id']}", headers=as_role(Role.liaison)).json()
    assert event["has_personal_data"] is True
    assert "Иванов" not in orjson.dumps(event).decode()
    with node.engine.connect() as conn:
        bodies = conn.execute(sa.select(schema.events.c.body)).scalars().all()
    assert all("AB1234567" not in b for b in bodies)
    url = f"/api/v1/events/{created['id']}/personal-data?purpose=validation"
    assert client.get(url, headers=as_role(Role.operator)).status_code == 403
    assert client.get(url, headers=as_role(Role.liaison)).status_code == 403
    data = client.get(url, headers=as_role(Role.duty_officer)).json()
    assert data[0]["subjects"][0]["document_number"] == "AB1234567"


def _update(event: dict[str, Any], **change: Any) -> dict[str, Any]:
    body = {k: event[k] for k in ("type", "occurred_at", "location", "impact_level",
                                  "confidence", "handling", "details", "persons", "transport",
                                  "modus_operandi", "reaction", "description", "status")}
    body.update(change)
    return body


def test_update_writes_a_new_version_with_history(client: TestClient, as_role: Headers) -> None:
    created = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    url = f"/api/v1/events/{created['id']}"
    event = client.get(url, headers=as_role(Role.operator)).json()
    more = _update(event, details={**event["details"], "quantity": 14.0}, base_version=1)
    updated = client.put(url, json=more, headers=as_role(Role.operator))
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    validated = client.put(url, json=_update(event, status="validated", impact_level="high"),
                           headers=as_role(Role.duty_officer))
    assert validated.json()["version"] == 3
    versions = client.get(f"{url}/versions", headers=as_role(Role.analyst)).json()
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["details"]["quantity"] for v in versions] == [12.5, 14.0, 12.5]
    assert versions[-1]["status"] == "validated"
    journal = client.get("/api/v1/journal", headers=as_role(Role.analyst)).json()["entries"]
    assert [e["version"] for e in journal] == [1, 2, 3]
    assert [e["record"]["version"] for e in journal] == [1, 2, 3]
    # (By the duty officer: the operator may no longer change a validated event at all.)
    stale = client.put(url, json=_update(event, base_version=1, status="validated"),
                       headers=as_role(Role.duty_officer))
    assert stale.status_code == 409


def test_update_rules(client: TestClient, as_role: Headers) -> None:
    created = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    url = f"/api/v1/events/{created['id']}"
    event = client.get(url, headers=as_role(Role.operator)).json()
    by_operator = client.put(url, json=_update(event, status="validated"),
                             headers=as_role(Role.operator))
    assert ("body", "status") in _locs(by_operator)
    closed = client.put(url, json=_update(event, status="closed"),
                        headers=as_role(Role.duty_officer))
    assert closed.status_code == 200
    reopened = client.put(url, json=_update(event, status="validated"),
                          headers=as_role(Role.duty_officer))
    assert any("cannot go from closed" in m for _, m in _errors(reopened))
    recategorised = client.put(url, json=_update(event, type="epidemic", status="closed",
                                                 details={"disease": "cholera"}, persons=[]),
                               headers=as_role(Role.duty_officer))
    assert ("body", "type") in _locs(recategorised)
    missing = client.put("/api/v1/events/6f1c1d59-0000-4000-8000-000000000000",
                         json=_update(event), headers=as_role(Role.operator))
    assert missing.status_code == 404
    liaison = client.put(url, json=_update(event), headers=as_role(Role.liaison))
    assert liaison.status_code == 403


def test_only_the_origin_node_changes_its_events(
    client: TestClient, as_role: Headers, node: Node
) -> None:
    created = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    with node.engine.connect() as conn:
        row = dict(conn.execute(sa.select(schema.events)).one()._mapping)
    foreign_id = "0b7c4b1e-1111-4111-8111-111111111111"
    body = orjson.loads(row["body"])
    body.update(id=foreign_id, origin="kg-osh-centre")
    row.update(id=foreign_id, origin="kg-osh-centre", body=orjson.dumps(body).decode())
    write_records(node.engine, [Record("event", row)], node_id="kg-osh-centre")
    event = client.get(f"/api/v1/events/{foreign_id}", headers=as_role(Role.operator)).json()
    response = client.put(f"/api/v1/events/{foreign_id}", json=_update(event),
                          headers=as_role(Role.duty_officer))
    errors = _errors(response)
    assert errors[0][0] == ("path", "event_id")
    assert "kg-osh-centre" in errors[0][1]
    assert created["id"] != foreign_id


def test_follow_up_links_to_first_report(client: TestClient, as_role: Headers) -> None:
    first = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    follow = client.post("/api/v1/events", json=report(follow_up_of=first["id"]),
                         headers=as_role(Role.operator)).json()
    event = client.get(f"/api/v1/events/{follow['id']}", headers=as_role(Role.operator)).json()
    assert event["follow_up_of"] == first["id"]


def test_auth_and_roles(client: TestClient, as_role: Headers, node: Node) -> None:
    assert client.get("/api/v1/events").status_code == 401
    assert client.get("/api/v1/events", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/v1/events", json=report(),
                       headers=as_role(Role.liaison)).status_code == 403
    assert client.post("/api/v1/events", json=report(),
                       headers=as_role(Role.analyst)).status_code == 403
    assert client.get("/api/v1/health").json()["status"] == "ok"
    me = client.get("/api/v1/auth/me", headers=as_role(Role.duty_officer)).json()
    assert me["role"] == "duty_officer"
    assert me["node_id"] == "tj-test-centre"


def test_login_logout_and_user_admin(client: TestClient, as_role: Headers) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "operator", "password": "x"})
    assert wrong.status_code == 401
    new = {"username": "aigerim", "password": "long-enough-pw", "role": "analyst"}
    assert client.post("/api/v1/users", json=new,
                       headers=as_role(Role.operator)).status_code == 403
    assert client.post("/api/v1/users", json=new, headers=as_role(Role.admin)).status_code == 201
    short = client.post("/api/v1/users", json={**new, "username": "b", "password": "short"},
                        headers=as_role(Role.admin))
    assert short.status_code == 422
    token = client.post("/api/v1/auth/login",
                        json={"username": "aigerim", "password": "long-enough-pw"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert token["user"]["role"] == "analyst"
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_oversized_body_is_refused_with_413(client: TestClient, as_role: Headers,
                                            node: Node) -> None:
    from sitcen.api.guards import MAX_BODY_BYTES

    blob = b'{"events": [' + b" " * (MAX_BODY_BYTES + 10) + b"]}"
    response = client.post("/api/v1/events/batch", content=blob,
                           headers={**as_role(Role.operator), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert _count(node, schema.events) == 0


def test_nul_characters_are_refused_everywhere(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.analyst)
    assert client.get("/api/v1/journal?kind=%00", headers=headers).status_code == 422
    assert client.get("/api/v1/events?section=KG%00", headers=headers).status_code == 422
    body = client.post("/api/v1/events", json=report(description="a\u0000b"),
                       headers=as_role(Role.operator))
    assert ("body", "description") in _locs(body)
