"""TAXII 2.1 collections: one per sharing agreement this node grants, filled by ``share()``.

A collection is the journal read from a cursor (like the outbox that feeds a
linked node), each change passed through
:func:`sitcen.exchange.sharing.share` under the collection's agreement and
converted to STIX by :mod:`sitcen.interop.stix`. Nothing else decides what a partner
sees: a record the agreement does not grant is never converted at all.

``date_added`` of a record is the time its version was journaled; the
``next`` cursor of a page is the journal sequence number of its last record,
so records journaled in the same microsecond are never skipped between pages.
Only the current version of a record is listed; a record whose current version
the agreement no longer grants disappears (its earlier versions too).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.links import governing, list_peers
from sitcen.exchange.outbox import held_records
from sitcen.exchange.sharing import SectionInfo, SharedRecord, share, waiting
from sitcen.interop.stix import STIX_KINDS, STIX_MEDIA_TYPE, to_stix
from sitcen.store import schema
from sitcen.store.journal import JournalEntry, record_body
from sitcen.times import from_micros

_COLLECTION_NAMESPACE = uuid.UUID("9e3b6a41-2f7c-4d18-8a55-c0d4e7b1f932")
#: Journal entries read per query while filling a page.
_CHUNK = 500


@dataclass(frozen=True)
class Collection:
    """A TAXII collection: what ``agreement.to_node`` may read of this node."""

    id: str
    agreement: Agreement

    @property
    def title(self) -> str:
        """What people call it."""
        return f"Shared with {self.agreement.to_node} under {self.agreement.id}"

    def resource(self) -> dict[str, Any]:
        """The TAXII collection resource."""
        purpose = self.agreement.purpose or "records this node shares under the agreement"
        return {"id": self.id, "title": self.title, "description": purpose,
                "alias": self.agreement.id, "can_read": True, "can_write": False,
                "media_types": [STIX_MEDIA_TYPE]}


def collection_id(own_node_id: str, agreement_id: str) -> str:
    """The stable id of the collection of an agreement."""
    return str(uuid.uuid5(_COLLECTION_NAMESPACE, f"{own_node_id}\x1f{agreement_id}"))


def collections(engine: sa.Engine, own_node_id: str) -> list[Collection]:
    """One collection per linked node whose governing agreement grants a kind with a STIX form."""
    found = []
    for peer in list_peers(engine):
        agreement = governing(engine, own_node_id, peer)
        if any(str(kind) in STIX_KINDS for kind in agreement.kinds):
            found.append(Collection(collection_id(own_node_id, agreement.id), agreement))
    return sorted(found, key=lambda c: c.agreement.id)


@dataclass(frozen=True)
class Item:
    """One record version as a collection serves it."""

    seq: int
    date_added: datetime
    record: SharedRecord
    objects: list[dict[str, Any]]  # the record's own objects
    references: list[dict[str, Any]]  # identities, markings, section locations
    #: What a page serves of this item: its and its references' objects not
    #: served earlier in the page (and kept by the page's filter).
    page_objects: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    """Records of a collection after a cursor, and whether more follow."""

    items: list[Item]
    more: bool
    next_seq: int


@dataclass(frozen=True)
class Source:
    """What a collection is read with: the node's database, identity and geography."""

    engine: sa.Engine
    own_node_id: str
    node_names: Mapping[str, str]
    sections: Mapping[str, SectionInfo]


def _entries(conn: sa.Connection, after_seq: int, added_after: int | None,
             kinds: list[str], limit: int, record_id: str | None = None) -> list[JournalEntry]:
    j = schema.journal
    query = (sa.select(j).where(j.c.seq > after_seq, j.c.kind.in_(kinds))
             .order_by(j.c.seq).limit(limit))
    if added_after is not None:
        query = query.where(j.c.recorded_at > added_after)
    if record_id is not None:
        query = query.where(j.c.record_id == record_id)
    return [JournalEntry(**row._mapping) for row in conn.execute(query)]


