"""`sitcen demo` end to end: a real server process, seeded, with live events arriving."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.xdist_group("demo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
    log_path = tmp_path / "demo.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sitcen.cli", "demo", "--port", str(port), "--years", "0.05",
         "--data-dir", str(tmp_path / "demo"), "--live-every", "0.3"],
        stdout=log, stderr=subprocess.STDOUT, text=True, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise AssertionError(f"demo exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        process.kill()
        log.close()
        raise AssertionError(f"demo did not come up within 120 s:\n{log_path.read_text()}")
    try:
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_demo_serves_seeded_events_and_live_ones(
    demo_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _process = demo_server
    login = httpx.post(f"{url}/api/v1/auth/login",
                       json={"username": "duty", "password": "duty-demo-1"})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    page = httpx.get(f"{url}/api/v1/events?limit=1000", headers=headers).json()
    assert len(page["items"]) > 100
    assert {e["section_id"] is not None for e in page["items"]} == {True, False}
    first = httpx.get(f"{url}/api/v1/journal?after=0&limit=1", headers=headers).json()
    assert first["entries"]
    last = 0
    while True:  # catch up with everything seeded so far
        page = httpx.get(f"{url}/api/v1/journal?after={last}&limit=5000", headers=headers).json()
        if not page["entries"]:
            break
        last = page["last_seq"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        newer = httpx.get(f"{url}/api/v1/journal?after={last}", headers=headers).json()
        if newer["entries"]:
            live = newer["entries"][0]["record"]
            assert live["origin"] == "demo-national-centre"
            return
        time.sleep(0.3)
    raise AssertionError("no live event arrived within 30 s")
