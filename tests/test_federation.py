"""Two real nodes over HTTP: push through the sharing function, exactly-once apply, refusals."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from conftest import iso, report
from federation_nodes import BATKEN_ISFARA, CHAIN, CHAIN_LINKS, LinkedNode, LinkedNodes
from sitcen.api.main import create_app
from sitcen.events import EventCreate, EventUpdate
from sitcen.exchange.envelope import Batch, seal
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_agreement, list_peers
from sitcen.exchange.sender import INBOX_PATH, LinkSender
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.events import get_event, report_events, update_event
from sitcen.store.queries import EventFilter, query_events
from sitcen.store.records import list_records, write_record


@pytest.fixture
def pair(database_url: str, another_database: Callable[[str], str], tmp_path: Path
         ) -> Iterator[tuple[LinkedNode, LinkedNode]]:
    with LinkedNodes(tmp_path) as nodes:
        a = nodes.start("kg-blo-batken", database_url)
        b = nodes.start("tj-blo-isfara", another_database("second"))
        nodes.link_both("kg-blo-batken", "tj-blo-isfara", Relation.peer)
        add_agreement(a.node.engine, BATKEN_ISFARA, own_node_id="kg-blo-batken")
        yield a, b


def _events(node: Node) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        bodies, _ = query_events(conn, EventFilter(), limit=1000)
    return [orjson.loads(b) for b in bodies]


def _report(node: Node, *changes: Mapping[str, Any]) -> list[str]:
    items = [EventCreate.model_validate(report(**c)) for c in changes]
    return [w.id for w in report_events(node.engine, node.reporter, items, batch=True)]


CROSSING = {"type": "green_border_crossing", "location": {"lon": 70.80, "lat": 39.95},
            "details": {"stage": "actual", "direction": "entry"}}


def test_push_shares_what_the_agreement_grants_exactly_once(
    pair: tuple[LinkedNode, LinkedNode],
) -> None:
    a, b = pair
    ids = _report(a.node, CROSSING, {**CROSSING, "handling": "RED"},
                  {**CROSSING, "location": {"lon": 68.6, "lat": 37.22}},  # AF-TJ: out of area
                  {})  # a drug seizure: type not granted
    sender = a.new_sender()
    with httpx.Client(timeout=30) as client:
        results = sender.run_once(client)
        assert results["tj-blo-isfara"].error is None
        received = _events(b.node)
        assert [e["id"] for e in received] == [ids[0]]
        got = received[0]
        assert got["origin"] == "kg-blo-batken"
        assert got["provenance"] == ["kg-blo-batken"]
        assert got["sharing"]["onward"] is False
        assert "description" not in got and "confidence" not in got
        assert got["section_id"].startswith("KG-TJ-")
        # Nothing new: nothing sent. Then forget the acknowledgements and send all again.
        assert sender.run_once(client)["tj-blo-isfara"].records == 0
        with a.node.engine.begin() as conn:
            conn.execute(schema.peers.update().values(acked_seq=0))
        again = sender.run_once(client)["tj-blo-isfara"]
        assert again.error is None and again.records == 1
    assert [e["id"] for e in _events(b.node)] == [ids[0]]  # no duplicate
    with b.node.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.journal)).scalar() == 1
    (link,) = list_peers(b.node.engine)
    assert link.received_seq == 4


def test_refused_batches_change_nothing(pair: tuple[LinkedNode, LinkedNode],
                                       caplog: pytest.LogCaptureFixture) -> None:
    a, b = pair
    caplog.set_level(logging.WARNING, logger="sitcen")
    _report(a.node, CROSSING)
    inbox = f"{b.url}{INBOX_PATH}"
    record = {"kind": "event", "origin": "kg-blo-batken", "id": "x", "version": 1,
              "body": {}, "provenance": ["kg-blo-batken"]}
    batch = Batch.new(sender="kg-blo-batken", receiver="tj-blo-isfara", first_seq=1,
                      last_seq=1, records=[record])
    stranger = NodeIdentity.generate("kg-blo-batken")  # same name, wrong key
    cases = [
        (b"not json at all", 422, "malformed"),
        (seal(batch, stranger), 403, "bad_signature"),
        (seal(Batch.new(sender="kg-blo-batken", receiver="kz-elsewhere", first_seq=1,
                        last_seq=1, records=[]), a.identity), 421, "wrong_receiver"),
        (seal(batch, a.identity), 422, "record_invalid"),  # body is not an event
        (b"{" * 40_000_000, 413, "too_large"),  # over the envelope limit
        (b"{" * 100_000_000, 413, "too_large"),  # over any request's limit
    ]
    with httpx.Client(timeout=60) as client:
        for data, code, reason in cases:
            response = client.post(inbox, content=data)
            assert response.status_code == code, response.text
            assert response.json()["detail"][0]["type"] == reason
        good = seal(Batch.new(sender="kg-blo-batken", receiver="tj-blo-isfara", first_seq=1,
                              last_seq=1, records=[]), a.identity)
        assert client.post(inbox, content=good).status_code == 200
        replay = client.post(inbox, content=good)
        assert (replay.status_code, replay.json()["detail"][0]["type"]) == (409, "replayed")
    assert _events(b.node) == []
    assert datetime.now(UTC)  # the node still answers:
    assert httpx.get(f"{b.url}/api/v1/health").status_code == 200
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    for reason in ("malformed", "bad_signature", "wrong_receiver", "record_invalid",
                   "too_large", "replayed"):
        assert any(reason in m for m in refusals), f"no log line for {reason}"
    assert any("100000000 bytes" in m for m in refusals)


PARTNER = """\
id: tj-ncc-to-kg-ncc
version: 1
from_node: tj-ncc
to_node: kg-ncc
direction: peer
kinds: [event]
events:
  types: [drug_smuggling]
