"""The TAK listener: CoT from ATAK/WinTAK/iTAK devices in, the situational picture out.

One thread runs an asyncio loop with a TCP listener (TLS when configured) and
a UDP listener; a second thread writes what arrives to the store in groups
every few milliseconds (:class:`StoreWriter`). Each message is authenticated
(a client certificate, ATAK's ``<auth>`` login, or a sitcen token in
``<detail><__auth token="…"/>``), checked against the user's role, parsed
with the hardened parser of :mod:`sitcen.interop.cot`, and mapped: own units become
asset positions (:func:`sitcen.store.assets.write_positions`, the path of
``POST /api/v1/assets/positions``), hostile, unknown and suspect objects
become event reports (:func:`sitcen.store.events.report_events`). Bad input
is logged and dropped; the listener keeps running.

Authenticated TCP clients receive the node's events and asset positions as
CoT, read from the journal like the live stream (XML, or TAK protocol stream
frames once the client has sent one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from pydantic import ValidationError

from sitcen.errors import InvalidInput
from sitcen.events import EventCreate
from sitcen.exchange.agreements import Agreement
from sitcen.exchange.outbox import held_records
from sitcen.exchange.partners import Audience, audience_of
from sitcen.exchange.sharing import section_infos, share
from sitcen.geo import SectionIndex
from sitcen.interop.cot import (
    ASSET_COT_TYPES,
    CotError,
    CotEvent,
    CotLogin,
    CotMapping,
    Frame,
    StreamSplitter,
    event_xml,
    parse_proto,
    parse_xml,
    split_datagram,
    stale_after,
    stream_frame,
)
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.assets import AssetPositionCreate, write_positions
from sitcen.store.events import Reporter, report_events
from sitcen.store.journal import KINDS, JournalEntry, RecordKind, read_journal
from sitcen.store.sql import select_in
from sitcen.store.users import StoredUser, authenticate, user_for_token
from sitcen.times import moment_or_none
from sitcen.users import Permission, Role, allows

log = logging.getLogger("sitcen.tak")

#: How long positions wait to be written together, and the most in one write.
FLUSH_S = 0.01
MAX_GROUP = 5000
#: Items waiting for the store beyond which TCP clients are not read (back-pressure).
HIGH_WATER = 2_000
#: Items waiting for the store beyond which new ones (UDP) are dropped and counted.
MAX_BACKLOG = 50_000
#: How often the outgoing stream looks at the journal (as the live stream does).
FOLLOW_S = 0.2
#: Bytes queued to a slow TAK client beyond which frames for it are dropped.
MAX_CLIENT_BUFFER = 2 * 1024 * 1024
#: How long a token or certificate user is trusted before it is looked up again.
AUTH_CACHE_S = 60.0
#: Reports of the same CoT uid within this time are one event (devices resend tracks).
REPORT_REPEAT = timedelta(hours=1)


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
    write_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# --------------------------------------------------------------------------- store side


@dataclass(frozen=True)
class _Report:
    item: EventCreate
    uid: str


class StoreWriter:
    """Writes positions in groups and reports one by one, on a thread of its own."""

    def __init__(self, node: NodeLike, counters: Counters) -> None:
        self.node = node
        self.counters = counters
        self._queue: queue.SimpleQueue[AssetPositionCreate | _Report | None] = (
            queue.SimpleQueue())
        self._thread = threading.Thread(target=self._run, name="tak-store", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout=30)

    def backlog(self) -> int:
        """Items waiting to be written."""
        return self._queue.qsize()

    def put(self, item: AssetPositionCreate | _Report) -> bool:
        """Queue an item; False (and nothing queued) when the store is too far behind."""
        if self._queue.qsize() > MAX_BACKLOG:
            self.counters.overload += 1
            return False
        self._queue.put(item)
        return True

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group: list[AssetPositionCreate | _Report] = [first]
            deadline = time.monotonic() + FLUSH_S
            while len(group) < MAX_GROUP:
                wait = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._write(group)

    def _write(self, group: list[AssetPositionCreate | _Report]) -> None:
        positions = [g for g in group if isinstance(g, AssetPositionCreate)]
        reporter = self.node.reporter
        if positions:
            try:
                write_positions(self.node.engine, reporter, positions)
                self.counters.positions += len(positions)
            except Exception:
                log.exception("writing %d TAK positions failed; trying them one by one",
                              len(positions))
                for position in positions:
                    try:
                        write_positions(self.node.engine, reporter, [position])
                        self.counters.positions += 1
                    except Exception as exc:
                        self.counters.write_errors += 1
                        log.warning("TAK position of %s dropped: %s", position.asset_id, exc)
        for report in (g for g in group if isinstance(g, _Report)):
            try:
                report_events(self.node.engine, reporter, [report.item])
                self.counters.reports += 1
            except InvalidInput as exc:
                self.counters.write_errors += 1
                log.warning("CoT report %s refused: %s", report.uid,
                            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                      for e in exc.errors))
            except Exception:
                self.counters.write_errors += 1
                log.exception("CoT report %s could not be written", report.uid)


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
            while len(self._cache) > 10_000:
                self._cache.popitem(last=False)
        return user

    def by_token(self, token: str) -> StoredUser | None:
        return self._cached(("token", token), lambda: user_for_token(self.engine, token))

    def by_certificate(self, name: str) -> StoredUser | None:
        return self._cached(("cert", name), lambda: user_by_name(self.engine, name))

    def by_password(self, username: str, password: str) -> StoredUser | None:
        return authenticate(self.engine, username, password)  # argon2: slow on purpose


# --------------------------------------------------------------------------- the listener


@dataclass(eq=False)
class _Client:
    peer: str
    writer: asyncio.StreamWriter
    user: StoredUser | None = None
    protobuf: bool = False
    warned: set[str] = field(default_factory=set)
    #: The partner node a liaison user speaks for (settings.partner_users), and the
    #: agreement that decides what it sees (None: no link, so nothing).
    partner: str | None = None
    agreement: Agreement | None = None


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
        self.writer = StoreWriter(node, self.counters)
        self._clients: set[_Client] = set()
        self._reports_seen: OrderedDict[str, datetime] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tak-listener", daemon=True)

    # -- life cycle

    def start(self) -> TakListener:
        """Bind the ports and start serving; raises if a port cannot be bound."""
        self.writer.start()
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failed is not None:
            self.writer.stop()
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
        self.writer.stop()

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
        follower = asyncio.create_task(self._follow_journal())
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
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
        client = _Client(peer, writer)
        if self.ssl_context is not None and self.ssl_context.verify_mode == ssl.CERT_REQUIRED:
            name = certificate_name(writer.get_extra_info("peercert"))
            if name:
                user = await asyncio.to_thread(self.auth.by_certificate, name)
                await self._authenticated(client, user)
                if client.user is None:
                    log.warning("TAK client %s: certificate of %r names no active user", peer,
                                name)
        self._clients.add(client)
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
                while self.writer.backlog() > HIGH_WATER:
                    await asyncio.sleep(0.005)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            log.info("TAK client %s: connection ended (%s)", peer, exc)
        except Exception:  # a fault of ours ends this connection, never the listener
            log.exception("TAK client %s: connection closed after an error", peer)
        finally:
            self._clients.discard(client)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _frame(self, client: _Client, frame: Frame) -> None:
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
            self._warn(client, f"malformed: {exc}")
            return
        if isinstance(message, CotLogin):
            user = await asyncio.to_thread(self.auth.by_password, message.username,
                                           message.password)
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
                self._warn(client, "token unknown or expired")
                return
            if client.user is None or client.user.username != user.username:
                await self._authenticated(client, user)
        self._accept(message, client.user, client)

    async def _authenticated(self, client: _Client, user: StoredUser | None) -> None:
        """Who the client is from now on, and for a partner's user, what it may see."""
        client.user = user
        audience = Audience() if user is None else await asyncio.to_thread(
            audience_of, self.node.engine, self.node.settings.node_id, user.username,
            self.node.settings.partner_users)
        client.partner, client.agreement = audience.partner, audience.agreement
        if audience.unlinked:
            log.warning("TAK client %s: %s speaks for %s, which this node has no link "
                        "to: it receives nothing", client.peer, user and user.username,
                        client.partner)

    def _warn(self, client: _Client | None, reason: str, peer: str = "") -> None:
        # One line per reason and connection: a broken device must not flood the log.
        kind = reason.split(":")[0]
        if client is not None:
            if kind in client.warned:
                return
            client.warned.add(kind)
        log.warning("TAK %s: message dropped, %s", client.peer if client else peer, reason)

    # -- what a message becomes

    def _accept(self, message: CotEvent, user: StoredUser | None, client: _Client | None,
                peer: str = "") -> None:
        if user is None:
            self.counters.unauthenticated += 1
            self._warn(client, "unauthenticated: send a token, a login or a client "
                               "certificate first", peer)
            return
        if message.type.startswith("t-x-"):
            return  # pings and other TAK control messages
        if not allows(user.role, Permission.report_events):
            self.counters.forbidden += 1
            self._warn(client, f"forbidden: role {user.role.value} of {user.username} may "
                               "only read", peer)
            return
        kind = self.mapping.asset_kind(message.type)
        if kind is not None:
            self._position(message, kind, client, peer)
            return
        rule = self.mapping.report(message.type)
        if rule is None:
            self.counters.unmapped += 1
            self._warn(client, f"unmapped: CoT type {message.type} is in no mapping", peer)
            return
        self._report(message, rule.type, rule.details, user, client, peer)

    def _position(self, message: CotEvent, kind: str, client: _Client | None,
                  peer: str) -> None:
        location: dict[str, Any] = {"lon": message.lon, "lat": message.lat}
        if message.ce < 100_000:
            location["precision_m"] = message.ce
        try:
            item = AssetPositionCreate.model_validate({
                "asset_id": message.uid, "kind": kind,
                "name": message.callsign or message.uid, "location": location,
                "at": message.time,
            })
        except ValidationError as exc:
            self.counters.malformed += 1
            first = exc.errors()[0]
            self._warn(client, f"invalid: position {'.'.join(map(str, first['loc']))}: "
                               f"{first['msg']}", peer)
            return
        self.writer.put(item)

    def _report(self, message: CotEvent, event_type: str, details: dict[str, Any],
                user: StoredUser, client: _Client | None, peer: str) -> None:
        now = datetime.now(UTC)
        seen = self._reports_seen.get(message.uid)
        if seen is not None and now - seen < REPORT_REPEAT:
            self.counters.duplicates += 1
            return
        text = f"CoT {message.type} «{message.callsign or message.uid}» from {user.username}"
        if message.remarks:
            text += f": {message.remarks}"
        location: dict[str, Any] = {"lon": message.lon, "lat": message.lat}
        if message.ce < 100_000:
            location["precision_m"] = message.ce
        try:
            item = EventCreate.model_validate({
                "type": event_type, "occurred_at": min(message.time, now),
                "location": location, "details": details,
                "description": text[:8000], "confidence": {"source_reliability": "B",
                                                           "information_credibility": 3},
            })
        except ValidationError as exc:
            self.counters.malformed += 1
            self._warn(client, f"invalid: report {exc.errors()[0]['msg']}", peer)
            return
        if self.writer.put(_Report(item, message.uid)):
            self._reports_seen[message.uid] = now
            while len(self._reports_seen) > 100_000:
                self._reports_seen.popitem(last=False)

    # -- outgoing

    async def _follow_journal(self) -> None:
        after = await asyncio.to_thread(_last_seq, self.node.engine, 0)
        while True:
            # Taken before looking for readers, so a client that authenticates meanwhile
            # misses nothing written after it did.
            last = await asyncio.to_thread(_last_seq, self.node.engine, after)
            readers = [c for c in self._clients
                       if c.user is not None and allows(c.user.role, Permission.read_picture)
                       and c.writer.transport.get_write_buffer_size() <= MAX_CLIENT_BUFFER]
            if not readers:
                # Nobody to tell (or nobody reading): skip ahead rather than read what no
                # one will see; a slow client gets the picture from where it catches up.
                after = last
                await asyncio.sleep(FOLLOW_S)
                continue
            own = [c for c in readers if c.partner is None]
            partners = [c for c in readers if c.partner is not None]
            agreements = {c.partner: c.agreement for c in partners
                          if c.partner is not None and c.agreement is not None}
            messages, shared, after, full = await asyncio.to_thread(
                self._outgoing, after, agreements, bool(own))
            if messages:
                self._broadcast(messages, own)
            for client in partners:
                if shared.get(client.partner or ""):
                    self._broadcast(shared[client.partner or ""], [client])
            if not full:
                await asyncio.sleep(FOLLOW_S)

    def _outgoing(self, after: int, agreements: dict[str, Agreement], own: bool,
                  ) -> tuple[list[CotEvent], dict[str, list[CotEvent]], int, bool]:
        """The CoT of events and assets changed after a cursor (latest version each) for
        this node's users, what each partner's agreement lets through of them, the new
        cursor, and whether there may be more."""
        page = 5000
        with self.node.engine.connect() as conn:
            entries = read_journal(conn, after=after, limit=page,
                                   kinds=[RecordKind.event, RecordKind.asset_position])
            if not entries:
                return [], {}, after, False
            shared = self._shared(conn, entries, agreements) if agreements else {}
            if not own:
                return [], shared, entries[-1].seq, len(entries) == page
            wanted: dict[str, list[str]] = {}
            for e in entries:
                wanted.setdefault(e.kind, []).append(e.record_id)
            messages = []
            for kind, ids in wanted.items():
                table = KINDS[kind].table
                for row in select_in(conn, sa.select(table.c.body), table.c.id, ids):
                    cot = self._as_cot(kind, orjson.loads(row.body))
                    if cot is not None:
                        messages.append(cot)
        return messages, shared, entries[-1].seq, len(entries) == page

    def _shared(self, conn: sa.Connection, entries: list[JournalEntry],
                agreements: dict[str, Agreement]) -> dict[str, list[CotEvent]]:
        """What each partner may see of these changes: the sharing function decides."""
        now = datetime.now(UTC)
        sections = section_infos(self.node.sections.sections)
        held = held_records(conn, entries, self.node.settings.node_id)
        out: dict[str, list[CotEvent]] = {}
        for partner, agreement in agreements.items():
            for entry, record, provenance in held:
                if agreement.to_node in provenance:
                    continue  # it came from that partner: never sent back
                view = share(record, agreement, now=now, sections=sections)
                cot = (None if view is None
                       else self._as_cot(entry.kind, view.body, entry.record_id))
                if cot is not None:
                    out.setdefault(partner, []).append(cot)
        return out

    def _as_cot(self, kind: str, body: dict[str, Any],
                record_id: str | None = None) -> CotEvent | None:
        loc = body.get("location") or {}
        if "lon" not in loc or "lat" not in loc or body.get("handling") == "RED":
            return None  # coarsened received records have no point; RED stays off devices
        now = datetime.now(UTC)
        if kind == RecordKind.asset_position:
            at = moment_or_none(body.get("at")) or now
            return CotEvent(
                uid=str(body.get("asset_id")), type=ASSET_COT_TYPES.get(body.get("kind", ""),
                                                                        "a-f-G"),
                how="m-g", time=now, start=at, stale=stale_after(at, 10),
                lat=loc["lat"], lon=loc["lon"], callsign=str(body.get("name") or "")[:200])
        occurred = moment_or_none(body.get("occurred_at")) or now
        section = body.get("section_id") or "inland"
        return CotEvent(
            uid=f"sitcen-event-{record_id or body.get('id')}",
            type=self.mapping.cot_type(str(body.get("type")), str(body.get("category"))),
            how="h-g-i-g-o", time=now, start=occurred, stale=now + timedelta(hours=12),
            lat=loc["lat"], lon=loc["lon"], ce=float(loc.get("precision_m") or 9_999_999.0),
            callsign=f"{body.get('type')} {section} ({body.get('status') or 'reported'})",
            remarks=str(body.get("description") or "")[:4000] or None)

    def _broadcast(self, messages: list[CotEvent], readers: list[_Client]) -> None:
        xml: list[bytes] | None = None
        proto: list[bytes] | None = None
        for client in readers:
            transport = client.writer.transport
            if transport.is_closing():
                continue
            if transport.get_write_buffer_size() > MAX_CLIENT_BUFFER:
                self._warn(client, "slow: the client does not read; picture updates skipped")
                continue
            if client.protobuf:
                proto = proto or [stream_frame(m) for m in messages]
                client.writer.write(b"".join(proto))
            else:
                xml = xml or [_xml(m) for m in messages]
                client.writer.write(b"".join(xml))
            self.counters.sent += len(messages)

    # -- UDP

    def datagram(self, data: bytes, addr: Any) -> None:
        self.counters.received += 1
        peer = str(addr)
        frame = split_datagram(data)
        try:
            if frame.kind == "error":
                raise CotError(frame.reason)
            message = parse_proto(frame.data) if frame.kind == "proto" else parse_xml(frame.data)
        except CotError as exc:
            self.counters.malformed += 1
            self._warn(None, f"malformed: {exc}", peer)
            return
        if isinstance(message, CotLogin):
            self.counters.unauthenticated += 1
            self._warn(None, "unauthenticated: logins need TCP; put a token in each datagram",
                       peer)
            return
        if not message.token:
            self._accept(message, None, None, peer)
            return
        # The token is usually cached; a miss is one indexed query.
        self._accept(message, self.auth.by_token(message.token), None, peer)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, listener: TakListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            self.listener.datagram(data, addr)
        except Exception:  # one datagram's fault, never the listener's
            log.exception("TAK datagram from %s dropped after an error", addr)


def _xml(message: CotEvent) -> bytes:
    return event_xml(message.uid, message.type, message.lat, message.lon, time=message.time,
                     stale=message.stale, how=message.how, callsign=message.callsign,
                     remarks=message.remarks, ce=message.ce) + b"\n"


def _last_seq(engine: sa.Engine, after: int) -> int:
    with engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(schema.journal.c.seq))).scalar()
    return max(after, int(last or 0))


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
    from sitcen.interop.cot import load_mapping

    s = node.settings
    if not s.tak_port and not s.tak_udp_port:
        return None
    return TakListener(node, load_mapping(s.tak_mapping_file), host=s.tak_host,
                       tcp_port=s.tak_port or None, udp_port=s.tak_udp_port or None,
                       ssl_context=tls_context(s))
