"""Cursor-on-Target: reading and writing CoT messages, and what each CoT type becomes.

CoT XML from the field is untrusted: it is parsed by expat (the C parser) with
any document type declaration refused as soon as it starts (so no entity is
ever declared, expanded or fetched: what ``defusedxml``'s ``forbid_dtd``
does, without its pure-Python tree builder, which took two thirds of a
position's parsing time), only UTF-8 is accepted, and no message may exceed
:data:`MAX_MESSAGE_BYTES`. TAK protocol
version 1 (protobuf, "mesh" datagrams and "stream" framing) is decoded with
``takproto``'s message classes; the XML inside its ``xmlDetail`` goes through
the same hardened parser.

What a CoT type becomes is data (:class:`CotMapping`, a YAML or JSON file,
:data:`DEFAULT_MAPPING` when none is given): own units (``a-f-…``) become
asset positions, hostile, unknown and suspect objects and a few report types
become event reports, and events leave for TAK clients with a CoT type of
their own. No network and no database here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat

import yaml
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from pydantic import ValidationError
from takproto.constants import TAKProtoVer  # type: ignore[import-untyped]
from takproto.functions import msg2proto, xml2message  # type: ignore[import-untyped]
from takproto.proto import TakMessage  # type: ignore[import-untyped]

from sitcen.events import Details
from sitcen.taxonomy import EVENT_TYPES
from sitcen.times import as_utc, iso, parse_moment

#: The largest CoT message (XML or protobuf) a listener accepts.
MAX_MESSAGE_BYTES = 64 * 1024
#: CoT's "unknown" value for height and errors.
UNKNOWN = 9_999_999.0
#: The first bytes of TAK protocol version 1 mesh datagrams and stream frames.
MESH_HEADER = b"\xbf\x01\xbf"
STREAM_MAGIC = 0xBF

_TYPE = re.compile(r"^[a-z](-[A-Za-z0-9_.]{1,24}){0,15}$")
_UID = re.compile(r"^[^\x00-\x1f<>&]{1,128}$")
_DECLARATION = re.compile(rb"^\s*<\?xml\b([^>]*)\?>\s*$", re.DOTALL)
_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*\bencoding\s*=\s*["']([^"']+)["']""")


class CotError(ValueError):
    """A message that is not acceptable CoT; the text says why (for the log)."""


@dataclass(frozen=True)
class CotEvent:
    """The parts of a CoT ``<event>`` that sitcen uses."""

    uid: str
    type: str
    how: str
    time: datetime
    start: datetime
    stale: datetime
    lat: float
    lon: float
    hae: float = UNKNOWN
    ce: float = UNKNOWN
    le: float = UNKNOWN
    callsign: str | None = None
    remarks: str | None = None
    #: A sitcen login token from ``<detail><__auth token="…"/></detail>``.
    token: str | None = None
    #: The uids of the ``<link>`` elements (what the message refers to: a sender, a task).
    links: tuple[str, ...] = ()
    #: GeoChat: the sender's callsign (``<__chat senderCallsign="…">``).
    chat_from: str | None = None
    #: Outgoing only: more ``<detail>`` elements to write (a chat, a destination).
    extra: tuple[ET.Element, ...] = ()
    #: Whom the sender addressed (``<marti><dest callsign="…"/>`` or ``uid="…"``): callsigns
    #: casefolded, and uids; empty for a message to everyone.
    destinations: frozenset[str] = frozenset()
    #: The attributes of ``<detail><sensor …/></detail>`` as sent (a field of view), unchecked:
    #: :func:`sensor_view` reads them.
    sensor: Mapping[str, str] | None = None


@dataclass(frozen=True)
class CotSensor:
    """What a sensor sees, from a CoT ``<sensor azimuth="…" fov="…" range="…"/>``.

    The attributes are ATAK's (its SensorDetailHandler, after the CoT sensor schema):
    ``azimuth`` in degrees from true north, ``fov`` the horizontal field of view edge to
    edge in degrees, ``range`` in metres.
    """

    azimuth_deg: float
    fov_deg: float
    range_m: float


