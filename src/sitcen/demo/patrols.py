"""Own patrols that walk along the border in the demo, so the operational layer moves,
and tomorrow's patrol plan for the demo's posts (docs/patrols.md).

Each patrol goes back and forth along one border section, a little each step,
and its position is written like any position report: a new version of the
asset's ``asset_position`` record, journaled and streamed to the console.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely

from sitcen.demo.scenario_tables import is_high_pass
from sitcen.geo import SectionIndex
from sitcen.operations.patrols import PatrolPlanCreate, PatrolPlanError, compute_plan
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, write_record
from sitcen.times import iso

log = logging.getLogger(__name__)

#: (asset id, kind, name, section it patrols)
DEMO_PATROLS: tuple[tuple[str, str, str, str], ...] = (
    ("tj-panj-1", "patrol", "Panj river patrol 1", "AF-TJ-004"),
    ("tj-panj-2", "vehicle", "Pyanj mobile group", "AF-TJ-007"),
    ("tj-isfara-1", "patrol", "Isfara patrol", "KG-TJ-003"),
    ("uz-termez-1", "patrol", "Termez river patrol", "AF-UZ-001"),
    ("kg-batken-uav", "aircraft", "Batken drone", "KG-TJ-007"),
)
#: Fraction of a section a patrol covers in one step.
STEP = 0.02


def patrol_steps(sections: SectionIndex) -> Iterator[list[dict[str, Any]]]:
    """Endless steps: at each, the position body of every demo patrol whose section exists."""
    known = {s.id for s in sections.sections}
    patrols = [p for p in DEMO_PATROLS if p[3] in known]
    progress = [i / max(1, len(patrols)) for i in range(len(patrols))]
    direction = [1.0] * len(patrols)
    while True:
        bodies = []
        for i, (asset_id, kind, name, section_id) in enumerate(patrols):
            line = sections.section(section_id).geometry
            if line.geom_type == "MultiLineString":
                line = max(line.geoms, key=lambda g: g.length)
            point = shapely.line_interpolate_point(line, progress[i], normalized=True)
            bodies.append({
                "asset_id": asset_id, "kind": kind, "name": name, "status": "active",
                "location": {"lon": round(float(point.x), 5), "lat": round(float(point.y), 5)},
                "at": iso(datetime.now(UTC)),
                "section_id": section_id, "handling": "AMBER",
            })
            progress[i] += STEP * direction[i]
            if not 0.0 <= progress[i] <= 1.0:
                direction[i] = -direction[i]
                progress[i] = min(1.0, max(0.0, progress[i]))
        yield bodies


def start_demo_patrols(node: Any, stop: threading.Event, every_s: float = 3.0) -> None:
    """Move the demo patrols every few seconds until ``stop`` is set (a daemon thread)."""
    current: dict[str, StoredRecord] = {}

    def run() -> None:
        for bodies in patrol_steps(node.sections):
            for body in bodies:
                before = current.get(body["asset_id"])
                try:
                    current[body["asset_id"]] = write_record(
                        node.engine, RecordKind.asset_position, body,
                        node_id=node.settings.node_id,
                        record_id=None if before is None else before.id)
                except Exception:  # a failed step must not stop the demo; the next one retries
                    current.pop(body["asset_id"], None)
            if stop.wait(every_s):
                return

    threading.Thread(target=run, name="demo-patrols", daemon=True).start()


# ----------------------------------------------------------------------------- tomorrow's plans

#: The demo's posts (crossing points) and the teams each has on duty tomorrow:
#: (team id, hours, speed in km/h). The teams are the demo patrols above where there is one.
DEMO_POSTS: tuple[tuple[str, tuple[tuple[str, float, float], ...]], ...] = (
    ("AF-TJ-PANJI-POYON", (("tj-panj-1", 8, 30), ("tj-panj-2", 16, 40))),
    ("KG-TJ-KYZYL-BEL", (("tj-isfara-1", 16, 30), ("kg-batken-uav", 8, 90))),
    ("AF-UZ-TERMEZ", (("uz-termez-1", 16, 30),)),
    ("KG-TJ-KYZYL-ART", (("tj-murghob-1", 8, 25),)),  # a high pass: closed in winter
)
#: Snow closes the high passes (the scenario's elevation boxes) from mid-November to mid-April.
WINTER_CLOSURE = ("11-15", "04-15")
#: Least coverage in every shift of a section with an open crossing point.
DEMO_CROSSING_PRESENCE = 0.2


def winter_closures(sections: SectionIndex) -> list[dict[str, str]]:
    """The closure calendar: every section whose middle lies among the high passes."""
    out = []
    for section in sections.sections:
        middle = section.geometry.centroid
        if is_high_pass(float(middle.x), float(middle.y)):
            out.append({"section_id": section.id, "first": WINTER_CLOSURE[0],
                        "last": WINTER_CLOSURE[1]})
    return out


def plan_tomorrow(node: Any, risk_rows: list[dict[str, Any]], *, day: date | None = None,
                  by: str = "duty") -> list[StoredRecord]:
    """Tomorrow's patrol plan for each demo post, as the duty officer would compute it."""
    day = day or datetime.now(UTC).date() + timedelta(days=1)
    risk = {row["section_id"]: float(row["risk"]) for row in risk_rows}
    closures = winter_closures(node.sections)
    plans = []
    for post_id, teams in DEMO_POSTS:
        item = PatrolPlanCreate.model_validate({
            "post_id": post_id, "day": day.isoformat(), "closures": closures,
            "crossing_presence": DEMO_CROSSING_PRESENCE,
            "teams": [{"team_id": t, "hours": h, "speed_kmh": v} for t, h, v in teams]})
        try:
            plans.append(compute_plan(node.engine, node.settings.node_id, node.sections, item,
                                      risk=risk, by=by))
        except PatrolPlanError as exc:  # a post whose sections the node lacks: no plan
            log.warning("demo: no patrol plan for %s: %s", post_id, exc)
    return plans
