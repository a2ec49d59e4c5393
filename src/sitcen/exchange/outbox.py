"""What a node sends next on a link: the journal after its cursor, through the sharing function.

:func:`next_batch` reads the journal from the peer's acknowledged cursor,
turns each change into what the governing agreement lets the peer see (via
:func:`sitcen.exchange.sharing.share`, which alone decides), and wraps the
result in a :class:`~sitcen.exchange.envelope.Batch` covering the whole
journal range read — records that may not leave still move the cursor. The
transport (push with acknowledgements, pull for catch-up) builds on this.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.envelope import Batch
from sitcen.exchange.links import Peer
from sitcen.exchange.sharing import (
    BELONGING_KINDS,
    DAILY_AGGREGATE,
    Retraction,
    SectionInfo,
    SharedRecord,
    Sharing,
    retraction,
    share,
    waiting,
)
from sitcen.store import schema
from sitcen.store.files import get_file
from sitcen.store.journal import SUBJECT_FIELDS, JournalEntry, RecordKind, read_journal
from sitcen.store.sql import select_in

DEFAULT_BATCH = 5_000
#: File bytes a batch carries at most (base64 makes them a third larger on the wire); an
#: attachment larger than this alone still goes, in a batch of its own.
FILE_BYTES_PER_BATCH = 16 * 1024 * 1024


def _rows(conn: sa.Connection, table: sa.Table, ids: set[str]) -> dict[str, Any]:
    """Current rows of the given ids, in as few queries as the drivers allow."""
    query = sa.select(table.c.id, table.c.origin, table.c.version, table.c.body,
                      table.c.provenance, table.c.sharing)
    return {row.id: row for row in select_in(conn, query, table.c.id, ids)}


def _as_shared(kind: str, row: Any, own_node_id: str) -> tuple[SharedRecord, list[str]] | None:
    """A stored row as the sharing function takes it, with the nodes it came through.

    A record received from another node comes with the restrictions it
    arrived with; the node's own records have none yet and start their
    provenance here. Another node's record with no known restrictions stays.
    """
    body = orjson.loads(row.body)
    body.pop("provenance", None)
    body.pop("sharing", None)
    if row.provenance is None:
        if row.origin != own_node_id:
            return None
        return SharedRecord(kind, row.origin, row.id, row.version, body), []
    received = Sharing.from_dict(orjson.loads(row.sharing or "{}"))
    return (SharedRecord(kind, row.origin, row.id, row.version, body, sharing=received),
            list(orjson.loads(row.provenance)))


class _Page:
    """The rows a page of journal entries speaks of, fetched together."""

    def __init__(self, conn: sa.Connection, entries: list[JournalEntry]) -> None:
        self.conn = conn
        ids = {e.record_id for e in entries if e.kind == RecordKind.event}
        self.others = _rows(conn, schema.records,
                            {e.record_id for e in entries if e.kind in SUBJECT_FIELDS})
        ids |= {str(orjson.loads(r.body).get("event_id")) for r in self.others.values()
                if orjson.loads(r.body).get("event_id")}
        self.events = _rows(conn, schema.events, ids)

    def event(self, event_id: Any, own_node_id: str) -> SharedRecord | None:
        row = self.events.get(event_id) if isinstance(event_id, str) else None
        held = None if row is None else _as_shared(RecordKind.event, row, own_node_id)
        return None if held is None else held[0]

    def record(self, record_id: Any, own_node_id: str) -> SharedRecord | None:
        """Any record this node holds by id (a request, an operation, an event...)."""
        if not isinstance(record_id, str):
            return None
        r = schema.records
        row = self.conn.execute(
            sa.select(r.c.id, r.c.kind, r.c.origin, r.c.version, r.c.body, r.c.provenance,
                      r.c.sharing).where(r.c.id == record_id)).first()
        if row is None:
            return self.event(record_id, own_node_id) or self._event_row(record_id, own_node_id)
        held = _as_shared(row.kind, row, own_node_id)
        return None if held is None else held[0]

    def _event_row(self, event_id: str, own_node_id: str) -> SharedRecord | None:
        row = _rows(self.conn, schema.events, {event_id}).get(event_id)
        held = None if row is None else _as_shared(RecordKind.event, row, own_node_id)
        return None if held is None else held[0]

    def about(self, record: SharedRecord, own_node_id: str) -> SharedRecord:
        """``record`` with the record it belongs to or forwards, as the sharing function needs."""
        if record.kind in BELONGING_KINDS:
            about = self.record(record.body.get(BELONGING_KINDS[record.kind]), own_node_id)
        elif record.kind == RecordKind.request_for_information and isinstance(
                record.body.get("forwarded_from"), dict):
            about = self.record(record.body["forwarded_from"].get("id"), own_node_id)
        else:
            return record
        return replace(record, about=about)

    def holding(self, entry: JournalEntry, own_node_id: str
                ) -> tuple[SharedRecord, list[str]] | None:
        """The version a journal entry wrote, as the sharing function takes it.

        None when a newer version superseded it (that one has its own entry)
        or it is not this node's to send.
        """
        if entry.kind == RecordKind.event or entry.kind in SUBJECT_FIELDS:
            table_rows = self.events if entry.kind == RecordKind.event else self.others
            row = table_rows.get(entry.record_id)
            if row is None or row.version != entry.version:
                return None
            held = _as_shared(entry.kind, row, own_node_id)
            if held is not None and entry.kind == RecordKind.event_action:
                record, provenance = held
                held = (replace(record, about=self.event(record.body.get("event_id"),
                                                         own_node_id)), provenance)
            elif held is not None:
                held = (self.about(held[0], own_node_id), held[1])
            return held
        if entry.kind == RecordKind.personal_data:
            pd = self.conn.execute(
                sa.select(schema.personal_data.c.body, schema.personal_data.c.event_id)
                .where(schema.personal_data.c.id == entry.record_id)
            ).first()
            if pd is None or entry.origin != own_node_id:
                return None  # personal data is never relayed
            about = self.event(pd.event_id, own_node_id)
            if about is None:
                return None
            return (SharedRecord("personal_data", entry.origin, entry.record_id, entry.version,
                                 orjson.loads(pd.body), about=about), [])
        return None

    def earlier_versions(self, record: SharedRecord) -> list[SharedRecord]:
        """The versions of a record before ``record``, as this node keeps them."""
        history = (schema.event_versions if record.kind == RecordKind.event
                   else schema.record_versions)
        if record.kind != RecordKind.event and record.kind not in SUBJECT_FIELDS:
            return []
        rows = self.conn.execute(sa.select(history.c.version, history.c.body)
                                 .where(history.c.id == record.id,
                                        history.c.version < record.version))
        return [replace(record, version=row.version, body=orjson.loads(row.body))
                for row in rows]

    def withdrawal(self, entry: JournalEntry) -> tuple[Retraction, list[str]] | None:
        """The retraction a journal entry notes, with the nodes the record came through."""
        row = self.conn.execute(sa.select(schema.retractions)
                                .where(schema.retractions.c.id == entry.record_id)).first()
        if row is None:
            return None
        return (Retraction(row.kind, row.origin, row.id, row.version, row.reason),
                list(orjson.loads(row.provenance)))


def held_records(conn: sa.Connection, entries: list[JournalEntry], own_node_id: str
                 ) -> list[tuple[JournalEntry, SharedRecord, list[str]]]:
    """The records journal entries wrote, as :func:`share` takes them, with their provenance.

    Entries whose version a newer one superseded, and records that are not
    this node's to send, are left out (as :func:`next_batch` leaves them out).
    Other edges that serve records to partners (TAXII) read the journal
    through this, then ask :func:`share` what each partner may see.
    """
    page = _Page(conn, entries)
    held = []
    for entry in entries:
        found = page.holding(entry, own_node_id)
        if found is not None:
            held.append((entry, found[0], found[1]))
    return held


def _file_content(engine: sa.Engine, body: Mapping[str, Any]) -> bytes | None:
    """The bytes an attachment record names, to travel with it (None if not held here)."""
    digest = body.get("sha256")
    stored = get_file(engine, digest) if isinstance(digest, str) else None
    return None if stored is None else stored.content


def _was_shared(page: _Page, record: SharedRecord, agreement: Agreement) -> bool:
    """Whether the peer may hold an earlier version: one of them was in scope."""
    return any(retraction(old, agreement) is None for old in page.earlier_versions(record))


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
    file_bytes = 0
    with engine.connect() as conn:
        entries = read_journal(conn, after=peer.acked_seq, limit=limit)
        if not entries:
            return None
        granted = {str(kind) for kind in agreement.kinds} | {DAILY_AGGREGATE}
        if RecordKind.event in granted:
            granted.add(RecordKind.retraction)
        page = _Page(conn, [e for e in entries if e.kind in granted])
        last_seq = entries[-1].seq
        for i, entry in enumerate(entries):
            if entry.kind not in granted:
                continue  # cannot leave on this link: only moves the cursor
            if entry.kind == RecordKind.retraction:
                withdrawn = page.withdrawal(entry)
                if withdrawn is not None and peer.node_id not in withdrawn[1] and (
                        withdrawn[0].kind in granted):
                    records.append({**withdrawn[0].to_dict(), "body": None,
                                    "provenance": [*withdrawn[1], own_node_id]})
                continue
            held = page.holding(entry, own_node_id)
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
                out = {**shared.to_dict(), "provenance": [*provenance, own_node_id]}
                if shared.kind == RecordKind.attachment:
                    content = _file_content(engine, shared.body)
                    if content is not None:
                        if records and file_bytes + len(content) > FILE_BYTES_PER_BATCH:
                            last_seq = entries[i - 1].seq  # the rest in the next batch
                            break
                        file_bytes += len(content)
                        out["content"] = base64.b64encode(content).decode()
                records.append(out)
                continue
            withdrawn_now = retraction(record, agreement)
            if withdrawn_now is not None and record.version > 1 and _was_shared(
                    page, record, agreement):
                # It fell out of scope (handling raised, rejected, moved away):
                # the peer must drop the earlier version it holds.
                records.append({**withdrawn_now.to_dict(), "body": None,
                                "provenance": [*provenance, own_node_id]})
    return Batch.new(sender=own_node_id, receiver=peer.node_id, first_seq=entries[0].seq,
                     last_seq=last_seq, records=records, created_at=now)
