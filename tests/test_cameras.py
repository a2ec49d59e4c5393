"""Cameras: snapshots from a real RTSP stream on detections in view, failures, secrets, sharing.

The stream is FFmpeg's (Debian package ffmpeg) encoding of a generated test
pattern, served over RTSP by tests/rtsp_camera.py.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import SecretStr, ValidationError

from rtsp_camera import RtspCamera
from sitcen.exchange.agreements import Agreement, PersonalData
from sitcen.exchange.sharing import SharedRecord, Sharing, share
from sitcen.interop import cameras
from sitcen.interop.cameras import (
    CameraCreate,
    Credentials,
    SnapshotWorker,
    load_credentials,
    register_camera,
)
from sitcen.interop.mqtt import DetectionSubscriber, SensorCreate, register_sensor
from sitcen.node import Node
from sitcen.operations.attachments import attachments_of
from sitcen.store import schema
from sitcen.store.files import get_file
from sitcen.store.journal import RecordKind
from sitcen.store.records import get_record, list_records
from sitcen.testing import free_port, wait_until
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("rtsp")

PANJ = {"lon": 68.60, "lat": 37.22}
VIEW = [[68.59, 37.21], [68.61, 37.21], [68.61, 37.23], [68.59, 37.23]]
USER, PASSWORD = "viewer", "Kamera-Parol-93!"
NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def camera() -> Iterator[RtspCamera]:
    if shutil.which("ffmpeg") is None:
        reason = "ffmpeg (Debian package ffmpeg) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    served = RtspCamera(USER, PASSWORD).start()
    try:
        yield served
    finally:
        served.stop()


def _detection(sensor_id: str, **extra: Any) -> bytes:
    return orjson.dumps({"sensor_id": sensor_id, "kind": "person", "confidence": 0.9,
                         "detected_at": datetime.now(UTC).isoformat(), **extra})


def _camera(camera_id: str, url: str) -> CameraCreate:
    return CameraCreate(camera_id=camera_id, name=f"Камера {camera_id}", location=PANJ,
                        field_of_view=VIEW, stream_url=url)


def _sensor(node: Node, sensor_id: str, lon: float) -> None:
    register_sensor(node.engine, node.reporter, SensorCreate(
        sensor_id=sensor_id, type="seismic", name=sensor_id,
        location={"lon": lon, "lat": 37.22}, coverage_radius_km=0.5))


@pytest.fixture
def worker(node: Node) -> Iterator[Callable[..., SnapshotWorker]]:
    made: list[SnapshotWorker] = []

    def start(logins: dict[str, Credentials], timeout_s: float = 15.0) -> SnapshotWorker:
        w = SnapshotWorker(node.engine, node.settings.node_id, node.reporter, logins,
                           timeout_s=timeout_s, link_s=120).start()
        cameras.serve(node.engine, w)
        made.append(w)
        return w

    yield start
    cameras.serve(node.engine, None)
    for w in made:
        w.stop()


def _everything_stored(node: Node) -> str:
    """Every body in the node's tables of records and events, as text."""
    with node.engine.connect() as conn:
        texts = [*conn.execute(sa.select(schema.records.c.body)).scalars(),
                 *conn.execute(sa.select(schema.record_versions.c.body)).scalars(),
                 *conn.execute(sa.select(schema.events.c.body)).scalars()]
    return "\n".join(texts)


