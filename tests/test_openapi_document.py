"""The OpenAPI document tells a client what it will meet (issue 15): the refusals of every
route in their one shape, and schemas an OpenAPI 3.0 client can read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, methods in spec["paths"].items()
            for method, op in methods.items() if isinstance(op, dict) and "responses" in op]


def test_every_route_that_needs_a_token_documents_401_and_403(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    secured = [(p, m, op) for p, m, op in _operations(spec) if op.get("security")]
    assert len(secured) > 100
    for path, method, op in secured:
        for code in ("401", "403"):
            assert code in op["responses"], f"{method.upper()} {path} lacks {code}"
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Refusal"}
    assert spec["components"]["schemas"]["Refusal"]["required"] == ["detail"]


def test_every_route_naming_a_record_documents_404(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    named = [(p, m, op) for p, m, op in _operations(spec) if "{" in p]
    assert named
    for path, method, op in named:
        assert "404" in op["responses"], f"{method.upper()} {path} lacks 404"


def test_no_schema_needs_openapi_3_1_tuples(client: TestClient) -> None:
    text = client.get("/openapi.json").text
    assert "prefixItems" not in text
