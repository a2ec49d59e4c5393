"""The Idempotency-Key header (issue 16): a request sent again after a lost answer stores one
record and gets the first answer; on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import report
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.idempotency import Claim, claim
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _events(node: Node) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.events))
                   .scalar_one())


def test_a_report_sent_twice_with_one_key_is_stored_once(
        client: TestClient, as_role: Headers, node: Node) -> None:
    key = str(uuid.uuid4())
    headers = {**as_role(Role.operator), "Idempotency-Key": key}
    sent = report()  # the same bytes again, as a client's queue keeps them
    first = client.post("/api/v1/events", json=sent, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/events", json=sent, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()  # the same record, the same answer
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == first.headers["content-type"]
    assert _events(node) == 1
    # Without a key, each request is its own.
    client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    assert _events(node) == 3


def test_a_key_belongs_to_one_request_of_one_user(
        client: TestClient, as_role: Headers, node: Node) -> None:
    key = "report-7f1c"
    mine = {**as_role(Role.operator), "Idempotency-Key": key}
    assert client.post("/api/v1/events", json=report(), headers=mine).status_code == 201
    other = client.post("/api/v1/events", json=report(description="другой"), headers=mine)
    assert other.status_code == 422
    (problem,) = other.json()["detail"]
    assert problem["type"] == "idempotency_key_reused"
    assert problem["loc"] == ["header", "Idempotency-Key"]
    # Another user's key of the same text is unrelated to this one.
    theirs = {**as_role(Role.duty_officer), "Idempotency-Key": key}
    assert client.post("/api/v1/events", json=report(), headers=theirs).status_code == 201
    assert _events(node) == 2


def test_a_refusal_is_kept_too_and_a_bad_key_is_refused(
        client: TestClient, as_role: Headers, node: Node) -> None:
    headers = {**as_role(Role.operator), "Idempotency-Key": "k-1"}
    wrong = report(type="no_such_type")
    first = client.post("/api/v1/events", json=wrong, headers=headers)
    assert first.status_code == 422
    again = client.post("/api/v1/events", json=wrong, headers=headers)
    assert again.status_code == 422 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    for bad in ("", "has space", "x" * 201):
        answer = client.post("/api/v1/events", json=report(),
                             headers={**as_role(Role.operator), "Idempotency-Key": bad})
        assert answer.status_code == 422, bad
        assert answer.json()["detail"][0]["type"] == "invalid_idempotency_key"
    assert _events(node) == 0


def test_a_repetition_while_the_first_is_answered_is_told_to_wait(
        client: TestClient, as_role: Headers, node: Node, tokens: dict[Role, str]) -> None:
    import hashlib

    body = client.build_request("POST", "/api/v1/events", json=report()).content
    fingerprint = hashlib.sha256(b"\0".join([b"POST", b"/api/v1/events", b"", body])).hexdigest()
    assert claim(node.engine, "operator", "busy", fingerprint)[0] is Claim.new  # in flight
    answer = client.post("/api/v1/events", content=body, headers={
        **as_role(Role.operator), "Idempotency-Key": "busy", "Content-Type": "application/json"})
    assert answer.status_code == 409
    assert answer.json()["detail"][0]["type"] == "idempotency_key_in_use"
    assert answer.headers["retry-after"] == "1"
    assert _events(node) == 0


def test_the_console_session_and_no_login(client: TestClient, as_role: Headers,
                                          node: Node) -> None:
    from conftest import TEST_PASSWORD

    # Without a login the route refuses as usual, and nothing is kept for the key.
    assert client.post("/api/v1/events", json=report(),
                       headers={"Idempotency-Key": "k"}).status_code == 401
    from sitcen.store.users import add_user

    add_user(node.engine, "post-7", TEST_PASSWORD, Role.operator, "Post operator")
    login = client.post("/api/v1/auth/session", json={"username": "post-7",
                                                       "password": TEST_PASSWORD})
    assert login.status_code in (200, 201), login.text
    page = {"Origin": str(client.base_url), "Idempotency-Key": "k"}
    sent = report()
    first = client.post("/api/v1/events", json=sent, headers=page)
    again = client.post("/api/v1/events", json=sent, headers=page)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert _events(node) == 1
