"""Cursor-on-Target: the hardened parser, the mapping, and the TAK listener with pytak as client."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import math
import socket
import ssl
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from configparser import ConfigParser
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from takproto.constants import TAKProtoVer  # type: ignore[import-untyped]
from takproto.functions import parse_proto as takproto_parse  # type: ignore[import-untyped]
from takproto.functions import xml2proto

from conftest import TEST_PASSWORD, make_settings
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer
from sitcen.interop.cot import (
    MAX_MESSAGE_BYTES,
    CotError,
    CotEvent,
    CotLogin,
    MappingError,
    StreamSplitter,
    event_xml,
    load_mapping,
    parse_proto,
    parse_xml,
    sensor_view,
    split_datagram,
)
from sitcen.interop.drones import FlightCreate, register_flight
from sitcen.interop.tak import Authenticator, TakListener
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.assets import AssetPositionCreate, write_positions
from sitcen.store.audit import entries
from sitcen.store.journal import RecordKind, read_journal, record_bodies
from sitcen.store.records import list_records, record_history
from sitcen.testing import certificates, wait_until
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("tak")

NOW = datetime.now(UTC)


def _pytak() -> ModuleType:
    # pytak warns at import that its optional aiohttp extra is missing; we need none of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module("pytak")


def cot(uid: str = "ANDROID-0001", cot_type: str = "a-f-G-U-C", *, lat: float = 37.22,
        lon: float = 68.60, token: str | None = None, callsign: str | None = "Пяндж-1",
        remarks: str | None = None) -> bytes:
    return event_xml(uid, cot_type, lat, lon, time=datetime.now(UTC),
                     stale=datetime.now(UTC) + timedelta(minutes=5), callsign=callsign,
                     remarks=remarks, token=token, ce=12.0)


async def authenticated(tak: TakListener, count: int) -> None:
    """Wait until ``count`` TCP clients have authenticated (before writing what they read)."""
    await asyncio.to_thread(wait_until, lambda: tak.authenticated() >= count,
                            what=f"{count} authenticated clients")


# --------------------------------------------------------------------------- the parser


def test_parses_an_own_unit_with_cyrillic_callsign_and_token() -> None:
    event = parse_xml(cot(token="tok-1", remarks="Группа из 3 человек, направление — север"))
    assert isinstance(event, CotEvent)
    assert (event.uid, event.type, event.callsign) == ("ANDROID-0001", "a-f-G-U-C", "Пяндж-1")
    assert event.remarks == "Группа из 3 человек, направление — север"
    assert event.token == "tok-1"
    assert (event.lat, event.lon, event.ce) == (37.22, 68.60, 12.0)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<event version="2.0" uid="x" type="a-h-G" time="2026-01-01T00:00:00Z"
 stale="2026-01-01T00:05:00Z"><point lat="1" lon="1"/><detail><remarks>&lol3;</remarks>
</detail></event>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE event [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<event version="2.0" uid="x" type="a-h-G" time="2026-01-01T00:00:00Z"
 stale="2026-01-01T00:05:00Z"><point lat="1" lon="1"/><detail><remarks>&xxe;</remarks>
</detail></event>"""


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(("data", "reason"), [
    (BILLION_LAUGHS, "refused XML construct"),
    (EXTERNAL_ENTITY, "refused XML construct"),
    (cot()[:-20], "malformed XML"),
    (_replace(cot(), b"<event ", b'<event xmlns="urn:not-cot" '), "namespace"),
    (_replace(cot(), b'lat="37.2200000"', b'lat="north"'), "not a number"),
    (_replace(cot(), b'lat="37.2200000"', b'lat="137.2"'), "outside"),
    (_replace(cot(), b'lat="37.2200000"', b'lat="nan"'), "outside"),
    (_replace(cot(), b'type="a-f-G-U-C"', b'type="&lt;script&gt;"'), "not a CoT type"),
    (_replace(cot(), b'uid="ANDROID-0001"', b'uid=""'), "uid"),
    (_replace(cot(), b'time="', b'time="yesterday" x="'), "time"),
    (_replace(cot(), b"<point", b"<spot"), "no <point>"),
    (b"<?xml version='1.0' encoding='windows-1251'?>" + cot().split(b"?>", 1)[1],
     "encoding"),
    (_replace(cot(), "Пяндж-1".encode(), "Пяндж-1".encode("cp1251")), "not UTF-8"),
    (b"<event>" + b"x" * MAX_MESSAGE_BYTES + b"</event>", "over the limit"),
    (b"<auth><cot/></auth>", "auth message"),
], ids=lambda value: value if isinstance(value, str) else "cot")  # stable: the messages hold times
def test_refuses_bad_cot(data: bytes, reason: str) -> None:
    with pytest.raises(CotError, match=reason):
        parse_xml(data)


def test_atak_login_message() -> None:
    login = parse_xml(b'<auth><cot username="operator" password="s3cret-pass" uid="A-1"/></auth>')
    assert login == CotLogin("operator", "s3cret-pass", "A-1")


def test_protobuf_from_takproto_round_trips() -> None:
    stream = bytes(xml2proto(cot(remarks="Сигнал с датчика"), TAKProtoVer.STREAM))
    frames = list(StreamSplitter().feed(stream))
    assert [f.kind for f in frames] == ["proto"]
    event = parse_proto(frames[0].data)
    assert (event.uid, event.callsign, event.remarks) == ("ANDROID-0001", "Пяндж-1",
                                                           "Сигнал с датчика")
    mesh = bytes(xml2proto(cot(), TAKProtoVer.MESH))
    assert parse_proto(split_datagram(mesh).data).uid == "ANDROID-0001"
    with pytest.raises(CotError, match="malformed TAK protobuf"):
        parse_proto(b"\x0a\xff\xff\xff")


