"""Notifications out of the node: e-mail through a real SMTP server, signed webhooks.

The SMTP server is aiosmtpd, started by the test on a loopback port; the webhook
receivers are real HTTP servers (the standard library's) that check the
signature the way docs/operations.md tells a receiver to, with hmac and nothing
of ours.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from conftest import auth, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.operations.delivery import Deliverer, DeliveryConfig
from sitcen.operations.notifications import NotificationFollower
from sitcen.store import schema
from sitcen.store.cursors import read_cursor
from sitcen.store.events import report_events
from sitcen.testing import free_port, receive_posts, wait_until
from sitcen.users import Role

# ----------------------------------------------------------------------------- the outside


class Mailbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


class Receiver:
    """A webhook receiver: checks the signature, fails the first ``failures`` deliveries."""

    def __init__(self, key: str = "", failures: int = 0) -> None:
        self.key = key
        self.failures = failures
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.seen_attempts: list[int] = []
        self.server = receive_posts(lambda _path, headers, body: self.take(headers, body))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def check(self, headers: dict[str, str], body: bytes) -> bool:
        """The receiver's own check, as docs/operations.md describes it."""
        fields = dict(p.split("=", 1) for p in headers.get("X-Sitcen-Signature", "").split(","))
        if abs(time.time() - int(fields.get("t", "0"))) > 300:
            return False
        expected = hmac.new(self.key.encode(), fields["t"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields.get("v1", ""))

    def take(self, headers: dict[str, str], body: bytes) -> int:
        if not self.check(headers, body):
            self.refused.append(headers.get("X-Sitcen-Delivery", ""))
            return 401
        data = orjson.loads(body)
        self.seen_attempts.append(data["attempt"])
        if self.failures > 0:
            self.failures -= 1
            return 503
        if any(d["delivery"] == data["delivery"] for d in self.accepted):
            return 200  # a repeat of a delivery already taken: dropped, as advised
        self.accepted.append(data)
        return 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------- the node


@pytest.fixture
def deliverers(node: Node) -> Iterator[list[Deliverer]]:
    made: list[Deliverer] = []
    yield made
    for deliverer in made:
        deliverer.close()


def _deliverer(node: Node, made: list[Deliverer], port: int = 1, **options: Any) -> Deliverer:
    config = DeliveryConfig(node_id=node.settings.node_id,
                            secret=node.settings.secret_key.get_secret_value(),
                            smtp_host="127.0.0.1", smtp_port=port, smtp_from="sitcen@tj.example",
                            console_url="https://sitcen.tj.example/")
    deliverer = Deliverer(node.engine, config, retry_base_s=0.05, retry_max_s=0.2, **options)
    made.append(deliverer)
    deliverer.follow_once()  # the first pass starts at the journal's head
    return deliverer


def _follower(node: Node) -> NotificationFollower:
    follower = NotificationFollower(node.engine, node.settings.node_id)
    follower.catch_up()
    return follower


def _report(node: Node, **changes: Any) -> str:
    return report_events(node.engine, node.reporter,
                         [EventCreate.model_validate(report(**changes))])[0].id


def _subscribe(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/subscriptions", json={"name": "Panj", "kinds": ["event"],
                                                        **fields}, headers=auth(token))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _has_cursor(node: Node, name: str) -> bool:
    return read_cursor(node.engine, name) is not None


def _pump(follower: NotificationFollower, deliverer: Deliverer) -> None:
    follower.catch_up()
    while deliverer.follow_once():
        pass


