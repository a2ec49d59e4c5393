"""Query: latency of bbox + time-window queries on a large store (default 10 million events).

1. Build (or reuse) a SQLite node database of N scenario events under
   benchmarks/.data/. It is written by a node of its own through the store's
   bulk path, ``sitcen.store.bulk.load_reports``: every event goes through the
   batch API's checks, placement on a section, body and journal
   (``report_events``, 10,000 a transaction), with the events indexes built
   after the load. The file name carries N, the seed, a fingerprint of the
   scenario's events and ``store.migrations.schema_version()``, so a file built
   by another schema is never reused (it is rebuilt; ``--data`` refuses one).
2. PostgreSQL: a throwaway server, the schema from the migrations, every column
   of ``schema.events`` streamed from the SQLite file with ``COPY ... FROM
   STDIN (FORMAT csv)``, indexes built after the copy, then ``VACUUM ANALYZE``
   (what autovacuum would do shortly after such a load).
3. Queries: random bboxes of 0.5-3 degrees a side centred on random stored
   events (so they are not empty) and random windows of 1-30 days around that
   event's time, answered by ``store.queries.query_events`` (the API's code
   path, in-process, first page of 100), one pooled connection checkout per
   query as the API does. A few go through the HTTP API for comparison.

Last stdout line: ``{"sqlite": {"events": N, "p50_ms": ..., "p95_ms": ..., "http": {...}},
"postgresql": {...}}``.

    python benchmarks/query.py [--events 10000000] [--queries 500] [--backends sqlite,postgresql]
                               [--data FILE] [--data-dir DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from _common import (
    DATA_DIR,
    api_server,
    describe_pg,
    emit,
    log,
    parse_args,
    percentile,
    postgres,
    postgres_installed,
    scenario_of_at_least,
    settings_for,
    temp_dir,
)

from sitcen.store import schema

CHUNK = 10_000  # events a transaction, as a batch through the API
DAY_US = 86_400 * 1_000_000


# --------------------------------------------------------------------------- the data set


def scenario_events(n: int, seed: int) -> Any:
    """A scenario of at least ``n`` events, all in the past (``sitcen.demo.scenario``)."""
    return scenario_of_at_least(n, seed, years=3.0, margin=1.05, growth=1.05)


def _fingerprint(scenario: Any, n: int) -> str:
    """A short hash of the events the file would hold.

    Taken from the generated arrays rather than from the generator's source, so
    that an edit of the scenario rebuilds the file only when it changes the events.
    """
    digest = hashlib.sha256()
    for name in ("occurred_at", "reported_at", "lon", "lat", "type", "section"):
        digest.update(np.ascontiguousarray(getattr(scenario, name)[:n]).tobytes())
    return digest.hexdigest()[:10]


def stale_because(path: Path) -> str | None:
    """Why a data file cannot be used with the current schema (None when it can)."""
    from sitcen.store.migrations import MIGRATIONS

    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
        except sqlite3.Error as exc:
            return f"not a node database ({exc})"
    missing = [name for name, _ in MIGRATIONS if name not in applied]
    if missing:
        return f"built before migration(s) {', '.join(missing)}"
    wanted = [c.name for c in schema.events.columns]
    if columns != wanted:
        return f"its events columns {columns} are not the schema's {wanted}"
    return None


def sqlite_data(n: int, seed: int, directory: Path) -> Path:
    """The SQLite file of ``n`` scenario events for ``seed``, built once per schema version.

    Built by a node of its own through :func:`sitcen.store.bulk.load_reports`
    (the batch API's checks, placement, bodies and journal; the events indexes
    built after the load). The name carries the scenario's fingerprint and
    ``schema_version()``, so a change of either builds a new file.
    """
    from sitcen.events import EventCreate
    from sitcen.node import Node
    from sitcen.store.bulk import load_reports
    from sitcen.store.migrations import schema_version

    t_start = time.perf_counter()
    log(f"generating {n:,} scenario events (seed {seed})")
    scenario = scenario_events(n, seed)
    name = f"query-{n}-seed{seed}-{_fingerprint(scenario, n)}-schema{schema_version()}.db"
    path = directory / name
    if path.exists() and stale_because(path) is None:
        log(f"reusing {path} ({path.stat().st_size / 1e9:.2f} GB)")
        return path
    log(f"building {path}")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    node = Node.open(settings_for(f"sqlite:///{tmp}", directory))
    t_load = time.perf_counter()
    every = max(CHUNK, n // 20)

    def batches() -> Iterator[list[Any]]:
        for lo in range(0, n, CHUNK):
            yield [EventCreate.model_validate(p)
                   for p in scenario.payloads(lo, min(n, lo + CHUNK))]

    def progress(done: int) -> None:
        if done % every < CHUNK or done == n:
            log(f"  {done:,}/{n:,} events ({time.perf_counter() - t_load:.0f} s)")

    try:
        load_reports(node.engine, node.reporter, batches(), progress=progress)
        with node.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        node.engine.dispose()
    tmp.rename(path)
    log(f"built {path} in {time.perf_counter() - t_start:.0f} s (scenario "
        f"{t_load - t_start:.0f} s, load and indexes {time.perf_counter() - t_load:.0f} s)")
    return path


def load_postgresql(url: str, source: Path) -> dict[str, float]:
    """Copy the events of the SQLite file into a fresh PostgreSQL database; phase seconds.

    Every column of ``schema.events`` is copied as stored (``COPY ... FROM STDIN``),
    with the indexes built after the copy, then ``VACUUM ANALYZE``.
    """
    import psycopg

    from sitcen.store.bulk import deferred_indexes
    from sitcen.store.engine import open_engine

    engine = open_engine(url)  # the schema, through the migrations
    columns = ", ".join(c.name for c in schema.events.columns)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    phases: dict[str, float] = {}
    with contextlib.closing(sqlite3.connect(source)) as src:
        n = src.execute("SELECT count(*) FROM events").fetchone()[0]
        with deferred_indexes(engine, schema.events):
            t0 = time.perf_counter()
            done = 0
            with psycopg.connect(conninfo, autocommit=True) as pg, pg.cursor() as cur, \
                    cur.copy(f"COPY events ({columns}) FROM STDIN (FORMAT csv)") as copy:
                rows = src.execute(f"SELECT {columns} FROM events ORDER BY rowid")
                while chunk := rows.fetchmany(100_000):
                    buf = io.StringIO()
                    csv.writer(buf, lineterminator="\n").writerows(chunk)
                    copy.write(buf.getvalue())
                    done += len(chunk)
                    if done % 1_000_000 < 100_000 or done == n:
                        log(f"  COPY {done:,}/{n:,} rows ({time.perf_counter() - t0:.0f} s)")
            t1 = time.perf_counter()
            phases["copy_s"] = t1 - t0
            log("  creating the events indexes")
        phases["indexes_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE events")
    phases["vacuum_analyze_s"] = time.perf_counter() - t2
    engine.dispose()
    log("PostgreSQL load: " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))
    return {k: round(v, 1) for k, v in phases.items()}


# --------------------------------------------------------------------------- the queries


def query_specs(source: Path, count: int, seed: int) -> list[tuple[int, int, tuple[float, ...]]]:
    """(since, until, bbox) of ``count`` queries around randomly chosen stored events."""
    rnd = random.Random(seed)
    conn = sqlite3.connect(source)
    max_rowid = conn.execute("SELECT max(rowid) FROM events").fetchone()[0]
    specs: list[tuple[int, int, tuple[float, ...]]] = []
    while len(specs) < count:
        row = conn.execute("SELECT lon, lat, occurred_at FROM events WHERE rowid = ?",
                           (rnd.randint(1, max_rowid),)).fetchone()
        if row is None:
            continue
        lon, lat, at = row
        w, h = rnd.uniform(0.5, 3.0), rnd.uniform(0.5, 3.0)
        cx, cy = lon + rnd.uniform(-w / 2, w / 2), lat + rnd.uniform(-h / 2, h / 2)
        bbox = (round(max(-180.0, cx - w / 2), 4), round(max(-90.0, cy - h / 2), 4),
                round(min(180.0, cx + w / 2), 4), round(min(90.0, cy + h / 2), 4))
        days = rnd.uniform(1, 30)
        since = int(at - rnd.uniform(0, days) * DAY_US)
        specs.append((since, since + int(days * DAY_US), bbox))
    conn.close()
    return specs


def time_queries(url: str, specs: Sequence[tuple[int, int, tuple[float, ...]]],
                 warmup: int = 20) -> dict[str, Any]:
    """Latency of query_events for each spec (first page of 100), after a few warm-up ones."""
    from sitcen.store.engine import open_engine
    from sitcen.store.queries import EventFilter, query_events

    engine = open_engine(url)
    ms: list[float] = []
    rows: list[int] = []
    for i, (since, until, bbox) in enumerate([*specs[:warmup], *specs]):
        f = EventFilter(since=since, until=until, bbox=bbox)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        with engine.connect() as conn:
            bodies, _ = query_events(conn, f, limit=100)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            ms.append(elapsed)
            rows.append(len(bodies))
    engine.dispose()
    return summary(ms, rows)


def summary(ms: Sequence[float], rows: Sequence[int]) -> dict[str, Any]:
    return {
        "queries": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_rows": round(sum(rows) / len(rows), 1),
        "full_pages": round(sum(r == 100 for r in rows) / len(rows), 3),
    }


def time_http(url: str, workdir: Path, specs: Sequence[tuple[int, int, tuple[float, ...]]]
              ) -> dict[str, Any]:
    """The same kind of query through GET /api/v1/events on a real server."""
    import httpx

    def iso(us: int) -> str:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).isoformat()

    ms: list[float] = []
    rows: list[int] = []
    with api_server(url, workdir) as server, httpx.Client(
        base_url=server.base_url, headers=server.headers, timeout=60
    ) as client:
        for i, (since, until, bbox) in enumerate([*specs[:5], *specs]):
            params = {"since": iso(since), "until": iso(until), "limit": "100",
                      "bbox": ",".join(str(v) for v in bbox)}
            t0 = time.perf_counter()
            response = client.get("/api/v1/events", params=params)
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise SystemExit(f"query refused: {response.status_code} {response.text[:500]}")
            if i >= 5:
                ms.append(elapsed)
                rows.append(len(response.json()["items"]))
    return summary(ms, rows)


def explain(url: str, spec: tuple[int, int, tuple[float, ...]]) -> str:
    """The database's plan for one query, for the log."""
    from sitcen.store.engine import open_engine
    from sitcen.store.queries import EventFilter

    engine = open_engine(url)
    since, until, bbox = spec
    f = EventFilter(since=since, until=until, bbox=bbox)  # type: ignore[arg-type]
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        captured.append((statement, params))

    from sitcen.store.queries import query_events

    sa.event.listen(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        query_events(conn, f, limit=100)
        statement, params = captured[-1]
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        lines = conn.exec_driver_sql(prefix + statement, params).all()
    engine.dispose()
    text = [" | ".join(str(v) for v in row) for row in lines]
    more = f"\n  ... ({len(text) - 14} more lines)" if len(text) > 14 else ""
    return "\n".join(text[:14]) + more


# --------------------------------------------------------------------------- main


def run(backend: str, url: str, specs: Sequence[tuple[int, int, tuple[float, ...]]],
        http_count: int, workdir: Path, n: int, passes: int) -> dict[str, Any]:
    log(f"{backend}: plan of one query:\n{explain(url, specs[0])}")
    result: dict[str, Any] = {"events": n}
    for k in range(1, passes + 1):
        log(f"{backend}: pass {k}/{passes}: {len(specs)} queries through query_events")
        figures = time_queries(url, specs)
        log(f"{backend}: pass {k}: {figures}")
        if k < passes:
            result[f"pass{k}_p50_ms"] = figures["p50_ms"]
            result[f"pass{k}_p95_ms"] = figures["p95_ms"]
    # The last pass is the figure: the same queries again, on a warmed cache.
    result.update(figures)
    result["passes"] = passes
    if http_count:
        result["http"] = time_http(url, workdir, specs[:http_count])
        log(f"{backend} over HTTP: {result['http']}")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--http-queries", type=int, default=100)
    parser.add_argument("--data", type=Path,
                        help="a data file built earlier by this script (checked: schema)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="where data files are built and kept for reuse")
    parser.add_argument("--passes", type=int, default=2,
                        help="run the query set this many times; the last pass is reported")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parse_args(parser, argv, smoke={"events": 3_000, "queries": 20, "http_queries": 5,
                                           "passes": 1, "data_dir": None})
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(temp_dir())
        if args.data:
            source = args.data
            why = stale_because(source)
            if why is not None:
                raise SystemExit(f"{source} cannot be used: {why}; build a new one (leave out "
                                 "--data)")
            with contextlib.closing(sqlite3.connect(source)) as conn:
                args.events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            log(f"using the given file {source} ({args.events:,} events)")
        else:
            source = sqlite_data(args.events, args.seed, args.data_dir or workdir)
        specs = query_specs(source, args.queries, args.seed)
        result: dict[str, Any] = {}
        if "sqlite" in backends:
            result["sqlite"] = run("sqlite", f"sqlite:///{source}", specs, args.http_queries,
                                   workdir, args.events, args.passes)
        if "postgresql" in backends and postgres_installed():
            with postgres() as pg:
                url = pg.new_database("query")
                log(f"loading {args.events:,} events into PostgreSQL")
                load = load_postgresql(url, source)
                result["postgresql"] = run("postgresql", url, specs, args.http_queries,
                                           workdir, args.events, args.passes)
                result["postgresql"]["load"] = load
                result["postgresql"]["server_settings"] = describe_pg(pg)
    emit(result)


if __name__ == "__main__":
    main()
