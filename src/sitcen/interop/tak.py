"""The TAK listener: CoT from ATAK/WinTAK/iTAK devices in, the situational picture out.

One thread runs an asyncio loop with a TCP listener (TLS when configured) and
a UDP listener. This module holds the sockets, the framing, who a client is
and the clients connected now: each message is authenticated (a client
certificate, ATAK's ``<auth>`` login, or a sitcen token in
``<detail><__auth token="…"/>``) and parsed with the hardened parser of
:mod:`sitcen.interop.cot`. What it then becomes is
:mod:`sitcen.interop.tak_inbound`'s (positions and event reports, written on a
thread of their own); what authenticated TCP clients receive is
:mod:`sitcen.interop.tak_outbound`'s (the picture from the journal, shared
per partner); tasks for the node's units go to their devices and the devices'
answers come back through :mod:`sitcen.interop.tak_tasks`. Bad input is logged
and dropped; the listener keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from sitcen import metrics
from sitcen.exchange.agreements import Agreement
from sitcen.exchange.partners import Audience, audience_of
from sitcen.geo import SectionIndex
from sitcen.interop.cot import (
    CotError,
    CotEvent,
    CotLogin,
    CotMapping,
    Frame,
    StreamSplitter,
    load_mapping,
    parse_proto,
    parse_xml,
    split_datagram,
)
from sitcen.interop.tak_inbound import CotIntake
from sitcen.interop.tak_outbound import PictureFeed
from sitcen.interop.tak_router import Router
from sitcen.interop.tak_tasks import CHAT, TaskRelay
from sitcen.settings import Settings
from sitcen.store import audit, schema, throttle
from sitcen.store.audit import AuditAction
from sitcen.store.events import Reporter
from sitcen.store.users import StoredUser, authenticate, user_for_token
from sitcen.users import Permission, Role, allows

log = logging.getLogger("sitcen.tak")

#: How long a token or certificate user is trusted before it is looked up again.
AUTH_CACHE_S = 60.0
#: How many tokens and certificate names are remembered.
AUTH_CACHE_SIZE = 10_000
#: How long a TCP reader waits while the store is behind, before looking again.
BEHIND_WAIT_S = 0.005


class NodeLike(Protocol):
    """What the listener needs of a node (:class:`sitcen.node.Node` has it)."""

    settings: Settings
    engine: sa.Engine
    sections: SectionIndex

    @property
    def reporter(self) -> Reporter: ...


@dataclass
class Counters:
    """What the listener did, for logs, tests and the benchmark."""

    received: int = 0
    positions: int = 0
    reports: int = 0
    malformed: int = 0
    unauthenticated: int = 0
    forbidden: int = 0
    unmapped: int = 0
    duplicates: int = 0
    overload: int = 0
    sent: int = 0
    routed: int = 0
    write_errors: int = 0
    tasks_sent: int = 0
    task_answers: int = 0
    #: positions that became a drone flight's (docs/cameras-drones.md)
    flight_positions: int = 0
    #: a ``<sensor>`` field of view that was nonsense: the position kept, its footprint not
    bad_sensor: int = 0

    def __setattr__(self, name: str, value: Any) -> None:
        # Each count also goes to the node's metrics (sitcen_tak_messages_total, the field's
        # name as its outcome), so the many `counters.x += n` of the listener stay as they are.
        grown = value - getattr(self, name, 0)
        super().__setattr__(name, value)
        if grown > 0:
            metrics.count_tak(name, grown)


# --------------------------------------------------------------------------- who sends


def user_by_name(engine: sa.Engine, username: str) -> StoredUser | None:
    """The active user of this name (for certificate logins), or None."""
    u = schema.users
    with engine.connect() as conn:
        row = conn.execute(sa.select(u).where(u.c.username == username)).first()
    if row is None or row.disabled:
        return None
    return StoredUser(row.username, row.full_name, Role(row.role), row.disabled)


def certificate_name(peercert: dict[str, Any] | None) -> str | None:
    """The common name of a verified client certificate."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


