"""Schemathesis against /openapi.json: no input may produce a 5xx (bounded examples)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from conftest import add_role_users, auth, make_settings
from sitcen.api.main import create_app
from sitcen.exchange.identity import NodeIdentity
from sitcen.node import Node
from sitcen.testing import PostgresCluster
from sitcen.users import Role

MAX_EXAMPLES = 30
# The chunks of a resumable upload (PATCH /api/v1/uploads/{id}) are raw bytes.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))

SKIPPED = {
    ("POST", "/api/v1/auth/logout"),  # would revoke the token the other examples use
    ("GET", "/api/v1/stream"),  # never ends by design; tests/test_stream.py checks its input
}


@pytest.fixture
def nodes(migrated_sqlite: Path, pg_cluster: PostgresCluster, password_hash: str,
          tmp_path: Path) -> Iterator[dict[str, tuple[Node, str]]]:
    """A node on each backend, each with its key pair (so the exchange routes read what they
    are sent, and the node is ready: readiness answers 503 by design when it is not), and
    an admin's token on it, by backend."""
    sqlite_path = tmp_path / "sqlite" / "node.db"
    sqlite_path.parent.mkdir()
    shutil.copyfile(migrated_sqlite, sqlite_path)
    pg_url = pg_cluster.new_database(migrated=True)
    made: dict[str, tuple[Node, str]] = {}
    try:
        for backend, url in (("sqlite", f"sqlite:///{sqlite_path}"), ("postgresql", pg_url)):
            settings = make_settings(url, tmp_path / backend)
            settings.data_dir.mkdir(exist_ok=True)
            NodeIdentity.generate(settings.node_id).save(settings.identity_dir)
            node = Node.open(settings)
            assert node.identity is not None
            made[backend] = (node, add_role_users(node.engine, password_hash)[Role.admin])
        yield made
    finally:
        for node, _ in made.values():
            node.engine.dispose()
        pg_cluster.drop_database(pg_url)


@pytest.mark.xdist_group("fuzz")
def test_no_input_produces_a_server_error(nodes: dict[str, tuple[Node, str]]) -> None:
    """Every operation, as an admin (who may call every route), with generated input, each
    input sent to a node on SQLite and to one on PostgreSQL. Generating the inputs is most
    of the work (schemathesis and Hypothesis: about two thirds of the time when each backend
    had its own run), so each is made once and sent to both."""
    apps = {backend: (create_app(node), auth(token)) for backend, (node, token) in nodes.items()}
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps["sqlite"][0])
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
            for backend, (app, headers) in apps.items():
                # The check is for server errors, not speed (benchmarks/ measure that): a
                # slow answer on a loaded machine must not fail it, as schemathesis' 10 s would.
                try:
                    case.call_and_validate(headers=headers, checks=[not_a_server_error],
                                           timeout=300, app=app)
                except Exception as failure:
                    failure.add_note(f"on the node on {backend}")
                    raise

        call()
        tried += 1
    assert tried >= 15
