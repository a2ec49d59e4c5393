"""Ground sensors and cameras: their registry, their detections over MQTT, and bursts.

A sensor is an own asset that stands still: it is registered as an
``asset_position`` record of kind ``sensor`` (or ``camera``) carrying its
coverage, so it shows on the operational layer, in the live stream and in the
federation like any asset (docs/decisions.md). Detections arrive as JSON on
an MQTT broker (:class:`DetectionMessage`, documented in docs/sensors.md) and
become ``sensor_detection`` records listed by border section. Each is then
handed to :class:`~sitcen.interop.surveillance.Surveillance`: the sensor is
alive, the fence segments it watches move, and the detection is correlated
into an incident; when an incident collects ``sensor_burst_count`` detections
within ``sensor_burst_minutes`` (or a breach), one event with status
``reported`` is proposed to the duty officer, and later evidence is grouped
into it (docs/surveillance.md). Health messages arrive on their own topic.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import ssl
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol, Self

import orjson
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sitcen import metrics
from sitcen.analysis.correlation import CorrelationRules
from sitcen.events import NO_NUL, Location
from sitcen.interop import cameras
from sitcen.interop.cot import MappingError, ReportRule, report_rule
from sitcen.interop.sensor_health import HealthError
from sitcen.interop.surveillance import Surveillance
from sitcen.operations.background import ThreadWorker
from sitcen.settings import Settings
from sitcen.store import leases
from sitcen.store.assets import AssetPositionCreate, WrittenAsset, write_positions
from sitcen.store.events import Reporter
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records, write_record
from sitcen.taxonomy import Handling
from sitcen.times import UtcDatetime, iso

log = logging.getLogger("sitcen.sensors")

#: The largest detection message accepted (bytes of JSON).
MAX_PAYLOAD_BYTES = 16 * 1024
#: Sensor types a registry entry may have; a camera is shown as a camera asset.
SENSOR_TYPES = ("seismic", "acoustic", "infrared", "radar", "camera", "fence", "magnetic",
                "other")
LEASE = "mqtt-sensors"
LEASE_TTL_S = 30.0


# --------------------------------------------------------------------------- registry


#: A [lon, lat] point written as a two-number array (a plain array schema, which OpenAPI
#: 3.0 clients read; a tuple would need 3.1's prefixItems).
LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]


class SensorCreate(BaseModel):
    """A sensor to register (or move, under the same id)."""

    model_config = ConfigDict(extra="forbid")

    sensor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    type: str = Field(pattern="^(" + "|".join(SENSOR_TYPES) + ")$",
                      description="one of " + ", ".join(SENSOR_TYPES))
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    location: Location
    coverage_radius_km: float | None = Field(
        None, gt=0, le=100, allow_inf_nan=False,
        description="radius the sensor watches around its location")
    coverage_line: list[LonLat] | None = Field(
        None, min_length=2, max_length=500,
        description="[lon, lat] points of the line a fence or cable sensor watches")
    coverage_km: float | None = Field(
        None, gt=0, le=50, allow_inf_nan=False,
        description="width either side of coverage_line the sensor sees")
    heartbeat_interval_s: float | None = Field(
        None, gt=0, le=7 * 86400, allow_inf_nan=False,
        description="seconds between its heartbeats; silent longer: a silence is recorded "
                    "(default SITCEN_SENSOR_HEARTBEAT_S)")
    status: str = Field("active", max_length=32, pattern=r"^[a-z_]+$")
    handling: Handling = Handling.amber


class SensorPublic(BaseModel):
    """A registered sensor."""

    id: str
    version: int
    sensor_id: str
    type: str
    name: str
    location: dict[str, Any]
    section_id: str | None
    coverage_radius_km: float | None = None
    coverage_line: list[LonLat] | None = None
    coverage_km: float | None = None
    heartbeat_interval_s: float | None = None
    status: str
    handling: str


def register_sensor(engine: sa.Engine, reporter: Reporter, item: SensorCreate) -> WrittenAsset:
    """Write a sensor as an asset position that carries its coverage."""
    for point in item.coverage_line or []:
        Location(lon=point[0], lat=point[1])  # raises ValidationError for a point off the globe
    position = AssetPositionCreate(
        asset_id=item.sensor_id, kind="camera" if item.type == "camera" else "sensor",
        name=item.name, location=item.location, at=datetime.now(UTC), status=item.status,
        handling=item.handling)
    extra = {"sensor": {"type": item.type, "coverage_radius_km": item.coverage_radius_km,
                        "coverage_line": item.coverage_line, "coverage_km": item.coverage_km,
                        "heartbeat_interval_s": item.heartbeat_interval_s}}
    return write_positions(engine, reporter, [position], [extra])[0]


def sensor_public(record: StoredRecord) -> SensorPublic:
    """The registry view of a sensor's asset record."""
    b = record.body
    sensor = b.get("sensor") or {}
    return SensorPublic(id=record.id, version=record.version, sensor_id=b["asset_id"],
                        type=sensor.get("type", "other"), name=b.get("name", ""),
                        location=b.get("location") or {}, section_id=b.get("section_id"),
                        coverage_radius_km=sensor.get("coverage_radius_km"),
                        coverage_line=sensor.get("coverage_line"),
                        coverage_km=sensor.get("coverage_km"),
                        heartbeat_interval_s=sensor.get("heartbeat_interval_s"),
                        status=b.get("status", ""),
                        handling=b.get("handling", "AMBER"))


