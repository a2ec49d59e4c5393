"""Ingest: events per second through the batch API, against a raw DB-API insert of the same rows.

For each backend (SQLite, PostgreSQL):

1. a fresh database and a real node server (``sitcen serve --workers N``, the
   scheduled analysis off) in a subprocess;
2. scenario payloads cut into batches of 10,000, serialised to JSON bytes
   before any timing, then POSTed one after the other to
   ``/api/v1/events/batch`` with httpx (one warm-up batch is not counted);
3. the rows the API stored (events, personal data, journal) are read back and
   inserted with plain DB-API ``executemany`` into a second fresh database with
   the same schema and indexes, one transaction per API batch: the floor any
   write path on this machine could reach;
4. ratio = raw rows/s / API events/s (1.0 would mean the API costs nothing);
   ``server_cpu_s`` is the CPU time each server process spent meanwhile, which
   shows whether several processes shared the work.

Then, for SQLite, the same work is done in-process with a stage timer around
each step of the batch route and a cProfile of one batch (stderr), to show where
the time goes (``breakdown_ms`` in the SQLite result).

Last stdout line: ``{"sqlite": {"events_per_s", "raw_rows_per_s", "ratio", ...},
"postgresql": {...}}``.

    python benchmarks/ingest.py [--events 100000] [--batch 10000] [--backends sqlite,postgresql]
                                [--workers 1] [--concurrency 1] [--profile-repeats 3] [--smoke]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from _common import (
    StageTimer,
    api_server,
    describe_pg,
    emit,
    log,
    median,
    parse_args,
    postgres,
    postgres_installed,
    scenario_of_at_least,
    settings_for,
    sqlite_url,
    temp_dir,
)

from sitcen.store import schema

WARMUP_EVENTS = 1_000
TABLES = ("events", "personal_data", "journal")


# --------------------------------------------------------------------------- payloads


def scenario_payloads(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` JSON-ready event reports from the synthetic scenario, all in the past."""
    scenario = scenario_of_at_least(count, seed, years=1.0, margin=1.1, growth=1.2)
    now = datetime.now(UTC)
    payloads = [p for p in scenario.payloads() if _parse_time(p["occurred_at"]) < now]
    if len(payloads) < count:
        raise SystemExit(f"scenario has only {len(payloads)} past events, {count} wanted")
    return payloads[:count]


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def serialise(payloads: Sequence[dict[str, Any]], size: int) -> list[bytes]:
    """Request bodies ``{"events": [...]}`` of ``size`` events each, as bytes."""
    return [
        orjson.dumps({"events": list(payloads[i:i + size])}, option=orjson.OPT_NAIVE_UTC)
        for i in range(0, len(payloads), size)
    ]


# --------------------------------------------------------------------------- through the API


def post_batches(base_url: str, headers: dict[str, str], bodies: Sequence[bytes],
                 warmup: bytes, concurrency: int = 1) -> tuple[list[float], int, float]:
    """POST each body once; returns per-batch seconds, events written and wall-clock seconds.

    With ``concurrency`` 1 the batches go one after the other; with more, that
    many clients send at the same time (events/s is then events / wall clock).
    """
    import httpx

    headers = {**headers, "Content-Type": "application/json"}
    seconds: list[float] = [0.0] * len(bodies)
    counts: list[int] = [0] * len(bodies)

    def send(client: Any, i: int) -> None:
        t0 = time.perf_counter()
        counts[i] = _post(client, headers, bodies[i])
        seconds[i] = time.perf_counter() - t0
        log(f"  batch {i + 1}/{len(bodies)}: {counts[i]:,} events in {seconds[i] * 1000:.0f} ms")

    def worker(first: int) -> None:
        with httpx.Client(base_url=base_url, timeout=600) as client:
            for i in range(first, len(bodies), concurrency):
                send(client, i)

    with httpx.Client(base_url=base_url, timeout=600) as client:
        _post(client, headers, warmup)
    t0 = time.perf_counter()
    if concurrency == 1:
        worker(0)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(worker, range(concurrency)))
    return seconds, sum(counts), time.perf_counter() - t0


def _post(client: Any, headers: dict[str, str], body: bytes) -> int:
    response = client.post("/api/v1/events/batch", content=body, headers=headers)
    if response.status_code != 201:
        raise SystemExit(f"batch refused: {response.status_code} {response.text[:2000]}")
    return int(response.json()["written"])


