"""The demo shows the shift's work: queue, tasks and answering patrols, duty log, handover,
directory.

One real `sitcen demo` process (a few weeks of history, a live report every 0.3 s, a
task every second) is read over HTTP by the tests of this module, which only read it;
the patrols' tasking is also driven step by step with a clock the test moves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from conftest import report
from sitcen.demo.patrols import DEMO_PATROLS, patrol_steps
from sitcen.demo.shift import ANSWERS, LEFT_WAITING, PatrolTasking
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.operations.shift import read_entries
from sitcen.operations.tasks import list_tasks, update_own_task
from sitcen.store.events import get_event, report_events
from sitcen.store.journal import RecordKind
from sitcen.store.records import write_record
from sitcen.testing import clean_environment, free_port, start_server, stop_process, wait_until

pytestmark = pytest.mark.xdist_group("demo")

PATROLS = {p[0] for p in DEMO_PATROLS}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A demo node serving, and the duty officer's headers (read only by the tests)."""
    root = tmp_path_factory.mktemp("demo-shift")
    port = free_port()
    process = start_server(["demo", "--years", "0.05", "--data-dir", str(root / "demo"),
                            "--live-every", "0.3", "--task-every", "1"],
                           clean_environment(), port, log_path=root / "demo.log",
                           timeout_s=300)
    url = f"http://127.0.0.1:{port}"
    try:
        answer = httpx.post(f"{url}/api/v1/auth/login",
                            json={"username": "duty", "password": "duty-demo-1"})
        assert answer.status_code == 200, answer.text
        yield url, {"Authorization": f"Bearer {answer.json()['access_token']}"}
    finally:
        stop_process(process)


