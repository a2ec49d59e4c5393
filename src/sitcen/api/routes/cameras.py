"""Cameras and drone flights: the registry, and a flight tasked to a detection
(docs/cameras-drones.md)."""


import uuid
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.api.routes.tasks import Tasker, _posts, _refused, public
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.interop.cameras import CameraCreate, camera_public, list_cameras, register_camera
from sitcen.interop.drones import FlightCreate, list_flights, register_flight, task_to_detection
from sitcen.operations.tasks import TaskError
from sitcen.store.journal import RecordKind
from sitcen.store.records import get_record, list_records

router = APIRouter(tags=["sensors"])


class CameraList(BaseModel):
    """The cameras, newest change first (stream addresses, never credentials)."""

    cameras: list[dict[str, Any]]


class FlightList(BaseModel):
    """The drone flights, newest change first, each an aircraft asset record."""

    flights: list[dict[str, Any]]


def _free_id(node: Any, asset_id: str, block: str) -> None:
    """Refuse an id already used by an asset that is not of this kind."""
    current = list_records(node.engine, RecordKind.asset_position, subject=asset_id,
                           origin=node.settings.node_id, limit=1)
    if current and block not in current[0].body:
        raise InvalidInput([error(("body", f"{block}_id"),
                                  f"an asset that is no {block} has this id", "conflict")])


@router.get("/cameras", response_model=CameraList)
def read_cameras(node: CurrentNode, _user: Reader) -> CameraList:
    """Every camera this node registered, with its field of view"""
    return CameraList(cameras=[camera_public(r)
                               for r in list_cameras(node.engine, node.settings.node_id)])


@router.post("/cameras", status_code=status.HTTP_201_CREATED)
def create_camera(item: CameraCreate, node: CurrentNode, _user: Reporting) -> dict[str, Any]:
    """Register a camera (or change one under the same id); its login is in a file"""
    _free_id(node, item.camera_id, "camera")
    written = register_camera(node.engine, node.reporter, item)
    stored = get_record(node.engine, written.id)
    assert stored is not None
    return camera_public(stored)


@router.get("/drones/flights", response_model=FlightList)
def read_flights(node: CurrentNode, _user: Reader) -> FlightList:
    """Every drone flight this node registered, with its mission area and last position"""
    return FlightList(flights=[r.to_dict()
                               for r in list_flights(node.engine, node.settings.node_id)])


@router.post("/drones/flights", status_code=status.HTTP_201_CREATED)
def create_flight(item: FlightCreate, node: CurrentNode, _user: Reporting) -> dict[str, Any]:
    """Register a drone flight: its MAVLink system id and mission area"""
    _free_id(node, item.flight_id, "flight")
    written = register_flight(node.engine, node.reporter, item)
    stored = get_record(node.engine, written.id)
    assert stored is not None
    return stored.to_dict()


@router.post("/drones/flights/{flight_id}/tasks", status_code=status.HTTP_201_CREATED)
def task_flight(flight_id: str, detection_id: uuid.UUID, node: CurrentNode,
                user: Tasker) -> dict[str, Any]:
    """Send a drone flight to a sensor detection (a task to its place, immediate)"""
    flights = {r.body["asset_id"] for r in list_flights(node.engine, node.settings.node_id)}
    if flight_id not in flights:
        raise NotFound("flight", flight_id)
    detection = get_record(node.engine, str(detection_id))
    if detection is None or detection.kind != RecordKind.sensor_detection:
        raise NotFound("sensor detection", str(detection_id))
    try:
        task = task_to_detection(node.engine, node.reporter, flight_id, detection,
                                 by=user.username, posts=_posts(node))
    except TaskError as exc:
        raise _refused(exc) from exc
    return public(task, task.body, node.settings.node_id)
