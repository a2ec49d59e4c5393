"""Fence and cable segments: the registry and the state each segment is in.

A segment is a ``fence_segment`` record (listed by its ``segment_id``) with
the line it runs along, the sensors that watch it, and its state:
``intact``, ``alarm`` (a watching sensor detected something), ``breached``
(a sensor reported a cut, or a patrol found it broken) and ``repaired``
(a patrol reports it mended; the repair time is kept). Every change of state
is a new version of the record, saying what caused it, so the versions are the
segment's history. Which changes are allowed is :func:`next_state`.
Knows no HTTP and no MQTT.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from sitcen.errors import InvalidInput, error
from sitcen.events import NO_NUL, Location
from sitcen.geo import SectionIndex, geodesic_length_km
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records, write_record
from sitcen.taxonomy import Handling
from sitcen.times import UtcDatetime, iso, moment_or_none

STATES = ("intact", "alarm", "breached", "repaired")
#: Detection kinds from a watching sensor that mean the segment is broken, not only touched.
BREACH_KINDS = frozenset({"cut", "breach"})

LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]
SegmentId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class FenceSegmentCreate(BaseModel):
    """A fence or cable segment to register (or redraw, under the same id)."""

    model_config = ConfigDict(extra="forbid")

    segment_id: SegmentId
    type: Literal["fence", "cable"] = "fence"
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    line: list[LonLat] = Field(min_length=2, max_length=500,
                               description="[lon, lat] points the segment runs along")
    sensor_ids: list[SegmentId] = Field(
        default_factory=list, max_length=200,
        description="the sensors (fence, cable) whose detections concern this segment")
    handling: Handling = Handling.amber


class SegmentReport(BaseModel):
    """What a patrol found at a segment, as an officer reports it."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["intact", "breached", "repaired"]
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL,
                      description="what the patrol saw or did")
    at: UtcDatetime | None = Field(None, description="when (ISO 8601 with a zone); now if left out")


class StateRefused(ValueError):
    """A change of state that does not follow from the segment's current state."""


def next_state(current: str, cause: str) -> str | None:
    """The state after ``cause`` (``detection``, ``cut`` or a patrol's ``intact``,
    ``breached``, ``repaired``); None when nothing changes; :class:`StateRefused` when
    the change makes no sense."""
    if cause == "detection":
        return "alarm" if current in ("intact", "repaired") else None
    if cause in ("cut", "breached"):
        return None if current == "breached" else "breached"
    if cause == "repaired":
        if current != "breached":
            raise StateRefused(f"only a breached segment can be repaired (it is {current})")
        return "repaired"
    if cause == "intact":
        if current == "breached":
            raise StateRefused("a breached segment is reported repaired, not intact")
        return None if current == "intact" else "intact"
    raise StateRefused(f"unknown cause {cause!r}")


def register_segment(engine: sa.Engine, node_id: str, sections: SectionIndex,
                     item: FenceSegmentCreate) -> StoredRecord:
    """Write a segment (intact when new; a redrawn one keeps its state)."""
    for lon, lat in item.line:
        Location(lon=lon, lat=lat)  # raises ValidationError for a point off the globe
    lons = [p[0] for p in item.line]
    lats = [p[1] for p in item.line]
    middle = item.line[len(item.line) // 2]
    section_id, _ = sections.assign_one(middle[0], middle[1])
    current = get_segment(engine, node_id, item.segment_id)
    kept = {k: v for k, v in (current.body if current else {}).items()
            if k in ("state", "state_since", "breached_at", "repaired_at", "repair_minutes",
                     "cause", "changed_by", "breach_event_id")}
    body: dict[str, Any] = {
        "segment_id": item.segment_id, "type": item.type, "name": item.name,
        "line": item.line, "length_km": round(geodesic_length_km(lons, lats), 3),
        "location": {"lon": middle[0], "lat": middle[1]}, "section_id": section_id,
        "sensor_ids": item.sensor_ids, "handling": str(item.handling),
        "state": "intact", "state_since": None, **kept,
    }
    return write_record(engine, RecordKind.fence_segment, body, node_id=node_id,
                        record_id=None if current is None else current.id)


def get_segment(engine: sa.Engine, node_id: str, segment_id: str) -> StoredRecord | None:
    """This node's segment of that id, or None."""
    found = list_records(engine, RecordKind.fence_segment, subject=segment_id, origin=node_id,
                         limit=1)
    return found[0] if found else None


def list_segments(engine: sa.Engine, node_id: str) -> list[StoredRecord]:
    """Every segment this node registered, newest change first."""
    return list_records(engine, RecordKind.fence_segment, origin=node_id, limit=20_000)


def segments_watched_by(engine: sa.Engine, node_id: str, sensor_id: str) -> list[StoredRecord]:
    """The segments a sensor watches."""
    return [s for s in list_segments(engine, node_id) if sensor_id in s.body.get("sensor_ids", [])]


def change_state(engine: sa.Engine, node_id: str, segment: StoredRecord, cause: str, *,
                 at: datetime, by: str, source: dict[str, Any]) -> StoredRecord | None:
    """Apply ``cause`` (see :func:`next_state`) to a segment; the new version, or None when
    the state stays. ``source`` names what caused it (a detection, a patrol report)."""
    current = segment.body.get("state", "intact")
    state = next_state(current, cause)
    if state is None:
        return None
    body = {**segment.body, "state": state, "state_since": iso(at), "changed_by": by,
            "cause": source}
    if state == "breached":
        body.update(breached_at=iso(at), repaired_at=None, repair_minutes=None,
                    breach_event_id=None)
    elif state == "repaired":
        breached = moment_or_none(segment.body.get("breached_at"))
        body["repaired_at"] = iso(at)
        body["repair_minutes"] = (None if breached is None
                                  else round((at - breached).total_seconds() / 60, 1))
    return write_record(engine, RecordKind.fence_segment, body, node_id=node_id,
                        record_id=segment.id)


def note_breach_event(engine: sa.Engine, node_id: str, segment: StoredRecord,
                      event_id: str) -> StoredRecord:
    """Keep the event a breach belongs to on the segment."""
    return write_record(engine, RecordKind.fence_segment,
                        {**segment.body, "breach_event_id": event_id}, node_id=node_id,
                        record_id=segment.id)


def report_refused(exc: StateRefused) -> InvalidInput:
    """A refused change as the one error shape."""
    return InvalidInput([error(("body", "state"), str(exc), "conflict")])