def _get(demo: tuple[str, dict[str, str]], path: str, **params: Any) -> Any:
    url, headers = demo
    answer = httpx.get(f"{url}/api/v1/{path}", params=params, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _waiting_ids(demo: tuple[str, dict[str, str]]) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        page = _get(demo, "queue", limit=500, **({"cursor": cursor} if cursor else {}))
        ids |= {i["event_id"] for i in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_live_reports_wait_in_the_queue_beside_a_returned_one(
        demo: tuple[str, dict[str, str]]) -> None:
    page = _get(demo, "queue")
    assert page["level"] == "national"
    assert page["counts"]["waiting"] > 0
    assert page["counts"]["returned"] == 1
    returned = _get(demo, "queue", view="returned")["items"]
    assert len(returned) == 1
    assert returned[0]["acted_by"] == "night" and returned[0]["note"].startswith("[demo]")
    before = _waiting_ids(demo)

    def new_waiting() -> set[str]:
        return _waiting_ids(demo) - before

    # Nobody validates here meanwhile: a report newly waiting is one the live feed made.
    arrived = wait_until(new_waiting, timeout_s=60, interval_s=0.5,
                         what="a live report waiting in the queue")
    event = _get(demo, f"events/{sorted(arrived)[0]}")
    assert (event["origin"], event["status"]) == ("demo-national-centre", "reported")


def test_the_night_officer_validated_and_returned_reports(
        demo: tuple[str, dict[str, str]]) -> None:
    [returned] = _get(demo, "queue", view="returned")["items"]
    actions = _get(demo, f"events/{returned['event_id']}/actions")
    assert [(a["body"]["action"], a["body"]["by"], a["body"]["level"]) for a in actions] == [
        ("return_for_correction", "night", "national")]
    assert actions[0]["body"]["text"] == returned["note"]
    [handover] = _get(demo, "handovers")["handovers"]
    assert handover["happened"]["queue_decisions"]["validated"] >= 1


def test_the_duty_officer_works_the_live_queue_down(demo: tuple[str, dict[str, str]]) -> None:
    # A report waits a while (here 5 s), then the demo's duty officer validates it, so
    # the queue stays live instead of piling up overdue; serious ones are left alone.
    waiting = _waiting_ids(demo)

    def validated_by_duty() -> str | None:
        for event_id in waiting - _waiting_ids(demo):
            actions = _get(demo, f"events/{event_id}/actions")
            if any(a["body"]["action"] == "validate" and a["body"]["by"] == "duty"
                   for a in actions):
                return event_id
        return None

    wait_until(validated_by_duty, timeout_s=60, interval_s=0.5,
               what="a waiting report validated by the duty officer")


def test_patrols_acknowledge_their_tasks_and_finish_them(
        demo: tuple[str, dict[str, str]]) -> None:
    def answered() -> list[dict[str, Any]]:
        return [t for t in _get(demo, "tasks")["tasks"]
                if t["status"] != "assigned" and t["unit_id"] in PATROLS]

    task = wait_until(answered, timeout_s=60, interval_s=0.5, what="a task answered")[0]
    assert task["dispatched_by"] == "duty" and task["mine"]
    assert task["priority"] in ("routine", "priority", "immediate")
    assert task["instructions"].startswith("[demo]")
    acknowledged = next(h for h in task["history"] if h["status"] == "acknowledged")
    assert (acknowledged["by"], acknowledged["via"]) == (task["unit_id"], "device")

    def done() -> list[dict[str, Any]]:
        return [t for t in _get(demo, "tasks")["tasks"] if t["status"] == "done"]

    finished = wait_until(done, timeout_s=60, interval_s=0.5, what="a task done")[0]
    assert [h["status"] for h in finished["history"]] == ["assigned",
                                                          *[s for s, _ in ANSWERS]]
    assert finished["outcome"]["result"] in ("confirmed", "nothing_found", "handled")
    assert finished["outcome"]["summary"].startswith("[demo]")


def test_the_duty_log_has_each_kind_of_entry_and_the_dispatches(
        demo: tuple[str, dict[str, str]]) -> None:
    def logged() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = _get(demo, "duty-log")["entries"]
        dispatched = [e for e in entries if e["text"].startswith("[demo] Tasked")]
        return entries if dispatched else None

    entries = wait_until(logged, timeout_s=60, interval_s=0.5, what="a dispatch in the log")
    assert {e["entry_type"] for e in entries if e["author"] == "duty"} == {
        "decision", "call", "information", "instruction"}
    dispatch = next(e for e in entries if e["text"].startswith("[demo] Tasked"))
    assert dispatch["entry_type"] == "instruction"
    assert "task" in {r["kind"] for r in dispatch["related"]}

    def level_raised() -> bool:
        return any(e["entry_type"] == "decision" and "Raised the level" in e["text"]
                   for e in _get(demo, "duty-log", entry_type="decision")["entries"])

    # The story raises the riskiest section's level 20 s after start.
    wait_until(level_raised, timeout_s=90, interval_s=0.5, what="the level rise in the log")


def test_the_night_handover_is_signed_off_by_the_duty_officer(
        demo: tuple[str, dict[str, str]]) -> None:
    [handover] = _get(demo, "handovers")["handovers"]
    assert (handover["from_officer"], handover["status"], handover["signed_off_by"]) == (
        "night", "signed_off", "duty")
    assert handover["notes"].startswith("[demo]")
    queue = handover["open"]["queue"]
    assert queue["returned"] == 1
    # The night officer worked the backlog down to its newest reports (and serious ones).
    assert queue["waiting"] - queue["serious"] == LEFT_WAITING - 1
    assert handover["open"]["reports_returned"][0]["by"] == "night"
    assert handover["happened"]["queue_decisions"]["returned"] == 1
    assert {e["entry_type"] for e in handover["happened"]["log"]} == {"information", "call"}
    # The day's log begins after the handover: none of its entries is in it.
    day = _get(demo, "duty-log", author="duty")["entries"]
    ended = datetime.fromisoformat(handover["period_to"])
    assert day and all(datetime.fromisoformat(e["at"]) >= ended for e in day)


def test_the_directory_lists_the_demo_agencies_and_contacts(
        demo: tuple[str, dict[str, str]]) -> None:
    organisations = _get(demo, "directory")["organisations"]
    names = {o["body"]["name"] for o in organisations}
    assert {"Border Troops (demo)", "National coordination centre (demo)",
            "Customs Service (demo)"} <= names
    assert all("(demo)" in name for name in names)
    contacts = [c for o in organisations for c in o["contacts"]]
    assert len(contacts) >= 4
    assert all(c["body"]["phones"] and "(demo)" in c["body"]["role"] for c in contacts)
    assert sum(c["body"]["hours"]["always"] for c in contacts) >= 3  # 24/7 desks
    assert any(c["on_duty"] for c in contacts)
    centre = next(o for o in organisations
                  if o["body"]["name"] == "National coordination centre (demo)")
    assert (centre["body"]["unit_kind"], centre["parent_name"]) == (
        "situation_centre", "Border Troops (demo)")


# ----------------------------------------------------------------------------- in process


def test_tasking_follows_its_clock(node: Node) -> None:
    """Dispatch, the patrol's answers and the outcome, each when the clock says."""
    node_id = node.settings.node_id
    for body in next(patrol_steps(node.sections)):
        write_record(node.engine, RecordKind.asset_position, body, node_id=node_id)
    [event] = report_events(node.engine, node.reporter, [
        EventCreate.model_validate(report(impact_level="very_high"))])
    assert event.section_id is not None and event.section_id.startswith("AF-TJ")
    tasking = PatrolTasking(node, threading.Event(), riskiest=["KG-TJ-001", "AF-TJ-010"],
                            every_s=100.0)

    def status_of(task_id: str) -> str:
        return str(next(b for t, b in list_tasks(node.engine) if t.id == task_id)["status"])

    tasking.step(0.0)
    [(first, body)] = list_tasks(node.engine)
    assert (body["unit_id"], body["status"], body["priority"]) == (
        "tj-panj-1", "assigned", "immediate")
    assert body["target"]["event_id"] == event.id
    tasking.step(9.9)
    assert status_of(first.id) == "assigned"
    tasking.step(10.0)
    assert status_of(first.id) == "acknowledged"
    tasking.step(99.0)
    assert status_of(first.id) == "on_scene"
    assert len(list_tasks(node.engine)) == 1

    tasking.step(170.0)  # the first ends; the second is due since 100
    tasks = list_tasks(node.engine)
    assert [b["status"] for _t, b in tasks] == ["assigned", "done"]
    second, second_body = tasks[0]
    # No other high-impact report on the Afghan-Tajik border: the riskiest of its sections.
    assert (second_body["unit_id"], second_body["target"]["kind"],
            second_body["target"]["section_id"], second_body["priority"]) == (
        "tj-panj-2", "section", "AF-TJ-010", "routine")
    finished = tasks[1][1]
    assert finished["outcome"]["updated_event"] == event.id
    updated = get_event(node.engine, event.id)
    assert updated is not None and updated.version == 2
    assert "patrol_dispatched" in updated.reaction

    # The officer cancels the second task in the console: the patrol leaves it be.
    update_own_task(node.engine, node_id, second.id, "cancelled", by="duty", via="console")
    tasking.step(400.0)
    assert status_of(second.id) == "cancelled"
    assert len(list_tasks(node.engine)) == 3
    log = read_entries(node.engine, entry_type="instruction")
    assert len(log) == 3 and all(e.body["author"] == "duty" for e in log)
