"""Tasks reach a TAK device as CoT addressed to its callsign; its chat answers move them on.

The device is a pytak client, as in tests/test_tak.py: it sends its position (so
the node knows its uid and callsign), reads what the node sends it, and answers
in GeoChat (``b-t-f``) as an ATAK user would.
"""

from __future__ import annotations

import asyncio
import importlib
import warnings
from collections.abc import Callable, Iterator
from configparser import ConfigParser
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sitcen.interop.cot import CotEvent, chat_detail, event_xml, load_mapping, parse_xml
from sitcen.interop.tak import Counters, TakClient, TakListener
from sitcen.interop.tak_tasks import TaskRelay, read_answer
from sitcen.node import Node
from sitcen.store.users import StoredUser
from sitcen.testing import wait_until
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("tak")

Headers = Callable[[Role], dict[str, str]]
DEVICE = "ANDROID-PANJ-1"
CALLSIGN = "ПАНДЖ-1"


def _pytak() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module("pytak")


@pytest.fixture
def listener(node: Node, tokens: dict[Role, str]) -> Iterator[TakListener]:
    with TakListener(node, load_mapping(None), tcp_port=0) as tak:
        yield tak


def position(token: str | None = None, uid: str = DEVICE, callsign: str = CALLSIGN) -> bytes:
    now = datetime.now(UTC)
    return event_xml(uid, "a-f-G-U-C", 37.21, 68.58, time=now, stale=now + timedelta(minutes=5),
                     callsign=callsign, token=token, ce=10.0)


def answer(text: str, uid: str = DEVICE, callsign: str = CALLSIGN) -> bytes:
    """A GeoChat line from the device to the node, as ATAK writes one."""
    now = datetime.now(UTC)
    extra = chat_detail(sender_uid=uid, sender_callsign=callsign, to_uid="sitcen-tj-test-centre",
                        to_callsign="sitcen tj-test-centre", text=text, at=now)
    extra[0].set("senderCallsign", callsign)
    return event_xml(f"GeoChat.{uid}.sitcen.{now.timestamp()}", "b-t-f", 37.21, 68.58,
                     time=now, stale=now + timedelta(days=1), extra=extra)


