"""Every refusal of the cooperation routes (directory, requests, attachments, files,
operations, messages) comes in the one shape of errors.py, naming where and why: a record
named in the path, the query or the body, a role, a file. tests/test_error_shape.py holds
the shape over every route; this file holds the cooperation routes' ``loc`` and ``type``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import report
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer
from sitcen.node import Node
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
MISSING = "00000000-0000-4000-8000-000000000000"
DIGEST = "0" * 64


def _event(client: TestClient, as_role: Headers) -> str:
    return str(client.post("/api/v1/events", json=report(),
                           headers=as_role(Role.operator)).json()["id"])


def _request(client: TestClient, node: Node, as_role: Headers) -> str:
    add_peer(node.engine, "kg-ncc", url="http://kg-ncc.example:8080", relation=Relation.peer,
             public_key=NodeIdentity.generate("kg-ncc").public_key_text)
    answer = client.post("/api/v1/requests", headers=as_role(Role.liaison), json={
        "to_node": "kg-ncc", "title": "t", "text": "x"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


ORGANISATION = {"name": "Border service", "agency_type": "border_guard", "country": "KG"}

# (method, path, body, content, role, status, type, loc); {event} and {request} are filled in.
CASES: list[tuple[str, str, Any, bytes | None, Role, int, str, list[Any]]] = [
    ("GET", f"requests/{MISSING}", None, None, Role.operator, 404, "not_found",
     ["path", "request_id"]),
    ("GET", f"requests/{MISSING}/responses", None, None, Role.operator, 404, "not_found",
     ["path", "request_id"]),
    ("POST", f"requests/{MISSING}/responses", {"action": "acknowledge"}, None, Role.liaison,
     404, "not_found", ["path", "request_id"]),
    ("PATCH", f"requests/{MISSING}", {"status": "closed"}, None, Role.liaison, 404, "not_found",
     ["path", "request_id"]),
    ("POST", "requests/{request}/responses", {"action": "answer", "text": "x"}, None,
     Role.operator, 403, "forbidden", []),
    ("GET", f"operations/{MISSING}", None, None, Role.operator, 404, "not_found",
     ["path", "operation_id"]),
    ("GET", f"operations/{MISSING}/reports", None, None, Role.operator, 404, "not_found",
     ["path", "operation_id"]),
    ("PUT", f"directory/organisations/{MISSING}", ORGANISATION, None, Role.duty_officer, 404,
     "not_found", ["path", "record_id"]),
    ("POST", "messages", {"record_id": MISSING, "text": "hello"}, None, Role.operator, 404,
     "not_found", ["body", "record_id"]),
    ("POST", f"attachments?record_id={MISSING}&name=a.txt", None, b"note", Role.operator, 404,
     "not_found", ["query", "record_id"]),
    ("POST", "attachments?record_id={request}&name=a.txt", None, b"note", Role.operator, 403,
     "forbidden", []),
    ("POST", "attachments?record_id={event}&name=a.zip", None, b"PK\x03\x04" + bytes(40),
     Role.operator, 415, "unsupported_type", ["body"]),
    ("POST", "attachments?record_id={event}&name=a.pdf", None, b"just text\n", Role.operator,
     422, "type_mismatch", ["body"]),
    ("GET", f"files/{DIGEST}", None, None, Role.operator, 404, "not_found", ["path", "digest"]),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[1]} {c[5]}" for c in CASES])
def test_a_refusal_names_where_and_why(client: TestClient, node: Node, as_role: Headers,
                                       case: tuple[str, str, Any, bytes | None, Role, int, str,
                                                   list[Any]]) -> None:
    method, path, body, content, role, status, kind, loc = case
    ids = {"event": _event(client, as_role) if "{event}" in path else "",
           "request": _request(client, node, as_role) if "{request}" in path else ""}
    answer = client.request(method, f"/api/v1/{path.format(**ids)}", json=body,
                            content=content, headers=as_role(role))
    assert answer.status_code == status, answer.text
    (error,) = answer.json()["detail"]
    assert set(error) == {"loc", "msg", "type"} and error["msg"]
    assert (error["type"], error["loc"]) == (kind, loc)


def test_a_file_over_the_limit_is_a_413(client: TestClient, node: Node, as_role: Headers
                                        ) -> None:
    event = _event(client, as_role)
    too_big = b"x" * (int(node.settings.file_max_mb * 1024 * 1024) + 1)
    answer = client.post(f"/api/v1/attachments?record_id={event}&name=a.txt", content=too_big,
                         headers=as_role(Role.operator))
    assert answer.status_code == 413
    (error,) = answer.json()["detail"]
    assert (error["type"], error["loc"]) == ("too_large", ["body"]) and "at most" in error["msg"]