#: The farthest a sensor's range is believed (ATAK draws a field of view up to 15 km; a
#: drone's gimballed camera sees no farther than this).
MAX_SENSOR_RANGE_M = 50_000.0


def sensor_view(attributes: Mapping[str, str]) -> CotSensor:
    """The field of view of a ``<sensor>`` element; :class:`CotError` naming the attribute
    when one is missing or nonsense (a field of view outside 0–360°, a range not above 0)."""
    azimuth = _number(attributes.get("azimuth"), "sensor azimuth", 0, 360)
    fov = _number(attributes.get("fov"), "sensor fov", 0, 360)
    if fov == 0:
        raise CotError("sensor fov 0 sees nothing")
    range_m = _number(attributes.get("range"), "sensor range", 0, MAX_SENSOR_RANGE_M)
    if range_m == 0:
        raise CotError("sensor range 0 sees nothing")
    return CotSensor(azimuth % 360, fov, range_m)


def sensor_element(sensor: CotSensor) -> ET.Element:
    """A field of view as the ``<sensor azimuth="…" fov="…" range="…"/>`` that
    :func:`sensor_view` reads (the detail element ATAK draws a sensor's cone from)."""
    def decimal(value: float) -> str:  # to a thousandth of a degree or metre
        return f"{value:.3f}".rstrip("0").rstrip(".")

    return ET.Element("sensor", {"azimuth": decimal(sensor.azimuth_deg),
                                 "fov": decimal(sensor.fov_deg), "range": decimal(sensor.range_m)})


@dataclass(frozen=True)
class CotLogin:
    """ATAK's first message on a streaming connection with "Use Authentication" set."""

    username: str
    password: str
    uid: str


# --------------------------------------------------------------------------- reading


