"""What every benchmark needs: throwaway databases, a real API server, timing helpers.

Each benchmark script prints progress to stderr and one JSON object as the last
line of stdout (:func:`emit`). Databases are created fresh in a temporary
directory and removed afterwards; nothing here touches a node's real data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / ".data"  # cached inputs (gitignored)

# The PostgreSQL server runs with its defaults (fsync on, full_page_writes on)
# except these. synchronous_commit=off loses at most the last ~0.6 s of commits
# on a crash, never corrupts; max_wal_size avoids checkpoint storms during bulk
# loads; shared_buffers and work memory fit a small dedicated server.
PG_SETTINGS: dict[str, str] = {
    "synchronous_commit": "off",
    "max_wal_size": "8GB",
    "shared_buffers": "1GB",
    "maintenance_work_mem": "1GB",
    "work_mem": "32MB",
    "max_connections": "100",
}


def log(message: str) -> None:
    """Progress for the human watching (stderr, so stdout keeps only the result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """Print the result: one JSON object, the last line of stdout."""
    print(json.dumps(result, sort_keys=False), flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_binaries_missing() -> list[str]:
    return [b for b in ("initdb", "pg_ctl", "postgres") if shutil.which(b) is None]


class PostgresServer:
    """A throwaway PostgreSQL server on a free loopback port (as `postgres` when run as root)."""

    def __init__(self, root: Path | None = None, settings: dict[str, str] | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="sitcen-bench-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = dict(PG_SETTINGS if settings is None else settings)
        self._as_postgres = os.geteuid() == 0
        self._counter = 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        self.root.chmod(0o755)
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {k}={v}" for k, v in self.settings.items()
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")
        log(f"PostgreSQL up on port {self.port} ({self.describe()})")
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> str:
        return "defaults (fsync on) + " + ", ".join(f"{k}={v}" for k, v in self.settings.items())

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "bench") -> str:
        """A URL of a new, empty database."""
        self._counter += 1
        name = f"{prefix}_{self._counter}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    """A started PostgreSQL server, stopped and removed afterwards."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def temp_dir(prefix: str = "sitcen-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_url(directory: Path, name: str = "node.db") -> str:
    """A URL of a fresh SQLite file in ``directory``."""
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def settings_for(database_url: str, data_dir: Path) -> Any:
    """Settings of a benchmark node (test environment: placeholder secret allowed)."""
    from sitcen.settings import Settings

    return Settings(environment="test", database_url=database_url, data_dir=data_dir,
                    node_id="bench-node", node_country="TJ")


def create_user_and_token(database_url: str) -> str:
    """Migrate the database, add a duty officer and return a bearer token for it."""
    import secrets

    from sitcen.store.engine import open_engine
    from sitcen.store.users import add_user, issue_token
    from sitcen.users import Role

    username = f"bench-{secrets.token_hex(4)}"  # a cached database may hold earlier ones
    engine = open_engine(database_url)
    try:
        add_user(engine, username, "bench-password-1", Role.duty_officer, "Benchmark")
        token, _ = issue_token(engine, username, 12)
    finally:
        engine.dispose()
    return token


@dataclass
class ApiServer:
    """A real node server, ``sitcen serve --workers N``, in a subprocess."""

    database_url: str
    data_dir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout_s: float = 60.0) -> ApiServer:
        import httpx

        if not self.token:
            self.token = create_user_and_token(self.database_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
        env.update(SITCEN_ENVIRONMENT="test", SITCEN_DATABASE_URL=self.database_url,
                   SITCEN_DATA_DIR=str(self.data_dir), SITCEN_NODE_ID="bench-node",
                   SITCEN_NODE_COUNTRY="TJ")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sitcen.cli", "serve", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"API server exited with code {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/api/v1/health", timeout=2).status_code == 200:
                    log(f"API server up at {self.base_url} (pid {self.process.pid})")
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("API server did not answer within the timeout")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextlib.contextmanager
def api_server(database_url: str, data_dir: Path, workers: int = 1) -> Iterator[ApiServer]:
    """A running API server of a node on ``database_url``, stopped afterwards."""
    server = ApiServer(database_url, data_dir, workers).start()
    try:
        yield server
    finally:
        server.stop()
