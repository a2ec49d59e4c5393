"""Requests for information through the API on both backends: inbox, outbox, responses,
forwarding consent, overdue requests, answer-time figures, roles and personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer
from sitcen.node import Node
from sitcen.operations.requests import request_state
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import get_record, list_records, write_record
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _link(node: Node, *names: str) -> None:
    for name in names:
        add_peer(node.engine, name, url=f"http://{name}.example:8080", relation=Relation.peer,
                 public_key=NodeIdentity.generate(name).public_key_text)


def _ask(client: TestClient, headers: dict[str, str], **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"to_node": "kg-ncc", "title": "Courier network in Isfara",
                            "text": "Do you hold reports on couriers crossing near Isfara?",
                            "priority": "urgent", "handling": "AMBER"}
    body.update(change)
    answer = client.post("/api/v1/requests", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_request_goes_out_and_its_state_follows_the_responses(
        client: TestClient, node: Node, as_role: Headers) -> None:
    _link(node, "kg-ncc")
    event = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    sent = _ask(client, as_role(Role.liaison), events=[event["id"]], sections=["KG-TJ-007"],
                persons=[{"full_name": "Ivanov Ivan", "birth_date": "1985-02-03",
                          "nationality": "TJ"}])
    body = sent["body"]
    assert body["to_node"] == "kg-ncc" and body["events"][0]["id"] == event["id"]
    assert body["personal"]["persons"][0]["full_name"] == "Ivanov Ivan"
    assert sent["state"]["status"] == "sent" and sent["state"]["overdue"] is False
    due = datetime.fromisoformat(sent["state"]["due_at"])
    assert timedelta(hours=7.9) < due - datetime.now(UTC) <= timedelta(hours=8)  # urgent: 8 h
    out = client.get("/api/v1/requests?box=out", headers=as_role(Role.duty_officer)).json()
    assert [r["id"] for r in out["items"]] == [sent["id"]]
    mine = client.get("/api/v1/requests?box=out&mine=true", headers=as_role(Role.analyst))
    assert mine.json()["items"] == []  # the liaison officer sent it, not the analyst
    # An operator reads the request but not the persons it names.
    seen = client.get(f"/api/v1/requests/{sent['id']}", headers=as_role(Role.operator)).json()
    assert "personal" not in seen["body"] and seen["body"]["personal_withheld"] is True
    # The addressee's actions are not this node's to take.
    refused = client.post(f"/api/v1/requests/{sent['id']}/responses", json={
        "action": "answer", "text": "yes"}, headers=as_role(Role.liaison))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "not_addressee"
    # Withdrawn by its originator: no more responses.
    done = client.patch(f"/api/v1/requests/{sent['id']}", json={"status": "withdrawn"},
                        headers=as_role(Role.liaison))
    assert done.status_code == 200 and done.json()["state"]["status"] == "withdrawn"
    assert done.json()["version"] == 2


def test_the_addressee_answers_a_request_it_received(
        client: TestClient, node: Node, as_role: Headers) -> None:
    _link(node, "kg-ncc")
    # A request of kg-ncc addressed to this node, as it arrives by federation.
    received = write_record(node.engine, RecordKind.request_for_information, {
        "to_node": node.settings.node_id, "title": "Vehicle KG 123", "text": "Seen at Panj?",
        "priority": "normal", "handling": "AMBER", "due_at": iso(datetime.now(UTC)
                                                                 + timedelta(days=1)),
        "sent_at": iso(datetime.now(UTC)), "forward_allowed": False, "answer_onward": True,
        "status": "open", "by": "duty", "events": [], "sections": []}, node_id="kg-ncc-copy")
    # write_record wrote it as this test's "kg-ncc-copy": fine for the state machine here.
    inbox = client.get("/api/v1/requests?box=in", headers=as_role(Role.liaison)).json()
    assert [r["id"] for r in inbox["items"]] == [received.id]
    url = f"/api/v1/requests/{received.id}/responses"
    for action, text in (("acknowledge", ""), ("ask", "Which day?")):
        answer = client.post(url, json={"action": action, "text": text},
                             headers=as_role(Role.liaison))
        assert answer.status_code == 201, answer.text
    state = client.get(f"/api/v1/requests/{received.id}", headers=as_role(Role.operator)).json()
    assert state["state"]["status"] == "question" and state["state"]["handler"] == "liaison"
    no_reason = client.post(url, json={"action": "decline"}, headers=as_role(Role.liaison))
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == [
        "body", "text"]
    forward = client.post(url, json={"action": "forward", "forward_to": "kg-ncc"},
                          headers=as_role(Role.liaison))
    assert forward.status_code == 422
    assert forward.json()["detail"][0]["type"] == "forward_not_allowed"
    operator = client.post(url, json={"action": "answer", "text": "No"},
                           headers=as_role(Role.operator))
    assert operator.status_code == 403
    answered = client.post(url, json={"action": "answer", "text": "Seen on 3 May, 14:00"},
                           headers=as_role(Role.liaison))
    assert answered.status_code == 201
    (response,) = answered.json()
    assert response["body"]["to_node"] == "kg-ncc-copy" and response["body"]["onward"] is True
    state = client.get(f"/api/v1/requests/{received.id}", headers=as_role(Role.operator)).json()
    assert state["state"]["status"] == "answered" and state["state"]["answered_in_time"] is True
    assert [r["body"]["action"] for r in state["responses"]] == ["acknowledge", "ask", "answer"]
    stats = client.get("/api/v1/requests/stats?box=in", headers=as_role(Role.analyst)).json()
    (group,) = stats["groups"]
    assert group["group"] == "kg-ncc-copy" and group["answered"] == 1
    assert group["answered_in_time"] == 1 and group["answer"]["median_h"] is not None


def test_forwarding_with_consent_makes_a_request_of_this_node(
        client: TestClient, node: Node, as_role: Headers) -> None:
    _link(node, "kg-ncc", "uz-ncc")
    received = write_record(node.engine, RecordKind.request_for_information, {
        "to_node": node.settings.node_id, "title": "Boat on the Amu Darya", "text": "Whose?",
        "priority": "urgent", "handling": "GREEN", "due_at": iso(datetime.now(UTC)
                                                                 + timedelta(hours=4)),
        "sent_at": iso(datetime.now(UTC)), "forward_allowed": True, "answer_onward": False,
        "status": "open", "by": "duty"}, node_id="kg-ncc-copy")
    url = f"/api/v1/requests/{received.id}/responses"
    back = client.post(url, json={"action": "forward", "forward_to": "kg-ncc-copy"},
                       headers=as_role(Role.duty_officer))
    assert back.status_code == 422  # not back to the originator
    answer = client.post(url, json={"action": "forward", "forward_to": "uz-ncc",
                                    "text": "Please answer the Kyrgyz centre through us"},
                         headers=as_role(Role.duty_officer))
    assert answer.status_code == 201, answer.text
    forwarded, response = answer.json()
    assert forwarded["body"]["to_node"] == "uz-ncc"
    assert forwarded["body"]["forwarded_from"]["id"] == received.id
    assert forwarded["body"]["handling"] == "GREEN" and forwarded["body"]["priority"] == "urgent"
    assert response["body"]["forward"] == {"to_node": "uz-ncc", "request_id": forwarded["id"]}
    out = client.get("/api/v1/requests?box=out", headers=as_role(Role.operator)).json()
    assert [r["id"] for r in out["items"]] == [forwarded["id"]]
    state = client.get(f"/api/v1/requests/{received.id}", headers=as_role(Role.operator)).json()
    assert state["state"]["status"] == "forwarded"


def test_an_overdue_request_is_flagged(client: TestClient, node: Node,
                                       as_role: Headers) -> None:
    _link(node, "kg-ncc")
    sent = _ask(client, as_role(Role.duty_officer), priority="routine")
    assert sent["state"]["overdue"] is False
    request = get_record(node.engine, sent["id"])
    assert request is not None
    later = datetime.now(UTC) + timedelta(days=15)  # routine: 14 days
    assert request_state(request, [], later)["overdue"] is True
    # A request whose deadline has passed is flagged in the box and the figures.
    with node.engine.begin() as conn:
        past = iso(datetime.now(UTC) - timedelta(minutes=1))
        body = {**request.body, "due_at": past}
        conn.execute(sa.update(schema.records).where(schema.records.c.id == request.id)
                     .values(body=orjson.dumps(body).decode()))
    out = client.get("/api/v1/requests?box=out&overdue=true",
                     headers=as_role(Role.operator)).json()
    assert out["overdue"] == 1 and out["items"][0]["state"]["overdue"] is True
    stats = client.get("/api/v1/requests/stats?box=out", headers=as_role(Role.operator)).json()
    assert stats["total"][0]["overdue"] == 1 and stats["groups"][0]["group"] == "kg-ncc"


@pytest.mark.parametrize("change, loc", [
    ({"to_node": "tm-ncc"}, ["body", "to_node"]),  # not linked
    ({"to_node": None}, ["body", "to_node"]),
    ({"due_at": "2020-01-01T00:00:00Z"}, ["body", "due_at"]),
    ({"events": ["00000000-0000-4000-8000-000000000000"]}, ["body", "events", 0]),
    ({"priority": "whenever"}, ["body", "priority"]),
])
def test_a_bad_request_names_its_field(client: TestClient, node: Node, as_role: Headers,
                                       change: dict[str, Any], loc: list[Any]) -> None:
    _link(node, "kg-ncc")
    body = {"to_node": "kg-ncc", "title": "t", "text": "x", **change}
    answer = client.post("/api/v1/requests", json=body, headers=as_role(Role.duty_officer))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:len(loc)] == loc
    assert list_records(node.engine, RecordKind.request_for_information) == []


def test_operators_read_requests_but_do_not_send_them(client: TestClient, node: Node,
                                                      as_role: Headers) -> None:
    _link(node, "kg-ncc")
    answer = client.post("/api/v1/requests", json={"to_node": "kg-ncc", "title": "t",
                                                   "text": "x"}, headers=as_role(Role.operator))
    assert answer.status_code == 403
    assert client.get("/api/v1/requests", headers=as_role(Role.operator)).status_code == 200
    assert client.get("/api/v1/requests/00000000-0000-4000-8000-000000000000",
                      headers=as_role(Role.operator)).status_code == 404
