"""Every refusal has the one shape docs/api.md documents, on every route of the OpenAPI document.

The test walks the app's own OpenAPI document, so a route added later is
walked too. Each operation is sent what it must refuse: no token, a role
that may not use it, an unknown id in the path, a malformed body and
malformed query parameters. Every 4xx under ``/api/v1`` must be JSON of the
shape ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``, with an
import's report, where there is one, beside it under ``report``; every 4xx
under ``/taxii2/`` a TAXII 2.1 error message, as that standard prescribes.
(The idea is datasette's ``test_error_shape``.)
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import auth
from sitcen.api import routes
from sitcen.api.main import API_PREFIX
from sitcen.api.routes import taxii
from sitcen.users import Role

UNKNOWN_ID = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"
#: Routes that answer forever when they accept (the live stream): only refusals are sent.
STREAMING = {"/api/v1/stream"}
#: Routes that refuse nothing a client can send: public, and any ``lang`` falls back; the
#: directory login answers a browser, every refusal a redirect to the login screen.
NOTHING_TO_REFUSE = {"GET /api/v1/health", "GET /api/v1/health/live", "GET /api/v1/health/ready",
                     "GET /api/v1/taxonomy/labels",
                     "GET /api/v1/auth/methods", "GET /api/v1/auth/oidc/start",
                     "GET /api/v1/auth/oidc/callback"}
#: Readiness answers 503 for a node that is not ready (the walk's has no key pair): an
#: answer with its reasons, not a fault (docs/monitoring.md).
ANSWERS_503 = {"GET /api/v1/health/ready"}
#: Routes whose acceptance would end the session the walk uses.
ENDS_SESSION = {"/api/v1/auth/logout"}
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class Operation:
    """One method on one path of the OpenAPI document."""

    method: str
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, path_value: str = UNKNOWN_ID) -> str:
        return re.sub(r"\{[^}]+\}", path_value, self.path)

    @property
    def takes_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == "query"]


def _operations(client: TestClient) -> Iterator[Operation]:
    document = client.get("/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            yield Operation(method.upper(), path, spec)


def _routes() -> set[str]:
    """Every route of every router module, as the app mounts it."""
    found: set[str] = set()
    for info in pkgutil.iter_modules(routes.__path__):
        router = importlib.import_module(f"{routes.__name__}.{info.name}").router
        prefix = "" if router is taxii.router else API_PREFIX
        found |= {f"{method} {prefix}{route.path}" for route in router.routes
                  if isinstance(route, APIRoute) for method in route.methods or ()}
    return found


def _schema(parameter: dict[str, Any]) -> dict[str, Any]:
    """The non-null schema of a parameter (``X | None`` is an anyOf with null)."""
    schema: dict[str, Any] = parameter.get("schema", {})
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return options[0] if options else {}


def _bad_value(parameter: dict[str, Any]) -> str | None:
    """A value this parameter's own schema refuses, or None when every text is allowed."""
    schema = _schema(parameter)
    kind = schema.get("type")
    if "$ref" in schema or "enum" in schema or (kind is None and "allOf" not in schema):
        return "no-such-value"  # an enumeration
    if kind in ("integer", "number"):
        return "many"
    if kind == "boolean":
        return "perhaps"
    if schema.get("format") in ("date-time", "date"):
        return "yesterday"
    if kind == "string" and "maxLength" in schema:
        return "x" * (int(schema["maxLength"]) + 1)
    if kind == "string" and "minLength" in schema:
        return ""
    if parameter["name"] in ("bbox", "added_after", "next"):
        return "1,2,3"
    return None


def _requests(op: Operation, tokens: dict[Role, str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """What the operation must refuse, as (what it is, keyword arguments for the client)."""
    json_header = {"Content-Type": "application/json"}
    malformed: dict[str, Any] = {"content": b"{not json", "headers": json_header}
    bad_query = {p["name"]: v for p in op.query_params() if (v := _bad_value(p)) is not None}
    yield "no token", {}
    if op.path in ENDS_SESSION:
        return
    for role in (Role.liaison, Role.admin):
        headers = auth(tokens[role])
        if op.takes_body:
            yield f"{role.value}, malformed body", {
                **malformed, "headers": {**json_header, **headers}}
        elif "{" in op.path and op.path not in STREAMING:
            yield f"{role.value}, unknown id", {"headers": headers}
        if bad_query:
            yield f"{role.value}, malformed query", {"headers": headers, "params": bad_query}
    if "{" in op.path and not op.takes_body:
        yield "not an id", {"headers": auth(tokens[Role.admin]), "path_value": "no%20such%20id"}


def _check_api_shape(name: str, response: httpx2.Response) -> None:
    assert response.headers["content-type"].startswith("application/json"), (name, response)
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"detail", "report"}, (name, body)
    detail = body["detail"]
    assert isinstance(detail, list) and detail, (name, body)
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}, (name, item)
        assert isinstance(item["loc"], list), (name, item)
        assert all(isinstance(part, str | int) for part in item["loc"]), (name, item)
        assert isinstance(item["msg"], str) and item["msg"], (name, item)
        assert isinstance(item["type"], str) and item["type"], (name, item)
    if "report" in body:
        assert isinstance(body["report"], dict), (name, body)


