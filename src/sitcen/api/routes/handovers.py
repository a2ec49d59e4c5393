"""Shift handovers: generated at the end of a shift, signed off by the incoming officer."""


import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from sitcen.api.deps import CurrentNode, Reader, StatusChanger
from sitcen.api.records import found_record
from sitcen.api.routes.duty_log import window
from sitcen.errors import Refused
from sitcen.operations.queue import chain_of
from sitcen.operations.shift import (
    HandoverCreate,
    ShiftError,
    SignOff,
    hand_over,
    search_handovers,
    shift_start,
    shift_summary,
    sign_off,
)
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import StoredRecord
from sitcen.times import from_micros, iso

router = APIRouter(prefix="/handovers", tags=["shift"])


class HandoverPublic(BaseModel):
    """A shift handover: what was open, what happened, the officers' words and signatures."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID | None
    version: int | None
    from_officer: str
    to_officer: str | None
    period_from: str
    period_to: str
    open: dict[str, Any]
    happened: dict[str, Any]
    notes: str
    status: str
    signed_off_by: str | None
    signed_off_at: str | None


class HandoverList(BaseModel):
    """Past shifts, newest first."""

    handovers: list[HandoverPublic]


def public(record: StoredRecord) -> dict[str, Any]:
    """The API form of a handover."""
    return {**record.body, "id": record.id, "version": record.version,
            "recorded_at": record.to_dict()["recorded_at"]}


@router.get("", response_model=HandoverList)
def read_handovers(
    node: CurrentNode, _user: Reader,
    since: datetime | None = None, until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the notes or the log")]
    = None,
    officer: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Past shifts: handovers by window, officer or a text in their notes and log."""
    since_us, until_us = window(since, until)
    found = search_handovers(node.engine, since_us=since_us, until_us=until_us, text=q,
                             officer=officer, limit=limit)
    return {"handovers": [public(r) for r in found]}


@router.get("/draft", response_model=HandoverPublic)
def read_handover_draft(node: CurrentNode, user: Reader) -> dict[str, Any]:
    """What a handover made now would say (nothing is written)."""
    now_us = now_micros()
    since_us = shift_start(node.engine, now_us)
    summary = shift_summary(node.engine, node.settings.node_id, chain_of(node.settings),
                            since_us=since_us, until_us=now_us,
                            today=datetime.now(UTC).date())
    return {"id": None, "version": None, "from_officer": user.username, "to_officer": None,
            "period_from": iso(from_micros(since_us)), "period_to": iso(from_micros(now_us)),
            **summary, "notes": "", "status": "draft", "signed_off_by": None,
            "signed_off_at": None}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=HandoverPublic)
def create_handover(item: HandoverCreate, node: CurrentNode,
                    user: StatusChanger) -> dict[str, Any]:
    """Hand the shift over: what is open and what happened, with the officer's notes."""
    record = hand_over(node.engine, node.settings.node_id, chain_of(node.settings), item,
                       by=user.username, today=datetime.now(UTC).date())
    return public(record)


@router.get("/{handover_id}", response_model=HandoverPublic)
def read_handover(handover_id: uuid.UUID, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """One handover."""
    return public(found_record(node, RecordKind.handover, handover_id))


@router.post("/{handover_id}/sign-off", response_model=HandoverPublic)
def create_sign_off(handover_id: uuid.UUID, node: CurrentNode, user: StatusChanger,
                    item: SignOff | None = None) -> dict[str, Any]:
    """Take the shift over: the incoming officer signs the handover off (once)."""
    try:
        record = sign_off(node.engine, node.settings.node_id, str(handover_id),
                          item or SignOff(), by=user.username)
    except ShiftError as exc:
        raise Refused(str(exc), status=409, kind=exc.kind, loc=["path", exc.field]) from exc
    return public(record)
