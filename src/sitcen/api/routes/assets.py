"""The operational layer: where own patrols, vehicles and sensors are, with a short track.

Each asset is one record of kind ``asset_position`` owned by the node that
reports it; every position is a new version of that record, so the journal,
the live stream and the federation carry positions like any other change and
the track is the record's recent history.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.api.node import Node
from sitcen.events import NO_NUL, InvalidInput, Location, as_utc, error
from sitcen.store import schema
from sitcen.store.journal import RecordKind, VersionConflictError
from sitcen.store.records import StoredRecord, list_records, write_record
from sitcen.taxonomy import Handling

router = APIRouter(prefix="/assets", tags=["assets"])

#: Positions kept in an asset's track by default.
TRACK_POINTS = 20


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


class WrittenPosition(BaseModel):
    """The asset record the position was written to."""

    id: uuid.UUID
    version: int
    section_id: str | None


class AssetPublic(BaseModel):
    """An asset's latest position and its recent track (oldest first, [lon, lat, at])."""

    id: uuid.UUID
    origin: str
    version: int
    asset_id: str
    kind: str
    name: str
    status: str
    location: dict[str, Any]
    at: str
    section_id: str | None
    handling: str
    track: list[tuple[float, float, str]]


class AssetList(BaseModel):
    assets: list[AssetPublic]


def _current(node: Node, asset_id: str) -> StoredRecord | None:
    own = list_records(node.engine, RecordKind.asset_position, subject=asset_id,
                       origin=node.settings.node_id, limit=1)
    return own[0] if own else None


@router.post("/positions", status_code=status.HTTP_201_CREATED, response_model=WrittenPosition)
def create_asset_position(item: AssetPositionCreate, node: CurrentNode,
                          _user: Reporting) -> WrittenPosition:
    """Report where an own patrol, vehicle, sensor, camera or aircraft is."""
    try:
        at = as_utc(item.at)
    except ValueError as exc:
        raise InvalidInput([error(("body", "at"), str(exc), "datetime")]) from exc
    lon, lat = item.location.lon, item.location.lat
    section_id, _km = node.sections.assign_one(lon, lat, node.settings.section_max_km)
    body = {
        "asset_id": item.asset_id, "kind": item.kind.value, "name": item.name,
        "status": item.status, "location": item.location.model_dump(exclude_none=True),
        "at": at.isoformat().replace("+00:00", "Z"), "section_id": section_id,
        "country": node.settings.node_country, "handling": str(item.handling),
    }
    for attempt in range(3):
        current = _current(node, item.asset_id)
        try:
            record = write_record(
                node.engine, RecordKind.asset_position, body, node_id=node.settings.node_id,
                record_id=None if current is None else current.id,
                base_version=None if current is None else current.version)
            break
        except VersionConflictError:
            if attempt == 2:
                raise  # answered 409 by the app
    return WrittenPosition(id=uuid.UUID(record.id), version=record.version,
                           section_id=section_id)


def _tracks(node: Node, assets: list[StoredRecord], points: int) -> dict[str, list[Any]]:
    """The older positions of each asset, oldest first (the current one is added by the caller)."""
    if not assets or points <= 1:
        return {}
    v = schema.record_versions
    tracks: dict[str, list[Any]] = {a.id: [] for a in assets}
    with node.engine.connect() as conn:
        for start in range(0, len(assets), 100):
            # Each asset's last versions are one range of the (id, version) key.
            ranges = [sa.and_(v.c.id == a.id, v.c.version > a.version - points)
                      for a in assets[start:start + 100]]
            rows = conn.execute(sa.select(v.c.id, v.c.body).where(sa.or_(*ranges))
                                .order_by(v.c.id, v.c.version))
            for row in rows:
                body = orjson.loads(row.body)
                loc = body.get("location") or {}
                if "lon" in loc and "lat" in loc:
                    tracks[row.id].append((loc["lon"], loc["lat"], body.get("at", "")))
    return tracks


def _public(record: StoredRecord, track: list[Any]) -> dict[str, Any]:
    b = record.body
    loc = b.get("location") or {}
    here = (loc.get("lon"), loc.get("lat"), b.get("at", ""))
    return {
        "id": record.id, "origin": record.origin, "version": record.version,
        "asset_id": b.get("asset_id", record.subject or ""), "kind": b.get("kind", ""),
        "name": b.get("name", ""), "status": b.get("status", ""), "location": loc,
        "at": b.get("at", ""), "section_id": b.get("section_id"),
        "handling": b.get("handling", "RED"),
        "track": [*track, here] if here[0] is not None else track,
    }


@router.get("", response_model=AssetList)
def read_assets(
    node: CurrentNode, _user: Reader,
    track: Annotated[int, Query(ge=1, le=200, description="positions per track")] = TRACK_POINTS,
) -> dict[str, Any]:
    """Every asset's latest position with its recent track (own and received)."""
    assets = list_records(node.engine, RecordKind.asset_position, limit=5000)
    tracks = _tracks(node, assets, track)
    return {"assets": [_public(a, tracks.get(a.id, [])) for a in assets]}
