"""Stored records as the routers look them up and answer with them."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from sitcen.errors import NotFound
from sitcen.node import Node
from sitcen.store.records import StoredRecord, get_record
from sitcen.times import iso


class RecordPublic(BaseModel):
    """What every record the API answers with starts with: who wrote which version when."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str


def record_header(record: StoredRecord) -> dict[str, Any]:
    """The fields of :class:`RecordPublic` for one stored record."""
    return {"id": record.id, "origin": record.origin, "version": record.version,
            "recorded_at": iso(record.recorded_at)}


def found_record(node: Node, kind: str, record_id: str | uuid.UUID,
                 what: str | None = None) -> StoredRecord:
    """The record ``record_id`` if it is a ``kind``; else 404 naming it ``what`` (the kind)."""
    record = get_record(node.engine, str(record_id))
    if record is None or record.kind != kind:
        raise NotFound(what or kind, str(record_id))
    return record


__all__ = ["RecordPublic", "found_record", "record_header"]
