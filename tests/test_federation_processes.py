"""Real node processes: kill -9 of the receiver and of the sender mid-stream, restarts.

A post (kg-osh-post) pushes to its parent, the regional centre (kg-osh-rc),
under the default agreement upward (everything). Afterwards the parent holds
exactly the post's events: none lost, none twice, in the post's order.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import report
from sitcen.exchange.identity import NodeIdentity
from sitcen.testing import NodeProcess, wait_until

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]


def node_process(name: str, country: str, database_url: str, root: Path) -> NodeProcess:
    """A node with its own data dir, database and key pair (``sitcen init``), logging to a file."""
    node = NodeProcess(name, database_url, root / name, country=country,
                       log_path=root / f"{name}.log")
    node.cli("init")
    return node


def public_key(node: NodeProcess) -> str:
    """The node's public key, as ``sitcen peer add`` takes it."""
    return NodeIdentity.load(node.data_dir / "identity").public_key_text


def link(post: NodeProcess, parent: NodeProcess, parent_url: str) -> None:
    """Link a post to its parent (reached at ``parent_url``), with an operator on both."""
    post.cli("peer", "add", parent.node_id, "--url", parent_url, "--relation", "parent",
             "--public-key", public_key(parent))
    parent.cli("peer", "add", post.node_id, "--url", post.url, "--relation", "child",
               "--public-key", public_key(post))
    for node in (post, parent):
        node.cli("user", "add", "op", "--role", "operator", "--password", "operator-pass-1")


def retry_delays(node: NodeProcess) -> list[float]:
    """The delays the node's sender logged after each failed push, oldest first."""
    assert node.log_path is not None
    return [float(d) for d in re.findall(r"\(retry in ([\d.]+) s\)", node.log_path.read_text())]


def failed_push(node: NodeProcess, seen: int) -> list[float]:
    """Wait until the node's sender logs a failed push beyond the first ``seen``; all delays."""
    def more() -> list[float] | None:
        delays = retry_delays(node)
        return delays if len(delays) > seen else None

    return wait_until(more, what=f"a failed push of {node.node_id} (after {seen})")


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
                    ) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    second = (f"sqlite:///{tmp_path / 'rc.db'}" if database_url.startswith("sqlite")
              else request.getfixturevalue("pg_cluster").new_database())
    post = node_process("kg-osh-post", "KG", database_url, tmp_path)
    parent = node_process("kg-osh-rc", "KG", second, tmp_path)
    link(post, parent, parent.url)
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
    """The parent's journal once it holds ``count`` entries, or all it holds after the timeout
    (the caller's assertions then say what is missing)."""
    entries: list[dict[str, Any]] = []

    def arrived() -> bool:
        entries[:] = _journal(parent, headers)
        return len(entries) >= count

    with contextlib.suppress(TimeoutError):
        wait_until(arrived, timeout_s=timeout_s, interval_s=0.3,
                   what=f"{count} journal entries on {parent.node_id}")
    return entries


def test_kill_receiver_and_sender_mid_stream(
        post_and_parent: tuple[NodeProcess, NodeProcess]) -> None:
    post, parent = post_and_parent
    post.start()
    parent.start()
    headers_post = _login(post)
    sent = _send_reports(post, headers_post, 4)
    failed = len(retry_delays(post))
    parent.kill9()  # the receiver dies while the sender is pushing
    sent += _send_reports(post, headers_post, 4)  # the post keeps working meanwhile
    failed_push(post, failed)  # the sender meets the dead link and backs off
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
