"""The sensor registry and the detections the sensors reported (docs/sensors.md)."""


from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ValidationError

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.interop.mqtt import (
    SensorCreate,
    SensorPublic,
    get_sensor,
    list_sensors,
    register_sensor,
    sensor_public,
)
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records

router = APIRouter(prefix="/sensors", tags=["sensors"])


class SensorList(BaseModel):
    sensors: list[SensorPublic]


class DetectionList(BaseModel):
    """Detections, newest first, each a ``sensor_detection`` record."""

    detections: list[dict[str, Any]]


@router.get("", response_model=SensorList)
def read_sensors(node: CurrentNode, _user: Reader) -> SensorList:
    """Every sensor this node registered, with its coverage."""
    return SensorList(sensors=[sensor_public(r)
                               for r in list_sensors(node.engine, node.settings.node_id)])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SensorPublic)
def create_sensor(item: SensorCreate, node: CurrentNode, _user: Reporting) -> SensorPublic:
    """Register a sensor, or move one (a new version under the same sensor id)."""
    current = list_records(node.engine, RecordKind.asset_position, subject=item.sensor_id,
                           origin=node.settings.node_id, limit=1)
    if current and "sensor" not in current[0].body:
        raise InvalidInput([error(("body", "sensor_id"),
                                  "an asset that is no sensor has this id", "conflict")])
    try:
        register_sensor(node.engine, node.reporter, item)
    except ValidationError as exc:
        raise InvalidInput([error(("body", "coverage_line"), exc.errors()[0]["msg"])]) from exc
    stored = get_sensor(node.engine, node.settings.node_id, item.sensor_id)
    assert stored is not None
    return sensor_public(stored)


@router.get("/detections", response_model=DetectionList)
def read_detections(
    node: CurrentNode, _user: Reader,
    section_id: Annotated[str | None, Query(max_length=64, description="only this section")]
    = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> DetectionList:
    """Recent sensor detections, newest first, optionally of one border section."""
    records = list_records(node.engine, RecordKind.sensor_detection, subject=section_id,
                           limit=limit)
    return DetectionList(detections=[r.to_dict() for r in records])


@router.get("/{sensor_id}", response_model=SensorPublic)
def read_sensor(sensor_id: str, node: CurrentNode, _user: Reader) -> SensorPublic:
    """One registered sensor."""
    record = get_sensor(node.engine, node.settings.node_id, sensor_id)
    if record is None:
        raise NotFound("sensor", sensor_id)
    return sensor_public(record)
