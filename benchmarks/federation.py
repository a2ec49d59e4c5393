"""Federation: end-to-end latency along a chain of real nodes, then catch-up after a partition.

Four ``sitcen serve`` processes on loopback, each with its own database (a
SQLite file, or with ``--database postgresql`` a database of one throwaway
PostgreSQL server) and key pair, the scheduled risk analysis off (it measures
the federation alone): post → regional centre → national centre → partner
centre (the last link under a written peer agreement). Their keys, users,
links and agreement are set up through the same library calls as ``sitcen
init``, ``sitcen user add``, ``sitcen peer add`` and ``sitcen agreement add``.

1. **Latency**: RATE events/s offered to the post for SECONDS s, in batches
   every 50 ms; per event, the time from its journal entry at the post to its
   journal entry at the partner (one machine clock). Lost and duplicated
   records are counted at the partner.
2. **Catch-up**: the partner is killed (-9), BACKLOG more events are reported
   at the post; once the national centre holds them the partner restarts, and
   the catch-up rate is the records it received over the time from the first
   to the last of them (both times from its journal); the time from the
   restart to the first record (the sender's reconnection and backoff) is
   reported apart.
3. ``cpu_s``: CPU seconds of each node process during each phase, read from
   ``/proc``: where the machine's time went.
4. ``stages_us_per_record`` (unless ``--breakdown-records 0``): the same chain
   in-process on SQLite, each stage of the path timed per record: parse and
   validate the report, place it on a section, write it with its journal
   entry; read the journal and share; sign; open (parse, verify the signature),
   check the records; apply them with their journal entries; bookkeeping
   (replay guard, cursors). Once with batches as phase 1 sends them and once
   with catch-up batches (5,000).

    python benchmarks/federation.py [--rate 2000] [--seconds 30] [--backlog 100000]
                                    [--database sqlite|postgresql] [--breakdown-records N]
                                    [--smoke]

Last stdout line: ``{"events_per_s", "p50_ms", "p99_ms", "lost", "duplicated",
"catchup_per_s", "first_after_restart_s", "cpu_s", "stages_us_per_record", ...}``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from _common import (
    ROOT,
    START_TIMEOUT_S,
    StageTimer,
    cpu_seconds,
    describe_pg,
    emit,
    log,
    parse_args,
    postgres,
    settings_for,
)

from sitcen.testing import NodeProcess, wait_until

sys.path.insert(0, str(ROOT / "tests"))
from conftest import report
from federation_nodes import CHAIN, CHAIN_LINKS

AGREEMENT = """\
id: tj-ncc-to-kg-ncc
version: 1
from_node: tj-ncc
to_node: kg-ncc
direction: peer
kinds: [event]
events:
  categories: [unauthorised_crossing, cross_border_crime, crisis, other]
fields: [location, section_id, status, impact_level, details, persons]
location_precision: exact
personal_data: counts_only
handling_ceiling: RED
delay: none
onward_sharing: false
"""

USER, PASSWORD = "bench-op", "bench-password-1"
TICK_S = 0.05
CATCHUP_BATCH = 5_000  # records a federation batch carries at most (exchange/outbox.py)


@dataclass
class ChainNode(NodeProcess):
    """One node of the chain, and a reader of its journal over the API."""

    headers: dict[str, str] = field(default_factory=dict, init=False)
    entries: list[dict[str, Any]] = field(default_factory=list, init=False)
    cursor: int = field(default=0, init=False)

    def start(self, timeout_s: float = START_TIMEOUT_S) -> ChainNode:
        """Serve, and log in as the benchmark's operator."""
        super().start(timeout_s)
        token = httpx.post(f"{self.url}/api/v1/auth/login",
                           json={"username": USER, "password": PASSWORD}, timeout=60).json()
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}
        return self

    def cpu(self) -> float:
        """CPU seconds of the serving process so far (0 when not running)."""
        return sum(cpu_seconds(self.process.pid).values()) if self.process else 0.0

    def journal(self, client: httpx.Client, max_pages: int | None = None
                ) -> list[dict[str, Any]]:
        """Every event entry of the node's journal so far (read incrementally from a cursor).

        With ``max_pages`` it returns after that many pages even when more are
        coming, so a poll sees a catch-up in progress instead of waiting it out.
        """
        pages = 0
        while max_pages is None or pages < max_pages:
            pages += 1
            page = client.get(f"{self.url}/api/v1/journal?after={self.cursor}&limit=5000"
                              "&kind=event", headers=self.headers).json()
            if not page["entries"]:
                break
            self.entries += [{k: e[k] for k in ("record_id", "recorded_at")}
                             for e in page["entries"]]
            self.cursor = page["last_seq"]
        return self.entries

    def count(self, client: httpx.Client) -> int:
        """How many event entries its journal holds (reading at most two pages more)."""
        return len(self.journal(client, max_pages=2))


