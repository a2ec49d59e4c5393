"""The risk table, a section's risk detail, section impact levels and forecasts over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.recompute import assessed_month, compute_risk, risk_table
from sitcen.store.events import report_events
from sitcen.store.journal import read_journal
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
BUSY, QUIET = "AF-TJ-003", "KG-TJ-010"
NOW = datetime(2025, 7, 10, 12, tzinfo=UTC)  # assesses June 2025 (April-June window)


def write_events(node: Node, section_id: str, days: list[datetime], **overrides: object) -> None:
    """One report per entry of ``days``, on the middle of the section's line."""
    point = node.sections.section(section_id).geometry.interpolate(0.5, normalized=True)
    items = [EventCreate.model_validate(report(
        occurred_at=iso(day), location={"lon": point.x, "lat": point.y, "precision_m": 50},
        **overrides)) for day in days]
    report_events(node.engine, node.reporter, items, batch=True)


def _spread(first: datetime, months: int, per_month: int) -> list[datetime]:
    days = []
    for m in range(months):
        start = (first + timedelta(days=31 * m)).replace(day=1)
        days += [start + timedelta(days=d % 28, hours=d % 24) for d in range(per_month)]
    return days


@pytest.fixture
def assessed(node: Node) -> Node:
    """30 drug seizures a month on BUSY and 2 on QUIET, April to June 2025, then the table."""
    april = datetime(2025, 4, 1, tzinfo=UTC)
    write_events(node, BUSY, _spread(april, 3, 30))
    write_events(node, QUIET, _spread(april, 3, 2),
                 details={"substance": "hashish", "quantity": 0.5, "unit": "kg"})
    compute_risk(node.engine, node.settings.node_id, now=NOW)
    return node


def test_assessed_month_is_the_last_complete_one() -> None:
    assert assessed_month(NOW) == "2025-06"
    assert assessed_month(datetime(2025, 1, 1, tzinfo=UTC)) == "2024-12"


def test_risk_table(assessed: Node, client: TestClient, as_role: Headers) -> None:
    response = client.get("/api/v1/risk", headers=as_role(Role.liaison))
    assert response.status_code == 200, response.text
    table = response.json()
    assert table["period"] == {"month": "2025-06", "window_months": 3, "from": "2025-04-01",
                               "to": "2025-06-30", "events_read": 96}
    rows = table["sections"]
    assert len(rows) == len(assessed.sections.sections)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["risk"] for r in rows] == sorted((r["risk"] for r in rows), reverse=True)
    by_id = {r["section_id"]: r for r in rows}
    assert rows[0]["section_id"] == BUSY
    quiet_rank = by_id[QUIET]["rank"]
    assert 1 < quiet_rank < by_id["KZ-RU-001"]["rank"]  # some activity beats none
    busy = by_id[BUSY]
    assert busy["confirmed_level"] is None and busy["vulnerability_known"] is False
    assert busy["reasons"][0].startswith(f"risk {busy['risk']:.2f}")
    assert any("no capacity inventory" in reason for reason in busy["reasons"])
    assert busy["proposed_level"] in ("low", "medium", "high", "critical")


def test_risk_detail_adds_up(assessed: Node, client: TestClient, as_role: Headers) -> None:
    detail = client.get(f"/api/v1/risk/{BUSY}", headers=as_role(Role.operator)).json()
    parts = detail["contributions"]
    assert parts["threat"] + parts["vulnerability"] + parts["impact"] == pytest.approx(
        detail["risk"])
    t, v, i = (detail[k]["score"] for k in ("threat", "vulnerability", "impact"))
    assert detail["risk"] == pytest.approx(t * (0.5 + 0.5 * v) * (0.5 + 0.5 * i))
    assert detail["threat"]["events"] == 90  # April to June
    months = {m["month"]: m["events"] for m in detail["monthly"]}
    assert (months["2025-04"], months["2025-05"], months["2025-06"], months["2025-03"]) == (
        30, 30, 30, 0)
    assert detail["capacity"] is None and detail["reactions"]
    assert client.get("/api/v1/risk/XX-YY-001", headers=as_role(Role.operator)).status_code == 404


def test_an_inventory_makes_the_vulnerability_known(assessed: Node, client: TestClient,
                                                    as_role: Headers) -> None:
    figures = {"staff_per_shift": 20, "shifts_per_day": 3, "patrol_hours_per_week": 300,
               "vehicles": 8, "sensors": 10, "cameras": 20, "towers": 6, "covered_km": 51,
               "fence_km": 51, "response_time_min": 5, "terrain_permeability": 0.2}
    client.put(f"/api/v1/sections/{BUSY}/capacity", json=figures, headers=as_role(Role.analyst))
    before = risk_table(assessed.engine, assessed.settings.node_id)["sections"]
    compute_risk(assessed.engine, assessed.settings.node_id, now=NOW)
    after = client.get("/api/v1/risk", headers=as_role(Role.analyst)).json()["sections"]
    old = next(r for r in before if r["section_id"] == BUSY)
    new = next(r for r in after if r["section_id"] == BUSY)
    assert new["vulnerability_known"] and new["vulnerability"] < old["vulnerability"] == 0.5
    assert new["risk"] < old["risk"]
    detail = client.get(f"/api/v1/risk/{BUSY}", headers=as_role(Role.analyst)).json()
    assert detail["capacity"]["staff_per_shift"] == 20
    assert detail["indicators"]["uncovered_km"] == 0
    assert {t["term"] for t in detail["vulnerability"]["terms"]} >= {"staff", "surveillance"}


