"""Query correctness against brute force: random boxes, windows and page sizes, both backends."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import iso, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.queries import EventFilter, query_events

NOW = datetime.now(UTC).replace(microsecond=0)


def _seed(node: Node, n: int = 400) -> list[dict[str, Any]]:
    rnd = random.Random(7)
    items = [
        EventCreate.model_validate(report(
            occurred_at=iso(NOW - timedelta(hours=rnd.randrange(0, 24 * 20))),
            location={"lon": round(rnd.uniform(66.0, 72.0), 3),
                      "lat": round(rnd.uniform(36.5, 41.0), 3)},
            impact_level=rnd.choice(["low", "high"]),
        ))
        for _ in range(n)
    ]
    report_events(node.engine, node.reporter, items, batch=True)
    with node.engine.connect() as conn:
        bodies, _ = query_events(conn, EventFilter(), limit=1000)
    return [orjson.loads(b) for b in bodies]


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float]:
    lon = draw(st.floats(65.0, 72.5))
    lat = draw(st.floats(36.0, 41.5))
    width = draw(st.floats(0.01, 4.0))
    height = draw(st.floats(0.01, 3.0))
    return (round(lon, 3), round(lat, 3), round(lon + width, 3), round(lat + height, 3))


def test_pages_match_brute_force(node: Node) -> None:
    events = _seed(node)

    @given(bbox=boxes(), days=st.integers(1, 25), limit=st.integers(1, 60),
           high=st.booleans())
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(bbox: tuple[float, float, float, float], days: int, limit: int,
              high: bool) -> None:
        since = NOW - timedelta(days=days)
        f = EventFilter(since=int(since.timestamp() * 1_000_000), bbox=bbox,
                        impact_levels=["high"] if high else [])
        expected = sorted(
            ((e["occurred_at"], e["id"]) for e in events
             if bbox[0] <= e["location"]["lon"] <= bbox[2]
             and bbox[1] <= e["location"]["lat"] <= bbox[3]
             and datetime.fromisoformat(e["occurred_at"]) >= since
             and (not high or e["impact_level"] == "high")),
            reverse=True,
        )
        got: list[tuple[str, str]] = []
        cursor = None
        with node.engine.connect() as conn:
            while True:
                bodies, cursor = query_events(conn, f, limit=limit, cursor=cursor)
                got += [(b["occurred_at"], b["id"]) for b in map(orjson.loads, bodies)]
                if cursor is None:
                    break
        assert got == expected

    check()


def test_scalar_cell_matches_the_vectorised_one() -> None:
    import numpy as np

    from sitcen.store.grid import cell_of, cell_of_point

    rnd = random.Random(3)
    points = [(rnd.uniform(-180, 180), rnd.uniform(-90, 90)) for _ in range(2000)]
    points += [(-180.0, -90.0), (180.0, 90.0), (70.5, 40.0), (0.0, 0.0)]
    lons, lats = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    assert cell_of(lons, lats).tolist() == [cell_of_point(x, y) for x, y in points]
