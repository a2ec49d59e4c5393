"""Integrity of decisions (issue 15): once a duty officer has validated, closed or rejected
an event, only a duty officer changes it, and every version names the person who made it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from conftest import auth, report
from sitcen.exchange.agreements import Agreement, EventField
from sitcen.exchange.sharing import SharedRecord, share
from sitcen.users import Role


def _put(client: TestClient, event_id: str, headers: dict[str, str], **change: Any) -> Any:
    current = client.get(f"/api/v1/events/{event_id}", headers=headers).json()
    body = report(**{k: current[k] for k in ("occurred_at",)}, status=current["status"],
                  base_version=current["version"])
    body.update(change)
    return client.put(f"/api/v1/events/{event_id}", json=body, headers=headers)


def test_a_validated_event_changes_only_through_a_duty_officer(
        client: TestClient, tokens: dict[Role, str]) -> None:
    operator, duty = auth(tokens[Role.operator]), auth(tokens[Role.duty_officer])
    event_id = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    # Before the decision the reporter may still correct the report.
    assert _put(client, event_id, operator, impact_level="high").status_code == 200
    assert _put(client, event_id, duty, status="validated",
                impact_level="high").status_code == 200
    refused = _put(client, event_id, operator, impact_level="low")
    assert refused.status_code == 403, refused.text
    problem = refused.json()["detail"][0]
    assert problem["type"] == "decided" and "follow-up" in problem["msg"]
    current = client.get(f"/api/v1/events/{event_id}", headers=duty).json()
    assert current["version"] == 3 and current["impact_level"] == "high"
    # The duty officer may still change it, and close it; then it stays closed for others.
    assert _put(client, event_id, duty, impact_level="very_high").status_code == 200
    assert _put(client, event_id, duty, status="closed").status_code == 200
    assert _put(client, event_id, operator, description="late note").status_code == 403
    # What the operator learns later goes into a follow-up report.
    follow = client.post("/api/v1/events", json=report(follow_up_of=event_id),
                         headers=operator)
    assert follow.status_code == 201


def test_every_version_names_the_person_who_made_it(client: TestClient,
                                                     tokens: dict[Role, str]) -> None:
    operator, duty = auth(tokens[Role.operator]), auth(tokens[Role.duty_officer])
    event_id = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    _put(client, event_id, duty, status="validated")
    batch = client.post("/api/v1/events/batch", json={"events": [report()]}, headers=operator)
    batch_id = batch.json()["events"][0]["id"]
    versions = client.get(f"/api/v1/events/{event_id}/versions", headers=duty).json()
    assert [v["recorded_by"] for v in versions] == [
        {"username": "operator", "full_name": "operator"},
        {"username": "duty-officer", "full_name": "duty_officer"},
    ]
    one = client.get(f"/api/v1/events/{batch_id}", headers=duty).json()
    assert one["recorded_by"] == {"username": "operator", "full_name": "operator"}


def test_the_person_never_travels_to_another_node(client: TestClient,
                                                  tokens: dict[Role, str]) -> None:
    operator = auth(tokens[Role.operator])
    event_id = client.post("/api/v1/events", json=report(), headers=operator).json()["id"]
    body = client.get(f"/api/v1/events/{event_id}", headers=operator).json()
    assert body["recorded_by"]["username"] == "operator"
    everything = Agreement.model_validate({
        "id": "all", "from_node": body["origin"], "to_node": "partner", "direction": "up",
        "kinds": ["event"], "events": {"categories": [body["category"]]},
        "fields": [f.value for f in EventField], "location_precision": "exact",
        "personal_data": "full", "handling_ceiling": "RED", "onward_sharing": True,
    })
    record = SharedRecord("event", body["origin"], event_id, body["version"], body)
    out = share(record, everything, now=datetime.now(UTC))
    assert out is not None
    assert "recorded_by" not in out.body
