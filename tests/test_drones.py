"""Drones: MAVLink telemetry made with pymavlink over UDP becomes a flight's track; bad
datagrams are refused and counted; a flight is tasked to a detection."""

from __future__ import annotations

import asyncio
import math
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pymavlink import mavutil
from pymavlink.dialects.v20 import common as mavlink

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.sharing import SharedRecord, share
from sitcen.interop.cot import CotSensor, load_mapping, sensor_view
from sitcen.interop.drones import (
    FlightCreate,
    MavlinkListener,
    footprint,
    register_flight,
    sector,
    sensor_of,
)
from sitcen.interop.mqtt import DetectionMessage, SensorCreate, record_detection, register_sensor
from sitcen.interop.tak import TakListener
from sitcen.node import Node
from sitcen.store.records import list_records
from sitcen.testing import wait_until
from sitcen.users import Role
from test_tak import _device, _until, authenticated
from test_tak import _sensor_from as sensor_sent_for

PANJ = {"lon": 68.60, "lat": 37.22}
AREA = [[68.55, 37.18], [68.65, 37.18], [68.65, 37.26], [68.55, 37.26]]


@pytest.fixture
def listener(node: Node) -> Iterator[MavlinkListener]:
    running = MavlinkListener(node.engine, node.reporter, host="127.0.0.1", port=0).start()
    yield running
    running.stop()


def _mavlink_metrics() -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    from sitcen import metrics

    return {s.labels["outcome"]: s.value
            for family in text_string_to_metric_families(metrics.exposition().decode())
            for s in family.samples if s.name == "sitcen_mavlink_messages_total"}


def _position(sender: mavlink.MAVLink, lon: float, lat: float, alt_m: float) -> bytes:
    message = sender.global_position_int_encode(
        1000, int(lat * 1e7), int(lon * 1e7), int((alt_m + 900) * 1000), int(alt_m * 1000),
        0, 0, 0, 9000)
    return bytes(message.pack(sender))


def test_mavlink_over_udp_becomes_a_track(
        node: Node, listener: MavlinkListener, client: TestClient,
        as_role: Callable[[Role], dict[str, str]]) -> None:
    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id="uav-7", name="БПЛА-7", system_id=7, mission_area=AREA,
        sensor_half_angle_deg=30))
    before = _mavlink_metrics()
    # The drone: pymavlink's own UDP connection, system id 7.
    drone = mavutil.mavlink_connection(f"udpout:127.0.0.1:{listener.port}", source_system=7,
                                       dialect="common")
    drone.mav.heartbeat_send(mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_PX4, 0, 0, 0)
    for i in range(3):
        drone.mav.global_position_int_send(1000 * i, int((37.21 + i * 0.01) * 1e7),
                                           int(68.60 * 1e7), 1_000_000, 120_000, 0, 0, 0,
                                           9000)
    drone.close()
    # Another system nobody registered, and datagrams that are refused.
    stranger = mavlink.MAVLink(None, srcSystem=9)
    good = _position(stranger, 68.6, 37.2, 100)
    corrupt = bytearray(_position(mavlink.MAVLink(None, srcSystem=7), 68.6, 37.2, 100))
    corrupt[-1] ^= 0xFF  # the checksum no longer fits
    refused = [bytes(corrupt), b"\xfd\x05" + b"\x00" * 3, b"not mavlink at all",
               good * 10]  # 10 frames in one datagram: over the largest frame
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for datagram in [good, *refused]:
            raw.sendto(datagram, ("127.0.0.1", listener.port))
    wait_until(lambda: listener.counters.received == 4 + 1 + len(refused),
               what="every datagram handled")
    counters = listener.counters
    assert (counters.positions, counters.ignored, counters.unregistered) == (3, 1, 1)
    assert (counters.malformed, counters.oversized) == (3, 1)
    after = _mavlink_metrics()
    for outcome in ("received", "positions", "malformed", "oversized", "unregistered"):
        assert after.get(outcome, 0) - before.get(outcome, 0) == getattr(counters, outcome)
    [flight] = list_records(node.engine, "asset_position", subject="uav-7")
    assert flight.version == 4 and flight.body["kind"] == "aircraft"
    assert flight.body["status"] == "airborne"
    assert flight.body["location"] == {"lon": 68.60, "lat": 37.23}
    drone_block = flight.body["drone"]
    assert drone_block["altitude_m"] == 120.0 and drone_block["heading_deg"] == 90.0
    ring = drone_block["footprint"]
    assert ring[0] == ring[-1] and len(ring) == 17
    # 120 m up with a 30° half angle: the footprint reaches ~69 m north.
    assert abs((ring[0][1] - 37.23) * 110_574 - 120 * 0.57735) < 1.0
    assert flight.body["flight"]["mission_area"] == AREA
    # The console's tracks layer reads the track from the assets.
    assets = client.get("/api/v1/assets", headers=as_role(Role.liaison)).json()["assets"]
    [uav] = [a for a in assets if a["asset_id"] == "uav-7"]
    assert uav["kind"] == "aircraft" and uav["footprint"] == ring
    assert [point[1] for point in uav["track"][-3:]] == [37.21, 37.22, 37.23]


