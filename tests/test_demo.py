"""The node as a real server process: `sitcen demo` and `sitcen serve --workers 2`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conftest import report

pytestmark = pytest.mark.xdist_group("demo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
    env.update(settings)
    return env


@contextmanager
def serving(args: list[str], env: dict[str, str], log_path: Path,
            timeout_s: float = 120) -> Iterator[str]:
    """Run ``sitcen <args> --port P`` until its health answers; yield its URL; stop it."""
    port = _free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "sitcen.cli", *args, "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"exited early:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"not up in {timeout_s} s:\n{log_path.read_text()}")
                time.sleep(0.2)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
    with serving(args, _environment(), tmp_path / "demo.log") as url:
        headers = _login(url, "duty", "duty-demo-1")
        page = httpx.get(f"{url}/api/v1/events?limit=1000", headers=headers).json()
        assert len(page["items"]) > 100
        assert {e["section_id"] is not None for e in page["items"]} == {True, False}
        # Yesterday's daily report was issued at start, signed by the duty officer.
        library = httpx.get(f"{url}/api/v1/reports", headers=headers).json()["reports"]
        assert [(r["product"], r["status"], r["signature_valid"]) for r in library] == [
            ("daily", "issued", True)]
        last = _journal_seqs(url, headers)[-1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # The demo also writes alerts and a level change once it serves: look for events.
            newer = httpx.get(f"{url}/api/v1/journal?after={last}&kind=event",
                              headers=headers).json()
            if newer["entries"]:
                assert newer["entries"][0]["record"]["origin"] == "demo-national-centre"
                return
            time.sleep(0.3)
        raise AssertionError("no live event arrived within 30 s")


def test_two_server_processes_share_one_sqlite_node(tmp_path: Path) -> None:
    """`sitcen serve --workers 2`: concurrent batches all land, the journal stays gapless."""
    # No scheduled daily report: the journal must hold the batches and nothing else.
    env = _environment(SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(tmp_path),
                       SITCEN_NODE_ID="kg-batken-post", SITCEN_NODE_COUNTRY="KG",
                       SITCEN_REPORT_DAILY_AT="")
    subprocess.run([sys.executable, "-m", "sitcen.cli", "user", "add", "op", "--role",
                    "operator", "--password", "operator-pass-1"], env=env, check=True,
                   capture_output=True)
    with serving(["serve", "--workers", "2"], env, tmp_path / "serve.log") as url:
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