def _check_bytes(data: bytes) -> None:
    if len(data) > MAX_MESSAGE_BYTES:
        raise CotError(f"message of {len(data)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    declared = _ENCODING.match(data)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in ("utf-8",
                                                                                 "utf8"):
        raise CotError(f"encoding {declared.group(1).decode('ascii', 'replace')!r} refused; "
                       "send UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CotError(f"not UTF-8 (byte {exc.start})") from None


class _Refused(Exception):
    """A construct the parser will not read (raised from expat's handlers)."""


def _refuse_dtd(*_args: object) -> Any:
    raise _Refused("DTDForbidden")


def _parse(data: bytes) -> ET.Element:
    _check_bytes(data)
    builder = ET.TreeBuilder()
    # A namespace separator, as ElementTree's own parser has: a namespaced element is
    # "uri}name", never "event" (CoT uses none).
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    # Refused where the declaration starts, before its internal subset is read: no entity
    # can be declared, so none is expanded (billion laughs) or fetched (XXE).
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise CotError(f"refused XML construct: {exc}") from None
    except expat.ExpatError as exc:
        raise CotError(f"malformed XML: {exc}") from None
    root: ET.Element = builder.close()
    return root


def _time(value: str | None, name: str) -> datetime:
    if not value:
        raise CotError(f"event has no {name}")
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise CotError(f"{name} {value[:40]!r}: {exc}") from None


def _number(value: str | float | None, name: str, low: float, high: float,
            default: float | None = None) -> float:
    if value is None or value == "":
        if default is None:
            raise CotError(f"point has no {name}")
        return default
    try:
        number = float(value)
    except ValueError:
        raise CotError(f"{name} {str(value)[:40]!r} is not a number") from None
    if not low <= number <= high:  # also refuses NaN
        raise CotError(f"{name} {number} outside {low}..{high}")
    return number


def _text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


@dataclass(frozen=True)
class _Detail:
    callsign: str | None = None
    remarks: str | None = None
    token: str | None = None
    links: tuple[str, ...] = ()
    chat_from: str | None = None
    destinations: frozenset[str] = frozenset()
    sensor: Mapping[str, str] | None = None


def _destinations(detail: ET.Element) -> frozenset[str]:
    """The callsigns (casefolded) and uids a message's ``<marti>`` addresses."""
    names: set[str] = set()
    for dest in detail.findall("marti/dest")[:64]:
        callsign, uid = _text(dest.get("callsign"), 200), _text(dest.get("uid"), 128)
        names.update(n for n in (callsign and callsign.casefold(), uid) if n)
    return frozenset(names)


def _details(detail: ET.Element | None) -> _Detail:
    """Callsign, remarks, auth token, links and a chat's sender from a ``<detail>``."""
    if detail is None:
        return _Detail()
    contact = detail.find("contact")
    remarks = detail.find("remarks")
    auth = detail.find("__auth")
    chat = detail.find("__chat")
    sensor = detail.find("sensor")
    links = tuple(uid for uid in (_text(link.get("uid"), 128)
                                  for link in detail.findall("link")[:8]) if uid)
    return _Detail(_text(contact.get("callsign") if contact is not None else None, 200),
                   _text(remarks.text if remarks is not None else None, 4000),
                   _text(auth.get("token") if auth is not None else None, 256), links,
                   _text(chat.get("senderCallsign") if chat is not None else None, 200),
                   _destinations(detail),
                   None if sensor is None else {k: v[:40] for k, v in sensor.attrib.items()})


def _event(uid: str | None, cot_type: str | None, how: str | None,
           times: tuple[datetime, datetime, datetime],
           point: tuple[float, float, float, float, float],
           detail: ET.Element | None, callsign: str | None = None) -> CotEvent:
    if not uid or not _UID.match(uid):
        raise CotError("event uid missing or not 1-128 printable characters")
    if not cot_type or not _TYPE.match(cot_type):
        raise CotError(f"event type {str(cot_type)[:40]!r} is not a CoT type such as a-f-G-U-C")
    found = _details(detail)
    lat, lon, hae, ce, le = point
    return CotEvent(uid=uid, type=cot_type, how=(how or "h-g-i-g-o")[:16], time=times[0],
                    start=times[1], stale=times[2], lat=lat, lon=lon, hae=hae, ce=ce, le=le,
                    callsign=callsign or found.callsign, remarks=found.remarks,
                    token=found.token, links=found.links, chat_from=found.chat_from,
                    destinations=found.destinations, sensor=found.sensor)


def parse_xml(data: bytes) -> CotEvent | CotLogin:
    """One CoT ``<event>`` (or ATAK ``<auth>``) message; :class:`CotError` if unacceptable."""
    root = _parse(data)
    if root.tag == "auth":
        cot = root.find("cot")
        if cot is None or not cot.get("username") or cot.get("password") is None:
            raise CotError("auth message without <cot username=… password=…>")
        return CotLogin(str(cot.get("username"))[:64], str(cot.get("password"))[:256],
                        str(cot.get("uid") or "")[:128])
    if root.tag != "event":
        raise CotError(f"root element {root.tag[:80]!r} is not a CoT <event> "
                       "(CoT uses no XML namespace)")
    point = root.find("point")
    if point is None:
        raise CotError("event has no <point>")
    times = (_time(root.get("time"), "time"), _time(root.get("start") or root.get("time"),
                                                       "start"),
             _time(root.get("stale"), "stale"))
    where = (_number(point.get("lat"), "lat", -90, 90), _number(point.get("lon"), "lon", -180, 180),
             _number(point.get("hae"), "hae", -20_000, UNKNOWN, UNKNOWN),
             _number(point.get("ce"), "ce", 0, UNKNOWN, UNKNOWN),
             _number(point.get("le"), "le", 0, UNKNOWN, UNKNOWN))
    return _event(root.get("uid"), root.get("type"), root.get("how"), times, where,
                  root.find("detail"))


def _from_millis(value: int, name: str) -> datetime:
    try:
        return as_utc(datetime.fromtimestamp(value / 1000, UTC))
    except (ValueError, OverflowError, OSError) as exc:
        raise CotError(f"{name} {value}: {exc}") from None


def parse_proto(payload: bytes) -> CotEvent:
    """One TAK protocol version 1 message (the protobuf, without mesh header or length)."""
    if len(payload) > MAX_MESSAGE_BYTES:
        raise CotError(f"message of {len(payload)} bytes is over the limit of "
                       f"{MAX_MESSAGE_BYTES}")
    message = TakMessage()
    try:
        message.ParseFromString(payload)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise CotError(f"malformed TAK protobuf: {exc}") from None
    if not message.HasField("cotEvent"):
        raise CotError("TAK message without a cotEvent")
    ev = message.cotEvent
    times = (_from_millis(ev.sendTime, "sendTime"),
             _from_millis(ev.startTime or ev.sendTime, "startTime"),
             _from_millis(ev.staleTime, "staleTime"))
    where = (_number(ev.lat, "lat", -90, 90), _number(ev.lon, "lon", -180, 180),
             _number(ev.hae, "hae", -20_000, UNKNOWN), _number(ev.ce, "ce", 0, UNKNOWN),
             _number(ev.le, "le", 0, UNKNOWN))
    detail = None
    if ev.detail.xmlDetail:
        xml = ev.detail.xmlDetail.encode("utf-8")
        detail = _parse(b"<detail>" + xml + b"</detail>")
    callsign = _text(ev.detail.contact.callsign, 200) if ev.detail.HasField("contact") else None
    return _event(ev.uid, ev.type, ev.how, times, where, detail, callsign)


@dataclass(frozen=True)
class Frame:
    """One message cut from a stream: XML text, a protobuf payload, or an error."""

    kind: str  # "xml", "proto" or "error"
    data: bytes
    reason: str = ""


_END_TAGS = (b"</event>", b"</auth>")


class StreamSplitter:
    """Cuts a TCP byte stream into CoT messages (XML or TAK protocol stream frames).

    A message over the size limit is reported and skipped (XML up to its end
    tag, protobuf by its declared length) so the connection stays usable; a
    truncated XML message followed by a new one is reported and the new one kept.
    """

    def __init__(self, limit: int = MAX_MESSAGE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._discard_xml = False
        self._skip = 0  # protobuf bytes still to skip

    def feed(self, data: bytes) -> Iterator[Frame]:
        """The complete messages the stream holds after ``data`` arrived."""
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        self._buffer += data
        buf = self._buffer
        while True:
            if self._discard_xml:
                end = _first_end(buf)
                if end < 0:
                    del buf[:-8]
                    return
                del buf[:end]
                self._discard_xml = False
            start = 0
            while start < len(buf) and buf[start] in b" \t\r\n":
                start += 1
            del buf[:start]
            if not buf:
                return
            if buf[0] == STREAM_MAGIC:
                frame = self._proto(buf)
                if frame is None:
                    return
                yield frame
                continue
            end = _first_end(buf)
            if end < 0:
                if len(buf) > self.limit:
                    yield Frame("error", b"", f"message over {self.limit} bytes without an end "
                                              "tag; skipped to the next </event>")
                    self._discard_xml = True
                    continue
                return
            message = bytes(buf[:end])
            del buf[:end]
            yield from _xml_frames(message, self.limit)

    def _proto(self, buf: bytearray) -> Frame | None:
        size, shift, pos = 0, 0, 1
        while True:
            if pos >= len(buf):
                return None if pos < 11 else Frame("error", b"", "bad varint length")
            byte = buf[pos]
            size |= (byte & 0x7F) << shift
            pos += 1
            if not byte & 0x80:
                break
            shift += 7
            if shift > 63:
                del buf[:pos]
                return Frame("error", b"", "bad varint length")
        if size > self.limit:
            have = len(buf) - pos
            self._skip = max(0, size - have)
            del buf[:pos + min(size, have)]
            return Frame("error", b"", f"TAK protobuf of {size} bytes is over {self.limit}")
        if len(buf) - pos < size:
            return None
        payload = bytes(buf[pos:pos + size])
        del buf[:pos + size]
        return Frame("proto", payload)


def _first_end(buf: bytearray) -> int:
    """Index just past the first end tag of a message, or -1."""
    ends = [i + len(tag) for tag in _END_TAGS if (i := buf.find(tag)) >= 0]
    return min(ends) if ends else -1


def _xml_frames(message: bytes, limit: int) -> Iterator[Frame]:
    opener = b"<auth" if message.endswith(b"</auth>") else b"<event"
    begin = message.rfind(opener)
    if begin > 0:
        before = message[:begin]
        if before.strip() and not _DECLARATION.match(before):
            yield Frame("error", b"", "truncated message (a new one began before its end)")
            message = message[begin:]
    if len(message) > limit:
        yield Frame("error", b"", f"message of {len(message)} bytes is over {limit}")
        return
    yield Frame("xml", message)


def split_datagram(data: bytes) -> Frame:
    """What one UDP datagram holds: XML, a mesh (or stream-framed) protobuf, or an error."""
    if data.startswith(MESH_HEADER):
        return Frame("proto", data[len(MESH_HEADER):])
    if data[:1] == bytes([STREAM_MAGIC]):
        frames = list(StreamSplitter().feed(data))
        return frames[0] if len(frames) == 1 else Frame("error", b"", "bad TAK stream datagram")
    return Frame("xml", data)


# --------------------------------------------------------------------------- passing on

#: A ``<__auth …/>`` element (sitcen's token in a detail): it never leaves for other devices.
_AUTH = re.compile(r"""<__auth(?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*"""
                   r"""(?:/>|>[^<]*</__auth\s*>)""")
#: TAK protocol's structured ``<detail>`` fields and the CoT XML elements they stand for.
_PROTO_DETAIL = (("contact", "contact", ("endpoint", "callsign")),
                 ("group", "__group", ("name", "role")),
                 ("precisionLocation", "precisionlocation", ("geopointsrc", "altsrc")),
                 ("status", "status", ("battery",)),
                 ("takv", "takv", ("device", "platform", "os", "version")),
                 ("track", "track", ("speed", "course")))


def without_token(frame: Frame) -> bytes:
    """A message's bytes as other devices get them: the sender's ``<__auth>`` token cut out,
    nothing else changed. For an XML frame, its text; for a protobuf one, the payload."""
    if frame.kind == "xml":
        if b"__auth" not in frame.data:
            return frame.data
        return _AUTH.sub("", frame.data.decode("utf-8")).encode("utf-8")
    message = TakMessage()
    message.ParseFromString(frame.data)
    detail = message.cotEvent.detail
    if "__auth" not in detail.xmlDetail:
        return frame.data
    detail.xmlDetail = _AUTH.sub("", detail.xmlDetail)
    return bytes(message.SerializeToString())


def stream_framed(payload: bytes) -> bytes:
    """A TAK protocol payload in stream framing: 0xbf, its length as a varint, the payload."""
    size, head = len(payload), bytearray([STREAM_MAGIC])
    while size > 0x7F:
        head.append((size & 0x7F) | 0x80)
        size >>= 7
    head.append(size)
    return bytes(head) + payload


def _millis_iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def xml_as_proto(data: bytes) -> bytes:
    """A CoT XML message (already accepted by :func:`parse_xml`) as a TAK protocol stream
    frame: takproto's conversion, with the rest of the detail kept in UTF-8 (takproto
    writes every non-ASCII character of it as a character reference)."""
    message = xml2message(data)
    detail = message.cotEvent.detail
    if detail.xmlDetail:
        parts = _parse(b"<detail>" + detail.xmlDetail.encode("utf-8") + b"</detail>")
        detail.xmlDetail = "".join(ET.tostring(e, encoding="unicode") for e in parts)
    return bytes(msg2proto(message, TAKProtoVer.STREAM))


def proto_as_xml(payload: bytes) -> bytes:
    """A TAK protocol payload as the CoT XML it stands for (for a client that reads XML).

    The event's attributes, its point, its structured detail fields as their
    XML elements and the rest of the detail (``xmlDetail``) as it came.
    """
    message = TakMessage()
    message.ParseFromString(payload)
    ev = message.cotEvent
    root = ET.Element("event", {"version": "2.0", "uid": ev.uid, "type": ev.type,
                                "how": ev.how, "time": _millis_iso(ev.sendTime),
                                "start": _millis_iso(ev.startTime or ev.sendTime),
                                "stale": _millis_iso(ev.staleTime)})
    for name in ("access", "qos", "opex"):
        if getattr(ev, name):
            root.set(name, getattr(ev, name))
    ET.SubElement(root, "point", {n: repr(float(getattr(ev, n)))
                                  for n in ("lat", "lon", "hae", "ce", "le")})
    detail = ET.SubElement(root, "detail")
    for field_name, tag, attributes in _PROTO_DETAIL:
        if ev.detail.HasField(field_name):
            part = getattr(ev.detail, field_name)
            ET.SubElement(detail, tag, {a: str(getattr(part, a)) for a in attributes})
    if ev.detail.xmlDetail:
        detail.extend(list(_parse(b"<detail>" + ev.detail.xmlDetail.encode("utf-8")
                                  + b"</detail>")))
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))


