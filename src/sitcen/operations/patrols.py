"""Patrol plans as records: compute a post's day, keep it, let the duty officer adjust it.

A ``patrol_plan`` record (subject: the post) holds one solved game
(:mod:`sitcen.analysis.patrols`): the inputs it was solved with, the coverage
and explanation per section, and the day's schedule drawn from it. A duty
officer's change to one assignment is a ``patrol_adjustment`` record of its
own (subject: the plan) that names the team and shift and the section it now
goes to; the plan as read applies the adjustments, newest last, and keeps
what the plan said beside it. Both kinds stay on the node (``LOCAL_KINDS``):
a randomised plan only works while the other side cannot read the draw.

What the plan needs from the rest of the node (the risk table's values) is
passed in by the caller; this module reads only events and records.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from sitcen.analysis.patrols import (
    DEFAULT_SHIFTS,
    Closure,
    PatrolInputs,
    PatrolPlanError,
    Response,
    capped_allocation,
    closed_sections,
    draw_schedule,
    expected_comparison,
    fit_response,
    plan_patrols,
    travel_hours,
)
from sitcen.events import NO_NUL, Location
from sitcen.geo import SectionIndex, geodesic_length_km, load_crossing_points
from sitcen.store import schema
from sitcen.store.journal import RecordKind, now_micros
from sitcen.store.records import StoredRecord, get_record, list_records, next_version, write_own
from sitcen.times import from_micros, iso

#: Months of incident history the adversary's response is fitted on.
HISTORY_MONTHS = 12
#: At most this many sections are planned for one post (the nearest ones).
MAX_SECTIONS = 60
#: How the post's sections are found: those a team reaches and leaves inside a shift.
SHIFT_HOURS = 8.0
#: A crossing point this close to the post is the post's own to watch (minimum presence).
CROSSING_KM = 50.0
_ID = r"^[A-Za-z0-9._:-]+$"


class TeamIn(BaseModel):
    """A team on duty at the post that day."""

    model_config = ConfigDict(extra="forbid")

    team_id: str = Field(min_length=1, max_length=64, pattern=_ID,
                         description="the asset id (so the plan can be sent as tasks)")
    hours: float = Field(8.0, ge=0, le=24, allow_inf_nan=False,
                         description="hours on duty that day")
    speed_kmh: float = Field(30.0, gt=0, le=300, allow_inf_nan=False,
                             description="average speed to reach a section")


class ClosureIn(BaseModel):
    """A section closed every year between two month-days (a high pass under snow)."""

    model_config = ConfigDict(extra="forbid")

    section_id: str = Field(min_length=1, max_length=64)
    first: str = Field(pattern=r"^\d\d-\d\d$", description="MM-DD, first closed day")
    last: str = Field(pattern=r"^\d\d-\d\d$", description="MM-DD, last closed day")


class PatrolPlanCreate(BaseModel):
    """What a plan is computed from: the post, the day, its teams and constraints."""

    model_config = ConfigDict(extra="forbid")

    post_id: str = Field(min_length=1, max_length=64, pattern=_ID,
                         description="the post (a crossing point id, or any name)")
    day: date
    location: Location | None = Field(
        None, description="where the teams leave from; a crossing point's own when omitted")
    teams: list[TeamIn] = Field(min_length=1, max_length=500)
    sections: list[str] | None = Field(
        None, max_length=MAX_SECTIONS,
        description="the sections to plan; those the teams reach inside a shift when omitted")
    crossing_presence: float = Field(
        0.0, ge=0, le=1, allow_inf_nan=False,
        description="least coverage in every shift of the section of each open crossing "
                    "point within 50 km of the post")
    closures: list[ClosureIn] = Field(default_factory=list, max_length=2000)
    seed: StrictInt | None = Field(None, ge=0, le=2**32 - 1,
                                   description="fixes the day's draw (tests, replays)")


class AdjustmentCreate(BaseModel):
    """A duty officer's change to one assignment: this team, this shift, goes elsewhere."""

    model_config = ConfigDict(extra="forbid")

    team_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    shift: str = Field(min_length=1, max_length=32)
    section_id: str | None = Field(None, max_length=64,
                                   description="where it goes now; null: it stays at the post")
    note: str = Field("", max_length=2000, pattern=NO_NUL)


def post_location(item: PatrolPlanCreate) -> tuple[float, float]:
    """Where the post's teams leave from: the given point, else the crossing point's."""
    if item.location is not None:
        return item.location.lon, item.location.lat
    for point in load_crossing_points():
        if point.id == item.post_id:
            return point.lon, point.lat
    raise PatrolPlanError("location", f"{item.post_id!r} is not a known crossing point; "
                          "give the post's location")