def test_stream_splitter_recovers_from_truncated_and_huge_messages() -> None:
    splitter = StreamSplitter()
    good = cot()
    data = good[:150] + good + b"<event " + b"y" * (MAX_MESSAGE_BYTES + 10) + b"</event>" + good
    frames = []
    for start in range(0, len(data), 1000):  # arrives in pieces, as over TCP
        frames += list(splitter.feed(data[start:start + 1000]))
    assert [f.kind for f in frames] == ["error", "xml", "error", "xml"]
    assert all(isinstance(parse_xml(f.data), CotEvent) for f in frames if f.kind == "xml")
    # An oversized protobuf frame is skipped by its declared length, in pieces too.
    proto = bytes(xml2proto(good, TAKProtoVer.STREAM))
    limited = StreamSplitter(limit=len(proto) + 10)
    big = b"\xbf" + bytes([0xAC, 0x02]) + b"z" * 300 + proto
    kinds = [f.kind for f in limited.feed(big[:100])] + [f.kind for f in limited.feed(big[100:])]
    assert kinds == ["error", "proto"]


def test_mapping_defaults_and_file(tmp_path: Path) -> None:
    mapping = load_mapping(None)
    assert mapping.asset_kind("a-f-G-E-V-C") == "vehicle"
    assert mapping.asset_kind("a-f-G-U-C-I") == "patrol"
    assert mapping.asset_kind("a-h-G") is None
    rule = mapping.report("a-u-A-M-F-Q")
    assert rule is not None and rule.type == "suspicious_aircraft"
    assert rule.details == {"aircraft_kind": "unknown"}
    assert mapping.report("a-fx") is None
    assert mapping.cot_type("drug_smuggling", "cross_border_crime") == "a-h-G"

    path = tmp_path / "mapping.yaml"
    path.write_text("reports:\n  a-h-G-U-C-I: {type: armed_incident, details: {shots_fired: true}}"
                    "\n  a-h: green_border_crossing\n", encoding="utf-8")
    with pytest.raises(MappingError, match="needs details direction, stage"):
        load_mapping(path)
    path.write_text("reports:\n  a-h-G-U-C-I: {type: armed_incident, details: {shots_fired: true}}"
                    "\nassets:\n  a-f: vehicle\n", encoding="utf-8")
    custom = load_mapping(path)
    assert custom.asset_kind("a-f-A") == "vehicle"
    assert custom.report("a-h-G-U-C-I-Z") == custom.reports["a-h-G-U-C-I"]
    assert custom.report("a-u-G") is None
    for bad, reason in [("assets: {a-f: tank}", "not one of"), ("reports: {a-h: nothing}",
                        "not an event type"), ("outgoing: {x: a-h}", "not an event type"),
                        ("colours: {}", "unknown section"), ("[1, 2", "mapping.yaml")]:
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(MappingError, match=reason):
            load_mapping(path)


# --------------------------------------------------------------------------- the store path


def test_positions_in_one_batch_become_consecutive_versions(node: Node) -> None:
    items = [AssetPositionCreate(asset_id=f"unit-{i % 3}", kind="patrol", name=f"Застава {i}",
                                 location={"lon": 68.6 + i / 1000, "lat": 37.2},
                                 at=NOW + timedelta(seconds=i)) for i in range(30)]
    write_positions(node.engine, node.reporter, items[:3])
    written = write_positions(node.engine, node.reporter, items[3:])
    assert [w.version for w in written[:3]] == [2, 2, 2]
    assert written[-1].version == 10
    history = record_history(node.engine, written[-1].id)
    assert [h["body"]["name"] for h in history] == [f"Застава {i}" for i in range(2, 30, 3)]
    # The live stream reads the body of every version the journal names, old ones too.
    with node.engine.connect() as conn:
        entries = read_journal(conn, kinds=[RecordKind.asset_position])
        bodies = record_bodies(conn, entries)
    assert len(entries) == 30 and len(bodies) == 30
    assert {orjson.loads(b)["name"] for b in bodies.values()} == {f"Застава {i}"
                                                                  for i in range(30)}


# --------------------------------------------------------------------------- the listener


@pytest.fixture
def listener(node: Node, tokens: dict[Role, str]) -> Iterator[TakListener]:
    with TakListener(node, load_mapping(None), tcp_port=0, udp_port=0) as tak:
        yield tak


def _config(url: str, **extra: str) -> Any:
    parser = ConfigParser()
    parser["client"] = {"COT_URL": url, **extra}
    return parser["client"]


async def _send(url: str, messages: list[bytes], *, read: int = 0,
                **extra: str) -> list[bytes]:
    """Send with a pytak TXWorker; read ``read`` CoT events back with a pytak RXWorker."""
    pytak = _pytak()
    config = _config(url, **extra)
    reader, writer = await pytak.protocol_factory(config)
    tx = pytak.TXWorker(asyncio.Queue(), config, writer)
    for message in messages:
        await tx.send_data(message)
    received = []
    if read:
        rx = pytak.RXWorker(asyncio.Queue(), config, reader)
        for _ in range(read):
            received.append(await asyncio.wait_for(rx.readcot(), 60))
    elif isinstance(writer, asyncio.StreamWriter) and writer.can_write_eof():
        # Plain TCP: say we are done and read until the listener closes its side, which it
        # does once it has handled every message sent. Over TLS (no half-close) and UDP the
        # caller waits on the listener's counters instead.
        writer.write_eof()
        await asyncio.wait_for(reader.read(), 60)
    writer.close()
    if hasattr(writer, "wait_closed"):
        # Over TLS the node may still be streaming to this client when it closes:
        # its data after our close_notify is no failure of what was sent.
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()
    return received


