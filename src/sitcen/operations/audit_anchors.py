"""Anchors of the audit trail: its head written into the journal, so peers hold copies.

The audit trail's hash chain shows any entry changed, removed or reordered,
unless someone with write access to the database rewrites the chain from that
entry to the end. An anchor makes that visible too: every so often the node
journals the number and hash of its last entry as a record of kind
``audit_anchor``; an agreement that grants the kind sends it to the peer,
which keeps it. A later rewrite no longer matches the anchors the peers hold
(``sitcen audit anchors`` on the peer, ``sitcen audit verify --anchors`` here).

Anchors are CLEAR: they say how many entries the trail had and their hash,
nothing about what the entries are.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa

from sitcen.operations.background import LeasedLoop
from sitcen.store import audit
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import StoredRecord, list_records, next_version, own_record_id, write_own
from sitcen.taxonomy import Handling
from sitcen.times import from_micros, iso

KIND = RecordKind.audit_anchor


def anchor(engine: sa.Engine, node_id: str) -> StoredRecord | None:
    """Journal the audit trail's head as an anchor, unless the last anchor holds it already
    (or the trail is empty); the anchor written, if any."""
    seq, head_hash = audit.head(engine)
    if seq == 0:
        return None
    last = list_records(engine, KIND, origin=node_id, limit=1)
    if last and int(last[0].body["seq"]) >= seq:
        return None
    body = {"node_id": node_id, "seq": seq, "hash": head_hash,
            "anchored_at": iso(from_micros(now_micros())), "handling": Handling.clear.value}
    record = next_version(engine, KIND, own_record_id(node_id, KIND, str(seq)), body, node_id)
    return write_own(engine, [record], node_id)[0]


def anchors_held(engine: sa.Engine, origin: str, limit: int = 100_000) -> list[dict[str, Any]]:
    """The anchors of ``origin``'s trail this node holds (its own, or a peer's), oldest
    first: what an inspector compares that node's trail with."""
    held = list_records(engine, KIND, origin=origin, limit=limit)
    return sorted(({"origin": r.origin, "seq": r.body["seq"], "hash": r.body["hash"],
                    "anchored_at": r.body["anchored_at"]} for r in held),
                  key=lambda a: int(a["seq"]))


@dataclass
class AnchorKeeper(LeasedLoop):
    """Anchors the trail's head every ``interval_s`` when it moved, in one process; the
    first one an interval after ``last`` (the start, on the monotonic clock)."""

    LEASE: ClassVar[str] = "audit-anchor"
    engine: sa.Engine
    node_id: str
    interval_s: float
    poll_s: float = 60.0
    holder: str = field(default_factory=lambda: f"audit-anchor:{uuid.uuid4()}")
    last: float = field(default_factory=time.monotonic)

    def work(self, moment: float) -> bool:
        if moment - self.last < self.interval_s:
            return False
        self.last = moment
        anchor(self.engine, self.node_id)
        return False

    def wait_s(self) -> float:
        return max(1.0, min(self.poll_s, self.interval_s - (time.monotonic() - self.last)))
