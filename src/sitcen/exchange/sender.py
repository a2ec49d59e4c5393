"""Pushing a link's journal to the peer: seal, send, advance the cursor on acknowledgement.

:func:`push` sends batches from the link's acknowledged cursor until the peer
is caught up or refuses. The cursor moves only when the peer acknowledges a
batch, so a sender that dies mid-way resumes from the last acknowledged batch
and the receiver's idempotent apply absorbs whatever arrives twice.
:class:`LinkSender` runs this in the background of a node for every link,
under a lease so that one app process sends on each link, with backoff after
failures.
"""

from __future__ import annotations

import logging
import ssl
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from sitcen import metrics
from sitcen.exchange.aggregates import refresh_aggregates
from sitcen.exchange.agreements import Agreement
from sitcen.exchange.envelope import Batch, ReplayGuard, seal
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.inbox import receive
from sitcen.exchange.links import Peer, governing, list_peers
from sitcen.exchange.outbox import next_batch
from sitcen.exchange.sharing import SectionInfo
from sitcen.exchange.tls import handshake_failure
from sitcen.store import schema
from sitcen.store.journal import (
    add_write_listener,
    now_micros,
    remove_write_listener,
    write_transaction,
)
from sitcen.store.leases import acquire

log = logging.getLogger("sitcen.exchange")

INBOX_PATH = "/api/v1/exchange/batches"
PULL_PATH = "/api/v1/exchange/pull"


@dataclass(frozen=True)
class PushResult:
    """How far one push got."""

    batches: int
    records: int
    acked_seq: int
    error: str | None = None


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    """Why ``url`` could not be reached; a failed TLS handshake in an administrator's words."""
    reason = handshake_failure(exc, url)
    if reason is not None:
        return f"{url}: {reason}"
    return f"unreachable: {exc}"


def failure_reason(error: str) -> str:
    """A push's error as one short word, for counting: ``unreachable``, ``tls`` (a failed
    handshake), ``refused_<status>`` (the peer answered, but not 200), else ``other``."""
    if error.startswith("refused ("):
        code = error[len("refused ("):].split(")", 1)[0]
        return f"refused_{code}" if code.isdigit() else "refused"
    if error.startswith("unreachable"):
        return "unreachable"
    if error.startswith(("http://", "https://")):
        return "tls"  # _unreachable() names the URL first only for a failed handshake
    return "other"