def _assets(node: Node) -> dict[str, dict[str, Any]]:
    return {r.subject or "": r.body
            for r in list_records(node.engine, RecordKind.asset_position, limit=100)}


def _events(node: Node) -> list[Any]:
    with node.engine.connect() as conn:
        return list(conn.execute(sa.select(schema.events)))


def test_tcp_positions_and_reports_from_pytak(node: Node, listener: TakListener,
                                               tokens: dict[Role, str]) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"
    received = asyncio.run(_send(url, [
        cot(token=tokens[Role.operator]),
        cot("ANDROID-0001", lat=37.23),
        cot("HOSTILE-7", "a-h-G-U-C", lat=37.25, callsign="Нарушитель",
            remarks="3 человека переходят Пяндж вброд"),
        cot("HOSTILE-7", "a-h-G-U-C", lat=37.26),  # the track goes on: still one event
        cot("UAV-3", "a-u-A", lat=37.3, callsign="БПЛА"),
    ], read=3))
    wait_until(lambda: listener.counters.positions == 2 and listener.counters.reports == 2,
               what="positions and reports written")
    asset = _assets(node)["ANDROID-0001"]
    assert asset["name"] == "Пяндж-1" and asset["kind"] == "patrol"
    assert asset["location"]["lat"] == 37.23 and asset["section_id"] is not None
    events = {e.type: e for e in _events(node)}
    assert set(events) == {"suspicious_person", "suspicious_aircraft"}
    assert "Нарушитель" in events["suspicious_person"].body
    assert "3 человека переходят Пяндж вброд" in events["suspicious_person"].body
    assert events["suspicious_person"].status == "reported"
    assert listener.counters.duplicates == 1
    # The outgoing stream: the client's own unit and the events, as CoT XML.
    outgoing = [parse_xml(bytes(r).strip()) for r in received]
    assert {e.uid for e in outgoing if isinstance(e, CotEvent)} >= {"ANDROID-0001"}
    kinds = {e.type for e in outgoing if isinstance(e, CotEvent)}
    assert "a-f-G-U-C" in kinds and kinds & {"a-u-G", "a-u-A"}


def test_udp_needs_a_token_in_each_datagram(node: Node, listener: TakListener,
                                            tokens: dict[Role, str]) -> None:
    url = f"udp+wo://127.0.0.1:{listener.udp_port}"
    asyncio.run(_send(url, [cot("NO-TOKEN-1"), cot("UDP-1", token=tokens[Role.duty_officer]),
                            cot("UDP-2", "a-s-G-E-V", token=tokens[Role.operator])]))
    wait_until(lambda: listener.counters.reports == 1 and listener.counters.positions == 1,
               what="udp messages written")
    assert set(_assets(node)) == {"UDP-1"}
    assert [e.type for e in _events(node)] == ["suspicious_vehicle"]
    assert listener.counters.unauthenticated == 1


def test_roles_and_authentication(node: Node, listener: TakListener,
                                  tokens: dict[Role, str]) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"
    # Nobody: dropped. A liaison: may read, not report. A wrong token: dropped.
    asyncio.run(_send(url, [cot("ANON-1")]))
    received = asyncio.run(_send(url, [cot("LIAISON-1", token=tokens[Role.liaison]),
                                       cot("LIAISON-2", "a-h-G")], read=0))
    asyncio.run(_send(url, [cot("FORGED-1", token="not-a-token")]))
    # ATAK's login message, then plain positions.
    login = (b'<auth><cot username="operator" password="' + TEST_PASSWORD.encode()
             + b'" uid="ANDROID-9"/></auth>')
    bad_login = b'<auth><cot username="operator" password="wrong-password" uid="X"/></auth>'
    asyncio.run(_send(url, [bad_login, cot("BEFORE-LOGIN"), login, cot("ANDROID-9")]))
    wait_until(lambda: listener.counters.positions == 1, what="the logged-in position")
    assert received == []
    assert set(_assets(node)) == {"ANDROID-9"}
    assert _events(node) == []
    assert listener.counters.forbidden == 2
    assert listener.counters.unauthenticated == 4  # anon, forged, bad login, before login
    # The wrong password counts towards the login throttle and both logins are audited.
    assert [(e.actor, e.action) for e in entries(node.engine)] == [
        ("operator", "login_failed"), ("operator", "login")]


def test_tak_password_logins_are_throttled(node: Node, tokens: dict[Role, str]) -> None:
    auth = Authenticator(node.engine)
    for i in range(6):
        assert auth.by_password("operator", f"wrong-{i}", "10.1.1.1") is None
    assert auth.by_password("operator", TEST_PASSWORD, "10.1.1.1") is None  # blocked
    assert auth.by_password("analyst", TEST_PASSWORD, "10.1.1.2") is not None


