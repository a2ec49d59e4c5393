"""Signed batches: the wire format of records sent from one node to another.

A :class:`Batch` is sealed by its sender (:func:`seal`) into an envelope, a
small JSON object whose ``payload`` is the base64url of the batch's canonical
JSON and whose ``signature`` is the sender's Ed25519 signature of those exact
bytes. The receiver opens it with :func:`open_envelope`, which checks, in this
order and before anything is applied: size, structure, protocol version, that
the sender is a trusted peer and the key is the one agreed for it, the
signature, the receiver, freshness, every record's provenance, and replay.
Each refusal is an :class:`EnvelopeError` subclass with a machine-readable
``reason``. The format is described in docs/federation.md.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import heappop, heappush
from typing import Any, ClassVar, NamedTuple, Protocol
from uuid import UUID, uuid4

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sitcen.exchange.identity import (
    IdentityError,
    NodeIdentity,
    b64url,
    b64url_decode,
    parse_public_key,
    verify,
)
from sitcen.settings import NODE_ID_PATTERN
from sitcen.times import iso

PROTOCOL_VERSION = 1
# Prefixed to the payload before signing, so that a signature made for a batch can
# never be taken for a signature of any other kind of document a node may sign.
SIGNING_CONTEXT = b"sitcen-batch-v1\x00"
MAX_ENVELOPE_BYTES = 32 * 1024 * 1024
DEFAULT_WINDOW = timedelta(minutes=10)
MAX_PROVENANCE = 32
MAX_SEQ = 2**63 - 1

_ENVELOPE_KEYS = frozenset({"protocol", "sender", "key", "payload", "signature"})
_HEADER_KEYS = frozenset(
    {"protocol", "sender", "receiver", "first_seq", "last_seq", "batch_id", "created_at",
     "record_count"}
)
_RECORD_KEYS = ("kind", "origin", "id", "version", "body", "provenance")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


# --- refusals ---------------------------------------------------------------------------------


class EnvelopeError(Exception):
    """An envelope was refused. ``reason`` is machine-readable; the message is for the log."""

    reason: ClassVar[str] = "refused"

    def __init__(self, message: str, *, sender: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sender = sender  # the claimed sender, when known, for the log

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


class EnvelopeTooLarge(EnvelopeError):
    reason = "too_large"


class MalformedEnvelope(EnvelopeError):
    reason = "malformed"


class UnknownSender(EnvelopeError):
    reason = "unknown_sender"


class BadSignature(EnvelopeError):
    reason = "bad_signature"


class WrongReceiver(EnvelopeError):
    reason = "wrong_receiver"


class WrongCertificate(EnvelopeError):
    """The TLS client certificate the envelope came with names another node than its sender."""

    reason = "wrong_certificate"


class ReplayedBatch(EnvelopeError):
    reason = "replayed"


class StaleBatch(EnvelopeError):
    reason = "stale"


class UnsupportedVersion(EnvelopeError):
    reason = "unsupported_version"


class InvalidRecord(EnvelopeError):
    reason = "record_invalid"


# --- the batch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchHeader:
    """Who sends what to whom: the signed header of a batch."""

    sender: str
    receiver: str
    first_seq: int  # first and last journal sequence number of the sender covered
    last_seq: int
    record_count: int
    batch_id: UUID = field(default_factory=uuid4)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    protocol: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Batch:
    """A header and the records it carries.

    Records are JSON objects, opaque here except for ``kind``, ``origin``, ``id``,
    ``version``, ``body`` (an object, or null) and ``provenance``: the ids of the
    nodes the record came through, the origin first and the sender last.
    A batch may carry no record: it then only moves the link's cursor forward.
    """

    header: BatchHeader
    records: list[dict[str, Any]]

    @classmethod
    def new(
        cls,
        *,
        sender: str,
        receiver: str,
        first_seq: int,
        last_seq: int,
        records: Sequence[dict[str, Any]],
        created_at: datetime | None = None,
    ) -> Batch:
        """A batch with a fresh id, created now (or at ``created_at``)."""
        header = BatchHeader(
            sender=sender,
            receiver=receiver,
            first_seq=first_seq,
            last_seq=last_seq,
            record_count=len(records),
            created_at=created_at if created_at is not None else datetime.now(UTC),
        )
        return cls(header, list(records))


class _Invalid(Exception):
    """A rule is broken: becomes an EnvelopeError when receiving, a ValueError when sealing."""

    def __init__(self, kind: type[EnvelopeError], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("created_at must carry a time zone")
    return iso(moment, "microseconds")


def _payload_object(batch: Batch) -> dict[str, Any]:
    h = batch.header
    return {
        "header": {
            "protocol": h.protocol,
            "sender": h.sender,
            "receiver": h.receiver,
            "first_seq": h.first_seq,
            "last_seq": h.last_seq,
            "batch_id": str(h.batch_id),
            "created_at": _format_time(h.created_at),
            "record_count": h.record_count,
        },
        "records": batch.records,
    }


def encode_payload(batch: Batch) -> bytes:
    """The canonical JSON of a batch (UTF-8, keys sorted, no spaces): the bytes that are signed."""
    return orjson.dumps(_payload_object(batch), option=orjson.OPT_SORT_KEYS)


def seal(batch: Batch, identity: NodeIdentity) -> bytes:
    """Sign ``batch`` as ``identity`` and return the envelope bytes to send.

    Raises ``ValueError`` for a batch no peer would accept (sender not this
    node, wrong record count, a record breaking the relay rule) and orjson's
    ``JSONEncodeError`` (a ``TypeError``) for records that are not JSON.
    """
    if batch.header.sender != identity.node_id:
        raise ValueError(
            f"batch sender {batch.header.sender!r} is not this node {identity.node_id!r}"
        )
    payload = encode_payload(batch)
    try:
        # Check what was encoded, exactly as a receiver will: a node must not send
        # what its peers would refuse.
        _parse_payload(payload, sender=identity.node_id, protocol=PROTOCOL_VERSION)
    except _Invalid as exc:
        raise ValueError(f"{exc.kind.reason}: {exc.message}") from None
    envelope = {
        "protocol": batch.header.protocol,
        "sender": identity.node_id,
        "key": identity.public_key_text,
        "payload": b64url(payload),
        "signature": b64url(identity.sign(SIGNING_CONTEXT + payload)),
    }
    return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)


# --- replay protection ------------------------------------------------------------------------


class SeenBatch(NamedTuple):
    """One row of a :class:`ReplayGuard`'s state; ``batch_id`` None is the sender's floor:
    every batch created at or before ``created_at`` is refused."""

    sender: str
    batch_id: UUID | None
    created_at: datetime


class ReplayGuard:
    """The batch ids each sender used within the freshness window, to refuse replays.

    A batch is accepted only if created within ``window`` of the receiver's
    clock (either side), and its id is kept until ``window`` after its
    creation: a replay is therefore either remembered or stale. Memory is
    bounded by ``max_per_sender``: when a sender exceeds it, its oldest ids are
    forgotten and every batch created no later than them is refused from then on.
    Thread-safe. :meth:`to_rows` / :meth:`from_rows` let a store persist it.
    """

    def __init__(
        self, *, window: timedelta = DEFAULT_WINDOW, max_per_sender: int = 100_000
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_per_sender < 1:
            raise ValueError("max_per_sender must be at least 1")
        self.window = window
        self.max_per_sender = max_per_sender
        self._lock = threading.Lock()
        self._ids: dict[str, dict[UUID, datetime]] = {}
        self._by_age: dict[str, list[tuple[datetime, UUID]]] = {}
        self._floor: dict[str, datetime] = {}

    def __len__(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self._ids.values())

    def check_and_remember(
        self, sender: str, batch_id: UUID, created_at: datetime, *, now: datetime
    ) -> None:
        """Remember a batch, or raise :class:`StaleBatch` / :class:`ReplayedBatch`."""
        age = now - created_at
        if age > self.window:
            raise StaleBatch(
                f"batch {batch_id} was created {_minutes(age)} ago, more than the "
                f"{_minutes(self.window)} window allows", sender=sender,
            )
        if -age > self.window:
            raise StaleBatch(
                f"batch {batch_id} is dated {_minutes(-age)} ahead of this node's clock, more "
                f"than the {_minutes(self.window)} window allows (check both clocks)",
                sender=sender,
            )
        with self._lock:
            self._prune(sender, now)
            ids = self._ids.setdefault(sender, {})
            if batch_id in ids:
                raise ReplayedBatch(f"batch {batch_id} was already received", sender=sender)
            floor = self._floor.get(sender)
            if floor is not None and created_at <= floor:
                raise StaleBatch(
                    f"batch {batch_id} is older than the batches still remembered for "
                    f"{sender} (too many batches within the window)", sender=sender,
                )
            ids[batch_id] = created_at
            heappush(self._by_age.setdefault(sender, []), (created_at, batch_id))
            while len(ids) > self.max_per_sender:
                oldest, oldest_id = heappop(self._by_age[sender])
                del ids[oldest_id]
                self._floor[sender] = max(oldest, self._floor.get(sender, oldest))

    def prune(self, now: datetime) -> None:
        """Forget ids that can no longer be replayed (their batch would be stale)."""
        with self._lock:
            for sender in list(self._ids):
                self._prune(sender, now)

    def _prune(self, sender: str, now: datetime) -> None:
        heap = self._by_age.get(sender)
        ids = self._ids.get(sender)
        while heap and ids is not None and heap[0][0] + self.window < now:
            _, batch_id = heappop(heap)
            del ids[batch_id]
        floor = self._floor.get(sender)
        if floor is not None and floor + self.window < now:
            del self._floor[sender]

    def to_rows(self) -> list[SeenBatch]:
        """The state as rows, oldest first per sender, for a store to persist."""
        with self._lock:
            rows = [SeenBatch(s, None, floor) for s, floor in self._floor.items()]
            for sender, ids in self._ids.items():
                rows.extend(SeenBatch(sender, b, t) for b, t in sorted(ids.items(),
                                                                       key=lambda i: i[1]))
            return rows

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[SeenBatch],
        *,
        window: timedelta = DEFAULT_WINDOW,
        max_per_sender: int = 100_000,
    ) -> ReplayGuard:
        """Rebuild a guard from :meth:`to_rows` output."""
        guard = cls(window=window, max_per_sender=max_per_sender)
        for sender, batch_id, created_at in rows:
            if batch_id is None:
                guard._floor[sender] = max(created_at, guard._floor.get(sender, created_at))
            else:
                guard._ids.setdefault(sender, {})[batch_id] = created_at
                heappush(guard._by_age.setdefault(sender, []), (created_at, batch_id))
        return guard


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"


# --- opening ----------------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_limited(stream: _Readable, max_bytes: int = MAX_ENVELOPE_BYTES) -> bytes:
    """Read a whole envelope from ``stream``, refusing (:class:`EnvelopeTooLarge`) as soon as
    more than ``max_bytes`` arrive; never holds more than ``max_bytes`` plus one chunk."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise EnvelopeTooLarge(f"envelope exceeds the {max_bytes}-byte limit")
        chunks.append(chunk)


