"""The shift's workflow under load: the validation queue's first page, and notification fan-out.

One `sitcen serve` process on loopback (a SQLite file, or with --database
postgresql a database of a throwaway PostgreSQL server), its journal followers
running as in production (queue keeper, notification follower, deliverer) and
the scheduled risk analysis off.

Phase 1 (queue): QUEUE reports are written in batches of 10,000 and wait in
the node's queue; the first page (50 reports, serious first then oldest first,
with the queue's counts) is read REQUESTS times over HTTP; p50/p95 in ms.

Phase 2 (fan-out): 100 users hold SUBSCRIPTIONS subscriptions between them
(each a border section and the impact levels high and very high, so every
section is followed by SUBSCRIPTIONS/200 users); WEBHOOK_USERS of them also
have a webhook to a receiver on loopback. RATE events/s arrive for SECONDS s
(batches every 100 ms through the batch API, a share HIGH of them of high
impact — one in 20 by default — spread over 200 sections). The console stream
of every watched user (the webhook users) is read over SSE. For each
notification expected (computed here from the events the node placed and the
subscriptions, not by the node's code),
the latency is from the moment its event's batch was answered to the moment
the stream, or the webhook receiver, got it (same machine clock). Lost and
duplicated notifications are counted on both channels.

    python benchmarks/workflow.py [--queue 10000] [--subscriptions 1000] [--rate 2000]
                                  [--seconds 20] [--database sqlite|postgresql] [--smoke]

Last stdout line: {"queue_first_page_p95_ms", "notify_p50_ms", "notify_p99_ms",
"webhook_p50_ms", "webhook_p99_ms", "lost", "duplicated", ...}
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import log, percentile, postgres  # noqa: E402

from conftest import report  # noqa: E402  (the suite's valid report builder)
from sitcen.geo import load_default_sections  # noqa: E402
from sitcen.store import schema  # noqa: E402
from sitcen.store.cursors import read_cursor  # noqa: E402
from sitcen.store.engine import open_engine  # noqa: E402
from sitcen.store.journal import now_micros  # noqa: E402
from sitcen.store.users import _hasher, issue_token  # noqa: E402
from sitcen.testing import NodeProcess, receive_posts, wait_until  # noqa: E402

USERS = 100
PASSWORD = "benchmark-password-1"


def sections(count: int) -> list[tuple[str, float, float]]:
    """``count`` border sections with a point on each (the middle of its line)."""
    found = []
    for section in load_default_sections()[:count]:
        line = section.geometry
        if line.geom_type == "MultiLineString":
            line = max(line.geoms, key=lambda g: g.length)
        middle = line.interpolate(0.5, normalized=True)
        found.append((section.id, round(middle.x, 5), round(middle.y, 5)))
    return found


class Receiver:
    """The webhook receiver: checks each signature, keeps what came and when."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # subscription id -> key
        self.got: list[tuple[str, str, float]] = []  # (username, about event id, when)
        self.bad = 0
        self.lock = threading.Lock()
        self.server = receive_posts(self.take)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Keep a delivery when its signature checks, count it bad when not; 204 either way."""
        now = time.time()
        username = path.rsplit("/", 1)[-1]
        fields = dict(p.split("=", 1) for p in headers.get("X-Sitcen-Signature", "").split(","))
        data = orjson.loads(body)
        ok = any(hmac.compare_digest(hmac.new(key.encode(), fields["t"].encode() + b"." + body,
                                              hashlib.sha256).hexdigest(), fields.get("v1", ""))
                 for key in self.keys.values())
        with self.lock:
            if not ok:
                self.bad += 1
                return 204
            for item in data["notifications"]:
                self.got.append((username, item["about"]["id"], now))
        return 204


def stream(url: str, token: str, username: str, got: list[tuple[str, str, float]],
           ready: threading.Event, stop: threading.Event) -> None:
    """Read one user's console stream, keeping the notifications and when they came."""
    with httpx.Client(timeout=None) as client, client.stream(
            "GET", f"{url}/api/v1/stream", headers={"Authorization": f"Bearer {token}"}) as r:
        ready.set()
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data: ") and '"kind":"notification"' in line:
                frame = orjson.loads(line[6:])
                got.append((username, frame["record"]["about"]["id"], time.time()))


