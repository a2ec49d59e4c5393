"""Federation: end-to-end latency along a chain of real nodes, then catch-up after a partition.

Four `sitcen serve` processes on loopback, each with its own database (a
SQLite file, or with --database postgresql a database of one throwaway
PostgreSQL server) and key pair, the scheduled risk analysis off (it measures
the federation alone; see docs/benchmarks.md): post → regional centre →
national centre → partner centre (the last link under a written peer
agreement). Phase 1 offers RATE events/s to the post for SECONDS s in batches
every 50 ms and measures, per event, the time from its journal entry at the
post to its journal entry at the partner (same machine clock); lost and
duplicated records are counted at the partner. Phase 2 kills the partner,
reports BACKLOG more events, waits until the national centre holds them,
restarts the partner and measures how fast it catches up (from the first to
the last record arriving; the time to the first one, the sender's
reconnection, is reported apart).

    python benchmarks/federation.py [--rate 2000] [--seconds 30] [--backlog 100000]
                                    [--database sqlite|postgresql]

Last stdout line: {"events_per_s", "p50_ms", "p99_ms", "lost", "duplicated", "catchup_per_s", ...}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import report  # noqa: E402  (the suite's valid report builder)

sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import postgres  # noqa: E402

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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeProcess:
    """One node: `sitcen serve` with its own data dir, SQLite file and key pair."""

    def __init__(self, name: str, root: Path, database_url: str | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = root / name
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
        self.env.update(SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(self.root),
                        SITCEN_NODE_ID=name, SITCEN_NODE_COUNTRY=name[:2].upper(),
                        SITCEN_ANALYSIS_INTERVAL_MIN="0")
        if database_url is not None:
            self.env["SITCEN_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None
        self.entries: list[dict[str, Any]] = []
        self.cursor = 0
        out = self.cli("init")
        self.key = next(line.split()[-1] for line in out.splitlines()
                        if line.startswith("public key"))
        self.cli("user", "add", "op", "--role", "admin", "--password", "bench-password-1")

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "sitcen.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise SystemExit(f"{self.name}: sitcen {' '.join(args)}: {done.stderr}")
        return done.stdout

    def start(self) -> None:
        log_file = (self.root / "serve.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sitcen.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    self.headers = self.login()
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit(f"{self.name} did not start")

    def login(self) -> dict[str, str]:
        token = httpx.post(f"{self.url}/api/v1/auth/login",
                           json={"username": "op", "password": "bench-password-1"}).json()
        return {"Authorization": f"Bearer {token['access_token']}"}

    def kill9(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

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
                return self.entries
            self.entries += [{k: e[k] for k in ("record_id", "recorded_at")}
                             for e in page["entries"]]
            self.cursor = page["last_seq"]
        return self.entries

    def count(self, client: httpx.Client) -> int:
        return len(self.journal(client, max_pages=2))


def link(a: NodeProcess, b: NodeProcess, relation: str) -> None:
    a.cli("peer", "add", b.name, "--url", b.url, "--public-key", b.key, "--relation", relation)


def wait_until(node: NodeProcess, client: httpx.Client, count: int, timeout_s: float) -> float:
    """Seconds until ``node`` holds ``count`` events (or the timeout)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if node.count(client) >= count:
            break
        time.sleep(0.5)
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=int, default=2000, help="events per second offered")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="each node on its own SQLite file, or on its own database of "
                             "one throwaway PostgreSQL server")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="sitcen-fed-bench-"))
        server = stack.enter_context(postgres()) if args.database == "postgresql" else None
        root = Path(tmp)
        post, regional, national, partner = (
            NodeProcess(n, root, server.new_database() if server else None)
            for n in ("tj-panj-post", "tj-kulob-rc", "tj-ncc", "kg-ncc"))
        link(post, regional, "parent")
        link(regional, post, "child")
        link(regional, national, "parent")
        link(national, regional, "child")
        link(national, partner, "peer")
        link(partner, national, "peer")
        (root / "agreement.yaml").write_text(AGREEMENT, encoding="utf-8")
        national.cli("agreement", "add", str(root / "agreement.yaml"))
        nodes = (post, regional, national, partner)
        try:
            for node in nodes:
                node.start()
            result = run(post, national, partner, args)
        finally:
            for node in nodes:
                node.stop()
    print(json.dumps(result))


