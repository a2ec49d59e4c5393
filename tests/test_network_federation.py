"""Five members and a hub of the risk analysis network (issue 14): each submits a month (one by
XLSX import, one derived from events), the hub's board shows 5/5, a late revision changes the
hub's totals and is marked, and a member sees of the others only what its agreement allows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from federation_nodes import LinkedNode, LinkedNodes, push_once
from sitcen.events import EventCreate
from sitcen.exchange.links import Relation, add_agreement
from sitcen.indicator_list import INDICATORS, Breakdown
from sitcen.interop.indicator_template import import_template, template_xlsx
from sitcen.operations.indicator_records import (
    IndicatorValue,
    MonthWrite,
    Source,
    current_record,
    derive_month,
    write_months,
)
from sitcen.operations.indicator_submissions import (
    completeness_board,
    deadline_of,
    hub_tables,
    submit_month,
)
from sitcen.store.events import report_events
from sitcen.testing import seizure_report

HUB = "kg-hub"
MEMBERS = ("kz-ncc", "kg-ncc", "tj-ncc", "tm-ncc", "uz-ncc")
DEADLINE_DAY = 15
#: The month submitted: the last whole month (events may not lie in the future).
MONTH = str(pd.Period(datetime.now(UTC).date(), freq="M") - 1)

UP = """\
id: {name}-to-hub
from_node: {name}
to_node: kg-hub
direction: peer
kinds: [indicator_record, indicator_submission]
handling_ceiling: AMBER
indicator_breakdowns: [place, nationality, document_kind, substance]
onward_sharing: true
"""

DOWN = """\
id: hub-to-{name}
from_node: kg-hub
to_node: {name}
direction: peer
kinds: [indicator_record, indicator_submission]
handling_ceiling: AMBER
indicator_breakdowns: {breakdowns}
"""
#: What each member sees of the others' breakdowns: Tajikistan the totals only, Kyrgyzstan by
#: nationality (not by place), the others everything.
SEES = {"tj-ncc": [], "kg-ncc": ["nationality"]}


def _values(country: str, item_id: str, scale: int) -> list[IndicatorValue]:
    """A month's values on one indicator: the total and, when it takes them, a breakdown by
    place and nationality that sums to it."""
    item = INDICATORS[item_id]
    total = 10 * scale
    values = [IndicatorValue(total, Source.entered)]
    takes = {b.value for b in item.breakdowns}
    if {"place", "nationality"} <= takes:
        values += [
            IndicatorValue(6 * scale, Source.entered, place=f"{country}-A", nationality="AF"),
            IndicatorValue(4 * scale, Source.entered, place=f"{country}-B", nationality="PK")]
    return values


@pytest.fixture
def network(database_url: str, another_database: Callable[[str], str], tmp_path: Path
            ) -> Iterator[LinkedNodes]:
    with LinkedNodes(tmp_path) as nodes:
        nodes.start(HUB, database_url, indicator_deadline_day=DEADLINE_DAY)
        for name in MEMBERS:
            nodes.start(name, another_database(name), indicator_deadline_day=DEADLINE_DAY)
            nodes.link_both(name, HUB, Relation.peer)
            add_agreement(nodes[name].node.engine, UP.format(name=name), own_node_id=name)
            breakdowns = SEES.get(name, [b.value for b in Breakdown])
            add_agreement(nodes[HUB].node.engine,
                          DOWN.format(name=name, breakdowns=breakdowns), own_node_id=HUB)
        yield nodes


def _record_month(member: LinkedNode, scale: int) -> None:
    node = member.node
    country = node.settings.node_country
    node_id = node.settings.node_id
    if node_id == "kg-ncc":  # by the XLSX template, filled in and imported
        held = {i: _values(country, i, scale) for i in INDICATORS}
        report = import_template(node.engine, node_id, country,
                                 template_xlsx(country, MONTH, "ru", held), author="analyst")
        assert report.ok, report.to_dict()
        return
    if node_id == "tj-ncc":  # derived from the node's events, the rest entered
        start = pd.Period(MONTH, freq="M").start_time.tz_localize("UTC") + timedelta(days=3)
        body = seizure_report(start.isoformat())
        report_events(node.engine, node.reporter, [EventCreate.model_validate(body)])
        derived = derive_month(node.engine, country, MONTH)
        entered = [MonthWrite(i, [IndicatorValue(0, Source.entered)]) for i in INDICATORS
                   if i not in {d.indicator for d in derived}]
        write_months(node.engine, node_id, country, MONTH, [*derived, *entered],
                     author="analyst")
        return
    write_months(node.engine, node_id, country, MONTH,
                 [MonthWrite(i, _values(country, i, scale)) for i in INDICATORS],
                 author="analyst")


def test_five_members_submit_and_the_hub_sees_them(network: LinkedNodes) -> None:
    hub = network[HUB].node
    senders: dict[str, Any] = {}
    deadline = deadline_of(MONTH, DEADLINE_DAY)
    on_time = datetime(deadline.year, deadline.month, deadline.day, 9, tzinfo=UTC)
    for scale, name in enumerate(MEMBERS, start=1):
        member = network[name]
        _record_month(member, scale)
        late = name == "uz-ncc"
        submission = submit_month(member.node.engine, name, member.node.settings.node_country,
                                  MONTH, author="analyst", deadline_day=DEADLINE_DAY,
                                  now=on_time + timedelta(days=2 if late else 0))
        assert submission.body["status"] == "submitted"
        assert submission.body["late"] is late
        assert set(submission.body["indicators"]) == set(INDICATORS)
        push_once(senders.setdefault(name, member.new_sender()))

    countries = [name[:2].upper() for name in MEMBERS]
    board = completeness_board(hub.engine, countries, [MONTH], today=deadline + timedelta(
        days=5), deadline_day=DEADLINE_DAY)
    assert board["summary"][MONTH]["received"] == 5
    assert board["summary"][MONTH]["late"] == 1
    cells = {c["country"]: c for c in board["cells"]}
    assert cells["UZ"]["status"] == "late" and cells["KZ"]["status"] == "submitted"
    assert all(c["indicators"] == len(INDICATORS) for c in cells.values())
    assert cells["TJ"]["totals"]["drug_seizures_kg"] == 12.5  # derived from the seizure
    assert not cells["KZ"]["revised"]

    # A late revision at Kazakhstan: the hub's total changes and the month is marked.
    kz = network["kz-ncc"].node
    before = float(hub_tables(hub.engine, ["KZ"])[0].query(
        "indicator == 'refusals_of_entry'")["total"].iloc[0])
    write_months(kz.engine, "kz-ncc", "KZ", MONTH,
                 [MonthWrite("refusals_of_entry", [IndicatorValue(25, Source.entered)])],
                 author="analyst", reason="late returns from the Khorgos check")
    push_once(senders["kz-ncc"])  # the same sender: it holds the link's lease
    totals, _ = hub_tables(hub.engine, ["KZ"])
    after = float(totals.query("indicator == 'refusals_of_entry'")["total"].iloc[0])
    assert (before, after) == (10.0, 25.0)
    board = completeness_board(hub.engine, countries, [MONTH], today=deadline,
                               deadline_day=DEADLINE_DAY)
    kz_cell = next(c for c in board["cells"] if c["country"] == "KZ")
    assert kz_cell["revised"] is True
    (revision,) = kz_cell["revisions"]
    assert revision["reason"] == "late returns from the Khorgos check"
    assert (revision["total_before"], revision["total"], revision["version"]) == (10, 25, 2)

    # The hub passes the members' months on, as each agreement allows.
    push_once(network[HUB].new_sender())
    tj, kg, tm = (network[n].node for n in ("tj-ncc", "kg-ncc", "tm-ncc"))
    seen_by_tj = current_record(tj.engine, "tj-ncc", "KZ", MONTH, "refusals_of_entry")
    assert seen_by_tj is not None and seen_by_tj.body["total"] == 25
    crossing = "illegal_crossing_between_bcps"
    totals_only = _record_of(tj, "tj-ncc", "UZ", crossing)
    assert [_cell(v) for v in totals_only["values"]] == [((), 50)]
    assert totals_only["withheld_breakdowns"] == ["nationality", "place"]
    by_nationality = _record_of(kg, "kg-ncc", "UZ", crossing)
    assert sorted(_cell(v) for v in by_nationality["values"]) == [
        ((), 50), ((("nationality", "AF"),), 30), ((("nationality", "PK"),), 20)]
    assert by_nationality["withheld_breakdowns"] == ["place"]
    everything = _record_of(tm, "tm-ncc", "UZ", crossing)
    assert ((("nationality", "AF"), ("place", "UZ-A")), 30) in [
        _cell(v) for v in everything["values"]]
    assert everything["withheld_breakdowns"] == []


def _record_of(node: Any, node_id: str, country: str, indicator: str) -> dict[str, Any]:
    record = current_record(node.engine, node_id, country, MONTH, indicator)
    assert record is not None, f"{node_id} holds no {indicator} of {country}"
    return record.body


def _cell(value: dict[str, Any]) -> tuple[tuple[tuple[str, Any], ...], Any]:
    parts = tuple(sorted((k, v) for k, v in value.items() if k not in ("value", "source")))
    return parts, value["value"]
