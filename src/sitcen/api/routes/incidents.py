"""Incidents: the evidence correlation grouped into a proposed event, and undoing a grouping
(docs/surveillance.md)."""


import uuid
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, Reader, StatusChanger
from sitcen.errors import NotFound
from sitcen.events import NO_NUL
from sitcen.operations.incidents import evidence_of, ungroup
from sitcen.store.events import get_event

router = APIRouter(prefix="/incidents", tags=["events"])


class IncidentPublic(BaseModel):
    """An incident: its event and the evidence grouped into it, each piece explained."""

    event_id: str
    evidence: list[dict[str, Any]]


class UngroupCreate(BaseModel):
    """Which grouping the duty officer undoes, and why."""

    model_config = ConfigDict(extra="forbid")

    grouping_id: uuid.UUID = Field(description="the id of the group action to undo")
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL,
                      description="why the piece does not belong to the incident")


@router.get("/{event_id}", response_model=IncidentPublic)
def read_incident(event_id: uuid.UUID, node: CurrentNode, _user: Reader) -> IncidentPublic:
    """The evidence grouped into an event, with the rule, distance and gap of each piece
    and every attachment of its record."""
    if get_event(node.engine, str(event_id)) is None:
        raise NotFound("event", str(event_id))
    return IncidentPublic(event_id=str(event_id), evidence=evidence_of(node.engine,
                                                                       str(event_id)))


@router.post("/{event_id}/ungroup", status_code=status.HTTP_201_CREATED)
def create_ungrouping(event_id: uuid.UUID, item: UngroupCreate, node: CurrentNode,
                      user: StatusChanger) -> dict[str, Any]:
    """Take a piece of evidence out of an incident (an ``ungroup`` action on its event)."""
    if get_event(node.engine, str(event_id)) is None:
        raise NotFound("event", str(event_id))
    return ungroup(node.engine, node.settings.node_id, str(event_id), str(item.grouping_id),
                   by=user.username, text=item.text).to_dict()
