"""The cooperation watch: mentions in threads and overdue requests notify the right people,
once, and only those who may read the record. On SQLite and PostgreSQL; time is a clock
the test moves, never waited for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer
from sitcen.node import Node
from sitcen.operations.notifications import list_notifications
from sitcen.operations.watch import CURSOR, CooperationWatch
from sitcen.store import schema
from sitcen.store.cursors import move_cursor, read_cursor
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records, write_record
from sitcen.testing import wait_until
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]

HANDLERS = {"duty-officer", "analyst", "liaison", "admin"}  # roles that handle requests


def _watch(node: Node, **options: Any) -> CooperationWatch:
    watch = CooperationWatch(node.engine, node.settings.node_id, **options)
    watch.catch_up()  # the first run starts at the journal's head
    return watch


def _told(node: Node, record_id: str, reason: str) -> dict[str, list[dict[str, Any]]]:
    """Every notification about a record for a reason, by user."""
    found: dict[str, list[dict[str, Any]]] = {}
    for n in list_records(node.engine, RecordKind.notification, limit=10_000):
        if n.body["about"]["id"] == record_id and n.body["reason"] == reason:
            found.setdefault(n.body["username"], []).append(n.body)
    return found


def _disable(node: Node, username: str) -> None:
    with node.engine.begin() as conn:
        conn.execute(schema.users.update().where(schema.users.c.username == username)
                     .values(disabled=True))


def _link(node: Node, name: str) -> None:
    add_peer(node.engine, name, url=f"http://{name}.example:8080", relation=Relation.peer,
             public_key=NodeIdentity.generate(name).public_key_text)


def test_a_mention_tells_the_users_named_here_once(client: TestClient, node: Node,
                                                   as_role: Headers) -> None:
    watch = _watch(node)
    _disable(node, "admin")
    event = client.post("/api/v1/events", json=report(), headers=as_role(Role.operator)).json()
    text = ("@duty-officer and @analyst, please look; @admin @nobody @liaison "
            "and @operator@kg-ncc for the Kyrgyz side")
    posted = client.post("/api/v1/messages", json={"record_id": event["id"], "text": text},
                         headers=as_role(Role.liaison))
    assert posted.status_code == 201, posted.text
    message = posted.json()

    assert watch.follow_once() == 2
    told = _told(node, message["id"], "mentioned")
    # Not the disabled admin, nobody who does not exist, not the writer, and not this
    # node's operator: the operator mentioned is kg-ncc's.
    assert set(told) == {"duty-officer", "analyst"}
    (notice,) = told["duty-officer"]
    assert notice["about"]["kind"] == "thread_message"
    assert notice["by"] == f"liaison@{node.settings.node_id}" and notice["text"] == text
    assert notice["summary"]["key"] == "ui.notify.message"
    # Read through the API in the user's language.
    mine = client.get("/api/v1/notifications?lang=en", headers=as_role(Role.duty_officer)).json()
    (item,) = [n for n in mine["notifications"] if n["reason"] == "mentioned"]
    assert item["summary_text"].startswith(
        f"liaison ({node.settings.node_id}) in a thread (Event): @duty-officer and")

    # Exactly once: the same messages followed again (a crash before the cursor moved)
    # tell nobody again.
    with node.engine.begin() as conn:
        conn.execute(schema.cursors.delete().where(schema.cursors.c.name == CURSOR))
    move_cursor(node.engine, CURSOR, 0)
    assert watch.catch_up() == 0
    assert {u: len(n) for u, n in _told(node, message["id"], "mentioned").items()} == {
        "duty-officer": 1, "analyst": 1}


def test_a_message_from_another_node_tells_who_it_names_here(node: Node,
                                                              tokens: dict[Role, str]) -> None:
    watch = _watch(node)
    here = node.settings.node_id
    event_id = "00000000-0000-4000-8000-000000000001"
    # As it arrives from kg-ncc: its writer is kg-ncc's liaison, whose name is a user here too.
    received = write_record(node.engine, RecordKind.thread_message, {
        "record_id": event_id, "record_kind": "event", "record_origin": here,
        "text": f"@liaison @analyst@{here} @duty-officer@tj-ncc", "by": "liaison",
        "mentions": [{"user": "liaison", "node": "kg-ncc"}, {"user": "analyst", "node": here},
                     {"user": "duty-officer", "node": "tj-ncc"}],
        "handling": "AMBER", "at": iso(datetime.now(UTC))}, node_id="kg-ncc")
    assert watch.follow_once() == 1
    (notice,) = _told(node, received.id, "mentioned")["analyst"]
    assert notice["by"] == "liaison@kg-ncc" and notice["about"]["origin"] == "kg-ncc"
    assert set(_told(node, received.id, "mentioned")) == {"analyst"}


def _received(node: Node, title: str, due: datetime, sender: str = "kg-ncc") -> str:
    """A request of ``sender`` addressed to this node, as it arrives by federation."""
    return write_record(node.engine, RecordKind.request_for_information, {
        "to_node": node.settings.node_id, "title": title, "text": "Seen at Panj?",
        "priority": "normal", "handling": "AMBER", "due_at": iso(due),
        "sent_at": iso(due - timedelta(days=7)), "forward_allowed": False,
        "answer_onward": True, "status": "open", "by": "duty", "events": [], "sections": []},
        node_id=sender).id


def test_an_overdue_request_tells_each_side_once(client: TestClient, node: Node,
                                                 as_role: Headers) -> None:
    _link(node, "kg-ncc")
    now = datetime.now(UTC)
    clock = [now]
    watch = _watch(node, clock=lambda: clock[0])

    def ask(role: Role, title: str) -> str:
        answer = client.post("/api/v1/requests", headers=as_role(role), json={
            "to_node": "kg-ncc", "title": title, "text": "Known to you?", "priority": "urgent"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def respond(request_id: str, role: Role, action: str, text: str = "") -> None:
        answer = client.post(f"/api/v1/requests/{request_id}/responses", headers=as_role(role),
                             json={"action": action, "text": text})
        assert answer.status_code == 201, answer.text

    # Sent from here (urgent: due in 8 h). One by the liaison officer, who is told; one
    # by the duty officer, who is disabled by then, so every request handler is told.
    sent = ask(Role.liaison, "Couriers near Isfara")
    orphan = ask(Role.duty_officer, "Who patrols KG-TJ-007?")
    respond(sent, Role.analyst, "clarify", "We mean the two men seen on 3 May")  # no-op here
    # Received here: handled by the analyst, handled by nobody, answered in time.
    handled = _received(node, "Vehicle KG 123", now + timedelta(days=1))
    unhandled = _received(node, "Boat on the Amu Darya", now + timedelta(days=2))
    answered = _received(node, "Ferry times", now + timedelta(days=1))
    respond(handled, Role.analyst, "acknowledge")
    respond(answered, Role.liaison, "answer", "Twice a day")

    assert watch.check_deadlines() == 0  # nothing is due yet
    clock[0] = now + timedelta(hours=9)
    _disable(node, "duty-officer")
    assert watch.check_deadlines() == 2 + 3
    assert set(_told(node, sent, "overdue")) == {"liaison", "analyst"}
    assert set(_told(node, orphan, "overdue")) == HANDLERS - {"duty-officer"}
    clock[0] = now + timedelta(days=1, hours=1)
    watch.check_deadlines()
    assert set(_told(node, handled, "overdue")) == {"analyst"}  # who acknowledged it
    assert _told(node, answered, "overdue") == {}
    clock[0] = now + timedelta(days=3)
    watch.check_deadlines()
    # Nobody here handled it: every request handler is told, not the operator.
    assert set(_told(node, unhandled, "overdue")) == HANDLERS - {"duty-officer"}

    # Exactly once, however often the watch looks.
    assert watch.check_deadlines() == 0
    counts = [len(n) for r in (sent, orphan, handled, unhandled)
              for n in _told(node, r, "overdue").values()]
    assert counts and set(counts) == {1}
    notice = _told(node, handled, "overdue")["analyst"][0]
    assert notice["serious"] is True and notice["summary"]["key"] == "ui.notify.request"
    assert notice["summary"]["params"]["origin"] == "kg-ncc"
    # A withdrawn request owes nothing.
    assert client.patch(f"/api/v1/requests/{sent}", json={"status": "withdrawn"},
                        headers=as_role(Role.liaison)).status_code == 200
    assert watch.check_deadlines() == 0


def test_the_background_watch_tells_within_its_poll(client: TestClient, node: Node,
                                                    as_role: Headers) -> None:
    _link(node, "kg-ncc")
    later = datetime.now(UTC) + timedelta(days=30)
    watch = CooperationWatch(node.engine, node.settings.node_id, clock=lambda: later,
                             deadline_every_s=0.0, poll_s=0.05).start()
    try:
        wait_until(lambda: read_cursor(node.engine, CURSOR) is not None, what="first pass")
        event = client.post("/api/v1/events", json=report(),
                            headers=as_role(Role.operator)).json()
        message = client.post("/api/v1/messages", headers=as_role(Role.operator), json={
            "record_id": event["id"], "text": "@duty-officer see this"}).json()
        wait_until(lambda: _told(node, message["id"], "mentioned"), timeout_s=20,
                   what="the mention told")
        request = client.post("/api/v1/requests", headers=as_role(Role.liaison), json={
            "to_node": "kg-ncc", "title": "t", "text": "x", "priority": "routine"}).json()
        told = wait_until(lambda: _told(node, request["id"], "overdue"), timeout_s=20,
                          what="the overdue request told")
        assert set(told) == {"liaison"}
    finally:
        watch.stop()
    assert [n.body["reason"] for n in list_notifications(node.engine, "duty-officer")] == [
        "mentioned"]