def run(post: NodeProcess, national: NodeProcess, partner: NodeProcess,
        args: argparse.Namespace) -> dict[str, Any]:
    tick = 0.05
    per_tick = max(1, round(args.rate * tick))
    template = [report() for _ in range(per_tick)]
    body = json.dumps({"events": template}).encode()
    log(f"phase 1: {args.rate} events/s offered for {args.seconds:g} s "
        f"({per_tick} every {tick * 1000:.0f} ms) along post -> regional -> national -> partner")
    sent = 0
    with httpx.Client(timeout=60) as client:
        t0 = time.monotonic()
        next_at = t0
        while time.monotonic() - t0 < args.seconds:
            response = client.post(f"{post.url}/api/v1/events/batch", content=body,
                                   headers={**post.headers, "Content-Type": "application/json"})
            if response.status_code != 201:
                raise SystemExit(f"post refused a batch: {response.text[:300]}")
            sent += per_tick
            next_at += tick
            time.sleep(max(0.0, next_at - time.monotonic()))
        offered_s = time.monotonic() - t0
        log(f"  sent {sent} in {offered_s:.1f} s ({sent / offered_s:.0f}/s); waiting for the "
            "partner")
        wait_until(partner, client, sent, timeout_s=120)
        at_post = {e["record_id"]: e["recorded_at"] for e in post.journal(client)}
        arrived = partner.journal(client)
        ids = [e["record_id"] for e in arrived]
        latencies = sorted((e["recorded_at"] - at_post[e["record_id"]]) / 1000
                           for e in arrived if e["record_id"] in at_post)
        lost = len(set(at_post) - set(ids))
        duplicated = len(ids) - len(set(ids))
        p50 = statistics.median(latencies) if latencies else None
        p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else None
        log(f"  delivered {len(set(ids))}, lost {lost}, duplicated {duplicated}, "
            f"p50 {p50} ms, p99 {p99} ms")

        log(f"phase 2: partner cut off (kill -9), {args.backlog} more events")
        partner.kill9()
        big = json.dumps({"events": [report() for _ in range(min(args.backlog, 10_000))]}).encode()
        reported = 0
        while reported < args.backlog:
            response = client.post(f"{post.url}/api/v1/events/batch", content=big,
                                   headers={**post.headers, "Content-Type": "application/json"})
            if response.status_code != 201:
                raise SystemExit(f"post refused a batch: {response.text[:300]}")
            reported += min(args.backlog, 10_000)
        total = sent + reported
        waited = wait_until(national, national_client := client, total, timeout_s=600)
        log(f"  national centre holds {national.count(national_client)} after {waited:.0f} s; "
            "restarting the partner")
        before = partner_count = len(set(ids))
        partner.start()
        t_restart = time.monotonic()
        first = None
        while time.monotonic() - t_restart < 600:
            partner_count = partner.count(client)
            if first is None and partner_count > before:
                first = time.monotonic()
            if partner_count >= total:
                break
            time.sleep(0.5)
        done = time.monotonic()
        caught = partner_count - before
        # From the first record to the last one in (the sender's reconnection,
        # at most its 5 s backoff, is reported apart as first_after_restart_s).
        catchup_s = (done - first) if first else None
        final = partner.journal(client)
        final_ids = [e["record_id"] for e in final]
        log(f"  partner caught up {caught} records in {catchup_s} s (first after "
            f"{(first - t_restart) if first else None} s)")
    return {
        "events_per_s": round(sent / offered_s),
        "p50_ms": round(p50, 1) if p50 is not None else None,
        "p99_ms": round(p99, 1) if p99 is not None else None,
        "lost": lost + (total - len(set(final_ids))),
        "duplicated": duplicated + (len(final_ids) - len(set(final_ids))),
        "catchup_per_s": round(caught / catchup_s) if catchup_s else None,
        "backlog": args.backlog,
        "first_after_restart_s": round(first - t_restart, 1) if first else None,
        "hops": 3,
        "database": args.database,
    }


if __name__ == "__main__":
    main()
