"""CoT positions per second through a real node's TAK listener, and position-to-stream time.

A real node (``sitcen serve`` in a subprocess, SQLite, its TAK TCP listener
on) receives CoT position reports from ``--clients`` concurrent pytak
clients (pytak ``TXWorker`` over one TCP connection each, authenticated by a
token in their first message), each moving ``--units`` own units, for
``--seconds`` seconds as fast as the listener takes them.

Measured:

1. ``messages_per_s``: positions *accepted*, i.e. written to the store and
   journaled as ``asset_position`` versions (counted in the node's journal),
   per second over the measured window (the load's first ``--warmup`` s, 3 by
   default, are not measured).
   ``sent_per_s`` is what the clients pushed into their sockets meanwhile,
   ``backlog_at_end`` how many sent positions were not yet written when the
   window closed.
2. ``position_to_stream_ms``: a separate pytak client sends a probe unit's
   position every 0.2 s during the load; a reader of ``/api/v1/stream`` (the
   console's live stream, SSE) notes when the frame of that very version
   arrives. Median and p99 over all probes.
3. Baseline, same run and machine: ``baseline_parse_per_s``, the rate at which
   one process parses the same messages with the listener's hardened parser
   alone (no network, no store).

Goals (issue 6): messages_per_s >= 5,000 sustained; position to stream < 1 s.

    python benchmarks/cot.py [--clients 4] [--units 200] [--seconds 20] [--rate 5000] [--smoke]

Last stdout line: ``{"messages_per_s": ..., "position_to_stream_ms": ..., ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import sqlite3
import time
import warnings
from configparser import ConfigParser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from _common import api_server, emit, log, median, parse_args, percentile, temp_dir

from sitcen.interop.cot import event_xml, parse_xml
from sitcen.testing import free_port, wait_until

with warnings.catch_warnings():  # pytak warns that its optional aiohttp extra is missing
    warnings.simplefilter("ignore")
    import pytak

PROBE_EVERY_S = 0.2


def messages(client: int, units: int, count: int, token: str | None = None) -> list[bytes]:
    """Position reports of one client's units, moving a little at each report."""
    now = datetime.now(UTC)
    stale = now + timedelta(minutes=10)
    out = []
    for i in range(count):
        unit = i % units
        out.append(event_xml(f"bench-{client}-{unit}", "a-f-G-U-C",
                             37.0 + unit / 1000, 68.0 + (i // units) / 100_000, time=now,
                             stale=stale, callsign=f"Дозор {client}-{unit}", ce=10.0,
                             token=token if i == 0 else None))
    return out


def baseline_parse_rate(sample: list[bytes], seconds: float) -> float:
    """Messages per second the hardened parser alone gets through (one process)."""
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for data in sample:
            parse_xml(data)
        done += len(sample)
    return done / (time.perf_counter() - start)


def journal_count(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        row = conn.execute("SELECT count(*) FROM journal WHERE kind = 'asset_position'").fetchone()
    return int(row[0])


def watch_stream(base_url: str, token: str, ready: Any, stop: Any, arrived: Any) -> None:
    """Read /api/v1/stream (in a process of its own, as a browser would) and note when each
    probe version arrives (wall-clock time, comparable across processes)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=None) as client, client.stream(
            "GET", base_url + "/api/v1/stream", headers=headers) as response:
        ready.set()
        for line in response.iter_lines():
            if stop.is_set():
                return
            if not line.startswith("data: ") or "probe-" not in line:
                continue
            record = orjson.loads(line[6:]).get("record") or {}
            name = record.get("name", "")
            if name.startswith("probe-") and name not in arrived:
                arrived[name] = time.time()


async def _client(url: str, batch: list[bytes], deadline: float, sent: list[int],
                  index: int, rate: float | None) -> None:
    """One pytak client: as fast as the listener takes them, or ``rate`` per second."""
    config = ConfigParser()
    config["c"] = {"COT_URL": url}
    _reader, writer = await pytak.protocol_factory(config["c"])
    tx = pytak.TXWorker(asyncio.Queue(), config["c"], writer)
    i = 0
    started = time.monotonic()
    while time.monotonic() < deadline:
        if rate is not None:
            due = int((time.monotonic() - started) * rate)
            if i >= due:
                await asyncio.sleep(0.005)
                continue
        await tx.send_data(batch[i % len(batch)])  # the token rides again each round
        i += 1
        sent[index] = i
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def _probe(url: str, token: str, deadline: float, sent_at: dict[str, float]) -> None:
    config = ConfigParser()
    config["p"] = {"COT_URL": url}
    _reader, writer = await pytak.protocol_factory(config["p"])
    tx = pytak.TXWorker(asyncio.Queue(), config["p"], writer)
    n = 0
    while time.monotonic() < deadline:
        name = f"probe-{n}"
        now = datetime.now(UTC)
        data = event_xml("bench-probe", "a-f-G-U-C", 37.5, 68.5 + n / 10_000, time=now,
                         stale=now + timedelta(minutes=5), callsign=name,
                         token=token if n == 0 else None)
        sent_at[name] = time.time()
        await tx.send_data(data)
        n += 1
        await asyncio.sleep(PROBE_EVERY_S)
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def load(tak_url: str, token: str, clients: int, units: int, seconds: float,
               warmup_s: float, db: Path, rate: float | None) -> dict[str, Any]:
    batches = [messages(c, units, units * 20, token) for c in range(clients)]
    sent = [0] * clients
    sent_at: dict[str, float] = {}
    start = time.monotonic()
    deadline = start + warmup_s + seconds
    tasks = [asyncio.create_task(_client(tak_url, batches[c], deadline, sent, c,
                                         None if rate is None else rate / clients))
             for c in range(clients)]
    tasks.append(asyncio.create_task(_probe(tak_url, token, deadline, sent_at)))
    await asyncio.sleep(warmup_s)  # the load runs a while before the window opens
    counted_from = await asyncio.to_thread(journal_count, db)
    sent_from = sum(sent)
    window_start = time.monotonic()
    next_report = window_start + 5
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if time.monotonic() >= next_report:
            written = await asyncio.to_thread(journal_count, db)
            elapsed = time.monotonic() - window_start
            log(f"  {elapsed:4.0f} s: {(written - counted_from) / elapsed:,.0f} positions/s "
                f"written, {(sum(sent) - sent_from) / elapsed:,.0f}/s sent")
            next_report += 5
    window = time.monotonic() - window_start
    written = await asyncio.to_thread(journal_count, db)
    sent_to = sum(sent)
    await asyncio.gather(*tasks)
    return {"written": written - counted_from, "window_s": window,
            "sent": sent_to - sent_from, "sent_total": sent_to + len(sent_at),
            "written_total": written, "sent_at": sent_at}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=4, help="concurrent pytak clients")
    parser.add_argument("--units", type=int, default=200, help="own units per client")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measured duration of each phase")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds each phase's load runs before it is measured")
    parser.add_argument("--rate", type=float, default=5000.0,
                        help="positions/s offered while the stream latency is measured")
    parser.add_argument("--baseline-seconds", type=float, default=3.0,
                        help="how long the parser alone is timed")
    args = parse_args(parser, argv, smoke={"clients": 1, "units": 5, "seconds": 1.0,
                                           "warmup": 0.5, "rate": 200.0,
                                           "baseline_seconds": 0.2})

    sample = messages(0, args.units, 2000)
    log("baseline: hardened parse of the same messages in one process")
    baseline = baseline_parse_rate(sample, args.baseline_seconds)
    log(f"  {baseline:,.0f} messages/s")

    with temp_dir("sitcen-bench-cot-") as data_dir:
        db = data_dir / "node.db"
        tak_port = free_port()
        with api_server(f"sqlite:///{db}", data_dir,
                        env={"SITCEN_TAK_PORT": str(tak_port)}) as server:
            token = server.token
            tak_url = f"tcp://127.0.0.1:{tak_port}"
            log(f"TAK listener on {tak_url}")
            manager = multiprocessing.Manager()
            ready, stop, arrived = manager.Event(), manager.Event(), manager.dict()
            watcher = multiprocessing.Process(target=watch_stream,
                                              args=(server.url, token, ready, stop, arrived))
            watcher.start()
            ready.wait(30)
            log(f"1. latency at {args.rate:,.0f} positions/s: {args.clients} pytak clients x "
                f"{args.units} units, {args.warmup:g} s warm-up + {args.seconds:g} s")
            paced = asyncio.run(load(tak_url, token, args.clients, args.units, args.seconds,
                                     args.warmup, db, args.rate))
            probes = set(paced["sent_at"])
            with contextlib.suppress(TimeoutError):  # a probe never seen counts as lost
                wait_until(lambda: probes <= set(arrived.keys()), timeout_s=10, interval_s=0.1,
                           what="the last probes reaching the stream")
            stop.set()
            watcher.join(timeout=10)
            if watcher.is_alive():
                watcher.terminate()
                watcher.join()
            seen = dict(arrived)
            manager.shutdown()
            log(f"2. throughput: {args.clients} pytak clients as fast as the listener takes them")
            flat_out = asyncio.run(load(tak_url, token, args.clients, args.units, args.seconds,
                                        args.warmup, db, None))

    sent_at: dict[str, float] = paced["sent_at"]
    delays = [(seen[name] - at) * 1000 for name, at in sent_at.items() if name in seen]
    lost = len(sent_at) - len(delays)
    rate = flat_out["written"] / flat_out["window_s"]
    paced_rate = paced["written"] / paced["window_s"]
    log(f"at {args.rate:,.0f}/s offered: {paced_rate:,.0f}/s written, probes {len(delays)} "
        f"seen, {lost} not; stream median {median(delays):.0f} ms, "
        f"p99 {percentile(delays, 99):.0f} ms; flat out: {rate:,.0f} positions/s")
    emit({
        "messages_per_s": round(rate),
        "position_to_stream_ms": round(median(delays), 1),
        "position_to_stream_p99_ms": round(percentile(delays, 99), 1),
        "latency_at_messages_per_s": round(paced_rate),
        "probes": len(sent_at), "probes_not_seen": lost,
        "sent_per_s": round(flat_out["sent"] / flat_out["window_s"]),
        "baseline_parse_per_s": round(baseline),
        "clients": args.clients, "units_per_client": args.units,
        "seconds": args.seconds, "backend": "sqlite",
        "goal_messages_per_s": 5000, "goal_position_to_stream_ms": 1000,
    })


if __name__ == "__main__":
    main()
