"""Sensor health, fence segments and correlated incidents over a real Mosquitto broker.

A simulated sensor field: fence sensors and a seismic sensor on the Panj publish
heartbeats and detections through the broker that ``test_sensors`` starts
(Debian ``mosquitto``); the node's subscriber records silences, moves the fence
segment and groups the detections into one incident, which the duty officer can
take apart again through the API.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from sitcen.interop.mqtt import DetectionSubscriber, SensorCreate, register_sensor
from sitcen.interop.sensor_health import (
    HealthError,
    HealthMessage,
    HealthMonitor,
    availability,
    parse_health,
)
from sitcen.node import Node
from sitcen.operations.attachments import attach_file, check_file
from sitcen.operations.fences import FenceSegmentCreate, StateRefused, next_state, register_segment
from sitcen.operations.references import find_record
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.testing import Broker, wait_until
from sitcen.users import Role
from test_sensors import GATEWAY, PASSWORD, USER, _publisher, broker, detection

__all__ = ["broker"]  # the module-scoped Mosquitto of test_sensors
pytestmark = pytest.mark.xdist_group("mosquitto")

PANJ = {"lon": 68.60, "lat": 37.22}
FENCE_LINE = [[68.595, 37.219], [68.605, 37.221]]


def health(sensor_id: str, kind: str = "heartbeat", **extra: Any) -> bytes:
    return orjson.dumps({"sensor_id": sensor_id, "type": kind,
                         "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                         **extra})


def test_health_messages_and_states() -> None:
    ok = parse_health(health("s-1", "battery", battery_pct=14.5))
    assert ok.battery_pct == 14.5
    for payload, reason in [(b"{", "not JSON"), (health("s-1", "sleep"), "type"),
                            (health("s-1", battery_pct=120), "battery_pct"),
                            (health("s-1", colour="red"), "colour"),
                            (b"x" * 5000, "over")]:
        with pytest.raises(HealthError, match=reason):
            parse_health(payload)
    assert next_state("intact", "detection") == "alarm"
    assert next_state("alarm", "detection") is None
    assert next_state("alarm", "cut") == "breached"
    assert next_state("breached", "repaired") == "repaired"
    assert next_state("alarm", "intact") == "intact"  # a false alarm cleared by a patrol
    for current, cause in (("intact", "repaired"), ("breached", "intact")):
        with pytest.raises(StateRefused):
            next_state(current, cause)


def test_silence_battery_and_availability(node: Node) -> None:
    for sid in ("s-1", "s-2"):
        register_sensor(node.engine, node.reporter, SensorCreate(
            sensor_id=sid, type="seismic", name=sid, location=PANJ, heartbeat_interval_s=60))
    monitor = HealthMonitor(node.engine, node.settings.node_id, default_interval_s=300)
    t0 = 1_800_000_000.0
    monitor.load(now=t0)
    assert monitor.check(now=t0 + 59) == []
    monitor.heard("s-1", now=t0 + 50)
    assert monitor.check(now=t0 + 65) == []  # 60 s, and a tenth of it for a late beat
    assert monitor.check(now=t0 + 67) == ["s-2"]  # s-1 was heard 17 s ago
    assert monitor.check(now=t0 + 68) == []  # one record per silence
    assert monitor.check(now=t0 + 115) == []
    assert monitor.check(now=t0 + 117) == ["s-1"]
    monitor.heard("s-2", now=t0 + 120)  # back: the silence is closed
    faults = list_records(node.engine, RecordKind.sensor_fault, limit=10)
    by_sensor = {f.body["sensor_id"]: f.body for f in faults}
    assert by_sensor["s-2"]["ended_at"] is not None and by_sensor["s-1"]["ended_at"] is None
    assert by_sensor["s-2"]["started_at"].startswith(
        datetime.fromtimestamp(t0 + 60, UTC).isoformat()[:19])
    monitor.message(parse_health(health("s-2", "battery", battery_pct=9)), now=t0 + 121)
    assert {f.body["condition"] for f in list_records(node.engine, RecordKind.sensor_fault,
                                                      subject="s-2", limit=10)} == \
        {"silent", "battery_low"}
    with pytest.raises(HealthError, match="not registered"):
        monitor.message(parse_health(health("nobody")))
    sensors = list_records(node.engine, RecordKind.asset_position, limit=10)
    since = datetime.fromtimestamp(t0, UTC)
    table = availability(sensors, list_records(node.engine, RecordKind.sensor_fault, limit=10),
                         since, since + timedelta(seconds=200))
    shares = {r["sensor_id"]: r["availability"] for r in table["sensors"]}
    assert shares["s-2"] == pytest.approx(1 - 60 / 200)  # silent from t0+60 to t0+120
    assert shares["s-1"] == pytest.approx(1 - 90 / 200)  # silent from t0+110 to the end
    [section] = table["sections"]
    assert section["availability"] == pytest.approx((shares["s-1"] + shares["s-2"]) / 2)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def field(node: Node, broker: Broker) -> Iterator[DetectionSubscriber]:
    """Three fence sensors on one segment and a seismic sensor, one beating every 1.5 s."""
    for i in (1, 2, 3):
        register_sensor(node.engine, node.reporter, SensorCreate(
            sensor_id=f"fence-{i}", type="fence", name=f"Ограда {i}", location={
                "lon": 68.596 + 0.003 * i, "lat": 37.22}, coverage_line=FENCE_LINE,
            coverage_km=0.05))
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id="seis-7", type="seismic", name="Сейсмодатчик 7", location=PANJ,
        heartbeat_interval_s=1.5))
    register_segment(node.engine, node.settings.node_id, node.reporter.sections,
                     FenceSegmentCreate(segment_id="panj-f-12", name="Забор у брода 12",
                                        line=FENCE_LINE,
                                        sensor_ids=["fence-1", "fence-2", "fence-3"]))
    subscriber = DetectionSubscriber(node, host=broker.host, port=broker.port, username=USER,
                                     password=PASSWORD, burst_count=3, burst_minutes=10)
    subscriber.start()
    try:
        wait_until(subscriber.connected.is_set, what="the subscriber to connect")
        yield subscriber
    finally:
        subscriber.stop()


def test_sensor_field_over_mosquitto(node: Node, field: DetectionSubscriber, broker: Broker,
                                     client: TestClient,
                                     as_role: Callable[[Role], dict[str, str]]) -> None:
    from test_sensors import GATEWAY_PASSWORD

    publisher, reason = _publisher(broker, GATEWAY, GATEWAY_PASSWORD)
    assert not reason.is_failure
    # The seismic sensor beats twice, then falls silent.
    for _ in range(2):
        publisher.publish("sitcen/health/seis-7", health("seis-7"), qos=1).wait_for_publish()
    wait_until(lambda: field.counters.health >= 2, what="two heartbeats")
    silence = wait_until(lambda: list_records(node.engine, RecordKind.sensor_fault,
                                              subject="seis-7", limit=1),
                         what="a silence record for seis-7")[0]
    assert silence.body["condition"] == "silent" and silence.body["ended_at"] is None
    assert silence.body["expected_interval_s"] == 1.5
    # The silence starts one interval after the sensor was last heard.
    assert (datetime.fromisoformat(silence.body["started_at"])
            - datetime.fromisoformat(silence.body["last_heard_at"])) == timedelta(seconds=1.5)
    sick = client.get("/api/v1/sensor-health", headers=as_role(Role.analyst)).json()["sensors"]
    assert {s["sensor_id"]: s["conditions"] for s in sick}["seis-7"] == ["silent"]
    publisher.publish("sitcen/health/seis-7", health("seis-7", "tamper", detail="корпус вскрыт"),
                      qos=1).wait_for_publish()
    wait_until(lambda: list_records(node.engine, RecordKind.sensor_fault, subject="seis-7",
                                    limit=5)[0].body["condition"] == "tamper",
               what="a tamper record")
    reopened = {r.body["condition"]: r.body for r in list_records(
        node.engine, RecordKind.sensor_fault, subject="seis-7", limit=5)}
    assert reopened["silent"]["ended_at"] is not None  # heard again: the silence closed
    assert reopened["tamper"]["detail"] == "корпус вскрыт"

    # A burst on the fence segment: three sensors, one incident, not three events.
    now = datetime.now(UTC) - timedelta(minutes=3)
    for i in (1, 2, 3):
        publisher.publish(f"sitcen/detections/fence-{i}", detection(
            f"fence-{i}", at=now + timedelta(seconds=20 * i)), qos=1).wait_for_publish()
    wait_until(lambda: field.counters.proposals == 1, what="the incident proposed")
    with node.engine.connect() as conn:
        events = list(conn.execute(sa.select(schema.events)))
    assert len(events) == 1
    event_id = events[0].id
    segment = client.get("/api/v1/fences/panj-f-12", headers=as_role(Role.analyst)).json()
    assert segment["body"]["state"] == "alarm"
    assert [h["state"] for h in segment["history"]] == ["intact", "alarm"]
    # A camera's snapshot attached to one detection is evidence of the incident.
    detections = list_records(node.engine, RecordKind.sensor_detection, limit=10)
    snapped = detections[-1]
    held = find_record(node.engine, snapped.id)
    assert held is not None
    attach_file(node.engine, node.settings.node_id, held,
                check_file(_jpeg(), name="snapshot.jpg", declared_type="image/jpeg",
                           max_bytes=1_000_000),
                by="camera-12")
    # A cut on the fence: the segment is breached, and that joins the same incident.
    publisher.publish("sitcen/detections/fence-2", detection(
        "fence-2", at=now + timedelta(seconds=90), kind="cut"), qos=1).wait_for_publish()
    wait_until(lambda: client.get("/api/v1/fences/panj-f-12", headers=as_role(Role.analyst))
               .json()["body"].get("breach_event_id") == event_id, what="the breach on the event")
    incident = client.get(f"/api/v1/incidents/{event_id}", headers=as_role(Role.analyst)).json()
    evidence = incident["evidence"]
    assert [e["kind"] for e in evidence] == ["sensor_detection"] * 4
    assert evidence[0]["rule"] is None and {e["rule"] for e in evidence[1:]} == {"same_segment"}
    assert all(e["distance_km"] < 1 for e in evidence[1:])
    assert "same fence segment" in evidence[1]["explanation"]
    snapshot = next(e for e in evidence if e["id"] == snapped.id)["attachments"]
    assert len(snapshot) == 1 and snapshot[0]["url"].startswith("/api/v1/files/")
    # A patrol reports the fence repaired: the repair time is kept.
    report = client.post("/api/v1/fences/panj-f-12/reports", json={
        "state": "repaired", "text": "Дозор 3: сетка восстановлена"},
        headers=as_role(Role.operator))
    assert report.status_code == 200, report.text
    repaired = report.json()["segment"]["body"]
    assert repaired["state"] == "repaired" and repaired["repair_minutes"] >= 0
    wrong = client.post("/api/v1/fences/panj-f-12/reports", json={
        "state": "repaired", "text": "again"}, headers=as_role(Role.operator))
    assert wrong.status_code == 422 and "breached" in wrong.text
    # The patrol's report is grouped into the same incident.
    evidence = client.get(f"/api/v1/incidents/{event_id}",
                          headers=as_role(Role.analyst)).json()["evidence"]
    assert evidence[-1]["kind"] == "fence_segment" and evidence[-1]["rule"] == "same_segment"
    # The duty officer takes one detection out of the incident.
    grouping = evidence[2]["grouping_id"]
    body = {"grouping_id": grouping, "text": "another crossing attempt"}
    assert client.post(f"/api/v1/incidents/{event_id}/ungroup", json=body,
                       headers=as_role(Role.liaison)).status_code == 403
    undone = client.post(f"/api/v1/incidents/{event_id}/ungroup", json=body,
                         headers=as_role(Role.duty_officer))
    assert undone.status_code == 201, undone.text
    assert undone.json()["body"]["action"] == "ungroup"
    left = client.get(f"/api/v1/incidents/{event_id}", headers=as_role(Role.analyst)).json()
    assert grouping not in {e["grouping_id"] for e in left["evidence"]}
    assert len(left["evidence"]) == len(evidence) - 1
    again = client.post(f"/api/v1/incidents/{event_id}/ungroup", json=body,
                        headers=as_role(Role.duty_officer))
    assert again.status_code == 422 and "undone" in again.text
    with node.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 1
    publisher.loop_stop()
    publisher.disconnect()
    # Availability over the last hour: the seismic sensor was silent for a while.
    table = client.get("/api/v1/sensor-health/availability",
                       headers=as_role(Role.analyst)).json()
    shares = {r["sensor_id"]: r["availability"] for r in table["sensors"]}
    assert shares["seis-7"] < 1.0 and shares["fence-1"] == 1.0
    bad = client.get("/api/v1/sensor-health/availability?since=yesterday",
                     headers=as_role(Role.analyst))
    assert bad.status_code == 422 and "since" in bad.text


def test_silent_sensors_reduce_capacity() -> None:
    from sitcen.analysis.vulnerability import (
        SectionCapacity,
        explain_vulnerability,
        vulnerability_table,
    )

    cap = SectionCapacity("AF-TJ-004", length_km=20, staff_per_shift=4, shifts_per_day=3,
                          patrol_hours_per_week=40, vehicles=2, sensors=3, cameras=1, towers=0,
                          covered_km=16, fence_km=5, response_time_min=20,
                          terrain_permeability=0.6)
    calm = vulnerability_table([cap]).iloc[0]
    silent = vulnerability_table([cap], silent_sensors={"AF-TJ-004": 2}).iloc[0]
    assert silent["covered_km"] == pytest.approx(8.0)  # half the four watchers are down
    assert silent["score"] > calm["score"]
    def surveillance_text(row: object) -> str:
        terms = explain_vulnerability(row).set_index("term")  # type: ignore[arg-type]
        return str(terms.loc["surveillance", "explanation"])

    assert "2 silent or faulty sensors not counted" in surveillance_text(silent)
    assert "silent" not in surveillance_text(calm)


def test_the_demo_shows_a_silent_sensor_and_a_breached_segment(node: Node) -> None:
    from sitcen.demo.surveillance import seed_surveillance

    said = seed_surveillance(node)
    assert "silent: tj-panj-seis-12" in said and "→ breached" in said
    silent = list_records(node.engine, RecordKind.sensor_fault, limit=10)
    assert [(r.body["sensor_id"], r.body["condition"]) for r in silent] == [
        ("tj-panj-seis-12", "silent")]
    with node.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 1


def test_a_sensor_registered_later_is_watched_too(node: Node) -> None:
    monitor = HealthMonitor(node.engine, node.settings.node_id, default_interval_s=30)
    t0 = 1_800_000_000.0
    monitor.load(now=t0)
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id="late-1", type="acoustic", name="Поздний", location=PANJ))
    monitor.load(now=t0 + 10)
    assert monitor.check(now=t0 + 42) == []
    # The default interval (and its tenth), from its loading.
    assert monitor.check(now=t0 + 44) == ["late-1"]


def test_a_node_behind_its_broker_waits_before_calling_sensors_silent(node: Node) -> None:
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id="s-9", type="seismic", name="s-9", location=PANJ, heartbeat_interval_s=60))
    monitor = HealthMonitor(node.engine, node.settings.node_id, default_interval_s=300)
    t0 = 1_800_000_000.0
    monitor.load(now=t0)
    late = HealthMessage(sensor_id="s-9", type="heartbeat",
                         sent_at=datetime.fromtimestamp(t0 - 20, UTC))
    monitor.message(late, now=t0)  # handled 20 s after it was sent
    assert monitor.lag_s == 20 and monitor.worst_lag_s == 20
    assert monitor.check(now=t0 + 75) == []  # 60 s + the 20 s the node is behind
    assert monitor.check(now=t0 + 81) == ["s-9"]