def test_an_email_through_the_nodes_smtp_server(node: Node, client: TestClient,
                                                tokens: dict[Role, str],
                                                smtp: tuple[int, Mailbox],
        deliverers: list[Deliverer]) -> None:
    port, box = smtp
    follower, deliverer = _follower(node), _deliverer(node, deliverers, port)
    sub = _subscribe(client, tokens[Role.duty_officer], email="duty@tj.example", language="ru")
    event_id = _report(node)
    _pump(follower, deliverer)  # the first attempt goes at once
    assert deliverer.send_due() == 0  # nothing left to send
    (message,) = box.messages
    assert (message["To"], message["From"]) == ("duty@tj.example", "sitcen@tj.example")
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject.startswith("[sitcen tj-test-centre] Контрабанда наркотиков (Средний)")
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"https://sitcen.tj.example/#/map?selected={event_id}" in text
    log = client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries",
                     headers=auth(tokens[Role.duty_officer])).json()["deliveries"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in log] == [("email", "delivered",
                                                                          1)]
    # Another user's delivery log is not theirs to read.
    assert client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries",
                      headers=auth(tokens[Role.analyst])).status_code == 404


def test_a_webhook_that_fails_twice_is_delivered_once(node: Node, client: TestClient,
                                                      tokens: dict[Role, str],
        deliverers: list[Deliverer]) -> None:
    token = tokens[Role.duty_officer]
    follower, deliverer = _follower(node), _deliverer(node, deliverers)
    receiver = Receiver(failures=2)
    try:
        sub = _subscribe(client, token, webhook_url=receiver.url)
        receiver.key = client.get(f"/api/v1/subscriptions/{sub['id']}/webhook-key",
                                  headers=auth(token)).json()["key"]
        event_id = _report(node)
        _pump(follower, deliverer)
        wait_until(lambda: deliverer.send_due() or None, timeout_s=30,
                   what="the delivery after two refusals")
        assert receiver.seen_attempts == [1, 2, 3]
        (taken,) = receiver.accepted
        (item,) = taken["notifications"]
        assert item["about"] == {"kind": "event", "id": event_id}
        assert item["summary_text"].startswith("Drug smuggling (Medium)")
        assert item["summary"]["params"]["type"] == {"key": "type.drug_smuggling"}
        (logged,) = client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries",
                               headers=auth(token)).json()["deliveries"]
        assert (logged["status"], logged["attempts"], logged["version"]) == ("delivered", 3, 3)
        assert deliverer.send_due() == 0  # nothing left: delivered once
        assert len(receiver.accepted) == 1 and receiver.refused == []
    finally:
        receiver.close()


def test_the_receiver_refuses_a_wrong_signature(node: Node, client: TestClient,
                                                tokens: dict[Role, str],
        deliverers: list[Deliverer]) -> None:
    token = tokens[Role.duty_officer]
    follower, deliverer = _follower(node), _deliverer(node, deliverers, max_attempts=2)
    receiver = Receiver()
    try:
        sub = _subscribe(client, token, webhook_url=receiver.url)
        url = f"/api/v1/subscriptions/{sub['id']}/webhook-key"
        old = client.get(url, headers=auth(token)).json()
        receiver.key = old["key"]
        # A forged request: a body the node never signed, with an old signature.
        good = b'{"delivery":"x","attempt":1,"notifications":[]}'
        stamp = int(time.time())
        signed = hmac.new(old["key"].encode(), f"{stamp}.".encode() + good,
                          hashlib.sha256).hexdigest()
        forged = httpx.post(receiver.url, content=good.replace(b"[]", b'[{"evil":1}]'),
                            headers={"X-Sitcen-Signature": f"t={stamp},v1={signed}",
                                     "X-Sitcen-Delivery": "forged"})
        assert forged.status_code == 401 and receiver.refused == ["forged"]
        # After a key change, the receiver that kept the old key refuses the node's messages.
        new = client.post(url, headers=auth(token)).json()
        assert new["key_version"] == 2 and new["key"] != old["key"]
        _report(node)
        _pump(follower, deliverer)
        def given_up() -> bool:
            deliverer.send_due()
            log = client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries",
                             headers=auth(token)).json()["deliveries"]
            return bool(log) and all(d["status"] == "failed" for d in log)

        wait_until(given_up, timeout_s=30, what="the delivery given up")
        assert receiver.accepted == [] and len(receiver.refused) == 3  # forged + 2 attempts
        (logged,) = client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries",
                               headers=auth(token)).json()["deliveries"]
        assert "401" in logged["last_error"] and logged["attempts"] == 2
    finally:
        receiver.close()


