"""Capacity inventories of border sections (``capacity`` records).

One record per section and node; a change is a new version, so the record's
versions are the inventory's history. The figures are checked by the caller
(:mod:`sitcen.interop.capacity_import`); this module stores what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sitcen.store.journal import (
    RecordKind,
)
from sitcen.store.records import (
    HANDLING,
    AssessmentError,
    StoredRecord,
    current_by_subject,
    next_version,
    own_record_id,
    versions_of,
    write_own,
)


def capacity_record_id(node_id: str, section_id: str) -> str:
    """The id of this node's capacity record of a section."""
    return own_record_id(node_id, RecordKind.capacity, section_id)


def capacity_body(section_id: str, values: Mapping[str, Any], *, assessed_by: str,
                  note: str = "") -> dict[str, Any]:
    """The stored body of a capacity inventory (the figures are checked by the caller)."""
    return {**values, "section_id": section_id, "handling": HANDLING,
            "assessed_by": assessed_by, "note": note}


def put_capacities(engine: sa.Engine, node_id: str,
                   items: Sequence[tuple[str, Mapping[str, Any], str]], *, assessed_by: str,
                   base_version: int | None = None) -> list[StoredRecord]:
    """Write the capacity inventory of each (section, figures, note), all or nothing.

    ``base_version`` (only with a single item) is the version the change was
    made from: a stale one raises :class:`VersionConflictError`.
    """
    if base_version is not None and len(items) != 1:
        raise ValueError("base_version applies to a single section")
    if len({section_id for section_id, _, _ in items}) != len(items):
        raise AssessmentError("section_id", "a section appears more than once")
    records = [
        next_version(engine, RecordKind.capacity, capacity_record_id(node_id, section_id),
                     capacity_body(section_id, values, assessed_by=assessed_by, note=note),
                     node_id, base_version)
        for section_id, values, note in items
    ]
    return write_own(engine, records, node_id)


def current_capacity(engine: sa.Engine, node_id: str, section_id: str) -> StoredRecord | None:
    """The capacity inventory of a section: this node's own, else the newest received."""
    return current_by_subject(engine, RecordKind.capacity, node_id, section_id).get(section_id)


def all_capacities(engine: sa.Engine, node_id: str) -> dict[str, StoredRecord]:
    """The current capacity inventory of every section that has one."""
    return current_by_subject(engine, RecordKind.capacity, node_id)


def capacity_history(engine: sa.Engine, node_id: str, section_id: str) -> list[dict[str, Any]]:
    """Every version of a section's current capacity inventory, oldest first."""
    return versions_of(engine, current_capacity(engine, node_id, section_id))
