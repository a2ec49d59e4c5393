"""After a restore: ask the linked nodes back for what the backup did not hold (docs/backup.md).

A node restored from a backup lacks what it wrote and received after the backup. Its
linked nodes hold much of it:

- what they sent it: an ordinary pull from the restored node's cursor (which the backup
  put back where it was) sends it again;
- what it wrote itself and shared with them: a *recovery request* asks each linked node
  for the records of the restored node's origin that it journaled since a given time.
  It is a sealed batch without records, like a pull, sent to ``/exchange/recover``: its
  ``first_seq`` is the answering node's journal position to continue after (0 at first)
  and its ``last_seq`` the time, in microseconds, from which records are asked back. The
  answer is a sealed batch of the records found, with the range of the answering node's
  journal it covered; an answer that covers nothing new ends the exchange.

A copy a linked node holds may have been reduced by the agreement it came under (a
place coarsened, personal data withheld): only whole copies become the node's records
again; reduced ones are counted and named in the report, never taken for the original.
The recovered versions are written with their own numbers, so the node's next version
of a record follows the one its peers already hold.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import PersonalData, Precision
from sitcen.exchange.envelope import (
    Batch,
    EnvelopeError,
    InvalidRecord,
    ReplayGuard,
    open_envelope,
    seal,
)
from sitcen.exchange.identity import NodeIdentity, parse_public_key
from sitcen.exchange.inbox import attached_files, event_row, other_row, personal_row
from sitcen.exchange.links import Peer, list_peers
from sitcen.exchange.sender import pull
from sitcen.exchange.sharing import Sharing
from sitcen.store import schema
from sitcen.store.epochs import Epoch, finish_recovery
from sitcen.store.files import get_file, put_file
from sitcen.store.journal import (
    KINDS,
    LOCAL_KINDS,
    SUBJECT_FIELDS,
    Record,
    RecordKind,
    apply_records,
)
from sitcen.store.sql import select_in
from sitcen.times import to_micros

log = logging.getLogger("sitcen.exchange")

RECOVER_PATH = "/api/v1/exchange/recover"
#: Journal entries an answer reads at most; file bytes it carries at most.
PAGE = 2_000
FILE_BYTES = 16 * 1024 * 1024
#: How far before the backup's time the question starts: clocks of two nodes differ,
#: and a record sent just before the backup may have been journaled there just after.
MARGIN = timedelta(hours=1)


# --------------------------------------------------------------------- the answering node


def _first_after(conn: sa.Connection, since_us: int) -> int:
    """The journal position just before the first entry recorded at or after ``since_us``
    (bisection on the key: the journal has no index on time)."""
    j = schema.journal
    lo, hi = 0, int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(j.c.seq), 0)))
                     .scalar_one())
    while lo < hi:  # invariant: every entry at or below lo is older than since_us
        mid = (lo + hi + 1) // 2
        row = conn.execute(sa.select(j.c.seq, j.c.recorded_at).where(j.c.seq >= mid)
                           .order_by(j.c.seq).limit(1)).first()
        if row is None or row.recorded_at >= since_us:
            hi = mid - 1
        else:
            lo = row.seq
    return lo


def _copies(engine: sa.Engine, conn: sa.Connection, origin: str, own_node_id: str,
            entries: list[Any]) -> list[dict[str, Any]]:
    """The copies held here of ``origin``'s records that these journal entries wrote."""
    wanted: dict[str, dict[str, int]] = {}
    for e in entries:
        wanted.setdefault(e.kind, {})[e.record_id] = e.version
    found: list[dict[str, Any]] = []
    file_bytes = 0
    for kind, versions in wanted.items():
        table = KINDS[kind].table
        columns = [table.c.id, table.c.origin, table.c.version, table.c.body]
        if kind != RecordKind.personal_data:
            columns += [table.c.provenance, table.c.sharing]
        for row in select_in(conn, sa.select(*columns), table.c.id, versions):
            if row.origin != origin or row.version != versions[row.id]:
                continue  # superseded: the newer version has its own entry
            body = orjson.loads(row.body)
            if kind == RecordKind.personal_data:
                provenance, sharing = [origin], Sharing().to_dict()
            else:
                body.pop("provenance", None)
                body.pop("sharing", None)
                provenance = list(orjson.loads(row.provenance or "[]")) or [origin]
                sharing = orjson.loads(row.sharing or "{}")
            item = {"kind": kind, "origin": origin, "id": row.id, "version": row.version,
                    "body": body, "sharing": sharing, "provenance": [*provenance, own_node_id]}
            if kind == RecordKind.attachment and isinstance(body.get("sha256"), str):
                stored = get_file(engine, body["sha256"])
                if stored is not None and file_bytes + len(stored.content) <= FILE_BYTES:
                    file_bytes += len(stored.content)
                    item["content"] = base64.b64encode(stored.content).decode()
            found.append(item)
    return found


