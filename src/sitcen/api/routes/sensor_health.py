"""Sensor health: open silences and faults, and availability over time
(docs/surveillance.md)."""


from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import InvalidInput, error
from sitcen.interop.mqtt import list_sensors
from sitcen.interop.sensor_health import availability, open_faults
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.times import parse_moment

router = APIRouter(prefix="/sensor-health", tags=["sensors"])


class SensorHealthList(BaseModel):
    """Each registered sensor with its open conditions (silent, fault, tamper, battery_low)."""

    sensors: list[dict[str, Any]]


class Availability(BaseModel):
    """Share of the period each sensor and each section was watching."""

    since: str
    until: str
    sensors: list[dict[str, Any]]
    sections: list[dict[str, Any]]


def _faults(node: CurrentNode) -> list[Any]:
    return list_records(node.engine, RecordKind.sensor_fault, origin=node.settings.node_id,
                        limit=100_000)


@router.get("", response_model=SensorHealthList)
def read_sensor_health(node: CurrentNode, _user: Reader) -> SensorHealthList:
    """Every sensor's open silences, faults, tamper alarms and low batteries."""
    open_now = open_faults(_faults(node))
    rows = []
    for sensor in list_sensors(node.engine, node.settings.node_id):
        b = sensor.body
        conditions = open_now.get(b["asset_id"], [])
        rows.append({"sensor_id": b["asset_id"], "name": b.get("name"),
                     "section_id": b.get("section_id"), "location": b.get("location"),
                     "ok": not conditions,
                     "conditions": [c["body"]["condition"] for c in conditions],
                     "open": conditions})
    return SensorHealthList(sensors=sorted(rows, key=lambda r: r["sensor_id"]))


def _moment(name: str, value: str | None, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        return parse_moment(value, bound=True)
    except ValueError as exc:
        raise InvalidInput([error(("query", name), str(exc))]) from None


@router.get("/availability", response_model=Availability)
def read_availability(
    node: CurrentNode, _user: Reader,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601; a day ago if "
                                                                  "left out")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO 8601; now if left "
                                                                  "out")] = None,
    section_id: Annotated[str | None, Query(max_length=64, description="only this section")]
    = None,
) -> Availability:
    """Availability of each sensor and each border section over a period."""
    end = _moment("until", until, datetime.now(UTC))
    start = _moment("since", since, end - timedelta(days=1))
    if end <= start:
        raise InvalidInput([error(("query", "until"), "must come after since")])
    sensors = [s for s in list_sensors(node.engine, node.settings.node_id)
               if section_id is None or s.body.get("section_id") == section_id]
    return Availability(**availability(sensors, _faults(node), start, end))