def test_confirming_and_overriding_levels(assessed: Node, client: TestClient,
                                          as_role: Headers) -> None:
    url = f"/api/v1/sections/{BUSY}/level"
    seen = client.get(url, headers=as_role(Role.operator)).json()
    proposed = seen["proposed_level"]
    assert seen["confirmed"] is None and seen["history"] == [] and seen["proposed_reactions"]
    refused = client.post(url, json={"level": proposed}, headers=as_role(Role.operator))
    assert refused.status_code == 403
    assert refused.json()["detail"] == [{"loc": [], "msg": "role operator may not set impact level",
                                         "type": "forbidden"}]
    assert client.post(url, json={"level": proposed},
                       headers=as_role(Role.analyst)).status_code == 403
    confirmed = client.post(url, json={"level": proposed}, headers=as_role(Role.duty_officer))
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert (body["level"], body["overridden"], body["confirmed_by"]) == (
        proposed, False, "duty-officer")
    assert body["reactions"] and body["reasons"] == seen["reasons"]
    other = "low" if proposed != "low" else "medium"
    bare = client.post(url, json={"level": other}, headers=as_role(Role.duty_officer))
    assert bare.status_code == 422
    assert bare.json()["detail"][0]["loc"] == ["body", "justification"]
    justified = client.post(url, json={"level": other, "justification": "patrols doubled"},
                            headers=as_role(Role.admin))
    assert justified.status_code == 201 and justified.json()["overridden"] is True
    assert justified.json()["version"] == 2 and justified.json()["id"] == body["id"]
    low_reactions = client.get(url, headers=as_role(Role.liaison)).json()
    assert [h["level"] for h in low_reactions["history"]] == [proposed, other]
    assert low_reactions["confirmed"]["level"] == other
    levels = client.get("/api/v1/levels", headers=as_role(Role.liaison)).json()["levels"]
    assert [(v["section_id"], v["level"]) for v in levels] == [(BUSY, other)]
    table = client.get("/api/v1/risk", headers=as_role(Role.liaison)).json()["sections"]
    assert next(r for r in table if r["section_id"] == BUSY)["confirmed_level"] == other
    with assessed.engine.connect() as conn:  # on the journal, hence on the live stream
        kinds = [(e.kind, e.version) for e in read_journal(conn, kinds=["section_assessment"])]
    assert kinds == [("section_assessment", 1), ("section_assessment", 2)]
    unknown = client.post("/api/v1/sections/XX-YY-001/level", json={"level": "low"},
                          headers=as_role(Role.duty_officer))
    assert unknown.status_code == 404


def test_forecasts(node: Node, client: TestClient, as_role: Headers) -> None:
    this_month = pd.Period(datetime.now(UTC).date(), freq="M")
    months = [this_month - k for k in range(1, 31)]  # the 30 complete months before this one
    days = [datetime(m.year, m.month, 1 + d, 8, tzinfo=UTC)
            for m in months for d in range(10)]  # 10 events a month
    write_events(node, BUSY, days)
    response = client.get("/api/v1/forecasts?series=total,category:other&horizon=3",
                          headers=as_role(Role.liaison))
    assert response.status_code == 200, response.text
    total, other = response.json()["series"]
    assert total["series"] == "total" and total["months"] == 30
    assert [h["count"] for h in total["history"]] == [10] * 24
    assert [f["horizon"] for f in total["forecast"]] == [1, 2, 3]
    for row in total["forecast"]:
        assert row["lower_95"] <= row["lower_80"] <= row["forecast"] <= row["upper_80"] <= (
            row["upper_95"])
        assert row["forecast"] == pytest.approx(10, rel=0.05)
    assert total["trend"]["direction"] == "flat"
    assert other["months"] == 30 and {h["count"] for h in other["history"]} == {0}
    bad = client.get("/api/v1/forecasts?series=weather", headers=as_role(Role.liaison))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "series"]
    default = client.get("/api/v1/forecasts", headers=as_role(Role.liaison)).json()["series"]
    assert [s["series"] for s in default] == [
        "total", "category:unauthorised_crossing", "category:cross_border_crime",
        "category:crisis", "category:other"]
