"""A duty officer's shift in a real browser (Debian's Chromium driven by Playwright).

One node is served with its journal followers running (the validation queue,
notifications) and a TAK listener; a pytak client acts as the patrol's device.
The officer logs in, works the queue from the keyboard, acknowledges and closes
an alert, confirms a section level with a justification and ticks its checklist,
dispatches a task the device acknowledges, writes the duty log and hands over;
the next officer signs the handover off. Screenshots of each screen go to
docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from configparser import ConfigParser
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import TEST_PASSWORD, iso, make_settings, report
from console_browser import (
    expect,
    go_to,
    log_in,
    new_context,
    report_scenario,
    require_console,
    serving,
    shot,
)
from sitcen.events import EventCreate
from sitcen.interop.cot import CotEvent, chat_detail, event_xml, load_mapping, parse_xml
from sitcen.interop.tak import TakListener
from sitcen.node import Node
from sitcen.operations.notifications import NotificationFollower, notify_users, unread_count
from sitcen.operations.queue import QueueKeeper, chain_of
from sitcen.recompute import compute_risk
from sitcen.store.alerts import record_alerts
from sitcen.store.events import report_events
from sitcen.store.records import get_record
from sitcen.store.users import add_user, issue_token
from sitcen.testing import ServedNode, wait_until
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

DEVICE, CALLSIGN = "ANDROID-PANJ-2", "PANJ-2"


@dataclass
class Shift:
    url: str
    node: Node
    tak: TakListener
    served: ServedNode
    events: dict[str, str]
    alert_id: str
    section: str


@pytest.fixture(scope="module")
def shift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shift]:
    require_console()
    tmp = tmp_path_factory.mktemp("shift")
    node = Node.open(make_settings(f"sqlite:///{tmp / 'node.db'}", tmp))
    for username, role, name in (("duty", Role.duty_officer, "Officer Karimov"),
                                 ("duty2", Role.duty_officer, "Officer Saidova"),
                                 ("duty3", Role.duty_officer, "Officer Nazarov"),
                                 ("operator", Role.operator, "Post operator")):
        add_user(node.engine, username, TEST_PASSWORD, role, name)
    now = datetime.now(UTC)
    # Weeks of history (entered long ago: in no queue), for the risk table and the map.
    report_scenario(node, 0.03, seed=11, start=(now - timedelta(days=40)).date(),
                    until=now - timedelta(days=8))
    compute_risk(node.engine, node.settings.node_id)
    keeper = QueueKeeper(node.engine, chain_of(node.settings), poll_s=0.1)
    keeper.follow_once()  # the queue starts from what the node holds now
    follower = NotificationFollower(node.engine, node.settings.node_id, poll_s=0.1)
    follower.catch_up()
    keeper.start()
    follower.start()
    events = {}
    for name, minutes, changes in (
            ("old", 55, {}),
            ("crossing", 20, {"type": "green_border_crossing",
                              "location": {"lon": 68.55, "lat": 37.2},
                              "details": {"stage": "actual", "direction": "entry"}}),
            ("fresh", 4, {"location": {"lon": 68.7, "lat": 37.18}})):
        reported = now - timedelta(minutes=minutes)
        item = EventCreate.model_validate(report(reported_at=iso(reported),
                                                 occurred_at=iso(reported - timedelta(minutes=5)),
                                                 **changes))
        events[name] = report_events(node.engine, node.reporter, [item])[0].id
    (alert_id,) = record_alerts(node.engine, node.settings.node_id, [{
        "key": "early-warning:AF-TJ-004:shift", "section_id": "AF-TJ-004",
        "category": "cross_border_crime", "type": "drug_smuggling",
        "first_day": (now - timedelta(days=2)).date().isoformat(),
        "last_day": now.date().isoformat(), "severity": "high", "methods": ["cusum", "scan"],
        "observed": 11, "expected": 2.4, "p_value": 0.0004,
        "explanation": "11 drug seizures on AF-TJ-004 in 3 days against 2.4 usual",
        "event_ids": [events["old"]]}]).created
    tak = TakListener(node, load_mapping(None), tcp_port=0).start()
    with serving(node) as served:
        wait_until(lambda: len(_queue_ids(node)) == 3, what="the three reports in the queue")
        try:
            yield Shift(served.url, node, tak, served, events, alert_id, "AF-TJ-004")
        finally:
            tak.stop()
            keeper.stop()
            follower.stop()


def _queue_ids(node: Node) -> list[str]:
    from sitcen.operations.queue import queue_page

    return [i.event_id for i in queue_page(node.engine, chain_of(node.settings))]


def _page(browser: Any, shift: Shift, username: str, path: str) -> Any:
    page = log_in(new_context(browser), f"{shift.url}/#/{path}", username)
    expect(page.locator(".user")).to_be_visible()
    # The live stream is open: what happens from now on reaches the page (toasts, counts).
    expect(page.locator(".shell[data-live=on]")).to_have_count(1)
    return page


class Device:
    """The patrol's TAK device: a pytak client on a thread of its own, answering tasks."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.tasks: list[CotEvent] = []
        self.seen: list[str] = []
        self.answered = threading.Event()
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self.main, daemon=True)

    def main(self) -> None:
        try:
            asyncio.run(self.run())
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failed = exc
            self.connected.set()

    async def run(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pytak
        parser = ConfigParser()
        parser["client"] = {"COT_URL": self.url}
        config = parser["client"]
        reader, writer = await pytak.protocol_factory(config)
        tx = pytak.TXWorker(asyncio.Queue(), config, writer)
        rx = pytak.RXWorker(asyncio.Queue(), config, reader)
        now = datetime.now(UTC)
        await tx.send_data(event_xml(DEVICE, "a-f-G-U-C", 37.21, 68.58, time=now,
                                     stale=now + timedelta(minutes=10), callsign=CALLSIGN,
                                     token=self.token))
        self.connected.set()
        while not self.stop.is_set():
            try:
                data = await asyncio.wait_for(rx.readcot(), 0.5)
            except TimeoutError:
                continue
            event = parse_xml(bytes(data).strip())
            if isinstance(event, CotEvent):
                self.seen.append(f"{event.type}:{(event.remarks or '')[:20]}")
            task = (isinstance(event, CotEvent) and event.type == "b-t-f"
                    and (event.chat_from or "").startswith("sitcen"))
            if task and isinstance(event, CotEvent) and not self.answered.is_set():
                self.tasks.append(event)
                now = datetime.now(UTC)
                extra = chat_detail(sender_uid=DEVICE, sender_callsign=CALLSIGN,
                                    to_uid="sitcen", to_callsign="sitcen", text="ACK", at=now)
                await tx.send_data(event_xml(f"GeoChat.{DEVICE}.ack", "b-t-f", 37.21, 68.58,
                                             time=now, stale=now + timedelta(hours=1),
                                             extra=extra))
                self.answered.set()
        writer.close()


def test_a_duty_officers_shift(browser: Any, shift: Shift) -> None:
    node = shift.node
    page = _page(browser, shift, "duty", "queue")

    # --- The queue: a serious incident arrives and heads it, with a toast that stays.
    report_events(node.engine, node.reporter, [EventCreate.model_validate(report(
        type="armed_incident", details={"shots_fired": True, "injured": 1}, persons=[],
        transport=None, modus_operandi=[], reaction=[], location={"lon": 68.65, "lat": 37.21},
        description="Shots fired across the Panj at the ford"))])
    # (Another test's serious report may be told to every officer meanwhile: this one's.)
    toast = page.locator(".toast-card.serious", has_text="Armed incident")
    expect(toast).to_have_count(1)
    expect(page.locator(".bell-count")).to_have_text("1")
    rows = page.locator(".queue-list tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("SERIOUS")
    expect(rows.nth(1).locator(".wait")).to_have_class("wait wait-over")  # 55 min: overdue
    expect(rows.nth(3).locator(".wait")).to_have_class("wait wait-ok")
    expect(page.locator(".work-head .figures")).to_contain_text("1 over 30 min")
    shot(page, "queue")
    # Keyboard only: V validates the selected (serious) report, ↓ then R returns one with a
    # reason, X rejects one after a confirmation.
    page.locator(".queue-list").focus()
    page.keyboard.press("v")
    expect(page.locator(".notice.ok")).to_have_text("Validated and passed on.")
    expect(rows).to_have_count(3)
    page.locator(".queue-list").focus()
    page.keyboard.press("r")
    expect(page.locator("#queue-reason")).to_be_focused()
    page.keyboard.type("Nationality of the couriers missing")
    page.click(".reason-form button[type=submit]")
    expect(page.locator(".notice.ok")).to_have_text("Returned to the reporter for correction.")
    expect(rows).to_have_count(2)
    page.locator(".queue-list").focus()
    page.keyboard.press("x")
    page.keyboard.type("Duplicate of the report from the post")
    page.click(".reason-form button[type=submit]")
    expect(page.locator(".reason-form [role=alert]")).to_contain_text("Press again to confirm")
    page.click(".reason-form button[type=submit]")
    expect(page.locator(".notice.ok")).to_have_text("Rejected.")
    expect(rows).to_have_count(1)
    page.click(".tabs button:has-text('Returned for correction')")
    expect(page.locator(".queue-list tbody tr")).to_have_count(1)
    page.click(".tabs button:has-text('Time in queue')")
    expect(page.locator(".stats-grid")).to_contain_text("national")
    toast.locator(".close").click()
    expect(toast).to_have_count(0)

    # --- An alert: acknowledged, then closed as a false alarm.
    go_to(page, "alerts")
    card = page.locator(f"#alert-{shift.alert_id}")
    expect(card).to_contain_text("High alert on AF-TJ-004: 11")
    shot(page, "alerts")
    card.locator("button:has-text('Acknowledge')").click()
    expect(card.locator(".status-badge")).to_contain_text("Acknowledged: duty")
    card.locator("select[aria-label='Outcome']").select_option("false_alarm")
    card.locator("input[aria-label='Closing note']").fill("A wedding party at the ford")
    card.locator("button:has-text('Close')").click()
    expect(card).to_have_count(0)  # gone from the open alerts
    closed = get_record(node.engine, shift.alert_id)
    assert closed is not None and closed.body["outcome"] == "false_alarm"

    # --- A section level confirmed against the proposal, with a justification; a tick.
    page.goto(f"{shift.url}/#/levels?item={shift.section}")
    expect(page.locator(".queue-detail h3").first).to_have_text(shift.section)
    proposed = page.locator("#level-choice").input_value()
    other = "critical" if proposed != "critical" else "high"
    page.select_option("#level-choice", other)
    expect(page.locator(".level-form button[type=submit]")).to_be_disabled()
    # A notification while the officer decides makes the page read the level again: the
    # choice being made stays (it was once reset to the proposal under the officer's hands).
    with page.expect_response(lambda r: r.url.endswith(f"/sections/{shift.section}/level")):
        notify_users(node.engine, node.settings.node_id, ["duty"], kind="alert",
                     record_id=shift.alert_id, reason="assigned", key="while-deciding")
    expect(page.locator("#level-choice")).to_have_value(other)
    expect(page.locator(".level-form button[type=submit]")).to_be_disabled()
    page.fill("#level-justification", "Armed incident at the ford this morning")
    page.click(".level-form button[type=submit]")
    checklist = page.locator(".checklist li")
    expect(checklist.first).to_be_visible()
    checklist.first.locator("input[type=text], input.small").fill("Reserve group sent")
    checklist.first.locator("input[type=checkbox]").click()
    expect(checklist.first).to_have_class("done")
    expect(checklist.first).to_contain_text("Reserve group sent")
    shot(page, "levels")

    # --- A task for the patrol; its TAK device acknowledges it.
    token = issue_token(node.engine, "operator", 1)[0]
    device = Device(f"tcp://127.0.0.1:{shift.tak.tcp_port}", token)
    device.thread.start()
    assert device.connected.wait(30)
    wait_until(lambda: shift.tak.authenticated() >= 1, what="the device logged in")
    page.goto(f"{shift.url}/#/tasks?for=event:{shift.events['fresh']}")
    expect(page.locator("#task-event")).to_have_value(shift.events["fresh"])
    expect(page.locator(f"#task-unit option[value='{DEVICE}']")).to_have_count(1)
    page.select_option("#task-unit", DEVICE)
    page.select_option("#task-priority", "immediate")
    page.fill("#task-instructions", "Check the ford below the post, report in 30 min")
    page.click(".task-form button[type=submit]")
    assert device.answered.wait(30), (f"the device received no task ({device.failed!r}, "
                                      f"{device.seen}, {shift.tak.counters})")
    assert "Check the ford" in (device.tasks[0].remarks or "")
    acknowledged = page.locator(".col-acknowledged .task-card")
    expect(acknowledged).to_contain_text(CALLSIGN)
    acknowledged.click()
    expect(page.locator(".task-detail .history")).to_contain_text("TAK device")
    shot(page, "tasks")
    device.stop.set()
    device.thread.join(timeout=10)

    # --- The duty log and the handover.
    go_to(page, "log")
    page.click(".log-form label:has-text('call')")
    page.fill("#log-text", "Panj post: group of 6 seen at the ford at 05:40")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".log-entry").first).to_contain_text("group of 6")
    page.click(".log-form label:has-text('decision')")
    page.fill("#log-text", "Reserve group to the ford until 08:00")
    page.click(".log-form button[type=submit]")
    expect(page.locator(".log-entry")).to_have_count(2)
    page.click("button:has-text('Prepare the handover')")
    draft = page.locator(".handover-draft")
    expect(draft).to_contain_text("tasks not done")
    expect(draft).to_contain_text("2 log entries")
    page.fill("#handover-notes", "Ford quiet since 06:10; patrol PANJ-2 still there")
    shot(page, "handover")
    page.click("button:has-text('Hand over')")
    past = page.locator(".past-shift").first
    expect(past).to_contain_text("awaiting sign-off")
    expect(past.locator("button:has-text('Take over')")).to_have_count(0)  # not one's own
    page.context.close()

    # --- The next officer signs the handover off.
    nxt = _page(browser, shift, "duty2", "log")
    past = nxt.locator(".past-shift").first
    expect(past).to_contain_text("Ford quiet since 06:10")
    past.locator("button:has-text('Take over')").click()
    expect(nxt.locator(".past-shift").first).to_contain_text("duty2 ✓")
    shot(nxt, "duty-log")
    nxt.context.close()


