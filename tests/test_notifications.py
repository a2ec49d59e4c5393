"""Notifications: subscriptions matched by the journal follower, direct notices, who may read.

Storage and API on SQLite and PostgreSQL; the live stream over a real HTTP
server; the local-only kinds against random agreements (property).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import auth, report
from sitcen.errors import NotFound
from sitcen.events import EventCreate, EventUpdate
from sitcen.exchange.agreements import default_agreement
from sitcen.exchange.envelope import Batch, InvalidRecord
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.inbox import _records
from sitcen.exchange.links import Relation, add_agreement, add_peer
from sitcen.exchange.sharing import SharedRecord, share
from sitcen.node import Node
from sitcen.operations.notifications import (
    CURSOR,
    NotificationFollower,
    list_notifications,
    notify_users,
    unread_count,
)
from sitcen.operations.subscriptions import SubscriptionCreate, subscribe
from sitcen.store import schema
from sitcen.store.cursors import move_cursor, read_cursor
from sitcen.store.events import report_events, update_event
from sitcen.store.journal import USER_KINDS, now_micros
from sitcen.store.records import list_records, write_record
from sitcen.testing import serve_in_thread, wait_until
from sitcen.users import Role
from test_sharing import NOW, agreements

Headers = Callable[[Role], dict[str, str]]

# conftest.report() lies on the Afghan-Tajik border near Nizhny Panj.
PANJ = {"lon": 68.60, "lat": 37.22}
ISFARA = {"lon": 70.80, "lat": 39.95}  # Kyrgyz-Tajik border
CROSSING = {"type": "green_border_crossing", "location": ISFARA,
            "details": {"stage": "actual", "direction": "entry"}}


def _report(node: Node, **changes: Any) -> str:
    item = EventCreate.model_validate(report(**changes))
    return report_events(node.engine, node.reporter, [item])[0].id


def _follower(node: Node, **options: Any) -> NotificationFollower:
    follower = NotificationFollower(node.engine, node.settings.node_id, **options)
    follower.catch_up()  # the first run starts at the journal's head
    return follower


def _sub(node: Node, username: str, **fields: Any) -> str:
    item = SubscriptionCreate.model_validate({"name": "watch", "kinds": ["event"], **fields})
    return subscribe(node.engine, node.settings.node_id, username, item).id


def _told(node: Node, username: str) -> list[dict[str, Any]]:
    return [r.body for r in list_notifications(node.engine, username, limit=500)]


def test_subscriptions_are_the_users_own(client: TestClient, as_role: Headers) -> None:
    duty, analyst = as_role(Role.duty_officer), as_role(Role.analyst)
    body = {"name": "Panj drugs", "kinds": ["event", "alert"], "sections": ["AF-TJ-*"],
            "event_types": ["drug_smuggling"], "impact_levels": ["high", "very_high"],
            "alert_severities": ["high"], "language": "ru"}
    created = client.post("/api/v1/subscriptions", json=body, headers=duty)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert (sub["username"], sub["version"], sub["sections"]) == ("duty-officer", 1, ["AF-TJ-*"])
    assert [s["id"] for s in client.get("/api/v1/subscriptions", headers=duty)
            .json()["subscriptions"]] == [sub["id"]]
    assert client.get("/api/v1/subscriptions", headers=analyst).json()["subscriptions"] == []
    # Another user's subscription does not exist for them.
    url = f"/api/v1/subscriptions/{sub['id']}"
    assert client.get(url, headers=analyst).status_code == 404
    assert client.put(url, json=body, headers=analyst).status_code == 404
    assert client.delete(url, headers=analyst).status_code == 404
    changed = client.put(url, json={**body, "on_change": True, "base_version": 1}, headers=duty)
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert client.put(url, json={**body, "base_version": 1}, headers=duty).status_code == 409
    assert client.delete(url, headers=duty).status_code == 204
    assert client.get(url, headers=duty).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=duty).json()["subscriptions"] == []


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "kinds": []}, "kinds"),
    ({"name": "x", "kinds": ["personal_data"]}, "kinds"),
    ({"name": "x", "kinds": ["notification"]}, "kinds"),
    ({"name": "x", "kinds": ["event"], "sections": ["Panj"]}, "sections"),
    ({"name": "x", "kinds": ["event"], "area": [70, 40, 60, 30]}, "area"),
    ({"name": "x", "kinds": ["event"], "event_types": ["picnic"]}, "event_types"),
    ({"name": "x", "kinds": ["event"], "email": "nobody"}, "email"),
    ({"name": "x", "kinds": ["event"], "webhook_url": "ftp://x"}, "webhook_url"),
    ({"name": "x", "kinds": ["event"], "language": "fr"}, "language"),
])
def test_a_subscription_names_what_is_wrong(client: TestClient, as_role: Headers,
                                            body: dict[str, Any], field: str) -> None:
    answer = client.post("/api/v1/subscriptions", json=body, headers=as_role(Role.operator))
    assert answer.status_code == 422
    assert field in {str(p) for e in answer.json()["detail"] for p in e["loc"]}


def test_the_follower_matches_kind_section_type_impact_and_area(node: Node,
                                                                tokens: dict[Role, str]) -> None:
    follower = _follower(node)
    by_section = _sub(node, "duty-officer", sections=["AF-TJ-*"])
    _sub(node, "analyst", event_types=["green_border_crossing"], impact_levels=["high"])
    _sub(node, "operator", area=(70.0, 39.0, 71.5, 40.5))
    _sub(node, "admin", kinds=["alert"])
    drugs = _report(node)  # AF-TJ, medium drug seizure
    low_crossing = _report(node, **CROSSING)  # KG-TJ, low
    high_crossing = _report(node, **{**CROSSING, "impact_level": "high"})
    assert follower.catch_up() == 4
    assert [(n["about"]["id"], n["reason"], n["subscriptions"])
            for n in _told(node, "duty-officer")] == [(drugs, "subscription", [by_section])]
    assert [n["about"]["id"] for n in _told(node, "analyst")] == [high_crossing]
    assert sorted(n["about"]["id"] for n in _told(node, "operator")) == sorted(
        [low_crossing, high_crossing])
    assert _told(node, "admin") == []
    told = _told(node, "duty-officer")[0]
    assert told["summary"]["key"] == "ui.notify.event"
    assert told["summary"]["params"]["type"] == {"key": "type.drug_smuggling"}
    assert told["section_id"].startswith("AF-TJ-") and told["about"]["version"] == 1


def test_changes_are_told_only_to_who_asked(node: Node, tokens: dict[Role, str]) -> None:
    follower = _follower(node)
    _sub(node, "duty-officer")
    _sub(node, "analyst", on_change=True)
    event_id = _report(node)
    follower.catch_up()
    update_event(node.engine, node.reporter, event_id,
                 EventUpdate.model_validate({**report(), "status": "validated"}),
                 may_change_status=True)
    follower.catch_up()
    assert [n["about"]["version"] for n in _told(node, "duty-officer")] == [1]
    assert sorted(n["about"]["version"] for n in _told(node, "analyst")) == [1, 2]


def test_ones_own_action_is_no_news_to_oneself(node: Node, tokens: dict[Role, str]) -> None:
    follower = _follower(node)
    for user in ("duty-officer", "analyst"):
        _sub(node, user, kinds=["event_action"])
    event_id = _report(node)
    write_record(node.engine, "event_action", {
        "event_id": event_id, "event_origin": node.settings.node_id, "action": "comment",
        "text": "patrol sent", "by": "duty-officer", "handling": "AMBER"},
        node_id=node.settings.node_id)
    follower.catch_up()
    assert _told(node, "duty-officer") == []
    (told,) = _told(node, "analyst")
    assert told["summary"]["key"] == "ui.notify.action.comment"
    assert told["summary"]["params"]["by"] == "duty-officer"
    assert told["section_id"].startswith("AF-TJ-")  # the action's place is its event's


def test_a_repeated_pass_writes_nothing_twice(node: Node, tokens: dict[Role, str]) -> None:
    follower = _follower(node)
    start = read_cursor(node.engine, CURSOR)
    assert start is not None
    _sub(node, "duty-officer")
    for _ in range(3):
        _report(node)
    assert follower.catch_up() == 3
    # As after a crash between writing and moving the cursor: the same page again.
    with node.engine.begin() as conn:
        conn.execute(schema.cursors.update().values(position=start))
    assert NotificationFollower(node.engine, node.settings.node_id).catch_up() == 0
    assert len(_told(node, "duty-officer")) == 3


def test_notify_users_tells_named_users_once(node: Node, tokens: dict[Role, str]) -> None:
    event_id = _report(node)
    node_id = node.settings.node_id
    told = notify_users(node.engine, node_id, ["duty-officer", "analyst", "nobody"],
                        kind="event", record_id=event_id, reason="serious_incident",
                        text="armed incident at the post", by="operator")
    assert told == ["duty-officer", "analyst"]
    assert notify_users(node.engine, node_id, ["duty-officer"], kind="event",
                        record_id=event_id, reason="serious_incident") == []
    again = notify_users(node.engine, node_id, ["duty-officer"], kind="event",
                         record_id=event_id, reason="serious_incident", key="second reminder")
    assert again == ["duty-officer"]
    (first, _) = sorted(_told(node, "duty-officer"), key=lambda n: n["created_at"])
    assert (first["reason"], first["serious"], first["by"]) == ("serious_incident", True,
                                                                 "operator")
    with pytest.raises(NotFound):
        notify_users(node.engine, node_id, ["duty-officer"], kind="event",
                     record_id="00000000-0000-4000-8000-000000000000", reason="x")


def test_a_disabled_user_is_told_nothing(node: Node, tokens: dict[Role, str]) -> None:
    follower = _follower(node)
    _sub(node, "analyst")
    with node.engine.begin() as conn:
        conn.execute(schema.users.update().where(schema.users.c.username == "analyst")
                     .values(disabled=True))
    follower.reload()
    event_id = _report(node)
    follower.catch_up()
    assert notify_users(node.engine, node.settings.node_id, ["analyst"], kind="event",
                        record_id=event_id, reason="assigned") == []
    assert _told(node, "analyst") == []


BLO_AGREEMENT = """\
id: centre-to-batken
from_node: tj-test-centre
to_node: kg-blo-batken
direction: peer
kinds: [event, event_action]
events:
  categories: [unauthorised_crossing]
  sections: [KG-TJ-*]