def test_liaison_receives_the_picture(node: Node, listener: TakListener,
                                      tokens: dict[Role, str]) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"

    async def scenario() -> list[bytes]:
        watcher = asyncio.create_task(_send(url, [cot("LIAISON-1", token=tokens[Role.liaison])],
                                            read=1))
        await authenticated(listener, 1)
        await _send(url, [cot("PATROL-5", token=tokens[Role.operator], callsign="Дозор 5")])
        return await watcher

    received = asyncio.run(scenario())
    event = parse_xml(bytes(received[0]).strip())
    assert isinstance(event, CotEvent) and event.callsign == "Дозор 5"


def test_a_partners_liaison_sees_what_the_agreement_allows(
        engine: sa.Engine, database_url: str, tmp_path: Path, tokens: dict[Role, str]) -> None:
    """A liaison speaking for a partner node gets the sharing function's view, or nothing."""
    settings = make_settings(database_url, tmp_path, partner_users={"liaison": "kg-parent"})
    node = Node.open(settings, engine=engine)

    async def round_trip(tak: TakListener, uid: str, shared: bool) -> tuple[bytes, bytes]:
        url = f"tcp://127.0.0.1:{tak.tcp_port}"
        partner_r, partner_w = await asyncio.open_connection("127.0.0.1", tak.tcp_port)
        # A ping (t-x-c-t) carries each reader's token and is otherwise ignored.
        partner_w.write(cot("LIAISON-1", "t-x-c-t", token=tokens[Role.liaison]))
        own = asyncio.create_task(_send(url, [cot("DUTY-1", "t-x-c-t",
                                                  token=tokens[Role.duty_officer])], read=1))
        await authenticated(tak, 2)
        await _send(url, [cot(uid, token=tokens[Role.operator], callsign="Дозор")])
        seen_by_own = (await own)[0]  # routed at once; the partner's share comes from the store
        if shared:
            seen_by_partner = await _until(partner_r, lambda d: uid.encode() in d)
        else:
            try:
                seen_by_partner = await asyncio.wait_for(partner_r.read(65536), 2.0)
            except TimeoutError:
                seen_by_partner = b""
        partner_w.close()
        await partner_w.wait_closed()
        return bytes(seen_by_own), seen_by_partner

    with TakListener(node, load_mapping(None), tcp_port=0) as tak:
        own, partner = asyncio.run(round_trip(tak, "PATROL-1", False))
        assert b"PATROL-1" in own and partner == b""  # no link: nothing leaves
    # A link to a parent: its default agreement grants every kind, exact locations.
    add_peer(engine, "kg-parent", url="http://kg-parent:8080", relation=Relation.parent,
             public_key=NodeIdentity.generate("kg-parent").public_key_text)
    with TakListener(node, load_mapping(None), tcp_port=0) as tak:
        own, partner = asyncio.run(round_trip(tak, "PATROL-2", True))
        assert b"PATROL-2" in own and b"PATROL-2" in partner


