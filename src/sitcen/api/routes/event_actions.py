"""Actions on events: validations, rejections, closures, re-attributed impact levels, comments.

An action is a record of the acting officer's node (kind ``event_action``),
never an edit of the event itself: the event may belong to another node, and
only its origin changes it (docs/architecture.md, principle 1). The console shows an
event's effective status as the latest status action on it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, CurrentUser, Reader
from sitcen.errors import InvalidInput, NotFound, Refused, error
from sitcen.events import NO_NUL
from sitcen.store.events import get_event
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records, write_record
from sitcen.taxonomy import ImpactLevel
from sitcen.users import Permission, allows

router = APIRouter(prefix="/events", tags=["events"])


class Action(StrEnum):
    """What an officer does about an event."""

    validate = "validate"
    reject = "reject"
    close = "close"
    comment = "comment"
    reattribute_impact = "reattribute_impact"


#: The permission each action needs.
NEEDS: dict[Action, Permission] = {
    Action.validate: Permission.change_status,
    Action.reject: Permission.change_status,
    Action.close: Permission.change_status,
    Action.reattribute_impact: Permission.change_status,
    Action.comment: Permission.report_events,
}


class EventActionCreate(BaseModel):
    """An action on an event, as an officer sends it."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    impact_level: ImpactLevel | None = Field(
        None, description="the new impact level (required for reattribute_impact)")
    text: str = Field("", max_length=4000, pattern=NO_NUL,
                      description="the comment or the reason (required for comment)")


class EventActionPublic(BaseModel):
    """An action record as this node holds it."""

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str
    body: dict[str, Any]
    provenance: list[str] | None = None


def _check(item: EventActionCreate) -> None:
    errors = []
    if item.action == Action.reattribute_impact and item.impact_level is None:
        errors.append(error(("body", "impact_level"),
                            "a re-attribution needs the new impact level", "missing"))
    if item.action == Action.comment and not item.text.strip():
        errors.append(error(("body", "text"), "a comment needs a text", "missing"))
    if errors:
        raise InvalidInput(errors)


@router.post("/{event_id}/actions", status_code=status.HTTP_201_CREATED,
             response_model=EventActionPublic)
def create_event_action(event_id: uuid.UUID, item: EventActionCreate, node: CurrentNode,
                        user: CurrentUser) -> dict[str, Any]:
    """Validate, reject, close, re-attribute the impact of, or comment on an event."""
    needed = NEEDS[item.action]
    if not allows(user.role, needed):
        raise Refused(f"role {user.role.value} may not {item.action.value.replace('_', ' ')} "
                      "an event")
    _check(item)
    event = get_event(node.engine, str(event_id))
    if event is None:
        raise NotFound("event", str(event_id))
    body = {
        "event_id": str(event_id),
        "event_origin": event.origin,
        "action": item.action.value,
        "impact_level": None if item.impact_level is None else str(item.impact_level),
        "text": item.text,
        "by": user.username,
        "handling": str(event.handling),
    }
    record = write_record(node.engine, RecordKind.event_action, body,
                          node_id=node.settings.node_id)
    return record.to_dict()


@router.get("/{event_id}/actions", response_model=list[EventActionPublic])
def read_event_actions(event_id: uuid.UUID, node: CurrentNode,
                       _user: Reader) -> list[dict[str, Any]]:
    """Every action on an event this node holds (its own and received ones), oldest first."""
    if get_event(node.engine, str(event_id)) is None:
        raise NotFound("event", str(event_id))
    actions = list_records(node.engine, RecordKind.event_action, subject=str(event_id))
    return [a.to_dict() for a in reversed(actions)]