def answer_recovery(engine: sa.Engine, identity: NodeIdentity, request: bytes, *,
                    guard: ReplayGuard, now: datetime,
                    certified: Collection[str] | None = None) -> bytes:
    """Answer a linked node's recovery request: a sealed batch of the copies held here of
    its own records journaled since the time it names, one page of this journal at a time."""
    peers = {p.node_id: p for p in list_peers(engine)}
    trusted = {name: parse_public_key(p.public_key) for name, p in peers.items()}
    asked = open_envelope(request, expected_receiver=identity.node_id, trusted_keys=trusted,
                          seen=guard, now=now, certified=certified)
    if asked.records:
        raise InvalidRecord("a recovery request carries no records", sender=asked.header.sender)
    origin = asked.header.sender
    j = schema.journal
    with engine.connect() as conn:
        after = asked.header.first_seq or _first_after(conn, asked.header.last_seq)
        rows = conn.execute(sa.select(j.c.seq, j.c.origin, j.c.record_id, j.c.version, j.c.kind)
                            .where(j.c.seq > after).order_by(j.c.seq).limit(PAGE)).all()
        theirs = [r for r in rows if r.origin == origin and r.kind in KINDS
                  and r.kind not in LOCAL_KINDS]
        records = _copies(engine, conn, origin, identity.node_id, theirs)
    last = rows[-1].seq if rows else after
    log.info("recovery request from %s: journal %d..%d, %d of its records sent back",
             origin, after, last, len(records))
    batch = Batch.new(sender=identity.node_id, receiver=origin, first_seq=after,
                      last_seq=last, records=records, created_at=now)
    return seal(batch, identity)


# --------------------------------------------------------------------- the restored node


@dataclass
class PeerRecovery:
    """What one linked node gave back."""

    node_id: str
    pulled: int = 0
    recovered: int = 0
    already_held: int = 0
    #: Own records it holds only reduced by an agreement (not taken): ids by kind.
    reduced: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON data for the epoch's report."""
        return {"node_id": self.node_id, "pulled": self.pulled, "recovered": self.recovered,
                "already_held": self.already_held, "reduced": self.reduced,
                "error": self.error}


def _whole(raw: Mapping[str, Any]) -> bool:
    """Whether a linked node's copy is the record as written (nothing reduced)."""
    if raw["kind"] == RecordKind.personal_data:
        return True  # personal data travels only whole
    sharing = raw.get("sharing")
    if not isinstance(sharing, dict):
        return False
    try:
        parsed = Sharing.from_dict(sharing)
    except ValueError:
        return False
    return parsed.precision == Precision.exact and parsed.personal_data == PersonalData.full


def _own_record(index: int, raw: dict[str, Any], batch: Batch) -> Record:
    """A linked node's whole copy as this node's own record again (no provenance)."""
    kind = raw["kind"]
    body = {k: v for k, v in raw["body"].items() if k not in ("provenance", "sharing")}
    raw = {**raw, "body": body}
    if kind == RecordKind.event:
        row = event_row(index, raw, 0, batch)
        written = body.get("recorded_at")
        row["recorded_at"] = to_micros(datetime.fromisoformat(written)) if isinstance(
            written, str) else row["reported_at"] or row["occurred_at"]
        row["body"] = orjson.dumps(body).decode()
        row["provenance"] = row["sharing"] = None
        return Record(kind, row)
    if kind == RecordKind.personal_data:
        return Record(kind, personal_row(index, raw, to_micros(datetime.now(UTC)), batch))
    row = other_row(index, raw, to_micros(datetime.now(UTC)), batch)
    row["provenance"] = row["sharing"] = None
    return Record(kind, row)


