"""The validation queue of this node's level: reports waiting, oldest first, and time in queue."""


import base64
import binascii
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sitcen.analysis.workflow import day_in, durations_by
from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import InvalidInput, error
from sitcen.operations.queue import (
    QueueItem,
    chain_of,
    closed_stays,
    queue_counts,
    queue_page,
)
from sitcen.store.journal import now_micros
from sitcen.times import from_micros, iso, to_micros, zone

router = APIRouter(prefix="/queue", tags=["queue"])


class QueueView(StrEnum):
    """Which queue: this level's, the levels below it, or the reports sent back."""

    waiting = "waiting"
    below = "below"
    returned = "returned"


class QueueEntry(BaseModel):
    """A report in a queue: where it waits, since when, and the report itself."""

    event_id: uuid.UUID
    level: str
    round: int = Field(description="0 the first time at this level, 1 after a correction, ...")
    origin: str
    entered_at: str
    waiting_s: float = Field(description="time in this queue so far, in seconds")
    overdue: bool = Field(description="waiting longer than SITCEN_QUEUE_OVERDUE_MIN")
    serious: bool
    late: bool = Field(description="reported more than 24 h after the event")
    state: str
    acted_by: str | None
    acted_node: str | None
    left_at: str | None
    note: str | None = Field(description="the reason of a return or a rejection")
    event: dict[str, Any]


class QueueCounts(BaseModel):
    """What waits at this node's level (and of it, too long, serious, late), below, returned."""

    waiting: int
    overdue: int
    serious: int
    late: int
    below: int
    returned: int


class QueuePage(BaseModel):
    """A page of a queue, serious first, then oldest first."""

    levels: list[str] = Field(description="the chain, lowest level first")
    level: str | None = Field(description="the level this node validates at")
    overdue_after_s: float
    counts: QueueCounts
    items: list[QueueEntry]
    next_cursor: str | None


class DurationGroup(BaseModel):
    """Count, median and 90th percentile of time in queue (seconds) of one group."""

    model_config = {"extra": "allow"}

    count: int
    median_s: float | None
    p90_s: float | None


class QueueStatistics(BaseModel):
    """Time in queue of the stays decided in a window, from the recorded timestamps."""

    since: str
    until: str
    tz: str
    by_level: list[DurationGroup]
    by_level_node: list[DurationGroup]
    by_day: list[DurationGroup]
    counts: QueueCounts


def _iso(micros: int) -> str:
    return iso(from_micros(micros))


def _cursor(text: str | None) -> tuple[int, int, str] | None:
    if not text:
        return None
    try:
        priority, entered, event_id = orjson.loads(base64.urlsafe_b64decode(text + "=="))
        return int(priority), int(entered), str(uuid.UUID(str(event_id)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInput([error(("query", "cursor"), "not a cursor this queue gave",
                                  "cursor")]) from exc


def _next(item: QueueItem) -> str:
    key = [0 if item.serious else 1, item.entered_at, item.event_id]
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _entry(item: QueueItem, now_us: int, overdue_us: int) -> dict[str, Any]:
    end = item.left_at if item.left_at is not None else now_us
    return {"event_id": item.event_id, "level": item.level, "round": item.round,
            "origin": item.origin, "entered_at": _iso(item.entered_at),
            "waiting_s": round((end - item.entered_at) / 1e6, 1),
            "overdue": item.left_at is None and now_us - item.entered_at > overdue_us,
            "serious": item.serious, "late": item.late, "state": item.state,
            "acted_by": item.acted_by, "acted_node": item.acted_node, "note": item.note,
            "left_at": None if item.left_at is None else _iso(item.left_at),
            "event": item.event}


@router.get("", response_model=QueuePage)
def read_queue(
    node: CurrentNode, _user: Reader,
    view: QueueView = QueueView.waiting,
    level: Annotated[str | None, Query(max_length=32, description="another level's queue")]
    = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Reports waiting at this node's level (or below, or returned), serious then oldest first."""
    chain = chain_of(node.settings)
    if level is not None and level not in chain.levels:
        raise InvalidInput([error(("query", "level"),
                                  f"not a level of the chain: {', '.join(chain.levels)}", "enum")])
    after = _cursor(cursor)
    items = queue_page(node.engine, chain, view=view.value, level=level, limit=limit,
                       after=after)
    now = now_micros()
    return {"levels": list(chain.levels), "level": chain.level,
            "overdue_after_s": chain.overdue_us / 1e6,
            "counts": queue_counts(node.engine, chain, now),
            "items": [_entry(i, now, chain.overdue_us) for i in items],
            "next_cursor": _next(items[-1]) if len(items) == limit else None}


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zone(name)
    except ValueError as exc:
        raise InvalidInput([error(("query", "tz"), f"unknown time zone {name!r}", "tz")]
                           ) from exc


@router.get("/statistics", response_model=QueueStatistics)
async def read_queue_statistics(
    node: CurrentNode, _user: Reader,
    since: datetime | None = None, until: datetime | None = None,
    tz: Annotated[str, Query(max_length=64, description="IANA zone of the days")] = "UTC",
) -> dict[str, Any]:
    """Median and 90th percentile time in queue per level, node and day (default: 30 days)."""
    zone = _zone(tz)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput([error(("query", name), "needs a time zone, e.g. Z", "tz")])
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    rows = await run_in_threadpool(closed_stays, node.engine, since_us=to_micros(start),
                                   until_us=to_micros(end))
    for row in rows:
        row["day"] = day_in(row["entered_at"], zone)
    chain = chain_of(node.settings)
    return {"since": start.isoformat(), "until": end.isoformat(), "tz": tz,
            "by_level": durations_by(rows, ["level"], start="entered_at", end="left_at"),
            "by_level_node": durations_by(rows, ["level", "node"], start="entered_at",
                                          end="left_at"),
            "by_day": durations_by(rows, ["day", "level", "node"], start="entered_at",
                                   end="left_at"),
            "counts": queue_counts(node.engine, chain)}
