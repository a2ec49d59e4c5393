"""A daily report issued by a regional node reaches its national centre whole and a partner
without personal data and with sections only, over real HTTP; both can check the signature."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from federation_nodes import LinkedNode, LinkedNodes
from sitcen.api.routes.reports import signature_valid
from sitcen.events import EventCreate
from sitcen.exchange.links import Relation, add_agreement
from sitcen.exchange.sender import LinkSender
from sitcen.operations.requests import RequestCreate, create_request
from sitcen.reports.library import NodeFacts, issue_draft, make_draft, withdraw_report
from sitcen.sealing import REDACTED, SEALED, tags_present
from sitcen.store.events import report_events
from sitcen.store.journal import RecordKind
from sitcen.store.records import get_record, list_records
from sitcen.store.users import StoredUser
from sitcen.users import Role
from test_reports import seed, the_day

TO_PARTNER = """\
id: sughd-to-kg-reports
from_node: tj-sughd-centre
to_node: kg-ncc
direction: peer
purpose: Daily situation reports for the Kyrgyz national centre, sections only, no personal data.
kinds: [report]
events:
  countries: [TJ]
location_precision: section
personal_data: none
handling_ceiling: AMBER
onward_sharing: false
"""


@pytest.fixture
def three(another_database: Callable[[str], str], tmp_path: Path
          ) -> Iterator[tuple[LinkedNode, LinkedNode, LinkedNode]]:
    with LinkedNodes(tmp_path) as nodes:
        regional, national, partner = (nodes.start(name, another_database(name)) for name in
                                       ("tj-sughd-centre", "tj-ncc", "kg-ncc"))
        nodes.link("tj-sughd-centre", "tj-ncc", Relation.parent)
        nodes.link("tj-sughd-centre", "kg-ncc", Relation.peer)
        add_agreement(regional.node.engine, TO_PARTNER, own_node_id="tj-sughd-centre")
        nodes.link("tj-ncc", "tj-sughd-centre", Relation.child)
        nodes.link("kg-ncc", "tj-sughd-centre", Relation.peer)
        yield regional, national, partner


def _push(sender: LinkSender) -> None:
    with httpx.Client(timeout=60) as client:
        for _ in range(5):  # a link may take a few pages to catch up
            results = sender.run_once(client)
            assert all(r.error is None for r in results.values()), results


def test_daily_report_reaches_the_national_centre_and_a_partner_without_personal_data(
        three: tuple[LinkedNode, LinkedNode, LinkedNode]) -> None:
    regional, national, partner = three
    node = regional.node
    seed(node)
    create_request(node.engine, "tj-sughd-centre", RequestCreate.model_validate({
        "to_node": "tj-ncc", "title": "Who crossed the ford below Vorukh?",
        "text": "Two men seen at dawn; the post asks for the national records."}),
        by="Lt. Karimov", reachable=["tj-ncc"], now=datetime.now(UTC))
    facts = NodeFacts("tj-sughd-centre", "Sughd regional centre", "TJ",
                      tuple(node.sections.sections), regional.identity)
    officer = StoredUser("rahimov", "Major A. Rahimov", Role.duty_officer, False)
    draft = make_draft(node.engine, facts, product="daily", day=the_day(), by="rahimov",
                       language="ru")
    issued = issue_draft(node.engine, facts, draft.id, officer)
    own_tags = tags_present(issued.body["content"])
    assert {"location", "section", "persons", "personal"} <= own_tags
    sender = regional.new_sender()  # one sender: it holds the links' leases
    _push(sender)

    at_national = get_record(national.node.engine, issued.id)
    assert at_national is not None and at_national.kind == RecordKind.report
    assert at_national.body["content"] == issued.body["content"]  # parent: the whole report
    assert signature_valid(national.node, at_national) is True

    at_partner = get_record(partner.node.engine, issued.id)
    assert at_partner is not None
    assert tags_present(at_partner.body["content"]) == {"section"}
    assert at_partner.body["withheld"] == ["location", "personal", "persons"]
    text = str(at_partner.body["content"])
    assert "Karimov" not in text and REDACTED in text
    assert at_partner.body["signature"]["name"] == "Major A. Rahimov"  # who signed stays
    assert signature_valid(partner.node, at_partner) is True  # and it still holds
    assert SEALED in text  # the sections it may see are still sealed, so it can check them

    # Withdrawn at the origin: both copies are dropped on the next push.
    withdraw_report(node.engine, facts, issued.id, officer, "issued for the wrong day")
    _push(sender)
    assert get_record(partner.node.engine, issued.id) is None
    assert get_record(national.node.engine, issued.id) is None


def test_drafts_and_templates_never_leave_the_node(
        three: tuple[LinkedNode, LinkedNode, LinkedNode]) -> None:
    regional, national, _partner = three
    node = regional.node
    report_events(node.engine, node.reporter, [EventCreate.model_validate({
        "type": "suspicious_person", "occurred_at": "2025-01-01T10:00:00Z",
        "location": {"lon": 70.8, "lat": 39.95}})])
    facts = NodeFacts("tj-sughd-centre", "Sughd", "TJ", tuple(node.sections.sections),
                      regional.identity)
    make_draft(node.engine, facts, product="daily", day=the_day(), by="analyst")
    _push(regional.new_sender())
    assert list_records(national.node.engine, RecordKind.report_draft) == []
    assert len(list_records(node.engine, RecordKind.report_draft)) == 1