def test_a_detection_in_view_gets_a_snapshot_of_the_stream(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]],
        camera: RtspCamera, worker: Callable[..., SnapshotWorker],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    register_camera(node.engine, node.reporter, _camera("cam-ford", camera.url))
    _sensor(node, "seis-in", 68.60)
    _sensor(node, "seis-out", 68.80)  # 18 km east: outside the camera's view
    running = worker({"cam-ford": Credentials(USER, SecretStr(PASSWORD))})
    subscriber = DetectionSubscriber(node, host="127.0.0.1", port=1, burst_count=2,
                                     burst_minutes=10)
    subscriber.handle(_detection("seis-in"))
    subscriber.handle(_detection("seis-in", kind="vehicle"))  # a burst: the event
    subscriber.handle(_detection("seis-out"))
    assert subscriber.counters.detections == 3 and subscriber.counters.proposals == 1
    wait_until(lambda: running.done == 3, what="three detections through the worker")
    detections = {r.id: r for r in list_records(node.engine, RecordKind.sensor_detection)}
    inside = [r for r in detections.values() if r.body["sensor_id"] == "seis-in"]
    outside = [r for r in detections.values() if r.body["sensor_id"] == "seis-out"]
    for record in inside:
        [snapshot] = attachments_of(node.engine, record.id)
        assert snapshot.body["camera_snapshot"] is True
        assert snapshot.body["media_type"] == "image/jpeg"
        stored = get_file(node.engine, snapshot.body["sha256"])
        assert stored is not None
        image = Image.open(io.BytesIO(stored.content))
        image.load()
        assert (image.format, image.size) == ("JPEG", (320, 240))
        [outcome] = record.body["snapshots"]
        assert (outcome["camera_id"], outcome["outcome"]) == ("cam-ford", "taken")
        assert outcome["attachment_id"] == snapshot.id
    assert attachments_of(node.engine, outside[0].id) == []
    assert "snapshots" not in outside[0].body
    # The proposed event has the snapshots too.
    with node.engine.connect() as conn:
        [event_id] = conn.execute(sa.select(schema.events.c.id)).scalars()
    wait_until(lambda: len(attachments_of(node.engine, event_id)) == 2,
               what="the event's two snapshots")
    # Roles: an operator sees that there is a snapshot, not the picture.
    url = f"/api/v1/files/{attachments_of(node.engine, event_id)[0].body['sha256']}"
    assert client.get(url, headers=as_role(Role.duty_officer)).status_code == 200
    assert client.get(url, headers=as_role(Role.operator)).status_code == 403
    assert client.get(url + "/thumbnail", headers=as_role(Role.liaison)).status_code == 403
    # The password is nowhere: logs, records, API answers.
    answers = [client.get(path, headers=as_role(Role.admin)).text for path in (
        "/api/v1/cameras", "/api/v1/sensors", "/api/v1/assets",
        f"/api/v1/attachments?record_id={event_id}",
        f"/api/v1/sensors/detections?section_id={inside[0].body['section_id']}")]
    assert "cam-ford" in answers[0] and camera.url in answers[0]
    for text in [caplog.text, _everything_stored(node), *answers]:
        assert PASSWORD not in text


def test_failing_cameras_are_recorded_and_do_not_hold_detections(
        node: Node, camera: RtspCamera, worker: Callable[..., SnapshotWorker],
        caplog: pytest.LogCaptureFixture) -> None:
    # A camera that takes the connection and hangs up when the test says, one that never
    # answers, one nobody serves, and the real one with a wrong password.
    hangup, silent = socket.create_server(("127.0.0.1", 0)), socket.create_server(
        ("127.0.0.1", 0))
    accepted: dict[str, socket.socket] = {}
    for name, server in (("hangup", hangup), ("silent", silent)):
        threading.Thread(target=lambda n=name, s=server: accepted.setdefault(n, s.accept()[0]),
                         daemon=True).start()
        register_camera(node.engine, node.reporter, _camera(
            f"cam-{name}", f"rtsp://127.0.0.1:{server.getsockname()[1]}/live"))
    register_camera(node.engine, node.reporter, _camera(
        "cam-dead", f"rtsp://127.0.0.1:{free_port()}/live"))
    register_camera(node.engine, node.reporter, _camera("cam-wrong", camera.url))
    _sensor(node, "seis-in", 68.60)
    wrong = "Wrong-Parol-17"
    running = worker({"cam-hangup": Credentials(USER, SecretStr(PASSWORD)),
                      "cam-wrong": Credentials(USER, SecretStr(wrong))}, timeout_s=5)
    subscriber = DetectionSubscriber(node, host="127.0.0.1", port=1)
    subscriber.handle(_detection("seis-in"))
    # The detection is recorded while the worker still waits on the camera that hangs up
    # only when told.
    assert subscriber.counters.detections == 1
    wait_until(lambda: "hangup" in accepted, what="the camera's connection")
    assert running.done == 0
    accepted["hangup"].close()
    wait_until(lambda: running.done == 1, what="the worker")
    for server in (hangup, silent, *accepted.values()):
        server.close()
    [record] = list_records(node.engine, RecordKind.sensor_detection)
    outcomes = {o["camera_id"]: o for o in record.body["snapshots"]}
    assert {c: o["outcome"] for c, o in outcomes.items()} == {
        "cam-hangup": "unreadable", "cam-silent": "timeout", "cam-dead": "no_stream",
        "cam-wrong": "auth"}
    assert all(o["reason"] for o in outcomes.values())
    assert attachments_of(node.engine, record.id) == []
    for text in (caplog.text, _everything_stored(node)):
        assert wrong not in text and PASSWORD not in text
    assert camera.refused_logins >= 1