def test_bad_input_is_dropped_and_the_listener_keeps_running(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    token = tokens[Role.operator]
    bad = [
        BILLION_LAUGHS, EXTERNAL_ENTITY, cot(token=token)[:-30],
        _replace(cot(token=token), b"<event ", b'<event xmlns="urn:x" '),
        _replace(cot("T-1", token=token), b'lon="68.6000000"', b'lon="east"'),
        _replace(cot("T-2", token=token), "Пяндж-1".encode(), "Пяндж-1".encode("cp1251")),
        b"<event>" + b"A" * (MAX_MESSAGE_BYTES + 100) + b"</event>",
        b"\xbf\x05\x0a\xff\xff\xff\xff",
        b"\x00\x01\x02 not xml at all </event>",
        cot("BAD:ID WITH SPACES", token=token),
    ]
    with socket.create_connection(("127.0.0.1", listener.tcp_port)) as raw:
        for message in bad:
            raw.sendall(message)
        raw.sendall(cot("SURVIVOR-1", token=token, callsign="Выжил"))
        wait_until(lambda: "SURVIVOR-1" in _assets(node),
                   what="the good message after the bad ones")
    for data in bad:  # and over UDP, each datagram alone
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(data[:60_000], ("127.0.0.1", listener.udp_port))
    asyncio.run(_send(f"udp+wo://127.0.0.1:{listener.udp_port}", [cot("SURVIVOR-2", token=token)]))
    wait_until(lambda: "SURVIVOR-2" in _assets(node), what="a good datagram after bad ones")
    assert listener.counters.malformed >= 2 * len(bad) - 2
    assert set(_assets(node)) == {"SURVIVOR-1", "SURVIVOR-2"}
    assert _assets(node)["SURVIVOR-1"]["name"] == "Выжил"


def _drone(uid: str, lat: float, *, sensor: dict[str, str] | None = None,
           token: str | None = None, cot_type: str = "a-f-A-M-H-Q") -> bytes:
    """A drone's position as ATAK's UAS tools send it: a friendly unmanned aircraft, with
    its sensor's field of view in ``<sensor azimuth fov range/>``."""
    return event_xml(uid, cot_type, lat, 68.60, time=datetime.now(UTC),
                     stale=datetime.now(UTC) + timedelta(minutes=1), callsign="БПЛА-2",
                     token=token, extra=[ET.Element("sensor", sensor)] if sensor else [])


@pytest.mark.parametrize(("attributes", "reason"), [
    ({"azimuth": "90", "fov": "400", "range": "800"}, "sensor fov 400.0 outside"),
    ({"azimuth": "90", "fov": "-10", "range": "800"}, "sensor fov -10.0 outside"),
    ({"azimuth": "90", "fov": "0", "range": "800"}, "sees nothing"),
    ({"azimuth": "90", "fov": "60", "range": "-5"}, "sensor range -5.0 outside"),
    ({"azimuth": "90", "fov": "60", "range": "1e9"}, "sensor range"),
    ({"azimuth": "north", "fov": "60", "range": "800"}, "not a number"),
    ({"azimuth": "400", "fov": "60", "range": "800"}, "sensor azimuth"),
    ({"fov": "60", "range": "800"}, "no sensor azimuth"),
    ({"azimuth": "90", "fov": "nan", "range": "800"}, "outside"),
])
def test_a_nonsense_sensor_is_refused(attributes: dict[str, str], reason: str) -> None:
    parsed = parse_xml(_drone("UAV-X", 37.2, sensor=attributes))
    assert isinstance(parsed, CotEvent) and parsed.sensor == attributes
    with pytest.raises(CotError, match=reason):
        sensor_view(parsed.sensor)


def test_a_drone_over_cot_moves_its_flight_with_the_sensor_footprint(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id="tj-uav-2", name="БПЛА-2", system_id=12, cot_uid="ANDROID-UAV-2",
        mission_area=[[68.55, 37.18], [68.65, 37.18], [68.65, 37.26], [68.55, 37.26]]))
    looking_east = {"azimuth": "90", "fov": "60", "range": "800", "vfov": "45",
                    "model": "EO/IR"}
    asyncio.run(_send(f"tcp://127.0.0.1:{listener.tcp_port}", [
        _drone("ANDROID-UAV-2", 37.21, sensor=looking_east, token=tokens[Role.operator]),
        _drone("ANDROID-UAV-2", 37.22, sensor={"azimuth": "90", "fov": "400", "range": "800"}),
        _drone("ANDROID-UAV-2", 37.23, sensor={"azimuth": "90", "fov": "60", "range": "-5"}),
        _drone("ANDROID-UAV-2", 37.24),
        # An aircraft no flight names, seeing all round; a patrol that has no sensor.
        _drone("UAV-FREE", 37.25, sensor={"azimuth": "0", "fov": "360", "range": "500"}),
        cot("ANDROID-0001", token=None),
    ]))
    wait_until(lambda: listener.counters.positions == 6, what="every position written")
    assert listener.counters.bad_sensor == 2 and listener.counters.flight_positions == 4
    assets = _assets(node)
    assert "ANDROID-UAV-2" not in assets  # the flight's record moved, no second track
    flight = assets["tj-uav-2"]
    assert flight["status"] == "airborne" and flight["location"]["lat"] == 37.24
    assert flight["flight"]["cot_uid"] == "ANDROID-UAV-2"
    [record] = list_records(node.engine, RecordKind.asset_position, subject="tj-uav-2")
    versions = [v["body"] for v in record_history(node.engine, record.id)]
    assert [v["status"] for v in versions] == ["planned", *["airborne"] * 4]
    first = versions[1]["drone"]
    assert (first["azimuth_deg"], first["fov_deg"], first["range_m"]) == (90.0, 60.0, 800.0)
    ring = first["footprint"]
    # A sector: from the drone out to 800 m, between 60° and 120° from north.
    assert ring[0] == ring[-1] == [68.6, 37.21]
    for lon, lat in ring[1:-1]:
        east = (lon - 68.6) * 111_320 * math.cos(math.radians(37.21))
        north = (lat - 37.21) * 110_574
        assert math.hypot(east, north) == pytest.approx(800, rel=0.01)
        assert 60 - 0.5 <= math.degrees(math.atan2(east, north)) <= 120 + 0.5
    # Nonsense fields of view: the position kept, no footprint; none sent: none either.
    assert [v["drone"]["footprint"] for v in versions[2:]] == [None, None, None]
    free = assets["UAV-FREE"]
    assert free["kind"] == "aircraft" and "flight" not in free
    assert len(free["drone"]["footprint"]) == 17
    assert "drone" not in assets["ANDROID-0001"]


def test_protobuf_client_gets_protobuf_back(node: Node, listener: TakListener,
                                            tokens: dict[Role, str]) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"

    async def scenario() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.tcp_port)
        writer.write(bytes(xml2proto(cot("PROTO-1", token=tokens[Role.operator],
                                         callsign="Протобуф"), TAKProtoVer.STREAM)))
        await writer.drain()
        await authenticated(listener, 1)
        await _send(url, [cot("XML-1", token=tokens[Role.operator])])
        data = b""
        while True:
            data += await asyncio.wait_for(reader.read(65536), 60)
            if b"XML-1" in data:
                break
        writer.close()
        await writer.wait_closed()
        return data

    data = asyncio.run(scenario())
    assert data[0] == 0xBF
    message = takproto_parse(bytearray(data))
    assert message.cotEvent.uid in {"PROTO-1", "XML-1"}
    # XML-1 is routed as soon as it is accepted, maybe before PROTO-1 is stored.
    wait_until(lambda: "PROTO-1" in _assets(node), what="the protobuf position stored")
    assert _assets(node)["PROTO-1"]["name"] == "Протобуф"


