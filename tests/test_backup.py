"""Backup and restore without breaking federation (issue 20), on both backends: a node backed
up while it serves, more written and exchanged after, the node restored; what its linked node
holds comes back, every record exists once everywhere, and no journal position is reused."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from conftest import make_settings, report
from federation_nodes import CHAIN, LinkedNode, LinkedNodes, node_cli, push_once
from sitcen.events import EventCreate, EventUpdate
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import list_peers
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.backup import BackupError, read_manifest, restore, verify
from sitcen.store.epochs import EPOCH_BITS, epochs, pending_epoch
from sitcen.store.events import get_event, report_events, update_event
from sitcen.store.records import write_record
from sitcen.testing import serve_in_thread

POST, CENTRE = CHAIN[:2]  # what start_post_and_centre starts


def _events(node: Node, n: int) -> list[str]:
    items = [EventCreate.model_validate(report(description=f"report {i}")) for i in range(n)]
    return [w.id for w in report_events(node.engine, node.reporter, items)]


def _held(engine: sa.Engine, origin: str) -> dict[str, tuple[int, dict[str, object]]]:
    """Every record of ``origin`` held (events and others): id -> (version, body without the
    travel fields)."""
    found = {}
    with engine.connect() as conn:
        for table in (schema.events, schema.records):
            for row in conn.execute(sa.select(table.c.id, table.c.version, table.c.body)
                                    .where(table.c.origin == origin)):
                body = orjson.loads(row.body)
                body.pop("provenance", None)
                body.pop("sharing", None)
                found[row.id] = (row.version, body)
    return found


def _journal(engine: sa.Engine) -> list[tuple[int, str, str, int]]:
    j = schema.journal
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(j.c.seq, j.c.origin, j.c.record_id, j.c.version).order_by(j.c.seq))]


def _push(linked: LinkedNode) -> None:
    """Send what the node has to its linked nodes, always as the same sender: a link's lease
    names one sender, and the backup holds it too."""
    sender = linked.new_sender()
    sender.holder = f"{linked.node.settings.node_id}:test-sender"
    push_once(sender)


def _restart(nodes: LinkedNodes, name: str, peer: str) -> LinkedNode:
    """Open the node ``name`` (stopped) again on its restored database and serve it; its peer
    learns the new address."""
    old = nodes[name]
    node = Node.open(old.node.settings)
    nodes[name] = LinkedNode(node, old.identity, serve_in_thread(node))
    with nodes[peer].node.engine.begin() as conn:
        conn.execute(schema.peers.update().where(schema.peers.c.node_id == name)
                     .values(url=nodes[name].url))
    return nodes[name]


def test_a_restored_post_gets_back_what_its_centre_holds_and_reuses_no_position(
        tmp_path: Path, another_database: Callable[[str], str]) -> None:
    with LinkedNodes(tmp_path) as nodes:
        post, centre = nodes.start_post_and_centre(another_database)
        early = _events(post.node, 3)
        _push(post)
        code, printed = node_cli(post.node, tmp_path / POST, "backup", str(tmp_path / "b1"))
        assert code == 0, printed
        manifest = verify(tmp_path / "b1")
        assert manifest.node_id == POST and manifest.epoch == 0
        assert manifest.journal_position == max(s for s, *_ in _journal(post.node.engine))

        # After the backup: new reports, a new version of an old one, another kind; all
        # reach the centre before the post's database is lost.
        late = _events(post.node, 2)
        current = get_event(post.node.engine, early[0])
        assert current is not None
        update_event(post.node.engine, post.node.reporter, early[0], EventUpdate.model_validate(
            {**report(description="corrected weight"), "status": current.status,
             "base_version": 1}), may_change_status=False)
        alert = write_record(post.node.engine, "alert", {
            "section_id": "AF-TJ-010", "severity": "high", "handling": "AMBER",
            "explanation": "Три задержания за сутки"}, node_id=POST)
        _push(post)
        written = _held(post.node.engine, POST)
        before = max(s for s, *_ in _journal(post.node.engine))
        centre_saw = {p.node_id: p for p in list_peers(centre.node.engine)}[POST].received_seq
        assert set(_held(centre.node.engine, POST)) >= {*early, *late, alert.id}

        # Restored: the post holds what it held at the backup, and will not serve yet.
        post.served.stop()
        post.node.engine.dispose()
        code, printed = node_cli(post.node, tmp_path / POST, "restore", str(tmp_path / "b1"))
        assert code == 1 and "--replace" in printed  # a database is there
        code, printed = node_cli(post.node, tmp_path / POST, "restore", "--replace",
                                str(tmp_path / "b1"))
        assert code == 0, printed
        post = _restart(nodes, POST, CENTRE)
        epoch = pending_epoch(post.node.engine)
        assert epoch is not None and epoch.epoch == 1 and epoch.first_seq == 1 << EPOCH_BITS
        assert set(_held(post.node.engine, POST)) == set(early)

        code, printed = node_cli(post.node, tmp_path / POST, "recover")
        assert code == 0, printed
        assert f"{CENTRE}: " in printed and "4 own records recovered" in printed, printed
        assert pending_epoch(post.node.engine) is None
        # Every record is back, at the version and with the content the post had written.
        assert _held(post.node.engine, POST) == written

        # The journal goes on in the new epoch: beyond anything the centre has seen.
        entries = _journal(post.node.engine)
        after_restore = [e for e in entries if e[0] > manifest.journal_position]
        assert after_restore and all(s >= epoch.first_seq > before for s, *_ in after_restore)
        assert centre_saw < epoch.first_seq
        assert len({s for s, *_ in entries}) == len(entries)

        # New work continues where the centre is: the next version follows the recovered
        # one, and the centre applies it (a reused number would be dropped as held).
        newest = get_event(post.node.engine, early[0])
        assert newest is not None and newest.version == 2
        update_event(post.node.engine, post.node.reporter, early[0], EventUpdate.model_validate(
            {**report(description="third version"), "status": newest.status,
             "base_version": 2}), may_change_status=False)
        fresh = _events(post.node, 1)
        _push(post)
        at_centre = _held(centre.node.engine, POST)
        assert at_centre[early[0]][0] == 3
        assert at_centre[early[0]][1]["description"] == "third version"
        assert fresh[0] in at_centre
        # Exactly once everywhere: the same records and versions on both sides, and the
        # centre journaled no version of the post's twice.
        assert {k: v[0] for k, v in at_centre.items()} == {
            k: v[0] for k, v in _held(post.node.engine, POST).items()}
        theirs = [(rid, version) for _, origin, rid, version in _journal(centre.node.engine)
                  if origin == POST]
        assert len(theirs) == len(set(theirs))


def test_a_restored_centre_pulls_again_what_its_post_sent_after_the_backup(
        tmp_path: Path, another_database: Callable[[str], str]) -> None:
    with LinkedNodes(tmp_path) as nodes:
        post, centre = nodes.start_post_and_centre(another_database)
        _events(post.node, 2)
        _push(post)
        code, printed = node_cli(centre.node, tmp_path / CENTRE, "backup", "--with-identity",
                                str(tmp_path / "b"))
        assert code == 0, printed
        assert (tmp_path / "b" / "identity" / "node.key").is_file()
        _events(post.node, 3)
        _push(post)  # acknowledged by the centre, then lost with it
        sent = _held(post.node.engine, POST)

        centre.served.stop()
        centre.node.engine.dispose()
        code, printed = node_cli(centre.node, tmp_path / CENTRE, "restore", "--replace",
                                str(tmp_path / "b"))
        assert code == 0, printed
        centre = _restart(nodes, CENTRE, POST)
        assert len(_held(centre.node.engine, POST)) == 2
        code, printed = node_cli(centre.node, tmp_path / CENTRE, "recover")
        assert code == 0, printed
        assert f"{POST}: 3 records pulled" in printed, printed
        assert _held(centre.node.engine, POST) == sent
        assert [e.epoch for e in epochs(centre.node.engine)] == [1]


def test_recovery_waits_for_an_unreachable_peer_unless_the_loss_is_accepted(
        tmp_path: Path, another_database: Callable[[str], str]) -> None:
    with LinkedNodes(tmp_path) as nodes:
        post, centre = nodes.start_post_and_centre(another_database)
        _events(post.node, 1)
        code, printed = node_cli(post.node, tmp_path / POST, "backup", str(tmp_path / "b"))
        assert code == 0, printed
        post.served.stop()
        post.node.engine.dispose()
        assert node_cli(post.node, tmp_path / POST, "restore", "--replace",
                       str(tmp_path / "b"))[0] == 0
        centre.served.stop()  # the centre is down while the post recovers
        code, printed = node_cli(post.node, tmp_path / POST, "recover")
        assert code == 1 and f"not answered: {CENTRE}" in printed, printed
        assert pending_epoch(post.node.engine) is not None
        code, printed = node_cli(post.node, tmp_path / POST, "serve", "--port", "1")
        assert code == 1 and "sitcen recover" in printed, printed
        code, printed = node_cli(post.node, tmp_path / POST, "recover", "--accept-loss")
        assert code == 0, printed
        (last,) = epochs(post.node.engine)
        assert last.recovery is not None and last.recovery["accepted_loss"] is True
        assert last.recovery["unanswered"] == [CENTRE]


def test_a_damaged_or_foreign_backup_is_refused(
        tmp_path: Path, database_url: str, node: Node) -> None:
    identity = NodeIdentity.generate(node.settings.node_id)
    identity.save(node.settings.identity_dir)
    _events(node, 2)
    code, printed = node_cli(node, node.settings.data_dir, "backup", str(tmp_path / "b"))
    assert code == 0, printed
    code, printed = node_cli(node, node.settings.data_dir, "backup", str(tmp_path / "b"))
    assert code == 1 and "not empty" in printed
    manifest = read_manifest(tmp_path / "b")
    url = database_url
    with pytest.raises(BackupError, match="of node 'tj-test-centre', this is 'kg-osh-post'"):
        restore(tmp_path / "b", url, node_id="kg-osh-post")
    with pytest.raises(BackupError, match="--replace"):
        restore(tmp_path / "b", url, node_id=manifest.node_id)
    with (tmp_path / "b" / manifest.database_file).open("r+b") as f:
        f.seek(200)
        f.write(b"\x00garbage\x00")
    with pytest.raises(BackupError, match="does not match its checksum"):
        restore(tmp_path / "b", url, node_id=manifest.node_id, replace=True)


def test_the_copy_yields_to_the_serving_node_and_leaves_the_command_as_it_was() -> None:
    """``sitcen backup`` copies in a thread of the lowest CPU and I/O priority; the thread
    that runs the command keeps its own, and a failure inside reaches it."""
    import ctypes
    import platform

    from sitcen.cli.backup import _in_background

    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert _in_background(lambda: os.getpriority(os.PRIO_PROCESS, 0)) == 19
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
    if sys.platform == "linux" and platform.machine() == "x86_64":
        libc = ctypes.CDLL(None, use_errno=True)
        ioprio_get = 252
        # Best-effort class (2), its lowest level (7).
        assert _in_background(lambda: libc.syscall(ioprio_get, 1, 0)) == (2 << 13) | 7

    def fails() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _in_background(fails)


def test_a_sqlite_copy_goes_step_by_step_through_one_snapshot_while_the_node_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps of SQLite's backup API start over after every write of another connection, so
    a copy in steps under steady ingest would never end; the copy holds a read transaction
    of its own, finishes in many steps while the node goes on writing between them, and
    holds one state: the journal up to the position its manifest names, nothing missing."""
    import threading

    from sitcen.store import backup as module

    node = Node.open(make_settings(f"sqlite:///{tmp_path / 'node.db'}", tmp_path))
    for _ in range(10):
        _events(node, 100)
    stop, wrote = threading.Event(), threading.Event()

    def ingest() -> None:
        while not stop.is_set():
            _events(node, 5)
            wrote.set()

    told = module.Pacer.__call__
    steps = []

    def step(pacer: module.Pacer, status: int, remaining: int, total: int) -> None:
        told(pacer, status, remaining, total)
        steps.append(remaining)
        assert len(steps) < 4 * total / 8, "the copy starts over"
        wrote.clear()
        assert wrote.wait(30), "the node stopped writing"  # a write between every two steps

    monkeypatch.setattr(module.Pacer, "pages_per_step", lambda self: 8)
    monkeypatch.setattr(module.Pacer, "__call__", step)
    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        position, _epoch, _done = module._backup_sqlite(
            tmp_path / "node.db", tmp_path / "copy.db", lambda text: None)
    finally:
        stop.set()
        writer.join()
    assert len(steps) > 20 and steps == sorted(steps, reverse=True)
    copy = sa.create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        seqs = conn.execute(sa.select(schema.journal.c.seq)).scalars().all()
    copy.dispose()
    assert len(seqs) == max(seqs) == position >= 1000  # one state, nothing missing below it
    with node.engine.connect() as conn:
        head = conn.execute(sa.select(sa.func.max(schema.journal.c.seq))).scalar_one()
    node.engine.dispose()
    assert head > position  # the node wrote on while the copy was made


def test_the_pace_of_a_copy() -> None:
    """A copy held to a rate waits after each step until its bytes are due, says how far it
    has come every tenth of the way, and without a rate never waits."""
    from sitcen.store.backup import Pacer

    now = [100.0]
    waits: list[float] = []
    said: list[str] = []
    pacer = Pacer(4096, 4096 * 1000, said.append, clock=lambda: now[0], sleep=waits.append)
    assert pacer.pages_per_step() == 250  # a quarter of a second's worth
    now[0] += 0.05
    pacer(0, 750, 1000)  # 250 pages due at 0.25 s, 0.05 s gone
    assert waits == [pytest.approx(0.2)] and said == ["copied 20 % (1 MB) in 0 s"]
    now[0] += 0.6
    pacer(0, 0, 1000)  # all due at 1 s, 0.65 s gone
    assert waits[-1] == pytest.approx(0.35) and said[-1] == "copied 100 % (4 MB) in 1 s"
    free = Pacer(4096, None, said.append, clock=lambda: now[0], sleep=waits.append)
    assert free.pages_per_step() == 16384  # 64 MiB
    free(0, 0, 10)
    assert len(waits) == 2 and said[-1].startswith("copied 100 %")
