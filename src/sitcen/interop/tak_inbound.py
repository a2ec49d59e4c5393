"""CoT from TAK devices into the store: own units' positions and reports of what they saw.

:class:`CotIntake` turns a parsed, authenticated message into what the
mapping file says it is: an own unit's CoT becomes an asset position (the
path of ``POST /api/v1/assets/positions``), a hostile, unknown or suspect
object or a mapped report type an event report with status ``reported``.
Nothing is written on the listener's loop: :class:`StoreWriter` writes on a
thread of its own, positions in groups every 50 milliseconds
(:func:`sitcen.store.assets.write_positions`), reports one by one
(:func:`sitcen.store.events.report_events`). An aircraft's position, or one
with a ``<sensor>`` field of view, may be a drone's: the writer makes it the
flight's its uid reports, with the sensor's footprint
(:func:`sitcen.interop.drones.cot_drone`). Sockets, framing and who the
sender is are :mod:`sitcen.interop.tak`'s.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sitcen.errors import InvalidInput
from sitcen.events import EventCreate
from sitcen.interop.cot import CotError, CotEvent, CotMapping, CotSensor, sensor_view
from sitcen.interop.drones import FlightRegistry, cot_drone
from sitcen.store.assets import AssetKind, AssetPositionCreate, write_positions
from sitcen.store.events import report_events
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

if TYPE_CHECKING:  # the listener's words, for annotations only: no import cycle
    from sitcen.interop.tak import Counters, NodeLike

log = logging.getLogger("sitcen.tak")

#: How long positions wait to be written together, and the most in one write. A write costs
#: about 3 ms whatever its size plus 0.1 ms a position (groups of 40 against 400 on the
#: 2-core VM, CPU time): at 4,000 positions a second, groups every 10 ms kept the writing
#: thread, which shares the interpreter with the listener, busy 70 % of the time; every
#: 50 ms, under half. Routing to devices never waits for it.
FLUSH_S = 0.05
MAX_GROUP = 5000
#: Items waiting for the store beyond which TCP clients are not read (back-pressure).
HIGH_WATER = 2_000
#: Items waiting for the store beyond which new ones (UDP) are dropped and counted.
MAX_BACKLOG = 50_000
#: Reports of the same CoT uid within this time are one event (devices resend tracks).
REPORT_REPEAT = timedelta(hours=1)
#: How many CoT uids are remembered for that.
REPORTS_REMEMBERED = 100_000
#: A circular error (``ce``) at least this large says nothing about precision (CoT's
#: "unknown" is 9,999,999 m), so the location gets none.
NO_PRECISION_M = 100_000

#: How often the writer reads the node's flights again (a flight registered while devices
#: report is linked to its CoT uid within this time).
FLIGHTS_READ_S = 2.0

#: Logs why a message was dropped (the listener logs once per reason and connection).
Warn = Callable[[str], None]


@dataclass(frozen=True)
class _Report:
    item: EventCreate
    uid: str


@dataclass(frozen=True)
class _Airborne:
    """A position that may be a drone's: its uid may report a flight, or it has a sensor."""

    item: AssetPositionCreate
    sensor: CotSensor | None


_Item = AssetPositionCreate | _Airborne | _Report


