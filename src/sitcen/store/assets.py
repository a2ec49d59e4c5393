"""Own assets' positions: the one way a position report becomes an ``asset_position`` version.

The API (``POST /api/v1/assets/positions``), the TAK listener and the sensor
registry all write here. A batch of positions is written in one transaction:
each asset's current record is looked up once, and several positions of the
same asset in one batch become consecutive versions, so the track keeps every
point however the reports were grouped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from sitcen.errors import VersionConflictError
from sitcen.events import NO_NUL, Location
from sitcen.store import schema
from sitcen.store.events import Reporter
from sitcen.store.journal import Record, RecordKind, new_ids, now_micros, write_records
from sitcen.store.records import record_row
from sitcen.store.sql import among
from sitcen.taxonomy import Handling
from sitcen.times import as_utc, iso

#: Attempts at a batch when another process moved one of its assets meanwhile.
ATTEMPTS = 3


class AssetKind(StrEnum):
    """What an own asset is."""

    patrol = "patrol"
    vehicle = "vehicle"
    sensor = "sensor"
    camera = "camera"
    aircraft = "aircraft"


class AssetPositionCreate(BaseModel):
    """One position report of an own asset."""

    model_config = ConfigDict(extra="forbid")

    asset_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                          description="the asset's own identifier, stable across reports")
    kind: AssetKind
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    location: Location
    at: datetime = Field(description="when the asset was there (ISO 8601 with a zone)")
    status: str = Field("active", max_length=32, pattern=r"^[a-z_]+$",
                        description="e.g. active, standby, out_of_service")
    handling: Handling = Handling.amber


@dataclass(frozen=True)
class WrittenAsset:
    """The record a position was written to."""

    id: str
    version: int
    section_id: str | None


def position_body(item: AssetPositionCreate, section_id: str | None, country: str,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored body of one position (``extra`` adds fields such as a sensor's coverage)."""
    at = as_utc(item.at)
    loc = item.location  # by hand: pydantic's model_dump costs more than the rest of the body
    location: dict[str, float] = {"lon": loc.lon, "lat": loc.lat}
    if loc.precision_m is not None:
        location["precision_m"] = loc.precision_m
    body = {
        "asset_id": item.asset_id, "kind": item.kind.value, "name": item.name,
        "status": item.status, "location": location,
        "at": iso(at), "section_id": section_id,
        "country": country, "handling": str(item.handling),
    }
    if extra:
        body.update(extra)
    return body


def _current(conn: sa.Connection, node_id: str, asset_ids: set[str]) -> dict[str, tuple[str, int]]:
    """asset id → (record id, version) of this node's current asset records."""
    r = schema.records
    found: dict[str, tuple[str, int]] = {}
    query = (sa.select(r.c.subject, r.c.id, r.c.version, r.c.recorded_at)
             .where(r.c.kind == RecordKind.asset_position, r.c.origin == node_id,
                    among(conn.dialect, r.c.subject, asset_ids))
             .order_by(r.c.recorded_at))
    for row in conn.execute(query):
        found[row.subject] = (row.id, row.version)  # the newest wins should an id have two
    return found


def write_positions(engine: sa.Engine, reporter: Reporter,
                    items: Sequence[AssetPositionCreate],
                    extras: Sequence[dict[str, Any] | None] | None = None) -> list[WrittenAsset]:
    """Place and write positions of own assets, all in one transaction, in the given order.

    Raises ``ValueError`` for a timestamp without a zone (nothing written) and
    :class:`VersionConflictError` if other writers kept moving the same assets
    through every attempt.
    """
    if not items:
        return []
    lons = np.fromiter((it.location.lon for it in items), dtype=float, count=len(items))
    lats = np.fromiter((it.location.lat for it in items), dtype=float, count=len(items))
    section_ids = reporter.sections.assign(lons, lats, reporter.max_km).section_ids.tolist()
    bodies = [position_body(it, section_ids[i], reporter.country,
                            extras[i] if extras is not None else None)
              for i, it in enumerate(items)]
    for attempt in range(ATTEMPTS):
        with engine.connect() as conn:
            current = _current(conn, reporter.node_id, {it.asset_id for it in items})
        now = now_micros()
        fresh = iter(new_ids(len(items)))
        records: list[Record] = []
        written: list[WrittenAsset] = []
        for item, body, section_id in zip(items, bodies, section_ids, strict=True):
            record_id, version = current.get(item.asset_id, ("", 0))
            record_id = record_id or next(fresh)
            version += 1
            current[item.asset_id] = (record_id, version)
            records.append(Record(RecordKind.asset_position,
                                  record_row(RecordKind.asset_position, record_id,
                                             reporter.node_id, version, body, recorded_at=now)))
            written.append(WrittenAsset(record_id, version, section_id))
        try:
            write_records(engine, records, node_id=reporter.node_id)
        except VersionConflictError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return written
    raise AssertionError("unreachable")
