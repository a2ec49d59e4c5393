"""Receiving batches from linked nodes (pushed, or answering a pull); answering pulls.

A batch is applied whole or not at all: the envelope is verified first
(:func:`sitcen.exchange.envelope.open_envelope`), then every record must be a
well-formed record of a kind this node stores, from another origin; only
then are the records applied, idempotently, and the sender's cursor moved.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from pydantic import ValidationError

from sitcen.errors import NotOwnerError
from sitcen.events import EventPublic
from sitcen.exchange.envelope import (
    Batch,
    InvalidRecord,
    ReplayedBatch,
    ReplayGuard,
    open_envelope,
    seal,
)
from sitcen.exchange.identity import NodeIdentity, parse_public_key
from sitcen.exchange.links import governing, list_peers
from sitcen.exchange.outbox import next_batch
from sitcen.exchange.sharing import SectionInfo
from sitcen.store import schema
from sitcen.store.files import ACCEPTED, content_type, put_file, sha256_of
from sitcen.store.grid import cell_of_point
from sitcen.store.journal import (
    KINDS,
    LOCAL_KINDS,
    SUBJECT_FIELDS,
    Record,
    RecordKind,
    Withdrawal,
    apply_records,
    now_micros,
    retract_records,
    write_transaction,
)
from sitcen.store.records import RecordError, record_row
from sitcen.times import as_utc, to_micros

log = logging.getLogger("sitcen.exchange")


class StoredReplayGuard(ReplayGuard):
    """A replay guard whose memory is the node's database.

    Every process of a node sees the batch ids any of them accepted, and a
    restart forgets nothing: a replay is refused wherever and whenever it
    arrives within the freshness window (older batches are refused as stale).
    """

    PRUNE_EVERY = 1_000

    def __init__(self, engine: sa.Engine, **options: Any) -> None:
        super().__init__(**options)
        self.engine = engine
        self._inserts = 0

    def check_and_remember(self, sender: str, batch_id: UUID, created_at: datetime, *,
                           now: datetime) -> None:
        """Refuse a stale or already received batch; otherwise remember it in the store."""
        super().check_and_remember(sender, batch_id, created_at, now=now)
        table = schema.seen_batches
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(table.insert().values(sender=sender, batch_id=str(batch_id),
                                                   created_at=to_micros(created_at)))
        except sa.exc.IntegrityError:
            raise ReplayedBatch(f"batch {batch_id} was already received", sender=sender
                                ) from None
        self._inserts += 1
        if self._inserts % self.PRUNE_EVERY == 1:
            with write_transaction(self.engine) as conn:
                conn.execute(table.delete().where(
                    table.c.created_at < to_micros(now - self.window)))


@dataclass(frozen=True)
class Receipt:
    """What the receiver answers: the batch, how far it got, what changed."""

    batch_id: str
    sender: str
    last_seq: int
    applied: int
    skipped: int


def receive(engine: sa.Engine, own_node_id: str, data: bytes, *, guard: ReplayGuard,
            now: datetime, certified: Collection[str] | None = None) -> Receipt:
    """Verify and apply one sealed batch; raises an EnvelopeError subclass when refused.

    ``certified``: the names of the TLS client certificate it came with (mutual TLS).
    """
    trusted = {p.node_id: parse_public_key(p.public_key) for p in list_peers(engine)}
    batch = open_envelope(data, expected_receiver=own_node_id, trusted_keys=trusted,
                          seen=guard, now=now, certified=certified)
    records, withdrawals = _records(batch, own_node_id)
    for content, media_type in attached_files(batch):
        # The bytes are read again here, not taken on the sender's word: a file that is
        # not what its record says (or not a type this node accepts) is not kept, and its
        # record arrives without it, as when the sender no longer holds the bytes.
        found = content_type(content)
        if media_type not in ACCEPTED or found != media_type:
            log.warning("batch %s from %s: a file said to be %s is %s; not kept",
                        batch.header.batch_id, batch.header.sender, media_type, found)
            continue
        put_file(engine, content, media_type)  # before the records that name them
    try:
        applied = apply_records(engine, records) if records else []
        # After the records: a batch may carry a version and, later, its retraction.
        removed = retract_records(engine, withdrawals) if withdrawals else []
    except NotOwnerError as exc:
        raise InvalidRecord(f"{exc}; the batch claims another origin for it",
                            sender=batch.header.sender) from exc
    sender, last = batch.header.sender, batch.header.last_seq
    with write_transaction(engine) as conn:
        conn.execute(
            schema.peers.update()
            .where(schema.peers.c.node_id == sender, schema.peers.c.received_seq < last)
            .values(received_seq=last, updated_at=now_micros())
        )
    done = sum(applied)
    log.info("batch %s from %s: %d applied, %d already held, %d retracted",
             batch.header.batch_id, sender, done, len(records) - done, sum(removed))
    return Receipt(str(batch.header.batch_id), sender, last, done, len(records) - done)


def _records(batch: Batch, own_node_id: str) -> tuple[list[Record], list[Withdrawal]]:
    recorded_at = now_micros()
    records = []
    withdrawals = []
    for index, raw in enumerate(batch.records):
        if raw["origin"] == own_node_id:
            raise InvalidRecord(f"record {index}: this node's own record came back (a loop)",
                                sender=batch.header.sender)
        if raw["kind"] in LOCAL_KINDS:
            raise InvalidRecord(f"record {index}: kind {raw['kind']!r} never travels between "
                                "nodes", sender=batch.header.sender)
        if raw.get("retract") is True:
            withdrawals.append(_withdrawal(index, raw, batch))
        elif raw["kind"] == RecordKind.event:
            records.append(Record("event", event_row(index, raw, recorded_at, batch)))
        elif raw["kind"] == RecordKind.personal_data:
            records.append(Record("personal_data", personal_row(index, raw, recorded_at, batch)))
        elif raw["kind"] in SUBJECT_FIELDS:
            records.append(Record(raw["kind"], other_row(index, raw, recorded_at, batch)))
        else:
            raise InvalidRecord(f"record {index}: kind {raw['kind']!r} is not stored here",
                                sender=batch.header.sender)
    return records, withdrawals


def attached_files(batch: Batch) -> list[tuple[bytes, str]]:
    """The file bytes that travel with attachment records, each checked against its record.

    The bytes must hash to the record's ``sha256`` and have its ``size``; an
    attachment may come without bytes (the peer no longer holds them).
    """
    found = []
    for index, raw in enumerate(batch.records):
        if "content" not in raw:
            continue
        body = raw.get("body")
        if raw["kind"] != RecordKind.attachment or not isinstance(body, dict):
            raise InvalidRecord(f"record {index}: only an attachment carries file content",
                                sender=batch.header.sender)
        try:
            content = base64.b64decode(raw["content"], validate=True)
        except (TypeError, ValueError) as exc:
            raise InvalidRecord(f"record {index}: file content is not base64",
                                sender=batch.header.sender) from exc
        media_type = body.get("media_type")
        if sha256_of(content) != body.get("sha256") or len(content) != body.get("size") or \
                not isinstance(media_type, str) or len(media_type) > 100:
            raise InvalidRecord(f"record {index}: file content does not match its sha256, "
                                "size or media type", sender=batch.header.sender)
        found.append((content, media_type))
    return found


def _withdrawal(index: int, raw: dict[str, Any], batch: Batch) -> Withdrawal:
    reason = raw.get("reason", "")
    if raw["body"] is not None or not isinstance(reason, str) or len(reason) > 500:
        raise InvalidRecord(f"record {index}: a retraction has no body and a short reason",
                            sender=batch.header.sender)
    if raw["kind"] not in KINDS:
        raise InvalidRecord(f"record {index}: kind {raw['kind']!r} is not stored here",
                            sender=batch.header.sender)
    return Withdrawal(raw["kind"], raw["origin"], raw["id"], raw["version"], reason,
                      list(raw["provenance"]))


def other_row(index: int, raw: dict[str, Any], recorded_at: int, batch: Batch
               ) -> dict[str, Any]:
    body = raw["body"]
    if not isinstance(body, dict):
        raise InvalidRecord(f"record {index}: a {raw['kind']} needs a body",
                            sender=batch.header.sender)
    sharing = raw.get("sharing")
    if sharing is not None and not isinstance(sharing, dict):
        raise InvalidRecord(f"record {index}: 'sharing' must be an object",
                            sender=batch.header.sender)
    try:
        return record_row(raw["kind"], raw["id"], raw["origin"], raw["version"], body,
                          recorded_at=recorded_at, provenance=list(raw["provenance"]),
                          sharing=sharing or {})
    except RecordError as exc:
        raise InvalidRecord(f"record {index}: {exc}", sender=batch.header.sender) from exc


def event_row(index: int, raw: dict[str, Any], recorded_at: int, batch: Batch
               ) -> dict[str, Any]:
    body = raw["body"]
    try:
        event = EventPublic.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRecord(f"record {index}: body.{where}: {first['msg']}",
                            sender=batch.header.sender) from exc
    if (str(event.id), event.origin, event.version) != (raw["id"], raw["origin"],
                                                        raw["version"]):
        raise InvalidRecord(f"record {index}: body and record disagree on id/origin/version",
                            sender=batch.header.sender)
    lon = event.location.lon if event.location else None
    lat = event.location.lat if event.location else None
    cell = cell_of_point(lon, lat) if lon is not None and lat is not None else None
    stored = {**body, "provenance": raw["provenance"], "sharing": raw.get("sharing")}
    return {
        "id": raw["id"], "origin": raw["origin"], "version": raw["version"],
        "type": event.type, "category": event.category,
        "occurred_at": to_micros(as_utc(event.occurred_at)),
        "reported_at": to_micros(as_utc(event.reported_at)) if event.reported_at else None,
        "recorded_at": recorded_at, "lon": lon, "lat": lat, "cell": cell,
        "section_id": event.section_id, "country": event.country,
        "impact_level": event.impact_level, "status": event.status,
        "handling": event.handling,
        "follow_up_of": str(event.follow_up_of) if event.follow_up_of else None,
        "body": orjson.dumps(stored).decode(),
        "provenance": orjson.dumps(raw["provenance"]).decode(),
        "sharing": orjson.dumps(raw.get("sharing")).decode(),
    }


def personal_row(index: int, raw: dict[str, Any], recorded_at: int, batch: Batch
                  ) -> dict[str, Any]:
    body = raw["body"]
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if not isinstance(event_id, str) or not isinstance(body.get("subjects"), list):
        raise InvalidRecord(f"record {index}: personal data needs event_id and subjects",
                            sender=batch.header.sender)
    return {"id": raw["id"], "origin": raw["origin"], "version": raw["version"],
            "event_id": event_id, "recorded_at": recorded_at,
            "body": orjson.dumps(body).decode()}


def answer_pull(engine: sa.Engine, identity: NodeIdentity, request: bytes, *,
                guard: ReplayGuard, now: datetime,
                sections: Mapping[str, SectionInfo] | None = None,
                certified: Collection[str] | None = None) -> bytes:
    """Answer a linked node's pull: the next sealed batch for it after the cursor it names.

    The request is itself a sealed batch with no records whose ``last_seq`` is
    the puller's cursor on this node's journal, so it is authenticated, fresh
    and not replayable like any batch. Naming a cursor acknowledges everything
    up to it. An empty batch at the same cursor means "caught up". ``certified`` as
    for :func:`receive`.
    """
    peers = {p.node_id: p for p in list_peers(engine)}
    trusted = {name: parse_public_key(p.public_key) for name, p in peers.items()}
    asked = open_envelope(request, expected_receiver=identity.node_id, trusted_keys=trusted,
                          seen=guard, now=now, certified=certified)
    if asked.records:
        raise InvalidRecord("a pull request carries no records", sender=asked.header.sender)
    peer = peers[asked.header.sender]
    after = asked.header.last_seq
    with write_transaction(engine) as conn:
        conn.execute(
            schema.peers.update()
            .where(schema.peers.c.node_id == peer.node_id, schema.peers.c.acked_seq < after)
            .values(acked_seq=after, updated_at=now_micros())
        )
    cursor = replace(peer, acked_seq=after)
    batch = next_batch(engine, identity.node_id, cursor,
                       governing(engine, identity.node_id, peer), now=now, sections=sections)
    if batch is None:
        batch = Batch.new(sender=identity.node_id, receiver=peer.node_id, first_seq=after,
                          last_seq=after, records=[], created_at=now)
    return seal(batch, identity)