class Authenticator:
    """Tokens and certificate names → users, remembered for a minute."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._cache: OrderedDict[tuple[str, str], tuple[float, StoredUser | None]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str],
                lookup: Callable[[], StoredUser | None]) -> StoredUser | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < AUTH_CACHE_S:
                return hit[1]
        user = lookup()
        with self._lock:
            self._cache[key] = (now, user)
            while len(self._cache) > AUTH_CACHE_SIZE:
                self._cache.popitem(last=False)
        return user

    def by_token(self, token: str) -> StoredUser | None:
        """The user of a login token, or None."""
        return self._cached(("token", token), lambda: user_for_token(self.engine, token))

    def by_certificate(self, name: str) -> StoredUser | None:
        """The active user a client certificate names, or None."""
        return self._cached(("cert", name), lambda: user_by_name(self.engine, name))

    def by_password(self, username: str, password: str,
                    address: str | None = None) -> StoredUser | None:
        """The user of an ATAK login, or None (never cached).

        Throttled as the API's logins are (docs/security.md): while the account or the
        address is blocked the password is not tried; each login is in the audit trail.
        """
        if throttle.wait_seconds(self.engine, username, address):
            return None
        user = authenticate(self.engine, username, password)  # argon2: slow on purpose
        if user is None:
            blocked = throttle.record_failure(self.engine, username, address)
            audit.record(self.engine, username,
                         AuditAction.login_throttled if blocked else AuditAction.login_failed,
                         username, {"address": address, "blocked_s": blocked, "kind": "tak"})
            return None
        throttle.clear(self.engine, username)
        audit.record(self.engine, user.username, AuditAction.login, "tak",
                     {"address": address, "kind": "tak"})
        return user


def _host_of(client: TakClient) -> str | None:
    """The address a TAK client connects from (for the login throttle)."""
    peername = client.writer.get_extra_info("peername")
    return str(peername[0]) if isinstance(peername, tuple) and peername else None


@dataclass(eq=False)
class TakClient:
    """One TCP connection: how to write to it and, once known, who it is."""

    peer: str
    writer: asyncio.StreamWriter
    user: StoredUser | None = None
    protobuf: bool = False
    warned: set[str] = field(default_factory=set)
    #: The partner node a liaison user speaks for (settings.partner_users), and the
    #: agreement that decides what it sees (None: no link, so nothing).
    partner: str | None = None
    agreement: Agreement | None = None
    #: The own units this device reports as: the uids and callsigns (casefolded) of its
    #: positions, so that tasks for the unit reach it.
    devices: set[str] = field(default_factory=set)
    callsigns: set[str] = field(default_factory=set)
    #: (task id, digest of the task's body) already written to this device: a task given
    #: on arrival is not given again when the journal follower reaches it a moment later.
    tasks_sent: set[tuple[str, str]] = field(default_factory=set)
    #: CoT uid → time of the latest message of it routed to this client: the journal's
    #: copy of a position it already has is not sent again (tak_router.py).
    heard: dict[str, datetime] = field(default_factory=dict)
    #: Routed messages not yet handed to the socket (see :meth:`send_soon`).
    pending: list[bytes] = field(default_factory=list)
    pending_bytes: int = 0

    def send_soon(self, data: bytes) -> None:
        """Write ``data`` once the listener has handled the chunk it is reading now.

        Every message written alone is a ``send()`` of its own, and each of them gives
        the GIL up and waits to take it back from the threads storing positions: at
        1,000 routed messages a second that wait, not the routing, set the latency. The
        messages of one chunk go to each reader in one write.
        """
        if not self.pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self.pending.append(data)
        self.pending_bytes += len(data)

    def queued(self) -> int:
        """Bytes waiting to reach this client: in the transport's buffer and not yet there."""
        return self.writer.transport.get_write_buffer_size() + self.pending_bytes

    def flush(self) -> None:
        """Write what :meth:`send_soon` gathered (nothing if the connection is closing)."""
        data, self.pending, self.pending_bytes = b"".join(self.pending), [], 0
        if data and not self.writer.transport.is_closing():
            self.writer.write(data)

    def warn(self, reason: str) -> None:
        """Log a dropped message, once per kind of reason: a broken device must not
        flood the log."""
        kind = reason.split(":")[0]
        if kind in self.warned:
            return
        self.warned.add(kind)
        _dropped(self.peer, reason)


