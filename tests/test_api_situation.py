"""The situation strip and the picture binned on the server, against the events behind them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.levels import confirm_level
from sitcen.users import Role

PLACES = [(68.60, 37.22), (70.80, 39.95), (69.35, 40.45), (71.5, 39.5)]


def test_bins_count_every_event_of_the_window_by_category_and_impact(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    now = datetime.now(UTC)
    items = []
    for i in range(40):
        lon, lat = PLACES[i % len(PLACES)]
        items.append(report(occurred_at=iso(now - timedelta(hours=1 + i)),
                            location={"lon": lon + (i % 3) * 0.01, "lat": lat},
                            impact_level=["low", "medium", "high"][i % 3]))
    report_events(node.engine, node.reporter, [EventCreate.model_validate(x) for x in items],
                  batch=True)
    since = iso(now - timedelta(days=3))
    answer = client.get("/api/v1/situation/bins", headers=as_role(Role.operator),
                        params={"since": since, "zoom": 6}).json()
    assert answer["count"] == 40 == sum(b["count"] for b in answer["bins"])
    assert len(answer["bins"]) == len(PLACES)  # one cell per place at this zoom
    for b in answer["bins"]:
        assert sum(b["by_category"].values()) == b["count"] == sum(b["by_impact"].values())
    coarse = client.get("/api/v1/situation/bins", headers=as_role(Role.operator),
                        params={"since": since, "zoom": 2}).json()
    assert coarse["size_deg"] > answer["size_deg"] and sum(
        b["count"] for b in coarse["bins"]) == 40
    filtered = client.get("/api/v1/situation/bins", headers=as_role(Role.operator),
                          params={"since": since, "zoom": 6, "impact_level": "high"}).json()
    assert filtered["count"] == 13
    bad = client.get("/api/v1/situation/bins", headers=as_role(Role.operator),
                     params={"zoom": 40})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "zoom"]


def test_strip_says_last_24h_against_normal_alerts_and_sections_at_risk(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    now = datetime.now(UTC)
    items = [report(occurred_at=iso(now - timedelta(hours=2 + i)), impact_level="high")
             for i in range(6)]
    items += [report(occurred_at=iso(now - timedelta(days=d, hours=3)), impact_level="low")
              for d in range(1, 29) for _ in range(d % 3)]
    report_events(node.engine, node.reporter, [EventCreate.model_validate(x) for x in items],
                  batch=True)
    confirm_level(node.engine, node.settings.node_id, "AF-TJ-004", level="critical",
                  proposed_level="critical", reasons=[], reactions=[], confirmed_by="duty")
    strip = client.get("/api/v1/situation", headers=as_role(Role.liaison)).json()
    assert strip["last_24h"] == 6 and strip["serious"] == 6
    assert strip["normal"] == round(sum(d % 3 for d in range(1, 29)) / 28, 1)
    assert strip["normal_low"] == 0 and strip["normal_high"] == 2
    assert strip["sections_high"] == [{"section_id": "AF-TJ-004", "level": "critical"}]
    assert strip["open_alerts"] == {}
