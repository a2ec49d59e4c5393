"""The outbox: journal → sharing function → sealed batch a peer can open, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import report
from sitcen.events import EventCreate
from sitcen.exchange.agreements import load_agreement
from sitcen.exchange.envelope import ReplayGuard, open_envelope, seal
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer, governing, list_peers
from sitcen.exchange.outbox import next_batch
from sitcen.exchange.sharing import section_infos
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.journal import Record, write_records

AGREEMENT = """\
id: tj-to-af-liaison
version: 1
from_node: tj-test-centre
to_node: af-liaison
direction: peer
kinds: [event]
events:
  types: [drug_smuggling]
  sections: [AF-TJ-*]
fields: [location, section_id, details]
location_precision: section
personal_data: none
handling_ceiling: AMBER
delay: none
onward_sharing: false
"""


def test_only_what_the_agreement_grants_leaves_and_the_cursor_covers_all(node: Node) -> None:
    me = NodeIdentity.generate("tj-test-centre")
    partner = NodeIdentity.generate("af-liaison")
    add_peer(node.engine, "af-liaison", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=partner.public_key_text)
    reports = [
        report(),  # drug seizure on the Panj: leaves, degraded
        report(handling="RED"),  # above the ceiling: stays
        report(location={"lon": 70.8, "lat": 39.95}),  # KG-TJ section: out of area
        report(type="lost_person", details={}, persons=[]),  # type not granted
        report(subjects=[{"role": "courier", "full_name": "Н. Н."}]),  # event leaves, PD not
    ]
    written = report_events(node.engine, node.reporter,
                            [EventCreate.model_validate(r) for r in reports], batch=True)
    foreign = Record("event", {**_row_of(node, written[0].id), "id": "11111111-1111-4111-8111-"
                               "111111111111", "origin": "kg-osh-centre"})
    write_records(node.engine, [foreign], node_id="kg-osh-centre")  # received, not ours
    (peer,) = list_peers(node.engine)
    agreement = load_agreement(AGREEMENT)
    batch = next_batch(node.engine, "tj-test-centre", peer, agreement,
                       now=datetime.now(UTC), sections=section_infos(node.sections.sections))
    assert batch is not None
    assert (batch.header.first_seq, batch.header.last_seq) == (1, 7)  # 5 events, 1 PD, 1 foreign
    ids = [r["id"] for r in batch.records]
    assert ids == [written[0].id, written[4].id]
    sent = batch.records[0]
    assert sent["provenance"] == ["tj-test-centre"]
    assert sent["sharing"]["onward"] is False
    assert "persons" not in sent["body"] and "description" not in sent["body"]
    assert sent["body"]["location"]["precision_m"] > 1000  # snapped to the section midpoint
    opened = open_envelope(seal(batch, me), expected_receiver="af-liaison",
                           trusted_keys={"tj-test-centre": me.public_key},
                           seen=ReplayGuard(), now=datetime.now(UTC))
    assert [r["id"] for r in opened.records] == ids


def _row_of(node: Node, event_id: str) -> dict[str, object]:
    import sqlalchemy as sa

    from sitcen.store import schema

    with node.engine.connect() as conn:
        return dict(conn.execute(sa.select(schema.events)
                                 .where(schema.events.c.id == event_id)).one()._mapping)


def test_caught_up_link_has_nothing_to_send(node: Node) -> None:
    partner = NodeIdentity.generate("af-liaison")
    add_peer(node.engine, "af-liaison", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=partner.public_key_text)
    (peer,) = list_peers(node.engine)
    assert next_batch(node.engine, "tj-test-centre", peer, load_agreement(AGREEMENT),
                      now=datetime.now(UTC)) is None
    default = governing(node.engine, "tj-test-centre", peer)
    assert default.kinds == []  # to a peer, nothing unless an agreement names it


def test_delayed_records_wait_for_their_time_and_hold_the_cursor(node: Node) -> None:
    from datetime import timedelta

    partner = NodeIdentity.generate("af-liaison")
    add_peer(node.engine, "af-liaison", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=partner.public_key_text)
    delayed = load_agreement(AGREEMENT.replace("delay: none", "delay: {minutes: 60}"))
    old = datetime.now(UTC) - timedelta(hours=2)
    recent = datetime.now(UTC) - timedelta(minutes=10)
    written = report_events(node.engine, node.reporter, [
        EventCreate.model_validate(report(occurred_at=old.isoformat())),
        EventCreate.model_validate(report(occurred_at=recent.isoformat())),
    ], batch=True)
    (peer,) = list_peers(node.engine)
    now = datetime.now(UTC)
    first = next_batch(node.engine, "tj-test-centre", peer, delayed, now=now)
    assert first is not None
    assert [r["id"] for r in first.records] == [written[0].id]
    assert first.header.last_seq == 1  # stops before the record still waiting
    from dataclasses import replace

    waiting_peer = replace(peer, acked_seq=1)
    assert next_batch(node.engine, "tj-test-centre", waiting_peer, delayed, now=now) is None
    later = next_batch(node.engine, "tj-test-centre", waiting_peer, delayed,
                       now=now + timedelta(minutes=55))
    assert later is not None and [r["id"] for r in later.records] == [written[1].id]