def post_sections(item: PatrolPlanCreate, index: SectionIndex, lon: float,
                  lat: float) -> list[str]:
    """The sections to plan: those asked for, else the nearest the fastest team reaches."""
    known = {s.id for s in index.sections}
    if item.sections is not None:
        unknown = [s for s in item.sections if s not in known]
        if unknown:
            raise PatrolPlanError("sections", f"no border section {unknown[0]!r}")
        if len(set(item.sections)) != len(item.sections):
            raise PatrolPlanError("sections", "a section is listed twice")
        return list(item.sections)
    fastest = max(t.speed_kmh for t in item.teams)
    hours = travel_hours(lon, lat, index.sections, fastest)
    reach = np.flatnonzero(2 * hours < SHIFT_HOURS * 0.9)
    nearest = reach[np.argsort(hours[reach])][:MAX_SECTIONS]
    if len(nearest) == 0:
        raise PatrolPlanError("location", "no border section is within a shift's reach of "
                              "the post")
    return [index.sections[int(i)].id for i in nearest]


def crossing_sections(index: SectionIndex, section_ids: Sequence[str], lon: float,
                      lat: float) -> set[str]:
    """The sections among ``section_ids`` nearest to an open crossing point of the post's own:
    within :data:`CROSSING_KM` of it (farther ones are another post's to watch)."""
    points = [p for p in load_crossing_points() if p.status != "closed"
              and geodesic_length_km([lon, p.lon], [lat, p.lat]) <= CROSSING_KM]
    if not points:
        return set()
    placed = index.assign(np.array([p.lon for p in points]), np.array([p.lat for p in points]))
    wanted = set(section_ids)
    return {str(s) for s in placed.section_ids if s is not None and s in wanted}