def test_footprint_grows_with_altitude() -> None:
    low, high = footprint(68.6, 37.2, 50, 30), footprint(68.6, 37.2, 200, 30)
    assert high[0][1] - 37.2 == pytest.approx(4 * (low[0][1] - 37.2), rel=1e-3)
    assert footprint(68.6, 37.2, -5, 30)[0] == [68.6, 37.2]  # below the take-off point


def test_a_mavlink_flight_goes_to_tak_devices_with_its_sensor(
        node: Node, listener: MavlinkListener, tokens: dict[Role, str]) -> None:
    """The flight's position goes out to a TAK device with a ``<sensor>`` that draws the
    footprint the console shows: all round, out to altitude × tan(half angle)."""
    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id="uav-8", name="БПЛА-8", system_id=8, mission_area=AREA,
        sensor_half_angle_deg=30))

    async def scenario(port: int, tak: TakListener) -> bytes:
        reader, writer = await _device(port, tokens[Role.duty_officer])
        await authenticated(tak, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            raw.sendto(_position(mavlink.MAVLink(None, srcSystem=8), 68.61, 37.22, 120),
                       ("127.0.0.1", listener.port))
        data = await _until(reader, lambda d: sensor_sent_for(d, "uav-8") is not None)
        writer.close()
        return data

    with TakListener(node, load_mapping(None), tcp_port=0, udp_port=0) as tak:
        assert tak.tcp_port is not None
        data = asyncio.run(scenario(tak.tcp_port, tak))
    sent = sensor_sent_for(data, "uav-8")
    assert sent is not None
    seen = sensor_view(sent)
    assert (seen.azimuth_deg, seen.fov_deg) == (90.0, 360.0)  # the drone's heading
    assert seen.range_m == pytest.approx(120 * math.tan(math.radians(30)), abs=1e-3)
    [flight] = list_records(node.engine, "asset_position", subject="uav-8")
    place = flight.body["location"]
    drawn = sector(place["lon"], place["lat"], seen.range_m, seen.azimuth_deg, seen.fov_deg)
    stored = flight.body["drone"]["footprint"]
    assert len(drawn) == len(stored)
    for point, kept in zip(drawn, stored, strict=True):
        assert point == pytest.approx(kept, abs=2e-6)


def test_the_sensor_of_a_stored_position() -> None:
    flight = {"sensor_half_angle_deg": 45.0}
    cot_drone = {"azimuth_deg": 270.0, "fov_deg": 20.0, "range_m": 900.0,
                 "footprint": [[0, 0]]}
    assert sensor_of({"drone": cot_drone}) == CotSensor(270.0, 20.0, 900.0)
    # A sensor the intake found nonsense left no footprint: none goes out either.
    assert sensor_of({"drone": {**cot_drone, "footprint": None}}) is None
    airborne = {"altitude_m": 100.0, "heading_deg": None, "footprint": [[0, 0]]}
    looking_down = sensor_of({"drone": airborne, "flight": flight})
    assert looking_down is not None
    assert (looking_down.azimuth_deg, looking_down.fov_deg) == (0.0, 360.0)  # no heading
    assert looking_down.range_m == pytest.approx(100.0)  # tan 45° = 1
    landed = {**airborne, "altitude_m": 0.0}
    assert sensor_of({"drone": landed, "flight": flight}) is None
    assert sensor_of({"flight": flight}) is None  # planned, not yet flying
    assert sensor_of({"name": "patrol"}) is None


def test_a_flight_is_tasked_to_a_detection(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    flight = {"flight_id": "uav-3", "name": "Дрон 3", "system_id": 3, "mission_area": AREA}
    assert client.post("/api/v1/drones/flights", json=flight,
                       headers=as_role(Role.liaison)).status_code == 403
    made = client.post("/api/v1/drones/flights", json=flight, headers=as_role(Role.operator))
    assert made.status_code == 201, made.text
    crossing = {**flight, "flight_id": "uav-4",
                "mission_area": [[68.5, 37.1], [68.7, 37.3], [68.7, 37.1], [68.5, 37.3]]}
    answer = client.post("/api/v1/drones/flights", json=crossing, headers=as_role(Role.operator))
    assert answer.status_code == 422 and "mission_area" in answer.text
    listed = client.get("/api/v1/drones/flights", headers=as_role(Role.liaison)).json()
    assert [f["body"]["asset_id"] for f in listed["flights"]] == ["uav-3"]
    sensor = register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id="seis-1", type="seismic", name="seis", location=PANJ))
    [sensor_record] = list_records(node.engine, "asset_position", subject="seis-1")
    assert sensor_record.id == sensor.id
    detection = record_detection(node.engine, node.settings.node_id, sensor_record,
                                 DetectionMessage(sensor_id="seis-1", kind="person",
                                                  confidence=0.7,
                                                  detected_at=datetime.now(UTC)))
    path = f"/api/v1/drones/flights/uav-3/tasks?detection_id={detection.id}"
    assert client.post(path, headers=as_role(Role.operator)).status_code == 403
    task = client.post(path, headers=as_role(Role.duty_officer))
    assert task.status_code == 201, task.text
    body = task.json()
    assert body["unit_id"] == "uav-3" and body["priority"] == "immediate"
    assert body["location"]["lon"] == PANJ["lon"] and detection.id in body["instructions"]
    assert client.post(f"/api/v1/drones/flights/uav-9/tasks?detection_id={detection.id}",
                       headers=as_role(Role.duty_officer)).status_code == 404
    assert client.post(f"/api/v1/drones/flights/uav-3/tasks?detection_id={sensor.id}",
                       headers=as_role(Role.duty_officer)).status_code == 404


