"""The demo's patrols walk along their sections and are written as asset positions."""

from __future__ import annotations

import threading
from datetime import date

import shapely

from sitcen.demo.patrols import (
    DEMO_PATROLS,
    DEMO_POSTS,
    patrol_steps,
    plan_tomorrow,
    start_demo_patrols,
)
from sitcen.geo import default_index
from sitcen.node import Node
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records, record_history


def test_patrols_stay_on_their_section_and_move() -> None:
    index = default_index()
    steps = patrol_steps(index)
    first, second = next(steps), next(steps)
    assert [b["asset_id"] for b in first] == [p[0] for p in DEMO_PATROLS]
    for a, b in zip(first, second, strict=True):
        line = index.section(a["section_id"]).geometry
        here = shapely.Point(b["location"]["lon"], b["location"]["lat"])
        assert line.distance(here) < 1e-4  # positions are rounded to 1e-5 degrees
        assert a["location"] != b["location"]


def test_demo_patrols_write_versions(node: Node) -> None:
    stop = threading.Event()
    start_demo_patrols(node, stop, every_s=0.01)
    for _ in range(1200):  # wait for three steps (a generous bound, not a timing claim)
        assets = list_records(node.engine, RecordKind.asset_position)
        if len(assets) == len(DEMO_PATROLS) and min(a.version for a in assets) >= 3:
            break
        stop.wait(0.05)
    stop.set()
    assets = list_records(node.engine, RecordKind.asset_position)
    assert {a.subject for a in assets} == {p[0] for p in DEMO_PATROLS}
    assert len(record_history(node.engine, assets[0].id)) >= 3


def test_tomorrows_plans_for_the_demo_posts(node: Node) -> None:
    rows = [{"section_id": s.id, "risk": 0.1 + (i % 7) / 10}
            for i, s in enumerate(node.sections.sections)]
    winter = plan_tomorrow(node, rows, day=date(2026, 12, 8))
    assert [p.body["post_id"] for p in winter] == [post for post, _ in DEMO_POSTS]
    assert all(p.body["schedule"] for p in winter[:3])
    pass_post = winter[3].body
    assert pass_post["closed"] and all(row["reason"] in ("closed", "out_of_reach")
                                       for row in pass_post["sections"]
                                       if row["section_id"] in pass_post["closed"])
    assert all(e["section_id"] not in pass_post["closed"] for e in pass_post["schedule"])
    summer = plan_tomorrow(node, rows, day=date(2026, 7, 8))
    assert summer[3].body["closed"] == []
    assert list_records(node.engine, RecordKind.patrol_plan, limit=100) != []
