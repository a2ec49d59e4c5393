"""The demo's green-border surveillance: a sensor field at a ford of the Panj.

Three fence sensors watch a fence segment and a seismic sensor and a camera
stand beside it. The seismic sensor has fallen silent (its silence is on record,
as the health watch records one), the fence sensors have detected a crossing
and one of them a cut: the segment went from intact to alarm to breached and the
detections and the breach make one correlated incident in the duty officer's
queue (docs/surveillance.md). No MQTT broker is needed: the detections are
recorded and handed on as the subscriber does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sitcen.interop.mqtt import (
    DetectionMessage,
    SensorCreate,
    get_sensor,
    load_sensor_mapping,
    record_detection,
    register_sensor,
)
from sitcen.interop.surveillance import Surveillance
from sitcen.node import Node
from sitcen.operations.fences import FenceSegmentCreate, get_segment, register_segment

FORD = (68.600, 37.220)
FENCE_LINE = [[68.596, 37.2195], [68.600, 37.2200], [68.604, 37.2206]]


def seed_surveillance(node: Node) -> str:
    """Register the field, record the silence and the breach; a line for the demo's log."""
    engine, node_id = node.engine, node.settings.node_id
    lon, lat = FORD
    for i in (1, 2, 3):
        register_sensor(engine, node.reporter, SensorCreate(
            sensor_id=f"tj-panj-fence-{i}", type="fence", name=f"[demo] Ограда у брода, датчик {i}",
            location={"lon": 68.596 + 0.004 * (i - 1), "lat": 37.2196 + 0.0005 * (i - 1)},
            coverage_line=FENCE_LINE, coverage_km=0.05, heartbeat_interval_s=60))
    register_sensor(engine, node.reporter, SensorCreate(
        sensor_id="tj-panj-seis-12", type="seismic", name="[demo] Сейсмодатчик у брода 12",
        location={"lon": lon, "lat": lat - 0.003}, coverage_radius_km=0.8,
        heartbeat_interval_s=60))
    register_sensor(engine, node.reporter, SensorCreate(
        sensor_id="tj-panj-cam-3", type="camera", name="[demo] Камера у брода 3",
        location={"lon": lon + 0.002, "lat": lat - 0.001}, coverage_radius_km=1.5,
        heartbeat_interval_s=60))
    register_segment(engine, node_id, node.reporter.sections, FenceSegmentCreate(
        segment_id="tj-panj-f-12", name="[demo] Забор у брода 12", line=FENCE_LINE,
        sensor_ids=[f"tj-panj-fence-{i}" for i in (1, 2, 3)]))
    surveillance = Surveillance(node, load_sensor_mapping(node.settings.sensor_mapping_file))
    # The health watch: every sensor but the seismic one was heard within its minute.
    health = surveillance.health
    now = time.time()
    health.load(now=now - 300)
    for sensor_id in ("tj-panj-fence-1", "tj-panj-fence-2", "tj-panj-fence-3", "tj-panj-cam-3"):
        health.heard(sensor_id, now=now)
    silent = health.check(now=now)
    # A crossing at the fence: three sensors, then a cut.
    start = datetime.now(UTC) - timedelta(minutes=6)
    proposed = None
    for k, (sensor_id, kind) in enumerate([("tj-panj-fence-1", "person"),
                                           ("tj-panj-fence-2", "person"),
                                           ("tj-panj-fence-3", "person"),
                                           ("tj-panj-fence-2", "cut")]):
        sensor = get_sensor(engine, node_id, sensor_id)
        assert sensor is not None
        record = record_detection(engine, node_id, sensor, DetectionMessage(
            sensor_id=sensor_id, detected_at=start + timedelta(seconds=40 * k), kind=kind,
            confidence=0.85))
        proposed = surveillance.detection(record) or proposed
    segment = get_segment(engine, node_id, "tj-panj-f-12")
    state = segment.body["state"] if segment else "?"
    return (f"surveillance: 5 sensors at the Panj ford, silent: {', '.join(silent) or 'none'}; "
            f"fence segment tj-panj-f-12 intact → alarm → {state}; one incident "
            f"{proposed or '(not proposed)'} (docs/surveillance.md)")