def prepare(root: Path, database_urls: Sequence[str]) -> dict[str, ChainNode]:
    """Keys, databases, users, links and the partner agreement of the four nodes."""
    from sitcen.exchange.identity import init_identity
    from sitcen.exchange.links import add_agreement, add_peer
    from sitcen.store.engine import open_engine
    from sitcen.store.users import add_user
    from sitcen.users import Role

    nodes: dict[str, ChainNode] = {}
    keys: dict[str, str] = {}
    for name, url in zip(CHAIN, database_urls, strict=True):
        node = ChainNode(name, url, root / name, country=name[:2].upper(),
                         env={"SITCEN_ANALYSIS_INTERVAL_MIN": "0"},
                         log_path=root / f"{name}.log")
        settings = settings_for(url, node.data_dir).model_copy(
            update={"node_id": name, "node_country": node.country})
        keys[name] = init_identity(settings.identity_dir, name).public_key_text
        engine = open_engine(url)
        add_user(engine, USER, PASSWORD, Role.admin, "Benchmark operator")
        engine.dispose()
        nodes[name] = node
    for name, other, relation in CHAIN_LINKS:
        engine = open_engine(nodes[name].database_url)
        add_peer(engine, other, url=nodes[other].url, public_key=keys[other],
                 relation=relation, own_node_id=name)
        if (name, other) == ("tj-ncc", "kg-ncc"):
            add_agreement(engine, AGREEMENT, own_node_id=name, source="agreement.yaml")
        engine.dispose()
    return nodes


def latency(post: ChainNode, partner: ChainNode, client: httpx.Client, rate: int,
            seconds: float) -> dict[str, Any]:
    """Phase 1: offer ``rate`` events/s for ``seconds``; latency post -> partner, losses."""
    per_tick = max(1, round(rate * TICK_S))
    body = orjson.dumps({"events": [report() for _ in range(per_tick)]})
    log(f"phase 1: {rate} events/s offered for {seconds:g} s ({per_tick} every "
        f"{TICK_S * 1000:.0f} ms) along post -> regional -> national -> partner")
    sent = 0
    headers = {**post.headers, "Content-Type": "application/json"}
    t0 = time.monotonic()
    next_at = t0
    while time.monotonic() - t0 < seconds:
        response = client.post(f"{post.url}/api/v1/events/batch", content=body, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"post refused a batch: {response.text[:300]}")
        sent += per_tick
        next_at += TICK_S
        time.sleep(max(0.0, next_at - time.monotonic()))
    offered_s = time.monotonic() - t0
    log(f"  sent {sent} in {offered_s:.1f} s ({sent / offered_s:.0f}/s); waiting for the partner")
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: partner.count(client) >= sent, timeout_s=120, interval_s=0.5,
                   what="the partner holding every event")
    at_post = {e["record_id"]: e["recorded_at"] for e in post.journal(client)}
    arrived = partner.journal(client)
    ids = [e["record_id"] for e in arrived]
    ms = sorted((e["recorded_at"] - at_post[e["record_id"]]) / 1000
                for e in arrived if e["record_id"] in at_post)
    p50 = statistics.median(ms) if ms else None
    p99 = ms[int(0.99 * (len(ms) - 1))] if ms else None
    lost = len(set(at_post) - set(ids))
    duplicated = len(ids) - len(set(ids))
    log(f"  delivered {len(set(ids))}, lost {lost}, duplicated {duplicated}, p50 {p50} ms, "
        f"p99 {p99} ms")
    return {"events_per_s": round(sent / offered_s), "sent": sent,
            "p50_ms": round(p50, 1) if p50 is not None else None,
            "p99_ms": round(p99, 1) if p99 is not None else None,
            "lost": lost, "duplicated": duplicated}


