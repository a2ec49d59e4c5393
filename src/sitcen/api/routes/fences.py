"""Fence and cable segments: the registry, their states, and patrols' reports on them
(docs/surveillance.md)."""


from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ValidationError

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.interop.mqtt import load_sensor_mapping
from sitcen.interop.surveillance import Surveillance, segment_report
from sitcen.operations.fences import (
    FenceSegmentCreate,
    SegmentReport,
    get_segment,
    list_segments,
    register_segment,
)
from sitcen.store.records import record_history

router = APIRouter(prefix="/fences", tags=["sensors"])


class SegmentList(BaseModel):
    segments: list[dict[str, Any]]


class SegmentReportResult(BaseModel):
    """The segment after a patrol's report, and the event proposed because of it, if any."""

    segment: dict[str, Any]
    event_id: str | None


@router.get("", response_model=SegmentList)
def read_segments(node: CurrentNode, _user: Reader) -> SegmentList:
    """Every fence and cable segment of this node with its state."""
    return SegmentList(segments=[r.to_dict() for r in list_segments(node.engine,
                                                                      node.settings.node_id)])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_segment(item: FenceSegmentCreate, node: CurrentNode,
                   _user: Reporting) -> dict[str, Any]:
    """Register a fence or cable segment, or redraw one (same id: a new version, same state)."""
    try:
        record = register_segment(node.engine, node.settings.node_id, node.reporter.sections,
                                  item)
    except ValidationError as exc:
        raise InvalidInput([error(("body", "line"), exc.errors()[0]["msg"])]) from exc
    return record.to_dict()


@router.get("/{segment_id}")
def read_segment(segment_id: str, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """One segment, with every state it has been in (oldest first)."""
    record = get_segment(node.engine, node.settings.node_id, segment_id)
    if record is None:
        raise NotFound("fence segment", segment_id)
    data = record.to_dict()
    data["history"] = [{"version": v["version"]}
                       | {k: v["body"].get(k) for k in ("state", "state_since", "changed_by",
                                                        "cause", "repair_minutes")}
                       for v in record_history(node.engine, record.id)]
    return data


@router.post("/{segment_id}/reports", response_model=SegmentReportResult)
def create_segment_report(segment_id: str, item: SegmentReport, node: CurrentNode,
                          user: Reporting) -> SegmentReportResult:
    """Report what a patrol found at a segment: intact, breached or repaired."""
    record = get_segment(node.engine, node.settings.node_id, segment_id)
    if record is None:
        raise NotFound("fence segment", segment_id)
    surveillance = Surveillance(node, load_sensor_mapping(node.settings.sensor_mapping_file))
    segment, event_id = segment_report(surveillance, record, item, by=user.username)
    return SegmentReportResult(segment=segment.to_dict(), event_id=event_id)