class StoreWriter:
    """Writes positions in groups and reports one by one, on a thread of its own."""

    def __init__(self, node: NodeLike, counters: Counters) -> None:
        self.node = node
        self.counters = counters
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tak-store", daemon=True)
        self.flights = FlightRegistry(node.engine, node.reporter.node_id, every_s=FLIGHTS_READ_S)

    def start(self) -> None:
        """Start the writing thread."""
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued and end the thread."""
        self._queue.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout=30)

    def behind(self) -> bool:
        """Whether so much is waiting that the listener should stop reading TCP for now."""
        return self._queue.qsize() > HIGH_WATER

    def put(self, item: _Item) -> bool:
        """Queue an item; False (and nothing queued) when the store is too far behind."""
        if self._queue.qsize() > MAX_BACKLOG:
            self.counters.overload += 1
            return False
        self._queue.put(item)
        return True

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group: list[_Item] = [first]
            deadline = time.monotonic() + FLUSH_S
            while len(group) < MAX_GROUP:
                wait = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            self._write(group)

    def _placed(self, group: list[_Item]
                ) -> tuple[list[AssetPositionCreate], list[dict[str, Any] | None]]:
        """The group's positions, each a flight's or a drone's where it is one, and the
        blocks each record keeps."""
        positions: list[AssetPositionCreate] = []
        blocks: list[dict[str, Any] | None] = []
        for g in group:
            if isinstance(g, AssetPositionCreate):
                positions.append(g)
                blocks.append(None)
            elif isinstance(g, _Airborne):
                position, extra = cot_drone(g.item, g.sensor, self.flights)
                if extra is not None and "flight" in extra:
                    self.counters.flight_positions += 1
                positions.append(position)
                blocks.append(extra)
        return positions, blocks

    def _write(self, group: list[_Item]) -> None:
        positions, blocks = self._placed(group)
        reporter = self.node.reporter
        if positions:
            try:
                write_positions(self.node.engine, reporter, positions, blocks)
                self.counters.positions += len(positions)
            except Exception:
                log.exception("writing %d TAK positions failed; trying them one by one",
                              len(positions))
                for position, block in zip(positions, blocks, strict=True):
                    try:
                        write_positions(self.node.engine, reporter, [position], [block])
                        self.counters.positions += 1
                    except Exception as exc:
                        self.counters.write_errors += 1
                        log.warning("TAK position of %s dropped: %s", position.asset_id, exc)
        for report in (g for g in group if isinstance(g, _Report)):
            try:
                report_events(self.node.engine, reporter, [report.item])
                self.counters.reports += 1
            except InvalidInput as exc:
                self.counters.write_errors += 1
                log.warning("CoT report %s refused: %s", report.uid,
                            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                      for e in exc.errors))
            except Exception:
                self.counters.write_errors += 1
                log.exception("CoT report %s could not be written", report.uid)


class CotIntake:
    """What an authenticated device's CoT message becomes: a position, a report, or nothing."""

    def __init__(self, node: NodeLike, mapping: CotMapping, counters: Counters) -> None:
        self.mapping = mapping
        self.counters = counters
        self.writer = StoreWriter(node, counters)
        self._reports_seen: OrderedDict[str, datetime] = OrderedDict()

    def accept(self, message: CotEvent, user: StoredUser | None, warn: Warn) -> None:
        """Queue what ``user``'s message becomes; count and ``warn`` why when it is dropped."""
        if user is None:
            self.counters.unauthenticated += 1
            warn("unauthenticated: send a token, a login or a client certificate first")
            return
        if message.type.startswith("t-x-"):
            return  # pings and other TAK control messages
        if not allows(user.role, Permission.report_events):
            self.counters.forbidden += 1
            warn(f"forbidden: role {user.role.value} of {user.username} may only read")
            return
        kind = self.mapping.asset_kind(message.type)
        if kind is not None:
            self._position(message, kind, warn)
            return
        rule = self.mapping.report(message.type)
        if rule is None:  # a chat, a marker, a route...: passed on to devices, not stored
            self.counters.unmapped += 1
            return
        self._report(message, rule.type, rule.details, user, warn)

    def _position(self, message: CotEvent, kind: str, warn: Warn) -> None:
        sensor = None
        if message.sensor is not None:
            try:
                sensor = sensor_view(message.sensor)
            except CotError as exc:  # the position stands; its footprint does not
                self.counters.bad_sensor += 1
                warn(f"its sensor only (the position is kept): {exc}")
        try:
            item = AssetPositionCreate.model_validate({
                "asset_id": message.uid, "kind": kind,
                "name": message.callsign or message.uid, "location": _location(message),
                "at": message.time,
            })
        except ValidationError as exc:
            self.counters.malformed += 1
            first = exc.errors()[0]
            warn(f"invalid: position {'.'.join(map(str, first['loc']))}: {first['msg']}")
            return
        # Only an aircraft or a sensor's carrier can be a drone: a patrol's position goes
        # to the store as it is, without a look at the flights.
        airborne = sensor is not None or item.kind == AssetKind.aircraft
        self.writer.put(_Airborne(item, sensor) if airborne else item)

    def _report(self, message: CotEvent, event_type: str, details: dict[str, Any],
                user: StoredUser, warn: Warn) -> None:
        now = datetime.now(UTC)
        seen = self._reports_seen.get(message.uid)
        if seen is not None and now - seen < REPORT_REPEAT:
            self.counters.duplicates += 1
            return
        text = f"CoT {message.type} «{message.callsign or message.uid}» from {user.username}"
        if message.remarks:
            text += f": {message.remarks}"
        try:
            item = EventCreate.model_validate({
                "type": event_type, "occurred_at": min(message.time, now),
                "location": _location(message), "details": details,
                "description": text[:8000], "confidence": {"source_reliability": "B",
                                                           "information_credibility": 3},
            })
        except ValidationError as exc:
            self.counters.malformed += 1
            warn(f"invalid: report {exc.errors()[0]['msg']}")
            return
        if self.writer.put(_Report(item, message.uid)):
            self._reports_seen[message.uid] = now
            while len(self._reports_seen) > REPORTS_REMEMBERED:
                self._reports_seen.popitem(last=False)


def _location(message: CotEvent) -> dict[str, Any]:
    """The message's point as a sitcen location, with its precision when it has one."""
    location: dict[str, Any] = {"lon": message.lon, "lat": message.lat}
    if message.ce < NO_PRECISION_M:
        location["precision_m"] = message.ce
    return location
