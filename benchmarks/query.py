"""Query: latency of bbox + time-window queries on a large store (default 10 million events).

1. Build (or reuse) a SQLite file of N scenario events under benchmarks/.data/,
   keyed by N and seed. Rows are built in bulk from the scenario's arrays
   with the store's own ``cell_of`` and the section index, in the columns
   ``store/schema.py`` defines, with a compact JSON body per event; loaded
   with ``executemany`` in large transactions with the secondary indexes
   dropped and re-created after the load (faster than maintaining them row by
   row). Only the ``events`` table is filled: the queries read nothing else.
2. PostgreSQL: a throwaway server, the schema from the migrations, the same
   rows streamed from the SQLite file with ``COPY ... FROM STDIN (FORMAT csv)``,
   indexes created after the load, then ``VACUUM ANALYZE`` (what autovacuum
   would do shortly after such a load).
3. Queries: random bboxes of 0.5-3 degrees a side centred on random stored
   events (so they are not empty) and random windows of 1-30 days around that
   event's time, answered by ``store.queries.query_events`` (the API's code
   path, in-process, first page of 100), one pooled connection checkout per
   query as the API does. A few go through the HTTP API for comparison.

Last stdout line: ``{"sqlite": {"events": N, "p50_ms": ..., "p95_ms": ...}, "postgresql": {...}}``.

    python benchmarks/query.py [--events 10000000] [--queries 500] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import inspect
import io
import random
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import sqlalchemy as sa
from _common import (
    DATA_DIR,
    api_server,
    emit,
    log,
    percentile,
    pg_binaries_missing,
    postgres,
    settings_for,
    temp_dir,
)

from sitcen.store import schema
from sitcen.store.grid import cell_of

ORIGIN = "bench-node"
CHUNK = 250_000
COLUMNS = [c.name for c in schema.events.columns]
DAY_US = 86_400 * 1_000_000
SCENARIO_PER_YEAR = 50_000  # events a year at scale 1 (sitcen.demo.scenario.generate)


# --------------------------------------------------------------------------- building rows


def uuid4_strings(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random version-4 UUIDs as text, vectorised (uuid.uuid4() is ~1.5 us each)."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = digits[b >> 4]
    hexed[:, 1::2] = digits[b & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for (a, z), (c, d) in zip(((0, 8), (9, 13), (14, 18), (19, 23), (24, 36)),
                              ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)), strict=True):
        out[:, a:z] = hexed[:, c:d]
    return out.view("S36").ravel().astype("U36").tolist()


def iso_strings(micros: npt.NDArray[np.int64]) -> list[str]:
    """Microsecond timestamps as ISO 8601 UTC text, vectorised."""
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    return [t + "Z" for t in text.tolist()]


def scenario_events(n: int, seed: int) -> Any:
    """A scenario of at least ``n`` events, all in the past (``sitcen.demo.scenario``)."""
    from sitcen.demo.scenario import generate

    years = 3.0
    scale = max(1.0, 1.05 * n / (SCENARIO_PER_YEAR * years))
    while True:
        start = (datetime.now(UTC) - timedelta(days=365.25 * years + 2)).date()
        scenario = generate(years, seed=seed, start=start, scale=scale)
        if len(scenario) >= n:
            return scenario
        scale *= 1.05 * n / max(len(scenario), 1)
        log(f"scenario gave {len(scenario):,} events; regenerating with scale {scale:.2f}")


def build_rows(scenario: Any, lo: int, hi: int, sections: Any, max_km: float,
               rng: np.random.Generator, recorded_at: int) -> list[tuple[Any, ...]]:
    """Rows of the events table for scenario events ``lo:hi``, in ``COLUMNS`` order.

    The columns come from the scenario's arrays, the cell from the store's
    ``cell_of`` and the section from the node's section index (as
    ``report_events`` places them); the body is the scenario's payload plus the
    fields the node adds, as compact JSON, close to what the API stores.
    """
    from sitcen.taxonomy import EVENT_TYPES

    lon = np.asarray(scenario.lon[lo:hi], dtype=np.float64)
    lat = np.asarray(scenario.lat[lo:hi], dtype=np.float64)
    occurred = scenario.occurred_at[lo:hi].tolist()
    reported = scenario.reported_at[lo:hi].tolist()
    placed = sections.assign(lon, lat, max_km)
    section_ids: list[str | None] = [None if s is None else str(s) for s in placed.section_ids]
    distance = np.round(np.nan_to_num(placed.distance_km, nan=-1.0), 3).tolist()
    cells = cell_of(lon, lat).tolist()
    ids = uuid4_strings(rng, hi - lo)
    rec_iso = iso_strings(np.array([recorded_at]))[0]
    lons, lats = lon.tolist(), lat.tolist()
    rows: list[tuple[Any, ...]] = []
    for i, payload in enumerate(scenario.payloads(lo, hi)):
        t = payload["type"]
        category = str(EVENT_TYPES[t].category)
        body = {
            "id": ids[i], "origin": ORIGIN, "version": 1, "category": category,
            "country": payload["country"], "reported_at": payload.pop("reported_at"),
            "recorded_at": rec_iso, "section_id": section_ids[i],
            "section_distance_km": distance[i], "follow_up_of": None,
            "has_personal_data": False, **payload,
        }
        rows.append((ids[i], ORIGIN, 1, t, category, occurred[i], reported[i], recorded_at,
                     lons[i], lats[i], cells[i], section_ids[i], payload["country"],
                     payload["impact_level"], payload["status"], payload["handling"], None,
                     orjson.dumps(body).decode()))
    return rows


# --------------------------------------------------------------------------- SQLite (cached)


def _index_ddl(dialect: sa.Dialect) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each secondary index of the events table."""
    return [(str(ix.name), str(sa.schema.CreateIndex(ix).compile(dialect=dialect)))
            for ix in sorted(schema.events.indexes, key=lambda ix: str(ix.name))]


