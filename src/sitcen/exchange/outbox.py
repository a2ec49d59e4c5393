"""What a node sends next on a link: the journal after its cursor, through the sharing function.

:func:`next_batch` reads the journal from the peer's acknowledged cursor,
turns each change into what the governing agreement lets the peer see (via
:func:`sitcen.exchange.sharing.share`, which alone decides), and wraps the
result in a :class:`~sitcen.exchange.envelope.Batch` covering the whole
journal range read — records that may not leave still move the cursor. The
transport (push with acknowledgements, pull for catch-up) builds on this.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.envelope import Batch
from sitcen.exchange.links import Peer
from sitcen.exchange.sharing import SectionInfo, SharedRecord, share
from sitcen.store import schema
from sitcen.store.journal import JournalEntry, RecordKind, read_journal, record_body

DEFAULT_BATCH = 1_000


def _own_record(conn: sa.Connection, entry: JournalEntry) -> SharedRecord | None:
    """The version a journal entry wrote, as the sharing function takes it."""
    if entry.kind == RecordKind.event:
        body = record_body(conn, entry)
        if body is None:
            return None
        return SharedRecord("event", entry.origin, entry.record_id, entry.version,
                            orjson.loads(body))
    if entry.kind == RecordKind.personal_data:
        row = conn.execute(
            sa.select(schema.personal_data.c.body, schema.personal_data.c.event_id)
            .where(schema.personal_data.c.id == entry.record_id)
        ).first()
        event = conn.execute(
            sa.select(schema.events.c.body, schema.events.c.version)
            .where(schema.events.c.id == (row.event_id if row else None))
        ).first()
        if row is None or event is None:
            return None
        about = SharedRecord("event", entry.origin, row.event_id, event.version,
                             orjson.loads(event.body))
        return SharedRecord("personal_data", entry.origin, entry.record_id, entry.version,
                            orjson.loads(row.body), about=about)
    return None


def next_batch(
    engine: sa.Engine,
    own_node_id: str,
    peer: Peer,
    agreement: Agreement,
    *,
    now: datetime,
    sections: Mapping[str, SectionInfo] | None = None,
    limit: int = DEFAULT_BATCH,
) -> Batch | None:
    """The next batch for ``peer`` after its acknowledged cursor, or None when caught up.

    Only records this node owns are sent for now: a received record may be
    relayed only under the restrictions it arrived with, which the store does
    not keep yet (docs/federation.md).
    """
    if agreement.to_node != peer.node_id or agreement.from_node != own_node_id:
        raise ValueError(f"agreement {agreement.id} does not govern {own_node_id} -> "
                         f"{peer.node_id}")
    records: list[dict[str, object]] = []
    with engine.connect() as conn:
        entries = read_journal(conn, after=peer.acked_seq, limit=limit)
        if not entries:
            return None
        for entry in entries:
            if entry.origin != own_node_id:
                continue
            record = _own_record(conn, entry)
            shared = share(record, agreement, now=now, sections=sections) if record else None
            if shared is not None:
                records.append({**shared.to_dict(), "provenance": [own_node_id]})
    return Batch.new(sender=own_node_id, receiver=peer.node_id, first_seq=entries[0].seq,
                     last_seq=entries[-1].seq, records=records, created_at=now)