def test_registry_refuses_credentials_in_the_address_and_bad_views(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="user name or password"):
        _camera("c1", f"rtsp://{USER}:{PASSWORD}@10.0.0.5/live")
    with pytest.raises(ValidationError, match="simple polygon"):
        CameraCreate(camera_id="c1", name="c", location=PANJ, stream_url="rtsp://10.0.0.5/",
                     field_of_view=[[68.59, 37.21], [68.61, 37.23], [68.61, 37.21],
                                    [68.59, 37.23]])
    with pytest.raises(ValidationError, match="stream_url"):
        _camera("c1", "http://10.0.0.5/live")
    logins = tmp_path / "cameras.yaml"
    logins.write_text(f"cameras:\n  cam-1: {{username: {USER}, password: '{PASSWORD}'}}\n")
    loaded = load_credentials(logins)
    assert loaded["cam-1"].username == USER and PASSWORD not in repr(loaded)
    logins.write_text(f"cameras:\n  cam-1: {{user: {USER}, password: '{PASSWORD}'}}\n")
    with pytest.raises(cameras.CameraError, match="cam-1") as refused:
        load_credentials(logins)
    assert PASSWORD not in str(refused.value)


def _agreement(personal_data: str) -> Agreement:
    return Agreement.model_validate({
        "id": "kg-tj", "from_node": "kg-blo", "to_node": "tj-blo", "direction": "peer",
        "kinds": ["event", "attachment", "asset_position"],
        "events": {"categories": ["unauthorised_crossing"], "sections": ["KG-TJ-*"]},
        "location_precision": "exact", "personal_data": personal_data,
        "handling_ceiling": "AMBER", "onward_sharing": True})


def test_snapshots_leave_only_where_personal_data_is_granted() -> None:
    event = SharedRecord("event", "kg-blo", str(uuid.uuid4()), 1, {
        "type": "green_border_crossing", "category": "unauthorised_crossing",
        "section_id": "KG-TJ-003", "handling": "AMBER", "status": "reported",
        "occurred_at": "2026-12-07T04:00:00Z"})
    photo = SharedRecord("attachment", "kg-blo", str(uuid.uuid4()), 1, {
        "record_id": event.id, "record_kind": "event", "handling": "AMBER",
        "sha256": "0" * 64, "media_type": "image/jpeg", "name": "cam-1.jpg"}, about=event)
    snapshot = dataclasses.replace(photo, body={**photo.body, "camera_snapshot": True})
    assert share(event, _agreement("counts_only"), now=NOW) is not None
    assert share(photo, _agreement("counts_only"), now=NOW) is not None  # an officer's photo
    for level in ("none", "counts_only"):
        assert share(snapshot, _agreement(level), now=NOW) is None
    shared = share(snapshot, _agreement("full"), now=NOW)
    assert shared is not None and shared.sharing.personal_data == "full"
    # A relay that received it without personal data in full does not pass it on.
    relayed = dataclasses.replace(snapshot, origin="uz-hub",
                                  sharing=Sharing(personal_data=PersonalData.counts_only,
                                                  chain=("uz-hub",)))
    assert share(relayed, _agreement("full"), now=NOW) is None
    # The camera's stream address stays on the node; credentials were never in the record.
    camera = SharedRecord("asset_position", "kg-blo", str(uuid.uuid4()), 1, {
        "asset_id": "cam-1", "kind": "camera", "section_id": "KG-TJ-003", "handling": "AMBER",
        "camera": {"field_of_view": VIEW, "stream_url": "rtsp://10.1.2.3/live"}})
    out = share(camera, _agreement("full"), now=NOW)
    assert out is not None and out.body["camera"] == {"field_of_view": VIEW}
    assert camera.body["camera"]["stream_url"] == "rtsp://10.1.2.3/live"  # input unchanged


def test_the_worker_never_blocks_the_caller(node: Node) -> None:
    running = SnapshotWorker(node.engine, node.settings.node_id, node.reporter, {},
                             queue_size=1)  # not started: nothing leaves the queue
    _sensor(node, "seis-in", 68.60)
    subscriber = DetectionSubscriber(node, host="127.0.0.1", port=1)
    cameras.serve(node.engine, running)
    try:
        subscriber.handle(_detection("seis-in"))
        subscriber.handle(_detection("seis-in", kind="vehicle"))
    finally:
        cameras.serve(node.engine, None)
    records = list_records(node.engine, RecordKind.sensor_detection)
    assert len(records) == 2
    busy = [get_record(node.engine, r.id) for r in records]
    assert sorted(str((r.body.get("snapshots") or [{}])[0].get("outcome")) for r in busy
                  if r is not None) == ["None", "busy"]
