"""Shared fixtures: a real database on each backend, a node, an API client, tokens per role.

Every storage and API test runs on SQLite and on PostgreSQL. The PostgreSQL
cluster is a throwaway one started with initdb/pg_ctl in a temporary
directory (as the postgres system user when the suite runs as root); where
the binaries are missing its half is skipped, except under CI=true where it
fails.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from sitcen.api.main import create_app
from sitcen.node import Node
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.engine import open_engine
from sitcen.store.journal import now_micros
from sitcen.store.users import _hasher, issue_token
from sitcen.users import Role

TEST_PASSWORD = "correct-horse-battery"


class PostgresCluster:
    """A throwaway PostgreSQL server on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        self._counter = itertools.count()

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"t{os.getpid()}_{next(self._counter)}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_bin_dir() -> None:
    """Put Debian's versioned PostgreSQL bin directory on PATH when initdb is not there."""
    if shutil.which("initdb"):
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        os.environ["PATH"] = f"{found[-1].parent}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    _postgres_bin_dir()
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if shutil.which(b) is None]
    if missing:
        reason = f"PostgreSQL binaries not on PATH: {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="sitcen-pg-"))
    root.chmod(0o755)
    cluster = PostgresCluster(root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'node.db'}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


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


@pytest.fixture
def tokens(node: Node, password_hash: str) -> dict[Role, str]:
    """A user and a bearer token for every role (inserted directly: hashing is slow)."""
    with node.engine.begin() as conn:
        conn.execute(schema.users.insert(), [
            {"username": role.value.replace("_", "-"), "full_name": role.value,
             "role": role.value, "password_hash": password_hash, "disabled": False,
             "created_at": now_micros()}
            for role in Role
        ])
    return {role: issue_token(node.engine, role.value.replace("_", "-"), 1)[0] for role in Role}


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
    """A valid drug-seizure report on the Tajik-Afghan border near Nizhny Panj."""
    body: dict[str, Any] = {
        "type": "drug_smuggling",
        "occurred_at": iso(datetime.now(UTC) - timedelta(hours=3)),
        "location": {"lon": 68.60, "lat": 37.22, "precision_m": 50},
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "handling": "AMBER",
        "details": {"substance": "heroin", "quantity": 12.5, "unit": "kg", "direction": "entry"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 2}],
        "transport": "boat",
        "modus_operandi": ["river_crossing"],
        "reaction": ["apprehended", "seized"],
        "description": "Два курьера задержаны при переправе через Пяндж",
    }
    body.update(overrides)
    return body


def serve_in_thread(node: Node) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve a node's app on a free loopback port from a thread; its URL, server and thread.

    Stop it with ``server.should_exit = True`` and ``thread.join()``.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(node), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the node did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread
