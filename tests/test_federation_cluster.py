"""Real node processes: a long partition of a link, and two app processes of one node.

Both use the post → regional centre link of test_federation_processes. In the
partition the post's link runs through a TCP relay the test cuts and heals;
the post keeps working all along. The two-process test serves one node from
two `sitcen serve` processes on one database: both stream, one sends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import socket
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from sitcen.testing import NodeProcess, free_port
from test_federation_processes import (
    _journal,
    _login,
    _send_reports,
    _wait_for,
    failed_push,
    link,
    node_process,
    retry_delays,
)

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]


class Partition:
    """A TCP relay in front of a node whose link can be cut (connections dropped) and healed."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
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
        """Let connections through again."""
        self._open.set()

    def close(self) -> None:
        """Cut the link for good and stop listening."""
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


def _check_exactly_once(parent: NodeProcess, sent: list[str]) -> list[dict[str, Any]]:
    entries = _wait_for(parent, _login(parent), len(sent), timeout_s=120)
    received = [e["record_id"] for e in entries if e["kind"] == "event"]
    assert len(received) == len(set(received)), "a record was applied twice"
    assert set(received) == set(sent), f"{len(set(sent) - set(received))} records lost"
    assert received == sent, "per-origin order not kept"
    return entries


def _receipts(node: NodeProcess) -> tuple[int, int]:
    """Records applied and records that arrived a second time, from a receiver's log."""
    assert node.log_path is not None
    applied = again = 0
    for m in re.finditer(r"(\d+) applied, (\d+) already held", node.log_path.read_text()):
        applied += int(m.group(1))
        again += int(m.group(2))
    return applied, again


def test_long_partition_then_heal(database_url: str, tmp_path: Path,
                                  request: pytest.FixtureRequest) -> None:
    post = node_process("kg-osh-post", "KG", database_url, tmp_path)
    parent = node_process("kg-osh-rc", "KG", _second_database(database_url, tmp_path, request),
                          tmp_path)
    partition = Partition(parent.port)
    link(post, parent, partition.url)
    try:
        post.start()
        parent.start()
        headers = _login(post)
        sent = _send_reports(post, headers, 2)
        _check_exactly_once(parent, sent)
        delays = retry_delays(post)
        before_cut = len(delays)
        partition.cut()
        # A long stretch without the link: the post keeps taking reports while its sender
        # fails round after round, until its retry delay stops growing (the longest backoff).
        while len(delays) < before_cut + 2 or delays[-1] != delays[-2]:
            assert len(delays) < before_cut + 20, f"no end to the backoff: {delays[before_cut:]}"
            sent += _send_reports(post, headers, 10)
            delays = failed_push(post, len(delays))
        backlog = len(sent)
        assert len([e for e in _journal(parent, _login(parent)) if e["kind"] == "event"]) < \
            backlog
        assert post.log_path is not None and "unreachable" in post.log_path.read_text()
        partition.heal()
        entries = _check_exactly_once(parent, sent)
        assert all(e["origin"] == "kg-osh-post" for e in entries)
        applied, _ = _receipts(parent)  # a resend after the cut may arrive twice
        assert applied == len(sent)
    finally:
        post.stop()
        parent.stop()
        partition.close()


def test_two_processes_of_one_node_stream_and_send_once(
        database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Both processes stream every change; the link lease lets one of them send each batch."""
    post = node_process("kg-osh-post", "KG", database_url, tmp_path)
    parent = node_process("kg-osh-rc", "KG", _second_database(database_url, tmp_path, request),
                          tmp_path)
    link(post, parent, parent.url)
    # Same data dir, database and key pair; its own port and log.
    twin = dataclasses.replace(post, port=free_port(), log_path=tmp_path / "kg-osh-post-twin.log")
    frames: list[dict[str, Any]] = []
    try:
        for node in (post, twin, parent):
            node.start()
        headers = _login(post)

        streaming = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{twin.url}/api/v1/stream", headers=_login(twin),
                              timeout=httpx.Timeout(5, read=60)) as response:
                # The answer's head comes after the node took its cursor (the end of the
                # journal): from here on every new record reaches this stream.
                streaming.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        frames.append(orjson.loads(line[6:]))
                        if sum(f["kind"] == "event" for f in frames) >= 200:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert streaming.wait(timeout=30), "the twin's stream did not start"
        sent: list[str] = []
        for i in range(4):  # reports reach the node through both processes
            sent += _send_reports(post if i % 2 == 0 else twin, headers, 1)
        listener.join(timeout=60)
        streamed = [f["record_id"] for f in frames if f["kind"] == "event"]
        assert streamed[:len(sent)] == sent  # the twin streams what the first one wrote
        _check_exactly_once(parent, sent)
        applied, again = _receipts(parent)
        assert (applied, again) == (len(sent), 0), "a batch was sent twice"
    finally:
        for node in (post, twin, parent):
            node.stop()