def catch_up(post: ChainNode, national: ChainNode, partner: ChainNode, client: httpx.Client,
             backlog: int, held: int) -> dict[str, Any]:
    """Phase 2: the partner cut off while ``backlog`` events are reported, then restarted."""
    log(f"phase 2: partner cut off (kill -9), {backlog} more events")
    partner.kill9()
    size = min(backlog, 10_000)
    body = orjson.dumps({"events": [report() for _ in range(size)]})
    headers = {**post.headers, "Content-Type": "application/json"}
    reported = 0
    while reported < backlog:
        response = client.post(f"{post.url}/api/v1/events/batch", content=body, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"post refused a batch: {response.text[:300]}")
        reported += size
    total = held + reported
    t0 = time.monotonic()
    wait_until(lambda: national.count(client) >= total, timeout_s=900, interval_s=0.5,
               what="the national centre holding the backlog")
    log(f"  national centre holds {total} after {time.monotonic() - t0:.0f} s; restarting the "
        "partner")
    before = len(partner.entries)
    cpu_national = national.cpu()
    partner.start()
    restarted_at = time.time()  # serving again; the sender's backoff and reconnection follow
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: partner.count(client) >= total, timeout_s=900, interval_s=0.5,
                   what="the partner catching up")
    cpu = {"national": round(national.cpu() - cpu_national, 1),
           "partner": round(partner.cpu(), 1)}
    final = partner.journal(client)
    new = final[before:]
    ids = [e["record_id"] for e in final]
    # The window from the first to the last record received, both on the partner's clock
    # (its journal), so polling does not blur it.
    span_s = (new[-1]["recorded_at"] - new[0]["recorded_at"]) / 1e6 if len(new) > 1 else None
    first_s = new[0]["recorded_at"] / 1e6 - restarted_at if new else None
    log(f"  partner caught up {len(new)} records in {span_s} s (first after {first_s} s)")
    return {"catchup_per_s": round(len(new) / span_s) if span_s else None,
            "caught_up": len(new), "backlog": backlog,
            "first_after_restart_s": round(first_s, 1) if first_s is not None else None,
            "lost_after_partition": total - len(set(ids)),
            "duplicated_after_partition": len(ids) - len(set(ids)), "cpu_s": cpu}


def run_chain(args: argparse.Namespace, root: Path, database_urls: Sequence[str]
              ) -> dict[str, Any]:
    """Both phases on four served nodes; the result without the in-process breakdown."""
    nodes = prepare(root, database_urls)
    post, _, national, partner = (nodes[n] for n in CHAIN)
    try:
        for node in nodes.values():
            node.start()
        with httpx.Client(timeout=120) as client:
            before = {n: node.cpu() for n, node in nodes.items()}
            phase1 = latency(post, partner, client, args.rate, args.seconds)
            phase1_cpu = {n: round(node.cpu() - before[n], 1) for n, node in nodes.items()}
            phase2 = catch_up(post, national, partner, client, args.backlog, phase1["sent"])
    finally:
        for node in nodes.values():
            node.stop()
    return {
        "events_per_s": phase1["events_per_s"], "p50_ms": phase1["p50_ms"],
        "p99_ms": phase1["p99_ms"],
        "lost": phase1["lost"] + phase2["lost_after_partition"],
        "duplicated": phase1["duplicated"] + phase2["duplicated_after_partition"],
        "catchup_per_s": phase2["catchup_per_s"], "backlog": args.backlog,
        "first_after_restart_s": phase2["first_after_restart_s"], "hops": 3,
        "cpu_s": {"phase1": phase1_cpu, "catch_up": phase2["cpu_s"]},
    }


