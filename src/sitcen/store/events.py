"""Reporting events: checking, placing on a border section, and writing through the journal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa

from sitcen.errors import InvalidInput, NotFound, Refused, VersionConflictError, error
from sitcen.events import (
    DECIDED,
    Author,
    EventCreate,
    EventPublic,
    EventUpdate,
    check_report,
    check_update,
)
from sitcen.geo import SectionIndex
from sitcen.store import schema
from sitcen.store.grid import cell_of
from sitcen.store.journal import Record, new_ids, now_micros, write_records
from sitcen.store.sql import select_in, select_value
from sitcen.taxonomy import EVENT_TYPES
from sitcen.times import from_micros, iso, to_micros


@dataclass(frozen=True)
class Reporter:
    """Who writes: the node (owner of the records) and its reference data."""

    node_id: str
    country: str
    sections: SectionIndex
    max_km: float
    clock_skew: timedelta


@dataclass(frozen=True)
class Written:
    """What a write returns for each event."""

    id: str
    version: int
    section_id: str | None
    section_distance_km: float


_BODY_EXCLUDE = {"subjects", "base_version", "reported_at", "country", "follow_up_of"}


def _body(
    item: EventCreate | EventUpdate,
    *,
    event_id: str,
    origin: str,
    version: int,
    country: str,
    reported_at: str,
    recorded_at: str,
    section_id: str | None,
    distance_km: float,
    has_personal_data: bool,
    by: Author | None = None,
) -> bytes:
    """The public form of an event (JSON), as stored in its ``body`` column.

    The reported fields are serialised by pydantic in one call and joined to
    the fields the node adds; this is the hot path of batch ingest.
    """
    added = orjson.dumps({
        "id": event_id,
        "origin": origin,
        "version": version,
        "category": EVENT_TYPES[str(item.type)].category,
        "country": country,
        "reported_at": reported_at,
        "recorded_at": recorded_at,
        "section_id": section_id,
        "section_distance_km": round(distance_km, 3),
        "follow_up_of": str(item.follow_up_of) if item.follow_up_of else None,
        "has_personal_data": has_personal_data,
        **({"recorded_by": {"username": by.username, "full_name": by.full_name}}
           if by is not None else {}),
    })
    reported = item.model_dump_json(exclude=_BODY_EXCLUDE).encode()
    return added[:-1] + b"," + reported[1:]


def _row(body: bytes, item: EventCreate | EventUpdate, *, event_id: str, origin: str,
         version: int, country: str, section_id: str | None, reported_at: int,
         recorded_at: int, cell: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "origin": origin,
        "version": version,
        "type": str(item.type),
        "category": EVENT_TYPES[str(item.type)].category,
        "occurred_at": to_micros(item.occurred_at),
        "reported_at": reported_at,
        "recorded_at": recorded_at,
        "lon": item.location.lon,
        "lat": item.location.lat,
        "cell": cell,
        "section_id": section_id,
        "country": country,
        "impact_level": item.impact_level,
        "status": item.status,
        "handling": item.handling,
        "follow_up_of": str(item.follow_up_of) if item.follow_up_of else None,
        "body": body.decode(),
    }


def _missing_follow_ups(conn: sa.Connection, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    e = schema.events
    return wanted - {row.id for row in select_in(conn, sa.select(e.c.id), e.c.id, wanted)}


def report_events(
    engine: sa.Engine,
    reporter: Reporter,
    items: Sequence[EventCreate],
    *,
    batch: bool = False,
    now: datetime | None = None,
    by: Author | None = None,
) -> list[Written]:
    """Check, place and write new reports, all or nothing.

    ``by`` is the person reporting (kept in each body as ``recorded_by``).
    Raises :class:`InvalidInput` with every error found (the path of each
    names its place in the batch) and writes nothing when there is one.
    """
    now_us = now_micros()
    now_dt = now or from_micros(now_us)
    errors: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        errors += check_report(item, i if batch else None, now_dt, reporter.clock_skew)
    follow_ups = {str(it.follow_up_of) for it in items if it.follow_up_of is not None}
    ids = new_ids(len(items))
    with engine.connect() as conn:
        missing = _missing_follow_ups(conn, follow_ups)
    for i, item in enumerate(items):
        if item.follow_up_of is not None and str(item.follow_up_of) in missing:
            prefix: tuple[str | int, ...] = ("body", "events", i) if batch else ("body",)
            errors.append(error((*prefix, "follow_up_of"), "no event with this id", "not_found"))
    if errors:
        raise InvalidInput(errors)

    lons = np.fromiter((it.location.lon for it in items), dtype=float, count=len(items))
    lats = np.fromiter((it.location.lat for it in items), dtype=float, count=len(items))
    placed = reporter.sections.assign(lons, lats, reporter.max_km)
    cells = cell_of(lons, lats)
    records: list[Record] = []
    written: list[Written] = []
    now_iso = iso(now_dt)
    section_ids = placed.section_ids.tolist()
    distances = placed.distance_km.tolist()
    cell_list = cells.tolist()
    for i, item in enumerate(items):
        section_id = section_ids[i]
        country = item.country or reporter.country
        if item.reported_at is None:
            reported_iso, reported_us = now_iso, now_us
        else:
            reported_iso, reported_us = iso(item.reported_at), to_micros(item.reported_at)
        body = _body(
            item, event_id=ids[i], origin=reporter.node_id, version=1, country=country,
            reported_at=reported_iso, recorded_at=now_iso, section_id=section_id,
            distance_km=distances[i], has_personal_data=bool(item.subjects), by=by,
        )
        row = _row(body, item, event_id=ids[i], origin=reporter.node_id, version=1,
                   country=country, section_id=section_id, reported_at=reported_us,
                   recorded_at=now_us, cell=cell_list[i])
        records.append(Record("event", row))
        if item.subjects:
            records.append(_personal_record(ids[i], reporter.node_id, item, now_us))
        written.append(Written(ids[i], 1, section_id, distances[i]))
    write_records(engine, records, node_id=reporter.node_id)
    return written


def _personal_record(event_id: str, origin: str, item: EventCreate, now_us: int) -> Record:
    body = {
        "event_id": event_id,
        "subjects": [s.model_dump(mode="json", exclude_none=True) for s in item.subjects],
    }
    return Record(
        "personal_data",
        {
            "id": str(uuid.uuid4()),
            "origin": origin,
            "version": 1,
            "event_id": event_id,
            "recorded_at": now_us,
            "body": orjson.dumps(body).decode(),
        },
    )


def update_event(
    engine: sa.Engine,
    reporter: Reporter,
    event_id: str,
    item: EventUpdate,
    *,
    may_change_status: bool,
    by: Author | None = None,
    on_authority: bool = False,
) -> Written:
    """Write a new version of one of this node's events, made by ``by``.

    Once a duty officer has validated, closed or rejected an event, only a
    person who may change the status (``may_change_status``) changes it, or
    a step taken on their authority (``on_authority``: a task's answer);
    anyone else is refused with 403 ``decided`` and reports a follow-up.
    Raises :class:`NotFound` for an unknown event, :class:`NotOwnerError` for
    another node's, :class:`VersionConflictError` when ``base_version`` is no
    longer the current one, :class:`InvalidInput` for a change that breaks a rule.
    """
    now_us = now_micros()
    current = get_event(engine, event_id)
    if current is None:
        raise NotFound("event", event_id)
    if current.status in DECIDED and current.origin == reporter.node_id and not (
            may_change_status or on_authority):
        raise Refused(f"event {event_id} is {current.status}: a duty officer decided on it, "
                      "so only a duty officer changes it now; report what you learnt as a "
                      "follow-up (follow_up_of)", kind="decided", loc=["body"])
    errors = check_update(item, current, reporter.node_id, from_micros(now_us),
                          reporter.clock_skew)
    if not errors and item.status != current.status and not may_change_status:
        errors.append(error(("body", "status"),
                            "changing the status needs the duty_officer or admin role",
                            "forbidden_transition"))
    if not errors and item.base_version is not None and item.base_version != current.version:
        raise VersionConflictError(event_id, current.version, item.base_version + 1,
                                   f"event {event_id} is at version {current.version}, the "
                                   f"change was made on {item.base_version}")
    if errors:
        raise InvalidInput(errors)
    placed = reporter.sections.assign(
        np.array([item.location.lon]), np.array([item.location.lat]), reporter.max_km
    )
    section_id = placed.section_ids[0]
    distance = float(placed.distance_km[0])
    version = current.version + 1
    country = item.country or current.country or reporter.country
    reported = current.reported_at or from_micros(now_us)  # own events always have it
    body = _body(
        item, event_id=event_id, origin=reporter.node_id, version=version, country=country,
        reported_at=iso(reported), recorded_at=iso(from_micros(now_us)),
        section_id=section_id, distance_km=distance,
        has_personal_data=current.has_personal_data, by=by,
    )
    cell = int(cell_of(np.array([item.location.lon]), np.array([item.location.lat]))[0])
    row = _row(body, item, event_id=event_id, origin=reporter.node_id, version=version,
               country=country, section_id=section_id,
               reported_at=to_micros(reported), recorded_at=now_us, cell=cell)
    write_records(engine, [Record("event", row)], node_id=reporter.node_id)
    return Written(event_id, version, section_id, distance)


def get_event(engine: sa.Engine, event_id: str) -> EventPublic | None:
    """The current version of an event, or None."""
    body = select_value(engine, schema.events.c.body, schema.events.c.id == event_id)
    return None if body is None else EventPublic.model_validate_json(body)


def event_versions(engine: sa.Engine, event_id: str) -> list[dict[str, Any]]:
    """Every version of an event, oldest first (the current one last)."""
    with engine.connect() as conn:
        older = conn.execute(
            sa.select(schema.event_versions.c.body)
            .where(schema.event_versions.c.id == event_id)
            .order_by(schema.event_versions.c.version)
        ).scalars().all()
        current = conn.execute(
            sa.select(schema.events.c.body).where(schema.events.c.id == event_id)
        ).scalar()
    bodies = [*older, current] if current is not None else list(older)
    return [orjson.loads(b) for b in bodies]


def personal_data_of(engine: sa.Engine, event_id: str) -> list[dict[str, Any]]:
    """The personal-data records attached to an event."""
    with engine.connect() as conn:
        bodies = conn.execute(
            sa.select(schema.personal_data.c.body)
            .where(schema.personal_data.c.event_id == event_id)
            .order_by(schema.personal_data.c.recorded_at)
        ).scalars().all()
    return [orjson.loads(b) for b in bodies]