# --------------------------------------------------------------------------- writing


def event_xml(uid: str, cot_type: str, lat: float, lon: float, *, time: datetime,
              stale: datetime, how: str = "h-g-i-g-o", callsign: str | None = None,
              remarks: str | None = None, ce: float = UNKNOWN, token: str | None = None,
              extra: Sequence[ET.Element] = ()) -> bytes:
    """A CoT ``<event>`` as UTF-8 XML with its declaration."""
    stamp = iso(time, "milliseconds")  # TAK devices write and expect .SSSZ
    root = ET.Element("event", {"version": "2.0", "uid": uid, "type": cot_type, "how": how,
                                "time": stamp, "start": stamp, "stale": iso(stale, "milliseconds")})
    ET.SubElement(root, "point", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}", "hae": f"{UNKNOWN}",
                                  "ce": f"{ce}", "le": f"{UNKNOWN}"})
    detail = ET.SubElement(root, "detail")
    if callsign:
        ET.SubElement(detail, "contact", {"callsign": callsign})
    if remarks:
        ET.SubElement(detail, "remarks").text = remarks
    if token:
        ET.SubElement(detail, "__auth", {"token": token})
    detail.extend(extra)
    xml: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml


def stream_frame(event: CotEvent) -> bytes:
    """A CoT event as a TAK protocol version 1 stream frame (0xbf, length, protobuf)."""
    message = TakMessage()
    ev = message.cotEvent
    ev.type, ev.uid, ev.how = event.type, event.uid, event.how
    ev.sendTime = int(event.time.timestamp() * 1000)
    ev.startTime = int(event.start.timestamp() * 1000)
    ev.staleTime = int(event.stale.timestamp() * 1000)
    ev.lat, ev.lon, ev.hae, ev.ce, ev.le = event.lat, event.lon, event.hae, event.ce, event.le
    if event.callsign:
        ev.detail.contact.callsign = event.callsign
    elements = list(event.extra)
    if event.remarks:
        remarks = ET.Element("remarks")
        remarks.text = event.remarks
        elements.insert(0, remarks)
    if elements:
        ev.detail.xmlDetail = "".join(ET.tostring(e, encoding="unicode") for e in elements)
    return bytes(msg2proto(message, TAKProtoVer.STREAM))