class Device:
    """A pytak client acting as the patrol's device."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.received: list[CotEvent] = []

    async def __aenter__(self) -> Device:
        pytak = _pytak()
        parser = ConfigParser()
        parser["client"] = {"COT_URL": self.url}
        config = parser["client"]
        self.reader, self.writer = await pytak.protocol_factory(config)
        self.tx = pytak.TXWorker(asyncio.Queue(), config, self.writer)
        self.rx = pytak.RXWorker(asyncio.Queue(), config, self.reader)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.writer.close()

    async def send(self, data: bytes) -> None:
        await self.tx.send_data(data)

    async def expect(self, what: Callable[[CotEvent], bool], label: str) -> CotEvent:
        """Read CoT until one matches (the picture feed's messages pass by)."""
        for event in self.received:
            if what(event):
                self.received.remove(event)
                return event
        while True:
            data = await asyncio.wait_for(self.rx.readcot(), 60)
            parsed = parse_xml(bytes(data).strip())
            assert isinstance(parsed, CotEvent)
            event = parsed
            if what(event):
                return event
            self.received.append(event)
            assert len(self.received) < 500, f"no {label} among {len(self.received)} messages"


def chat(event: CotEvent) -> bool:
    return event.type == "b-t-f"


def _task(client: TestClient, headers: dict[str, str], unit_id: str = DEVICE) -> dict[str, Any]:
    created = client.post("/api/v1/tasks", json={
        "unit_id": unit_id, "priority": "immediate", "instructions": "Проверить брод у заставы",
        "target": {"kind": "point", "location": {"lon": 68.61, "lat": 37.23}}}, headers=headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _place_patrol(client: TestClient, headers: dict[str, str]) -> None:
    """The device's patrol on the map near the ford, as an operator reports it."""
    client.post("/api/v1/assets/positions", json={
        "asset_id": DEVICE, "kind": "patrol", "name": CALLSIGN,
        "location": {"lon": 68.58, "lat": 37.21}, "at": datetime.now(UTC).isoformat()},
        headers=headers)


def _status(client: TestClient, headers: dict[str, str], task_id: str) -> str:
    return str(client.get(f"/api/v1/tasks/{task_id}", headers=headers).json()["status"])


@pytest.mark.parametrize("text, expected", [
    ("ACK", ("acknowledged", "")), ("принял", ("acknowledged", "")),
    ("En route", ("en_route", "")), ("ВЫДВИГАЮСЬ 3f9a07c1", ("en_route", "3f9a07c1")),
    ("на месте", ("on_scene", "")), ("DONE: nothing found", ("done", "nothing found")),
    ("ОТКАЗ — машина сломалась", ("declined", "машина сломалась")),
    ("acknowledgement please", None), ("hello", None), ("", None)])
def test_answers_are_read_in_english_and_russian(text: str,
                                                 expected: tuple[str, str] | None) -> None:
    assert read_answer(text) == expected


def test_a_task_reaches_the_device_and_its_answers_move_it_on(
        node: Node, client: TestClient, listener: TakListener, tokens: dict[Role, str],
        as_role: Headers) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"
    duty = as_role(Role.duty_officer)

    async def scenario() -> None:
        async with Device(url) as device:
            await device.send(position(tokens[Role.operator]))
            await asyncio.to_thread(wait_until, lambda: client.get(
                "/api/v1/tasks/units", headers=duty).json()["units"], what="the patrol known")
            task = await asyncio.to_thread(_task, client, duty)
            short = task["id"][:8]
            waypoint = await device.expect(lambda e: e.type == "b-m-p-w", "waypoint")
            assert waypoint.uid == f"sitcen-task-{task['id']}"
            assert (round(waypoint.lat, 4), round(waypoint.lon, 4)) == (37.23, 68.61)
            assert waypoint.remarks == "Проверить брод у заставы"
            given = await device.expect(chat, "the task in the chat")
            assert given.remarks is not None and short in given.remarks
            assert "немедленно" in given.remarks and "ПРИНЯЛ" in given.remarks
            assert given.chat_from == "sitcen tj-test-centre"
            for text, status in (("ПРИНЯЛ", "acknowledged"), ("en route", "en_route"),
                                 ("НА МЕСТЕ", "on_scene")):
                await device.send(answer(text))
                reply = await device.expect(chat, f"the reply to {text}")
                assert reply.remarks is not None and short in reply.remarks
                assert await asyncio.to_thread(_status, client, duty, task["id"]) == status
            await device.send(answer("en route"))  # going back is refused, and said so
            refused = await device.expect(chat, "the refusal")
            assert refused.remarks is not None and "не записано" in refused.remarks

    asyncio.run(scenario())
    seen = client.get("/api/v1/tasks", headers=duty).json()["tasks"][0]
    assert [(h["status"], h["via"], h["by"]) for h in seen["history"]] == [
        ("assigned", "console", "duty-officer"), ("acknowledged", "tak", "operator"),
        ("en_route", "tak", "operator"), ("on_scene", "tak", "operator")]
    assert listener.counters.task_answers == 4 and listener.counters.tasks_sent >= 1


def test_a_device_that_shows_up_later_gets_its_open_tasks(
        node: Node, client: TestClient, listener: TakListener, tokens: dict[Role, str],
        as_role: Headers) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"
    duty = as_role(Role.duty_officer)
    _place_patrol(client, as_role(Role.operator))
    first, second = _task(client, duty), _task(client, duty)

    async def scenario() -> None:
        async with Device(url) as device:
            await device.send(position(tokens[Role.operator]))
            ids = set()
            for _ in range(2):
                line = await device.expect(chat, "an open task")
                assert line.remarks is not None
                ids.add(line.remarks.split()[1])
            assert ids == {first["id"][:8], second["id"][:8]}
            # Two open tasks and an answer without a number: the device is asked which.
            await device.send(answer("ACK"))
            which = await device.expect(chat, "the question")
            assert which.remarks is not None and first["id"][:8] in which.remarks
            await device.send(answer(f"ACK {second['id'][:8]}"))
            await device.expect(chat, "the reply")

    asyncio.run(scenario())
    assert _status(client, duty, first["id"]) == "assigned"
    assert _status(client, duty, second["id"]) == "acknowledged"


def test_a_device_of_a_reader_may_not_answer(node: Node, client: TestClient,
                                            listener: TakListener, tokens: dict[Role, str],
                                            as_role: Headers) -> None:
    url = f"tcp://127.0.0.1:{listener.tcp_port}"
    duty = as_role(Role.duty_officer)
    _place_patrol(client, as_role(Role.operator))
    task = _task(client, duty)

    async def scenario() -> None:
        async with Device(url) as device:
            liaison = position(tokens[Role.liaison])  # a reader: its position is refused too
            await device.send(liaison)
            await device.send(answer("ACK"))
            await asyncio.to_thread(wait_until, lambda: listener.counters.forbidden >= 1,
                                    what="the refusal")

    asyncio.run(scenario())
    assert _status(client, duty, task["id"]) == "assigned"


class _Transport:
    def is_closing(self) -> bool:
        return False


class _Writer:
    """What a TAK client's writer needs here: bytes written, an open transport."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_a_task_is_written_to_a_device_once_per_version(node: Node) -> None:
    """Given on arrival and reached again by the journal follower a moment later, the
    same version of a task reaches the device once; a new version (cancelled) again."""
    client = TakClient("test", _Writer(), user=StoredUser("op", "op", Role.operator, False))  # type: ignore[arg-type]
    client.callsigns.add("panj-2")
    relay = TaskRelay(node, Counters(), {client})
    body = {"unit": {"kind": "asset", "id": "ANDROID-PANJ-2", "callsign": "PANJ-2"},
            "status": "assigned", "instructions": "Check the ford",
            "location": {"lon": 68.61, "lat": 37.23}, "priority": "immediate"}
    assert relay.send("3a1f82b1-task", body) == 1
    assert relay.send("3a1f82b1-task", dict(body)) == 0
    assert relay.send("3a1f82b1-task", {**body, "status": "cancelled"}) == 1
    assert len(client.writer.written) == 2  # type: ignore[attr-defined]
