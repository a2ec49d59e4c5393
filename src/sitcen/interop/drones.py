"""Drones: flights with a mission area, telemetry over MAVLink as tracks, tasking to a detection.

A flight is an own asset of kind ``aircraft`` (an ``asset_position`` record)
that carries a ``flight`` block: the MAVLink system id of the drone flying it,
its mission area (a polygon) and the half angle of its sensor. Telemetry
arrives as MAVLink datagrams over UDP (:class:`MavlinkListener`, parsed by
pymavlink): each ``GLOBAL_POSITION_INT`` of a registered system becomes the
next version of its flight's asset record, so the track, the operational
layer, the live stream and the federation show it like any unit's, with the
ground footprint of its sensor (a circle of radius altitude × tan(half angle)).
A datagram over the size of a MAVLink frame, one that does not parse (bad
checksum, truncated, not MAVLink) and one from an unregistered system are
refused and counted (``sitcen_mavlink_messages_total``).

A drone reported over Cursor-on-Target goes the same way (:func:`cot_drone`,
called by the TAK intake): a CoT position whose uid a flight names becomes
that flight's next version, and a ``<sensor azimuth fov range/>`` in its
detail gives the footprint, a sector of the sensor's range (:func:`sector`).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import shapely
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sitcen import metrics
from sitcen.events import NO_NUL, Location
from sitcen.geo import simple_polygon
from sitcen.interop.cameras import LonLat
from sitcen.interop.cot import MAX_SENSOR_RANGE_M, CotSensor
from sitcen.operations.background import ThreadWorker
from sitcen.operations.tasks import TaskCreate, create_task, known_units
from sitcen.store.assets import AssetKind, AssetPositionCreate, WrittenAsset, write_positions
from sitcen.store.events import Reporter
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records
from sitcen.taxonomy import Handling

log = logging.getLogger("sitcen.drones")

#: The largest MAVLink 2 frame (10 header + 255 payload + 2 checksum + 13 signature bytes);
#: a larger datagram is refused before it is parsed.
MAX_DATAGRAM = 280
#: Points of the footprint circle.
FOOTPRINT_POINTS = 16
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


class FlightCreate(BaseModel):
    """A drone flight to register (or change, under the same id)."""

    model_config = ConfigDict(extra="forbid")

    flight_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    system_id: int = Field(ge=1, le=255, description="the MAVLink system id of the drone")
    mission_area: list[LonLat] = Field(min_length=3, max_length=500,
                                       description="[lon, lat] corners of the mission area")
    sensor_half_angle_deg: float = Field(30.0, gt=0, lt=89, allow_inf_nan=False,
                                         description="half the sensor's field of view")
    cot_uid: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f<>&]+$",
                                description="the CoT uid a TAK device reports the drone "
                                            "under (default: the flight id)")
    handling: Handling = Handling.amber

    @field_validator("mission_area")
    @classmethod
    def _polygon(cls, value: list[list[float]]) -> list[list[float]]:
        simple_polygon(value, "the mission area")
        return value


def register_flight(engine: sa.Engine, reporter: Reporter, item: FlightCreate,
                    at: datetime | None = None) -> WrittenAsset:
    """Write a flight as an aircraft asset, placed at its mission area until it reports
    (``at``: when it was planned, now by default)."""
    centre = shapely.Polygon(item.mission_area).centroid
    position = AssetPositionCreate(
        asset_id=item.flight_id, kind=AssetKind.aircraft, name=item.name,
        location=Location(lon=round(centre.x, 6), lat=round(centre.y, 6)),
        at=at or datetime.now(UTC), status="planned", handling=item.handling)
    return write_positions(engine, reporter, [position], [{"flight": flight_block(item)}])[0]


def flight_block(item: FlightCreate) -> dict[str, Any]:
    return {"system_id": item.system_id, "mission_area": item.mission_area,
            "sensor_half_angle_deg": item.sensor_half_angle_deg,
            "cot_uid": item.cot_uid or item.flight_id}


def list_flights(engine: sa.Engine, node_id: str) -> list[StoredRecord]:
    """This node's flights, newest change first."""
    return [r for r in list_records(engine, RecordKind.asset_position, origin=node_id,
                                    limit=20_000) if "flight" in r.body]


def footprint(lon: float, lat: float, altitude_m: float, half_angle_deg: float,
              ) -> list[list[float]]:
    """The ground the sensor sees from straight above: a closed ring of [lon, lat]."""
    return sector(lon, lat, ground_radius(altitude_m, half_angle_deg), 0.0, 360.0)


def ground_radius(altitude_m: float, half_angle_deg: float) -> float:
    """How far from below a drone its sensor sees, looking straight down, in metres."""
    return max(altitude_m, 0.0) * math.tan(math.radians(half_angle_deg))


