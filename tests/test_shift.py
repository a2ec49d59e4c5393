"""The duty log and the shift handover, over the API on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import report
from sitcen.node import Node
from sitcen.operations.queue import QueueKeeper, chain_of
from sitcen.store.alerts import record_alerts
from sitcen.store.recommendations import add_recommendation
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _log(client: TestClient, headers: dict[str, str], entry_type: str, text: str,
         **more: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/duty-log", json={"entry_type": entry_type, "text": text,
                                                   **more}, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_the_duty_log_is_written_and_searched(node: Node, client: TestClient,
                                              as_role: Headers) -> None:
    duty, admin = as_role(Role.duty_officer), as_role(Role.admin)
    first = _log(client, duty, "call", "Звонок из Нижнего Пянджа: группа у брода")
    _log(client, admin, "decision", "Усилить наряд на AF-TJ-004",
         related=[{"kind": "event", "id": "5b0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10"}])
    _log(client, duty, "instruction", "Patrol 2 to stay at the ford until dawn")
    assert (first["author"], first["entry_type"]) == ("duty-officer", "call")
    everything = client.get("/api/v1/duty-log", headers=as_role(Role.liaison)).json()["entries"]
    assert [e["entry_type"] for e in everything] == ["instruction", "decision", "call"]
    found = client.get("/api/v1/duty-log", params={"q": "БРОД"}, headers=duty).json()
    assert [e["id"] for e in found["entries"]] == [first["id"]]
    decisions = client.get("/api/v1/duty-log", params={"entry_type": "decision"},
                           headers=duty).json()["entries"]
    assert [e["author"] for e in decisions] == ["admin"]
    assert decisions[0]["related"][0]["kind"] == "event"
    mine = client.get("/api/v1/duty-log", params={"author": "duty-officer"},
                      headers=duty).json()["entries"]
    assert len(mine) == 2
    later = client.get("/api/v1/duty-log", params={"since": first["recorded_at"]},
                       headers=duty).json()["entries"]
    assert len(later) == 3
    naive = client.get("/api/v1/duty-log", params={"since": "2026-01-01T00:00:00"},
                       headers=duty)
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize("role", [Role.operator, Role.analyst, Role.liaison])
def test_only_duty_officers_write_the_log_and_hand_over(client: TestClient, as_role: Headers,
                                                        role: Role) -> None:
    assert client.post("/api/v1/duty-log", json={"entry_type": "call", "text": "x"},
                       headers=as_role(role)).status_code == 403
    assert client.post("/api/v1/handovers", json={}, headers=as_role(role)).status_code == 403


def test_a_handover_lists_what_is_open_and_what_happened(
        node: Node, client: TestClient, as_role: Headers) -> None:
    node_id = node.settings.node_id
    keeper = QueueKeeper(node.engine, chain_of(node.settings))
    keeper.follow_once()
    duty, operator = as_role(Role.duty_officer), as_role(Role.operator)
    waiting = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    validated = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    while keeper.follow_once():
        pass
    client.post(f"/api/v1/events/{validated}/actions", json={"action": "validate"},
                headers=duty)
    (alert_id,) = record_alerts(node.engine, node_id, [{
        "key": "k1", "section_id": "AF-TJ-003", "category": "cross_border_crime",
        "type": "drug_smuggling", "first_day": "2026-01-01", "last_day": "2026-01-02",
        "severity": "high", "observed": 9, "expected": 2.0, "event_ids": []}]).created
    client.post("/api/v1/sections/AF-TJ-003/level",
                json={"level": "high", "justification": "surge of seizures"}, headers=duty)
    add_recommendation(node.engine, node_id, section_id="AF-TJ-003", text="Second tower",
                       owner="engineers", deadline=date.today() - timedelta(days=3),
                       created_by="analyst")
    client.post("/api/v1/assets/positions", json={
        "asset_id": "tj-panj-1", "kind": "patrol", "name": "PANJ-1",
        "location": {"lon": 68.55, "lat": 37.2}, "at": datetime.now(UTC).isoformat()},
        headers=operator)
    task = client.post("/api/v1/tasks", json={
        "unit_id": "tj-panj-1", "target": {"kind": "event", "event_id": waiting}},
        headers=duty).json()
    _log(client, duty, "decision", "Patrol sent to the ford")

    draft = client.get("/api/v1/handovers/draft", headers=duty).json()
    assert draft["status"] == "draft" and draft["id"] is None
    made = client.post("/api/v1/handovers", json={"notes": "Ford quiet since 04:00",
                                                  "to_officer": "admin"}, headers=duty)
    assert made.status_code == 201, made.text
    handover = made.json()
    opened = handover["open"]
    assert [r["event_id"] for r in opened["reports_waiting"]] == [waiting]
    assert opened["queue"]["waiting"] == 1
    assert [(a["id"], a["status"]) for a in opened["alerts"]] == [(alert_id, "open")]
    assert opened["alerts"][0]["summary"]["key"] == "ui.notify.alert"
    assert [(t["id"], t["status"]) for t in opened["tasks"]] == [(task["id"], "assigned")]
    assert [(r["section_id"], r["to"]) for r in opened["levels_raised"]] == [("AF-TJ-003",
                                                                             "high")]
    assert [r["text"] for r in opened["recommendations_overdue"]] == ["Second tower"]
    happened = handover["happened"]
    assert happened["events"]["count"] == 2
    assert happened["queue_decisions"] == {"validated": 1}
    assert [e["text"] for e in happened["log"]] == ["Patrol sent to the ford"]
    assert (handover["from_officer"], handover["status"]) == ("duty-officer", "handed_over")

    # The outgoing officer cannot sign off; the incoming one does, once.
    url = f"/api/v1/handovers/{handover['id']}/sign-off"
    same = client.post(url, json={}, headers=duty)
    assert same.status_code == 409 and same.json()["detail"][0]["type"] == "same_officer"
    signed = client.post(url, json={"note": "Taken over"}, headers=as_role(Role.admin))
    assert signed.status_code == 200, signed.text
    assert (signed.json()["status"], signed.json()["signed_off_by"]) == ("signed_off", "admin")
    twice = client.post(url, json={}, headers=as_role(Role.admin))
    assert twice.status_code == 409
    assert "signed off by admin" in twice.json()["detail"][0]["msg"]
    # The next shift starts where this one ended.
    after = client.get("/api/v1/handovers/draft", headers=as_role(Role.admin)).json()
    assert after["period_from"] == handover["period_to"]
    assert after["happened"]["log"] == [] and after["happened"]["events"]["count"] == 0


def test_past_shifts_are_searchable(node: Node, client: TestClient, as_role: Headers) -> None:
    duty, admin = as_role(Role.duty_officer), as_role(Role.admin)
    _log(client, duty, "call", "Погранзастава Хумроги: сель на дороге")
    first = client.post("/api/v1/handovers", json={"notes": "Road closed"}, headers=duty).json()
    _log(client, admin, "information", "Road open again")
    second = client.post("/api/v1/handovers", json={"notes": "All quiet"},
                         headers=admin).json()
    everything = client.get("/api/v1/handovers", headers=duty).json()["handovers"]
    assert [h["id"] for h in everything] == [second["id"], first["id"]]
    assert [h["id"] for h in client.get("/api/v1/handovers", params={"q": "СЕЛЬ"},
                                        headers=duty).json()["handovers"]] == [first["id"]]
    assert [h["id"] for h in client.get("/api/v1/handovers", params={"officer": "admin"},
                                        headers=duty).json()["handovers"]] == [second["id"]]
    assert client.get(f"/api/v1/handovers/{first['id']}", headers=duty).json()["notes"] == \
        "Road closed"
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/v1/handovers/{missing}", headers=duty).status_code == 404
    assert client.post(f"/api/v1/handovers/{missing}/sign-off", json={},
                       headers=admin).status_code == 404
