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
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.envelope import Batch
from sitcen.exchange.links import Peer
from sitcen.exchange.sharing import SectionInfo, SharedRecord, Sharing, share, waiting
from sitcen.store import schema
from sitcen.store.journal import JournalEntry, RecordKind, read_journal

DEFAULT_BATCH = 5_000


def _event_rows(conn: sa.Connection, entries: list[JournalEntry]) -> dict[str, Any]:
    """The current rows of the events a page of journal entries speaks of, in one query."""
    ids = list({e.record_id for e in entries if e.kind == RecordKind.event})
    e = schema.events
    rows: dict[str, Any] = {}
    for start in range(0, len(ids), 900):  # stay under every driver's parameter limit
        for row in conn.execute(
            sa.select(e.c.id, e.c.version, e.c.body, e.c.provenance, e.c.sharing)
            .where(e.c.id.in_(ids[start:start + 900]))
        ):
            rows[row.id] = row
    return rows


def _holding(conn: sa.Connection, entry: JournalEntry, own_node_id: str,
             events: dict[str, Any]) -> tuple[SharedRecord, list[str]] | None:
    """The version a journal entry wrote, as the sharing function takes it, and its provenance.

    A record received from another node comes with the restrictions it
    arrived with and the nodes it came through; the node's own records have
    no restrictions yet and start their provenance here.
    """
    if entry.kind == RecordKind.event:
        row = events.get(entry.record_id)
        if row is None or row.version != entry.version:
            return None  # superseded: the newer version has its own journal entry
        body = orjson.loads(row.body)
        body.pop("provenance", None)
        body.pop("sharing", None)
        if row.provenance is None:
            if entry.origin != own_node_id:
                return None  # another node's record with no known restrictions: stays
            return SharedRecord("event", entry.origin, entry.record_id, entry.version, body), []
        received = Sharing.from_dict(orjson.loads(row.sharing or "{}"))
        return (SharedRecord("event", entry.origin, entry.record_id, entry.version, body,
                             sharing=received), list(orjson.loads(row.provenance)))
    if entry.kind == RecordKind.personal_data:
        pd = conn.execute(
            sa.select(schema.personal_data.c.body, schema.personal_data.c.event_id)
            .where(schema.personal_data.c.id == entry.record_id)
        ).first()
        event = conn.execute(
            sa.select(schema.events.c.body, schema.events.c.version, schema.events.c.provenance)
            .where(schema.events.c.id == (pd.event_id if pd else None))
        ).first()
        if pd is None or event is None or entry.origin != own_node_id:
            return None  # personal data is never relayed
        about = SharedRecord("event", entry.origin, pd.event_id, event.version,
                             orjson.loads(event.body))
        return (SharedRecord("personal_data", entry.origin, entry.record_id, entry.version,
                             orjson.loads(pd.body), about=about), [])
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

    Received records are relayed under the restrictions they arrived with
    (the sharing function refuses what the originator did not allow onward).
    """
    if agreement.to_node != peer.node_id or agreement.from_node != own_node_id:
        raise ValueError(f"agreement {agreement.id} does not govern {own_node_id} -> "
                         f"{peer.node_id}")
    records: list[dict[str, object]] = []
    with engine.connect() as conn:
        entries = read_journal(conn, after=peer.acked_seq, limit=limit)
        if not entries:
            return None
        granted = {str(kind) for kind in agreement.kinds}
        events = _event_rows(conn, [e for e in entries if e.kind in granted])
        last_seq = entries[-1].seq
        for i, entry in enumerate(entries):
            if entry.kind not in granted:
                continue  # cannot leave on this link: only moves the cursor
            held = _holding(conn, entry, own_node_id, events)
            if held is None:
                continue
            record, provenance = held
            if peer.node_id in provenance:
                continue  # never back to a node it came through
            if waiting(record, agreement, now):
                # Delayed by the agreement: stop before it; it goes when its time comes.
                if i == 0:
                    return None
                last_seq = entries[i - 1].seq
                break
            shared = share(record, agreement, now=now, sections=sections)
            if shared is not None:
                records.append({**shared.to_dict(), "provenance": [*provenance, own_node_id]})
    return Batch.new(sender=own_node_id, receiver=peer.node_id, first_seq=entries[0].seq,
                     last_seq=last_seq, records=records, created_at=now)