def _dropped(peer: str, reason: str) -> None:
    log.warning("TAK %s: message dropped, %s", peer, reason)


# --------------------------------------------------------------------------- the listener


class TakListener:
    """TCP and UDP CoT listeners and the outgoing CoT stream, on a thread of their own."""

    def __init__(self, node: NodeLike, mapping: CotMapping, *, host: str = "127.0.0.1",
                 tcp_port: int | None = None, udp_port: int | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.node = node
        self.mapping = mapping
        self.host = host
        self.tcp_port = tcp_port
        self.udp_port = udp_port
        self.ssl_context = ssl_context
        self.counters = Counters()
        self.auth = Authenticator(node.engine)
        self._clients: set[TakClient] = set()
        self.intake = CotIntake(node, mapping, self.counters)
        self.feed = PictureFeed(node, mapping, self.counters, self._clients)
        self.router = Router(self.counters, self._clients)
        self.tasks = TaskRelay(node, self.counters, self._clients,
                               language=node.settings.tak_language)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tak-listener", daemon=True)

    # -- life cycle

    def start(self) -> TakListener:
        """Bind the ports and start serving; raises if a port cannot be bound."""
        self.intake.writer.start()
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failed is not None:
            self.intake.writer.stop()
            raise self._failed
        log.info("TAK listener on %s: tcp %s%s, udp %s", self.host, self.tcp_port,
                 " (TLS)" if self.ssl_context else "", self.udp_port)
        return self

    def stop(self) -> None:
        """Close every connection and the ports, write what is queued, and end the threads."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.ident is not None:
            self._thread.join(timeout=30)
        self.intake.writer.stop()

    def authenticated(self) -> int:
        """How many TCP clients are connected and authenticated now."""
        return sum(c.user is not None for c in list(self._clients))

    def __enter__(self) -> TakListener:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start(), logged otherwise
            if not self._ready.is_set():
                self._failed = exc
                self._ready.set()
            else:
                log.exception("TAK listener stopped")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = None
        transport = None
        if self.tcp_port is not None:
            server = await asyncio.start_server(self._serve_client, self.host, self.tcp_port,
                                                ssl=self.ssl_context, limit=1 << 20)
            self.tcp_port = server.sockets[0].getsockname()[1]
        if self.udp_port is not None:
            transport, _ = await self._loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(self.host, self.udp_port))
            self.udp_port = transport.get_extra_info("sockname")[1]
        followers = [asyncio.create_task(self.feed.follow()),
                     asyncio.create_task(self.tasks.follow())]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for follower in followers:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
            if transport is not None:
                transport.close()
            if server is not None:
                server.close()
            for client in list(self._clients):
                client.writer.close()
            for client in list(self._clients):
                with contextlib.suppress(Exception):
                    await client.writer.wait_closed()
            if server is not None:
                await server.wait_closed()

    # -- TCP

    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peername"))
        client = TakClient(peer, writer)
        if self.ssl_context is not None and self.ssl_context.verify_mode == ssl.CERT_REQUIRED:
            name = certificate_name(writer.get_extra_info("peercert"))
            if name:
                user = await asyncio.to_thread(self.auth.by_certificate, name)
                await self._authenticated(client, user)
                if client.user is None:
                    log.warning("TAK client %s: certificate of %r names no active user", peer,
                                name)
        self._clients.add(client)
        metrics.tak_client(connected=1)
        splitter = StreamSplitter()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for frame in splitter.feed(data):
                    await self._frame(client, frame)
                # Back-pressure: while the store is behind, stop reading, so TCP slows the
                # senders down instead of positions queueing up here and arriving late.
                while self.intake.writer.behind():
                    await asyncio.sleep(BEHIND_WAIT_S)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            log.info("TAK client %s: connection ended (%s)", peer, exc)
        except Exception:  # a fault of ours ends this connection, never the listener
            log.exception("TAK client %s: connection closed after an error", peer)
        finally:
            self._clients.discard(client)
            metrics.tak_client(connected=-1, authenticated=-(client.user is not None))
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _frame(self, client: TakClient, frame: Frame) -> None:
        self.counters.received += 1
        try:
            if frame.kind == "error":
                raise CotError(frame.reason)
            if frame.kind == "proto":
                client.protobuf = True
                message: CotEvent | CotLogin = parse_proto(frame.data)
            else:
                message = parse_xml(frame.data)
        except CotError as exc:
            self.counters.malformed += 1
            client.warn(f"malformed: {exc}")
            return
        if isinstance(message, CotLogin):
            user = await asyncio.to_thread(self.auth.by_password, message.username,
                                           message.password, _host_of(client))
            if user is None:
                self.counters.unauthenticated += 1
                log.warning("TAK client %s: login of %r refused", client.peer, message.username)
            else:
                await self._authenticated(client, user)
                log.info("TAK client %s logged in as %s (%s)", client.peer, user.username,
                         user.role.value)
            return
        if message.token:
            user = await asyncio.to_thread(self.auth.by_token, message.token)
            if user is None:
                self.counters.unauthenticated += 1
                client.warn("token unknown or expired")
                return
            if client.user is None or client.user.username != user.username:
                await self._authenticated(client, user)
        self.router.route(client.user, message, frame, client)
        if message.type == CHAT:
            await self.tasks.answer(client, message)
            return
        if client.user is not None and message.type.startswith("a-f-") and allows(
                client.user.role, Permission.report_events):
            new = message.uid not in client.devices
            client.devices.add(message.uid)
            if message.callsign:
                client.callsigns.add(message.callsign.casefold())
            if new:  # a unit has just shown itself: give it its open tasks
                await self.tasks.deliver_open(client)
        self.intake.accept(message, client.user, client.warn)

    async def _authenticated(self, client: TakClient, user: StoredUser | None) -> None:
        """Who the client is from now on, and for a partner's user, what it may see."""
        audience = Audience() if user is None else await asyncio.to_thread(
            audience_of, self.node.engine, self.node.settings.node_id, user.username,
            self.node.settings.partner_users)
        # All at once, after the look-up: a partner's user must never be seen, even for a
        # moment, as a user of this node (the router would pass it what devices send).
        metrics.tak_client(authenticated=(user is not None) - (client.user is not None))
        client.user, client.partner, client.agreement = (user, audience.partner,
                                                         audience.agreement)
        if audience.unlinked:
            log.warning("TAK client %s: %s speaks for %s, which this node has no link "
                        "to: it receives nothing", client.peer, user and user.username,
                        client.partner)

    # -- UDP

    def datagram(self, data: bytes, addr: Any) -> None:
        """Take one datagram: it must carry its own token, as UDP has no connection."""
        self.counters.received += 1
        peer = str(addr)
        frame = split_datagram(data)
        try:
            if frame.kind == "error":
                raise CotError(frame.reason)
            message = parse_proto(frame.data) if frame.kind == "proto" else parse_xml(frame.data)
        except CotError as exc:
            self.counters.malformed += 1
            _dropped(peer, f"malformed: {exc}")
            return
        if isinstance(message, CotLogin):
            self.counters.unauthenticated += 1
            _dropped(peer, "unauthenticated: logins need TCP; put a token in each datagram")
            return
        # The token is usually cached; a miss is one indexed query.
        user = self.auth.by_token(message.token) if message.token else None
        self.router.route(user, message, frame)
        self.intake.accept(message, user, lambda reason: _dropped(peer, reason))


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listener: TakListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            self.listener.datagram(data, addr)
        except Exception:  # one datagram's fault, never the listener's
            log.exception("TAK datagram from %s dropped after an error", addr)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the TCP listener (client certificates required when a CA is set)."""
    if settings.tak_tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tak_tls_cert, settings.tak_tls_key)
    if settings.tak_tls_ca is not None:
        context.load_verify_locations(settings.tak_tls_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def listener_from_settings(node: NodeLike) -> TakListener | None:
    """The listener ``sitcen serve`` starts, or None when no TAK port is set."""
    s = node.settings
    if not s.tak_port and not s.tak_udp_port:
        return None
    return TakListener(node, load_mapping(s.tak_mapping_file), host=s.tak_host,
                       tcp_port=s.tak_port or None, udp_port=s.tak_udp_port or None,
                       ssl_context=tls_context(s))
