"""Own patrols that walk along the border in the demo, so the operational layer moves.

Each patrol goes back and forth along one border section, a little each step,
and its position is written like any position report: a new version of the
asset's ``asset_position`` record, journaled and streamed to the console.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import shapely

from sitcen.geo import SectionIndex
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, write_record
from sitcen.times import iso

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