# --------------------------------------------------------------------------- raw DB-API


def stored_rows(url: str) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The rows the API wrote, one group per API batch (a batch shares one recorded_at)."""
    from sitcen.store.engine import open_engine

    engine = open_engine(url, apply_migrations=False)
    groups: dict[int, dict[str, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
    with engine.connect() as conn:
        for name in TABLES:
            table = schema.metadata.tables[name]
            cols = _insert_columns(name)
            for row in conn.execute(sa.select(*(table.c[c] for c in cols))):
                groups[row.recorded_at][name].append(tuple(row))
    engine.dispose()
    return [groups[k] for k in sorted(groups)]


def _insert_columns(name: str) -> list[str]:
    # The journal's seq is generated by the database, as in write_records.
    return [c.name for c in schema.metadata.tables[name].columns if c.name != "seq"]


def _insert_sql(name: str, placeholder: str) -> str:
    cols = _insert_columns(name)
    return f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join([placeholder] * len(cols))})"


def raw_insert_sqlite(path: Path, groups: Sequence[dict[str, list[tuple[Any, ...]]]]) -> float:
    """Seconds to insert the groups with sqlite3 executemany, one transaction per group."""
    conn = sqlite3.connect(path, isolation_level=None)
    # The pragmas store/engine.py sets on every connection.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "cache_size=-65536", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    sql = {name: _insert_sql(name, "?") for name in TABLES}
    t0 = time.perf_counter()
    for group in groups:
        conn.execute("BEGIN")
        for name in TABLES:
            if group.get(name):
                conn.executemany(sql[name], group[name])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def raw_insert_postgresql(url: str, groups: Sequence[dict[str, list[tuple[Any, ...]]]]) -> float:
    """Seconds to insert the groups with psycopg executemany, one transaction per group."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    sql = {name: _insert_sql(name, "%s") for name in TABLES}
    with psycopg.connect(conninfo) as conn:
        t0 = time.perf_counter()
        for group in groups:
            with conn.cursor() as cur:
                for name in TABLES:
                    if group.get(name):
                        cur.executemany(sql[name], group[name])
            conn.commit()
        return time.perf_counter() - t0


# --------------------------------------------------------------------------- one backend