def open_envelope(
    data: bytes,
    *,
    expected_receiver: str,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    seen: ReplayGuard,
    now: datetime,
    max_bytes: int = MAX_ENVELOPE_BYTES,
    certified: Collection[str] | None = None,
) -> Batch:
    """Verify an envelope received from a peer and return its batch, or refuse it.

    ``trusted_keys`` maps each linked peer's node id to the key agreed with it
    out of band. ``certified``, when the envelope came over mutual TLS, holds
    the names of the client certificate: the sender must be one of them, so a
    partner's certificate never carries another partner's batches. Refusals
    are :class:`EnvelopeError` subclasses and nothing else; a batch is
    remembered in ``seen`` only once every check has passed.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if len(data) > max_bytes:
        raise EnvelopeTooLarge(f"envelope of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    try:
        envelope = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope(f"envelope is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise MalformedEnvelope(f"envelope must be a JSON object, not {_json_type(envelope)}")
    protocol = envelope.get("protocol")
    if _is_int(protocol) and protocol != PROTOCOL_VERSION:
        raise UnsupportedVersion(
            f"protocol {protocol} is not supported (this node speaks {PROTOCOL_VERSION})"
        )
    if set(envelope) != _ENVELOPE_KEYS:
        missing = sorted(_ENVELOPE_KEYS - set(envelope))
        extra = sorted(set(envelope) - _ENVELOPE_KEYS)
        raise MalformedEnvelope(f"envelope fields wrong: missing {missing}, unexpected {extra}")
    if not _is_int(protocol):
        raise MalformedEnvelope("envelope field 'protocol' must be an integer")
    for name in ("sender", "key", "payload", "signature"):
        if not isinstance(envelope[name], str):
            raise MalformedEnvelope(f"envelope field {name!r} must be a string")
    sender: str = envelope["sender"]
    version: int = envelope["protocol"]

    trusted = trusted_keys.get(sender)
    if trusted is None:
        raise UnknownSender(f"sender {sender[:80]!r} is not a linked peer", sender=sender[:80])
    if certified is not None and sender not in certified:
        raise WrongCertificate(
            f"the TLS client certificate names {', '.join(sorted(certified)) or 'no node'}, "
            f"not the sender {sender}", sender=sender)
    try:
        key = parse_public_key(envelope["key"])
    except IdentityError as exc:
        raise MalformedEnvelope(f"envelope field 'key': {exc}", sender=sender) from None
    if key.public_bytes_raw() != trusted.public_bytes_raw():
        raise BadSignature(
            f"envelope key is not the key agreed with {sender}; refused", sender=sender
        )
    try:
        signature = b64url_decode(envelope["signature"])
        payload = b64url_decode(envelope["payload"])
    except ValueError:
        raise MalformedEnvelope("payload and signature must be base64url", sender=sender) from None
    if len(signature) != 64:
        raise MalformedEnvelope("signature must be 64 bytes (Ed25519)", sender=sender)
    if not verify(trusted, SIGNING_CONTEXT + payload, signature):
        raise BadSignature(f"signature does not verify with {sender}'s key", sender=sender)

    try:
        batch = _parse_payload(payload, sender=sender, protocol=version)
    except _Invalid as exc:
        raise exc.kind(exc.message, sender=sender) from None
    if batch.header.receiver != expected_receiver:
        raise WrongReceiver(
            f"batch {batch.header.batch_id} is addressed to {batch.header.receiver!r}, "
            f"not to this node {expected_receiver!r}", sender=sender,
        )
    seen.check_and_remember(sender, batch.header.batch_id, batch.header.created_at, now=now)
    return batch


def _parse_payload(payload: bytes, *, sender: str, protocol: int) -> Batch:
    """The batch in signed payload bytes, every rule but receiver, freshness and replay checked."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise _Invalid(MalformedEnvelope, f"payload is not JSON: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"header", "records"}:
        raise _Invalid(MalformedEnvelope, "payload must be an object with 'header' and 'records'")
    raw_header, records = document["header"], document["records"]
    if not isinstance(raw_header, dict) or set(raw_header) != _HEADER_KEYS:
        raise _Invalid(MalformedEnvelope, f"header must be an object with {sorted(_HEADER_KEYS)}")
    header = _parse_header(raw_header)
    if header.protocol != protocol:
        raise _Invalid(MalformedEnvelope, "header and envelope name different protocols")
    if header.sender != sender:
        # Signed by one peer while claiming to come from another.
        raise _Invalid(
            BadSignature, f"batch claims sender {header.sender!r} but is signed by {sender!r}"
        )
    if not isinstance(records, list):
        raise _Invalid(MalformedEnvelope, "'records' must be a list")
    if header.record_count != len(records):
        raise _Invalid(
            MalformedEnvelope,
            f"header counts {header.record_count} records, the batch carries {len(records)}",
        )
    for index, record in enumerate(records):
        _check_record(index, record, sender)
    return Batch(header, records)