def test_notification_settings(browser: Any, shift: Shift) -> None:
    page = _page(browser, shift, "duty2", "notifications")
    page.click("button:has-text('New subscription')")
    page.fill("#sub-name", "Panj: drugs and armed incidents")
    page.click(".subscription-form label:has-text('alerts')")
    page.fill("#sub-sections", "AF-TJ-*")
    page.check(".subscription-form label:has-text('Armed incident') input")
    page.check(".subscription-form label:has-text('Drug smuggling') input")
    page.fill("#sub-email", "duty2@border.example")
    page.check(".subscription-form label:has-text('Once a day') input")
    page.click(".subscription-form button[type=submit]")
    item = page.locator(".subscriptions li").first
    expect(item).to_contain_text("Panj: drugs and armed incidents")
    expect(item).to_contain_text("duty2@border.example (digest)")
    report_events(shift.node.engine, shift.node.reporter, [EventCreate.model_validate(
        report(location={"lon": 68.62, "lat": 37.2}))])
    expect(page.locator(".toast-card")).to_contain_text("Drug smuggling")
    expect(page.locator(".bell-count")).to_be_visible()
    page.reload()
    expect(page.locator(".notification-list li").first).to_contain_text("Drug smuggling")
    expect(page.locator(".bell-count")).to_have_count(0)  # read: opening the list marks it
    shot(page, "notifications")
    page.context.close()