# ----------------------------------------------------------------------------- stages


# (module, function) timed as a stage of the chain, in-process; the rest of a
# step's time is its "other".
STAGES: dict[str, tuple[str, str]] = {
    "check rules": ("sitcen.store.events", "check_report"),
    "place on section": ("sitcen.geo", "SectionIndex.assign"),
    "event body": ("sitcen.store.events", "_body"),
    "write + journal (own)": ("sitcen.store.events", "write_records"),
    "read journal + rows": ("sitcen.exchange.outbox", "_Page.__init__"),
    "share": ("sitcen.exchange.outbox", "share"),
    "open (parse + verify)": ("sitcen.exchange.inbox", "open_envelope"),
    "check records": ("sitcen.exchange.inbox", "_records"),
    "apply + journal": ("sitcen.exchange.inbox", "apply_records"),
    "replay guard": ("sitcen.exchange.inbox", "StoredReplayGuard.check_and_remember"),
}


@contextlib.contextmanager
def timed_stages(timer: StageTimer) -> Iterator[None]:
    """Wrap each function of :data:`STAGES` in place with the timer, and unwrap afterwards."""
    import importlib

    undo: list[Callable[[], None]] = []
    for name, (module_name, attribute) in STAGES.items():
        owner: Any = importlib.import_module(module_name)
        *path, leaf = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = owner.__dict__[leaf] if isinstance(owner, type) else getattr(owner, leaf)
        setattr(owner, leaf, timer.wrap(name, original))
        undo.append(functools.partial(setattr, owner, leaf, original))
    try:
        yield
    finally:
        for restore in reversed(undo):
            restore()