def _parse_header(raw: dict[str, Any]) -> BatchHeader:
    def fail(name: str, expected: str) -> _Invalid:
        return _Invalid(MalformedEnvelope, f"header field {name!r} must be {expected}")

    if not _is_int(raw["protocol"]):
        raise fail("protocol", "an integer")
    for name in ("sender", "receiver"):
        if not _is_node_id(raw[name]):
            raise fail(name, "a node id")
    for name in ("first_seq", "last_seq", "record_count"):
        if not _is_int(raw[name]) or not 0 <= raw[name] <= MAX_SEQ:
            raise fail(name, "a non-negative integer")
    if raw["first_seq"] > raw["last_seq"]:
        raise fail("first_seq", "at most last_seq")
    batch_id = raw["batch_id"]
    try:
        parsed_id = UUID(batch_id) if isinstance(batch_id, str) else None
    except ValueError:
        parsed_id = None
    if parsed_id is None or str(parsed_id) != batch_id:
        raise fail("batch_id", "a UUID in lowercase canonical form")
    created = raw["created_at"]
    if not isinstance(created, str) or not _TIMESTAMP.fullmatch(created):
        raise fail("created_at", "a UTC timestamp like 2026-11-29T06:58:08.123456Z")
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        raise fail("created_at", "a valid date and time") from None
    return BatchHeader(
        sender=raw["sender"],
        receiver=raw["receiver"],
        first_seq=raw["first_seq"],
        last_seq=raw["last_seq"],
        record_count=raw["record_count"],
        batch_id=parsed_id,
        created_at=created_at,
        protocol=raw["protocol"],
    )