def test_the_demo_shows_a_snapshot_and_a_drone_track(node: Node) -> None:
    from sitcen.demo.cameras import CAMERA_ID, FLIGHT_ID, seed_camera_and_drone
    from sitcen.operations.attachments import attachments_of
    from sitcen.store import schema

    said = seed_camera_and_drone(node)
    assert "12 MAVLink positions" in said
    with node.engine.connect() as conn:
        [event_id] = conn.execute(sa.select(schema.events.c.id)).scalars()
    snapshots = attachments_of(node.engine, event_id)
    assert len(snapshots) == 3
    assert all(s.body["camera_snapshot"] and s.body["camera_id"] == CAMERA_ID
               for s in snapshots)
    [flight] = list_records(node.engine, "asset_position", subject=FLIGHT_ID)
    assert flight.version == 13 and len(flight.body["drone"]["footprint"]) == 17


@pytest.mark.parametrize("precision", ["exact", "section", "region"])
def test_a_coarsened_place_travels_without_the_shapes_around_it(precision: str) -> None:
    # A footprint, a mission area and a camera's view are drawn around the exact point: a
    # partner granted less than exact places gets the coarsened point without them.
    ring = [[68.60, 37.20], [68.61, 37.20], [68.61, 37.21], [68.60, 37.20]]
    agreement = Agreement.model_validate({
        "id": "tj-uz", "from_node": "tj-panj", "to_node": "uz-hub", "direction": "peer",
        "kinds": ["asset_position"], "location_precision": precision,
        "personal_data": "none", "handling_ceiling": "AMBER", "onward_sharing": False})
    drone = SharedRecord("asset_position", "tj-panj", str(uuid.uuid4()), 1, {
        "asset_id": "uav-1", "kind": "aircraft", "section_id": "AF-TJ-009", "handling": "AMBER",
        "location": {"lon": 68.605, "lat": 37.205},
        "drone": {"altitude_m": 120.0, "footprint": ring},
        "flight": {"flight_id": "f-1", "mission_area": ring},
        "camera": {"field_of_view": ring}})
    shared = share(drone, agreement, now=datetime(2026, 12, 7, tzinfo=UTC))
    assert shared is not None
    kept = precision == "exact"
    assert ("footprint" in shared.body["drone"]) is kept
    assert ("mission_area" in shared.body["flight"]) is kept
    assert ("field_of_view" in shared.body["camera"]) is kept
    assert shared.body["drone"]["altitude_m"] == 120.0
    assert drone.body["drone"]["footprint"] == ring  # the node's own record is untouched