def _post(client: httpx.Client, url: str, data: bytes) -> str | None:
    """Send one sealed batch; None when acknowledged, else why not."""
    try:
        response = client.post(url, content=data, headers={"Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        return _unreachable(url, exc)
    if response.status_code != 200:
        return f"refused ({response.status_code}): {response.text[:300]}"
    return None


def push(engine: sa.Engine, identity: NodeIdentity, peer: Peer, client: httpx.Client, *,
         sections: Mapping[str, SectionInfo] | None = None, max_batches: int = 100,
         batch_size: int = 5_000, agreement: Agreement | None = None) -> PushResult:
    """Send what the peer may see, batch after batch, until caught up, refused or out of turns.

    One batch is in flight while the next is built (the peer verifies and
    applies while this node reads and shares); the cursor moves only past
    acknowledged batches, so a failure loses nothing but the batch built ahead.
    ``agreement`` is the link's governing agreement when the caller has it.
    """
    if agreement is None:
        agreement = governing(engine, identity.node_id, peer)
    url = f"{peer.url}{INBOX_PATH}"
    acked = built = peer.acked_seq
    sent = records = 0
    in_flight: tuple[Future[str | None], int, int] | None = None  # (send, last_seq, count)

    def settle() -> str | None:
        nonlocal acked, sent, records, in_flight
        if in_flight is None:
            return None
        future, last_seq, count = in_flight
        in_flight = None
        error = future.result()
        if error is None:
            acked = last_seq
            _set_acked(engine, peer.node_id, acked)
            sent += 1
            records += count
        return error

    with ThreadPoolExecutor(max_workers=1) as pool:
        for _ in range(max_batches):
            batch = next_batch(engine, identity.node_id, replace(peer, acked_seq=built),
                               agreement, now=datetime.now(UTC), sections=sections,
                               limit=batch_size)
            data = seal(batch, identity) if batch is not None and batch.records else None
            error = settle()
            if error is not None:
                return PushResult(sent, records, acked, error)
            if batch is None:
                break
            built = batch.header.last_seq
            if data is None:
                # Nothing in this stretch of the journal may leave: move on without
                # a round trip (there is nothing for the peer to acknowledge).
                acked = built
                _set_acked(engine, peer.node_id, acked)
                continue
            in_flight = (pool.submit(_post, client, url, data), built, len(batch.records))
        error = settle()
    return PushResult(sent, records, acked, error)


def pull(engine: sa.Engine, identity: NodeIdentity, peer: Peer, client: httpx.Client, *,
         guard: ReplayGuard, max_batches: int = 1_000) -> PushResult:
    """Ask ``peer`` for what it holds for this node after our cursor, until caught up.

    For catch-up after an outage, from either side: the same cursor, the same
    sharing function on the peer, the same exactly-once apply here.
    """
    cursor, batches, records = peer.received_seq, 0, 0
    for _ in range(max_batches):
        request = seal(Batch.new(sender=identity.node_id, receiver=peer.node_id,
                                 first_seq=cursor, last_seq=cursor, records=[]), identity)
        url = f"{peer.url}{PULL_PATH}"
        try:
            response = client.post(url, content=request,
                                   headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            return PushResult(batches, records, cursor, _unreachable(url, exc))
        if response.status_code != 200:
            return PushResult(batches, records, cursor,
                              f"refused ({response.status_code}): {response.text[:300]}")
        receipt = receive(engine, identity.node_id, response.content, guard=guard,
                          now=datetime.now(UTC))
        records += receipt.applied + receipt.skipped
        if receipt.last_seq <= cursor:
            break  # caught up
        cursor = receipt.last_seq
        batches += 1
    return PushResult(batches, records, cursor)


def _set_acked(engine: sa.Engine, peer_id: str, acked: int) -> None:
    with write_transaction(engine) as conn:
        conn.execute(schema.peers.update().where(schema.peers.c.node_id == peer_id)
                     .values(acked_seq=acked, updated_at=now_micros()))


class LinkSender:
    """Background pushes to every linked node, one app process per link (lease), with backoff.

    ``tls`` is what peers reached over HTTPS are verified with, holding the client
    certificate this node presents (:func:`sitcen.exchange.tls.link_tls`).
    """

    def __init__(self, engine: sa.Engine, identity: NodeIdentity, *,
                 sections: Mapping[str, SectionInfo] | None = None,
                 tls: ssl.SSLContext | bool = True, interval_s: float = 0.25,
                 lease_s: float = 10.0, max_backoff_s: float = 5.0,
                 recount_s: float = 5.0, recount_cost_factor: float = 20.0) -> None:
        self.engine = engine
        self.identity = identity
        self.sections = sections
        self.tls = tls
        self.interval_s = interval_s
        self.lease_s = lease_s
        self.max_backoff_s = max_backoff_s
        self.holder = f"{identity.node_id}:{uuid.uuid4()}"
        self._leased_at: dict[str, float] = {}  # peer -> when its lease was last taken
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._backoff: dict[str, tuple[float, float]] = {}  # peer -> (delay, next try)
        # peer -> (when its days were last counted, journal head then, seconds it took)
        self._counted: dict[str, tuple[float, int, float]] = {}
        self._counted_day: dict[str, int] = {}
        self.recount_s = recount_s
        self.recount_cost_factor = recount_cost_factor
        self._thread = threading.Thread(target=self._run, name="link-sender", daemon=True)

    def start(self) -> LinkSender:
        """Start sending in a background thread, woken by every write of this process."""
        add_write_listener(self._wake.set)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current push."""
        remove_write_listener(self._wake.set)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def new_client(self) -> httpx.Client:
        """An HTTP client for the links: the sender's TLS, a generous timeout for big batches."""
        return httpx.Client(timeout=30, verify=self.tls)

    def run_once(self, client: httpx.Client) -> dict[str, PushResult]:
        """One pass over the links this process may send on now."""
        import time

        results = {}
        for peer in list_peers(self.engine):
            delay, next_try = self._backoff.get(peer.node_id, (0.0, 0.0))
            if time.monotonic() < next_try:
                continue
            if not self._hold_lease(peer.node_id):
                continue
            agreement = governing(self.engine, self.identity.node_id, peer)
            if agreement.delay == "daily_aggregates":
                self._count_days(peer, agreement)
            result = push(self.engine, self.identity, peer, client, sections=self.sections,
                          agreement=agreement)
            results[peer.node_id] = result
            metrics.count_sent(peer.node_id, result.batches, result.records)
            if result.error is not None:
                metrics.count_send_failure(peer.node_id, failure_reason(result.error))
            if result.error is None:
                self._backoff.pop(peer.node_id, None)
            else:
                delay = min(self.max_backoff_s, max(0.5, delay * 2))
                self._backoff[peer.node_id] = (delay, time.monotonic() + delay)
                log.warning("link to %s: %s (retry in %.1f s)", peer.node_id, result.error,
                            delay)
        return results

    def _hold_lease(self, peer_id: str) -> bool:
        """Whether this process may send on the link now: it holds the link's lease.

        A lease taken less than a quarter of its time ago is still held (no one
        else can take it before it expires); only then is it renewed, so a busy
        link does not write its lease on every pass.
        """
        import time

        now = time.monotonic()
        if now - self._leased_at.get(peer_id, float("-inf")) < self.lease_s / 4:
            return True
        if not acquire(self.engine, f"send:{peer_id}", self.holder, self.lease_s):
            self._leased_at.pop(peer_id, None)
            return False
        self._leased_at[peer_id] = now
        return True

    def _count_days(self, peer: Peer, agreement: Agreement) -> None:
        """On a link that carries daily aggregates, recount the last days after new writes.

        At most every ``recount_s`` seconds, and no sooner than
        ``recount_cost_factor`` times the last count took after it (20: counting
        takes at most a twentieth of the sender's time).
        """
        import time

        with self.engine.connect() as conn:
            head = conn.execute(sa.select(sa.func.max(schema.journal.c.seq))).scalar() or 0
        last_at, last_head, cost = self._counted.get(peer.node_id, (float("-inf"), -1, 0.0))
        day = datetime.now(UTC).date().toordinal()
        if head == last_head and day == self._counted_day.get(peer.node_id):
            return
        if time.monotonic() < last_at + max(self.recount_s, self.recount_cost_factor * cost):
            return
        started = time.monotonic()
        written = refresh_aggregates(self.engine, self.identity.node_id, agreement,
                                     now=datetime.now(UTC))
        self._counted[peer.node_id] = (time.monotonic(), head, time.monotonic() - started)
        self._counted_day[peer.node_id] = day
        if written:
            log.info("link to %s: %d daily aggregate(s) written", peer.node_id, written)

    def _run(self) -> None:
        # Woken at once by a write in this process; writes of other processes
        # (several app workers) are found by polling every interval_s.
        with self.new_client() as client:
            while not self._stop.is_set():
                self._wake.wait(self.interval_s)
                self._wake.clear()
                if self._stop.is_set():
                    return
                try:
                    self.run_once(client)
                except Exception:  # the sender must outlive any one failure
                    log.exception("link sender pass failed")
