"""The validation queue of one node over the API, on SQLite and PostgreSQL.

The node validates at the only level of its chain (the default: a node with no
parent validates itself). Three-node chains over HTTP: tests/test_chain_federation.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import iso, make_settings, report
from sitcen.api.main import create_app
from sitcen.node import Node
from sitcen.operations import queue as queue_module
from sitcen.operations.notifications import list_notifications
from sitcen.operations.queue import QueueKeeper, chain_of
from sitcen.store.journal import now_micros
from sitcen.testing import serve_in_thread
from sitcen.times import to_micros
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _report(client: TestClient, headers: dict[str, str], **changes: Any) -> str:
    answer = client.post("/api/v1/events", json=report(**changes), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _keeper(node: Node) -> QueueKeeper:
    keeper = QueueKeeper(node.engine, chain_of(node.settings))
    keeper.follow_once()  # the first pass rebuilds and sets the cursor
    return keeper


def _catch_up(keeper: QueueKeeper) -> None:
    while keeper.follow_once():
        pass


def _queue(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/queue", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_reports_wait_serious_first_then_oldest_first(node: Node, client: TestClient,
                                                      as_role: Headers) -> None:
    now = datetime.now(UTC)
    keeper = _keeper(node)
    operator = as_role(Role.operator)
    newest = _report(client, operator, reported_at=iso(now - timedelta(minutes=5)),
                     occurred_at=iso(now - timedelta(minutes=10)))
    oldest = _report(client, operator, reported_at=iso(now - timedelta(minutes=50)),
                     occurred_at=iso(now - timedelta(hours=1)))
    armed = _report(client, operator, type="armed_incident", details={"shots_fired": True},
                    persons=[], transport=None, modus_operandi=[], reaction=[],
                    reported_at=iso(now - timedelta(minutes=1)),
                    occurred_at=iso(now - timedelta(minutes=2)))
    _catch_up(keeper)
    page = _queue(client, operator)
    assert (page["levels"], page["level"]) == (["national"], "national")
    assert [i["event_id"] for i in page["items"]] == [armed, oldest, newest]
    first = page["items"][0]
    assert first["serious"] and first["level"] == "national" and first["round"] == 0
    assert first["event"]["type"] == "armed_incident"
    for item in page["items"]:
        assert item["overdue"] == (item["waiting_s"] > 30 * 60)
    assert page["items"][1]["waiting_s"] >= 50 * 60 - 0.1 and page["items"][1]["overdue"]
    assert page["counts"] == {"waiting": 3, "overdue": 1, "serious": 1, "late": 0, "below": 0,
                              "returned": 0}
    # One page at a time.
    one = _queue(client, operator, limit=2)
    rest = _queue(client, operator, limit=2, cursor=one["next_cursor"])
    assert [i["event_id"] for i in one["items"] + rest["items"]] == [armed, oldest, newest]
    assert rest["next_cursor"] is None
    bad = client.get("/api/v1/queue", params={"cursor": "nonsense"}, headers=operator)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_second_officer_is_refused_with_who_and_when(node: Node, client: TestClient,
                                                       as_role: Headers) -> None:
    keeper = _keeper(node)
    event_id = _report(client, as_role(Role.operator))
    _catch_up(keeper)
    url = f"/api/v1/events/{event_id}/actions"
    first = client.post(url, json={"action": "validate"}, headers=as_role(Role.duty_officer))
    assert first.status_code == 201, first.text
    body = first.json()["body"]
    assert (body["level"], body["event_version"], body["by"]) == ("national", 1, "duty-officer")
    # Gone from the queue at once (the officer's own page is right without waiting).
    assert _queue(client, as_role(Role.duty_officer))["items"] == []
    for action, extra in (("validate", {}), ("reject", {"text": "duplicate"}),
                          ("return_for_correction", {"text": "unclear"})):
        second = client.post(url, json={"action": action, **extra}, headers=as_role(Role.admin))
        assert second.status_code == 409, second.text
        (problem,) = second.json()["detail"]
        assert problem["type"] == "already_handled" and problem["loc"] == ["body", "action"]
        assert "duty-officer" in problem["msg"] and body["at"] in problem["msg"]
    actions = client.get(url, headers=as_role(Role.duty_officer)).json()
    assert [a["body"]["action"] for a in actions] == ["validate"]


def test_two_officers_at_the_same_moment_one_wins(node: Node, as_role: Headers,
                                                  tokens: dict[Role, str]) -> None:
    keeper = _keeper(node)
    served = serve_in_thread(node)
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            created = http.post("/api/v1/events", json=report(),
                                headers=as_role(Role.operator))
            event_id = created.json()["id"]
            _catch_up(keeper)
            barrier = threading.Barrier(2)
            answers: list[int] = []

            def act(role: Role) -> None:
                barrier.wait()
                answers.append(http.post(f"/api/v1/events/{event_id}/actions",
                                         json={"action": "validate"},
                                         headers=as_role(role)).status_code)

            threads = [threading.Thread(target=act, args=(r,))
                       for r in (Role.duty_officer, Role.admin)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(answers) == [201, 409]
            actions = http.get(f"/api/v1/events/{event_id}/actions",
                               headers=as_role(Role.admin)).json()
            assert len(actions) == 1
    finally:
        served.stop()


@pytest.mark.parametrize("role, action", [
    (Role.operator, "validate"), (Role.operator, "return_for_correction"),
    (Role.liaison, "reject"), (Role.analyst, "validate")])
def test_who_may_not_validate(node: Node, client: TestClient, as_role: Headers, role: Role,
                              action: str) -> None:
    event_id = _report(client, as_role(Role.operator))
    answer = client.post(f"/api/v1/events/{event_id}/actions",
                         json={"action": action, "text": "x"}, headers=as_role(role))
    assert answer.status_code == 403


@pytest.mark.parametrize("action", ["reject", "return_for_correction"])
def test_a_rejection_or_a_return_needs_a_reason(node: Node, client: TestClient,
                                                as_role: Headers, action: str) -> None:
    event_id = _report(client, as_role(Role.operator))
    answer = client.post(f"/api/v1/events/{event_id}/actions", json={"action": action},
                         headers=as_role(Role.duty_officer))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "text"]


def test_time_in_queue_is_the_difference_of_the_recorded_times(
        node: Node, client: TestClient, as_role: Headers) -> None:
    keeper = _keeper(node)
    duty = as_role(Role.duty_officer)
    reported = datetime.now(UTC) - timedelta(minutes=42)
    event_id = _report(client, as_role(Role.operator), reported_at=iso(reported),
                       occurred_at=iso(reported - timedelta(minutes=3)))
    _catch_up(keeper)
    done = client.post(f"/api/v1/events/{event_id}/actions", json={"action": "validate"},
                       headers=duty).json()["body"]
    acted = datetime.fromisoformat(done["at"].replace("Z", "+00:00"))
    stats = client.get("/api/v1/queue/statistics", params={"tz": "Asia/Bishkek"},
                       headers=duty).json()
    expected = round((to_micros(acted) - to_micros(reported)) / 1e6, 3)
    (level,) = stats["by_level"]
    assert (level["level"], level["count"]) == ("national", 1)
    assert level["median_s"] == level["p90_s"] == expected
    (per_node,) = stats["by_level_node"]
    assert per_node["node"] == node.settings.node_id
    (day,) = stats["by_day"]
    assert day["day"] == reported.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Bishkek")).date().isoformat()
    bad = client.get("/api/v1/queue/statistics", params={"tz": "Mars/Olympus"}, headers=duty)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "tz"]


def test_several_stays_give_median_and_p90(node: Node, client: TestClient,
                                           as_role: Headers) -> None:
    keeper = _keeper(node)
    duty = as_role(Role.duty_officer)
    now = datetime.now(UTC)
    reported = [now - timedelta(minutes=m) for m in (10, 20, 30, 40, 50)]
    ids = [_report(client, as_role(Role.operator), reported_at=iso(r),
                   occurred_at=iso(r - timedelta(minutes=1))) for r in reported]
    _catch_up(keeper)
    waited = []
    for event_id, r in zip(ids, reported, strict=True):
        answer = client.post(f"/api/v1/events/{event_id}/actions", json={"action": "validate"},
                             headers=duty)
        acted = datetime.fromisoformat(answer.json()["body"]["at"].replace("Z", "+00:00"))
        waited.append((to_micros(acted) - to_micros(r)) / 1e6)
    (level,) = client.get("/api/v1/queue/statistics", headers=duty).json()["by_level"]
    assert level["count"] == 5
    ordered = sorted(waited)
    assert level["median_s"] == round(ordered[2], 3)  # the middle one
    # The 90th percentile lies 60 % of the way from the 4th to the 5th longest.
    assert level["p90_s"] == pytest.approx(ordered[3] + 0.6 * (ordered[4] - ordered[3]),
                                           abs=0.001)


def test_serious_late_and_overdue_reports_are_told_to_the_duty_officers(
        node: Node, client: TestClient, as_role: Headers) -> None:
    keeper = _keeper(node)
    operator = as_role(Role.operator)
    armed = _report(client, operator, type="armed_incident", details={"killed": 1},
                    persons=[], transport=None, modus_operandi=[], reaction=[])
    late = _report(client, operator, occurred_at=iso(datetime.now(UTC) - timedelta(hours=30)))
    waiting = _report(client, operator)
    _catch_up(keeper)

    def told(user: str) -> set[tuple[str, str]]:
        return {(n.body["reason"], n.body["about"]["id"])
                for n in list_notifications(node.engine, user, limit=100)}

    expected = {("serious_incident", armed), ("late_report", late)}
    for officer in ("duty-officer", "admin"):
        assert told(officer) == expected
    assert told("operator") == told("analyst") == set()
    page = _queue(client, operator)
    assert {i["event_id"]: i["late"] for i in page["items"]}[late] is True
    # Forty minutes later, nobody has acted: every waiting report is overdue.
    later = now_micros() + 40 * 60 * 1_000_000
    assert keeper.escalate(later) == 6  # three reports, two officers
    assert keeper.escalate(later) == 0  # told once
    assert {r for r, e in told("duty-officer") if e == waiting} == {"overdue"}
    # After a restart the stays are looked at again, and nobody is told twice.
    assert _keeper(node).escalate(later) == 0


def test_overdue_reports_are_told_a_batch_at_a_time_oldest_first(
        node: Node, client: TestClient, as_role: Headers,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_module, "ESCALATE_BATCH", 2)
    keeper = _keeper(node)
    operator = as_role(Role.operator)
    ids = [_report(client, operator) for _ in range(3)]
    _catch_up(keeper)
    later = now_micros() + 40 * 60 * 1_000_000
    assert keeper.escalate(later) == 4  # two reports (the first two), two officers
    assert keeper.escalate(later) == 2  # the third
    assert keeper.escalate(later) == 0
    overdue = [n.body["about"]["id"] for n in list_notifications(node.engine, "admin", limit=10)
               if n.body["reason"] == "overdue"]
    assert sorted(overdue) == sorted(ids)


def test_a_node_without_a_level_validates_nothing(engine: sa.Engine, database_url: str,
                                                  tmp_path: Path, tokens: Any,
                                                  as_role: Headers) -> None:
    settings = make_settings(database_url, tmp_path, chain_levels=["regional", "national"],
                             chain_level="")
    post = Node.open(settings, engine=engine)
    with TestClient(create_app(post)) as client:
        event_id = _report(client, as_role(Role.operator))
        answer = client.post(f"/api/v1/events/{event_id}/actions", json={"action": "validate"},
                             headers=as_role(Role.duty_officer))
        assert answer.status_code == 409
        assert answer.json()["detail"][0]["type"] == "no_level"
        # Closing and commenting are not the chain's: they still work.
        assert client.post(f"/api/v1/events/{event_id}/actions",
                           json={"action": "comment", "text": "seen"},
                           headers=as_role(Role.operator)).status_code == 201


def test_a_chain_level_must_be_one_of_the_levels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chain_level"):
        make_settings("sqlite://", tmp_path, chain_levels=["regional"], chain_level="national")
    with pytest.raises(ValueError, match="serious_types"):
        make_settings("sqlite://", tmp_path, serious_types=["picnic"])
