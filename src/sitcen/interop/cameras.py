"""Cameras: their registry, and a snapshot from the RTSP stream on a detection in their view.

A camera is a sensor of type ``camera`` (an ``asset_position`` record of kind
``camera``, docs/sensors.md) that also carries its field of view, a polygon of
[lon, lat] points, and the address of its stream on the closed network. Its
user name and password are not in the record: they are read from the file
``SITCEN_CAMERA_CREDENTIALS_FILE`` and used only to open the stream, so they
are never stored, journaled, shared or answered (docs/cameras-drones.md).

When a detection is recorded, :func:`detected` hands it to the node's
:class:`SnapshotWorker`, a background thread: the detection path never waits
for a camera. The worker opens the stream of every camera whose field of view
holds the detection's place (PyAV, that is FFmpeg's libraries), decodes one
frame, and attaches it as a JPEG to the detection and, once the burst it
belongs to is proposed, to the proposed event. Each outcome (taken, timeout,
auth, no_stream, unreadable, busy) is written into the detection record's
``snapshots`` list and counted (``sitcen_camera_snapshots_total``). A
snapshot attachment carries ``camera_snapshot: true``: a face is personal data,
and the sharing function and the file route treat it so.
"""

from __future__ import annotations

import io
import logging
import queue
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import orjson
import shapely
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sitcen import metrics
from sitcen.events import NO_NUL, Location
from sitcen.exchange.sharing import CAMERA_SNAPSHOT
from sitcen.geo import simple_polygon
from sitcen.operations.attachments import CheckedFile, attach_file, check_file
from sitcen.operations.background import ThreadWorker
from sitcen.operations.references import HeldRecord
from sitcen.store import schema
from sitcen.store.assets import AssetKind, AssetPositionCreate, WrittenAsset, write_positions
from sitcen.store.events import Reporter
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import StoredRecord, get_record, list_records, next_version, write_own
from sitcen.taxonomy import Handling

log = logging.getLogger("sitcen.cameras")

#: Outcomes of a snapshot attempt, as recorded on the detection and counted.
OUTCOMES = ("taken", "timeout", "auth", "no_stream", "unreadable", "busy")
#: The largest snapshot kept (bytes of JPEG); a frame is scaled down to fit 1920 px.
MAX_SNAPSHOT_PX = 1920
#: A [lon, lat] point (as the sensor registry writes them).
LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]


class CameraError(ValueError):
    """A camera file or registration that cannot be used; the text says why."""


class CameraCreate(BaseModel):
    """A camera to register (or change, under the same id)."""

    model_config = ConfigDict(extra="forbid")

    camera_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    location: Location
    field_of_view: list[LonLat] = Field(
        min_length=3, max_length=200,
        description="[lon, lat] corners of the area the camera sees (a polygon)")
    stream_url: str = Field(
        max_length=500, pattern=r"^rtsps?://[^\s\x00]+$",
        description="rtsp:// or rtsps:// address of the stream, without user name or password "
                    "(those are in SITCEN_CAMERA_CREDENTIALS_FILE)")
    status: str = Field("active", max_length=32, pattern=r"^[a-z_]+$")
    handling: Handling = Handling.amber

    @field_validator("stream_url")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        parts = urlsplit(value)
        if "@" in parts.netloc:
            raise ValueError("the address may not hold a user name or password; put them in "
                             "the camera credentials file")
        if not parts.hostname:
            raise ValueError("the address names no host")
        return value

    @field_validator("field_of_view")
    @classmethod
    def _polygon(cls, value: list[list[float]]) -> list[list[float]]:
        simple_polygon(value, "the field of view")
        return value


def register_camera(engine: sa.Engine, reporter: Reporter, item: CameraCreate) -> WrittenAsset:
    """Write a camera as a sensor asset of type camera that carries its view and stream."""
    position = AssetPositionCreate(
        asset_id=item.camera_id, kind=AssetKind.camera, name=item.name, location=item.location,
        at=datetime.now(UTC), status=item.status, handling=item.handling)
    extra = {"sensor": {"type": "camera", "coverage_radius_km": None, "coverage_line": None,
                        "coverage_km": None},
             "camera": {"field_of_view": item.field_of_view, "stream_url": item.stream_url}}
    return write_positions(engine, reporter, [position], [extra])[0]