def get_sensor(engine: sa.Engine, node_id: str, sensor_id: str) -> StoredRecord | None:
    """This node's sensor of that id (None when unknown or the asset is no sensor)."""
    found = list_records(engine, RecordKind.asset_position, subject=sensor_id, origin=node_id,
                         limit=1)
    return found[0] if found and "sensor" in found[0].body else None


def list_sensors(engine: sa.Engine, node_id: str) -> list[StoredRecord]:
    """Every sensor this node registered, newest change first."""
    return [r for r in list_records(engine, RecordKind.asset_position, origin=node_id,
                                    limit=20_000)
            if "sensor" in r.body]


# --------------------------------------------------------------------------- detections


class DetectionMessage(BaseModel):
    """The JSON a sensor (or its gateway) publishes for one detection."""

    model_config = ConfigDict(extra="forbid")

    sensor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    detected_at: UtcDatetime = Field(description="ISO 8601 with a zone")
    kind: str = Field(pattern=r"^[a-z][a-z_]{0,31}$",
                      description="what was detected: person, vehicle, animal, aircraft, …")
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    bearing_deg: float | None = Field(None, ge=0, lt=360, allow_inf_nan=False)
    photo_ref: str | None = Field(None, min_length=1, max_length=500, pattern=NO_NUL,
                                  description="where the picture is kept (URI or file name)")


class DetectionError(ValueError):
    """A detection message that is dropped; the text says why (for the log)."""


def parse_detection(payload: bytes) -> DetectionMessage:
    """The detection in an MQTT payload; :class:`DetectionError` when unusable."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DetectionError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD_BYTES}")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DetectionError(f"not JSON (UTF-8): {exc}") from None
    try:
        return DetectionMessage.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DetectionError(f"{'.'.join(map(str, first['loc'])) or 'payload'}: "
                             f"{first['msg']}") from None


def record_detection(engine: sa.Engine, node_id: str, sensor: StoredRecord,
                     message: DetectionMessage) -> StoredRecord:
    """Write a detection as a ``sensor_detection`` record on the sensor's section."""
    b = sensor.body
    body = {
        "sensor_id": message.sensor_id, "sensor_type": (b.get("sensor") or {}).get("type"),
        "section_id": b.get("section_id"), "location": b.get("location"),
        "detected_at": iso(message.detected_at),
        "kind": message.kind, "confidence": message.confidence,
        "bearing_deg": message.bearing_deg, "photo_ref": message.photo_ref,
        "handling": b.get("handling", "AMBER"),
    }
    return write_record(engine, RecordKind.sensor_detection, body, node_id=node_id)


