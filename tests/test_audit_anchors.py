"""Anchors of the audit trail (issue 15): the head journaled, kept by the parent node, and
a rewrite of the whole chain from some entry on caught against those copies; on both
backends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import orjson
import sqlalchemy as sa

from federation_nodes import LinkedNodes, node_cli, push_once
from sitcen.node import Node
from sitcen.operations.audit_anchors import AnchorKeeper, anchor, anchors_held
from sitcen.store import audit, schema
from sitcen.store.audit import AuditAction


def _fill(node: Node, n: int, actor: str = "duty") -> None:
    for i in range(n):
        audit.record(node.engine, actor, AuditAction.personal_data_read, f"event-{i}",
                     {"purpose": "case 7"})


def _rewrite_from(engine: sa.Engine, first: int) -> None:
    """What someone with write access to the database would do to hide entries from
    ``first`` on: change them and recompute every hash after, so the chain is whole."""
    t = schema.audit_log
    with engine.begin() as conn:
        rows = conn.execute(sa.select(t).where(t.c.seq >= first).order_by(t.c.seq)).all()
        prev = conn.execute(sa.select(t.c.hash).where(t.c.seq == first - 1)).scalar() \
            or audit.GENESIS
        for row in rows:
            actor = "nobody" if row.actor == "duty" else row.actor
            digest = hashlib.sha256(orjson.dumps(
                [prev, row.seq, row.at, actor, row.action, row.subject, row.detail])).hexdigest()
            conn.execute(t.update().where(t.c.seq == row.seq)
                         .values(actor=actor, prev_hash=prev, hash=digest))
            prev = digest


def test_an_anchor_holds_the_head_and_catches_a_rewritten_chain(node: Node) -> None:
    node_id = node.settings.node_id
    assert anchor(node.engine, node_id) is None  # nothing to anchor yet
    _fill(node, 5)
    first = anchor(node.engine, node_id)
    assert first is not None and first.body["seq"] == 5
    assert anchor(node.engine, node_id) is None  # the head did not move
    _fill(node, 3)
    assert anchor(node.engine, node_id) is not None
    held = anchors_held(node.engine, node_id)
    assert [a["seq"] for a in held] == [5, 8]
    assert held[0]["hash"] == list(audit.entries(node.engine))[4].hash
    assert audit.check_anchors(node.engine, held) == []

    _rewrite_from(node.engine, 3)
    # The chain alone looks whole: that is what anchors are for.
    assert audit.verify(node.engine).ok
    problems = audit.check_anchors(node.engine, held)
    assert problems == [f"entry {seq} differs from its anchor: the trail up to it was "
                        "rewritten" for seq in (5, 8)]
    with node.engine.begin() as conn:
        conn.execute(schema.audit_log.delete().where(schema.audit_log.c.seq > 6))
    assert "entry 8 was anchored but is missing" in audit.check_anchors(node.engine, held)


def test_the_keeper_anchors_on_its_interval(node: Node) -> None:
    keeper = AnchorKeeper(node.engine, node.settings.node_id, interval_s=600, last=0.0)
    _fill(node, 2)
    keeper.work(300.0)  # not an interval since the start
    assert anchors_held(node.engine, node.settings.node_id) == []
    keeper.work(1000.0)
    _fill(node, 2)
    keeper.work(1500.0)  # too soon
    assert [a["seq"] for a in anchors_held(node.engine, node.settings.node_id)] == [2]
    keeper.work(1700.0)
    assert [a["seq"] for a in anchors_held(node.engine, node.settings.node_id)] == [2, 4]


def test_the_parent_keeps_copies_that_catch_a_rewrite_at_the_post(
        tmp_path: Path, another_database: Callable[[str], str]) -> None:
    with LinkedNodes(tmp_path) as nodes:
        post, centre = nodes.start_post_and_centre(another_database)
        _fill(post.node, 4)
        assert anchor(post.node.engine, "tj-panj-post") is not None
        push_once(post.new_sender())
        copies = anchors_held(centre.node.engine, "tj-panj-post")
        assert [(a["origin"], a["seq"]) for a in copies] == [("tj-panj-post", 4)]

        code, printed = node_cli(centre.node, tmp_path, "audit", "anchors", "--origin",
                                 "tj-panj-post")
        assert code == 0, printed
        copy_file = tmp_path / "anchors.jsonl"
        copy_file.write_text(printed, encoding="utf-8")
        code, printed = node_cli(post.node, tmp_path, "audit", "verify", "--anchors",
                                 str(copy_file))
        assert code == 0, printed
        assert "2 anchors compared" in printed  # the copy and the post's own

        # Someone at the post rewrites the trail and its own anchors too.
        _rewrite_from(post.node.engine, 1)
        with post.node.engine.begin() as conn:
            conn.execute(schema.records.delete().where(schema.records.c.kind == "audit_anchor"))
        code, printed = node_cli(post.node, tmp_path, "audit", "verify")
        assert code == 0, printed  # alone, the post cannot tell
        code, printed = node_cli(post.node, tmp_path, "audit", "verify", "--anchors",
                                 str(copy_file))
        assert code == 1
        assert "PROBLEM: entry 4 differs from its anchor" in printed
