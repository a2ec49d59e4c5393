"""Real node processes: a long partition of a link, and two app processes of one node.

Both use the post → regional centre link of test_federation_processes. In the
partition the post's link runs through a TCP relay the test cuts and heals;
the post keeps working all along. The two-process test serves one node from
two `sitcen serve` processes on one database: both stream, one sends.
"""

from __future__ import annotations

import contextlib
import copy
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from test_federation_processes import (
    NodeProcess,
    _free_port,
    _journal,
    _login,
    _send_reports,
    _wait_for,
)

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]


class Partition:
    """A TCP relay in front of a node whose link can be cut (connections dropped) and healed."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._open = threading.Event()
        self._open.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones until healed."""
        self._open.clear()
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets.clear()

    def heal(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # the link is down: the connection fails at once
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _second_database(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'rc.db'}"
    return str(request.getfixturevalue("pg_cluster").new_database())


def _link(post: NodeProcess, parent: NodeProcess, parent_url: str) -> None:
    post.cli("peer", "add", parent.name, "--url", parent_url, "--relation", "parent",
             "--public-key", parent.identity.public_key_text)
    parent.cli("peer", "add", post.name, "--url", post.url, "--relation", "child",
               "--public-key", post.identity.public_key_text)
    for node in (post, parent):
        node.cli("user", "add", "op", "--role", "operator", "--password", "operator-pass-1")


def _check_exactly_once(parent: NodeProcess, sent: list[str]) -> list[dict[str, Any]]:
    entries = _wait_for(parent, _login(parent), len(sent), timeout_s=120)
    received = [e["record_id"] for e in entries if e["kind"] == "event"]
    assert len(received) == len(set(received)), "a record was applied twice"
    assert set(received) == set(sent), f"{len(set(sent) - set(received))} records lost"
    assert received == sent, "per-origin order not kept"
    return entries


def _receipts(log: Path) -> tuple[int, int]:
    """Records applied and records that arrived a second time, from a receiver's log."""
    applied = again = 0
    for m in re.finditer(r"(\d+) applied, (\d+) already held", log.read_text()):
        applied += int(m.group(1))
        again += int(m.group(2))
    return applied, again


def test_long_partition_then_heal(database_url: str, tmp_path: Path,
                                  request: pytest.FixtureRequest) -> None:
    post = NodeProcess("kg-osh-post", "KG", database_url, tmp_path)
    parent = NodeProcess("kg-osh-rc", "KG", _second_database(database_url, tmp_path, request),
                         tmp_path)
    partition = Partition(parent.port)
    _link(post, parent, partition.url)
    try:
        post.start()
        parent.start()
        headers = _login(post)
        sent = _send_reports(post, headers, 2)
        _check_exactly_once(parent, sent)
        partition.cut()
        # A long stretch without the link: the post keeps taking reports and
        # its sender keeps failing and backing off (several rounds of retries).
        for _ in range(6):
            sent += _send_reports(post, headers, 10)
            time.sleep(2)
        backlog = len(sent)
        assert len([e for e in _journal(parent, _login(parent)) if e["kind"] == "event"]) < \
            backlog
        assert "unreachable" in post.log.read_text()
        partition.heal()
        entries = _check_exactly_once(parent, sent)
        assert all(e["origin"] == "kg-osh-post" for e in entries)
        applied, _ = _receipts(parent.log)  # a resend after the cut may arrive twice
        assert applied == len(sent)
    finally:
        post.stop()
        parent.stop()
        partition.close()


def test_two_processes_of_one_node_stream_and_send_once(
        database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Both processes stream every change; the link lease lets one of them send each batch."""
    post = NodeProcess("kg-osh-post", "KG", database_url, tmp_path)
    parent = NodeProcess("kg-osh-rc", "KG", _second_database(database_url, tmp_path, request),
                         tmp_path)
    _link(post, parent, parent.url)
    twin = copy.copy(post)  # same data dir, database and key pair; its own port and log
    twin.port = _free_port()
    twin.url = f"http://127.0.0.1:{twin.port}"
    twin.log = tmp_path / "kg-osh-post-twin.log"
    twin.process = None
    frames: list[dict[str, Any]] = []
    try:
        for node in (post, twin, parent):
            node.start()
        headers = _login(post)

        def listen() -> None:
            with httpx.stream("GET", f"{twin.url}/api/v1/stream", headers=_login(twin),
                              timeout=httpx.Timeout(5, read=60)) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        frames.append(orjson.loads(line[6:]))
                        if sum(f["kind"] == "event" for f in frames) >= 200:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(1)  # let the stream start at the end of the journal
        sent: list[str] = []
        for i in range(4):  # reports reach the node through both processes
            sent += _send_reports(post if i % 2 == 0 else twin, headers, 1)
        listener.join(timeout=60)
        streamed = [f["record_id"] for f in frames if f["kind"] == "event"]
        assert streamed[:len(sent)] == sent  # the twin streams what the first one wrote
        _check_exactly_once(parent, sent)
        applied, again = _receipts(parent.log)
        assert (applied, again) == (len(sent), 0), "a batch was sent twice"
    finally:
        for node in (post, twin, parent):
            node.stop()
