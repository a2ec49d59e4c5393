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

4. Device to device, against a plain TAK router on the same machine with the
   same load generator: ``--clients`` senders (one TCP connection each, the
   same pytak ``TXWorker``) and one subscriber (a plain TCP reader) connect to
   the node's TAK listener, then to the peer, `taky <https://pypi.org/project/taky/>`_
   (its in-memory COT router, default settings, SSL off, run from its own
   virtual environment: it pins Flask 2, the dev install needs Flask 3;
   ``make bench`` builds it as ``.venv-taky``). Every position carries its
   sequence number in its remarks; the subscriber notes when each arrives.
   ``route_p50_ms_at_N``/``route_p99_ms_at_N`` (and ``peer_…``) at 1,000 and
   4,000 positions/s; ``max_paced_per_s`` (``peer_…``) is the highest rate of
   the ladder ``--route-ladder`` that is kept up with: the senders got it out,
   the subscriber received at least 99 % of it, and p99 stayed under 1 s.
   sitcen stores every position meanwhile: ``route_stored_fraction_at_4000`` is
   the share of the positions sent at 4,000/s that the journal holds.

Goals (issue 6): messages_per_s >= 5,000 sustained; position to stream < 1 s.
Goals (issue 18): device-to-device p99 < 50 ms at 4,000/s while storing every
position, and a higher sustained rate than the peer.

    python benchmarks/cot.py [--clients 4] [--units 200] [--seconds 20] [--rate 5000] [--smoke]