def camera_public(record: StoredRecord) -> dict[str, Any]:
    """The registry view of a camera (the stream address, never credentials)."""
    b = record.body
    camera = b.get("camera") or {}
    return {"id": record.id, "version": record.version, "camera_id": b["asset_id"],
            "name": b.get("name", ""), "location": b.get("location") or {},
            "section_id": b.get("section_id"), "field_of_view": camera.get("field_of_view"),
            "stream_url": camera.get("stream_url"), "status": b.get("status", ""),
            "handling": b.get("handling", "AMBER")}


def list_cameras(engine: sa.Engine, node_id: str) -> list[StoredRecord]:
    """This node's cameras, newest change first."""
    return [r for r in list_records(engine, RecordKind.asset_position, origin=node_id,
                                    limit=20_000) if "camera" in r.body]


def cameras_seeing(cameras: list[StoredRecord], lon: float, lat: float) -> list[StoredRecord]:
    """The active cameras whose field of view holds the point (edges included)."""
    point = shapely.Point(lon, lat)
    return [c for c in cameras if c.body.get("status") == "active"
            and shapely.Polygon(c.body["camera"]["field_of_view"]).covers(point)]


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credentials:
    """A camera's login; the password's text shows only through ``get_secret_value``."""

    username: str
    password: SecretStr


