"""Shared fixtures: a real database on each backend, a node, an API client, tokens per role.

Every storage and API test runs on SQLite and on PostgreSQL. The PostgreSQL
cluster is a throwaway one started with initdb/pg_ctl in a temporary
directory (as the postgres system user when the suite runs as root); where
the binaries are missing its half is skipped, except under CI=true where it
fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sitcen.api.main import create_app
from sitcen.node import Node
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.engine import open_engine
from sitcen.store.journal import now_micros
from sitcen.store.users import _hasher, issue_token
from sitcen.testing import (
    PostgresCluster,
    postgres_binaries_missing,
    postgres_cluster,
    seizure_report,
)
from sitcen.users import Role

TEST_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL server per test process (each xdist worker has its own)."""
    missing = postgres_binaries_missing()
    if missing:
        reason = f"PostgreSQL binaries not on PATH: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the latest schema, migrated once per test process, to copy."""
    path = tmp_path_factory.mktemp("migrated") / "node.db"
    open_engine(f"sqlite:///{path}").dispose()  # the last connection checkpoints the WAL
    assert not path.with_name("node.db-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh database on each backend: empty, unless the test has ``engine``.

    The ``engine`` fixture migrates the database as soon as it opens it; where it will,
    the database starts as a copy of one migrated once, which is the same thing, cheaper.
    """
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "node.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database(migrated=migrated)
    yield url
    cluster.drop_database(url)  # a thousand databases left to the end take a minute to remove


@pytest.fixture
def another_database(database_url: str, tmp_path: Path, request: pytest.FixtureRequest
                     ) -> Iterator[Callable[[str], str]]:
    """URLs of more fresh, empty databases on the backend of ``database_url``, for more
    nodes: a SQLite file ``<name>.db`` beside it, or a new database of the PostgreSQL
    cluster (dropped after the test)."""
    made: list[tuple[PostgresCluster, str]] = []

    def new(name: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / (name + '.db')}"
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        made.append((cluster, cluster.new_database()))
        return made[-1][1]

    yield new
    for cluster, url in made:
        cluster.drop_database(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = open_engine(database_url)
    yield eng
    eng.dispose()


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test", "database_url": database_url, "data_dir": tmp_path,
        "node_id": "tj-test-centre", "node_country": "TJ",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def node(engine: sa.Engine, database_url: str, tmp_path: Path) -> Node:
    return Node.open(make_settings(database_url, tmp_path), engine=engine)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return _hasher.hash(TEST_PASSWORD)


def add_users(engine: sa.Engine, password_hash: str, users: Mapping[str, tuple[Role, str]]
              ) -> dict[str, str]:
    """Users by name, each with its role and full name, inserted directly (hashing is slow):
    a bearer token of each, by name."""
    with engine.begin() as conn:
        conn.execute(schema.users.insert(), [
            {"username": name, "full_name": full_name, "role": role.value,
             "password_hash": password_hash, "disabled": False, "created_at": now_micros()}
            for name, (role, full_name) in users.items()
        ])
    return {name: issue_token(engine, name, 1)[0] for name in users}


def add_role_users(engine: sa.Engine, password_hash: str) -> dict[Role, str]:
    """A user for every role (``duty-officer`` and so on): their bearer tokens, by role."""
    names = {role: role.value.replace("_", "-") for role in Role}
    tokens = add_users(engine, password_hash, {names[role]: (role, role.value) for role in Role})
    return {role: tokens[names[role]] for role in Role}


@pytest.fixture
def tokens(node: Node, password_hash: str) -> dict[Role, str]:
    """A user and a bearer token for every role."""
    return add_role_users(node.engine, password_hash)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node)) as c:
        yield c


@pytest.fixture
def as_role(client: TestClient, tokens: dict[Role, str]) -> Callable[[Role], dict[str, str]]:
    """Headers that authenticate as a user of the given role."""
    return lambda role: auth(tokens[role])


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def report(**overrides: Any) -> dict[str, Any]:
    """A valid drug-seizure report on the Tajik-Afghan border near Nizhny Panj, three hours
    ago."""
    return seizure_report(iso(datetime.now(UTC) - timedelta(hours=3)), **overrides)


@pytest.fixture
def sitcen_command(tmp_path: Path, database_url: str, node: Node) -> Callable[..., str]:
    """Run ``sitcen <args>`` in-process against the fixture's node; its output, after
    checking the exit code (``code``, 0 unless given)."""
    from click.testing import CliRunner

    from sitcen.cli import main

    env = {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
           "SITCEN_DATABASE_URL": database_url, "SITCEN_NODE_ID": node.settings.node_id,
           "SITCEN_NODE_COUNTRY": node.settings.node_country}

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium for the tests of a browser module (tests/console_browser.py), one
    for the module; they are skipped (failed under CI=true) where it or the built console is
    missing."""
    from console_browser import require_console
    from sitcen.testing import chromium

    require_console()
    with chromium() as launched:
        yield launched