Last stdout line: ``{"messages_per_s": ..., "position_to_stream_ms": ...,
"route_p99_ms_at_4000": ..., "peer_route_p99_ms_at_4000": ..., "max_paced_per_s": ...,
"peer_max_paced_per_s": ..., ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import socket
import sqlite3
import subprocess
import time
import warnings
from collections.abc import Callable
from configparser import ConfigParser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from _common import ROOT, api_server, emit, log, median, parse_args, percentile, temp_dir

from sitcen.interop.cot import event_xml, parse_xml
from sitcen.testing import free_port, wait_until

with warnings.catch_warnings():  # pytak warns that its optional aiohttp extra is missing
    warnings.simplefilter("ignore")
    import pytak

PROBE_EVERY_S = 0.2
#: The peer router's command (its own virtual environment; SITCEN_BENCH_TAKY overrides).
TAKY = Path(os.environ.get("SITCEN_BENCH_TAKY") or ROOT / ".venv-taky" / "bin" / "taky")
#: The rates at which latency is reported, and what "keeps up" means at a rate.
ROUTE_RATES = (1000, 4000)
KEEP_UP_DELIVERED = 0.99
KEEP_UP_P99_MS = 1000.0
#: How long the subscriber waits for the last positions after the senders stop.
ROUTE_GRACE_S = 2.0
#: How long the store may go without writing a routed position before it is given up on.
STORE_STALL_S = 10.0
#: Sequence numbers of one paced run start here times its index: what a router still
#: delivers of an earlier run is never taken for this one's.
SEQ_PER_STEP = 100_000_000
_SEQ = re.compile(rb"<remarks>s(\d+)</remarks>")


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


# --------------------------------------------------------------------------- device to device


def route_templates(client: int, units: int, token: str | None) -> list[bytes]:
    """One position per unit with a placeholder for its sequence number (in its remarks)."""
    now = datetime.now(UTC)
    return [event_xml(f"route-{client}-{unit}", "a-f-G-U-C", 37.0 + unit / 1000,
                      68.0 + client / 100, time=now, stale=now + timedelta(minutes=10),
                      callsign=f"Дозор {client}-{unit}", ce=10.0, remarks="s##########",
                      token=token) for unit in range(units)]


async def _route_sender(url: str, templates: list[bytes], first: bytes | None, rate: float,
                        seconds: float, base: int, stride: int,
                        sent_at: dict[int, float]) -> None:
    """One sender: ``rate`` positions per second, numbered ``base``, ``base + stride``…"""
    config = ConfigParser()
    config["c"] = {"COT_URL": url}
    _reader, writer = await pytak.protocol_factory(config["c"])
    tx = pytak.TXWorker(asyncio.Queue(), config["c"], writer)
    if first is not None:
        await tx.send_data(first)  # authenticates the connection (sitcen)
    i = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate)
        if i >= due:
            await asyncio.sleep(0.002)
            continue
        seq = base + i * stride
        data = templates[i % len(templates)].replace(b"s##########", b"s%010d" % seq)
        sent_at[seq] = time.perf_counter()
        await tx.send_data(data)
        i += 1
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def _subscriber(host: str, port: int, hello: bytes | None, connected: asyncio.Event,
                      arrived: dict[int, float], stop: asyncio.Event) -> None:
    """The device that listens: notes when each numbered position arrives."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
    if hello is not None:
        writer.write(hello)
        await writer.drain()
    connected.set()
    tail = b""
    while not stop.is_set():
        try:
            data = await asyncio.wait_for(reader.read(1 << 20), 0.1)
        except TimeoutError:
            continue
        if not data:
            break
        now = time.perf_counter()
        tail += data
        cut = tail.rfind(b"</event>")
        if cut < 0:
            continue
        for match in _SEQ.finditer(tail, 0, cut):
            arrived.setdefault(int(match.group(1)), now)
        tail = tail[cut:]
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def route_step(host: str, port: int, token: str | None, clients: int, units: int,
                     rate: float, seconds: float, warmup: float,
                     first_seq: int = 0) -> dict[str, Any]:
    """One paced run: ``clients`` senders at ``rate`` in all, one subscriber; the first
    ``warmup`` seconds are not measured."""
    url = f"tcp://{host}:{port}"
    sent_at: dict[int, float] = {}
    arrived: dict[int, float] = {}
    connected, stop = asyncio.Event(), asyncio.Event()
    hello = None
    if token is not None:  # a ping with the token authenticates the subscriber
        now = datetime.now(UTC)
        hello = event_xml("route-subscriber", "t-x-c-t", 0.0, 0.0, time=now,
                          stale=now + timedelta(minutes=1), token=token)
    listener = asyncio.create_task(_subscriber(host, port, hello, connected, arrived, stop))
    await connected.wait()
    senders = [asyncio.create_task(_route_sender(
        url, route_templates(c, units, None), route_templates(c, 1, token)[0]
        if token is not None else None, rate / clients, warmup + seconds, first_seq + c,
        clients, sent_at)) for c in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*senders)
    window = time.perf_counter() - started - warmup
    end = time.perf_counter() + ROUTE_GRACE_S
    while time.perf_counter() < end and len(arrived) < len(sent_at):
        await asyncio.sleep(0.05)
    stop.set()
    await listener
    measured = {seq: at for seq, at in sent_at.items() if at - started >= warmup}
    delays = [(arrived[seq] - at) * 1000 for seq, at in measured.items() if seq in arrived]
    return {"offered_per_s": rate, "sent_per_s": len(measured) / max(window, 1e-9),
            "sent": len(sent_at), "measured": len(measured), "delivered": len(delays),
            "p50_ms": median(delays) if delays else None,
            "p99_ms": percentile(delays, 99) if delays else None}


def kept_up(step: dict[str, Any]) -> bool:
    """Whether a paced run was kept up with (see the module's docstring)."""
    return bool(step["measured"] and step["sent_per_s"] >= 0.95 * step["offered_per_s"]
                and step["delivered"] >= KEEP_UP_DELIVERED * step["measured"]
                and step["p99_ms"] is not None and step["p99_ms"] < KEEP_UP_P99_MS)


def _wait_stored(stored: Callable[[], int], goal: int) -> None:
    """Wait until ``goal`` positions are stored, or the count stops growing for 10 s."""
    last, since = stored(), time.monotonic()
    while last < goal and time.monotonic() - since < STORE_STALL_S:
        time.sleep(0.2)
        now = stored()
        if now > last:
            last, since = now, time.monotonic()


def route_ladder(name: str, host: str, port: int, token: str | None, args: argparse.Namespace,
                 stored: Callable[[], int] | None = None) -> dict[str, Any]:
    """Latency at the report rates, then the ladder up to the first rate not kept up with."""
    out: dict[str, Any] = {}
    steps: dict[float, dict[str, Any]] = {}
    ladder = sorted({*ROUTE_RATES, *args.route_ladder})
    best = None
    for rate in ladder:
        before = stored() if stored is not None else 0
        step = asyncio.run(route_step(host, port, token, args.clients, args.units, rate,
                                      args.route_seconds, args.route_warmup,
                                      first_seq=len(steps) * SEQ_PER_STEP))
        if stored is not None:
            _wait_stored(stored, before + step["sent"])
            step["stored"] = stored() - before
        steps[rate] = step
        ok = kept_up(step)
        log(f"  {name} at {rate:,.0f}/s: sent {step['sent_per_s']:,.0f}/s, delivered "
            f"{step['delivered']}/{step['measured']}, p50 {step['p50_ms'] or 0:.1f} ms, "
            f"p99 {step['p99_ms'] or 0:.1f} ms{'' if ok else ' (not kept up)'}"
            + (f", stored {step['stored']}/{step['sent']}" if stored is not None else ""))
        if ok:
            best = rate
        elif rate > max(ROUTE_RATES):
            break
    for rate in ROUTE_RATES:
        out[f"p50_ms_at_{rate}"] = _ms(steps[rate]["p50_ms"])
        out[f"p99_ms_at_{rate}"] = _ms(steps[rate]["p99_ms"])
    out["max_paced_per_s"] = best
    out["stored_fraction_at_4000"] = (round(steps[4000]["stored"] / steps[4000]["sent"], 4)
                                      if stored is not None and steps[4000]["sent"] else None)
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@contextlib.contextmanager
def taky_router(data_dir: Path) -> Any:
    """The peer: taky's COT server with its defaults (SSL off) on a free port, or None."""
    if not TAKY.exists():
        log(f"peer router not installed ({TAKY}): `make .venv-taky` installs taky; "
            "peer figures left out")
        yield None
        return
    port = free_port()
    config = data_dir / "taky.conf"
    config.write_text(f"[taky]\nbind_ip=127.0.0.1\n[cot_server]\nport={port}\n"
                      "[ssl]\nenabled=false\n")
    with open(data_dir / "taky.log", "wb") as out:
        process = subprocess.Popen([str(TAKY), "-c", str(config), "-l", "warning"],
                                   cwd=data_dir, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _listening(port), timeout_s=60, interval_s=0.1,
                   what="taky listening")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                 timeout=0.5):
        return True
    return False


