"""CoT from one TAK device to the others, in memory, as soon as it is accepted.

:class:`Router` passes every accepted message of a device that may report
(positions, markers, routes, GeoChat, anything but TAK's pings) on to the
other connected devices of this node's own users, untouched: the bytes the
sender sent, less the sitcen login token of its ``<__auth>`` element. A
message addressed with ``<marti><dest …/>`` goes only to the devices named.
A client that reads the other format gets the same message converted (XML to
TAK protocol and back with :func:`sitcen.interop.cot.xml_as_proto` and
:func:`sitcen.interop.cot.proto_as_xml`).

A partner's liaison is never routed to: what it sees is what the sharing
agreement lets through of the stored records, which
:class:`sitcen.interop.tak_outbound.PictureFeed` decides with
:func:`sitcen.exchange.sharing.share`. Storing what the picture needs stays
:mod:`sitcen.interop.tak_inbound`'s (docs/decisions.md, "TAK devices: routed
in memory, stored beside").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitcen.interop.cot import (
    CotEvent,
    Frame,
    proto_as_xml,
    stream_framed,
    without_token,
    xml_as_proto,
)
from sitcen.interop.tak_outbound import MAX_CLIENT_BUFFER
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

if TYPE_CHECKING:  # the listener's words, for annotations only: no import cycle
    from sitcen.interop.tak import Counters, TakClient

#: How many device uids a client remembers having been sent (so the journal's copy of
#: the same position is not sent again); beyond it the memory starts afresh.
HEARD_REMEMBERED = 100_000


class _Wire:
    """One message in the two formats, each made at most once and only when asked for."""

    def __init__(self, frame: Frame) -> None:
        self.kind = frame.kind
        self.data = without_token(frame)
        self._xml: bytes | None = None
        self._proto: bytes | None = None

    def xml(self) -> bytes:
        if self._xml is None:
            self._xml = (self.data if self.kind == "xml" else proto_as_xml(self.data)) + b"\n"
        return self._xml

    def proto(self) -> bytes:
        if self._proto is None:
            self._proto = (stream_framed(self.data) if self.kind == "proto"
                           else xml_as_proto(self.data))
        return self._proto


class Router:
    """Accepted CoT to the other own devices connected now, in the listener's loop."""

    def __init__(self, counters: Counters, clients: set[TakClient]) -> None:
        self.counters = counters
        self.clients = clients  # the listener's: connected now, authenticated or not

    def route(self, user: StoredUser | None, message: CotEvent, frame: Frame,
              sender: TakClient | None = None) -> None:
        """Pass ``message`` (parsed from ``frame``, sent by ``user`` on the ``sender``
        connection, None for a datagram) on, if that user may report."""
        if frame.kind not in ("xml", "proto") or message.type.startswith("t-x-"):
            return
        if user is None or not allows(user.role, Permission.report_events):
            return
        readers = [c for c in self.clients
                   if c is not sender and c.user is not None and c.partner is None
                   and allows(c.user.role, Permission.read_picture)]
        if message.destinations:
            readers = [c for c in readers
                       if message.destinations & (c.callsigns | c.devices)]
        self.deliver(message, frame, readers)

    def deliver(self, message: CotEvent, frame: Frame, readers: list[TakClient]) -> None:
        """Write the message to each reader in its format; skip one that does not read."""
        if not readers:
            return
        wire = _Wire(frame)
        for client in readers:
            transport = client.writer.transport
            if transport.is_closing():
                continue
            if client.queued() > MAX_CLIENT_BUFFER:
                client.warn("slow: the client does not read; routed messages skipped")
                continue
            client.send_soon(wire.proto() if client.protobuf else wire.xml())
            if len(client.heard) >= HEARD_REMEMBERED:
                client.heard.clear()
            client.heard[message.uid] = max(message.time, client.heard.get(message.uid,
                                                                           message.time))
            self.counters.routed += 1