def _check_record(index: int, record: object, sender: str) -> None:
    def fail(message: str) -> _Invalid:
        return _Invalid(InvalidRecord, f"record {index}: {message}")

    if not isinstance(record, dict):
        raise fail(f"must be an object, not {_json_type(record)}")
    missing = [name for name in _RECORD_KEYS if name not in record]
    if missing:
        raise fail(f"missing {missing}")
    if not isinstance(record["kind"], str) or not record["kind"]:
        raise fail("'kind' must be a non-empty string")
    if not isinstance(record["id"], str) or not 0 < len(record["id"]) <= 128:
        raise fail("'id' must be a string of 1-128 characters")
    if not _is_int(record["version"]) or not 1 <= record["version"] <= MAX_SEQ:
        raise fail("'version' must be a positive integer")
    if record["body"] is not None and not isinstance(record["body"], dict):
        raise fail("'body' must be an object or null")
    origin, provenance = record["origin"], record["provenance"]
    if not _is_node_id(origin):
        raise fail("'origin' must be a node id")
    if (
        not isinstance(provenance, list)
        or not 0 < len(provenance) <= MAX_PROVENANCE
        or not all(_is_node_id(node) for node in provenance)
    ):
        raise fail(f"'provenance' must be a list of 1-{MAX_PROVENANCE} node ids")
    if provenance[0] != origin:
        raise fail(f"provenance starts with {provenance[0]!r}, not with the origin {origin!r}")
    if provenance[-1] != sender:
        raise fail(
            f"provenance ends with {provenance[-1]!r}: {sender!r} may relay only records it "
            "owns or received"
        )
    if len(set(provenance)) != len(provenance):
        raise fail("provenance passes through a node twice (a relay loop)")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_node_id(value: object) -> bool:
    return isinstance(value, str) and NODE_ID_PATTERN.fullmatch(value) is not None


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an object"
