"""The nodes this node is linked to: parent, children and peers, with their keys and cursors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from sitcen.settings import NODE_ID_PATTERN
from sitcen.store import schema
from sitcen.store.journal import now_micros

KEY_PATTERN = re.compile(r"^ed25519:[A-Za-z0-9_-]{43}$")


class Relation(StrEnum):
    """How a linked node stands to this one."""

    parent = "parent"
    child = "child"
    peer = "peer"


class PeerError(ValueError):
    """A link cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Peer:
    """A linked node as stored."""

    node_id: str
    name: str
    url: str
    public_key: str
    relation: Relation
    agreement_id: str | None
    acked_seq: int
    received_seq: int


def add_peer(engine: sa.Engine, node_id: str, *, url: str, public_key: str,
             relation: Relation, name: str = "", own_node_id: str = "") -> Peer:
    """Link a node by id, URL and public key (exchanged out of band)."""
    if not NODE_ID_PATTERN.match(node_id):
        raise PeerError("node id must be 2-63 lowercase letters, digits or '-'")
    if node_id == own_node_id:
        raise PeerError("a node cannot link to itself")
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", url):
        raise PeerError(f"url must be an http(s) URL, not {url!r}")
    if not KEY_PATTERN.match(public_key):
        raise PeerError("public key must look like ed25519:<43 base64url characters>")
    now = now_micros()
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(schema.peers.c.node_id).where(schema.peers.c.node_id == node_id)
        ).first()
        if exists:
            raise PeerError(f"node {node_id} is linked already")
        if relation == Relation.parent:
            parent = conn.execute(
                sa.select(schema.peers.c.node_id).where(schema.peers.c.relation == "parent")
            ).first()
            if parent:
                raise PeerError(f"this node has a parent already: {parent.node_id}")
        conn.execute(schema.peers.insert().values(
            node_id=node_id, name=name or node_id, url=url.rstrip("/"), public_key=public_key,
            relation=relation.value, agreement_id=None, acked_seq=0, received_seq=0,
            created_at=now, updated_at=now,
        ))
    return Peer(node_id, name or node_id, url.rstrip("/"), public_key, relation, None, 0, 0)


def list_peers(engine: sa.Engine) -> list[Peer]:
    """Every linked node, by relation then id."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(schema.peers).order_by(schema.peers.c.relation, schema.peers.c.node_id)
        ).all()
    return [Peer(r.node_id, r.name, r.url, r.public_key, Relation(r.relation), r.agreement_id,
                 r.acked_seq, r.received_seq) for r in rows]


def remove_peer(engine: sa.Engine, node_id: str) -> bool:
    """Unlink a node; whether it was linked."""
    with engine.begin() as conn:
        result = conn.execute(schema.peers.delete().where(schema.peers.c.node_id == node_id))
    return bool(result.rowcount)
