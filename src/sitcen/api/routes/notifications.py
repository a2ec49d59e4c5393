"""A user's notifications: what they were told about, how much is unread, marking it read."""


import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, Reader, ReaderLanguage
from sitcen.operations.notifications import (
    list_notifications,
    mark_read,
    read_until,
    unread_count,
)
from sitcen.operations.phrases import render
from sitcen.times import UtcDatetime, from_micros, iso, to_micros

router = APIRouter(prefix="/notifications", tags=["notifications"])


class RecordRef(BaseModel):
    """The record a notification is about (the version it was told about)."""

    kind: str
    id: str
    origin: str
    version: int


class NotificationPublic(BaseModel):
    """One thing a user was told about, why, and in one line."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    recorded_at: str
    reason: str
    about: RecordRef
    summary: dict[str, Any] = Field(description="catalogue key and parameters of the line")
    summary_text: str = Field(description="the line in the language asked for")
    text: str
    by: str | None
    section_id: str | None
    serious: bool
    unread: bool


class NotificationPage(BaseModel):
    """The newest notifications (older ones with ``before``), and how many are unread."""

    notifications: list[NotificationPublic]
    unread: int
    read_until: str | None


class ReadMark(BaseModel):
    """Everything up to ``until`` (default: now) has been read."""

    model_config = ConfigDict(extra="forbid")

    until: UtcDatetime | None = None


class ReadState(BaseModel):
    """How far the user has read, and what is still unread."""

    unread: int
    read_until: str | None


def _iso(micros: int) -> str | None:
    return None if micros <= 0 else iso(from_micros(micros))


@router.get("", response_model=NotificationPage)
def read_notifications(
    node: CurrentNode, user: Reader, language: ReaderLanguage,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[datetime | None, Query(description="only older than this (paging)")]
    = None,
) -> dict[str, Any]:
    """The user's notifications, newest first, with the unread count."""
    node_id = node.settings.node_id
    seen = read_until(node.engine, node_id, user.username)
    found = list_notifications(node.engine, user.username, limit=limit,
                               before_us=None if before is None or before.tzinfo is None
                               else to_micros(before))
    items = []
    for record in found:
        recorded = to_micros(record.recorded_at)
        items.append({**record.body, "id": record.id,
                      "recorded_at": record.to_dict()["recorded_at"],
                      "summary_text": render(record.body.get("summary") or {}, language),
                      "unread": recorded > seen})
    return {"notifications": items, "unread": unread_count(node.engine, node_id, user.username),
            "read_until": _iso(seen)}


@router.post("/read", response_model=ReadState)
def create_read_mark(node: CurrentNode, user: Reader,
                     item: ReadMark | None = None) -> dict[str, Any]:
    """Mark the user's notifications read up to a time (default: all of them, now)."""
    node_id = node.settings.node_id
    until = None if item is None or item.until is None else to_micros(item.until)
    marked = mark_read(node.engine, node_id, user.username, until)
    return {"unread": unread_count(node.engine, node_id, user.username),
            "read_until": _iso(marked)}