#: What a burst of each detection kind is proposed as (see docs/sensors.md).
DEFAULT_SENSOR_MAPPING: dict[str, Any] = {
    "kinds": {
        "person": "suspicious_person",
        "vehicle": "suspicious_vehicle",
        "aircraft": {"type": "suspicious_aircraft", "details": {"aircraft_kind": "unknown"}},
        "drone": {"type": "suspicious_aircraft", "details": {"aircraft_kind": "drone"}},
    },
    "default": "suspicious_person",
}


@dataclass(frozen=True)
class SensorMapping:
    """Detection kinds → the event a burst is proposed as."""

    kinds: dict[str, ReportRule]
    default: ReportRule

    def rule(self, kind: str) -> ReportRule:
        return self.kinds.get(kind, self.default)


def load_sensor_mapping(path: Path | None) -> SensorMapping:
    """The mapping in a YAML/JSON file, or :data:`DEFAULT_SENSOR_MAPPING`."""
    data: Any = DEFAULT_SENSOR_MAPPING
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise MappingError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"kinds", "default"}:
        raise MappingError(f"{path}: give 'kinds' (detection kind → event type) and 'default'")
    kinds = data.get("kinds") or {}
    if not isinstance(kinds, dict):
        raise MappingError(f"{path}: kinds must map detection kinds to event types")
    return SensorMapping({str(k): report_rule(f"kinds.{k}", v) for k, v in kinds.items()},
                         report_rule("default", data.get("default", "suspicious_person")))


# --------------------------------------------------------------------------- subscriber


class NodeLike(Protocol):
    settings: Settings
    engine: sa.Engine

    @property
    def reporter(self) -> Reporter: ...


@dataclass
class SensorCounters:
    """What the subscriber did, for logs and tests; each count also goes to the node's
    metrics (sitcen_sensor_messages_total, the field's name as its outcome)."""

    received: int = 0
    detections: int = 0
    dropped: int = 0
    proposals: int = 0
    health: int = 0

    def __setattr__(self, name: str, value: Any) -> None:
        grown = value - getattr(self, name, 0)
        super().__setattr__(name, value)
        if grown > 0:
            metrics.count_sensor(name, grown)


