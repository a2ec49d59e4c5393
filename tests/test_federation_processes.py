"""Real node processes: kill -9 of the receiver and of the sender mid-stream, restarts.

A post (kg-osh-post) pushes to its parent, the regional centre (kg-osh-rc),
under the default agreement upward (everything). Afterwards the parent holds
exactly the post's events: none lost, none twice, in the post's order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import report
from sitcen.exchange.identity import NodeIdentity

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NodeProcess:
    """One `sitcen serve` process with its own data dir, database and key pair."""

    def __init__(self, name: str, country: str, database_url: str, root: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / f"{name}.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
        self.env.update(SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(root / name),
                        SITCEN_DATABASE_URL=database_url, SITCEN_NODE_ID=name,
                        SITCEN_NODE_COUNTRY=country,
                        # No scheduled daily report: the journal holds what was sent.
                        SITCEN_REPORT_DAILY_AT="")
        self.process: subprocess.Popen[bytes] | None = None
        self.cli("init")
        self.identity = NodeIdentity.load(root / name / "identity")

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "sitcen.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sitcen.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "node did not come up"
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _login(node: NodeProcess) -> dict[str, str]:
    token = httpx.post(f"{node.url}/api/v1/auth/login",
                       json={"username": "op", "password": "operator-pass-1"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _journal(node: NodeProcess, headers: dict[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = 0
    while True:
        page = httpx.get(f"{node.url}/api/v1/journal?after={after}&limit=5000",
                         headers=headers, timeout=30).json()
        if not page["entries"]:
            return entries
        entries += page["entries"]
        after = page["last_seq"]


@pytest.fixture
def post_and_parent(database_url: str, tmp_path: Path, request: pytest.FixtureRequest
                    ) -> Any:
    second = (f"sqlite:///{tmp_path / 'rc.db'}" if database_url.startswith("sqlite")
              else request.getfixturevalue("pg_cluster").new_database())
    post = NodeProcess("kg-osh-post", "KG", database_url, tmp_path)
    parent = NodeProcess("kg-osh-rc", "KG", second, tmp_path)
    post.cli("peer", "add", parent.name, "--url", parent.url, "--relation", "parent",
             "--public-key", parent.identity.public_key_text)
    parent.cli("peer", "add", post.name, "--url", post.url, "--relation", "child",
               "--public-key", post.identity.public_key_text)
    for node in (post, parent):
        node.cli("user", "add", "op", "--role", "operator", "--password", "operator-pass-1")
    yield post, parent
    post.stop()
    parent.stop()


def _send_reports(post: NodeProcess, headers: dict[str, str], batches: int) -> list[str]:
    ids = []
    for _ in range(batches):
        body = {"events": [report() for _ in range(50)]}
        response = httpx.post(f"{post.url}/api/v1/events/batch", json=body, headers=headers,
                              timeout=60)
        assert response.status_code == 201, response.text
        ids += [e["id"] for e in response.json()["events"]]
    return ids


def _wait_for(parent: NodeProcess, headers: dict[str, str], count: int,
              timeout_s: float = 90) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        entries = _journal(parent, headers)
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.3)


def test_kill_receiver_and_sender_mid_stream(post_and_parent: Any) -> None:
    post, parent = post_and_parent
    post.start()
    parent.start()
    headers_post, headers_parent = _login(post), _login(parent)
    sent = _send_reports(post, headers_post, 4)
    parent.kill9()  # the receiver dies while the sender is pushing
    sent += _send_reports(post, headers_post, 4)  # the post keeps working meanwhile
    time.sleep(1.5)  # the sender meets a dead link and backs off
    parent.start()
    post.kill9()  # the sender dies too
    sent += _send_reports_after_restart(post)
    headers_parent = _login(parent)
    entries = _wait_for(parent, headers_parent, len(sent))
    received = [e["record_id"] for e in entries if e["kind"] == "event"]
    assert len(received) == len(set(received)), "a record was applied twice"
    assert set(received) == set(sent), f"{len(set(sent) - set(received))} records lost"
    assert received == sent, "per-origin order not kept"
    assert all(e["origin"] == "kg-osh-post" for e in entries)


def _send_reports_after_restart(post: NodeProcess) -> list[str]:
    post.start()
    return _send_reports(post, _login(post), 2)
