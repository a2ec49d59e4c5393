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


def test_two_server_processes_share_one_sqlite_node(tmp_path: Path) -> None:
    """`sitcen serve --workers 2`: concurrent batches all land, the journal stays gapless."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import report

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
    env.update(SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(tmp_path),
               SITCEN_NODE_ID="kg-batken-post", SITCEN_NODE_COUNTRY="KG")
    subprocess.run([sys.executable, "-m", "sitcen.cli", "user", "add", "op", "--role",
                    "operator", "--password", "operator-pass-1"], env=env, check=True,
                   capture_output=True)
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "sitcen.cli", "serve", "--port", str(port),
                                "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        token = httpx.post(f"{url}/api/v1/auth/login",
                           json={"username": "op", "password": "operator-pass-1"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def send(_: int) -> int:
            body = {"events": [report() for _ in range(300)]}
            response = httpx.post(f"{url}/api/v1/events/batch", json=body, headers=headers,
                                  timeout=60)
            assert response.status_code == 201, response.text
            return int(response.json()["written"])

        with ThreadPoolExecutor(4) as pool:
            assert sum(pool.map(send, range(8))) == 2400
        seqs: list[int] = []
        after = 0
        while True:
            page = httpx.get(f"{url}/api/v1/journal?after={after}&limit=5000",
                             headers=headers).json()
            if not page["entries"]:
                break
            seqs += [e["seq"] for e in page["entries"]]
            after = page["last_seq"]
        assert seqs == list(range(1, 2401))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