def queue_phase(node: NodeProcess, token: str, args: argparse.Namespace,
                places: list[tuple[str, float, float]]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    log(f"phase 1: {args.queue} reports waiting in the queue")
    rng = random.Random(3)
    with httpx.Client(base_url=node.url, timeout=300, headers=headers) as client:
        written = 0
        while written < args.queue:
            n = min(10_000, args.queue - written)
            batch = []
            for _ in range(n):
                _sid, lon, lat = rng.choice(places)
                batch.append(report(location={"lon": lon, "lat": lat}))
            answer = client.post("/api/v1/events/batch", json={"events": batch})
            if answer.status_code != 201:
                raise SystemExit(f"batch refused: {answer.text[:300]}")
            written += n
        waited = wait_until(lambda: client.get("/api/v1/queue?limit=1").json()["counts"]
                            ["waiting"] >= args.queue or None, timeout_s=600, interval_s=0.5,
                            what="the queue filled")
        assert waited
        times = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            page = client.get("/api/v1/queue?limit=50")
            times.append((time.perf_counter() - t0) * 1000)
            assert page.status_code == 200 and len(page.json()["items"]) == 50
    p50, p95 = percentile(times, 50), percentile(times, 95)
    log(f"  first page: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {args.requests} requests")
    return {"queue_waiting": args.queue, "queue_first_page_p50_ms": round(p50, 1),
            "queue_first_page_p95_ms": round(p95, 1)}


def fanout_phase(node: NodeProcess, engine: sa.Engine, args: argparse.Namespace,
                 places: list[tuple[str, float, float]]) -> dict[str, Any]:
    log(f"phase 2: {args.subscriptions} subscriptions of {USERS} users, {args.rate} events/s "
        f"for {args.seconds:g} s")
    names = [f"u{i:03d}" for i in range(USERS)]
    digest = _hasher.hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(schema.users.insert(), [
            {"username": u, "full_name": u, "role": "duty_officer", "password_hash": digest,
             "disabled": False, "created_at": now_micros()} for u in names])
    tokens = {u: issue_token(engine, u, 2)[0] for u in names}
    receiver = Receiver()
    per_user = max(1, args.subscriptions // USERS)
    watched = names[:args.webhook_users]
    followers: dict[str, set[str]] = {}  # section -> users
    with httpx.Client(base_url=node.url, timeout=60) as client:
        for i, user in enumerate(names):
            for j in range(per_user):
                sid = places[(i * per_user + j) % len(places)][0]
                followers.setdefault(sid, set()).add(user)
                body: dict[str, Any] = {"name": sid, "kinds": ["event"], "sections": [sid],
                                        "impact_levels": ["high", "very_high"]}
                if user in watched:
                    body["webhook_url"] = f"{receiver.base}/hook/{user}"
                answer = client.post("/api/v1/subscriptions", json=body,
                                     headers={"Authorization": f"Bearer {tokens[user]}"})
                if answer.status_code != 201:
                    raise SystemExit(f"subscription refused: {answer.text[:300]}")
                if user in watched:
                    key = client.get(f"/api/v1/subscriptions/{answer.json()['id']}/webhook-key",
                                     headers={"Authorization": f"Bearer {tokens[user]}"})
                    receiver.keys[answer.json()["id"]] = key.json()["key"]
    streamed: list[tuple[str, str, float]] = []
    stop = threading.Event()
    for user in watched:
        ready = threading.Event()
        threading.Thread(target=stream, args=(node.url, tokens[user], user, streamed, ready,
                                              stop), daemon=True).start()
        ready.wait(30)

    rng = random.Random(7)
    tick = 0.1
    per_tick = max(1, round(args.rate * tick))
    arrived: dict[str, float] = {}
    expected: set[tuple[str, str]] = set()
    headers = {"Authorization": f"Bearer {tokens[names[0]]}", "Content-Type": "application/json"}
    sent = 0
    with httpx.Client(base_url=node.url, timeout=60) as client:
        t0 = time.monotonic()
        next_at = t0
        while time.monotonic() - t0 < args.seconds:
            batch = []
            for _ in range(per_tick):
                _sid, lon, lat = rng.choice(places)
                high = rng.random() < args.high
                batch.append(report(location={"lon": lon, "lat": lat},
                                    impact_level="high" if high else "low"))
            answer = client.post("/api/v1/events/batch", content=orjson.dumps({"events": batch}),
                                 headers=headers)
            when = time.time()
            if answer.status_code != 201:
                raise SystemExit(f"batch refused: {answer.text[:300]}")
            for item, written in zip(batch, answer.json()["events"], strict=True):
                arrived[written["id"]] = when
                if item["impact_level"] == "high":
                    for user in followers.get(written["section_id"] or "", ()):
                        expected.add((user, written["id"]))
            sent += per_tick
            next_at += tick
            time.sleep(max(0.0, next_at - time.monotonic()))
        offered = sent / (time.monotonic() - t0)
    log(f"  offered {offered:.0f} events/s; {len(expected)} notifications expected of which "
        f"{sum(1 for u, _ in expected if u in watched)} to the watched users")
    wanted = {(u, e) for u, e in expected if u in watched}
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: ({(u, e) for u, e, _ in streamed} >= wanted
                            and {(u, e) for u, e, _ in receiver.got} >= wanted) or None,
                   timeout_s=120, interval_s=0.5, what="every notification delivered")
    stop.set()
    with engine.connect() as conn:
        written_total = int(conn.execute(
            sa.select(sa.func.count()).select_from(schema.records)
            .where(schema.records.c.kind == "notification")).scalar_one())

    def measure(got: list[tuple[str, str, float]]) -> tuple[list[float], int, int]:
        seen = Counter((u, e) for u, e, _ in got)
        latencies = [(when - arrived[e]) * 1000 for u, e, when in got
                     if (u, e) in wanted and seen[(u, e)] >= 1]
        lost = len(wanted - set(seen))
        duplicated = sum(n - 1 for n in seen.values() if n > 1)
        extra = len(set(seen) - wanted)
        return latencies, lost, duplicated + extra

    stream_ms, stream_lost, stream_dup = measure(streamed)
    hook_ms, hook_lost, hook_dup = measure(receiver.got)
    result = {
        "events_per_s": round(offered), "subscriptions": per_user * USERS,
        "notifications_expected": len(expected), "notifications_written": written_total,
        "notify_p50_ms": round(percentile(stream_ms, 50), 1) if stream_ms else None,
        "notify_p99_ms": round(percentile(stream_ms, 99), 1) if stream_ms else None,
        "webhook_p50_ms": round(percentile(hook_ms, 50), 1) if hook_ms else None,
        "webhook_p99_ms": round(percentile(hook_ms, 99), 1) if hook_ms else None,
        "lost": stream_lost + hook_lost + abs(written_total - len(expected)),
        "duplicated": stream_dup + hook_dup, "bad_signatures": receiver.bad,
    }
    log(f"  stream p50 {result['notify_p50_ms']} ms p99 {result['notify_p99_ms']} ms; webhook "
        f"p50 {result['webhook_p50_ms']} ms p99 {result['webhook_p99_ms']} ms; lost "
        f"{result['lost']}, duplicated {result['duplicated']}")
    return result


def _started(engine: sa.Engine, cursor: str) -> bool:
    """Whether a journal follower of the node has made its first pass."""
    return read_cursor(engine, cursor) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queue", type=int, default=10_000, help="reports waiting")
    parser.add_argument("--requests", type=int, default=200, help="first-page reads timed")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--webhook-users", type=int, default=10)
    parser.add_argument("--rate", type=int, default=2000, help="events per second offered")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--high", type=float, default=0.05,
                        help="share of the events of high impact (the ones followed)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (the test suite's)")
    args = parser.parse_args()
    if args.smoke:
        args.queue, args.requests, args.subscriptions = 300, 20, 100
        args.webhook_users, args.rate, args.seconds, args.high = 20, 100, 2.0, 0.5
    places = sections(200)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sitcen-wf-bench-")))
        server = stack.enter_context(postgres()) if args.database == "postgresql" else None
        url = server.new_database() if server else f"sqlite:///{tmp / 'node.db'}"
        node = NodeProcess("tj-bench-centre", url, tmp / "node", env={
            "SITCEN_ANALYSIS_INTERVAL_MIN": "0", "SITCEN_SECRET_KEY": "benchmark-secret-key-1"},
            log_path=tmp / "node.log")
        engine = open_engine(url)
        stack.callback(engine.dispose)
        node.start()
        stack.callback(node.stop)
        for cursor in ("validation_queue", "notifications", "deliveries"):
            wait_until(partial(_started, engine, cursor), timeout_s=60,
                       what=f"the node's {cursor} follower")
        with engine.begin() as conn:
            conn.execute(schema.users.insert().values(
                username="bench", full_name="bench", role="duty_officer",
                password_hash=_hasher.hash(PASSWORD), disabled=False, created_at=now_micros()))
        token = issue_token(engine, "bench", 2)[0]
        result = {**queue_phase(node, token, args, places),
                  **fanout_phase(node, engine, args, places), "database": args.database,
                  "smoke": args.smoke}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