def _rates(text: str) -> tuple[float, ...]:
    return tuple(float(r) for r in text.split(",") if r.strip())


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
    parser.add_argument("--route-seconds", type=float, default=8.0,
                        help="measured seconds of each device-to-device run")
    parser.add_argument("--route-warmup", type=float, default=2.0,
                        help="seconds each device-to-device run goes before it is measured")
    parser.add_argument("--route-ladder", type=_rates,
                        default=_rates("2000,6000,8000,10000,12000,16000,20000"),
                        help="paced rates (comma-separated) tried for the highest kept up")
    args = parse_args(parser, argv, smoke={"clients": 1, "units": 5, "seconds": 1.0,
                                           "warmup": 0.5, "rate": 200.0,
                                           "baseline_seconds": 0.2, "route_seconds": 1.0,
                                           "route_warmup": 0.3, "route_ladder": ()})

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
            # First, on an empty node: what the later phases leave queued in sockets would
            # still be read and stored while these runs go on.
            log(f"1. device to device through sitcen: {args.clients} senders, 1 subscriber")
            route = route_ladder("sitcen", "127.0.0.1", tak_port, token, args,
                                 stored=lambda: journal_count(db))
            manager = multiprocessing.Manager()
            ready, stop, arrived = manager.Event(), manager.Event(), manager.dict()
            watcher = multiprocessing.Process(target=watch_stream,
                                              args=(server.url, token, ready, stop, arrived))
            watcher.start()
            ready.wait(30)
            log(f"2. latency at {args.rate:,.0f} positions/s: {args.clients} pytak clients x "
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
            log(f"3. throughput: {args.clients} pytak clients as fast as the listener takes them")
            flat_out = asyncio.run(load(tak_url, token, args.clients, args.units, args.seconds,
                                        args.warmup, db, None))
        log("4. device to device through the peer router (taky, defaults, SSL off)")
        with taky_router(data_dir) as peer_port:
            peer = (route_ladder("taky", "127.0.0.1", peer_port, None, args)
                    if peer_port is not None else None)

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
        **{f"route_{k}": v for k, v in route.items() if k != "max_paced_per_s"},
        "max_paced_per_s": route["max_paced_per_s"],
        **{f"peer_route_{k}": (peer or {}).get(k) for k in route
           if k not in ("max_paced_per_s", "stored_fraction_at_4000")},
        "peer_max_paced_per_s": (peer or {}).get("max_paced_per_s"),
        "peer": "taky" if peer is not None else None,
        "clients": args.clients, "units_per_client": args.units,
        "seconds": args.seconds, "backend": "sqlite",
        "goal_messages_per_s": 5000, "goal_position_to_stream_ms": 1000,
        "goal_route_p99_ms_at_4000": 50,
    })


if __name__ == "__main__":
    main()