def chat_detail(*, sender_uid: str, sender_callsign: str, to_uid: str, to_callsign: str,
                text: str, at: datetime, links: Sequence[str] = ()) -> tuple[ET.Element, ...]:
    """The ``<detail>`` elements of a GeoChat message (``b-t-f``) to one device.

    ATAK shows it as a direct message from ``sender_callsign`` and lets the
    user answer it; ``<marti><dest callsign=…/>`` addresses it to the device.
    """
    chat = ET.Element("__chat", {"parent": "RootContactGroup", "groupOwner": "false",
                                 "chatroom": to_callsign, "id": to_uid,
                                 "senderCallsign": sender_callsign})
    ET.SubElement(chat, "chatgrp", {"uid0": sender_uid, "uid1": to_uid, "id": to_uid})
    elements = [chat, ET.Element("link", {"uid": sender_uid, "type": "a-f-G-U-C-I",
                                          "relation": "p-p"})]
    elements += [ET.Element("link", {"uid": uid, "relation": "p-p"}) for uid in links]
    remarks = ET.Element("remarks", {"source": f"BAO.F.ATAK.{sender_uid}", "to": to_uid,
                                     "time": iso(at, "milliseconds")})
    remarks.text = text
    elements += [remarks, addressed_to(to_callsign)]
    return tuple(elements)


