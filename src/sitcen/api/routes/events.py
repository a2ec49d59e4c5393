"""Event reports: create, batch, read with versions, update by the owner, query."""


import base64
import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, PersonalDataReader, Reader, Reporting
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL, Author, EventBatch, EventCreate, EventPublic, EventUpdate
from sitcen.geo import BBox, parse_bbox
from sitcen.node import Node
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.events import (
    Written,
    event_versions,
    get_event,
    personal_data_of,
    report_events,
    update_event,
)
from sitcen.store.queries import BadCursorError, EventFilter, event_columns, query_events
from sitcen.store.users import author
from sitcen.taxonomy import EVENT_TYPES, Category, Handling, ImpactLevel, Status
from sitcen.times import as_utc, to_micros
from sitcen.users import Permission, allows

router = APIRouter(prefix="/events", tags=["events"])


class WrittenEvent(BaseModel):
    """Where a written event ended up."""

    id: uuid.UUID
    version: int
    section_id: str | None
    section_distance_km: float


class BatchResult(BaseModel):
    """The events a batch wrote, in the order sent."""

    written: int
    events: list[WrittenEvent]


class EventPage(BaseModel):
    """One page of a query, newest first."""

    items: list[EventPublic]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class OutputFormat(StrEnum):
    json = "json"
    geojson = "geojson"


def _written(w: Written) -> WrittenEvent:
    return WrittenEvent(id=uuid.UUID(w.id), version=w.version, section_id=w.section_id,
                        section_distance_km=round(w.section_distance_km, 3))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WrittenEvent)
def create_event(item: EventCreate, node: CurrentNode, user: Reporting) -> WrittenEvent:
    """Report one event."""
    _check_initial_status([item], user_may_validate=allows(user.role, Permission.change_status))
    (written,) = report_events(node.engine, node.reporter, [item], by=author(user))
    return _written(written)


_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}},
    }
}


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=BatchResult,
             openapi_extra=_BATCH_BODY)
async def create_events(request: Request, node: CurrentNode, user: Reporting) -> Response:
    """Report up to 10,000 events, all or nothing; errors name each item's index."""
    raw = await request.body()
    may_validate = allows(user.role, Permission.change_status)
    # Validating straight from the JSON bytes and answering with orjson skips two
    # passes through Python objects that FastAPI would make for a 10,000-item body.
    payload = await run_in_threadpool(_write_batch, node, raw, may_validate, author(user))
    # A batch is work enough for a new connection. Closing this one lets the
    # client's next batch go to whichever app process is free (sitcen serve
    # --workers N) instead of the one its kept-alive connection happens to hold,
    # which would leave the other processes idle.
    return Response(payload, status_code=status.HTTP_201_CREATED, media_type="application/json",
                    headers={"Connection": "close"})


def _write_batch(node: Node, raw: bytes, may_validate: bool, by: Author) -> bytes:
    try:
        batch = EventBatch.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from exc
    _check_initial_status(batch.events, may_validate, batch=True)
    return batch_answer(report_events(node.engine, node.reporter, batch.events, batch=True,
                                      by=by))


def batch_answer(written: list[Written]) -> bytes:
    """The batch route's answer (a ``BatchResult`` as JSON): each event written, in order."""
    return orjson.dumps({"written": len(written), "events": [
        {"id": w.id, "version": w.version, "section_id": w.section_id,
         "section_distance_km": round(w.section_distance_km, 3)} for w in written]})


def _check_initial_status(
    items: list[EventCreate], user_may_validate: bool, batch: bool = False
) -> None:
    if user_may_validate:
        return
    errors = [
        error(("body", "events", i, "status") if batch else ("body", "status"),
              "only a duty officer may report an event as validated", "forbidden_transition")
        for i, it in enumerate(items) if it.status != Status.reported
    ]
    if errors:
        raise InvalidInput(errors)


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def _bbox(raw: str | None) -> BBox | None:
    if raw is None:
        return None
    try:
        return parse_bbox(raw)
    except ValueError as exc:
        raise InvalidInput([error(("query", "bbox"), str(exc), "bbox")]) from exc


def _time(name: str, value: datetime | None) -> int | None:
    if value is None:
        return None
    try:
        return to_micros(as_utc(value))
    except ValueError as exc:
        raise InvalidInput([error(("query", name), str(exc), "datetime")]) from exc