def monthly_incidents(engine: sa.Engine, section_ids: Sequence[str], day: date,
                      months: int = HISTORY_MONTHS) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Incidents per month (oldest first) and section in the months before ``day``."""
    first = date(day.year, day.month, 1)
    starts = []
    for k in range(months, 0, -1):
        y, m = divmod(first.year * 12 + first.month - 1 - k, 12)
        starts.append(date(y, m + 1, 1))
    edges = [int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1e6)
             for d in [*starts, first]]
    e = schema.events
    counts = np.zeros((months, len(section_ids)))
    column = {sid: i for i, sid in enumerate(section_ids)}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(e.c.section_id, e.c.occurred_at)
            .where(e.c.section_id.in_(list(section_ids)), e.c.occurred_at >= edges[0],
                   e.c.occurred_at < edges[-1],
                   sa.or_(e.c.status.is_(None), e.c.status != "rejected")))
        for section_id, at in rows:
            k = int(np.searchsorted(edges, at, side="right") - 1)
            counts[k, column[section_id]] += 1
    return counts


def fit_history(values: np.ndarray[Any, np.dtype[np.float64]],
                monthly: np.ndarray[Any, np.dtype[np.float64]], budget: float) -> Response:
    """The adversary's response fitted on the months, taking past cover as proportional.

    The node keeps no record of where patrols went in past months; they are
    taken to have followed the usual rule (cover in proportion to the previous
    month's detections, the same total as today). docs/patrols.md names this limit.
    """
    if len(monthly) < 2:
        return Response()
    cover = np.stack([capped_allocation(monthly[k - 1] + 1e-9, budget)
                      for k in range(1, len(monthly))])
    return fit_response(np.broadcast_to(values, cover.shape), cover, monthly[1:])


def compute_plan(engine: sa.Engine, node_id: str, index: SectionIndex,
                 item: PatrolPlanCreate, *, risk: Mapping[str, float],
                 by: str) -> StoredRecord:
    """Solve the post's day and store it as a ``patrol_plan``; the stored record."""
    lon, lat = post_location(item)
    section_ids = post_sections(item, index, lon, lat)
    sections = [index.section(s) for s in section_ids]
    top = max([v for v in risk.values() if v > 0], default=1.0)
    values = np.array([min(max(risk.get(s, 0.0), 0.0) / top, 1.0) for s in section_ids])
    travel = np.stack([travel_hours(lon, lat, sections, t.speed_kmh) for t in item.teams])
    monthly = monthly_incidents(engine, section_ids, item.day)
    crossings = crossing_sections(index, section_ids, lon, lat)
    closures = [Closure(c.section_id, c.first, c.last) for c in item.closures]
    closed = closed_sections(closures, item.day) & set(section_ids)
    # A closed pass needs no presence that day.
    presence = np.array([item.crossing_presence if s in crossings and s not in closed else 0.0
                         for s in section_ids])
    hours = np.array([t.hours for t in item.teams])
    budget = float(np.floor(hours / SHIFT_HOURS).sum()) * 0.75 / len(DEFAULT_SHIFTS)
    response = fit_history(values, monthly, max(budget, 0.1))
    inputs = PatrolInputs(section_ids, values, monthly.sum(axis=0), [t.team_id for t in item.teams],
                          hours, travel, presence, closed=frozenset(closed), response=response)
    plan = plan_patrols(inputs)
    seed = item.seed if item.seed is not None else int.from_bytes(uuid.uuid4().bytes[:4], "big")
    schedule = draw_schedule(plan, np.random.default_rng(seed))
    figures = expected_comparison(plan)
    body = {
        "post_id": item.post_id, "day": item.day.isoformat(),
        "location": {"lon": round(lon, 5), "lat": round(lat, 5)},
        "computed_at": iso(from_micros(now_micros())), "computed_by": by,
        "shifts": [{"name": s.name, "start_h": s.start_h, "hours": s.hours}
                   for s in inputs.shifts],
        "teams": [t.model_dump() for t in item.teams],
        "travel_h": {t.team_id: [round(float(h), 3) if np.isfinite(h) else 99.0 for h in row]
                     for t, row in zip(item.teams, travel, strict=True)},
        "response": {"w_value": round(response.w_value, 4),
                     "w_coverage": round(response.w_coverage, 4),
                     "fitted": response.fitted, "incidents": response.incidents},
        "expected": {k: round(v, 5) for k, v in figures.items()},
        "closed": sorted(closed), "crossing_presence": item.crossing_presence,
        "sections": plan.explain(),
        "assignment": [{"team_id": inputs.team_ids[t], "section_id": section_ids[i],
                        "shift": inputs.shifts[s].name,
                        "probability": round(float(plan.assignment[t, i, s]), 4)}
                       for t, i, s in zip(*np.nonzero(plan.assignment > 1e-4), strict=True)],
        "schedule": [a.to_dict() for a in schedule], "seed": seed,
    }
    record = next_version(engine, RecordKind.patrol_plan, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def adjustments_of(engine: sa.Engine, plan_id: str) -> list[StoredRecord]:
    """The adjustments to a plan, oldest first."""
    found = list_records(engine, RecordKind.patrol_adjustment, subject=plan_id, limit=10_000)
    return sorted(found, key=lambda r: (r.recorded_at, r.id))


def adjust_plan(engine: sa.Engine, node_id: str, plan: StoredRecord, item: AdjustmentCreate,
                *, by: str) -> StoredRecord:
    """Keep a change to one assignment as its own record; :class:`PatrolPlanError` if wrong."""
    body = plan.body
    if item.team_id not in {t["team_id"] for t in body["teams"]}:
        raise PatrolPlanError("team_id", f"no team {item.team_id!r} in this plan")
    shift = next((s for s in body["shifts"] if s["name"] == item.shift), None)
    if shift is None:
        raise PatrolPlanError("shift", f"no shift {item.shift!r} in this plan")
    if item.section_id is not None:
        if item.section_id not in {s["section_id"] for s in body["sections"]}:
            raise PatrolPlanError("section_id", f"{item.section_id} is not one of the plan's "
                                  "sections")
        if item.section_id in body["closed"]:
            raise PatrolPlanError("section_id", f"{item.section_id} is closed on {body['day']}")
    current = next((a for a in schedule_of(engine, plan)
                    if a["team_id"] == item.team_id and a["shift"] == item.shift), None)
    adjustment = {
        "plan_id": plan.id, "post_id": body["post_id"], "day": body["day"],
        "team_id": item.team_id, "shift": item.shift, "section_id": item.section_id,
        "previous_section_id": None if current is None else current["section_id"],
        "note": item.note, "by": by, "at": iso(from_micros(now_micros())),
    }
    record = next_version(engine, RecordKind.patrol_adjustment, str(uuid.uuid4()), adjustment,
                          node_id)
    return write_own(engine, [record], node_id)[0]


def schedule_of(engine: sa.Engine, plan: StoredRecord,
                adjustments: Sequence[StoredRecord] | None = None) -> list[dict[str, Any]]:
    """The day's schedule with the adjustments applied (the newest per team and shift wins)."""
    body = plan.body
    shifts = {s["name"]: s for s in body["shifts"]}
    entries = {(a["team_id"], a["shift"]): {**a, "adjusted": False} for a in body["schedule"]}
    changes = adjustments_of(engine, plan.id) if adjustments is None else adjustments
    for change in changes:
        a = change.body
        key = (a["team_id"], a["shift"])
        if a["section_id"] is None:
            entries.pop(key, None)
            continue
        shift = shifts[a["shift"]]
        travel = _travel(plan, a["team_id"], a["section_id"])
        entries[key] = {"team_id": a["team_id"], "shift": a["shift"],
                        "section_id": a["section_id"], "leave_h": shift["start_h"],
                        "on_section_h": round(shift["start_h"] + travel, 2),
                        "off_section_h": round(shift["start_h"] + shift["hours"] - travel, 2),
                        "back_h": shift["start_h"] + shift["hours"], "adjusted": True,
                        "adjustment_id": change.id, "note": a.get("note", "")}
    order = {name: k for k, name in enumerate(shifts)}
    return sorted(entries.values(), key=lambda e: (order[e["shift"]], e["team_id"]))


def _travel(plan: StoredRecord, team_id: str, section_id: str) -> float:
    """One-way hours of a team to one of the plan's sections, as the plan counted them."""
    order = [row["section_id"] for row in plan.body["sections"]]
    hours = plan.body["travel_h"].get(team_id)
    if hours is None or section_id not in order:
        return 0.0
    longest = float(max(s["hours"] for s in plan.body["shifts"]))
    return min(float(hours[order.index(section_id)]), longest / 2)


def plan_view(engine: sa.Engine, plan: StoredRecord) -> dict[str, Any]:
    """The plan as the API answers: its body, the adjusted schedule and the adjustments."""
    changes = adjustments_of(engine, plan.id)
    return {**plan.body, "planned_schedule": plan.body["schedule"],
            "schedule": schedule_of(engine, plan, changes),
            "adjustments": [{**c.body, "id": c.id} for c in changes]}


def plans_for(engine: sa.Engine, *, post_id: str | None, day: date | None,
              limit: int) -> list[StoredRecord]:
    """Plans, newest first, for one post and/or day."""
    found = list_records(engine, RecordKind.patrol_plan, subject=post_id, limit=10_000)
    if day is not None:
        found = [p for p in found if p.body.get("day") == day.isoformat()]
    return found[:limit]


def get_plan(engine: sa.Engine, plan_id: str) -> StoredRecord | None:
    """A plan by id (None when there is none)."""
    record = get_record(engine, plan_id)
    return record if record is not None and record.kind == RecordKind.patrol_plan else None


def schedule_csv(engine: sa.Engine, plan: StoredRecord) -> str:
    """The adjusted schedule as CSV: one line per team and shift, local times of the day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["post_id", "day", "team_id", "shift", "section_id", "leave", "on_section",
                     "off_section", "back", "adjusted"])
    for e in schedule_of(engine, plan):
        writer.writerow([plan.body["post_id"], plan.body["day"], e["team_id"], e["shift"],
                         e["section_id"], _clock(e["leave_h"]), _clock(e["on_section_h"]),
                         _clock(e["off_section_h"]), _clock(e["back_h"]),
                         "yes" if e["adjusted"] else "no"])
    return out.getvalue()


def _clock(hours: float) -> str:
    """Local clock time of hours since the day's midnight (24:00 and beyond roll over)."""
    minutes = round(hours * 60)
    return (datetime(2000, 1, 1) + timedelta(minutes=minutes)).strftime("%H:%M")


def task_instructions(plan: StoredRecord, entry: Mapping[str, Any]) -> str:
    """What a team is told when the plan goes out as tasks."""
    return (f"Patrol {entry['section_id']} on {plan.body['day']}, {entry['shift']} shift: "
            f"leave {_clock(entry['leave_h'])}, on the section {_clock(entry['on_section_h'])}"
            f"-{_clock(entry['off_section_h'])}, back {_clock(entry['back_h'])} "
            f"(patrol plan {plan.id}).")


__all__ = ["AdjustmentCreate", "PatrolPlanCreate", "PatrolPlanError",
           "adjust_plan", "compute_plan", "get_plan", "plan_view", "plans_for",
           "schedule_csv", "schedule_of", "task_instructions"]