def _fingerprint(scenario: Any, n: int) -> str:
    """A short hash of the events the cache would hold and of the row builder.

    Taken from the generated arrays rather than from the generator's source, so
    that an edit of sitcen/scenario.py rebuilds the cache only when it changes
    the events.
    """
    digest = hashlib.sha256(inspect.getsource(build_rows).encode())
    for name in ("occurred_at", "reported_at", "lon", "lat", "type", "section"):
        digest.update(np.ascontiguousarray(getattr(scenario, name)[:n]).tobytes())
    return digest.hexdigest()[:10]


def sqlite_cache(n: int, seed: int) -> Path:
    """The SQLite file of ``n`` scenario events for ``seed``, built once."""
    t_start = time.perf_counter()
    log(f"generating {n:,} scenario events (seed {seed})")
    scenario = scenario_events(n, seed)
    path = DATA_DIR / f"query-{n}-seed{seed}-{_fingerprint(scenario, n)}.db"
    if path.exists():
        log(f"reusing {path} ({path.stat().st_size / 1e9:.1f} GB)")
        return path
    log(f"building {path}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    from sitcen.node import Node

    node = Node.open(settings_for(f"sqlite:///{tmp}", tmp.parent))  # schema, sections
    sections, max_km = node.sections, node.settings.section_max_km
    dialect = node.engine.dialect
    node.engine.dispose()
    t_gen = time.perf_counter()
    conn = sqlite3.connect(tmp, isolation_level=None)
    # Building a cache file: no rollback journal and no syncing while loading.
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-2000000",
                   "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    indexes = _index_ddl(dialect)
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    insert = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    rng = np.random.default_rng(seed)
    recorded_at = int(time.time() * 1_000_000)
    build_s = insert_s = 0.0
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        t0 = time.perf_counter()
        rows = build_rows(scenario, lo, hi, sections, max_km, rng, recorded_at)
        t1 = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        build_s += t1 - t0
        insert_s += time.perf_counter() - t1
        if (hi // CHUNK) % 4 == 0 or hi == n:
            log(f"  {hi:,}/{n:,} rows (build {build_s:.0f} s, insert {insert_s:.0f} s)")
    t_idx = time.perf_counter()
    for name, ddl in indexes:
        log(f"  creating {name}")
        conn.execute(ddl)
    index_s = time.perf_counter() - t_idx
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    tmp.rename(path)
    log(f"built {path} in {time.perf_counter() - t_start:.0f} s (scenario {t_gen - t_start:.0f} s,"
        f" rows {build_s:.0f} s, inserts {insert_s:.0f} s, indexes {index_s:.0f} s)")
    return path


# --------------------------------------------------------------------------- PostgreSQL


def load_postgresql(url: str, source: Path) -> dict[str, float]:
    """Copy the events of the SQLite file into a fresh PostgreSQL database; phase seconds."""
    import psycopg

    from sitcen.store.engine import open_engine

    engine = open_engine(url)  # the schema, through the migrations
    dialect = engine.dialect
    engine.dispose()
    indexes = _index_ddl(dialect)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    src = sqlite3.connect(source)
    n = src.execute("SELECT count(*) FROM events").fetchone()[0]
    phases: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=True) as pg:
        for name, _ in indexes:
            pg.execute(f"DROP INDEX {name}")
        t0 = time.perf_counter()
        done = 0
        with pg.cursor() as cur, cur.copy(
            f"COPY events ({', '.join(COLUMNS)}) FROM STDIN (FORMAT csv)"
        ) as copy:
            rows = src.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY rowid")
            while True:
                chunk = rows.fetchmany(100_000)
                if not chunk:
                    break
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerows(chunk)
                copy.write(buf.getvalue())
                done += len(chunk)
                if done % 1_000_000 < 100_000 or done == n:
                    log(f"  COPY {done:,}/{n:,} rows ({time.perf_counter() - t0:.0f} s)")
        phases["copy_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        for name, ddl in indexes:
            log(f"  creating {name}")
            pg.execute(ddl)
        phases["indexes_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        pg.execute("VACUUM ANALYZE events")
        phases["vacuum_analyze_s"] = time.perf_counter() - t2
    src.close()
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
    parser.add_argument("--cache", help="an events file built earlier by this script, used as is")
    parser.add_argument("--passes", type=int, default=2,
                        help="run the query set this many times; the last pass is reported")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    if args.cache:
        source = Path(args.cache)
        log(f"using the given file {source} (not checked against the scenario)")
    else:
        source = sqlite_cache(args.events, args.seed)
    specs = query_specs(source, args.queries, args.seed)
    result: dict[str, Any] = {}
    with temp_dir() as workdir:
        if "sqlite" in backends:
            result["sqlite"] = run("sqlite", f"sqlite:///{source}", specs, args.http_queries,
                                   workdir, args.events, args.passes)
        if "postgresql" in backends:
            missing = pg_binaries_missing()
            if missing:
                log(f"PostgreSQL skipped: {', '.join(missing)} not on PATH")
            else:
                with postgres() as pg:
                    url = pg.new_database("query")
                    log(f"loading {args.events:,} events into PostgreSQL ({pg.describe()})")
                    load = load_postgresql(url, source)
                    result["postgresql"] = run("postgresql", url, specs, args.http_queries,
                                               workdir, args.events, args.passes)
                    result["postgresql"]["load"] = load
                    result["postgresql"]["server_settings"] = pg.describe()
    emit(result)


if __name__ == "__main__":
    main()
