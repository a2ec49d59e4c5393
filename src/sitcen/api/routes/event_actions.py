"""Actions on events: validations, returns for correction, rejections, closures, comments.

An action is a record of the acting officer's node (kind ``event_action``),
never an edit of the event itself: the event may belong to another node, and
only its origin changes it (docs/architecture.md, principle 1). The console shows an
event's effective status as the latest status action on it.

Validating, returning for correction and rejecting are the validation chain's
actions (docs/operations.md): they are taken at this node's level, only on a
report waiting in that level's queue, once per stay — the action's id is derived
from the report, the level and the stay, so a second officer acting on a report
another already handled is refused, with who did what and when
(``sitcen.operations.queue.decide``, which the demo's duty officer uses too).
"""


import uuid
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, CurrentUser, Reader
from sitcen.errors import InvalidInput, NotFound, Refused, error
from sitcen.events import NO_NUL
from sitcen.operations.chain import CHAIN_ACTIONS
from sitcen.operations.queue import chain_of, decide
from sitcen.store.events import get_event
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import list_records, write_record
from sitcen.taxonomy import ImpactLevel
from sitcen.times import from_micros, iso
from sitcen.users import Permission, allows

router = APIRouter(prefix="/events", tags=["events"])


class Action(StrEnum):
    """What an officer does about an event."""

    validate = "validate"
    return_for_correction = "return_for_correction"
    reject = "reject"
    close = "close"
    comment = "comment"
    reattribute_impact = "reattribute_impact"


#: The permission each action needs.
NEEDS: dict[Action, Permission] = {
    Action.validate: Permission.change_status,
    Action.return_for_correction: Permission.change_status,
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
                      description="the comment or the reason (required for a comment, a "
                                  "return for correction and a rejection)")


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
    if item.action in (Action.reject, Action.return_for_correction) and not item.text.strip():
        what = "a rejection" if item.action == Action.reject else "a return for correction"
        errors.append(error(("body", "text"), f"{what} needs a reason the reporter can read",
                            "missing"))
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
    if item.action.value in CHAIN_ACTIONS:
        return decide(node.engine, chain_of(node.settings), str(event_id), item.action.value,
                      by=user.username, text=item.text,
                      partner_users=node.settings.partner_users).to_dict()
    body: dict[str, Any] = {
        "event_id": str(event_id),
        "event_origin": event.origin,
        "event_version": event.version,
        "action": item.action.value,
        "impact_level": None if item.impact_level is None else str(item.impact_level),
        "text": item.text,
        "by": user.username,
        "at": _now_iso(),
        "handling": str(event.handling),
    }
    record = write_record(node.engine, RecordKind.event_action, body,
                          node_id=node.settings.node_id)
    return record.to_dict()


def _now_iso() -> str:
    return iso(from_micros(now_micros()))


@router.get("/{event_id}/actions", response_model=list[EventActionPublic])
def read_event_actions(event_id: uuid.UUID, node: CurrentNode,
                       _user: Reader) -> list[dict[str, Any]]:
    """Every action on an event this node holds (its own and received ones), oldest first."""
    if get_event(node.engine, str(event_id)) is None:
        raise NotFound("event", str(event_id))
    actions = list_records(node.engine, RecordKind.event_action, subject=str(event_id))
    return [a.to_dict() for a in reversed(actions)]