class DetectionSubscriber(ThreadWorker):
    """Subscribes to detections on the broker while this process holds the sensors' lease."""

    def __init__(self, node: NodeLike, *, host: str, port: int, username: str = "",
                 password: str = "", topic: str = "sitcen/detections/#",
                 tls_ca: Path | None = None, mapping: SensorMapping | None = None,
                 burst_count: int = 3, burst_minutes: float = 10.0,
                 health_topic: str = "sitcen/health/#") -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.node = node
        self.topic = topic
        self.health_topic = health_topic
        self.mapping = mapping or load_sensor_mapping(None)
        self.surveillance = Surveillance(node, self.mapping, rules=CorrelationRules(
            max_km=node.settings.correlation_km, window=timedelta(minutes=burst_minutes),
            propose_count=burst_count))
        self.counters = SensorCounters()
        self.connected = threading.Event()
        self.refused: str | None = None
        self._holder = f"{os.uname().nodename}-{os.getpid()}-{secrets.token_hex(4)}"
        super().__init__("mqtt-sensors", target=self._hold_lease)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                   client_id=f"sitcen-{self._holder}"[:64],
                                   protocol=mqtt.MQTTv311)
        if username:
            self._client.username_pw_set(username, password or None)
        if tls_ca is not None:
            self._client.tls_set(ca_certs=str(tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._running = False

    @classmethod
    def from_settings(cls, node: NodeLike) -> DetectionSubscriber:
        s = node.settings
        return cls(node, host=s.mqtt_host, port=s.mqtt_port, username=s.mqtt_username,
                   password=s.mqtt_password.get_secret_value(), topic=s.mqtt_topic,
                   tls_ca=s.mqtt_tls_ca, mapping=load_sensor_mapping(s.sensor_mapping_file),
                   burst_count=s.sensor_burst_count, burst_minutes=s.sensor_burst_minutes,
                   health_topic=s.mqtt_health_topic)

    def start(self) -> Self:
        self.surveillance.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        self.surveillance.stop()

    def _hold_lease(self) -> None:
        # One subscriber per node, whatever the number of processes: the lease holder.
        while not self._stop.is_set():
            try:
                held = leases.acquire(self.node.engine, LEASE, self._holder, LEASE_TTL_S)
            except Exception:
                log.exception("sensor lease check failed")
                held = False
            if held and not self._running:
                log.info("subscribing to %s on %s:%d", self.topic, self._host, self._port)
                self._client.connect_async(self._host, self._port, keepalive=30)
                self._client.loop_start()
                self._running = True
            elif not held and self._running:
                self._disconnect()
            self._stop.wait(LEASE_TTL_S / 3)
        if self._running:
            self._disconnect()
            leases.release(self.node.engine, LEASE, self._holder)

    def _disconnect(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._running = False
        self.connected.clear()
        metrics.sensor_broker(False)

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any,
                    _properties: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            log.warning("MQTT broker %s:%d refused the connection: %s", self._host, self._port,
                        reason)
            return
        self.refused = None
        client.subscribe([(self.topic, 1), (self.health_topic, 1)])
        self.connected.set()
        metrics.sensor_broker(True)
        log.info("connected to the MQTT broker %s:%d", self._host, self._port)

    def _on_disconnect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any,
                       _properties: Any) -> None:
        self.connected.clear()
        metrics.sensor_broker(False)
        if not self._stop.is_set():
            log.warning("MQTT broker connection lost (%s); reconnecting", reason)

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        import paho.mqtt.client as mqtt

        if mqtt.topic_matches_sub(self.health_topic, str(message.topic)):
            self.handle_health(bytes(message.payload), str(message.topic))
        else:
            self.handle(bytes(message.payload), str(message.topic))

    def handle_health(self, payload: bytes, topic: str = "") -> None:
        """One heartbeat, battery, tamper or fault message (docs/surveillance.md)."""
        self.counters.received += 1
        with self._dropping("health message", topic, HealthError):
            self.surveillance.health_message(payload)
            self.counters.health += 1

    def handle(self, payload: bytes, topic: str = "") -> None:
        """One detection message: checked, recorded, and counted towards a burst."""
        self.counters.received += 1
        with self._dropping("detection", topic, DetectionError):
            self._record(parse_detection(payload))

    @contextlib.contextmanager
    def _dropping(self, what: str, topic: str, refused: type[Exception]) -> Iterator[None]:
        """Count and log a message that is ``refused`` or cannot be recorded; go on."""
        try:
            yield
        except refused as exc:
            self.counters.dropped += 1
            log.warning("%s on %s dropped: %s", what, topic or "?", exc)
        except Exception:  # a store failure must not end the subscriber
            self.counters.dropped += 1
            log.exception("%s on %s could not be recorded", what, topic or "?")

    def _record(self, message: DetectionMessage) -> None:
        key = (message.sensor_id, message.detected_at.isoformat())
        with self._lock:
            if key in self._seen:
                return  # a QoS 1 redelivery
            self._seen[key] = None
            while len(self._seen) > 10_000:
                self._seen.popitem(last=False)
        node_id = self.node.settings.node_id
        sensor = get_sensor(self.node.engine, node_id, message.sensor_id)
        if sensor is None:
            raise DetectionError(f"sensor {message.sensor_id!r} is not registered")
        record = record_detection(self.node.engine, node_id, sensor, message)
        cameras.detected(self.node.engine, record)  # snapshots, off this path (cameras.py)
        self.counters.detections += 1
        if self.surveillance.detection(record) is not None:
            self.counters.proposals += 1
