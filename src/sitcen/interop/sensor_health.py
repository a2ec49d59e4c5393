"""Sensor health: heartbeats, battery, tamper and fault messages, silences, availability.

Sensors (or their gateways) publish :class:`HealthMessage` JSON on the health
topic (docs/surveillance.md). Every message from a sensor, a detection
included, says it is alive. :class:`HealthMonitor` remembers when each
registered sensor was last heard and, on :meth:`HealthMonitor.check`, records
a ``sensor_fault`` record of condition ``silent`` for a sensor not heard for
longer than its expected interval (its registry's ``heartbeat_interval_s``,
else the node's ``SITCEN_SENSOR_HEARTBEAT_S``). The record is closed (a new
version with ``ended_at``) when the sensor is heard again. Low battery,
tamper and faults are episodes of the same kind. :func:`availability` turns
the episodes into the share of a period each sensor and each section was
watching.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sitcen.events import NO_NUL
from sitcen.operations.background import ThreadWorker
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records, write_record
from sitcen.times import UtcDatetime, iso, parse_moment

log = logging.getLogger("sitcen.sensors")

MAX_HEALTH_BYTES = 4 * 1024
#: Conditions during which a sensor does not watch (they count against availability).
DOWN = ("silent", "fault")
#: The share of its interval by which a sensor's message may be late before it is silent.
JITTER_SHARE = 0.1
CONDITIONS = ("silent", "fault", "tamper", "battery_low")
#: How often the watch looks for sensors registered since it started (seconds).
RELOAD_S = 60.0


class HealthMessage(BaseModel):
    """The JSON a sensor publishes about itself."""

    model_config = ConfigDict(extra="forbid")

    sensor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    sent_at: UtcDatetime = Field(description="ISO 8601 with a zone")
    type: Literal["heartbeat", "battery", "tamper", "fault"]
    battery_pct: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    cleared: bool = Field(False, description="a tamper or fault condition has ended")
    detail: str = Field("", max_length=500, pattern=NO_NUL)


class HealthError(ValueError):
    """A health message that is dropped; the text says why."""


def parse_health(payload: bytes) -> HealthMessage:
    """The health message in an MQTT payload; :class:`HealthError` when unusable."""
    if len(payload) > MAX_HEALTH_BYTES:
        raise HealthError(f"payload of {len(payload)} bytes is over {MAX_HEALTH_BYTES}")
    try:
        return HealthMessage.model_validate(orjson.loads(payload))
    except orjson.JSONDecodeError as exc:
        raise HealthError(f"not JSON (UTF-8): {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HealthError(f"{'.'.join(map(str, first['loc'])) or 'payload'}: "
                          f"{first['msg']}") from None


@dataclass
class _Watch:
    sensor_id: str
    section_id: str | None
    location: dict[str, Any]
    handling: str
    interval_s: float
    last_heard: float  # epoch seconds, when the node received its last message
    open: dict[str, StoredRecord] = field(default_factory=dict)


def _now_iso(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


class HealthMonitor:
    """Last-heard times of the node's sensors, and their fault episodes as records."""

    def __init__(self, engine: sa.Engine, node_id: str, *, default_interval_s: float,
                 battery_low_pct: float = 20.0) -> None:
        self.engine = engine
        self.node_id = node_id
        self.default_interval_s = default_interval_s
        self.battery_low_pct = battery_low_pct
        self.flagged = 0
        #: The longest a health message took from its ``sent_at`` to being handled (s): a
        #: node falling behind its broker hears sensors late, and may call them silent.
        self.worst_lag_s = 0.0
        self.lag_s = 0.0  # the same, of the latest message
        self._watches: dict[str, _Watch] = {}
        self._lock = threading.Lock()

    def load(self, now: float | None = None) -> None:
        """Watch every registered sensor not yet watched from ``now``, resuming its open
        episodes (run at start, and again now and then for sensors registered since)."""
        from sitcen.interop.mqtt import list_sensors

        now = time.time() if now is None else now
        open_records: dict[str, dict[str, StoredRecord]] = {}
        for record in list_records(self.engine, RecordKind.sensor_fault, origin=self.node_id,
                                   limit=100_000):
            if record.body.get("ended_at") is None:
                open_records.setdefault(record.subject or "", {})[record.body["condition"]] = \
                    record
        with self._lock:
            for sensor in list_sensors(self.engine, self.node_id):
                if sensor.body["asset_id"] in self._watches:
                    continue
                watch = self._watch_of(sensor, now)
                watch.open = open_records.get(watch.sensor_id, {})
                self._watches[watch.sensor_id] = watch

    def _watch_of(self, sensor: StoredRecord, now: float) -> _Watch:
        b = sensor.body
        interval = (b.get("sensor") or {}).get("heartbeat_interval_s") or self.default_interval_s
        return _Watch(b["asset_id"], b.get("section_id"), b.get("location") or {},
                      b.get("handling", "AMBER"), float(interval), now)

    def _find(self, sensor_id: str, now: float) -> _Watch | None:
        watch = self._watches.get(sensor_id)
        if watch is None:
            from sitcen.interop.mqtt import get_sensor

            sensor = get_sensor(self.engine, self.node_id, sensor_id)
            if sensor is None:
                return None
            watch = self._watches[sensor_id] = self._watch_of(sensor, now)
        return watch

    def heard(self, sensor_id: str, now: float | None = None) -> bool:
        """A message from the sensor: alive. False when the sensor is not registered."""
        now = time.time() if now is None else now
        with self._lock:
            watch = self._find(sensor_id, now)
            if watch is None:
                return False
            watch.last_heard = max(watch.last_heard, now)
            if "silent" in watch.open:
                self._close(watch, "silent", now)
        return True

    def message(self, message: HealthMessage, now: float | None = None) -> None:
        """A health message: alive, and the battery, tamper or fault condition it tells."""
        now = time.time() if now is None else now
        self.lag_s = now - message.sent_at.timestamp()
        self.worst_lag_s = max(self.worst_lag_s, self.lag_s)
        if not self.heard(message.sensor_id, now):
            raise HealthError(f"sensor {message.sensor_id!r} is not registered")
        with self._lock:
            watch = self._watches[message.sensor_id]
            if message.battery_pct is not None:
                low = message.battery_pct < self.battery_low_pct
                self._set(watch, "battery_low", low, now,
                          f"battery at {message.battery_pct:.0f} %")
            if message.type in ("tamper", "fault"):
                self._set(watch, message.type, not message.cleared, now, message.detail)

    def _set(self, watch: _Watch, condition: str, on: bool, now: float, detail: str) -> None:
        if on and condition not in watch.open:
            self._open(watch, condition, now, now, detail)
        elif not on and condition in watch.open:
            self._close(watch, condition, now)

    def _open(self, watch: _Watch, condition: str, started: float, now: float,
              detail: str) -> None:
        body = {"sensor_id": watch.sensor_id, "section_id": watch.section_id,
                "location": watch.location, "condition": condition,
                "started_at": _now_iso(started), "recorded_at": _now_iso(now),
                "ended_at": None, "last_heard_at": _now_iso(watch.last_heard),
                "expected_interval_s": watch.interval_s, "detail": detail,
                "handling": watch.handling}
        watch.open[condition] = write_record(self.engine, RecordKind.sensor_fault, body,
                                             node_id=self.node_id)
        log.info("sensor %s: %s (%s)", watch.sensor_id, condition, detail or "no detail")

    def _close(self, watch: _Watch, condition: str, now: float) -> None:
        record = watch.open.pop(condition)
        write_record(self.engine, RecordKind.sensor_fault,
                     {**record.body, "ended_at": _now_iso(now)}, node_id=self.node_id,
                     record_id=record.id)
        log.info("sensor %s: %s ended", watch.sensor_id, condition)

    def check(self, now: float | None = None) -> list[str]:
        """Record a silence for each sensor not heard within its interval; their ids.

        A heartbeat a moment late is not a silence: the interval is stretched by a
        tenth (:data:`JITTER_SHARE`; 1 in 5,000 sensors beating every 10 s was once
        called silent without it, on a busy machine). While the node handles
        messages late (the latest health message came ``lag_s`` after it was sent),
        every sensor is heard that much late: the interval is stretched by that lag
        instead, by at most half of it, so that a node behind its broker does not call
        the sensors silent.
        """
        now = time.time() if now is None else now
        flagged = []
        behind = max(0.0, self.lag_s)
        with self._lock:
            for watch in self._watches.values():
                allowed = watch.interval_s + min(max(behind, JITTER_SHARE * watch.interval_s),
                                                 watch.interval_s / 2)
                if "silent" in watch.open or now - watch.last_heard <= allowed:
                    continue
                self._open(watch, "silent", watch.last_heard + watch.interval_s, now,
                           f"not heard for {now - watch.last_heard:.0f} s "
                           f"(expected every {watch.interval_s:g} s)")
                flagged.append(watch.sensor_id)
        self.flagged += len(flagged)
        return flagged

    @property
    def period_s(self) -> float:
        """How often :meth:`check` should run: a tenth of the shortest interval, at most 1 s."""
        with self._lock:
            shortest = min((w.interval_s for w in self._watches.values()),
                           default=self.default_interval_s)
        return max(0.05, min(1.0, shortest / 10))