def addressed_to(callsign: str) -> ET.Element:
    """``<marti><dest callsign=…/></marti>``: the message is for that device only."""
    marti = ET.Element("marti")
    ET.SubElement(marti, "dest", {"callsign": callsign})
    return marti


# --------------------------------------------------------------------------- mapping

#: What CoT types become when no mapping file is configured (see docs/tak.md).
DEFAULT_MAPPING: dict[str, Any] = {
    "assets": {
        "a-f-A": "aircraft",
        "a-f-G-E-V": "vehicle",
        "a-f-G-E-S": "sensor",
        "a-f": "patrol",
    },
    "reports": {
        "a-h-A": {"type": "suspicious_aircraft", "details": {"aircraft_kind": "unknown"}},
        "a-u-A": {"type": "suspicious_aircraft", "details": {"aircraft_kind": "unknown"}},
        "a-s-A": {"type": "suspicious_aircraft", "details": {"aircraft_kind": "unknown"}},
        "a-h-G-E-V": "suspicious_vehicle",
        "a-u-G-E-V": "suspicious_vehicle",
        "a-s-G-E-V": "suspicious_vehicle",
        "a-h": "suspicious_person",
        "a-u": "suspicious_person",
        "a-s": "suspicious_person",
        "b-a-o-opn": "armed_incident",
        "b-d": "suspicious_person",
    },
    "outgoing": {
        "suspicious_aircraft": "a-u-A",
        "suspicious_vehicle": "a-u-G-E-V",
        "stolen_vehicle": "a-h-G-E-V",
        "unauthorised_crossing": "a-h-G",
        "cross_border_crime": "a-h-G",
        "crisis": "a-n-G",
        "other": "a-u-G",
    },
}