def _check_taxii_shape(name: str, response: httpx2.Response) -> None:
    assert response.headers["content-type"] == TAXII_MEDIA_TYPE, (name, response)
    body = response.json()
    assert set(body) == {"title", "description", "http_status"}, (name, body)
    assert body["http_status"] == str(response.status_code), (name, body)


def _check_path_loc(op: Operation, response: httpx2.Response) -> None:
    """A missing record's loc names the path parameter that carried its id, or is []."""
    params = set(re.findall(r"\{([^}]+)\}", op.path))
    for item in response.json()["detail"]:
        assert item["loc"] == [] or (item["loc"][0] == "path" and item["loc"][1] in params), (
            op.name, item)


def test_every_refusal_of_every_route_has_the_documented_shape(
    client: TestClient, tokens: dict[Role, str],
) -> None:
    refused: dict[str, set[int]] = {}
    operations = list(_operations(client))
    assert {op.name for op in operations} == _routes(), "the document lists every route"
    for op in operations:
        refused[op.name] = set()
        for what, kwargs in _requests(op, tokens):
            url = op.url(kwargs.pop("path_value", UNKNOWN_ID))
            response = client.request(op.method, url, **kwargs)
            name = f"{op.name} ({what})"
            assert response.status_code < 500 or (
                response.status_code == 503 and op.name in ANSWERS_503), (name, response.text)
            if response.status_code < 400 or response.status_code >= 500:
                continue
            refused[op.name].add(response.status_code)
            if op.path.startswith("/taxii2/"):
                _check_taxii_shape(name, response)
                continue
            _check_api_shape(name, response)
            if response.status_code == 404 and what.endswith("unknown id"):
                _check_path_loc(op, response)
    never = {name for name, codes in refused.items() if not codes}
    assert never == NOTHING_TO_REFUSE, f"routes the walk could not make refuse: {never}"
    assert {401, 403, 404, 422} <= set().union(*refused.values())


def test_status_and_type_of_each_kind_of_refusal(client: TestClient,
                                                  tokens: dict[Role, str]) -> None:
    """401, 403, 404, 405, 409, 413 and 422 each say what they are in ``type``."""
    admin, liaison = auth(tokens[Role.admin]), auth(tokens[Role.liaison])

    def only(response: httpx2.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.text
        _check_api_shape(str(response.request.url), response)
        (item,) = response.json()["detail"]
        return dict(item)

    assert only(client.get("/api/v1/events"), 401)["type"] == "unauthorized"
    assert only(client.post("/api/v1/events", json={}, headers=liaison), 403) == {
        "loc": [], "msg": "role liaison may not report events", "type": "forbidden"}
    missing = only(client.get(f"/api/v1/events/{UNKNOWN_ID}", headers=admin), 404)
    assert missing == {"loc": ["path", "event_id"], "msg": f"no event {UNKNOWN_ID}",
                       "type": "not_found"}
    assert only(client.get("/api/v1/no-such-thing", headers=admin), 404)["type"] == "not_found"
    assert only(client.delete("/api/v1/health"), 405)["type"] == "method_not_allowed"
    no_key = only(client.post("/api/v1/exchange/batches", content=b"{}"), 409)
    assert no_key["type"] == "not_initialised"
    too_large = client.post("/api/v1/events", headers={**admin, "Content-Length": str(2**40)})
    assert only(too_large, 413) == {"loc": ["body"], "type": "too_large",
                                    "msg": f"request body larger than {64 * 1024 * 1024} bytes"}
    assert only(client.get("/api/v1/events?limit=0", headers=admin), 422)["loc"] == [
        "query", "limit"]


def test_an_import_refused_answers_its_report_beside_the_reason(
    client: TestClient, tokens: dict[Role, str],
) -> None:
    headers = {**auth(tokens[Role.admin]), "Content-Type": "text/csv"}
    for url in ("/api/v1/imports/events", "/api/v1/capacity/import"):
        response = client.post(url, content=b"nothing,useful\n1,2\n", headers=headers)
        assert response.status_code == 422, response.text
        _check_api_shape(url, response)
        body = response.json()
        assert body["detail"][0]["type"] == "import_refused"
        assert body["report"]["problems"], body


@pytest.mark.parametrize("path", ["/taxii2/", "/taxii2/api/collections/nothing/objects/"])
def test_taxii_keeps_the_error_message_of_its_standard(
    client: TestClient, tokens: dict[Role, str], path: str,
) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    _check_taxii_shape(path, anonymous)
    assert "WWW-Authenticate" in anonymous.headers