class HealthWatch(ThreadWorker):
    """A thread that runs :meth:`HealthMonitor.check` until stopped."""

    def __init__(self, monitor: HealthMonitor) -> None:
        super().__init__("sensor-health")
        self.monitor = monitor

    def _run(self) -> None:
        reloaded = time.monotonic()
        while not self._stop.wait(self.monitor.period_s):
            try:
                if time.monotonic() - reloaded > RELOAD_S:
                    reloaded = time.monotonic()
                    self.monitor.load()
                self.monitor.check()
            except Exception:  # a store failure must not end the watch
                log.exception("sensor health check failed")


# --------------------------------------------------------------------------- availability


def _clip(start: datetime, end: datetime, since: datetime, until: datetime) -> float:
    return max(0.0, (min(end, until) - max(start, since)).total_seconds())


def availability(sensors: Iterable[StoredRecord], faults: Iterable[StoredRecord],
                 since: datetime, until: datetime) -> dict[str, Any]:
    """Share of ``[since, until)`` each sensor and each section was watching.

    A sensor is down while a ``silent`` or ``fault`` episode is open
    (overlapping episodes count once); a section's availability is the mean of
    its sensors'. Returns ``{"sensors": [...], "sections": [...]}``.
    """
    if until <= since:
        raise ValueError("until must come after since")
    period = (until - since).total_seconds()
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for fault in faults:
        b = fault.body
        if b.get("condition") not in DOWN:
            continue
        start = parse_moment(b["started_at"])
        end = parse_moment(b["ended_at"]) if b.get("ended_at") else until
        spans.setdefault(b["sensor_id"], []).append((start, end))
    rows = []
    by_section: dict[str, list[float]] = {}
    for sensor in sensors:
        sid = sensor.body["asset_id"]
        down = 0.0
        cursor = since
        for start, end in sorted(spans.get(sid, [])):
            start = max(start, cursor)
            if end > start:
                down += _clip(start, end, since, until)
                cursor = max(cursor, end)
        share = 1.0 - down / period
        section = sensor.body.get("section_id")
        rows.append({"sensor_id": sid, "section_id": section, "availability": round(share, 6),
                     "down_s": round(down, 3)})
        if section:
            by_section.setdefault(section, []).append(share)
    sections = [{"section_id": k, "sensors": len(v), "availability": round(sum(v) / len(v), 6)}
                for k, v in sorted(by_section.items())]
    return {"since": iso(since), "until": iso(until),
            "sensors": sorted(rows, key=lambda r: r["sensor_id"]), "sections": sections}


def open_faults(faults: Iterable[StoredRecord]) -> Mapping[str, list[dict[str, Any]]]:
    """The open episodes of each sensor."""
    out: dict[str, list[dict[str, Any]]] = {}
    for fault in faults:
        if fault.body.get("ended_at") is None:
            out.setdefault(fault.body["sensor_id"], []).append(fault.to_dict())
    return out