fields: [section_id, location, impact_level, status]
location_precision: section
handling_ceiling: AMBER
"""


def test_a_partners_liaison_is_told_only_what_the_agreement_grants(
        node: Node, tokens: dict[Role, str]) -> None:
    partner = NodeIdentity.generate("kg-blo-batken")
    add_peer(node.engine, "kg-blo-batken", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=partner.public_key_text)
    add_agreement(node.engine, BLO_AGREEMENT, own_node_id=node.settings.node_id)
    partners = {"liaison": "kg-blo-batken"}
    follower = _follower(node, partner_users=partners)
    _sub(node, "liaison", kinds=["event", "event_action"])
    _sub(node, "operator")  # a reader of this node: told everything it follows
    drugs = _report(node)  # not granted to the partner
    crossing = _report(node, **CROSSING)  # granted, at section precision
    secret = _report(node, **{**CROSSING, "handling": "RED"})  # above the ceiling
    write_record(node.engine, "event_action", {
        "event_id": drugs, "event_origin": node.settings.node_id, "action": "comment",
        "text": "courier named in the file", "by": "duty-officer", "handling": "AMBER"},
        node_id=node.settings.node_id)
    follower.catch_up()
    assert [n["about"]["id"] for n in _told(node, "liaison")] == [crossing]
    assert sorted(n["about"]["id"] for n in _told(node, "operator")) == sorted(
        [drugs, crossing, secret])
    # Direct notices obey the same rule.
    assert notify_users(node.engine, node.settings.node_id, ["liaison", "operator"],
                        kind="event", record_id=secret, reason="assigned",
                        partner_users=partners) == ["operator"]


def test_unread_count_and_marking_read(node: Node, client: TestClient, as_role: Headers) -> None:
    follower = _follower(node)
    _sub(node, "duty-officer")
    _report(node)
    _report(node, **CROSSING)
    follower.catch_up()
    duty = as_role(Role.duty_officer)
    page = client.get("/api/v1/notifications?lang=ru", headers=duty).json()
    assert page["unread"] == 2 and page["read_until"] is None
    assert all(n["unread"] for n in page["notifications"])
    assert "Контрабанда наркотиков" in {n["summary_text"].split(" (")[0]
                                         for n in page["notifications"]}
    assert client.get("/api/v1/notifications", headers=as_role(Role.analyst)
                      ).json()["notifications"] == []
    state = client.post("/api/v1/notifications/read", json={}, headers=duty).json()
    assert state["unread"] == 0 and state["read_until"]
    _report(node)
    follower.catch_up()
    assert unread_count(node.engine, node.settings.node_id, "duty-officer") == 1
    page = client.get("/api/v1/notifications", headers=duty).json()
    assert [n["unread"] for n in page["notifications"]] == [True, False, False]
    newest = page["notifications"][0]["recorded_at"]
    older = client.get("/api/v1/notifications", params={"limit": 1, "before": newest},
                       headers=duty).json()["notifications"]
    assert [n["id"] for n in older] == [page["notifications"][1]["id"]]


# ----------------------------------------------------------------------------- the stream


def _frames(url: str, token: str, after: int, stop_at: str, seen: list[dict[str, Any]],
            ready: threading.Event) -> None:
    """Collect SSE frames after ``after`` until the record ``stop_at`` arrives."""
    with httpx.stream("GET", f"{url}/api/v1/stream?after={after}", headers=auth(token),
                      timeout=30) as response:
        ready.set()
        frame: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in frame:
                    data = orjson.loads(frame["data"])
                    seen.append(data)
                    if data["record_id"] == stop_at:
                        return
                frame = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                frame[name] = value


@pytest.fixture
def served(node: Node) -> Iterator[str]:
    running = serve_in_thread(node)
    yield running.url
    running.stop()


def test_the_stream_and_the_journal_give_a_notification_to_its_user_only(
        node: Node, tokens: dict[Role, str], served: str) -> None:
    with node.engine.connect() as conn:
        head = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.journal.c.seq),
                                                            0))).scalar_one())
    follower = _follower(node)
    _sub(node, "duty-officer")
    event_id = _report(node)
    follower.catch_up()
    marker = _report(node, **CROSSING)  # after the notification in the journal
    streams: dict[str, list[dict[str, Any]]] = {"duty-officer": [], "analyst": []}
    threads = []
    for name, role in (("duty-officer", Role.duty_officer), ("analyst", Role.analyst)):
        ready = threading.Event()
        thread = threading.Thread(target=_frames, args=(served, tokens[role], head, marker,
                                                         streams[name], ready), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "the stream did not bring the marker event"
    mine = [f for f in streams["duty-officer"] if f["kind"] == "notification"]
    assert len(mine) == 1 and mine[0]["record"]["about"]["id"] == event_id
    assert [f for f in streams["analyst"] if f["kind"] in USER_KINDS] == []
    assert {f["record_id"] for f in streams["analyst"]} >= {event_id, marker}
    for role, expected in ((Role.duty_officer, 1), (Role.analyst, 0)):
        entries = httpx.get(f"{served}/api/v1/journal?after={head}", headers=auth(tokens[role]),
                            timeout=10).json()["entries"]
        assert len([e for e in entries if e["kind"] in USER_KINDS]) == expected + (
            1 if role == Role.duty_officer else 0)  # + their own subscription


def test_the_background_follower_tells_within_the_poll(node: Node, tokens: dict[Role, str]
                                                       ) -> None:
    follower = NotificationFollower(node.engine, node.settings.node_id, poll_s=0.05).start()
    try:
        wait_until(lambda: read_cursor(node.engine, CURSOR) is not None, what="first pass")
        _sub(node, "duty-officer")
        event_id = _report(node)
        told = wait_until(lambda: _told(node, "duty-officer"), timeout_s=20,
                          what="the notification")
        assert told[0]["about"]["id"] == event_id
    finally:
        follower.stop()


# ----------------------------------------------------------------------------- never leaves


@settings(max_examples=200, derandomize=True, deadline=None)
@given(kind=st.sampled_from(sorted(USER_KINDS)), agreement=agreements("node-a", "node-b"),
       handling=st.sampled_from(["CLEAR", "GREEN", "AMBER", "RED"]))
def test_a_users_own_records_never_leave_under_any_agreement(kind: str, agreement: Any,
                                                             handling: str) -> None:
    body = {"username": "duty", "handling": handling, "section_id": "AF-TJ-004",
            "location": {"lon": 68.6, "lat": 37.2}, "country": "TJ"}
    record = SharedRecord(kind, "node-a", "5b0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10", 1, body)
    assert share(record, agreement, now=NOW) is None
    for direction in ("up", "down", "peer"):
        default = default_agreement("node-a", "node-b", direction, countries=["TJ"])
        assert share(record, default, now=NOW) is None


@pytest.mark.parametrize("kind", sorted(USER_KINDS))
def test_the_inbox_refuses_a_users_own_records(kind: str) -> None:
    batch = Batch.new(sender="node-a", receiver="node-b", first_seq=1, last_seq=1, records=[{
        "kind": kind, "origin": "node-a", "id": "5b0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10",
        "version": 1, "body": {"username": "duty"}, "provenance": ["node-a"]}],
        created_at=datetime.now(UTC))
    with pytest.raises(InvalidRecord, match="never travels"):
        _records(batch, "node-b")


def test_notifications_are_journaled_and_listed_by_user(node: Node,
                                                        tokens: dict[Role, str]) -> None:
    event_id = _report(node)
    before = now_micros()
    notify_users(node.engine, node.settings.node_id, ["operator"], kind="event",
                 record_id=event_id, reason="assigned")
    (record,) = list_records(node.engine, "notification", subject="operator")
    assert record.origin == node.settings.node_id and record.version == 1
    assert record.recorded_at.timestamp() * 1e6 >= before - 1e6
    move_cursor(node.engine, "unused", 5)
    move_cursor(node.engine, "unused", 3)
    assert read_cursor(node.engine, "unused") == 5  # a cursor never moves back
