"""The duty log: the shift's running record of decisions, calls, information and instructions."""


import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict

from sitcen.api.deps import CurrentNode, Reader, StatusChanger
from sitcen.errors import InvalidInput, error
from sitcen.operations.shift import DutyLogEntryCreate, EntryType, read_entries, write_entry
from sitcen.store.records import StoredRecord
from sitcen.times import to_micros

router = APIRouter(prefix="/duty-log", tags=["shift"])


class DutyLogEntryPublic(BaseModel):
    """A line of the duty log."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    recorded_at: str
    author: str
    entry_type: EntryType
    text: str
    at: str
    related: list[dict[str, str]]


class DutyLog(BaseModel):
    """Log entries, newest first."""

    entries: list[DutyLogEntryPublic]


def public(record: StoredRecord) -> dict[str, Any]:
    """The API form of a log entry."""
    return {**record.body, "id": record.id, "origin": record.origin,
            "recorded_at": record.to_dict()["recorded_at"]}


def window(since: datetime | None, until: datetime | None) -> tuple[int | None, int | None]:
    """A query window as µs, refusing times without a zone."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput([error(("query", name), "needs a time zone, e.g. Z", "tz")])
    return (None if since is None else to_micros(since),
            None if until is None else to_micros(until))


@router.get("", response_model=DutyLog)
def read_duty_log(
    node: CurrentNode, _user: Reader,
    since: datetime | None = None, until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="text the entry contains")]
    = None,
    entry_type: EntryType | None = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    """The duty log, newest first: a window, a type, an author, or a text to find."""
    since_us, until_us = window(since, until)
    found = read_entries(node.engine, since_us=since_us, until_us=until_us, text=q,
                         entry_type=None if entry_type is None else entry_type.value,
                         author=author, limit=limit)
    return {"entries": [public(r) for r in found]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DutyLogEntryPublic)
def create_duty_log_entry(item: DutyLogEntryCreate, node: CurrentNode,
                          user: StatusChanger) -> dict[str, Any]:
    """Write a line in the duty log: a decision, a call, information or an instruction."""
    return public(write_entry(node.engine, node.settings.node_id, item, by=user.username))