def test_a_burst_of_notifications_reads_the_count_a_few_times(browser: Any,
                                                              shift: Shift) -> None:
    """Each notification on the stream used to send its own request for the bell's count:
    a burst of them filled the browser's request queue (net::ERR_INSUFFICIENT_RESOURCES)."""
    page = _page(browser, shift, "duty3", "map")
    counted = []
    page.on("request", lambda r: counted.append(r.url) if "notifications?limit=1" in r.url
            else None)
    burst = 80  # the bell shows up to 99
    node = shift.node
    for i in range(burst):
        notify_users(shift.node.engine, shift.node.settings.node_id, ["duty3"], kind="alert",
                     record_id=shift.alert_id, reason="assigned", key=f"burst:{i}")
    # Beside the burst, the serious incidents of the other tests (told to every officer).
    unread = unread_count(node.engine, node.settings.node_id, "duty3")
    assert unread >= burst
    expect(page.locator(".bell-count")).to_have_text(str(unread))
    # Read at most once a second: the burst takes a few seconds to write and stream, so a
    # handful of reads, never one per notification.
    assert 1 <= len(counted) < burst // 5, counted
    page.context.close()


def test_an_operator_sees_no_buttons_they_may_not_use(browser: Any, shift: Shift) -> None:
    page = _page(browser, shift, "operator", "queue")
    expect(page.locator(".queue-list")).to_be_visible()
    expect(page.locator(".decide")).to_have_count(0)
    page.goto(f"{shift.url}/#/alerts")
    expect(page.locator(".work-head")).to_contain_text("Alerts")
    expect(page.locator(".alert-actions")).to_have_count(0)
    page.goto(f"{shift.url}/#/tasks")
    expect(page.locator(".board")).to_be_visible()
    expect(page.locator("button:has-text('New task')")).to_have_count(0)
    page.goto(f"{shift.url}/#/log")
    expect(page.locator(".shift-page")).to_be_visible()
    expect(page.locator(".log-form")).to_have_count(0)
    page.context.close()


def test_the_consoles_permissions_mirror_the_nodes() -> None:
    """The console hides what a role may not do from a copy of the roles' permissions."""
    import re
    from pathlib import Path

    from sitcen.users import PERMISSIONS

    source = (Path(__file__).resolve().parent.parent / "frontend" / "src" / "api.ts").read_text()
    block = source.split("const PERMISSIONS", 1)[1].split("};", 1)[0]
    mirrored = {role: set(re.findall(r"'([a-z_]+)'", text))
                for role, text in re.findall(r"(\w+): \[([^\]]*)\]", block)}
    assert mirrored == {role.value: {p.value for p in permissions}
                        for role, permissions in PERMISSIONS.items()}
