"""The demo's patrols walk along their sections and are written as asset positions."""

from __future__ import annotations

import threading

import shapely

from sitcen.demo.patrols import DEMO_PATROLS, patrol_steps, start_demo_patrols
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