def stage_breakdown(batch_size: int, batches: int, root: Path) -> dict[str, float]:
    """Microseconds per record and hop of each stage, for one batch size (SQLite, in-process).

    Records are reported at the post in batches of ``batch_size`` and pushed
    hop by hop in batches of the same size, as in phase 1 (or catch-up).
    """
    from sitcen.api.main import create_app
    from sitcen.events import EventBatch
    from sitcen.exchange.envelope import seal
    from sitcen.exchange.identity import NodeIdentity
    from sitcen.exchange.inbox import StoredReplayGuard, receive
    from sitcen.exchange.links import add_agreement, add_peer, governing, list_peers
    from sitcen.exchange.outbox import next_batch
    from sitcen.exchange.sharing import section_infos
    from sitcen.node import Node
    from sitcen.store.events import report_events

    nodes: dict[str, Node] = {}
    ids: dict[str, NodeIdentity] = {}
    for name in CHAIN:
        settings = settings_for(f"sqlite:///{root / name}.db", root / name).model_copy(
            update={"node_id": name, "node_country": name[:2].upper()})
        nodes[name] = Node.open(settings)
        ids[name] = NodeIdentity.generate(name)
    create_app(nodes[CHAIN[0]])  # tunes the process (garbage collector) as a server does
    for name, other, relation in CHAIN_LINKS:
        add_peer(nodes[name].engine, other, url="http://127.0.0.1:9", own_node_id=name,
                 public_key=ids[other].public_key_text, relation=relation)
    add_agreement(nodes["tj-ncc"].engine, AGREEMENT, own_node_id="tj-ncc")
    body = orjson.dumps({"events": [report() for _ in range(batch_size)]})
    timer = StageTimer()
    t_all = time.perf_counter()
    with timed_stages(timer):
        post = nodes[CHAIN[0]]
        for _ in range(batches):
            with timer.stage("parse + validate report"):
                items = EventBatch.model_validate_json(body).events
            report_events(post.engine, post.reporter, items, batch=True)
        for sender, receiver in itertools.pairwise(CHAIN):
            a, b = nodes[sender], nodes[receiver]
            peer = next(p for p in list_peers(a.engine) if p.node_id == receiver)
            agreement = governing(a.engine, sender, peer)
            sections = section_infos(a.sections.sections)
            guard = StoredReplayGuard(b.engine)
            while True:
                with timer.stage("outbox other"):
                    batch = next_batch(a.engine, sender, peer, agreement, now=datetime.now(UTC),
                                       sections=sections, limit=batch_size)
                if batch is None:
                    break
                with timer.stage("sign (encode + Ed25519)"):
                    data = seal(batch, ids[sender])
                with timer.stage("receive other"):
                    receive(b.engine, receiver, data, guard=guard, now=datetime.now(UTC))
                peer = replace(peer, acked_seq=batch.header.last_seq)
    wall = time.perf_counter() - t_all
    for node in nodes.values():
        node.engine.dispose()
    records = batch_size * batches
    hops = len(CHAIN) - 1
    s = dict(timer.seconds)
    # Nested stages: the timed inner ones come out of their step's "other".
    s["outbox other"] -= s.get("read journal + rows", 0.0) + s.get("share", 0.0)
    s["receive other"] -= sum(s.get(k, 0.0) for k in (
        "open (parse + verify)", "check records", "apply + journal", "replay guard"))
    s["receive other"] = max(0.0, s["receive other"])
    per_record = {k: round(v / records * 1e6, 1) for k, v in s.items()}
    # The post's stages happen once per record, the others once per hop: per record and hop.
    out = {k: (v if k in _POST_STAGES else round(v / hops, 1)) for k, v in per_record.items()}
    out["total per record, all hops"] = round(wall / records * 1e6, 1)
    return out


_POST_STAGES = {"parse + validate report", "check rules", "place on section", "event body",
                "write + journal (own)"}


def breakdown(per_tick: int, records: int, root: Path) -> dict[str, dict[str, float]]:
    """The stage breakdown for phase-1-sized batches and for catch-up-sized ones, about
    ``records`` records each."""
    out = {}
    catch_up = min(CATCHUP_BATCH, records)
    for label, size, count in (("phase1_batches", per_tick, max(2, records // per_tick)),
                               ("catch_up_batches", catch_up, max(2, records // catch_up))):
        log(f"in-process stage breakdown: {count} batches of {size}")
        directory = root / f"stages-{label}"
        directory.mkdir()
        out[label] = stage_breakdown(size, count, directory)
        log("  " + ", ".join(f"{k} {v}" for k, v in out[label].items()))
    return out


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=int, default=2000, help="events per second offered")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="each node on its own SQLite file, or on its own database of "
                             "one throwaway PostgreSQL server")
    parser.add_argument("--breakdown-records", type=int, default=10_000,
                        help="records through the in-process stage breakdown (0 to skip)")
    args = parse_args(parser, argv, smoke={"rate": 200, "seconds": 2.0, "backlog": 400,
                                           "breakdown_records": 100})

    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sitcen-fed-bench-")))
        if args.database == "postgresql":
            cluster = stack.enter_context(postgres())
            urls = [cluster.new_database("fed") for _ in CHAIN]
        else:
            urls = [f"sqlite:///{root / name}.db" for name in CHAIN]
        result = run_chain(args, root, urls)
        result["database"] = args.database
        if args.database == "postgresql":
            result["server_settings"] = describe_pg(cluster)
        if args.breakdown_records > 0:
            per_tick = max(1, round(args.rate * TICK_S))
            result["stages_us_per_record"] = breakdown(per_tick, args.breakdown_records, root)
    emit(result)


if __name__ == "__main__":
    main()