def sector(lon: float, lat: float, radius_m: float, azimuth_deg: float, fov_deg: float,
           ) -> list[list[float]]:
    """The ground a sensor at (lon, lat) sees looking along ``azimuth_deg`` (from true
    north) with ``fov_deg`` edge to edge, out to ``radius_m``: a closed ring of [lon, lat];
    a circle when it sees all round."""
    per_lon = _M_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), 1e-6)

    def towards(bearing_deg: float) -> list[float]:
        angle = math.radians(bearing_deg)
        return [round(lon + radius_m * math.sin(angle) / per_lon, 6),
                round(lat + radius_m * math.cos(angle) / _M_PER_DEG_LAT, 6)]

    if fov_deg >= 360:
        ring = [towards(360 * i / FOOTPRINT_POINTS) for i in range(FOOTPRINT_POINTS)]
        return [*ring, ring[0]]
    steps = max(2, math.ceil(FOOTPRINT_POINTS * fov_deg / 360))
    first = azimuth_deg - fov_deg / 2
    arc = [towards(first + fov_deg * i / steps) for i in range(steps + 1)]
    apex = [round(lon, 6), round(lat, 6)]
    return [apex, *arc, apex]


class FlightRegistry:
    """This node's flights by MAVLink system id and by CoT uid, read again at most every
    ``every_s`` (and at once for a system id not yet known: only drones send MAVLink)."""

    def __init__(self, engine: sa.Engine, node_id: str, every_s: float = 5.0) -> None:
        self.engine, self.node_id, self.every_s = engine, node_id, every_s
        self._systems: dict[int, StoredRecord] = {}
        self._uids: dict[str, StoredRecord] = {}
        self._read = -math.inf

    def _refresh(self) -> None:
        self._systems, self._uids = {}, {}
        for record in reversed(list_flights(self.engine, self.node_id)):
            block = record.body["flight"]
            self._systems[int(block["system_id"])] = record
            self._uids[str(block.get("cot_uid") or record.body["asset_id"])] = record
        self._read = time.monotonic()

    def _stale(self) -> bool:
        return time.monotonic() - self._read > self.every_s

    def by_system(self, system_id: int) -> StoredRecord | None:
        """The flight a MAVLink system id flies, or None."""
        if system_id not in self._systems or self._stale():
            self._refresh()
        return self._systems.get(system_id)

    def by_uid(self, uid: str) -> StoredRecord | None:
        """The flight a CoT uid reports, or None (a flight registered since the last read
        is known within ``every_s``)."""
        if self._stale():
            self._refresh()
        return self._uids.get(uid)


def flight_position(flight: StoredRecord, lon: float, lat: float, at: datetime,
                    drone: dict[str, Any]) -> tuple[AssetPositionCreate, dict[str, Any]]:
    """The next position of ``flight``, airborne at (lon, lat), and the blocks its record
    keeps (the flight's own, and ``drone``: altitude, heading, footprint …)."""
    position = AssetPositionCreate(
        asset_id=flight.body["asset_id"], kind=AssetKind.aircraft,
        name=flight.body.get("name") or flight.body["asset_id"],
        location=Location(lon=lon, lat=lat), at=at, status="airborne",
        handling=flight.body.get("handling", Handling.amber))
    return position, {"flight": flight.body["flight"], "drone": drone}


def cot_drone(position: AssetPositionCreate, sensor: CotSensor | None,
              flights: FlightRegistry) -> tuple[AssetPositionCreate, dict[str, Any] | None]:
    """What a CoT position becomes: the next position of the flight its uid reports (with
    the footprint of its ``<sensor>``, when it sent one), an aircraft with a footprint, or
    the position as it is."""
    flight = flights.by_uid(position.asset_id)
    lon, lat = position.location.lon, position.location.lat
    drone: dict[str, Any] = {"cot_uid": position.asset_id, "footprint": None}
    if sensor is not None:
        drone.update(azimuth_deg=sensor.azimuth_deg, fov_deg=sensor.fov_deg,
                     range_m=sensor.range_m,
                     footprint=sector(lon, lat, sensor.range_m, sensor.azimuth_deg,
                                      sensor.fov_deg))
    if flight is not None:
        return flight_position(flight, lon, lat, position.at, drone)
    if sensor is not None and position.kind == AssetKind.aircraft:
        return position, {"drone": drone}
    return position, None