fields: [location, section_id, details]
location_precision: region
personal_data: none
handling_ceiling: AMBER
delay: none
onward_sharing: false
"""


def test_chain_post_regional_national_partner(
    database_url: str, another_database: Callable[[str], str], tmp_path: Path
) -> None:
    """Records relay up a chain, then across to a partner under a stricter agreement."""
    urls = {"tj-panj-post": database_url, "tj-kulob-rc": another_database("second"),
            "tj-ncc": another_database("ncc"), "kg-ncc": another_database("kg")}
    with LinkedNodes(tmp_path) as nodes:
        for name in CHAIN:
            nodes.start(name, urls[name])
        for name, other, relation in CHAIN_LINKS:
            nodes.link(name, other, relation)
        add_agreement(nodes["tj-ncc"].node.engine, PARTNER, own_node_id="tj-ncc")
        ids = _report(nodes["tj-panj-post"].node, {}, CROSSING, {"handling": "RED"})
        senders = {name: n.new_sender() for name, n in nodes.items()}
        with httpx.Client(timeout=30) as client:
            for hop in ("tj-panj-post", "tj-kulob-rc", "tj-ncc"):
                senders[hop].run_once(client)
        national = {e["id"]: e for e in _events(nodes["tj-ncc"].node)}
        assert set(national) == set(ids)  # upward: everything
        assert national[ids[0]]["provenance"] == ["tj-panj-post", "tj-kulob-rc"]
        assert national[ids[0]]["description"]  # full detail upward
        partner = _events(nodes["kg-ncc"].node)
        assert [e["id"] for e in partner] == [ids[0]]  # the seizure, not the RED one
        got = partner[0]
        assert got["provenance"] == ["tj-panj-post", "tj-kulob-rc", "tj-ncc"]
        assert got["sharing"]["onward"] is False and got["sharing"]["precision"] == "region"
        assert "section_id" not in got and "description" not in got
        # Nothing goes back down to the post it came from (and, with no agreement
        # naming the post's area, nothing goes down at all).
        with httpx.Client(timeout=30) as client:
            result = senders["tj-kulob-rc"].run_once(client)
        assert result["tj-panj-post"].records == 0
        assert len(_events(nodes["tj-panj-post"].node)) == 3

        # Other kinds travel up like events; the partner's agreement names none.
        post = nodes["tj-panj-post"].node
        alert = write_record(post.engine, "alert", {
            "section_id": "AF-TJ-010", "severity": "high", "handling": "AMBER",
            "explanation": "Три задержания за сутки"}, node_id="tj-panj-post")
        # The seizure's handling is raised to RED: the partner must drop it, through
        # the relays, and a late copy of the old version must not bring it back.
        current = get_event(post.engine, ids[0])
        assert current is not None
        raised = EventUpdate.model_validate({**report(), "handling": "RED",
                                             "status": current.status, "base_version": 1})
        update_event(post.engine, post.reporter, ids[0], raised, may_change_status=False)
        with httpx.Client(timeout=30) as client:
            for hop in ("tj-panj-post", "tj-kulob-rc", "tj-ncc"):
                senders[hop].run_once(client)
        national_alerts = list_records(nodes["tj-ncc"].node.engine, "alert")
        assert [(r.id, r.provenance) for r in national_alerts] == [
            (alert.id, ["tj-panj-post", "tj-kulob-rc"])]
        assert national_alerts[0].body["explanation"] == "Три задержания за сутки"
        assert list_records(nodes["kg-ncc"].node.engine, "alert") == []
        national = {e["id"]: e for e in _events(nodes["tj-ncc"].node)}
        assert national[ids[0]]["version"] == 2 and national[ids[0]]["handling"] == "RED"
        assert _events(nodes["kg-ncc"].node) == []  # retracted at the partner
        with nodes["kg-ncc"].node.engine.connect() as conn:
            tombstone = conn.execute(sa.select(schema.retractions)).one()
        assert (tombstone.id, tombstone.version) == (ids[0], 2)
        assert orjson.loads(tombstone.provenance) == ["tj-panj-post", "tj-kulob-rc", "tj-ncc"]
        assert "ceiling" in tombstone.reason
        # Version 1 delivered again (the national centre forgets the partner's cursor):
        with nodes["tj-ncc"].node.engine.begin() as conn:
            conn.execute(schema.peers.update().values(acked_seq=0))
        late = seal(Batch.new(sender="tj-ncc", receiver="kg-ncc", first_seq=1, last_seq=1,
                              records=[{**got, "kind": "event", "body": got,
                                        "provenance": got["provenance"]}]),
                    nodes["tj-ncc"].identity)
        assert httpx.post(f"{nodes['kg-ncc'].url}{INBOX_PATH}", content=late).status_code == 200
        assert _events(nodes["kg-ncc"].node) == []


def test_pull_catches_up_from_the_same_cursor(pair: tuple[LinkedNode, LinkedNode]) -> None:
    from sitcen.exchange.envelope import ReplayGuard
    from sitcen.exchange.sender import pull

    a, b = pair
    ids = _report(a.node, CROSSING, CROSSING, {})  # two crossings leave, the seizure does not
    guard = ReplayGuard()
    with httpx.Client(timeout=30) as client:
        (link_to_a,) = list_peers(b.node.engine)
        result = pull(b.node.engine, b.identity, link_to_a, client, guard=guard)
        assert result.error is None and result.acked_seq == 3
        assert sorted(e["id"] for e in _events(b.node)) == sorted(ids[:2])
        assert _events(b.node)[0]["section_id"].startswith("KG-TJ-")
        (link_to_a,) = list_peers(b.node.engine)
        assert link_to_a.received_seq == 3
        again = pull(b.node.engine, b.identity, link_to_a, client, guard=guard)
        assert again.error is None and again.records == 0  # caught up
    (link_to_b,) = list_peers(a.node.engine)
    assert link_to_b.acked_seq == 3  # naming a cursor acknowledged it
    stranger = NodeIdentity.generate("kz-somebody")
    forged = seal(Batch.new(sender="kz-somebody", receiver="kg-blo-batken", first_seq=0,
                            last_seq=0, records=[]), stranger)
    refused = httpx.post(f"{a.url}/api/v1/exchange/pull", content=forged)
    assert (refused.status_code, refused.json()["detail"][0]["type"]) == (403, "unknown_sender")


def test_a_replay_is_refused_by_every_process_of_the_node(
    pair: tuple[LinkedNode, LinkedNode],
) -> None:
    """Another app process on the same database (or the same one restarted) remembers."""
    from fastapi.testclient import TestClient

    a, b = pair
    good = seal(Batch.new(sender="kg-blo-batken", receiver="tj-blo-isfara", first_seq=1,
                          last_seq=1, records=[]), a.identity)
    assert httpx.post(f"{b.url}{INBOX_PATH}", content=good).status_code == 200
    with TestClient(create_app(b.node)) as other_process:
        replay = other_process.post(INBOX_PATH, content=good)
    assert (replay.status_code, replay.json()["detail"][0]["type"]) == (409, "replayed")


def test_daily_aggregates_travel_instead_of_single_records(
    pair: tuple[LinkedNode, LinkedNode],
) -> None:
    from datetime import timedelta

    a, b = pair
    counts_only = BATKEN_ISFARA.replace("version: 1", "version: 2").replace(
        "delay: none", "delay: daily_aggregates")
    add_agreement(a.node.engine, counts_only, own_node_id="kg-blo-batken")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    day = yesterday.date()
    at = iso(yesterday.replace(hour=12, minute=0))
    ids = _report(a.node, {**CROSSING, "occurred_at": at}, {**CROSSING, "occurred_at": at},
                  {"occurred_at": at})  # the seizure is not covered
    sender = LinkSender(a.node.engine, a.identity, recount_s=0, recount_cost_factor=0)
    with httpx.Client(timeout=30) as client:
        assert sender.run_once(client)["tj-blo-isfara"].error is None
        assert _events(b.node) == []  # no single record
        (counts,) = [r for r in list_records(b.node.engine, "daily_aggregate")
                     if r.body["day"] == day.isoformat()]
        assert counts.origin == "kg-blo-batken" and counts.version == 1
        (row,) = counts.body["rows"]
        assert (row["type"], row["events"], row["area_kind"]) == (
            "green_border_crossing", 2, "section")
        assert row["persons"] == 4  # two events of two persons each
        # A late report about the same day: the counts get a new version.
        ids += _report(a.node, {**CROSSING, "occurred_at": at})
        sender.run_once(client)
        sender.run_once(client)  # nothing changed: nothing written or sent again
    (counts,) = [r for r in list_records(b.node.engine, "daily_aggregate")
                 if r.body["day"] == day.isoformat()]
    assert counts.version == 2 and counts.body["rows"][0]["events"] == 3
    with a.node.engine.connect() as conn:
        versions = conn.execute(sa.select(schema.records.c.version)
                                .where(schema.records.c.id == counts.id)).scalar_one()
    assert versions == 2
