"""Tasking over the API on both backends: units, statuses, response times, outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import report
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def _patrol(client: TestClient, headers: dict[str, str], asset_id: str = "tj-panj-1",
            name: str = "PANJ-1", kind: str = "patrol") -> None:
    answer = client.post("/api/v1/assets/positions", json={
        "asset_id": asset_id, "kind": kind, "name": name,
        "location": {"lon": 68.55, "lat": 37.20}, "at": datetime.now().astimezone().isoformat()},
        headers=headers)
    assert answer.status_code == 201, answer.text


def _event(client: TestClient, headers: dict[str, str], **changes: Any) -> str:
    answer = client.post("/api/v1/events", json=report(**changes), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _task(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"unit_id": "tj-panj-1", "priority": "immediate",
                            "instructions": "Check the ford below the post",
                            "target": {"kind": "section", "section_id": "AF-TJ-004"}}
    body.update(changes)
    answer = client.post("/api/v1/tasks", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _move(client: TestClient, task_id: str, headers: dict[str, str], status: str,
          note: str = "") -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/status", json={"status": status, "note": note},
                       headers=headers)


def _us(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)


def test_a_duty_officer_sends_a_patrol_to_an_event(node: Node, client: TestClient,
                                                   as_role: Headers) -> None:
    operator, duty = as_role(Role.operator), as_role(Role.duty_officer)
    _patrol(client, operator)
    _patrol(client, operator, "tj-cam-1", "Camera 1", "camera")  # cameras are not sent
    units = client.get("/api/v1/tasks/units", headers=duty).json()["units"]
    assert [(u["kind"], u["id"], u["callsign"]) for u in units] == [
        ("asset", "tj-panj-1", "PANJ-1")]
    event_id = _event(client, operator)
    task = _task(client, duty, target={"kind": "event", "event_id": event_id})
    assert (task["status"], task["unit"]["callsign"], task["priority"]) == (
        "assigned", "PANJ-1", "immediate")
    assert task["target"]["event_id"] == event_id and task["section_id"].startswith("AF-TJ-")
    assert task["location"] == report()["location"] and task["mine"] is True
    assert [h["status"] for h in task["history"]] == ["assigned"]
    listed = client.get("/api/v1/tasks", params={"event_id": event_id},
                        headers=as_role(Role.liaison)).json()["tasks"]
    assert [t["id"] for t in listed] == [task["id"]]
    busy = client.get("/api/v1/tasks/units", headers=duty).json()["units"]
    assert busy[0]["open_tasks"] == 1


@pytest.mark.parametrize("role", [Role.operator, Role.liaison, Role.analyst])
def test_who_may_not_task(node: Node, client: TestClient, as_role: Headers, role: Role) -> None:
    _patrol(client, as_role(Role.operator))
    answer = client.post("/api/v1/tasks", json={
        "unit_id": "tj-panj-1", "target": {"kind": "section", "section_id": "AF-TJ-004"}},
        headers=as_role(role))
    assert answer.status_code == 403


@pytest.mark.parametrize("changes, loc", [
    ({"unit_id": "nobody"}, ["body", "unit_id"]),
    ({"unit_kind": "post"}, ["body", "unit_id"]),
    ({"target": {"kind": "event"}}, ["body", "target", "event_id"]),
    ({"target": {"kind": "event", "event_id": "00000000-0000-4000-8000-000000000000"}},
     ["body", "target", "event_id"]),
    ({"target": {"kind": "section", "section_id": "XX-YY-001"}}, ["body", "target",
                                                                   "section_id"]),
    ({"target": {"kind": "point"}}, ["body", "target", "location"]),
    ({"priority": "whenever"}, ["body", "priority"]),
])
def test_a_task_names_what_is_wrong(node: Node, client: TestClient, as_role: Headers,
                                    changes: dict[str, Any], loc: list[str]) -> None:
    _patrol(client, as_role(Role.operator))
    body: dict[str, Any] = {"unit_id": "tj-panj-1",
                            "target": {"kind": "section", "section_id": "AF-TJ-004"}}
    body.update(changes)
    answer = client.post("/api/v1/tasks", json=body, headers=as_role(Role.duty_officer))
    assert answer.status_code == 422, answer.text
    assert loc in [e["loc"] for e in answer.json()["detail"]]


def test_statuses_go_forward_with_their_times_and_the_response_time(
        node: Node, client: TestClient, as_role: Headers) -> None:
    operator, duty = as_role(Role.operator), as_role(Role.duty_officer)
    _patrol(client, operator)
    task = _task(client, duty, target={"kind": "point",
                                       "location": {"lon": 68.6, "lat": 37.22}})
    task_id = task["id"]
    assert _move(client, task_id, operator, "acknowledged").status_code == 200
    assert _move(client, task_id, operator, "on_scene").status_code == 200  # skipping is fine
    back = _move(client, task_id, operator, "en_route")
    assert back.status_code == 422 and back.json()["detail"][0]["loc"] == ["body", "status"]
    done = _move(client, task_id, operator, "done", "nobody at the ford").json()
    assert [h["status"] for h in done["history"]] == ["assigned", "acknowledged", "on_scene",
                                                      "done"]
    assert done["version"] == 4 and done["done_at"] and done["on_scene_at"]
    assert _move(client, task_id, duty, "cancelled").status_code == 422  # already done
    stats = client.get("/api/v1/tasks/statistics", headers=as_role(Role.analyst)).json()
    assert stats["tasks"] == 1 and stats["by_status"] == {"done": 1}
    (response,) = stats["response"]
    assert (response["unit_kind"], response["priority"], response["count"]) == (
        "asset", "immediate", 1)
    assert response["median_s"] == round((_us(done["on_scene_at"]) - _us(done["dispatched_at"]))
                                         / 1e6, 3)
    (ack,) = stats["acknowledgement"]
    assert ack["median_s"] == round((_us(done["acknowledged_at"]) - _us(done["dispatched_at"]))
                                    / 1e6, 3)


def test_declining_needs_a_reason_and_only_the_tasker_cancels(
        node: Node, client: TestClient, as_role: Headers) -> None:
    operator, duty = as_role(Role.operator), as_role(Role.duty_officer)
    _patrol(client, operator)
    first, second = _task(client, duty)["id"], _task(client, duty)["id"]
    assert _move(client, first, operator, "declined").status_code == 422
    declined = _move(client, first, operator, "declined", "vehicle broken down").json()
    assert (declined["status"], declined["declined_reason"]) == ("declined",
                                                                 "vehicle broken down")
    assert _move(client, second, operator, "cancelled").status_code == 403
    assert _move(client, second, duty, "cancelled").json()["status"] == "cancelled"
    assert client.get("/api/v1/tasks?open=true", headers=duty).json()["tasks"] == []


def test_an_outcome_updates_the_event_or_reports_a_new_one(node: Node, client: TestClient,
                                                           as_role: Headers) -> None:
    operator, duty = as_role(Role.operator), as_role(Role.duty_officer)
    _patrol(client, operator)
    event_id = _event(client, operator, reaction=["monitoring"])
    task = _task(client, duty, target={"kind": "event", "event_id": event_id})
    finding = {**report(), "type": "weapons_smuggling",
               "details": {"weapon_kind": "firearm", "quantity": 2, "unit": "pieces"}}
    closed = client.post(f"/api/v1/tasks/{task['id']}/outcome", json={
        "result": "confirmed", "summary": "two couriers held, rifles found",
        "reaction": ["apprehended", "seized"], "report": finding}, headers=operator)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "done" and body["outcome"]["updated_event"] == event_id
    event = client.get(f"/api/v1/events/{event_id}", headers=duty).json()
    assert event["version"] == 2
    assert event["reaction"] == ["monitoring", "apprehended", "seized"]
    assert "two couriers held, rifles found" in event["description"]
    new = client.get(f"/api/v1/events/{body['outcome']['reported_event']}", headers=duty).json()
    assert (new["type"], new["follow_up_of"]) == ("weapons_smuggling", event_id)
    again = client.post(f"/api/v1/tasks/{task['id']}/outcome",
                        json={"result": "other"}, headers=operator)
    assert again.status_code == 409


def test_an_outcome_on_another_nodes_event_is_a_comment_of_this_node(
        node: Node, client: TestClient, as_role: Headers) -> None:
    event_id = _event(client, as_role(Role.operator))
    # Held here as the post's event (as if received from it): only the post changes it.
    with node.engine.begin() as conn:
        body = orjson.loads(conn.execute(sa.select(schema.events.c.body)
                                         .where(schema.events.c.id == event_id)).scalar_one())
        conn.execute(schema.events.update().where(schema.events.c.id == event_id).values(
            origin="tj-panj-post", body=orjson.dumps({**body, "origin": "tj-panj-post"}).decode()))
    _patrol(client, as_role(Role.operator))
    task = _task(client, as_role(Role.duty_officer),
                 target={"kind": "event", "event_id": event_id})
    closed = client.post(f"/api/v1/tasks/{task['id']}/outcome",
                         json={"result": "nothing_found", "summary": "tracks only"},
                         headers=as_role(Role.duty_officer)).json()
    assert closed["outcome"]["commented_event"] == event_id
    (comment,) = list_records(node.engine, RecordKind.event_action, subject=event_id)
    assert comment.origin == node.settings.node_id
    assert comment.body["action"] == "comment" and "tracks only" in comment.body["text"]
    event = client.get(f"/api/v1/events/{event_id}", headers=as_role(Role.operator)).json()
    assert event["version"] == 1  # the post's event itself is untouched


def test_a_task_goes_down_only_to_the_post_it_was_given_to() -> None:
    from sitcen.exchange.agreements import default_agreement
    from sitcen.exchange.sharing import SharedRecord, share
    from test_sharing import NOW

    def task(node: str | None) -> SharedRecord:
        return SharedRecord("task", "kg-osh-rc", "5b0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10", 1, {
            "unit_id": node or "kg-osh-1", "section_id": "KG-TJ-003", "handling": "AMBER",
            "unit": {"kind": "post" if node else "asset", "node": node}})

    down = default_agreement("kg-osh-rc", "kg-osh-post", "down", countries=["KG"])
    up = default_agreement("kg-osh-rc", "kg-ncc", "up")
    assert share(task("kg-osh-post"), down, now=NOW) is not None
    assert share(task("kg-batken-post"), down, now=NOW) is None  # another post's
    assert share(task(None), down, now=NOW) is None  # the centre's own patrol
    assert share(task(None), up, now=NOW) is not None  # the parent sees all tasking
    answer = SharedRecord("task_response", "kg-osh-post", "6b0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10",
                          1, {"task_id": "t", "task_origin": "kg-osh-rc", "status": "en_route",
                              "handling": "AMBER", "section_id": "KG-TJ-003"})
    peer = default_agreement("kg-osh-post", "kg-blo", "peer").model_copy(
        update={"kinds": ["task_response"]})
    assert share(answer, default_agreement("kg-osh-post", "kg-osh-rc", "up"),
                 now=NOW) is not None
    assert share(answer, peer, now=NOW) is None  # answers go to the node that asked


def test_the_taskers_own_change_keeps_the_posts_answers(node: Node) -> None:
    # A post answers through task_response records; when the tasking node then
    # moves the task on itself (closing it, say), the answers' times and history
    # stay: the response time (dispatch to on scene) is measured from them.
    from sitcen.operations.tasks import (
        TaskCreate,
        answer_task,
        create_task,
        known_units,
        list_tasks,
        update_own_task,
    )

    node_id = node.settings.node_id
    units = known_units(node.engine, {"tj-post-panj": "Panj post"})
    task = create_task(node.engine, node_id, node.sections, TaskCreate.model_validate({
        "unit_kind": "post", "unit_id": "tj-post-panj",
        "target": {"kind": "section", "section_id": node.sections.sections[0].id}}),
        by="duty", units=units)
    acknowledged = answer_task(node.engine, "tj-post-panj", task, "acknowledged", by="sgt",
                               via="console")
    on_scene = answer_task(node.engine, "tj-post-panj", task, "on_scene", by="sgt",
                           via="console")
    update_own_task(node.engine, node_id, task.id, "done", by="duty", via="console",
                    note="closed for the post")
    [(_, body)] = [(t, b) for t, b in list_tasks(node.engine) if t.id == task.id]
    assert body["status"] == "done"
    assert body["acknowledged_at"] == acknowledged.body["at"]
    assert body["on_scene_at"] == on_scene.body["at"]
    assert [h["status"] for h in body["history"]] == ["assigned", "acknowledged", "on_scene",
                                                      "done"]
    assert [h["by"] for h in body["history"]][1:3] == ["sgt@tj-post-panj"] * 2