def sensor_of(body: dict[str, Any]) -> CotSensor | None:
    """The field of view of a stored position's sensor, as CoT's ``<sensor>`` says it, or
    None: the one a CoT drone sent, or for a MAVLink flight the whole circle of its
    footprint (a camera looking straight down sees all round, out to altitude × tan(half
    angle); ATAK draws ``fov`` 360 as that circle, as :func:`sector` does)."""
    drone = body.get("drone")
    if not isinstance(drone, dict) or drone.get("footprint") is None:
        return None  # no sensor sent, or a nonsense one (the intake kept no footprint)
    if drone.get("range_m") is not None:
        return CotSensor(float(drone["azimuth_deg"]), float(drone["fov_deg"]),
                         float(drone["range_m"]))
    half_angle = (body.get("flight") or {}).get("sensor_half_angle_deg")
    altitude = drone.get("altitude_m")
    if half_angle is None or altitude is None:
        return None
    radius = ground_radius(float(altitude), float(half_angle))
    if not 0 < radius <= MAX_SENSOR_RANGE_M:
        return None  # on the ground it sees nothing; farther, sensor_view believes none
    return CotSensor(float(drone.get("heading_deg") or 0.0), 360.0, radius)


@dataclass
class MavlinkCounters:
    """What the listener did; each count also goes to the node's metrics."""

    received: int = 0
    positions: int = 0
    malformed: int = 0
    oversized: int = 0
    unregistered: int = 0
    ignored: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
        metrics.count_mavlink(outcome)


class MavlinkListener(ThreadWorker):
    """Reads MAVLink datagrams on a UDP port and writes registered drones' positions."""

    def __init__(self, engine: sa.Engine, reporter: Reporter, *, host: str = "0.0.0.0",
                 port: int = 14550) -> None:
        super().__init__("mavlink")
        self.engine, self.reporter = engine, reporter
        self.counters = MavlinkCounters()
        self.flights = FlightRegistry(engine, reporter.node_id)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, port))
        self._socket.settimeout(0.5)
        self.port = int(self._socket.getsockname()[1])

    def start(self) -> Self:
        log.info("listening for MAVLink on UDP port %d", self.port)
        return super().start()

    def stop(self) -> None:
        super().stop()
        self._socket.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self.handle(data)
            except Exception:  # a store failure must not end the listener
                log.exception("MAVLink datagram could not be recorded")

    def handle(self, data: bytes, at: datetime | None = None) -> None:
        """One datagram: size-checked, parsed, and a position written when it holds one
        (at ``at``, when it was received: now unless a recording is replayed)."""
        from pymavlink.dialects.v20 import common as mavlink

        self.counters.add("received")
        if len(data) > MAX_DATAGRAM:
            self.counters.add("oversized")
            log.warning("MAVLink datagram of %d bytes refused (over %d)", len(data),
                        MAX_DATAGRAM)
            return
        parser = mavlink.MAVLink(None)
        try:
            messages = parser.parse_buffer(data) or []
        except (mavlink.MAVError, ValueError, IndexError, KeyError) as exc:
            self.counters.add("malformed")
            log.warning("MAVLink datagram refused: %s", str(exc)[:200])
            return
        if not messages or any(m.get_type() == "BAD_DATA" for m in messages) or \
                parser.buf_len():
            self.counters.add("malformed")
            log.warning("MAVLink datagram refused: not whole MAVLink frames with good checksums")
            return
        for message in messages:
            if message.get_type() != "GLOBAL_POSITION_INT":
                self.counters.add("ignored")
                continue
            flight = self.flights.by_system(int(message.get_srcSystem()))
            if flight is None:
                self.counters.add("unregistered")
                continue
            self._write(flight, message, at or datetime.now(UTC))

    def _write(self, flight: StoredRecord, message: Any, at: datetime) -> None:
        lat, lon = message.lat / 1e7, message.lon / 1e7
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.counters.add("malformed")
            return
        block = flight.body["flight"]
        altitude = message.relative_alt / 1000.0
        heading = None if message.hdg == 65535 else message.hdg / 100.0
        drone = {"system_id": block["system_id"], "altitude_m": altitude,
                 "heading_deg": heading,
                 "footprint": footprint(lon, lat, altitude, block["sensor_half_angle_deg"])}
        position, blocks = flight_position(flight, lon, lat, at, drone)
        write_positions(self.engine, self.reporter, [position], [blocks])
        self.counters.add("positions")


def task_to_detection(engine: sa.Engine, reporter: Reporter, flight_id: str,
                      detection: StoredRecord, *, by: str, posts: dict[str, str],
                      ) -> StoredRecord:
    """Task a flight to fly to a detection (a ``task`` with the detection's place)."""
    location = detection.body.get("location") or {}
    item = TaskCreate.model_validate({
        "unit_id": flight_id,
        "target": {"kind": "point", "location": {"lon": location.get("lon"),
                                                 "lat": location.get("lat")}},
        "priority": "immediate",
        "instructions": (f"Fly to the {detection.body.get('kind')} detected by "
                         f"{detection.body.get('sensor_id')} at "
                         f"{detection.body.get('detected_at')} (detection {detection.id})."),
        "handling": detection.body.get("handling", "AMBER"),
    })
    return create_task(engine, reporter.node_id, reporter.sections, item, by=by,
                       units=known_units(engine, posts), max_km=reporter.max_km)