#: Own asset kinds → CoT types sent to TAK clients.
ASSET_COT_TYPES: dict[str, str] = {
    "patrol": "a-f-G-U-C", "vehicle": "a-f-G-E-V", "sensor": "a-f-G-E-S",
    "camera": "a-f-G-E-S", "aircraft": "a-f-A",
}
ASSET_KINDS = frozenset(ASSET_COT_TYPES)


class MappingError(ValueError):
    """A mapping file that cannot be used; the text names the entry."""


@dataclass(frozen=True)
class ReportRule:
    """What a CoT report type becomes: an event type and fixed details."""

    type: str
    details: dict[str, Any]


def _matches(cot_type: str, prefix: str) -> bool:
    return cot_type == prefix or cot_type.startswith(prefix + "-")


def _longest(table: Mapping[str, Any], cot_type: str) -> Any:
    best = max((p for p in table if _matches(cot_type, p)), key=len, default=None)
    return None if best is None else table[best]


@dataclass(frozen=True)
class CotMapping:
    """CoT type prefixes → asset kinds and event types, and event types → CoT types."""

    assets: dict[str, str]
    reports: dict[str, ReportRule]
    outgoing: dict[str, str]

    def asset_kind(self, cot_type: str) -> str | None:
        """The asset kind of an own unit of this CoT type (None when not an own unit)."""
        kind: str | None = _longest(self.assets, cot_type)
        return kind

    def report(self, cot_type: str) -> ReportRule | None:
        """The event an object of this CoT type is reported as (None when not mapped)."""
        rule: ReportRule | None = _longest(self.reports, cot_type)
        return rule

    def cot_type(self, event_type: str, category: str) -> str:
        """The CoT type an event is sent to TAK clients with."""
        return self.outgoing.get(event_type) or self.outgoing.get(category) or "a-u-G"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CotMapping:
        """Check a mapping document; unknown sections, kinds, types or details are errors."""
        if not isinstance(data, Mapping):
            raise MappingError("the mapping must be an object with assets, reports, outgoing")
        unknown = set(data) - {"assets", "reports", "outgoing"}
        if unknown:
            raise MappingError(f"unknown section(s): {', '.join(sorted(map(str, unknown)))}")
        sections = {name: data.get(name, DEFAULT_MAPPING[name]) or {}
                    for name in ("assets", "reports", "outgoing")}
        for name, table in sections.items():
            if not isinstance(table, Mapping):
                raise MappingError(f"{name}: must map keys to values")
        assets: dict[str, str] = {}
        for prefix, kind in sections["assets"].items():
            _check_prefix("assets", prefix)
            if kind not in ASSET_KINDS:
                raise MappingError(f"assets.{prefix}: {kind!r} is not one of "
                                   f"{', '.join(sorted(ASSET_KINDS))}")
            assets[prefix] = kind
        reports = {prefix: _report_prefix(prefix, value)
                   for prefix, value in sections["reports"].items()}
        outgoing: dict[str, str] = {}
        categories = {t.category.value for t in EVENT_TYPES.values()}
        for key, cot_type in sections["outgoing"].items():
            if key not in EVENT_TYPES and key not in categories:
                raise MappingError(f"outgoing.{key}: not an event type or category")
            if not isinstance(cot_type, str) or not _TYPE.match(cot_type):
                raise MappingError(f"outgoing.{key}: {cot_type!r} is not a CoT type")
            outgoing[key] = cot_type
        return cls(assets, reports, outgoing)


