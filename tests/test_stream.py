"""The live stream over a real HTTP server (uvicorn in a thread), on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from conftest import auth, iso, report
from sitcen.node import Node
from sitcen.testing import serve_in_thread
from sitcen.users import Role


@pytest.fixture
def server(node: Node) -> Iterator[str]:
    served = serve_in_thread(node)
    yield served.url
    served.stop()


def _read_events(response: httpx.Response, count: int, timeout_s: float = 10
                 ) -> list[dict[str, Any]]:
    """Parse SSE frames until ``count`` events came (comments and retry lines skipped)."""
    events: list[dict[str, Any]] = []
    frame: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    for line in response.iter_lines():
        assert time.monotonic() < deadline, f"only {len(events)} of {count} events arrived"
        if line == "":
            if "data" in frame:
                events.append({"id": int(frame["id"]), "event": frame["event"],
                               "data": orjson.loads(frame["data"])})
                if len(events) == count:
                    return events
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            frame[name] = value
    raise AssertionError("stream ended early")


def _post(url: str, token: str, n: int, **change: Any) -> list[str]:
    body = {"events": [report(**change) for _ in range(n)]}
    response = httpx.post(f"{url}/api/v1/events/batch", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    return [e["id"] for e in response.json()["events"]]


def test_new_reports_arrive_live_and_resume_from_last_event_id(
    server: str, tokens: dict[Role, str]
) -> None:
    _post(server, tokens[Role.operator], 2)  # before the stream: not sent without a cursor
    headers = auth(tokens[Role.liaison])
    with httpx.Client(timeout=15) as client, client.stream(
        "GET", f"{server}/api/v1/stream", headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        started = time.monotonic()
        ids = _post(server, tokens[Role.operator], 3)
        live = _read_events(response, 3)
        assert time.monotonic() - started < 10
    assert [e["data"]["record_id"] for e in live] == ids
    assert [e["id"] for e in live] == [3, 4, 5]
    assert live[0]["event"] == "event"
    assert live[0]["data"]["record"]["type"] == "drug_smuggling"
    with httpx.Client(timeout=15) as client, client.stream(
        "GET", f"{server}/api/v1/stream", headers={**headers, "Last-Event-ID": "3"}
    ) as response:
        resumed = _read_events(response, 2)
    assert [e["id"] for e in resumed] == [4, 5]
    with httpx.Client(timeout=15) as client, client.stream(
        "GET", f"{server}/api/v1/stream?after=0", headers=headers
    ) as response:
        assert [e["id"] for e in _read_events(response, 5)] == [1, 2, 3, 4, 5]


def test_personal_data_entries_only_for_need_to_know(server: str,
                                                      tokens: dict[Role, str]) -> None:
    subjects = [{"role": "courier", "full_name": "Рахимов Р.", "document_number": "X1"}]
    _post(server, tokens[Role.operator], 1, subjects=subjects)
    _post(server, tokens[Role.operator], 1)
    with httpx.Client(timeout=15) as client:
        with client.stream("GET", f"{server}/api/v1/stream?after=0",
                           headers=auth(tokens[Role.liaison])) as response:
            kinds = [e["event"] for e in _read_events(response, 2)]
        assert kinds == ["event", "event"]
        with client.stream("GET", f"{server}/api/v1/stream?after=0",
                           headers=auth(tokens[Role.analyst])) as response:
            seen = _read_events(response, 3)
    assert [e["event"] for e in seen] == ["event", "personal_data", "event"]
    assert seen[1]["data"]["record"] is None
    assert "Рахимов" not in orjson.dumps(seen).decode()


def test_stream_needs_login_and_a_sane_cursor(server: str, tokens: dict[Role, str]) -> None:
    assert httpx.get(f"{server}/api/v1/stream").status_code == 401
    bad = httpx.get(f"{server}/api/v1/stream",
                    headers={**auth(tokens[Role.liaison]), "Last-Event-ID": "abc"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["header", "last-event-id"]


def test_a_stream_of_some_kinds_leaves_out_the_others(server: str,
                                                      tokens: dict[Role, str]) -> None:
    """A console on a poor link asks for the picture without asset positions."""
    operator = auth(tokens[Role.operator])
    position = {"asset_id": "patrol-7", "kind": "patrol", "name": "Patrol 7",
                "location": {"lon": 68.6, "lat": 37.2}, "at": iso(datetime.now(UTC))}
    assert httpx.post(f"{server}/api/v1/assets/positions", json=position,
                      headers=operator).status_code == 201
    ids = _post(server, tokens[Role.operator], 1)
    assert httpx.post(f"{server}/api/v1/assets/positions", json=position,
                      headers=operator).status_code == 201
    ids += _post(server, tokens[Role.operator], 1)
    with httpx.Client(timeout=15) as client, client.stream(
            "GET", f"{server}/api/v1/stream?after=0&kinds=event,alert",
            headers=auth(tokens[Role.liaison])) as response:
        seen = _read_events(response, 2)
    assert [e["event"] for e in seen] == ["event", "event"]
    assert [e["data"]["record_id"] for e in seen] == ids
    unknown = httpx.get(f"{server}/api/v1/stream?kinds=event,gossip",
                        headers=auth(tokens[Role.liaison]))
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "kinds"]


def test_a_node_stops_while_a_console_still_holds_its_stream(node: Node,
                                                            tokens: dict[Role, str]) -> None:
    # The live stream never ends by itself: the server's stop cancels it after its graceful
    # bound (GRACEFUL_SHUTDOWN_S) instead of waiting on the console for ever.
    served = serve_in_thread(node)
    with httpx.Client(timeout=15) as client, client.stream(
        "GET", f"{served.url}/api/v1/stream?after=0", headers=auth(tokens[Role.liaison])
    ) as response:
        assert response.status_code == 200
        next(response.iter_lines())  # the stream is open: its first line came
        served.stop()
        assert not served.thread.is_alive(), "the server still waits on the open stream"