def load_credentials(path: Path | None) -> dict[str, Credentials]:
    """Camera id → login from a YAML file ``{cameras: {id: {username, password}}}``."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        # The message names the file and the place, never the content.
        raise CameraError(f"{path}: cannot be read ({type(exc).__name__})") from None
    cameras = data.get("cameras") if isinstance(data, dict) else None
    if not isinstance(cameras, dict):
        raise CameraError(f"{path}: give 'cameras', a mapping of camera id to username and "
                          "password")
    found: dict[str, Credentials] = {}
    for camera_id, login in cameras.items():
        if not isinstance(login, dict) or set(login) != {"username", "password"} or not all(
                isinstance(v, str) for v in login.values()):
            raise CameraError(f"{path}: cameras.{camera_id}: give username and password "
                              "(text), nothing else")
        found[str(camera_id)] = Credentials(login["username"], SecretStr(login["password"]))
    return found


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` without any user information in addresses and without the secrets."""
    text = re.sub(r"(?i)(rtsps?://)[^/\s'\"]*@", r"\1", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


# --------------------------------------------------------------------------- grabbing


class SnapshotFailed(Exception):
    """A snapshot that could not be taken: ``outcome`` is one of :data:`OUTCOMES`."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def _outcome_of(exc: BaseException) -> str:
    import av

    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError
                  | PermissionError):
        return "auth"
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return "timeout"  # FFmpeg's read was interrupted by PyAV's timeout
    if isinstance(exc, av.error.InvalidDataError | av.error.FFmpegError) and not isinstance(
            exc, OSError):
        return "unreadable"
    return "no_stream"


def grab_snapshot(url: str, login: Credentials | None, *, timeout_s: float) -> bytes:
    """One frame of the stream as JPEG; :class:`SnapshotFailed` (with a scrubbed reason)."""
    import av

    address = url
    secrets: list[str] = []
    if login is not None:
        password = login.password.get_secret_value()
        secrets = [password]
        scheme, rest = url.split("://", 1)
        address = (f"{scheme}://{quote(login.username, safe='')}:"
                   f"{quote(password, safe='')}@{rest}")
    deadline = time.monotonic() + timeout_s
    try:
        container = av.open(address, options={"rtsp_transport": "tcp"},
                            timeout=(timeout_s, timeout_s))
        try:
            if not container.streams.video:
                raise SnapshotFailed("no_stream", "the stream has no video")
            image = None
            for frame in container.decode(video=0):
                image = frame.to_image()  # type: ignore[no-untyped-call]
                break
            if image is None:
                raise SnapshotFailed("no_stream", "the stream ended before a whole frame")
            if time.monotonic() > deadline:
                raise SnapshotFailed("timeout", f"the first frame took over {timeout_s:g} s")
        finally:
            container.close()
    except SnapshotFailed:
        raise
    except Exception as exc:  # PyAV raises FFmpeg's errors as exceptions of many kinds
        # FFmpeg interrupted by PyAV's timeout reports "invalid data": the clock tells.
        late = time.monotonic() >= deadline
        raise SnapshotFailed("timeout" if late else _outcome_of(exc),
                             scrub(str(exc), secrets)[:500]) from None
    image.thumbnail((MAX_SNAPSHOT_PX, MAX_SNAPSHOT_PX))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


# --------------------------------------------------------------------------- the worker


def snapshot_file(content: bytes, camera_id: str, at: datetime) -> CheckedFile:
    """A JPEG made by :func:`grab_snapshot` (or the demo) as the attachment it becomes."""
    name = f"{camera_id}-{at:%Y%m%dT%H%M%SZ}.jpg"
    return check_file(content, name=name, declared_type="image/jpeg",
                      max_bytes=len(content) + 1)


def attach_snapshot(engine: sa.Engine, node_id: str, record: HeldRecord, checked: CheckedFile,
                    camera_id: str, reporter: Reporter) -> StoredRecord:
    """Attach a snapshot, marked as one (``camera_snapshot``: personal data when shared)."""
    return attach_file(engine, node_id, record, checked, by=f"camera:{camera_id}",
                       sections=reporter.sections, max_km=reporter.max_km,
                       marks={CAMERA_SNAPSHOT: True, "camera_id": camera_id})


def held(record: StoredRecord) -> HeldRecord:
    return HeldRecord(record.kind, record.id, record.origin, record.version, record.body)


def note_outcome(engine: sa.Engine, node_id: str, detection_id: str, entry: Mapping[str, Any],
                 ) -> StoredRecord | None:
    """Add an attempt's outcome to the detection's ``snapshots`` list (a new version)."""
    for _ in range(3):
        current = get_record(engine, detection_id)
        if current is None:
            return None
        body = {**current.body, "snapshots": [*(current.body.get("snapshots") or []), entry]}
        try:
            return write_own(engine, [next_version(engine, RecordKind.sensor_detection,
                                                   detection_id, body, node_id,
                                                   current=current)], node_id)[0]
        except Exception:  # another version meanwhile: read again
            log.debug("detection %s changed meanwhile", detection_id, exc_info=True)
    return None


def events_naming(engine: sa.Engine, node_id: str, detection: StoredRecord) -> list[HeldRecord]:
    """This node's events whose text names the detection (a burst's proposal names them)."""
    e = schema.events
    since = now_micros() - int(timedelta(days=1).total_seconds() * 1e6)
    query = sa.select(e.c.id, e.c.origin, e.c.version, e.c.body).where(
        e.c.origin == node_id, e.c.recorded_at >= since,
        e.c.body.like(f"%{detection.id}%"))
    section_id = detection.body.get("section_id")
    if section_id is not None:
        query = query.where(e.c.section_id == section_id)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return [HeldRecord(RecordKind.event, row.id, row.origin, row.version, orjson.loads(row.body))
            for row in rows]


@dataclass
class _Pending:
    detection: StoredRecord
    snapshots: list[tuple[str, CheckedFile]]
    until: float


class SnapshotWorker(ThreadWorker):
    """Takes snapshots for detections in a thread of its own, one detection at a time.

    :meth:`submit` never blocks: a full queue is recorded as ``busy``. After the
    snapshot, the detection is watched for ``link_s`` seconds for the event its
    burst proposes, and the snapshot is attached to that event as well.
    """

    JOIN_S = 60.0  # a grab in progress may take up to the camera timeout

    def __init__(self, engine: sa.Engine, node_id: str, reporter: Reporter,
                 credentials: Mapping[str, Credentials], *, timeout_s: float = 10.0,
                 queue_size: int = 100, link_s: float = 900.0) -> None:
        super().__init__("camera-snapshots")
        self.engine, self.node_id, self.reporter = engine, node_id, reporter
        self.credentials = dict(credentials)
        self.timeout_s = timeout_s
        self.link_s = link_s
        self.done = 0
        self._queue: queue.Queue[StoredRecord] = queue.Queue(maxsize=queue_size)
        self._pending: list[_Pending] = []

    def submit(self, detection: StoredRecord) -> None:
        """Queue a detection for snapshots (at once; never waits for a camera)."""
        try:
            self._queue.put_nowait(detection)
        except queue.Full:
            self._note(detection.id, None, "busy", "too many detections waiting for cameras")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                detection = self._queue.get(timeout=1.0)
            except queue.Empty:
                detection = None
            try:
                if detection is not None:
                    self.process(detection)
                self._link()
            except Exception:  # one bad detection must not end the worker
                log.exception("snapshot for a detection failed")
            if detection is not None:
                self.done += 1

    def _note(self, detection_id: str, camera_id: str | None, outcome: str, reason: str = "",
              attachment_id: str | None = None) -> None:
        metrics.count_camera(outcome)
        entry = {"camera_id": camera_id, "outcome": outcome, "reason": reason,
                 "attachment_id": attachment_id,
                 "at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        if outcome != "taken":
            log.warning("camera %s: no snapshot for detection %s: %s (%s)", camera_id or "-",
                        detection_id, outcome, reason)
        note_outcome(self.engine, self.node_id, detection_id, entry)

    def process(self, detection: StoredRecord) -> None:
        """Snapshots of every camera that sees the detection, attached to it."""
        location = detection.body.get("location") or {}
        lon, lat = location.get("lon"), location.get("lat")
        if not isinstance(lon, int | float) or not isinstance(lat, int | float):
            return
        taken: list[tuple[str, CheckedFile]] = []
        for camera in cameras_seeing(list_cameras(self.engine, self.node_id), lon, lat):
            camera_id = camera.body["asset_id"]
            try:
                content = grab_snapshot(camera.body["camera"]["stream_url"],
                                        self.credentials.get(camera_id),
                                        timeout_s=self.timeout_s)
                checked = snapshot_file(content, camera_id, datetime.now(UTC))
            except SnapshotFailed as exc:
                self._note(detection.id, camera_id, exc.outcome, exc.reason)
                continue
            current = get_record(self.engine, detection.id) or detection
            attachment = attach_snapshot(self.engine, self.node_id, held(current), checked,
                                         camera_id, self.reporter)
            self._note(detection.id, camera_id, "taken", attachment_id=attachment.id)
            taken.append((camera_id, checked))
        if taken:
            self._pending.append(_Pending(detection, taken, time.monotonic() + self.link_s))

    def _link(self) -> None:
        """Attach the snapshots of watched detections to the events that name them."""
        now = time.monotonic()
        keep: list[_Pending] = []
        for pending in self._pending:
            events = events_naming(self.engine, self.node_id, pending.detection)
            for event in events:
                for camera_id, checked in pending.snapshots:
                    attach_snapshot(self.engine, self.node_id, event, checked, camera_id,
                                    self.reporter)
            if not events and now < pending.until:
                keep.append(pending)
        self._pending = keep


_WORKERS: dict[int, SnapshotWorker] = {}


def serve(engine: sa.Engine, worker: SnapshotWorker | None) -> None:
    """Make ``worker`` take the snapshots of the detections written to ``engine`` (None: stop)."""
    if worker is None:
        _WORKERS.pop(id(engine), None)
    else:
        _WORKERS[id(engine)] = worker


def detected(engine: sa.Engine, detection: StoredRecord) -> None:
    """The hook of the detection path: hand the detection to the engine's worker, if any."""
    worker = _WORKERS.get(id(engine))
    if worker is not None:
        worker.submit(detection)