def _take(engine: sa.Engine, own_node_id: str, batch: Batch, result: PeerRecovery) -> None:
    records = []
    for index, raw in enumerate(batch.records):
        if raw["origin"] != own_node_id:
            raise InvalidRecord(f"record {index}: a recovery answer carries only this node's "
                                "own records", sender=batch.header.sender)
        if raw["kind"] in LOCAL_KINDS or not (raw["kind"] in SUBJECT_FIELDS or raw["kind"] in (
                RecordKind.event, RecordKind.personal_data)):
            raise InvalidRecord(f"record {index}: kind {raw['kind']!r} is not recovered",
                                sender=batch.header.sender)
        if not isinstance(raw.get("body"), dict):
            continue
        if not _whole(raw):
            result.reduced.setdefault(raw["kind"], []).append(raw["id"])
            continue
        records.append(_own_record(index, raw, batch))
    for content, media_type in attached_files(batch):
        put_file(engine, content, media_type)
    if records:
        applied = apply_records(engine, records)
        result.recovered += sum(applied)
        result.already_held += len(applied) - sum(applied)


def recover_from(engine: sa.Engine, identity: NodeIdentity, peer: Peer, client: httpx.Client,
                 *, since: datetime, guard: ReplayGuard, max_pages: int = 100_000
                 ) -> PeerRecovery:
    """Ask one linked node for what it sent this node and for this node's own records since
    ``since``; apply what comes back. Errors end up in the result, not raised."""
    result = PeerRecovery(peer.node_id)
    pulled = pull(engine, identity, peer, client, guard=guard)
    result.pulled = pulled.records
    if pulled.error:
        result.error = f"pull: {pulled.error}"
        return result
    since_us = to_micros(since - MARGIN)
    cursor = 0
    trusted = {peer.node_id: parse_public_key(peer.public_key)}
    for _ in range(max_pages):
        request = seal(Batch.new(sender=identity.node_id, receiver=peer.node_id,
                                 first_seq=cursor, last_seq=since_us, records=[]), identity)
        try:
            answer = client.post(f"{peer.url}{RECOVER_PATH}", content=request,
                                 headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            result.error = f"unreachable: {exc}"
            return result
        if answer.status_code != 200:
            result.error = f"refused ({answer.status_code}): {answer.text[:300]}"
            return result
        try:
            batch = open_envelope(answer.content, expected_receiver=identity.node_id,
                                  trusted_keys=trusted, seen=guard, now=datetime.now(UTC))
            _take(engine, identity.node_id, batch, result)
        except EnvelopeError as exc:
            result.error = f"answer refused: {exc}"
            return result
        if batch.header.last_seq <= cursor and cursor:
            break
        if not batch.records and batch.header.last_seq == batch.header.first_seq:
            break  # nothing further in its journal
        cursor = batch.header.last_seq
    return result


def recover(engine: sa.Engine, identity: NodeIdentity, epoch: Epoch, *, guard: ReplayGuard,
            client: httpx.Client, accept_loss: bool = False) -> dict[str, Any]:
    """Ask every linked node back for what the restored backup lacks, then end the epoch's
    recovery if every one answered (or ``accept_loss``). Returns the report."""
    since = datetime.fromisoformat(epoch.backup["created_at"])
    results = [recover_from(engine, identity, peer, client, since=since, guard=guard)
               for peer in list_peers(engine)]
    failed = [r.node_id for r in results if r.error]
    report = {"since": since.isoformat(), "peers": [r.to_dict() for r in results],
              "unanswered": failed, "accepted_loss": bool(failed) and accept_loss,
              "finished": not failed or accept_loss}
    if report["finished"]:
        finish_recovery(engine, epoch.epoch, report)
    return report
