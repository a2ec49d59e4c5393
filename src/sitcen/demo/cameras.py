"""The demo's camera and drone: a snapshot on a detection burst, and a drone's track.

The demo has no camera: its "snapshot" is a test pattern drawn here, marked
as a demo in the picture itself, attached exactly as a real snapshot would be
(to the detections and to the event their burst proposes). The drone's
telemetry is real MAVLink, encoded by pymavlink and handed to the node's
MAVLink listener, so its track and footprint come through the real path.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import orjson
from PIL import Image, ImageDraw

from sitcen.interop.cameras import (
    CameraCreate,
    attach_snapshot,
    events_naming,
    held,
    note_outcome,
    register_camera,
    snapshot_file,
)
from sitcen.interop.drones import FlightCreate, MavlinkListener, register_flight
from sitcen.interop.mqtt import DetectionSubscriber, SensorCreate, register_sensor
from sitcen.node import Node
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records

#: The Panj ford on the Tajik-Afghan border, where the demo's camera stands.
FORD = (68.60, 37.22)
CAMERA_ID = "demo-cam-ford"
SENSOR_ID = "demo-seis-ford"
FLIGHT_ID = "demo-uav-1"
SYSTEM_ID = 42
#: The demo drone's height above its take-off point: with a 35° half angle its camera sees
#: a circle of some 210 m.
ALTITUDE_M = 300
BARS = ((192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192),
        (192, 0, 0), (0, 0, 192))


def pattern_image(text: str) -> bytes:
    """Colour bars with ``text`` across them, as a JPEG (the demo's stand-in snapshot)."""
    image = Image.new("RGB", (640, 360))
    draw = ImageDraw.Draw(image)
    width = 640 // len(BARS)
    for i, colour in enumerate(BARS):
        draw.rectangle((i * width, 0, (i + 1) * width, 260), fill=colour)
    draw.rectangle((0, 260, 640, 360), fill=(16, 16, 16))
    draw.text((20, 280), text, fill=(255, 255, 255))
    draw.text((20, 310), "DEMO - test pattern, not a camera picture", fill=(255, 200, 0))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def seed_camera_and_drone(node: Node) -> str:
    """Register the camera, a burst under it with snapshots, and a drone flight; what was
    done, for the demo's progress line."""
    lon, lat = FORD
    register_camera(node.engine, node.reporter, CameraCreate(
        camera_id=CAMERA_ID, name="[demo] Камера у брода", location={"lon": lon, "lat": lat},
        field_of_view=[[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01],
                       [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01]],
        stream_url="rtsp://10.20.0.15/demo"))
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id=SENSOR_ID, type="seismic", name="[demo] Сейсмодатчик у брода",
        location={"lon": lon, "lat": lat}, coverage_radius_km=0.5))
    subscriber = DetectionSubscriber(node, host="127.0.0.1", port=1, burst_count=3)
    now = datetime.now(UTC) - timedelta(minutes=6)
    for minute in range(3):
        subscriber.handle(orjson.dumps({
            "sensor_id": SENSOR_ID, "kind": "person", "confidence": 0.8,
            "detected_at": (now + timedelta(minutes=minute)).isoformat()}))
    node_id = node.settings.node_id
    detections = [r for r in list_records(node.engine, RecordKind.sensor_detection, limit=50)
                  if r.body.get("sensor_id") == SENSOR_ID]
    for detection in detections:
        at = datetime.fromisoformat(detection.body["detected_at"])
        checked = snapshot_file(pattern_image(f"{CAMERA_ID}  {at:%Y-%m-%d %H:%M:%S} UTC"),
                                CAMERA_ID, at)
        attachment = attach_snapshot(node.engine, node_id, held(detection), checked,
                                     CAMERA_ID, node.reporter)
        note_outcome(node.engine, node_id, detection.id, {
            "camera_id": CAMERA_ID, "outcome": "taken", "reason": "demo test pattern",
            "attachment_id": attachment.id, "at": at.isoformat()})
        for event in events_naming(node.engine, node_id, detection):
            attach_snapshot(node.engine, node_id, event, checked, CAMERA_ID, node.reporter)
    flights = _fly(node, lon, lat)
    return (f"camera {CAMERA_ID}: {len(detections)} detections with test-pattern snapshots "
            f"(demo); drone {FLIGHT_ID}: {flights} MAVLink positions")


def _fly(node: Node, lon: float, lat: float) -> int:
    """A drone flight along the river over the last six minutes, its telemetry encoded by
    pymavlink (replayed half a minute apart, so the console believes the track)."""
    from pymavlink.dialects.v20 import common as mavlink

    start = datetime.now(UTC) - timedelta(minutes=6)
    register_flight(node.engine, node.reporter, FlightCreate(
        flight_id=FLIGHT_ID, name="[demo] БПЛА-1", system_id=SYSTEM_ID,
        mission_area=[[lon - 0.08, lat - 0.04], [lon + 0.08, lat - 0.04],
                      [lon + 0.08, lat + 0.04], [lon - 0.08, lat + 0.04]],
        sensor_half_angle_deg=35), at=start - timedelta(minutes=10))
    listener = MavlinkListener(node.engine, node.reporter, host="127.0.0.1", port=0)
    drone = mavlink.MAVLink(None, srcSystem=SYSTEM_ID)
    try:
        for i in range(12):
            message = drone.global_position_int_encode(
                i * 30_000, int((lat - 0.03 + i * 0.005) * 1e7),
                int((lon - 0.05 + i * 0.008) * 1e7), (900 + ALTITUDE_M) * 1000,
                ALTITUDE_M * 1000, 0, 0, 0, 4500)
            listener.handle(bytes(message.pack(drone)), at=start + timedelta(seconds=30 * i))
    finally:
        listener.stop()
    return listener.counters.positions