def _item(source: Source, collection: Collection, entry: JournalEntry, record: SharedRecord,
          provenance: list[str], now: datetime) -> Item | None:
    if collection.agreement.to_node in provenance:
        return None  # never back to a node it came through (as the outbox)
    shared = share(record, collection.agreement, now=now, sections=source.sections)
    if shared is None:
        return None
    converted = to_stix(shared, recorded_at=from_micros(entry.recorded_at),
                        sections=source.sections, node_names=source.node_names)
    if converted is None:
        return None
    return Item(entry.seq, from_micros(entry.recorded_at), shared, converted.objects,
                converted.references)


def _granted(collection: Collection) -> list[str]:
    return [str(k) for k in collection.agreement.kinds if str(k) in STIX_KINDS]


def read_page(source: Source, collection: Collection, *, now: datetime, after_seq: int = 0,
              added_after: int | None = None, limit: int = 100,
              keep: Callable[[dict[str, Any]], bool] | None = None) -> Page:
    """Records after the cursor ``after_seq`` (and after ``added_after``, µs), ``limit`` objects.

    ``limit`` counts the objects ``keep`` keeps (all by default), each once per
    page; a record is never split, so a page holds fewer objects than
    ``limit`` rather than part of a record (a single record larger than the
    limit still comes whole). A record the agreement holds back for a delay
    ends the page before it, so a client that pages on never passes over it:
    it comes when its time comes.
    """
    items: list[Item] = []
    seen: set[str] = set()
    count = 0
    cursor = after_seq
    kinds = _granted(collection)
    with source.engine.connect() as conn:
        while True:
            entries = _entries(conn, cursor, added_after, kinds, _CHUNK)
            if not entries:
                return Page(items, False, cursor)
            for entry, record, provenance in held_records(conn, entries, source.own_node_id):
                if waiting(record, collection.agreement, now):
                    return Page(items, False, entry.seq - 1)
                item = _item(source, collection, entry, record, provenance, now)
                if item is None:
                    cursor = entry.seq
                    continue
                fresh = [o for o in (*item.references, *item.objects)
                         if o["id"] not in seen and (keep is None or keep(o))]
                if items and count + len(fresh) > limit:
                    return Page(items, True, items[-1].seq)
                seen.update(o["id"] for o in fresh)
                count += len(fresh)
                items.append(replace(item, page_objects=fresh))
                cursor = entry.seq
                if count >= limit:
                    more = bool(_entries(conn, cursor, added_after, kinds, 1))
                    return Page(items, more, cursor)
            cursor = entries[-1].seq


def find_item(source: Source, collection: Collection, stix_id: str, *,
              now: datetime) -> Item | None:
    """The current record version whose objects include ``stix_id``, or None.

    Ids are derived one way (uuid5), so this reads the collection through;
    the cost grows with the journal.
    """
    cursor = 0
    while True:
        page = read_page(source, collection, now=now, after_seq=cursor, limit=10 * _CHUNK)
        for item in page.items:
            if any(obj["id"] == stix_id for obj in (*item.objects, *item.references)):
                return item
        if not page.more:
            return None
        cursor = page.next_seq


def versions_of(source: Source, collection: Collection, item: Item, *,
                now: datetime) -> list[Item]:
    """Every version of an item's record the agreement grants, oldest first.

    Empty when the current version is not granted: a record that fell out of
    an agreement is withdrawn with its history.
    """
    record = item.record
    kinds = [record.kind]
    with source.engine.connect() as conn:
        entries = _entries(conn, 0, None, kinds, 100_000, record_id=record.id)
        by_version = {e.version: e for e in entries}  # a version journaled twice: the last
        held = held_records(conn, entries[-1:], source.own_node_id)
        if not held or _item(source, collection, *held[0], now) is None:
            return []
        _, latest, provenance = held[0]
        versions: list[Item] = []
        for version, entry in sorted(by_version.items()):
            text = record_body(conn, entry)
            if text is None:
                continue
            body = orjson.loads(text)
            body.pop("provenance", None)
            body.pop("sharing", None)
            older = SharedRecord(latest.kind, latest.origin, latest.id, version, body,
                                 sharing=latest.sharing, about=latest.about)
            found = _item(source, collection, entry, older, provenance, now)
            if found is not None:
                versions.append(found)
    return versions
