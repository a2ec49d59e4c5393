"""Patrol plans over HTTP: compute, read, adjust (kept as its own record), export, send as tasks."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.api.routes.stream import _frames
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.journal import LOCAL_KINDS, RecordKind
from sitcen.store.records import list_records
from sitcen.store.users import list_users
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
POST = "AF-TJ-PANJI-POYON"  # a crossing point on the Panj; its teams reach the nearby sections
DAY = "2026-01-15"
TEAMS = [{"team_id": "tj-panj-1", "hours": 8}, {"team_id": "tj-panj-2", "hours": 16,
                                                "speed_kmh": 40}]


def _history(node: Node, section_id: str, months: int = 6, per_month: int = 8) -> None:
    point = node.sections.section(section_id).geometry.interpolate(0.5, normalized=True)
    first = datetime(2025, 7, 1, tzinfo=UTC)
    items = [EventCreate.model_validate(report(
        occurred_at=iso(first + timedelta(days=30 * m + d)),
        location={"lon": point.x, "lat": point.y, "precision_m": 50}))
        for m in range(months) for d in range(per_month)]
    report_events(node.engine, node.reporter, items, batch=True)


def _plan(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {"post_id": POST, "day": DAY, "teams": TEAMS, "seed": 7, **changes}
    response = client.post("/api/v1/patrols/plans", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_compute_read_and_list_a_plan(node: Node, client: TestClient, as_role: Headers) -> None:
    _history(node, "AF-TJ-004")
    officer = as_role(Role.duty_officer)
    plan = _plan(client, officer, crossing_presence=0.2)
    sections = {row["section_id"]: row for row in plan["sections"]}
    assert 1 <= len(sections) <= 60
    for row in plan["sections"]:
        assert len(row["coverage"]) == 3 and all(0 <= c <= 1 for c in row["coverage"])
        assert row["reason"] in {"closed", "out_of_reach", "minimum_presence", "reach_limited",
                                 "not_worth", "balanced"}
    assert any(row["min_presence"] == 0.2 for row in plan["sections"])
    assert set(plan["expected"]) == {"plan", "proportional", "uniform"}
    assert plan["expected"]["plan"] >= plan["expected"]["proportional"] - 1e-6
    assert plan["schedule"] == [{**e, "adjusted": False} for e in plan["planned_schedule"]]
    assert {e["team_id"] for e in plan["schedule"]} <= {"tj-panj-1", "tj-panj-2"}
    # Read back, and listed for the post and day.
    again = client.get(f"/api/v1/patrols/plans/{plan['id']}", headers=as_role(Role.operator))
    assert again.status_code == 200 and again.json()["sections"] == plan["sections"]
    listed = client.get("/api/v1/patrols/plans", params={"post_id": POST, "day": DAY},
                        headers=officer).json()["plans"]
    assert [p["id"] for p in listed] == [plan["id"]]
    assert client.get("/api/v1/patrols/plans", params={"day": "2026-01-16"},
                      headers=officer).json()["plans"] == []
    # A plan never leaves the node.
    assert RecordKind.patrol_plan in LOCAL_KINDS and RecordKind.patrol_adjustment in LOCAL_KINDS


def test_an_operator_may_read_but_not_plan_and_a_liaison_may_not_read(
        node: Node, client: TestClient, as_role: Headers) -> None:
    body = {"post_id": POST, "day": DAY, "teams": TEAMS}
    response = client.post("/api/v1/patrols/plans", json=body, headers=as_role(Role.operator))
    assert response.status_code == 403
    plan = _plan(client, as_role(Role.duty_officer))
    url = f"/api/v1/patrols/plans/{plan['id']}"
    assert client.get(url, headers=as_role(Role.operator)).status_code == 200
    assert client.get(url, headers=as_role(Role.liaison)).status_code == 403  # a partner's


def test_an_adjustment_is_its_own_record(node: Node, client: TestClient,
                                         as_role: Headers) -> None:
    officer = as_role(Role.duty_officer)
    plan = _plan(client, officer)
    entry = plan["schedule"][0]
    elsewhere = next(s["section_id"] for s in plan["sections"]
                     if s["section_id"] != entry["section_id"] and s["reason"] != "closed")
    response = client.post(f"/api/v1/patrols/plans/{plan['id']}/adjustments", headers=officer,
                           json={"team_id": entry["team_id"], "shift": entry["shift"],
                                 "section_id": elsewhere, "note": "bridge repairs"})
    assert response.status_code == 201, response.text
    adjustment = response.json()
    assert adjustment["previous_section_id"] == entry["section_id"]
    assert adjustment["by"] and adjustment["plan_id"] == plan["id"]
    read = client.get(f"/api/v1/patrols/plans/{plan['id']}", headers=officer).json()
    moved = next(e for e in read["schedule"]
                 if (e["team_id"], e["shift"]) == (entry["team_id"], entry["shift"]))
    assert moved["section_id"] == elsewhere and moved["adjusted"] is True
    assert read["planned_schedule"] == plan["planned_schedule"]  # the plan itself is unchanged
    assert read["version"] == plan["version"] == 1
    assert [a["id"] for a in read["adjustments"]] == [adjustment["id"]]
    stored = list_records(node.engine, RecordKind.patrol_adjustment, subject=plan["id"])
    assert [r.id for r in stored] == [adjustment["id"]]
    # Standing a team down removes its line.
    client.post(f"/api/v1/patrols/plans/{plan['id']}/adjustments", headers=officer,
                json={"team_id": entry["team_id"], "shift": entry["shift"], "section_id": None})
    read = client.get(f"/api/v1/patrols/plans/{plan['id']}", headers=officer).json()
    assert (entry["team_id"], entry["shift"]) not in {(e["team_id"], e["shift"])
                                                      for e in read["schedule"]}


def test_wrong_adjustments_and_plans_name_the_field(node: Node, client: TestClient,
                                                    as_role: Headers) -> None:
    officer = as_role(Role.duty_officer)
    plan = _plan(client, officer)
    url = f"/api/v1/patrols/plans/{plan['id']}/adjustments"
    for body, field in (({"team_id": "nobody", "shift": "day"}, "team_id"),
                        ({"team_id": "tj-panj-1", "shift": "siesta"}, "shift"),
                        ({"team_id": "tj-panj-1", "shift": "day", "section_id": "KZ-RU-001"},
                         "section_id")):
        response = client.post(url, json=body, headers=officer)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
    response = client.post("/api/v1/patrols/plans", headers=officer,
                           json={"post_id": "somewhere", "day": DAY, "teams": TEAMS})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "location"]
    response = client.post("/api/v1/patrols/plans", headers=officer,
                           json={"post_id": POST, "day": DAY, "teams": TEAMS,
                                 "sections": ["AF-TJ-004", "XX-YY-001"]})
    assert response.json()["detail"][0]["loc"] == ["body", "sections"]
    missing = client.get("/api/v1/patrols/plans/9b2c4d4e-0000-4000-8000-000000000000",
                         headers=officer)
    assert missing.status_code == 404


def test_a_closed_pass_is_not_planned(node: Node, client: TestClient, as_role: Headers) -> None:
    officer = as_role(Role.duty_officer)
    plan = _plan(client, officer)
    target = plan["sections"][0]["section_id"]
    closed = _plan(client, officer, closures=[{"section_id": target, "first": "11-15",
                                               "last": "04-15"}])
    row = next(r for r in closed["sections"] if r["section_id"] == target)
    assert row["reason"] == "closed" and row["coverage"] == [0, 0, 0]
    assert target not in {e["section_id"] for e in closed["schedule"]}
    response = client.post(f"/api/v1/patrols/plans/{closed['id']}/adjustments", headers=officer,
                           json={"team_id": "tj-panj-1", "shift": "day", "section_id": target})
    assert response.status_code == 422


def test_export_as_csv_and_send_as_tasks(node: Node, client: TestClient,
                                         as_role: Headers) -> None:
    officer = as_role(Role.duty_officer)
    position = {"asset_id": "tj-panj-1", "kind": "patrol", "name": "Panj river patrol 1",
                "location": {"lon": 68.62, "lat": 37.22},
                "at": datetime.now(UTC).isoformat()}
    response = client.post("/api/v1/assets/positions", json=position, headers=officer)
    assert response.status_code in (200, 201), response.text
    plan = _plan(client, officer)
    response = client.get(f"/api/v1/patrols/plans/{plan['id']}/schedule.csv", headers=officer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(plan["schedule"])
    assert all(r["post_id"] == POST and r["day"] == DAY for r in rows)
    response = client.post(f"/api/v1/patrols/plans/{plan['id']}/tasks", headers=officer)
    assert response.status_code == 201, response.text
    sent = response.json()
    mine = [e for e in plan["schedule"] if e["team_id"] == "tj-panj-1"]
    assert len(sent["tasks"]) == len(mine)
    if any(e["team_id"] == "tj-panj-2" for e in plan["schedule"]):
        assert sent["skipped"] == ["tj-panj-2"]
    tasks = client.get("/api/v1/tasks", params={"unit_id": "tj-panj-1"}, headers=officer)
    assert {t["id"] for t in tasks.json()["tasks"]} == set(sent["tasks"])


def test_the_live_stream_keeps_plans_from_a_liaison(node: Node, client: TestClient,
                                                    as_role: Headers) -> None:
    plan = _plan(client, as_role(Role.duty_officer))
    users = {u.role: u for u in list_users(node.engine)}
    for role, sees in ((Role.operator, True), (Role.liaison, False)):
        frames, _ = _frames(node, users[role], 0)
        kinds = {frame.split(b"\n")[1] for frame in frames}
        assert (b"event: patrol_plan" in kinds) is sees, role
    assert plan["id"]
