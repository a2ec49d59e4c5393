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
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.envelope import Batch
from sitcen.exchange.links import Peer
from sitcen.exchange.sharing import (
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
from sitcen.store.journal import SUBJECT_FIELDS, JournalEntry, RecordKind, read_journal

DEFAULT_BATCH = 5_000


def _rows(conn: sa.Connection, table: sa.Table, ids: set[str]) -> dict[str, Any]:
    """Current rows of the given ids, in as few queries as the drivers allow."""
    wanted = list(ids)
    rows: dict[str, Any] = {}
    for start in range(0, len(wanted), 900):  # stay under every driver's parameter limit
        for row in conn.execute(
            sa.select(table.c.id, table.c.origin, table.c.version, table.c.body,
                      table.c.provenance, table.c.sharing)
            .where(table.c.id.in_(wanted[start:start + 900]))
        ).all():
            rows[row.id] = row
    return rows


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


def _was_shared(page: _Page, record: SharedRecord, agreement: Agreement) -> bool:
    """Whether the peer may hold an earlier version: one of them was in scope."""
    return any(retraction(old, agreement) is None for old in page.earlier_versions(record))


class Delayed(Enum):
    """An entry the agreement holds back for now: the batch ends before it."""

    delayed = "delayed"


@dataclass(frozen=True)
class _Link:
    """What decides, for one batch, what an entry becomes on the wire."""

    own_node_id: str
    peer_id: str
    agreement: Agreement
    granted: frozenset[str]
    now: datetime
    sections: Mapping[str, SectionInfo] | None


def _granted(agreement: Agreement) -> frozenset[str]:
    """The journal kinds that may leave on a link: the agreement's, its daily counts, and
    retractions when events may leave."""
    granted = {str(kind) for kind in agreement.kinds} | {DAILY_AGGREGATE}
    if RecordKind.event in granted:
        granted.add(RecordKind.retraction)
    return frozenset(granted)


def _passed_on_withdrawal(page: _Page, entry: JournalEntry, link: _Link
                          ) -> dict[str, object] | None:
    """A retraction this node received, passed on unless the peer is where it came from."""
    withdrawn = page.withdrawal(entry)
    if withdrawn is None:
        return None
    withdrawal, provenance = withdrawn
    if link.peer_id in provenance or withdrawal.kind not in link.granted:
        return None
    return {**withdrawal.to_dict(), "body": None, "provenance": [*provenance, link.own_node_id]}


def _shared_version(page: _Page, entry: JournalEntry, link: _Link
                    ) -> dict[str, object] | Delayed | None:
    """What the peer gets of the version an entry wrote, if anything.

    The shared record; or a retraction when this version fell out of scope
    (handling raised, rejected, moved away) after an earlier one was shared;
    or :attr:`Delayed.delayed` when the agreement holds it back for now.
    """
    held = page.holding(entry, link.own_node_id)
    if held is None:
        return None  # superseded, or not this node's to send
    record, provenance = held
    if link.peer_id in provenance:
        return None  # never back to a node it came through
    if waiting(record, link.agreement, link.now):
        return Delayed.delayed
    route = [*provenance, link.own_node_id]
    shared = share(record, link.agreement, now=link.now, sections=link.sections)
    if shared is not None:
        # share() gave the record a body of its own: no need to copy it again.
        return {**shared.to_dict(copy=False), "provenance": route}
    withdrawn = retraction(record, link.agreement)
    if withdrawn is not None and record.version > 1 and _was_shared(page, record,
                                                                   link.agreement):
        return {**withdrawn.to_dict(), "body": None, "provenance": route}
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

    Every entry read moves the cursor, whether or not anything of it leaves;
    a record the agreement delays ends the batch before it (None when it is
    the first entry), so the cursor waits for it. Received records are
    relayed under the restrictions they arrived with (the sharing function
    refuses what the originator did not allow onward).
    """
    if agreement.to_node != peer.node_id or agreement.from_node != own_node_id:
        raise ValueError(f"agreement {agreement.id} does not govern {own_node_id} -> "
                         f"{peer.node_id}")
    link = _Link(own_node_id, peer.node_id, agreement, _granted(agreement), now, sections)
    records: list[dict[str, object]] = []
    with engine.connect() as conn:
        entries = read_journal(conn, after=peer.acked_seq, limit=limit)
        if not entries:
            return None
        page = _Page(conn, [e for e in entries if e.kind in link.granted])
        last_seq = entries[-1].seq
        for i, entry in enumerate(entries):
            if entry.kind not in link.granted:
                continue  # cannot leave on this link: only moves the cursor
            outgoing: dict[str, object] | Delayed | None
            if entry.kind == RecordKind.retraction:
                outgoing = _passed_on_withdrawal(page, entry, link)
            else:
                outgoing = _shared_version(page, entry, link)
            if outgoing is Delayed.delayed:
                if i == 0:
                    return None
                last_seq = entries[i - 1].seq
                break
            if outgoing is not None:
                records.append(outgoing)
    return Batch.new(sender=own_node_id, receiver=peer.node_id, first_seq=entries[0].seq,
                     last_seq=last_seq, records=records, created_at=now)
