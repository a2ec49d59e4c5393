"""Alerts as work and section levels from the console, over the API on both backends.

Acknowledge, assign, note and close with an outcome (the false-alarm rate
measured from the closures); a level confirmed with a justification and its
reaction checklist ticked off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sitcen.node import Node
from sitcen.operations.notifications import list_notifications
from sitcen.store.alerts import record_alerts
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
SECTION = "AF-TJ-003"


def _alarm(key: str = "early-warning:AF-TJ-003:2025-05-10", **overrides: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "key": key, "section_id": SECTION, "category": "unauthorised_crossing",
        "type": "river_crossing", "first_day": "2025-05-10", "last_day": "2025-05-11",
        "severity": "medium", "methods": ["cusum"], "statistic": 6.1, "threshold": 5.2,
        "expected": 1.2, "observed": 7, "p_value": 0.001,
        "explanation": "7 river crossings against 1.2", "event_ids": ["e1", "e2"], "signals": 1,
    }
    alarm.update(overrides)
    return alarm


def _alerts(node: Node, *alarms: dict[str, Any]) -> list[str]:
    return record_alerts(node.engine, node.settings.node_id, alarms).created


def test_an_alert_reads_in_one_line_in_the_readers_language(
        node: Node, client: TestClient, as_role: Headers) -> None:
    _alerts(node, _alarm())
    (ru,) = client.get("/api/v1/alerts?lang=ru", headers=as_role(Role.liaison)).json()["alerts"]
    assert ru["summary"]["key"] == "ui.notify.alert"
    assert ru["summary_text"].startswith("Средняя тревога на участке AF-TJ-003: 7 событий")
    (en,) = client.get("/api/v1/alerts", headers={**as_role(Role.liaison),
                                                  "Accept-Language": "en"}).json()["alerts"]
    assert en["summary_text"] == ("Medium alert on AF-TJ-003: 7 Unauthorised crossing of a "
                                  "river border events since 2025-05-10 (1.2 expected)")


def test_acknowledge_assign_note_and_close(node: Node, client: TestClient,
                                           as_role: Headers) -> None:
    (alert_id,) = _alerts(node, _alarm())
    duty, admin = as_role(Role.duty_officer), as_role(Role.admin)
    url = f"/api/v1/alerts/{alert_id}"
    taken = client.post(f"{url}/acknowledge", json={"note": "looking"}, headers=duty)
    assert taken.status_code == 200 and taken.json()["status"] == "acknowledged"
    again = client.post(f"{url}/acknowledge", json={}, headers=admin)
    assert again.status_code == 409
    (problem,) = again.json()["detail"]
    assert problem["type"] == "already_handled" and "duty-officer" in problem["msg"]
    assert taken.json()["acknowledged_at"] in problem["msg"]

    assigned = client.post(f"{url}/assign", json={"username": "analyst"}, headers=duty)
    assert assigned.status_code == 200 and assigned.json()["assigned_to"] == "analyst"
    (told,) = [n.body for n in list_notifications(node.engine, "analyst")]
    assert (told["reason"], told["about"]["id"], told["by"]) == ("assigned", alert_id,
                                                                 "duty-officer")
    nobody = client.post(f"{url}/assign", json={"username": "ghost"}, headers=duty)
    assert nobody.status_code == 422 and nobody.json()["detail"][0]["loc"] == ["body",
                                                                               "username"]
    noted = client.post(f"{url}/notes", json={"text": "called the Panj post"}, headers=duty)
    assert [n["text"] for n in noted.json()["notes"]] == ["called the Panj post"]
    closed = client.post(f"{url}/close", json={"outcome": "false_alarm",
                                               "note": "a wedding crossing"}, headers=duty)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["outcome"], body["closed_by"]) == ("closed", "false_alarm",
                                                                    "duty-officer")
    assert client.post(f"{url}/close", json={"outcome": "confirmed"},
                       headers=admin).status_code == 409
    detail = client.get(url, headers=as_role(Role.analyst)).json()
    assert [h["status"] for h in detail["history"]] == [
        "open", "acknowledged", "acknowledged", "acknowledged", "closed"]
    assert detail["history"][2]["assigned_to"] == "analyst"
    # A rerun of the analysis over the same alarm keeps the work done.
    record_alerts(node.engine, node.settings.node_id, [_alarm(observed=8)])
    kept = client.get(url, headers=duty).json()
    assert (kept["status"], kept["outcome"], kept["assigned_to"]) == ("closed", "false_alarm",
                                                                      "analyst")
    # ... unless it worsens: then it is open again, for someone to look at.
    record_alerts(node.engine, node.settings.node_id, [_alarm(observed=30, severity="high")])
    reopened = client.get(url, headers=duty).json()
    assert (reopened["status"], reopened["outcome"], reopened["reopened"]) == ("open", None,
                                                                               True)


@pytest.mark.parametrize("role", [Role.operator, Role.analyst, Role.liaison])
def test_only_duty_officers_work_on_alerts(node: Node, client: TestClient, as_role: Headers,
                                           role: Role) -> None:
    (alert_id,) = _alerts(node, _alarm())
    for path, body in (("acknowledge", {}), ("assign", {"username": "analyst"}),
                       ("notes", {"text": "x"}), ("close", {"outcome": "confirmed"})):
        answer = client.post(f"/api/v1/alerts/{alert_id}/{path}", json=body,
                             headers=as_role(role))
        assert answer.status_code == 403, path


def test_the_false_alarm_rate_is_measured_on_the_closures(node: Node, client: TestClient,
                                                          as_role: Headers) -> None:
    ids = _alerts(node, *[_alarm(key=f"k{i}", first_day=f"2025-05-1{i}",
                                 severity="high" if i < 2 else "low",
                                 methods=["scan"] if i == 0 else ["cusum"]) for i in range(5)])
    duty = as_role(Role.duty_officer)
    for alert_id, outcome in zip(ids, ["false_alarm", "confirmed", "false_alarm",
                                       "already_known"], strict=False):
        assert client.post(f"/api/v1/alerts/{alert_id}/close", json={"outcome": outcome},
                           headers=duty).status_code == 200
    stats = client.get("/api/v1/alerts/statistics", headers=as_role(Role.analyst)).json()
    assert stats["closed"] == 4 and stats["open"] == 1
    assert stats["by_outcome"] == {"confirmed": 1, "false_alarm": 2, "already_known": 1}
    assert stats["false_alarm_rate"] == 0.5
    by_severity = {s["severity"]: s["false_alarm_rate"] for s in stats["by_severity"]}
    assert by_severity == {"high": 0.5, "low": 0.5}
    by_method = {m["method"]: m["closed"] for m in stats["by_method"]}
    assert by_method == {"scan": 1, "cusum": 3}
    taken = {g["severity"]: g["count"] for g in stats["time_to_acknowledge"]}
    assert taken == {"high": 2, "low": 2}  # closing takes an alert in hand too
    empty = client.get("/api/v1/alerts/statistics",
                       params={"until": "2020-01-01T00:00:00Z"}, headers=duty).json()
    assert empty["closed"] == 0 and empty["false_alarm_rate"] is None
    # A window given in local time (Tashkent, UTC+5) holds the same closures.
    tashkent = timezone(timedelta(hours=5))
    now = datetime.now(tashkent)
    local = client.get("/api/v1/alerts/statistics", headers=duty, params={
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(hours=1)).isoformat()}).json()
    assert local["closed"] == 4


def test_a_level_confirmed_with_justification_and_its_checklist(
        node: Node, client: TestClient, as_role: Headers) -> None:
    duty = as_role(Role.duty_officer)
    url = f"/api/v1/sections/{SECTION}/level"
    unjustified = client.post(url, json={"level": "high"}, headers=duty)
    assert unjustified.status_code == 422
    assert unjustified.json()["detail"][0]["loc"] == ["body", "justification"]
    no_level = client.post(f"{url}/checklist", json={"item": 0}, headers=duty)
    assert no_level.status_code == 404
    confirmed = client.post(url, json={"level": "high", "justification":
                                       "three armed crossings this week"}, headers=duty)
    assert confirmed.status_code == 201, confirmed.text
    reactions = confirmed.json()["reactions"]
    assert len(reactions) == 5 and confirmed.json()["checklist"] == {}
    ticked = client.post(f"{url}/checklist", json={"item": 2, "note": "KG centre called"},
                         headers=duty)
    assert ticked.status_code == 200, ticked.text
    item = ticked.json()["checklist"]["2"]
    assert (item["done"], item["by"], item["note"]) == (True, "duty-officer", "KG centre called")
    assert ticked.json()["version"] == 2 and ticked.json()["level"] == "high"
    untick = client.post(f"{url}/checklist", json={"item": 2, "done": False}, headers=duty)
    assert untick.json()["checklist"]["2"]["done"] is False
    beyond = client.post(f"{url}/checklist", json={"item": 5}, headers=duty)
    assert beyond.status_code == 422 and beyond.json()["detail"][0]["loc"] == ["body", "item"]
    assert client.post(f"{url}/checklist", json={"item": 1},
                       headers=as_role(Role.operator)).status_code == 403
    # A new level starts a fresh checklist.
    lowered = client.post(url, json={"level": "medium", "justification": "calm again"},
                          headers=duty).json()
    assert lowered["checklist"] == {} and len(lowered["reactions"]) == 4
    # The level's history is its confirmations: the ticks in between are not listed.
    history = client.get(url, headers=duty).json()["history"]
    assert [(h["level"], h["justification"]) for h in history] == [
        ("high", "three armed crossings this week"), ("medium", "calm again")]
