"""Links to other nodes — parent, children, peers — and the agreements that govern them.

A link is stored with the other node's URL and public key (exchanged out of
band); what this node sends over it is decided by the agreement attached to
the link, or by the default for its direction.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement, Direction, default_agreement, load_agreement
from sitcen.exchange.identity import IdentityError, parse_public_key
from sitcen.settings import NODE_ID_PATTERN
from sitcen.store import schema
from sitcen.store.journal import now_micros


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
    try:
        parse_public_key(public_key)
    except IdentityError as exc:
        raise PeerError(f"public key: {exc}") from exc
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


# What sending to a node of each relation means for an agreement's direction.
DIRECTION_OF: dict[Relation, Direction] = {
    Relation.parent: Direction.up,
    Relation.child: Direction.down,
    Relation.peer: Direction.peer,
}


@dataclass(frozen=True)
class StoredAgreement:
    """An agreement as signed, and its parsed form."""

    id: str
    version: int
    document: str
    agreement: Agreement


def add_agreement(engine: sa.Engine, document: str, *, own_node_id: str,
                  source: str = "<agreement>") -> StoredAgreement:
    """Validate and store an agreement this node grants, and attach it to its link.

    Raises AgreementError (naming line and field) for a bad document and
    PeerError when it is not this node's to grant or the receiver is not linked.
    A newer version of the same agreement id replaces the older one.
    """
    agreement = load_agreement(document, source=source)
    if agreement.from_node != own_node_id:
        raise PeerError(f"{source}: from_node is {agreement.from_node}, but this node is "
                        f"{own_node_id}; a node only writes the agreements it grants")
    with engine.begin() as conn:
        peer = conn.execute(
            sa.select(schema.peers.c.relation).where(schema.peers.c.node_id == agreement.to_node)
        ).first()
        if peer is None:
            raise PeerError(f"{source}: to_node {agreement.to_node} is not linked; "
                            "run `sitcen peer add` first")
        expected = DIRECTION_OF[Relation(peer.relation)]
        if agreement.direction != expected:
            raise PeerError(f"{source}: {agreement.to_node} is linked as {peer.relation}, "
                            f"so the direction must be {expected.value}")
        stored = conn.execute(
            sa.select(schema.agreements.c.version).where(schema.agreements.c.id == agreement.id)
        ).first()
        if stored is not None and stored.version >= agreement.version:
            raise PeerError(f"{source}: agreement {agreement.id} version {stored.version} is "
                            f"stored; a change needs a higher version")
        conn.execute(schema.agreements.delete().where(schema.agreements.c.id == agreement.id))
        conn.execute(schema.agreements.insert().values(
            id=agreement.id, version=agreement.version, document=document,
            created_at=now_micros(),
        ))
        conn.execute(schema.peers.update().where(schema.peers.c.node_id == agreement.to_node)
                     .values(agreement_id=agreement.id, updated_at=now_micros()))
    return StoredAgreement(agreement.id, agreement.version, document, agreement)


def list_agreements(engine: sa.Engine) -> list[StoredAgreement]:
    """Every stored agreement, by id."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.agreements).order_by(schema.agreements.c.id)).all()
    return [StoredAgreement(r.id, r.version, r.document, load_agreement(r.document, source=r.id))
            for r in rows]


@functools.lru_cache(maxsize=256)
def _parsed(document: str, source: str) -> Agreement:
    # Senders ask for their link's agreement on every pass; parsing the YAML each
    # time cost more than building the batch. Agreements are immutable.
    return load_agreement(document, source=source)


def governing(engine: sa.Engine, own_node_id: str, peer: Peer) -> Agreement:
    """The agreement that decides what leaves for ``peer``: the signed one, else the default."""
    if peer.agreement_id is not None:
        with engine.connect() as conn:
            document = conn.execute(
                sa.select(schema.agreements.c.document)
                .where(schema.agreements.c.id == peer.agreement_id)
            ).scalar()
        if document is not None:
            return _parsed(document, peer.agreement_id)
    direction = DIRECTION_OF[peer.relation]
    if direction is Direction.down:
        # The default down to a child covers "what concerns its area", and a
        # link does not know the child's area: until an agreement names it,
        # nothing goes down.
        nothing = default_agreement(own_node_id, peer.node_id, Direction.peer)
        return nothing.model_copy(update={"direction": Direction.down,
                                          "id": f"default-down-{own_node_id}-{peer.node_id}"})
    return default_agreement(own_node_id, peer.node_id, direction)