def _certificates(tmp: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate for "operator"."""
    return certificates(tmp, clients=("operator", "nobody"))


# pytak sets the deprecated OP_NO_TLSv1 options on its client context.
@pytest.mark.filterwarnings("ignore:ssl.OP_NO_SSL:DeprecationWarning")
def test_tls_client_certificates(node: Node, tokens: dict[Role, str], tmp_path: Path) -> None:
    files = _certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files["server.pem"], files["server.key"])
    context.load_verify_locations(files["ca.pem"])
    context.verify_mode = ssl.CERT_REQUIRED
    with TakListener(node, load_mapping(None), tcp_port=0, ssl_context=context) as tak:
        url = f"tls://127.0.0.1:{tak.tcp_port}"
        for user in ("operator", "nobody"):
            asyncio.run(_send(url, [cot(f"CERT-{user}")],
                              PYTAK_TLS_CLIENT_CERT=str(files[f"{user}.pem"]),
                              PYTAK_TLS_CLIENT_KEY=str(files[f"{user}.key"]),
                              PYTAK_TLS_CLIENT_CAFILE=str(files["ca.pem"])))
        # Without a client certificate the handshake fails.
        plain = ssl.create_default_context(cafile=str(files["ca.pem"]))
        with socket.create_connection(("127.0.0.1", tak.tcp_port)) as raw, \
                plain.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            try:  # TLS 1.3: the server's refusal arrives after the client's handshake
                tls.sendall(cot("CERT-NONE"))
                answer = tls.recv(1)
            except (ssl.SSLError, ConnectionError):
                answer = b""
        assert answer == b""
        # Over TLS the client cannot half-close: wait for both of its connections' effects.
        wait_until(lambda: tak.counters.positions == 1 and tak.counters.unauthenticated == 1,
                   what="the certificate holder's position and the stranger's refusal")
        assert set(_assets(node)) == {"CERT-operator"}


# --------------------------------------------------------------------------- device to device

_T = "2026-05-01T10:00:00.000Z"
_STALE = "2099-05-01T10:05:00.000Z"
#: What patrols send each other, as ATAK writes it: a GeoChat line, a marker, a route.
CHAT_XML = (
    f'<event version="2.0" uid="GeoChat.ANDROID-0001.All Chat Rooms.1a2b" type="b-t-f" '
    f'how="h-g-i-g-o" time="{_T}" start="{_T}" stale="{_STALE}"><point lat="37.22" '
    'lon="68.6" hae="9999999.0" ce="9999999.0" le="9999999.0"/><detail><__chat '
    'parent="RootContactGroup" groupOwner="false" chatroom="All Chat Rooms" id="All Chat Rooms" '
    'senderCallsign="Пяндж-1"><chatgrp uid0="ANDROID-0001" uid1="All Chat Rooms" '
    'id="All Chat Rooms"/></__chat><link uid="ANDROID-0001" type="a-f-G-U-C" relation="p-p"/>'
    f'<remarks source="BAO.F.ATAK.ANDROID-0001" to="All Chat Rooms" time="{_T}">Брод у '
    'камня 14 — трое, идут на север</remarks></detail></event>').encode()
MARKER_XML = (
    f'<event version="2.0" uid="marker-7f3e" type="b-m-p-s-p-i" how="h-g-i-g-o" time="{_T}" '
    f'start="{_T}" stale="{_STALE}"><point lat="37.25" lon="68.61" hae="312.4" ce="5.0" '
    'le="9999999.0"/><detail><status readiness="true"/><archive/><link uid="ANDROID-0001" '
    'production_time="2026-05-01T10:00:00.000Z" type="a-f-G-U-C" parent_callsign="Пяндж-1" '
    'relation="p-p"/><contact callsign="Лодка"/><remarks>Лодка спрятана в камышах</remarks>'
    '<color argb="-65536"/><usericon iconsetpath="COT_MAPPING_SPOTMAP/b-m-p-s-p-i/-65536"/>'
    '</detail></event>').encode()
ROUTE_XML = (
    f'<event version="2.0" uid="route-5c1d" type="b-m-r" how="h-e" time="{_T}" start="{_T}" '
    f'stale="{_STALE}"><point lat="0.0" lon="0.0" hae="9999999.0" ce="9999999.0" '
    'le="9999999.0"/><detail><link uid="wp-1" callsign="СП1" type="b-m-p-w" '
    'point="37.21,68.59" remarks="" relation="c"/><link uid="wp-2" callsign="СП2" '
    'type="b-m-p-w" point="37.24,68.62" remarks="" relation="c"/><link_attr color="-1" '
    'method="Walking" prefix="CP" type="On Foot" stroke="3" direction="Infil" routetype="Primary" '
    'order="Ascending Check Points"/><contact callsign="Маршрут дозора"/><remarks/><__routeinfo>'
    '<__navcues/></__routeinfo></detail></event>').encode()


def _ping(token: str, uid: str = "DEVICE") -> bytes:
    """A TAK ping carrying a token: it authenticates a connection and is not passed on."""
    return cot(uid, "t-x-c-t", token=token)


async def _device(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(_ping(token))
    await writer.drain()
    return reader, writer


async def _until(reader: asyncio.StreamReader, done: Any) -> bytes:
    """Read until ``done(data)`` holds (the test's own timeout ends a wait that never does)."""
    data = b""
    while not done(data):
        chunk = await asyncio.wait_for(reader.read(1 << 20), 60)
        assert chunk, "the listener closed the connection"
        data += chunk
    return data


def _messages(data: bytes) -> list[bytes]:
    return [m.strip() + b"</event>" for m in data.split(b"</event>") if m.strip()]


def test_chat_marker_and_route_reach_another_device_untouched(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    port = listener.tcp_port
    assert port is not None
    position = cot("ANDROID-0001", token=tokens[Role.operator], remarks="На месте, всё тихо")

    async def scenario() -> bytes:
        reader, writer = await _device(port, tokens[Role.duty_officer])
        await authenticated(listener, 1)
        _r, sender = await asyncio.open_connection("127.0.0.1", port)
        for message in (position, CHAT_XML, MARKER_XML, ROUTE_XML):
            sender.write(message)
        await sender.drain()
        data = await _until(reader, lambda d: d.count(b"</event>") >= 4)
        for w in (sender, writer):
            w.close()
        return data

    received = _messages(asyncio.run(scenario()))
    # Byte for byte as sent, detail and all; only the sender's token is cut out.
    assert received[1:] == [CHAT_XML, MARKER_XML, ROUTE_XML]
    token_element = f'<__auth token="{tokens[Role.operator]}" />'.encode()
    assert token_element in position and tokens[Role.operator].encode() not in received[0]
    assert received[0] == position.replace(token_element, b"").strip()
    # What the picture needs is still stored: the position, not the chat, marker or route.
    wait_until(lambda: "ANDROID-0001" in _assets(node), what="the position stored")
    assert set(_assets(node)) == {"ANDROID-0001"} and _events(node) == []
    assert listener.counters.routed == 4 and listener.counters.unmapped == 2


def test_protobuf_and_xml_devices_get_each_others_messages(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    port = listener.tcp_port
    assert port is not None

    async def scenario() -> tuple[bytes, bytes]:
        xml_r, xml_w = await _device(port, tokens[Role.operator])
        proto_r, proto_w = await asyncio.open_connection("127.0.0.1", port)
        proto_w.write(bytes(xml2proto(_ping(tokens[Role.operator], "PROTO-DEVICE"),
                                      TAKProtoVer.STREAM)))
        await authenticated(listener, 2)
        proto_w.write(bytes(xml2proto(MARKER_XML, TAKProtoVer.STREAM)))
        xml_w.write(CHAT_XML)
        got_xml = await _until(xml_r, lambda d: b"</event>" in d)
        got_proto = await _until(proto_r, lambda d: b"All Chat Rooms" in d)
        for w in (xml_w, proto_w):
            w.close()
        return got_xml, got_proto

    got_xml, got_proto = asyncio.run(scenario())
    marker = parse_xml(got_xml.strip())
    assert isinstance(marker, CotEvent)
    assert (marker.uid, marker.type, marker.callsign, marker.remarks) == (
        "marker-7f3e", "b-m-p-s-p-i", "Лодка", "Лодка спрятана в камышах")
    for element in (b"<usericon iconsetpath=", b'<color argb="-65536"', b"parent_callsign="):
        assert element in got_xml
    chat = takproto_parse(bytearray(got_proto))
    assert chat.cotEvent.uid == "GeoChat.ANDROID-0001.All Chat Rooms.1a2b"
    assert "Брод у камня 14" in chat.cotEvent.detail.xmlDetail


def test_only_the_devices_allowed_and_addressed_get_a_message(
        engine: sa.Engine, database_url: str, tmp_path: Path, tokens: dict[Role, str]) -> None:
    """A partner's liaison (no link: nothing) and a device a chat is not addressed to get
    nothing; the device it is addressed to gets it."""
    settings = make_settings(database_url, tmp_path, partner_users={"liaison": "kg-parent"})
    node = Node.open(settings, engine=engine)
    direct = CHAT_XML.replace(b"</remarks>", '</remarks><marti><dest callsign="Дозор 2"/>'
                              "</marti>".encode()).replace(b"1a2b", b"3c4d")

    async def scenario(port: int, tak: TakListener) -> tuple[bytes, bytes, bytes]:
        partner_r, partner_w = await _device(port, tokens[Role.liaison])
        other_r, other_w = await _device(port, tokens[Role.analyst])
        named_r, named_w = await asyncio.open_connection("127.0.0.1", port)
        named_w.write(cot("PATROL-2", token=tokens[Role.duty_officer], callsign="Дозор 2"))
        await authenticated(tak, 3)
        await asyncio.to_thread(wait_until, lambda: tak.counters.positions >= 1,
                                what="the addressed device's own position")
        _r, sender = await asyncio.open_connection("127.0.0.1", port)
        sender.write(_ping(tokens[Role.operator]) + direct + MARKER_XML)
        # The marker goes to everyone who may have it, after the chat: once the analyst
        # has it, the chat has been dealt with.
        other = await _until(other_r, lambda d: b"marker-7f3e" in d)
        named = await _until(named_r, lambda d: b"3c4d" in d)
        try:
            partner = await asyncio.wait_for(partner_r.read(65536), 1.0)
        except TimeoutError:
            partner = b""
        for w in (partner_w, other_w, named_w, sender):
            w.close()
        return partner, other, named

    with TakListener(node, load_mapping(None), tcp_port=0) as tak:
        assert tak.tcp_port is not None
        partner, other, named = asyncio.run(scenario(tak.tcp_port, tak))
    assert partner == b""
    assert b"3c4d" not in other
    assert direct in named


def test_a_flood_from_two_devices_is_stored_and_routed_in_full(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    port = listener.tcp_port
    assert port is not None
    per_device = 1500
    floods = [b"".join(
        cot(f"FLOOD-{d}", lat=37.0 + i / 100_000, remarks=f"n{d}-{i}",
            token=tokens[Role.operator] if i == 0 else None)
        for i in range(per_device)) for d in (1, 2)]
    with node.engine.connect() as conn:
        before = len(read_journal(conn, kinds=[RecordKind.asset_position], limit=100_000))

    async def scenario() -> bytes:
        reader, writer = await _device(port, tokens[Role.duty_officer])
        await authenticated(listener, 1)
        senders = [(await asyncio.open_connection("127.0.0.1", port))[1] for _ in floods]
        for sender, flood in zip(senders, floods, strict=True):
            sender.write(flood)
        data = await _until(reader, lambda d: d.count(b"<remarks>n") >= 2 * per_device)
        for w in (*senders, writer):
            w.close()
        return data

    received = asyncio.run(scenario())
    # The outgoing stream kept up: every position of the flood reached the other device.
    for d in (1, 2):
        assert all(f"<remarks>n{d}-{i}</remarks>".encode() in received
                   for i in range(per_device))
    # And every one is stored: each a version of its device's record, in the journal.
    wait_until(lambda: listener.counters.positions == 2 * per_device,
               what="the flood stored")
    with node.engine.connect() as conn:
        entries = read_journal(conn, kinds=[RecordKind.asset_position], limit=100_000)
    assert len(entries) - before == 2 * per_device
    for d in (1, 2):
        record_id = next(r.id for r in list_records(node.engine, RecordKind.asset_position)
                         if r.subject == f"FLOOD-{d}")
        versions = [e.version for e in entries if e.record_id == record_id]
        assert versions == list(range(1, per_device + 1))
        assert len(record_history(node.engine, record_id)) == per_device
    assert listener.counters.write_errors == 0


def _sensor_from(data: bytes, uid: str) -> dict[str, str] | None:
    """The ``<sensor>`` attributes of the last message about ``uid`` that has one."""
    found = None
    for message in _messages(data):
        parsed = parse_xml(message)
        if isinstance(parsed, CotEvent) and parsed.uid == uid and parsed.sensor:
            found = dict(parsed.sensor)
    return found


def test_a_drones_sensor_reaches_another_device(
        node: Node, listener: TakListener, tokens: dict[Role, str]) -> None:
    """A drone a TAK device reports goes out to the others as its flight, with the field of
    view it sent: the device draws the camera's cone where the console draws the footprint."""
    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id="tj-uav-5", name="БПЛА-5", system_id=15, cot_uid="ANDROID-UAV-5",
        mission_area=[[68.55, 37.18], [68.65, 37.18], [68.65, 37.26], [68.55, 37.26]]))
    port = listener.tcp_port
    assert port is not None
    looking_north_east = {"azimuth": "45.5", "fov": "30", "range": "1200"}

    async def scenario() -> bytes:
        reader, writer = await _device(port, tokens[Role.duty_officer])
        await authenticated(listener, 1)
        _r, drone = await asyncio.open_connection("127.0.0.1", port)
        drone.write(_drone("ANDROID-UAV-5", 37.21, sensor=looking_north_east,
                           token=tokens[Role.operator]))
        await drone.drain()
        data = await _until(reader, lambda d: all(
            _sensor_from(d, uid) is not None for uid in ("tj-uav-5", "ANDROID-UAV-5")))
        for w in (drone, writer):
            w.close()
        return data

    data = asyncio.run(scenario())
    sent = _sensor_from(data, "tj-uav-5")
    assert sent is not None
    assert sensor_view(sent) == sensor_view(looking_north_east)
    [flight] = list_records(node.engine, RecordKind.asset_position, subject="tj-uav-5")
    assert flight.body["drone"]["range_m"] == 1200.0  # what went out is what was stored
    # The device's own message was routed to the other too, untouched, its sensor and all.
    assert _sensor_from(data, "ANDROID-UAV-5") == looking_north_east


def test_a_drones_sensor_goes_to_a_partner_only_with_exact_places(node: Node) -> None:
    """A cone drawn around a coarsened point would give the point away: at region precision
    the partner's device gets the drone at its cell's centre, without its ``<sensor>``."""
    from sitcen.exchange.agreements import Agreement
    from sitcen.interop.drones import FlightRegistry, cot_drone
    from sitcen.interop.tak import Counters
    from sitcen.interop.tak_outbound import PictureFeed

    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id="tj-uav-6", name="БПЛА-6", system_id=16,
        mission_area=[[68.55, 37.18], [68.65, 37.18], [68.65, 37.26], [68.55, 37.26]]))
    reported = AssetPositionCreate.model_validate({
        "asset_id": "tj-uav-6", "kind": "aircraft", "name": "БПЛА-6",
        "location": {"lon": 68.6, "lat": 37.21}, "at": datetime.now(UTC)})
    position, blocks = cot_drone(reported, sensor_view({"azimuth": "90", "fov": "60",
                                                        "range": "800"}),
                                 FlightRegistry(node.engine, node.settings.node_id))
    write_positions(node.engine, node.reporter, [position], [blocks])
    feed = PictureFeed(node, load_mapping(None), Counters(), set())

    def sent_at(precision: str) -> CotEvent:
        agreement = Agreement.model_validate({
            "id": "tj-kg", "from_node": node.settings.node_id, "to_node": "kg-parent",
            "direction": "peer", "kinds": ["asset_position"],
            "location_precision": precision, "handling_ceiling": "AMBER"})
        _messages, shared, _after, _more = feed._changes(0, {"kg-parent": agreement}, False)
        return next(c for c in shared["kg-parent"] if c.uid == "tj-uav-6"
                    and c.start == position.at)

    exact = sent_at("exact")
    assert [(e.tag, e.attrib) for e in exact.extra] == [
        ("sensor", {"azimuth": "90", "fov": "60", "range": "800"})]
    coarse = sent_at("region")
    assert (coarse.lon, coarse.lat) != (68.6, 37.21) and coarse.extra == ()
