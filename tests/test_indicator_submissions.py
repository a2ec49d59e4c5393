"""The submission cycle on one member: submitting a month, the deadline, reminders, the board."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from conftest import auth
from sitcen.indicator_list import INDICATORS
from sitcen.node import Node
from sitcen.operations.audience import Audience
from sitcen.operations.indicator_records import (
    IndicatorError,
    IndicatorValue,
    MonthWrite,
    Source,
    write_months,
)
from sitcen.operations.indicator_submissions import (
    Reminders,
    deadline_of,
    months_to_remind,
    remind,
    submit_month,
)
from sitcen.operations.notifications import list_notifications
from sitcen.operations.watch import CooperationWatch
from sitcen.users import Role

API = "/api/v1/indicators"
MONTH = "2026-03"


def _record_all(node: Node, skip: str | None = None) -> None:
    write_months(node.engine, node.settings.node_id, "TJ", MONTH,
                 [MonthWrite(i, [IndicatorValue(3, Source.entered)]) for i in INDICATORS
                  if i != skip], author="analyst")


def test_the_deadline_is_the_day_of_the_following_month() -> None:
    assert deadline_of("2026-03", 15) == date(2026, 4, 15)
    assert deadline_of("2026-12", 1) == date(2027, 1, 1)
    settings = Reminders("TJ", deadline_day=15, remind_days=5)
    assert months_to_remind(datetime(2026, 4, 9, tzinfo=UTC), settings)[-1:] == [
        ("2026-02", "indicator_overdue")]
    assert ("2026-03", "indicator_due") in months_to_remind(
        datetime(2026, 4, 10, tzinfo=UTC), settings)
    assert ("2026-03", "indicator_overdue") in months_to_remind(
        datetime(2026, 4, 16, tzinfo=UTC), settings)


def test_a_month_is_submitted_only_whole_and_again_only_with_a_reason(node: Node) -> None:
    _record_all(node, skip="facilitators")
    now = datetime(2026, 4, 3, tzinfo=UTC)
    try:
        submit_month(node.engine, node.settings.node_id, "TJ", MONTH, author="analyst",
                     deadline_day=15, now=now)
        raise AssertionError("a month without facilitators was submitted")
    except IndicatorError as exc:
        assert [f.column for f in exc.findings] == ["facilitators"]
    write_months(node.engine, node.settings.node_id, "TJ", MONTH,
                 [MonthWrite("facilitators", [IndicatorValue(0, Source.entered)])],
                 author="analyst")
    first = submit_month(node.engine, node.settings.node_id, "TJ", MONTH, author="analyst",
                         deadline_day=15, now=now)
    assert first.body["late"] is False and first.body["deadline"] == "2026-04-15"
    assert first.body["indicators"]["facilitators"] == {"version": 1, "total": 0}
    try:
        submit_month(node.engine, node.settings.node_id, "TJ", MONTH, author="analyst",
                     deadline_day=15, now=now)
        raise AssertionError("submitted twice without a reason")
    except IndicatorError as exc:
        assert [f.column for f in exc.findings] == ["reason"]
    again = submit_month(node.engine, node.settings.node_id, "TJ", MONTH, author="analyst",
                         deadline_day=15, now=datetime(2026, 4, 20, tzinfo=UTC),
                         reason="refusals corrected")
    assert (again.version, again.body["late"], again.body["reason"]) == (
        2, True, "refusals corrected")


def test_reminders_before_and_after_the_deadline_reach_the_people_who_record(
        node: Node, tokens: dict[Role, str]) -> None:
    settings = Reminders("TJ", deadline_day=15, remind_days=5)
    audience = Audience(node.engine, node.settings.node_id)
    node_id = node.settings.node_id
    assert remind(node.engine, node_id, settings, datetime(2026, 4, 5, tzinfo=UTC),
                  audience=audience).get(MONTH) is None  # too early for March
    told = remind(node.engine, node_id, settings, datetime(2026, 4, 11, tzinfo=UTC),
                  audience=audience)
    assert told[MONTH] == ["admin", "analyst", "duty-officer"]  # issue_reports, not operators
    assert remind(node.engine, node_id, settings, datetime(2026, 4, 12, tzinfo=UTC),
                  audience=audience).get(MONTH) is None  # told once
    told = remind(node.engine, node_id, settings, datetime(2026, 4, 16, tzinfo=UTC),
                  audience=audience)
    assert told[MONTH] == ["admin", "analyst", "duty-officer"]
    reasons = [n.body["reason"] for n in list_notifications(node.engine, "analyst")
               if n.body["about"]["kind"] == "indicator_submission"]
    assert sorted(reasons).count("indicator_due") == 1 and "indicator_overdue" in reasons
    assert list_notifications(node.engine, "operator") == []
    # Submitted: no more reminders of that month.
    _record_all(node)
    submit_month(node.engine, node_id, "TJ", MONTH, author="analyst", deadline_day=15,
                 now=datetime(2026, 4, 17, tzinfo=UTC))
    assert MONTH not in remind(node.engine, node_id, settings,
                               datetime(2026, 5, 2, tzinfo=UTC), audience=audience)


def test_submit_and_board_over_http(client: TestClient, node: Node,
                                    tokens: dict[Role, str]) -> None:
    analyst, operator = auth(tokens[Role.analyst]), auth(tokens[Role.operator])
    refused = client.post(f"{API}/{MONTH}/submit", json={}, headers=analyst)
    assert refused.status_code == 422
    assert len(refused.json()["detail"]) == len(INDICATORS)
    _record_all(node)
    assert client.post(f"{API}/{MONTH}/submit", json={}, headers=operator).status_code == 403
    done = client.post(f"{API}/{MONTH}/submit", json={}, headers=analyst)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"
    board = client.get(f"{API}/board", params={"first": MONTH, "last": MONTH,
                                               "country": ["TJ", "KG"]}, headers=operator)
    assert board.status_code == 200, board.text
    cells = {c["country"]: c for c in board.json()["cells"]}
    assert cells["TJ"]["status"] in ("submitted", "late")  # by today's clock
    assert cells["TJ"]["indicators"] == len(INDICATORS)
    assert cells["KG"]["status"] == "missing"
    wrong = client.get(f"{API}/board", params={"first": "2026-05", "last": MONTH},
                       headers=operator)
    assert wrong.status_code == 422
    annex = client.get(f"{API}/annex", params={"period": "2026Q1", "country": ["TJ"]},
                       headers=operator)
    assert annex.status_code == 200
    assert annex.json()["region"]["refusals_of_entry"]["total"] == 3


def test_the_cooperation_watch_reminds_when_the_node_records_indicators(
        node: Node, tokens: dict[Role, str]) -> None:
    quiet = CooperationWatch(node.engine, node.settings.node_id)
    assert quiet.check_deadlines(datetime(2026, 4, 16, tzinfo=UTC)) == 0
    watch = CooperationWatch(node.engine, node.settings.node_id,
                             indicators=Reminders("TJ", deadline_day=15, remind_days=5))
    assert watch.check_deadlines(datetime(2026, 4, 16, tzinfo=UTC)) > 0
    assert watch.check_deadlines(datetime(2026, 4, 16, 12, tzinfo=UTC)) == 0  # told once