def run_backend(backend: str, url: str, raw_url: str, workdir: Path, bodies: Sequence[bytes],
                warmup: bytes, concurrency: int = 1, workers: int = 1) -> dict[str, Any]:
    log(f"{backend}: {len(bodies)} batches through the API, {concurrency} client(s), "
        f"{workers} server process(es)")
    with api_server(url, workdir, workers) as server:
        before = server.cpu_seconds()
        seconds, written, wall = post_batches(server.base_url, server.headers, bodies, warmup,
                                              concurrency)
        after = server.cpu_seconds()
    # How the work spread over the server's processes (a busy one and an idle one
    # would show that the clients' connections all went to one process).
    cpu = sorted((round(t - before.get(pid, 0.0), 2) for pid, t in after.items()
                  if t - before.get(pid, 0.0) >= 0.05), reverse=True)
    events_per_s = written / wall
    groups = stored_rows(url)[1:]  # the first group is the warm-up batch
    rows = sum(len(g.get("events", ())) for g in groups)
    if rows != written:
        raise SystemExit(f"read back {rows} event rows, the API reported {written}")
    from sitcen.store.engine import open_engine

    open_engine(raw_url).dispose()  # same schema and indexes, through the migrations
    log(f"{backend}: raw executemany of the same {rows:,} rows (+ journal, personal data)")
    if backend == "sqlite":
        raw_s = raw_insert_sqlite(Path(sa.make_url(raw_url).database or ""), groups)
    else:
        raw_s = raw_insert_postgresql(raw_url, groups)
    raw_per_s = rows / raw_s
    result: dict[str, Any] = {
        "events": written,
        "events_per_s": round(events_per_s),
        "raw_rows_per_s": round(raw_per_s),
        "ratio": round(raw_per_s / events_per_s, 2),
        "median_batch_ms": round(median(seconds) * 1000, 1),
        "batch_size": max(1, written // len(bodies)),
    }
    result["concurrent_clients"] = concurrency
    result["server_processes"] = workers
    result["server_cpu_s"] = cpu
    log(f"{backend}: {json.dumps(result)}")
    return result


# --------------------------------------------------------------------------- the breakdown


def wrapper_overhead_s() -> float:
    """Seconds a StageTimer.wrap call adds outside the stage it times (calibrated).

    That cost would otherwise show up as "report_events other"; it is
    subtracted there and from the total.
    """
    timer = StageTimer()
    noop = timer.wrap("noop", lambda: None)
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        noop()
    return max(0.0, (time.perf_counter() - t0 - timer.seconds["noop"]) / n)


PARSE = "EventBatch.model_validate_json (parse + validate)"
STATUS = "initial status check"
ANSWER = "answer (orjson)"

# Functions of sitcen.store.events timed one by one inside report_events (those
# that exist in the version measured; the rest of report_events is "other").
INNER_STAGES = {
    "check_report": "check_report (rules)",
    "_missing_follow_ups": "follow-up lookup",
    "cell_of": "cell_of",
    "_body": "_body (model_dump_json + orjson)",
    "_row": "_row (row dict)",
    "_personal_record": "_personal_record",
    "write_records": "write_records (SQL)",
}


def breakdown(bodies: Sequence[bytes], repeats: int, workdir: Path) -> dict[str, Any]:
    """Time each step of the batch API path in-process on SQLite; cProfile one more batch."""
    import sitcen.store.events as store_events
    from sitcen.api.main import create_app
    from sitcen.api.routes import events as route
    from sitcen.events import EventBatch
    from sitcen.node import Node

    url = sqlite_url(workdir, "profile.db")
    node = Node.open(settings_for(url, workdir))
    # create_app may tune the process (the garbage collector): do as the server does.
    create_app(node)
    gc_s = [0.0]
    gc_start = [0.0]

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_s[0] += time.perf_counter() - gc_start[0]

    gc.callbacks.append(on_gc)
    engine = node.engine
    runs: list[dict[str, float]] = []
    per_call = wrapper_overhead_s()
    originals = {name: getattr(store_events, name) for name in INNER_STAGES
                 if hasattr(store_events, name)}
    original_assign = type(node.sections).assign
    for k in range(repeats + 1):
        body = bodies[k % len(bodies)]
        timer = StageTimer()
        sql_s = [0.0]
        commit_s = [0.0]
        start: dict[str, float] = {}

        def before(*_a: Any, _start: dict[str, float] = start) -> None:
            _start["t"] = time.perf_counter()

        def after(*_a: Any, _start: dict[str, float] = start, _sql: list[float] = sql_s) -> None:
            _sql[0] += time.perf_counter() - _start["t"]

        dialect = engine.dialect
        real_commit = type(dialect).do_commit

        def do_commit(conn: Any, _c: list[float] = commit_s, _d: Any = dialect,
                      _real: Callable[..., Any] = real_commit) -> None:
            t0 = time.perf_counter()
            _real(_d, conn)
            _c[0] += time.perf_counter() - t0

        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        dialect.do_commit = do_commit  # type: ignore[method-assign, assignment]
        for name, fn in originals.items():
            setattr(store_events, name, timer.wrap(INNER_STAGES[name], fn))
        type(node.sections).assign = timer.wrap(  # type: ignore[method-assign]
            "sections.assign", original_assign)
        profiler = cProfile.Profile() if k == repeats else None
        gc_s[0] = 0.0
        try:
            if profiler:
                profiler.enable()
            t0 = time.perf_counter()
            # The steps of the batch route (api/routes/events.py), one by one.
            with timer.stage(PARSE):
                batch = EventBatch.model_validate_json(body)
            with timer.stage(STATUS):
                route._check_initial_status(batch.events, True, batch=True)
            with timer.stage("report_events"):
                written = store_events.report_events(engine, node.reporter, batch.events,
                                                     batch=True)
            with timer.stage(ANSWER):
                route.batch_answer(written)
            total = time.perf_counter() - t0
            events_per_batch = len(batch.events)
            if profiler:
                profiler.disable()
        finally:
            for name, fn in originals.items():
                setattr(store_events, name, fn)
            type(node.sections).assign = original_assign  # type: ignore[method-assign]
            del dialect.do_commit
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        del batch, written  # freed at once, as after a request
        s = dict(timer.seconds)
        inner = sum(v for n, v in s.items() if n in INNER_STAGES.values() or
                    n == "sections.assign")
        wr = s.get(INNER_STAGES["write_records"], 0.0)
        s["  of which DB-API execute (SQLite itself)"] = sql_s[0]
        s["  of which commit"] = commit_s[0]
        s["  of which SQLAlchemy + lock"] = wr - sql_s[0] - commit_s[0]
        overhead = timer.calls * per_call
        s["stage-timer overhead (subtracted)"] = overhead
        s["report_events other (uuid4, loops, Record)"] = s["report_events"] - inner - overhead
        s["report_events"] -= overhead
        total -= overhead
        s["garbage collector (inside the stages above)"] = gc_s[0]
        s["total in-process"] = total
        if profiler:
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
            log("cProfile of one batch, by own time:\n" + text.getvalue())
        else:
            runs.append(s)
        log(f"  breakdown run {k + 1}: total {total * 1000:.0f} ms")
    gc.callbacks.remove(on_gc)
    engine.dispose()
    names = list(runs[0])
    stages = {n: round(median([r.get(n, 0.0) for r in runs]) * 1000, 1) for n in names}
    return {"events_per_batch": events_per_batch, "median_ms": stages}


def print_breakdown(b: dict[str, Any]) -> None:
    total = b["median_ms"]["total in-process"]
    lines = [f"Where a {b['events_per_batch']:,}-event batch spends its time (SQLite, in-process, "
             "median ms):"]
    order = [PARSE, STATUS, "report_events", *INNER_STAGES.values(),
             "  of which DB-API execute (SQLite itself)", "  of which commit",
             "  of which SQLAlchemy + lock", "sections.assign",
             "report_events other (uuid4, loops, Record)", ANSWER,
             "garbage collector (inside the stages above)", "stage-timer overhead (subtracted)",
             "total in-process"]
    for name in order:
        if name in b["median_ms"]:
            ms = b["median_ms"][name]
            indent = "    " if name in INNER_STAGES.values() or name in (
                "sections.assign", "report_events other (uuid4, loops, Record)") else ""
            lines.append(f"  {indent}{name:<60} {ms:8.1f}  {100 * ms / total:5.1f}%")
    log("\n".join(lines))


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000, help="events timed per backend")
    parser.add_argument("--batch", type=int, default=10_000, help="events per request (max 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="clients sending batches at the same time (1: one after the other)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes (sitcen serve --workers)")
    parser.add_argument("--profile-repeats", type=int, default=3,
                        help="in-process breakdown runs on SQLite (0 to skip)")
    args = parse_args(parser, argv, smoke={"events": 2_000, "batch": 1_000,
                                           "profile_repeats": 1})
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    log(f"generating {args.events + WARMUP_EVENTS:,} scenario events (seed {args.seed})")
    payloads = scenario_payloads(args.events + WARMUP_EVENTS, args.seed)
    warmup = serialise(payloads[:WARMUP_EVENTS], WARMUP_EVENTS)[0]
    bodies = serialise(payloads[WARMUP_EVENTS:], args.batch)
    # Keep only the bytes: millions of live payload objects would slow every
    # garbage collection of the in-process breakdown below.
    del payloads
    gc.collect()
    log(f"{len(bodies)} request bodies, {sum(map(len, bodies)) / 1e6:.1f} MB of JSON")

    result: dict[str, Any] = {}
    with temp_dir() as workdir:
        if "sqlite" in backends:
            result["sqlite"] = run_backend("sqlite", sqlite_url(workdir, "api.db"),
                                           sqlite_url(workdir, "raw.db"), workdir, bodies, warmup,
                                           args.concurrency, args.workers)
        if "postgresql" in backends and postgres_installed():
            with postgres() as pg:
                result["postgresql"] = run_backend(
                    "postgresql", pg.new_database("api"), pg.new_database("raw"), workdir,
                    bodies, warmup, args.concurrency, args.workers)
                result["postgresql"]["server_settings"] = describe_pg(pg)
        if args.profile_repeats > 0 and "sqlite" in backends:
            log("in-process breakdown of the API path on SQLite")
            b = breakdown(bodies, args.profile_repeats, workdir)
            print_breakdown(b)
            result["sqlite"]["breakdown_ms"] = b["median_ms"]
    emit(result)


if __name__ == "__main__":
    main()