def test_above_the_external_ceiling_a_message_says_only_that_something_changed(
        node: Node, client: TestClient, tokens: dict[Role, str],
        smtp: tuple[int, Mailbox],
        deliverers: list[Deliverer]) -> None:
    port, box = smtp
    follower, deliverer = _follower(node), _deliverer(node, deliverers, port)
    _subscribe(client, tokens[Role.duty_officer], email="duty@tj.example")
    _report(node, handling="RED", description="source: named informant")
    _pump(follower, deliverer)
    deliverer.send_due()
    (message,) = box.messages
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "open the console" in text
    assert "Drug" not in text and "informant" not in text
    assert "Drug" not in str(message["Subject"])


def test_a_daily_digest_once_a_day(node: Node, client: TestClient, tokens: dict[Role, str],
                                   smtp: tuple[int, Mailbox],
        deliverers: list[Deliverer]) -> None:
    port, box = smtp
    follower, deliverer = _follower(node), _deliverer(node, deliverers, port)
    _subscribe(client, tokens[Role.duty_officer], email="duty@tj.example", digest=True)
    for _ in range(3):
        _report(node)
    _pump(follower, deliverer)
    assert deliverer.send_due() == 0 and box.messages == []  # nothing at once: a digest
    # The first digest time after the reports: tomorrow's morning, or this morning's when
    # the test runs between the centre's midnight and 07:00 (its digest covers the day
    # before it).
    local_now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Almaty"))
    tomorrow_morning = local_now.replace(hour=7, minute=5, second=0, microsecond=0)
    if tomorrow_morning <= local_now:
        tomorrow_morning += timedelta(days=1)
    assert deliverer.digests(now=tomorrow_morning) == 1
    assert deliverer.digests(now=tomorrow_morning) == 0  # once a day
    assert deliverer.send_due() == 1
    (message,) = box.messages
    assert "Daily digest" in str(message["Subject"]) and "3 notifications" in str(
        message["Subject"])
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert text.count("Drug smuggling") == 3


def test_the_background_deliverer_sends_within_its_poll(node: Node, client: TestClient,
                                                        tokens: dict[Role, str]) -> None:
    token = tokens[Role.duty_officer]
    receiver = Receiver()
    follower = NotificationFollower(node.engine, node.settings.node_id, poll_s=0.05).start()
    config = DeliveryConfig(node_id=node.settings.node_id,
                            secret=node.settings.secret_key.get_secret_value())
    deliverer = Deliverer(node.engine, config, poll_s=0.05).start()
    try:
        for cursor in ("notifications", "deliveries"):  # their first passes start at the head
            wait_until(partial(_has_cursor, node, cursor), what=f"the {cursor} cursor")
        sub = _subscribe(client, token, webhook_url=receiver.url)
        receiver.key = client.get(f"/api/v1/subscriptions/{sub['id']}/webhook-key",
                                  headers=auth(token)).json()["key"]
        event_id = _report(node)
        taken = wait_until(lambda: receiver.accepted, timeout_s=30, what="the webhook")
        assert taken[0]["notifications"][0]["about"]["id"] == event_id
    finally:
        deliverer.stop()
        follower.stop()
        receiver.close()


def test_nobody_is_told_by_mail_what_they_may_not_read(node: Node, client: TestClient,
                                                       tokens: dict[Role, str],
                                                       smtp: tuple[int, Mailbox],
        deliverers: list[Deliverer]) -> None:
    port, box = smtp
    _subscribe(client, tokens[Role.analyst], email="analyst@tj.example")
    with node.engine.begin() as conn:
        conn.execute(schema.users.update().where(schema.users.c.username == "analyst")
                     .values(disabled=True))
    follower, deliverer = _follower(node), _deliverer(node, deliverers, port)
    _report(node)
    _pump(follower, deliverer)
    deliverer.send_due()
    assert box.messages == []
