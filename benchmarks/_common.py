"""What every benchmark needs beyond ``sitcen.testing``: result output, sizes, timing helpers.

Each benchmark script prints progress to stderr and one JSON object as the last
line of stdout (:func:`emit`), and accepts ``--smoke`` (:func:`parse_args`): a
tiny size that runs in seconds and measures nothing, which the test suite runs
so that no script rots. Ports, waiting on conditions, throwaway PostgreSQL
servers and node processes come from :mod:`sitcen.testing`, as in the tests.
Databases are created fresh in a temporary directory and removed afterwards;
nothing here touches a node's real data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sitcen.testing import (
    NodeProcess,
    PostgresCluster,
    postgres_binaries_missing,
    postgres_cluster,
)

ROOT = Path(__file__).resolve().parent.parent
# Cached inputs (gitignored). SITCEN_BENCH_DATA puts them elsewhere, so several
# clones of one machine share a built data set (its name carries the schema version).
DATA_DIR = Path(os.environ.get("SITCEN_BENCH_DATA") or Path(__file__).resolve().parent / ".data")

# The PostgreSQL server runs with its defaults (fsync on, full_page_writes on)
# except these. synchronous_commit=off loses at most the last ~0.6 s of commits
# on a crash, never corrupts; max_wal_size avoids checkpoint storms during bulk
# loads; shared_buffers and work memory fit a small dedicated server. (The test
# suite's clusters run with fsync off; the benchmarks do not.)
PG_SETTINGS: dict[str, str] = {
    "synchronous_commit": "off",
    "max_wal_size": "8GB",
    "shared_buffers": "1GB",
    "maintenance_work_mem": "1GB",
    "work_mem": "32MB",
    "max_connections": "100",
}

#: A benchmark node's id and country (its events are written as this node's own).
NODE_ID = "bench-node"
#: How long a node may take to answer after it starts (it imports the analysis stack; on a
#: busy shared machine that alone has taken over a minute).
START_TIMEOUT_S = 300.0


def log(message: str) -> None:
    """Progress for the human watching (stderr, so stdout keeps only the result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """Print the result: one JSON object, the last line of stdout."""
    print(json.dumps(result, sort_keys=False), flush=True)


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
               smoke: Mapping[str, Any]) -> argparse.Namespace:
    """Parse the command line; with ``--smoke``, the arguments named in ``smoke`` take
    those tiny values (a run of seconds that checks the script works, not its speed)."""
    sizes = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in smoke.items())
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny sizes ({sizes}): checks the script runs, measures nothing")
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in smoke.items():
            setattr(args, name, value)
    return args


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
    """The median, NaN for no values."""
    return float(statistics.median(values)) if values else float("nan")


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by a process and by each of its children.

    Read from ``/proc`` (Linux); empty where it is not available. Comparing two
    readings shows how work spread over a server's processes.
    """
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    found: dict[int, float] = {}
    for p in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            found[p] = (int(fields[11]) + int(fields[12])) / tick
    return found


class StageTimer:
    """Accumulated seconds per named stage, and how many timed calls were made."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls = 0

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - t0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0

        return timed


# ----------------------------------------------------------------------------- data


#: Events a year of the synthetic scenario makes at scale 1 (sitcen.demo.scenario.generate).
SCENARIO_PER_YEAR = 50_000


def scenario_of_at_least(n: int, seed: int, *, years: float, margin: float,
                         growth: float) -> Any:
    """``years`` of the synthetic scenario up to two days ago with at least ``n`` events.

    The first scale asks for ``margin`` times ``n``; a scenario that falls short
    is made again at ``growth`` times the scale it lacked.
    """
    from sitcen.demo.scenario import generate

    scale = max(1.0, margin * n / (SCENARIO_PER_YEAR * years))
    while True:
        start = (datetime.now(UTC) - timedelta(days=365.25 * years + 2)).date()
        scenario = generate(years, seed=seed, start=start, scale=scale)
        if len(scenario) >= n:
            return scenario
        scale *= growth * n / max(len(scenario), 1)
        log(f"scenario gave {len(scenario):,} events; regenerating with scale {scale:.2f}")


# ----------------------------------------------------------------------------- databases


def pg_binaries_missing() -> list[str]:
    """The PostgreSQL server programs not found (Debian's versioned bin directory included)."""
    return postgres_binaries_missing()


def postgres_installed() -> bool:
    """Whether the PostgreSQL server programs are there; logs the missing ones when not."""
    missing = pg_binaries_missing()
    if missing:
        log(f"PostgreSQL skipped: {', '.join(missing)} not on PATH")
    return not missing


def describe_pg(cluster: PostgresCluster) -> str:
    """The server settings a result was measured with."""
    return "defaults (fsync on) + " + cluster.describe()


@contextlib.contextmanager
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server with the benchmarks' settings, removed afterwards."""
    with postgres_cluster(PG_SETTINGS) as cluster:
        log(f"PostgreSQL up on port {cluster.port} ({describe_pg(cluster)})")
        yield cluster


@contextlib.contextmanager
def temp_dir(prefix: str = "sitcen-bench-") -> Iterator[Path]:
    """A temporary directory, removed afterwards."""
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
                    node_id=NODE_ID, node_country="TJ")


def create_user_and_token(database_url: str) -> str:
    """Migrate the database, add a duty officer and return a bearer token for it."""
    import secrets

    from sitcen.store.engine import open_engine
    from sitcen.store.users import add_user, issue_token
    from sitcen.users import Role

    username = f"bench-{secrets.token_hex(4)}"  # a reused database may hold earlier ones
    engine = open_engine(database_url)
    try:
        add_user(engine, username, "bench-password-1", Role.duty_officer, "Benchmark")
        token, _ = issue_token(engine, username, 12)
    finally:
        engine.dispose()
    return token


# ----------------------------------------------------------------------------- node servers


class ApiServer(NodeProcess):
    """A benchmark node served by ``sitcen serve --workers N``, with a duty officer's token.

    The scheduled analysis is off unless ``env`` says otherwise: a benchmark
    measures one thing at a time.
    """

    token: str = ""

    @property
    def base_url(self) -> str:
        """The node's base URL."""
        return self.url

    @property
    def headers(self) -> dict[str, str]:
        """Bearer authentication as the benchmark's duty officer."""
        return {"Authorization": f"Bearer {self.token}"}

    def cpu_seconds(self) -> dict[int, float]:
        """CPU seconds so far of the serving process and of each worker process."""
        return cpu_seconds(self.process.pid) if self.process is not None else {}


@contextlib.contextmanager
def api_server(database_url: str, data_dir: Path, workers: int = 1,
               env: Mapping[str, str] | None = None) -> Iterator[ApiServer]:
    """A running node on ``database_url`` (migrated, a duty officer added), stopped afterwards."""
    server = ApiServer(NODE_ID, database_url, data_dir, workers=workers,
                       env={"SITCEN_ANALYSIS_INTERVAL_MIN": "0", **(env or {})},
                       log_path=data_dir / f"serve-{NODE_ID}.log")
    server.token = create_user_and_token(database_url)
    server.start(timeout_s=START_TIMEOUT_S)
    pid = server.process.pid if server.process is not None else None
    log(f"node up at {server.url} ({workers} process(es), pid {pid})")
    try:
        yield server
    finally:
        server.stop()
