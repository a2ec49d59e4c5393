"""Sensors: the registry API, bursts, and detections through a real Mosquitto broker.

The broker is Debian's ``mosquitto``, started here on a free port with a
password file; where it is missing the broker tests are skipped, except
under CI=true where they fail (``make system-deps`` installs it).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from sitcen.interop.cot import MappingError
from sitcen.interop.mqtt import (
    DetectionError,
    DetectionSubscriber,
    SensorCreate,
    load_sensor_mapping,
    parse_detection,
    register_sensor,
)
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.testing import Broker, mosquitto, mosquitto_missing, wait_until
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("mosquitto")

# A point on the Tajik-Afghan border near Nizhny Panj (on a border section).
PANJ = {"lon": 68.60, "lat": 37.22}
USER, PASSWORD = "sitcen-node", "broker-pass-1"
GATEWAY, GATEWAY_PASSWORD = "sensor-gateway", "gateway-pass-1"


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    missing = mosquitto_missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(missing + " (required under CI=true)")
        pytest.skip(missing)
    with mosquitto({USER: PASSWORD, GATEWAY: GATEWAY_PASSWORD}) as running:
        yield running


def detection(sensor_id: str = "kg-seis-01", at: datetime | None = None, **extra: Any) -> bytes:
    body = {"sensor_id": sensor_id,
            "detected_at": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
            "kind": "person", "confidence": 0.8, **extra}
    return orjson.dumps(body)


# --------------------------------------------------------------------------- pure parts


def test_detection_payloads() -> None:
    ok = parse_detection(detection(bearing_deg=271.5, photo_ref="снимки/пост-3/0001.jpg"))
    assert ok.photo_ref == "снимки/пост-3/0001.jpg" and ok.bearing_deg == 271.5
    for payload, reason in [
        (b"not json", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        (detection(confidence="high"), "confidence"),
        (detection(confidence=1.5), "confidence"),
        (detection(kind="человек"), "kind"),
        (detection(bearing_deg=360), "bearing_deg"),
        (detection(colour="red"), "colour"),
        (b'{"sensor_id": "x", "detected_at": "2026-01-01T00:00:00", "kind": "person", '
         b'"confidence": 0.5}', "detected_at"),
        (b"[1, 2, 3]", "payload"),
        (detection(photo_ref="x" * 20_000), "over"),
    ]:
        with pytest.raises(DetectionError, match=reason):
            parse_detection(payload)


def test_sensor_mapping_file(tmp_path: Path) -> None:
    assert load_sensor_mapping(None).rule("vehicle").type == "suspicious_vehicle"
    assert load_sensor_mapping(None).rule("animal").type == "suspicious_person"
    path = tmp_path / "sensors.yaml"
    path.write_text("kinds:\n  person: {type: green_border_crossing, details: "
                    "{stage: attempted, direction: entry}}\ndefault: lost_person\n",
                    encoding="utf-8")
    mapping = load_sensor_mapping(path)
    assert mapping.rule("person").details == {"stage": "attempted", "direction": "entry"}
    assert mapping.rule("boat").type == "lost_person"
    path.write_text("kinds:\n  person: green_border_crossing\n", encoding="utf-8")
    with pytest.raises(MappingError, match="needs details"):
        load_sensor_mapping(path)


# --------------------------------------------------------------------------- registry API


def test_sensor_registry_api(client: TestClient, as_role: Callable[[Role], dict[str, str]],
                             ) -> None:
    body = {"sensor_id": "tj-seis-07", "type": "seismic", "name": "Сейсмодатчик 7",
            "location": PANJ, "coverage_radius_km": 0.5}
    created = client.post("/api/v1/sensors", json=body, headers=as_role(Role.operator))
    assert created.status_code == 201, created.text
    assert created.json()["section_id"] is not None
    line = {**body, "sensor_id": "tj-fence-1", "type": "fence", "coverage_radius_km": None,
            "coverage_line": [[68.60, 37.22], [68.62, 37.23]], "coverage_km": 0.2}
    assert client.post("/api/v1/sensors", json=line,
                       headers=as_role(Role.duty_officer)).status_code == 201
    moved = client.post("/api/v1/sensors", json={**body, "location": {"lon": 68.61,
                                                                      "lat": 37.22}},
                        headers=as_role(Role.operator)).json()
    assert moved["version"] == 2
    listed = client.get("/api/v1/sensors", headers=as_role(Role.liaison)).json()["sensors"]
    assert {s["sensor_id"] for s in listed} == {"tj-seis-07", "tj-fence-1"}
    one = client.get("/api/v1/sensors/tj-fence-1", headers=as_role(Role.analyst)).json()
    assert one["coverage_line"] == [[68.60, 37.22], [68.62, 37.23]]
    assert client.get("/api/v1/sensors/nothing", headers=as_role(Role.analyst)).status_code == 404
    assets = client.get("/api/v1/assets", headers=as_role(Role.analyst)).json()["assets"]
    assert {a["kind"] for a in assets} == {"sensor"}
    # Roles and bad input.
    assert client.post("/api/v1/sensors", json=body,
                       headers=as_role(Role.liaison)).status_code == 403
    assert client.post("/api/v1/sensors", json=body).status_code == 401
    refused: list[tuple[dict[str, Any], str]] = [
        ({"type": "laser"}, "type"), ({"coverage_radius_km": -1}, "coverage_radius_km"),
        ({"coverage_line": [[200, 1], [1, 1]]}, "coverage_line"),
        ({"sensor_id": "a b"}, "sensor_id"), ({"colour": "red"}, "colour")]
    for bad, field in refused:
        answer = client.post("/api/v1/sensors", json={**body, **bad},
                             headers=as_role(Role.operator))
        assert answer.status_code == 422, answer.text
        assert field in str(answer.json()["detail"])
    patrol = {"asset_id": "patrol-1", "kind": "patrol", "name": "Дозор",
              "location": PANJ, "at": datetime.now(UTC).isoformat()}
    assert client.post("/api/v1/assets/positions", json=patrol,
                       headers=as_role(Role.operator)).status_code == 201
    clash = client.post("/api/v1/sensors", json={**body, "sensor_id": "patrol-1"},
                        headers=as_role(Role.operator))
    assert clash.status_code == 422 and "no sensor" in clash.text


# --------------------------------------------------------------------------- over MQTT


def _publisher(broker: Broker, user: str = GATEWAY,
               password: str = GATEWAY_PASSWORD) -> tuple[mqtt.Client, Any]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{time.time_ns()}")
    client.username_pw_set(user, password)
    result: dict[str, Any] = {}
    client.on_connect = lambda _c, _u, _f, reason, _p: result.setdefault("reason", reason)
    client.connect(broker.host, broker.port)
    client.loop_start()
    wait_until(lambda: "reason" in result, what="the broker's answer")
    return client, result["reason"]


def _sensor_metrics() -> dict[str, float]:
    """The sensor series of this process's metrics, read with Prometheus' own parser: the
    broker gauge, and the messages counted by outcome."""
    from prometheus_client.parser import text_string_to_metric_families

    from sitcen import metrics

    found = {"connected": 0.0}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            if sample.name == "sitcen_sensor_broker_connected":
                found["connected"] = sample.value
            elif sample.name == "sitcen_sensor_messages_total":
                found[sample.labels["outcome"]] = sample.value
    return found


def test_detections_through_mosquitto(node: Node, broker: Broker) -> None:
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id="kg-seis-01", type="seismic", name="Датчик у брода", location=PANJ,
        coverage_radius_km=1.0))
    subscriber = DetectionSubscriber(node, host=broker.host, port=broker.port, username=USER,
                                     password=PASSWORD, burst_count=3, burst_minutes=10)
    before = _sensor_metrics()
    subscriber.start()
    try:
        wait_until(subscriber.connected.is_set, what="the subscriber to connect")
        assert _sensor_metrics()["connected"] == 1
        publisher, reason = _publisher(broker)
        assert not reason.is_failure
        now = datetime.now(UTC) - timedelta(minutes=5)
        bad = [b"not json", b"\xd0\x9f\xff", detection(confidence="high"),
               detection("unknown-sensor"), detection(kind="машина"),
               detection(photo_ref="x" * 100_000), b"", b"{}"]
        for payload in bad:
            publisher.publish("sitcen/detections/kg-seis-01", payload, qos=1).wait_for_publish()
        for minute in (0, 1, 2):
            publisher.publish("sitcen/detections/kg-seis-01",
                              detection(at=now + timedelta(minutes=minute),
                                        photo_ref=f"снимок-{minute}.jpg"),
                              qos=1).wait_for_publish()
        publisher.loop_stop()
        publisher.disconnect()
        # The fourth, with the Debian command-line client, continues the same burst.
        subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port),
                        "-u", GATEWAY, "-P", GATEWAY_PASSWORD, "-q", "1",
                        "-t", "sitcen/detections/kg-seis-01",
                        "-m", detection(at=now + timedelta(minutes=3), kind="vehicle").decode()],
                       check=True, capture_output=True, timeout=30)
        wait_until(lambda: subscriber.counters.detections == 4, what="four detections recorded")
        assert subscriber.counters.dropped == len(bad)
        assert subscriber.counters.proposals == 1
    finally:
        subscriber.stop()
    # The node's metrics counted what the subscriber counted (docs/monitoring.md).
    after = _sensor_metrics()
    assert after["connected"] == 0
    for outcome in ("received", "detections", "dropped", "proposals"):
        assert after.get(outcome, 0) - before.get(outcome, 0) == getattr(
            subscriber.counters, outcome), outcome
    records = list_records(node.engine, RecordKind.sensor_detection, limit=10)
    assert len(records) == 4
    assert {r.subject for r in records} == {records[0].body["section_id"]} != {None}
    assert {r.body["photo_ref"] for r in records} >= {"снимок-0.jpg", "снимок-2.jpg"}
    with node.engine.connect() as conn:
        events = list(conn.execute(sa.select(schema.events)))
    assert len(events) == 1
    event = events[0]
    assert (event.type, event.status) == ("suspicious_person", "reported")
    burst_ids = sorted(records, key=lambda r: r.body["detected_at"])[:3]
    assert all(r.id in event.body for r in burst_ids)


def test_wrong_credentials_are_refused_by_the_broker(node: Node, broker: Broker) -> None:
    client, reason = _publisher(broker, GATEWAY, "wrong-password")
    client.loop_stop()
    client.disconnect()
    assert reason.is_failure
    refused = subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port),
                              "-u", GATEWAY, "-P", "wrong-password", "-t", "sitcen/detections/x",
                              "-m", "{}"], capture_output=True, timeout=30)
    assert refused.returncode != 0
    subscriber = DetectionSubscriber(node, host=broker.host, port=broker.port, username=USER,
                                     password="also-wrong")
    subscriber.start()
    try:
        wait_until(lambda: subscriber.refused is not None,
                   what="the broker to refuse the subscriber")
        assert not subscriber.connected.is_set()
    finally:
        subscriber.stop()
