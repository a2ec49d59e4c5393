"""Records other than events: write a version, read the current one, list by subject.

Alerts, confirmed section impact levels, capacity inventories,
recommendations, actions on events, asset positions, requests for information
and daily aggregates all live in the ``records`` table and are written
through :func:`sitcen.store.journal.write_records` like events, so they are
journaled, streamed and shared with linked nodes the same way. A body is a
JSON object; the field named in :data:`~sitcen.store.journal.SUBJECT_FIELDS`
for its kind is what it is listed by (a section id, an event id, ...).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.errors import FieldError, NotFound, NotOwnerError, VersionConflictError
from sitcen.store import schema
from sitcen.store.journal import SUBJECT_FIELDS, Record, new_ids, now_micros, write_records
from sitcen.taxonomy import Handling
from sitcen.times import iso

#: The largest body a record may have, as JSON (a guard, not a quota).
MAX_BODY_BYTES = 256 * 1024


class RecordError(ValueError):
    """A record body that cannot be stored, with the reason."""


@dataclass(frozen=True)
class StoredRecord:
    """One record as this node holds it (its current version)."""

    kind: str
    id: str
    origin: str
    version: int
    subject: str | None
    recorded_at: datetime
    body: dict[str, Any]
    provenance: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API returns."""
        return {"kind": self.kind, "id": self.id, "origin": self.origin,
                "version": self.version, "subject": self.subject,
                "recorded_at": iso(self.recorded_at),
                "body": self.body, "provenance": self.provenance}


def subject_of(kind: str, body: Mapping[str, Any]) -> str | None:
    """The subject of a record of ``kind`` (None when the body names none)."""
    try:
        field = SUBJECT_FIELDS[kind]
    except KeyError:
        raise RecordError(f"kind {kind!r} is not kept in the records table") from None
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 128:
        raise RecordError(f"{kind}: '{field}' must be text of 1 to 128 characters")
    return value


def encode_body(kind: str, body: Mapping[str, Any]) -> str:
    """The stored JSON text of a body, checked for kind, shape and size."""
    subject_of(kind, body)
    try:
        text = orjson.dumps(dict(body)).decode()
    except TypeError as exc:
        raise RecordError(f"{kind}: body is not JSON: {exc}") from exc
    if len(text) > MAX_BODY_BYTES:
        raise RecordError(f"{kind}: body of {len(text)} bytes is over {MAX_BODY_BYTES}")
    return text


def record_row(kind: str, record_id: str, origin: str, version: int, body: Mapping[str, Any],
               *, recorded_at: int, provenance: list[str] | None = None,
               sharing: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``records`` row of one version (own records have no provenance or sharing)."""
    return {
        "id": record_id, "origin": origin, "version": version, "kind": kind,
        "subject": subject_of(kind, body), "recorded_at": recorded_at,
        "body": encode_body(kind, body),
        "provenance": None if provenance is None else orjson.dumps(provenance).decode(),
        "sharing": None if sharing is None else orjson.dumps(dict(sharing)).decode(),
    }


def write_record(engine: sa.Engine, kind: str, body: Mapping[str, Any], *, node_id: str,
                 record_id: str | None = None, base_version: int | None = None) -> StoredRecord:
    """Write a new record (no ``record_id``) or the next version of one this node owns.

    ``base_version`` is the version the change was made from; when given and
    no longer current, :class:`VersionConflictError` is raised and nothing is
    written (someone changed it meanwhile); an unknown ``record_id`` raises
    :class:`NotFound`.
    """
    now = now_micros()
    if record_id is None:
        record_id, version = new_ids(1)[0], 1
    else:
        current = get_record(engine, record_id)
        if current is None:
            raise NotFound("record", record_id)
        if current.kind != kind:
            raise RecordError(f"record {record_id} is a {current.kind}, not a {kind}")
        if base_version is not None and base_version != current.version:
            raise VersionConflictError(record_id, current.version, base_version + 1)
        version = current.version + 1
    row = record_row(kind, record_id, node_id, version, body, recorded_at=now)
    write_records(engine, [Record(kind, row)], node_id=node_id)
    return StoredRecord(kind, record_id, node_id, version, row["subject"],
                        datetime.fromtimestamp(now / 1e6, UTC), dict(body))


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        kind=row.kind, id=row.id, origin=row.origin, version=row.version,
        subject=row.subject, recorded_at=datetime.fromtimestamp(row.recorded_at / 1e6, UTC),
        body=orjson.loads(row.body),
        provenance=None if row.provenance is None else orjson.loads(row.provenance),
    )


def get_record(engine: sa.Engine, record_id: str) -> StoredRecord | None:
    """The current version of a record, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.records)
                           .where(schema.records.c.id == record_id)).first()
    return None if row is None else _stored(row)


