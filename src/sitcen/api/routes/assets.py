"""The operational layer: where own patrols, vehicles and sensors are, with a short track.

Each asset is one record of kind ``asset_position`` owned by the node that
reports it; every position is a new version of that record, so the journal,
the live stream and the federation carry positions like any other change and
the track is the record's recent history.
"""


import uuid
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.errors import InvalidInput, error
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.assets import AssetPositionCreate, write_positions
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records

router = APIRouter(prefix="/assets", tags=["assets"])

#: Positions kept in an asset's track by default.
TRACK_POINTS = 20


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
    track: list[list[float | str]] = Field(
        description="[lon, lat, time] of the last positions, oldest first")
    footprint: list[list[float]] | None = Field(
        None, description="a drone's sensor footprint, a closed ring of [lon, lat] "
                          "(docs/cameras-drones.md); none for other assets")


class AssetList(BaseModel):
    assets: list[AssetPublic]


@router.post("/positions", status_code=status.HTTP_201_CREATED, response_model=WrittenPosition)
def create_asset_position(item: AssetPositionCreate, node: CurrentNode,
                          _user: Reporting) -> WrittenPosition:
    """Report where an own patrol, vehicle, sensor, camera or aircraft is."""
    try:
        written = write_positions(node.engine, node.reporter, [item])[0]
    except ValueError as exc:
        raise InvalidInput([error(("body", "at"), str(exc), "datetime")]) from exc
    return WrittenPosition(id=uuid.UUID(written.id), version=written.version,
                           section_id=written.section_id)


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
        "footprint": (b.get("drone") or {}).get("footprint"),
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
