"""Schemathesis against /openapi.json: no input may produce a 5xx (bounded examples)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from conftest import auth
from sitcen.api.main import create_app
from sitcen.exchange.identity import NodeIdentity
from sitcen.node import Node
from sitcen.users import Role

MAX_EXAMPLES = 30
# The chunks of a resumable upload (PATCH /api/v1/uploads/{id}) are raw bytes.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))

SKIPPED = {
    ("POST", "/api/v1/auth/logout"),  # would revoke the token the other examples use
    ("GET", "/api/v1/stream"),  # never ends by design; tests/test_stream.py checks its input
}


@pytest.mark.xdist_group("fuzz")
def test_no_input_produces_a_server_error(node: Node, tokens: dict[Role, str]) -> None:
    """Every operation, as an admin (who may call every route), with generated input, on a
    node with its key pair (so the exchange routes read what they are sent, and the node is
    ready: readiness answers 503 by design when it is not)."""
    NodeIdentity.generate(node.settings.node_id).save(node.settings.identity_dir)
    node = Node.open(node.settings, engine=node.engine)
    assert node.identity is not None
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(node))
    headers = auth(tokens[Role.admin])
    tried = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case[Any]) -> None:
            # The check is for server errors, not speed (benchmarks/ measure that): a slow
            # answer on a loaded machine must not fail it, as schemathesis' 10 s would.
            case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=300)

        call()
        tried += 1
    assert tried >= 15