def _check_prefix(section: str, prefix: Any) -> None:
    if not isinstance(prefix, str) or not _TYPE.match(prefix):
        raise MappingError(f"{section}: {prefix!r} is not a CoT type prefix such as a-h-G")


def _report_prefix(prefix: Any, value: Any) -> ReportRule:
    _check_prefix("reports", prefix)
    return report_rule(f"reports.{prefix}", value)


def report_rule(where: str, value: Any) -> ReportRule:
    """An event type, or ``{type, details}``, checked against the taxonomy (``where`` names it)."""
    spec = {"type": value} if isinstance(value, str) else value
    if not isinstance(spec, Mapping) or set(spec) - {"type", "details"}:
        raise MappingError(f"{where}: give an event type, or {{type, details}}")
    etype = EVENT_TYPES.get(str(spec.get("type")))
    if etype is None:
        raise MappingError(f"{where}: {spec.get('type')!r} is not an event type")
    try:
        details = Details.model_validate(spec.get("details") or {})
    except ValidationError as exc:
        raise MappingError(f"{where}.details: {exc.errors()[0]['msg']}") from None
    given = details.model_dump(mode="json")
    stray = set(given) - set(etype.details)
    missing = set(etype.required) - set(given)
    if stray or missing:
        raise MappingError(f"{where}: type {etype.id} "
                           + (f"takes no {', '.join(sorted(stray))}" if stray else
                              f"needs details {', '.join(sorted(missing))}"))
    return ReportRule(etype.id, given)


def load_mapping(path: Path | None) -> CotMapping:
    """The mapping in a YAML or JSON file (JSON is YAML), or the defaults when ``path`` is None."""
    if path is None:
        return CotMapping.from_dict(DEFAULT_MAPPING)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    try:
        return CotMapping.from_dict(data)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc}") from None


def stale_after(moment: datetime, minutes: float) -> datetime:
    """When a CoT item sent now stops being current."""
    return max(moment, datetime.now(UTC)) + timedelta(minutes=minutes)