def _check_choice(name: str, values: list[str], allowed: set[str]) -> list[str]:
    for v in values:
        if v not in allowed:
            raise InvalidInput([error(("query", name), f"unknown value {v!r}", "enum")])
    return values


COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


def _check_pattern(name: str, values: list[str], pattern: re.Pattern[str]) -> list[str]:
    for v in values:
        if not pattern.match(v):
            raise InvalidInput([error(("query", name), f"malformed value {v!r}", "pattern")])
    return values


ListParam = Annotated[list[str] | None, Query(description="one or more values, comma-separated")]


def event_filter(
    since: Annotated[datetime | None, Query(description="occurred at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="occurred before (ISO 8601)")] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    section: ListParam = None,
    country: ListParam = None,
    category: ListParam = None,
    type: ListParam = None,
    impact_level: ListParam = None,
    status: ListParam = None,
    handling: ListParam = None,
    origin: ListParam = None,
) -> EventFilter:
    """The event query the parameters describe (shared by every route that queries events)."""
    return EventFilter(
        since=_time("since", since),
        until=_time("until", until),
        bbox=_bbox(bbox),
        section_ids=_split(section),
        countries=_check_pattern("country", _split(country), COUNTRY_PATTERN),
        categories=_check_choice("category", _split(category), {c.value for c in Category}),
        types=_check_choice("type", _split(type), set(EVENT_TYPES)),
        impact_levels=_check_choice("impact_level", _split(impact_level),
                                    {v.value for v in ImpactLevel}),
        statuses=_check_choice("status", _split(status), {v.value for v in Status}),
        handlings=_check_choice("handling", _split(handling), {v.value for v in Handling}),
        origins=_split(origin),
    )


EventQuery = Annotated[EventFilter, Depends(event_filter)]


@router.get("", response_model=EventPage)
def read_events(
    node: CurrentNode,
    _user: Reader,
    filt: EventQuery,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    format: Annotated[OutputFormat, Query()] = OutputFormat.json,
) -> Response:
    """Query events by time window, bbox, section, country, taxonomy, impact and status."""
    with node.engine.connect() as conn:
        try:
            bodies, next_cursor = query_events(conn, filt, limit=limit, cursor=cursor)
        except BadCursorError as exc:
            raise InvalidInput([error(("query", "cursor"), str(exc), "cursor")]) from exc
    if format == OutputFormat.geojson:
        return Response(_feature_collection(bodies, next_cursor), media_type="application/geo+json")
    tail = orjson.dumps(next_cursor)
    payload = b'{"items":[' + ",".join(bodies).encode() + b'],"next_cursor":' + tail + b"}"
    return Response(payload, media_type="application/json")


def _feature_collection(bodies: list[str], next_cursor: str | None) -> bytes:
    features: list[dict[str, Any]] = []
    for raw in bodies:
        body = orjson.loads(raw)
        loc = body["location"]
        features.append({
            "type": "Feature",
            "id": body["id"],
            "geometry": {"type": "Point", "coordinates": [loc["lon"], loc["lat"]]},
            "properties": body,
        })
    return orjson.dumps({"type": "FeatureCollection", "features": features,
                         "next_cursor": next_cursor})


MAX_COLUMNS = 100_000
CODED_COLUMNS = ("category", "type", "impact_level", "status", "section_id")


class CodedColumn(BaseModel):
    """A column of few distinct values: entry i is ``values[codes[i]]``."""

    values: list[str | None]
    codes: list[int]


class EventColumns(BaseModel):
    """Events as parallel arrays, entry i of each being event i, newest first."""

    count: int
    truncated: bool = Field(description="more events matched than the limit; the newest are given")
    id: list[uuid.UUID] | None = Field(None, description="absent when compact")
    ids_base64: str | None = Field(
        None, description="compact only: every id's 16 bytes, one after another, in base64")
    version: list[int]
    occurred_at_ms: list[int] | None = Field(
        None, description="milliseconds since 1970-01-01 UTC; absent when compact")
    occurred_at_gaps_ms: list[int] | None = Field(
        None, description="compact only: the newest event's occurred_at_ms, then how many "
                          "milliseconds each event happened before the one ahead of it")
    lon: list[float | None] = Field(description="degrees, rounded to 5 decimals (about 1 m)")
    lat: list[float | None] = Field(description="degrees, rounded to 5 decimals (about 1 m)")
    category: CodedColumn
    type: CodedColumn
    impact_level: CodedColumn
    status: CodedColumn
    section_id: CodedColumn


def _coded(column: list[Any]) -> dict[str, list[Any]]:
    values = list(dict.fromkeys(column))
    code = {v: i for i, v in enumerate(values)}
    return {"values": values, "codes": [code[v] for v in column]}


@router.get("/columns", response_model=EventColumns)
def read_event_columns(
    node: CurrentNode,
    _user: Reader,
    filt: EventQuery,
    limit: Annotated[int, Query(ge=1, le=MAX_COLUMNS)] = MAX_COLUMNS,
    compact: Annotated[bool, Query(description=(
        "ids as packed bytes and times as gaps: a quarter fewer bytes after gzip, for poor "
        "links"))] = False,
) -> Response:
    """A whole query in one answer as columns of what a map needs (up to 100,000 events)."""
    with node.engine.connect() as conn:
        columns, truncated = event_columns(conn, filt, limit=limit)
    occurred_ms = np.array(columns["occurred_at"], dtype=np.int64) // 1000
    # Random ids as hex text are 39 bytes each and gzip wins back little; their bytes in
    # base64 are 22. Times newest first differ by minutes: gaps are short numbers.
    when: dict[str, Any] = {"occurred_at_ms": occurred_ms, "id": columns["id"]}
    if compact:
        when = {
            "ids_base64": base64.b64encode(
                b"".join(uuid.UUID(i).bytes for i in columns["id"])).decode(),
            "occurred_at_gaps_ms": np.concatenate((occurred_ms[:1], -np.diff(occurred_ms))),
        }
    # Repeated strings as codes and coordinates to a metre: 50,000 events in ~4 MB, not 7.
    payload = orjson.dumps({
        "count": len(columns["id"]),
        "truncated": truncated,
        **when,
        "version": columns["version"],
        "lon": np.round(np.array(columns["lon"], dtype=np.float64), 5),  # None: NaN, sent as null
        "lat": np.round(np.array(columns["lat"], dtype=np.float64), 5),
        **{name: _coded(columns[name]) for name in CODED_COLUMNS},
    }, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(payload, media_type="application/json")


@router.get("/{event_id}", response_model=EventPublic)
def read_event(event_id: uuid.UUID, node: CurrentNode, _user: Reader) -> EventPublic:
    """Read the current version of one event."""
    event = get_event(node.engine, str(event_id))
    if event is None:
        raise NotFound("event", str(event_id))
    return event


@router.get("/{event_id}/versions", response_model=list[EventPublic])
def read_event_versions(event_id: uuid.UUID, node: CurrentNode, _user: Reader) -> Response:
    """Every version of one event, oldest first."""
    versions = event_versions(node.engine, str(event_id))
    if not versions:
        raise NotFound("event", str(event_id))
    return Response(orjson.dumps(versions), media_type="application/json")


@router.put("/{event_id}", response_model=WrittenEvent)
def update_one_event(
    event_id: uuid.UUID, item: EventUpdate, node: CurrentNode, user: Reporting
) -> WrittenEvent:
    """Write a new version of an event this node owns."""
    written = update_event(node.engine, node.reporter, str(event_id), item,
                           may_change_status=allows(user.role, Permission.change_status),
                           by=author(user))
    return _written(written)


@router.get("/{event_id}/personal-data")
def read_personal_data(
    event_id: uuid.UUID, node: CurrentNode, user: PersonalDataReader,
    purpose: Annotated[str, Query(
        min_length=3, max_length=500, pattern=NO_NUL,
        description="why you need the persons (kept in the audit trail), e.g. 'validation "
                    "of the report', 'request for information from TJ'")],
) -> list[dict[str, Any]]:
    """Personal data attached to an event (need-to-know roles, with the purpose of the read).

    Every read is an entry of the audit trail: who, which event, and why.
    """
    if get_event(node.engine, str(event_id)) is None:
        raise NotFound("event", str(event_id))
    audit.record(node.engine, user.username, AuditAction.personal_data_read, str(event_id),
                 {"purpose": purpose.strip()})
    return personal_data_of(node.engine, str(event_id))
