"""The situational picture out to TAK devices: the node's events and assets as CoT.

:class:`PictureFeed` follows the journal as the console's live stream does,
reads the latest version of every event and asset position that changed,
and writes it as CoT to every authenticated TCP client allowed to read the
picture: XML, or TAK protocol stream frames once the client has sent one. A
liaison user who speaks for a partner node receives only what the sharing
agreement with that node lets through (:func:`sitcen.exchange.sharing.share`
decides, as for federation, TAXII and CAP). RED records and records without
a point never leave. Sockets and who the clients are are
:mod:`sitcen.interop.tak`'s.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.outbox import held_records
from sitcen.exchange.sharing import section_infos, share
from sitcen.interop.cot import (
    ASSET_COT_TYPES,
    UNKNOWN,
    CotEvent,
    CotMapping,
    event_xml,
    sensor_element,
    stale_after,
    stream_frame,
)
from sitcen.interop.drones import sensor_of
from sitcen.store import schema
from sitcen.store.journal import KINDS, JournalEntry, RecordKind, read_journal
from sitcen.store.sql import select_in
from sitcen.times import moment_or_none
from sitcen.users import Permission, allows

if TYPE_CHECKING:  # the listener's words, for annotations only: no import cycle
    from sitcen.interop.tak import Counters, NodeLike, TakClient

#: How often the feed looks at the journal (as the live stream does).
FOLLOW_S = 0.2
#: Journal entries read at a time.
PAGE = 5000
#: Bytes queued to a slow TAK client beyond which frames for it are dropped.
MAX_CLIENT_BUFFER = 2 * 1024 * 1024
#: How long an event stays on a device's map without news of it.
EVENT_STALE = timedelta(hours=12)
#: How long an asset's position stays on a device's map, in minutes.
POSITION_STALE_MIN = 10


class PictureFeed:
    """Events and asset positions, as they change, to the TAK clients that may read them."""

    def __init__(self, node: NodeLike, mapping: CotMapping, counters: Counters,
                 clients: set[TakClient]) -> None:
        self.node = node
        self.mapping = mapping
        self.counters = counters
        self.clients = clients  # the listener's: connected now, authenticated or not

    async def follow(self) -> None:
        """Send what is written from now on, until cancelled."""
        after = await asyncio.to_thread(_last_seq, self.node.engine, 0)
        while True:
            # Taken before looking for readers, so a client that authenticates meanwhile
            # misses nothing written after it did.
            last = await asyncio.to_thread(_last_seq, self.node.engine, after)
            readers = [c for c in self.clients
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
                self._changes, after, agreements, bool(own))
            if messages:
                self.broadcast(messages, own)
            for client in partners:
                if shared.get(client.partner or ""):
                    self.broadcast(shared[client.partner or ""], [client])
            if not full:
                await asyncio.sleep(FOLLOW_S)

    def _changes(self, after: int, agreements: dict[str, Agreement], own: bool,
                 ) -> tuple[list[CotEvent], dict[str, list[CotEvent]], int, bool]:
        """The CoT of events and assets changed after a cursor (latest version each) for
        this node's users, what each partner's agreement lets through of them, the new
        cursor, and whether there may be more."""
        with self.node.engine.connect() as conn:
            entries = read_journal(conn, after=after, limit=PAGE,
                                   kinds=[RecordKind.event, RecordKind.asset_position])
            if not entries:
                return [], {}, after, False
            shared = self._shared(conn, entries, agreements) if agreements else {}
            if not own:
                return [], shared, entries[-1].seq, len(entries) == PAGE
            wanted: dict[str, list[str]] = {}
            for e in entries:
                wanted.setdefault(e.kind, []).append(e.record_id)
            messages = []
            for kind, ids in wanted.items():
                table = KINDS[kind].table
                for row in select_in(conn, sa.select(table.c.body), table.c.id, ids):
                    cot = self.as_cot(kind, orjson.loads(row.body))
                    if cot is not None:
                        messages.append(cot)
        return messages, shared, entries[-1].seq, len(entries) == PAGE

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
                # A coarsened view has no footprint (sharing.EXACT_SHAPES), so no sensor.
                view = share(record, agreement, now=now, sections=sections)
                cot = (None if view is None
                       else self.as_cot(entry.kind, view.body, entry.record_id))
                if cot is not None:
                    out.setdefault(partner, []).append(cot)
        return out

    def as_cot(self, kind: str, body: dict[str, Any],
               record_id: str | None = None) -> CotEvent | None:
        """An event or asset position (its JSON body) as CoT; None for one that stays home.
        A drone's position carries its sensor's field of view (``<sensor>``) when the body
        has its footprint."""
        loc = body.get("location") or {}
        if "lon" not in loc or "lat" not in loc or body.get("handling") == "RED":
            return None  # coarsened received records have no point; RED stays off devices
        now = datetime.now(UTC)
        if kind == RecordKind.asset_position:
            at = moment_or_none(body.get("at")) or now
            seen = sensor_of(body)
            return CotEvent(
                uid=str(body.get("asset_id")), type=ASSET_COT_TYPES.get(body.get("kind", ""),
                                                                        "a-f-G"),
                how="m-g", time=now, start=at, stale=stale_after(at, POSITION_STALE_MIN),
                lat=loc["lat"], lon=loc["lon"], callsign=str(body.get("name") or "")[:200],
                extra=() if seen is None else (sensor_element(seen),))
        occurred = moment_or_none(body.get("occurred_at")) or now
        section = body.get("section_id") or "inland"
        return CotEvent(
            uid=f"sitcen-event-{record_id or body.get('id')}",
            type=self.mapping.cot_type(str(body.get("type")), str(body.get("category"))),
            how="h-g-i-g-o", time=now, start=occurred, stale=now + EVENT_STALE,
            lat=loc["lat"], lon=loc["lon"], ce=float(loc.get("precision_m") or UNKNOWN),
            callsign=f"{body.get('type')} {section} ({body.get('status') or 'reported'})",
            remarks=str(body.get("description") or "")[:4000] or None)

    def broadcast(self, messages: list[CotEvent], readers: list[TakClient]) -> None:
        """Write the messages to each reader in its format; skip one that does not read,
        and the positions a reader already has from the device itself (tak_router.py)."""
        xml: dict[int, bytes] = {}
        proto: dict[int, bytes] = {}
        for client in readers:
            transport = client.writer.transport
            if transport.is_closing():
                continue
            if transport.get_write_buffer_size() > MAX_CLIENT_BUFFER:
                client.warn("slow: the client does not read; picture updates skipped")
                continue
            wanted = [i for i, m in enumerate(messages) if not _heard(client, m)]
            if not wanted:
                continue
            made, make = (proto, stream_frame) if client.protobuf else (xml, _xml)
            for i in wanted:
                if i not in made:
                    made[i] = make(messages[i])
            client.writer.write(b"".join(made[i] for i in wanted))
            self.counters.sent += len(wanted)


def _heard(client: TakClient, message: CotEvent) -> bool:
    """Whether the client was routed this message's uid at its time or later."""
    at = client.heard.get(message.uid)
    return at is not None and message.start <= at


def _xml(message: CotEvent) -> bytes:
    return event_xml(message.uid, message.type, message.lat, message.lon, time=message.time,
                     stale=message.stale, how=message.how, callsign=message.callsign,
                     remarks=message.remarks, ce=message.ce, extra=message.extra) + b"\n"


def _last_seq(engine: sa.Engine, after: int) -> int:
    """The journal's last sequence number, or ``after`` when that is later."""
    with engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(schema.journal.c.seq))).scalar()
    return max(after, int(last or 0))
