"""The node as a real server process: `sitcen demo` and `sitcen serve --workers 2`."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import report
from sitcen.testing import (
    NodeProcess,
    clean_environment,
    free_port,
    start_server,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.xdist_group("demo")


@contextmanager
def serving(args: list[str], env: dict[str, str], log_path: Path,
            timeout_s: float = 300) -> Iterator[str]:
    """Run ``sitcen <args> --port P`` until its health answers; yield its URL; stop it."""
    port = free_port()
    process = start_server(args, env, port, log_path=log_path, timeout_s=timeout_s)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _login(url: str, username: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/v1/auth/login",
                          json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _journal_seqs(url: str, headers: dict[str, str]) -> list[int]:
    seqs: list[int] = []
    after = 0
    while True:
        page = httpx.get(f"{url}/api/v1/journal?after={after}&limit=5000",
                         headers=headers).json()
        if not page["entries"]:
            return seqs
        seqs += [e["seq"] for e in page["entries"]]
        after = page["last_seq"]


def test_demo_serves_seeded_events_and_live_ones(tmp_path: Path) -> None:
    args = ["demo", "--years", "0.05", "--data-dir", str(tmp_path / "demo"),
            "--live-every", "0.3"]
    with serving(args, clean_environment(), tmp_path / "demo.log") as url:
        headers = _login(url, "duty", "duty-demo-1")
        page = httpx.get(f"{url}/api/v1/events?limit=1000", headers=headers).json()
        assert len(page["items"]) > 100
        assert {e["section_id"] is not None for e in page["items"]} == {True, False}
        # Yesterday's daily report was issued at start, signed by the duty officer.
        library = httpx.get(f"{url}/api/v1/reports", headers=headers).json()["reports"]
        assert [(r["product"], r["status"], r["signature_valid"]) for r in library] == [
            ("daily", "issued", True)]
        # Tomorrow's patrol plans for the demo's posts.
        plans = httpx.get(f"{url}/api/v1/patrols/plans", headers=headers).json()["plans"]
        assert len(plans) == 4 and len({p["day"] for p in plans}) == 1
        last = _journal_seqs(url, headers)[-1]

        def live_event() -> dict[str, Any] | None:
            # The demo also writes alerts and a level change once it serves: look for events.
            newer = httpx.get(f"{url}/api/v1/journal?after={last}&kind=event",
                              headers=headers).json()
            return newer["entries"][0] if newer["entries"] else None

        entry = wait_until(live_event, timeout_s=30, interval_s=0.3, what="a live event")
        assert entry["record"]["origin"] == "demo-national-centre"
        _shows_the_surveillance_picture(url, headers)


def _shows_the_surveillance_picture(url: str, headers: dict[str, str]) -> None:
    """What `make demo` promises of issue 18 (docs/surveillance.md, docs/cameras-drones.md),
    read from the served demo as the console reads it."""
    api = f"{url}/api/v1"
    # Sensor health: the seismic sensor at the ford is silent, the fence sensors are heard.
    sensors = {s["sensor_id"]: s for s in
               httpx.get(f"{api}/sensor-health", headers=headers).json()["sensors"]}
    assert "silent" in sensors["tj-panj-seis-12"]["conditions"]
    assert sensors["tj-panj-fence-1"]["ok"]
    # A fence segment that changed state: intact, alarm, breached.
    segment = httpx.get(f"{api}/fences/tj-panj-f-12", headers=headers).json()
    states = [h["state"] for h in segment["history"]]
    assert [s for i, s in enumerate(states) if states[i - 1 : i] != [s]] == [
        "intact", "alarm", "breached"], states
    # A camera snapshot on a detection, in the evidence of the incident at the ford, whose
    # picture a duty officer may load.
    at_ford = httpx.get(f"{api}/events?bbox=68.58,37.20,68.62,37.24&limit=1000",
                        headers=headers).json()["items"]
    incidents = [e["id"] for e in at_ford]
    snapshots = [a for event_id in incidents
                 for piece in httpx.get(f"{api}/incidents/{event_id}",
                                        headers=headers).json()["evidence"]
                 for a in piece["attachments"] if piece["kind"] == "sensor_detection"
                 and a["body"].get("camera_snapshot")]
    assert snapshots, incidents
    picture = httpx.get(url + snapshots[0]["thumbnail_url"], headers=headers)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    # A drone's track with the footprint of its sensor.
    assets = httpx.get(f"{api}/assets", headers=headers).json()["assets"]
    [drone] = [a for a in assets if a["asset_id"] == "demo-uav-1"]
    assert len(drone["track"]) >= 12 and len(drone["footprint"]) == 17


def test_two_server_processes_share_one_sqlite_node(tmp_path: Path) -> None:
    """`sitcen serve --workers 2`: concurrent batches all land, the journal stays gapless."""
    node = NodeProcess("kg-batken-post", f"sqlite:///{tmp_path / 'node.db'}", tmp_path,
                       country="KG", workers=2, log_path=tmp_path / "serve.log")
    node.cli("user", "add", "op", "--role", "operator", "--password", "operator-pass-1")
    node.start()
    try:
        url = node.url
        headers = _login(url, "op", "operator-pass-1")

        def send(_: int) -> int:
            body = {"events": [report() for _ in range(300)]}
            response = httpx.post(f"{url}/api/v1/events/batch", json=body, headers=headers,
                                  timeout=60)
            assert response.status_code == 201, response.text
            return int(response.json()["written"])

        with ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(send, range(8))) == 2400
        assert _journal_seqs(url, headers) == list(range(1, 2401))
    finally:
        node.stop()