def list_records(engine: sa.Engine, kind: str, *, subject: str | None = None,
                 subjects: list[str] | None = None, origin: str | None = None,
                 limit: int = 1000) -> list[StoredRecord]:
    """Current versions of records of one kind, newest first, optionally by subject/origin."""
    r = schema.records
    query = sa.select(r).where(r.c.kind == kind)
    if subject is not None:
        query = query.where(r.c.subject == subject)
    if subjects is not None:
        query = query.where(r.c.subject.in_(subjects))
    if origin is not None:
        query = query.where(r.c.origin == origin)
    query = query.order_by(r.c.recorded_at.desc(), r.c.id).limit(limit)
    with engine.connect() as conn:
        return [_stored(row) for row in conn.execute(query)]


def record_history(engine: sa.Engine, record_id: str) -> list[dict[str, Any]]:
    """Every version of a record this node holds, oldest first."""
    current = get_record(engine, record_id)
    if current is None:
        return []
    v = schema.record_versions
    with engine.connect() as conn:
        older = conn.execute(sa.select(v).where(v.c.id == record_id).order_by(v.c.version))
        versions = [{"version": row.version,
                     "recorded_at": datetime.fromtimestamp(row.recorded_at / 1e6, UTC),
                     "body": orjson.loads(row.body)} for row in older]
    versions.append({"version": current.version, "recorded_at": current.recorded_at,
                     "body": current.body})
    return versions


# ----------------------------------------------------------------------------- own records
# Helpers for kinds with one record per subject and node (sections' levels,
# inventories, alerts): ids derived from what the record is about, the next
# version of it, the current one by subject.

#: Handling of a section's inventory, recommendations, level and alerts: shared with
#: partners by agreement only.
HANDLING = Handling.amber.value


_ID_NAMESPACE = uuid.UUID("6f1c3f5e-2a55-4d0c-9a43-5e7cf3a1b0d2")


class AssessmentError(RecordError, FieldError):
    """A change refused for a reason the user can fix; ``field`` names what is wrong."""


def own_record_id(node_id: str, kind: str, key: str) -> str:
    """The id of the record of ``kind`` about ``key`` (a section, a dedup key) this node owns."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{node_id}\x1f{kind}\x1f{key}"))


def next_version(engine: sa.Engine, kind: str, record_id: str, body: Mapping[str, Any],
                 node_id: str, base_version: int | None = None,
                 current: StoredRecord | None = None) -> Record:
    """The next version of the record ``record_id`` (version 1 when there is none yet)."""
    if current is None:
        current = get_record(engine, record_id)
    if current is None:
        if base_version not in (None, 0):
            raise VersionConflictError(record_id, None, (base_version or 0) + 1)
        version = 1
    else:
        if current.kind != kind:
            raise RecordError(f"record {record_id} is a {current.kind}, not a {kind}")
        if current.origin != node_id:
            raise NotOwnerError(record_id, current.origin)
        if base_version is not None and base_version != current.version:
            raise VersionConflictError(record_id, current.version, base_version + 1)
        version = current.version + 1
    row = record_row(kind, record_id, node_id, version, body, recorded_at=now_micros())
    return Record(kind, row)


def write_own(engine: sa.Engine, records: Sequence[Record], node_id: str) -> list[StoredRecord]:
    """Write records this node owns in one transaction; their stored versions."""
    if records:
        write_records(engine, records, node_id=node_id)
    found = [get_record(engine, r.id) for r in records]
    return [r for r in found if r is not None]


def current_by_subject(engine: sa.Engine, kind: str, node_id: str,
                        section_id: str | None = None) -> dict[str, StoredRecord]:
    """Per section, the node's own record of ``kind``, else the newest one received."""
    found: dict[str, StoredRecord] = {}
    for stored in list_records(engine, kind, subject=section_id, limit=100_000):
        if stored.subject is None:
            continue
        held = found.get(stored.subject)
        if held is None or (stored.origin == node_id and held.origin != node_id):
            found[stored.subject] = stored  # newest first: the first seen is the newest
    return found


def versions_of(engine: sa.Engine, record: StoredRecord | None) -> list[dict[str, Any]]:
    if record is None:
        return []
    return [{"version": v["version"], "recorded_at": v["recorded_at"], **v["body"]}
            for v in record_history(engine, record.id)]
