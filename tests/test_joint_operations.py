"""Joint operations and threads through the API on both backends: plan, daily reports,
the merged day, the evaluation against objectives, messages with mentions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.node import Node
from sitcen.operations.joint import evaluate, merge_reports
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, own_record_id, write_record
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]


def plan(node_id: str, start: datetime, days: int = 3, **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Kanal-Panj", "description": "Drug trafficking on the Panj",
        "sections": ["AF-TJ-005", "AF-TJ-006"], "countries": ["TJ", "KG"],
        "starts_at": iso(start), "ends_at": iso(start + timedelta(days=days)),
        "participants": [
            {"node": node_id, "name": "Border Troops (TJ)", "country": "TJ"},
            {"node": "kg-ncc", "name": "Border Service (KG)", "country": "KG"}],
        "resources": [
            {"id": "boat-1", "kind": "asset", "name": "Patrol boat", "node": node_id,
             "home_unit": "Panj detachment", "asset_id": "tj-boat-1",
             "starts_at": iso(start), "ends_at": iso(start + timedelta(days=days))},
            {"id": "dogs-kg", "kind": "team", "name": "Dog team", "node": "kg-ncc",
             "home_unit": "Osh canine unit", "people": 4,
             "starts_at": iso(start), "ends_at": iso(start + timedelta(days=days))}],
        "objectives": [
            {"id": "o1", "text": "Seize at least 50 kg", "indicator": "drugs_seized_kg",
             "target": 50},
            {"id": "o2", "text": "Train the crews together"}],
        "handling": "AMBER"}
    body.update(change)
    return body


def test_plan_report_merge_and_evaluate(client: TestClient, node: Node,
                                        as_role: Headers) -> None:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) \
        - timedelta(days=1)
    duty = as_role(Role.duty_officer)
    created = client.post("/api/v1/operations", json=plan(node.settings.node_id, start),
                          headers=duty)
    assert created.status_code == 201, created.text
    op = created.json()
    assert op["status"] == "active" and op["body"]["coordinator"] == node.settings.node_id
    day = start.date().isoformat()
    event = client.post("/api/v1/events", json=report(
        occurred_at=iso(start + timedelta(hours=5)), location={"lon": 69.3, "lat": 37.2}),
        headers=as_role(Role.operator)).json()
    draft = client.get(f"/api/v1/operations/{op['id']}/reports/draft?day={day}",
                       headers=duty).json()
    assert event["section_id"] == "AF-TJ-005"
    assert draft["counts"] == {"events_detected": 1, "persons_apprehended": 2,
                               "drugs_seized_kg": 12.5}
    assert draft["incidents"] == [event["id"]]
    mine = client.post(f"/api/v1/operations/{op['id']}/reports", json={
        "day": day, "counts": {"drugs_seized_kg": 30, "patrols": 4},
        "resources_used": ["boat-1"], "remarks": "Quiet night"}, headers=duty)
    assert mine.status_code == 201, mine.text
    # The Kyrgyz participant's report, as it arrives from its node.
    write_record(node.engine, RecordKind.operation_report, {
        "operation_id": op["id"], "operation_origin": node.settings.node_id,
        "scope": "participant", "day": day,
        "participant": {"node": "kg-ncc", "name": "Border Service (KG)", "country": "KG"},
        "counts": {"drugs_seized_kg": 25, "persons_apprehended": 2}, "incidents": [],
        "resources_used": ["dogs-kg"], "remarks": "Two couriers", "handling": "AMBER"},
        node_id="kg-ncc")
    preview = client.get(f"/api/v1/operations/{op['id']}/merged?day={day}", headers=duty).json()
    assert preview["preview"]["counts"] == {"drugs_seized_kg": 55, "patrols": 4,
                                            "persons_apprehended": 2}
    assert preview["preview"]["missing"] == [] and preview["kept"] is None
    merged = client.post(f"/api/v1/operations/{op['id']}/merged", json={"day": day},
                         headers=duty)
    assert merged.status_code == 201
    assert merged.json()["body"]["scope"] == "merged" and len(merged.json()["body"]["sources"]) == 2
    evaluation = client.get(f"/api/v1/operations/{op['id']}/evaluation", headers=duty).json()
    (seized, training) = evaluation["current"]["objectives"]
    assert seized["achieved"] == 55 and seized["met"] is True and training["met"] is None
    # Not over yet: no evaluation can be kept.
    early = client.post(f"/api/v1/operations/{op['id']}/evaluation", json={"remarks": "x"},
                        headers=duty)
    assert early.status_code == 422
    # Operators report but do not plan; a report outside the period is refused.
    assert client.post("/api/v1/operations", json=plan(node.settings.node_id, start),
                       headers=as_role(Role.operator)).status_code == 403
    late = client.post(f"/api/v1/operations/{op['id']}/reports", json={
        "day": (start + timedelta(days=9)).date().isoformat()}, headers=duty)
    assert late.status_code == 422 and late.json()["detail"][0]["loc"] == ["body", "day"]
    # A day the node cannot work with is refused, not a 500 from the day after 9999-12-31.
    for path in ("reports/draft", "merged"):
        far = client.get(f"/api/v1/operations/{op['id']}/{path}?day=9999-12-31", headers=duty)
        assert far.status_code == 422 and far.json()["detail"][0]["loc"] == ["query", "day"]
    listed = client.get("/api/v1/operations", headers=as_role(Role.liaison)).json()
    assert [o["id"] for o in listed] == [op["id"]]


def test_a_plan_names_known_sections_and_participants(client: TestClient, node: Node,
                                                      as_role: Headers) -> None:
    start = datetime.now(UTC)
    body = plan(node.settings.node_id, start, sections=["XX-YY-001"])
    body["resources"][0]["node"] = "uz-ncc"
    answer = client.post("/api/v1/operations", json=body, headers=as_role(Role.duty_officer))
    assert answer.status_code == 422
    locs = [e["loc"] for e in answer.json()["detail"]]
    assert ["body", "sections", 0] in locs and ["body", "resources", 0, "node"] in locs


def test_merging_and_evaluating_are_pure_sums_of_participants() -> None:
    def rep(node: str, day: str, counts: dict[str, float], scope: str = "participant"
            ) -> StoredRecord:
        return StoredRecord("operation_report", own_record_id(node, "r", day), node, 1, "op",
                            datetime.now(UTC), {"scope": scope, "day": day, "counts": counts,
                                                "participant": {"node": node}})
    operation = {"participants": [{"node": "a"}, {"node": "b"}],
                 "starts_at": "2026-05-01T00:00:00+00:00", "ends_at": "2026-05-03T00:00:00+00:00",
                 "objectives": [{"id": "x", "text": "t", "indicator": "patrols", "target": 5}]}
    reports = [rep("a", "2026-05-01", {"patrols": 2}), rep("b", "2026-05-01", {"patrols": 1}),
               rep("a", "2026-05-02", {"patrols": 1}),
               rep("c", "2026-05-01", {"patrols": 3}, scope="merged")]
    assert merge_reports(operation, reports, "2026-05-02")["missing"] == ["b"]
    result = evaluate(operation, reports)
    assert result["totals"] == {"patrols": 4} and result["objectives"][0]["met"] is False
    assert result["days"] == 2
    assert [r["days_reported"] for r in result["reporting"]] == [2, 1]


def test_a_thread_on_an_event_with_mentions(client: TestClient, node: Node,
                                            as_role: Headers) -> None:
    event = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    posted = client.post("/api/v1/messages", json={
        "record_id": event["id"], "text": "@duty-officer please call @liaison@kg-ncc"},
        headers=as_role(Role.liaison))
    assert posted.status_code == 201, posted.text
    body = posted.json()["body"]
    assert body["mentions"] == [{"user": "duty-officer", "node": node.settings.node_id},
                                {"user": "liaison", "node": "kg-ncc"}]
    assert body["record_kind"] == "event" and body["handling"] == "AMBER"
    thread = client.get(f"/api/v1/messages?record_id={event['id']}",
                        headers=as_role(Role.operator)).json()
    assert [m["body"]["text"] for m in thread] == [body["text"]]
    missing = client.post("/api/v1/messages", json={
        "record_id": "00000000-0000-4000-8000-000000000000", "text": "hello"},
        headers=as_role(Role.operator))
    assert missing.status_code == 404
