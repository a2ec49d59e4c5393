"""The cooperation screens in a real browser, over two real nodes linked on loopback.

The Tajik national centre's liaison officer writes a request with a photo attached; it
crosses to the Kyrgyz national centre, whose liaison officer answers it and writes in its
thread; back in Dushanbe the answer and the thread are on screen. The directory and a
joint operation (with the map filtered to it) are screenshotted for docs/console.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TEST_PASSWORD, iso
from console_browser import expect, go_to, log_in, new_context, require_console, shot
from federation_nodes import LinkedNodes, push_once
from sitcen.exchange.links import Relation, add_agreement
from sitcen.exchange.sender import LinkSender
from sitcen.node import Node
from sitcen.operations.directory import (
    ContactPointCreate,
    OrganisationCreate,
    save_contact_point,
    save_organisation,
)
from sitcen.store.users import add_user
from sitcen.users import Role
from test_attachments import jpeg_with_gps
from test_federation_cooperation import KINDS, PEER

pytestmark = pytest.mark.xdist_group("browser")


@dataclass
class Centre:
    node: Node
    url: str
    sender: LinkSender

    def push(self) -> None:
        push_once(self.sender)


@pytest.fixture(scope="module")
def centres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Centre]]:
    require_console()
    tmp = tmp_path_factory.mktemp("coop")
    found: dict[str, Centre] = {}
    with LinkedNodes(tmp) as nodes:
        for name in ("tj-ncc", "kg-ncc"):
            linked = nodes.start(name, f"sqlite:///{tmp / (name + '.db')}")
            for username, role in (("liaison", Role.liaison), ("duty", Role.duty_officer),
                                   ("operator", Role.operator)):
                add_user(linked.node.engine, username, TEST_PASSWORD, role,
                         f"{role.value} ({name})")
            found[name] = Centre(linked.node, linked.url, linked.new_sender())
        for src, dst in (("tj-ncc", "kg-ncc"), ("kg-ncc", "tj-ncc")):
            nodes.link(src, dst, Relation.peer, other_name=f"{dst[:2].upper()} centre")
            add_agreement(found[src].node.engine, PEER.format(src=src, dst=dst, kinds=KINDS),
                          own_node_id=src)
        yield found


def _page(browser: Any, centre: Centre, username: str, path: str) -> Any:
    return log_in(new_context(browser), f"{centre.url}/#/{path}", username)


def _login(centre: Centre, username: str) -> dict[str, str]:
    answer = httpx.post(f"{centre.url}/api/v1/auth/login",
                        json={"username": username, "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_request_with_a_photo_is_answered_from_the_other_side(
        browser: Any, centres: dict[str, Centre], tmp_path: Path) -> None:
    tj, kg = centres["tj-ncc"], centres["kg-ncc"]
    photo = tmp_path / "courier.jpg"
    photo.write_bytes(jpeg_with_gps())
    asking = _page(browser, tj, "liaison", "requests")
    asking.click("#new-request")
    asking.select_option("#rq-to", "kg-ncc")
    asking.fill("#rq-title", "Couriers near Isfara")
    asking.fill("#rq-text", "Two men crossed near Isfara on foot last night. Known to you?")
    asking.select_option("#rq-priority", "urgent")
    asking.set_input_files("#rq-files", str(photo))
    asking.click("#request-form button[type=submit]")
    detail = asking.locator("article.request")
    expect(detail).to_have_attribute("data-status", "sent")
    expect(detail.locator(".files img")).to_be_visible()
    expect(detail.locator(".files")).to_contain_text("GPS tags removed")
    tj.push()

    answering = _page(browser, kg, "liaison", "requests")
    row = answering.locator(".request-list .row", has_text="Couriers near Isfara")
    expect(row).to_be_visible()
    row.click()
    answer = answering.locator("article.request")
    expect(answer.locator(".files img")).to_be_visible()  # the photo crossed too
    answering.select_option("#rs-action", "acknowledge")
    answering.click("#response-form button[type=submit]")
    expect(answer.locator(".responses [data-action=acknowledge]")).to_be_visible()
    answering.select_option("#rs-action", "answer")
    answering.fill("#rs-text", "Both known: couriers of the Batken group, seen twice in May.")
    answering.click("#response-form button[type=submit]")
    expect(answer).to_have_attribute("data-status", "answered")
    answering.fill(f"#msg-{answer.get_attribute('data-id')}", "@liaison@tj-ncc call us on the "
                   "BLO line if they cross again")
    answering.click(".thread button[type=submit]")
    expect(answer.locator(".messages li")).to_have_count(1)
    answering.locator("article.request").evaluate("e => e.scrollIntoView()")
    shot(answering, "requests", height=1180)
    kg.push()

    # Back in Dushanbe the page follows the live stream: answer and thread appear.
    expect(detail).to_have_attribute("data-status", "answered", timeout=20_000)
    expect(detail.locator(".responses [data-action=answer]")).to_contain_text("Batken group")
    expect(detail.locator(".messages li[data-origin=kg-ncc]")).to_contain_text("BLO line")
    # An operator there reads it but has no buttons to answer or send requests.
    reader = _page(browser, tj, "operator", "requests")
    reader.click("text=Outbox")
    reader.locator(".request-list .row").first.click()
    expect(reader.locator("article.request")).to_be_visible()
    expect(reader.locator("#new-request")).to_have_count(0)
    expect(reader.locator("#response-form")).to_have_count(0)


def test_directory_and_a_joint_operation_on_the_map(browser: Any,
                                                    centres: dict[str, Centre]) -> None:
    kg, tj = centres["kg-ncc"], centres["tj-ncc"]
    engine, node_id = kg.node.engine, kg.node.settings.node_id
    agency = save_organisation(engine, node_id, OrganisationCreate.model_validate({
        "name": "Border Service of the State Committee for National Security",
        "short_name": "PS GKNB", "agency_type": "border_guard", "country": "KG"}), by="duty")
    blo = save_organisation(engine, node_id, OrganisationCreate.model_validate({
        "name": "Batken border liaison office", "agency_type": "border_guard",
        "unit_kind": "border_liaison_office", "parent_id": agency.id, "country": "KG",
        "counterpart": {"name": "Isfara border liaison office", "country": "TJ"}}), by="duty")
    save_contact_point(engine, node_id, ContactPointCreate.model_validate({
        "organisation_id": blo.id, "role": "Duty officer", "phones": ["+996 3622 5 00 00"],
        "radio_callsign": "BATKEN-1", "languages": ["ky", "ru", "tg"],
        "person": {"name": "Asanov Bakyt", "phones": ["+996 555 000 000"]}}), by="duty")
    page = _page(browser, kg, "duty", "directory")
    page.fill("#directory-q", "batken")
    expect(page.locator(".organisation")).to_have_count(1)
    expect(page.locator(f".organisation[data-id='{blo.id}'] .contacts")).to_contain_text(
        "Asanov Bakyt")
    expect(page.locator(".pairs")).to_contain_text("Isfara border liaison office")
    shot(page, "directory")
    operator = _page(browser, kg, "operator", "directory")
    operator.fill("#directory-q", "batken")
    contact = operator.locator(f".organisation[data-id='{blo.id}'] .contacts")
    expect(contact).to_contain_text("name withheld")
    expect(contact).not_to_contain_text("Asanov")
    expect(operator.locator("text=Agency or unit")).to_have_count(0)

    start = datetime.now(UTC) - timedelta(days=2)
    headers = _login(kg, "duty")
    period = {"starts_at": iso(start), "ends_at": iso(start + timedelta(days=10))}
    created = httpx.post(f"{kg.url}/api/v1/operations", headers=headers, json={
        "name": "Batken-Isfara 2026", "sections": ["KG-TJ-007", "KG-TJ-008"],
        "countries": ["KG", "TJ"], "starts_at": iso(start), "ends_at": iso(start + timedelta(
            days=10)),
        "participants": [{"node": "kg-ncc", "name": "Border Service", "country": "KG"},
                         {"node": "tj-ncc", "name": "Border Troops", "country": "TJ"}],
        "resources": [{"id": "uaz-2", "kind": "asset", "name": "UAZ patrol vehicle",
                       "node": "kg-ncc", "home_unit": "Batken detachment", **period},
                      {"id": "tj-team-3", "kind": "team", "name": "Mobile team 3", "people": 6,
                       "node": "tj-ncc", "home_unit": "Isfara detachment", **period}],
        "objectives": [{"id": "o1", "text": "20 joint patrols", "indicator": "patrols",
                        "target": 20}]})
    assert created.status_code == 201, created.text
    # The deployed vehicle reports where it is, and a patrol not in the operation too.
    for asset_id, name, lon in (("uaz-2", "UAZ patrol vehicle", 70.62), ("kg-p-9", "Patrol 9",
                                                                        70.55)):
        placed = httpx.post(f"{kg.url}/api/v1/assets/positions", headers=headers, json={
            "asset_id": asset_id, "kind": "vehicle", "name": name, "at": iso(datetime.now(UTC)),
            "location": {"lon": lon, "lat": 39.92}})
        assert placed.status_code in (200, 201), placed.text
    # The Tajik participant's report of the day arrives before the merge.
    kg.push()
    operation_id = created.json()["id"]
    reported = httpx.post(f"{tj.url}/api/v1/operations/{operation_id}/reports",
                          headers=_login(tj, "duty"), json={
                              "day": datetime.now(UTC).date().isoformat(),
                              "counts": {"patrols": 2, "persons_checked": 31},
                              "remarks": "Mobile team 3 at the Isfara crossing"})
    assert reported.status_code == 201, reported.text
    tj.push()
    go_to(page, "operations")
    page.locator(".request-list .row", has_text="Batken-Isfara 2026").click()
    page.fill("#dr-patrols", "3")
    page.fill("#dr-remarks", "Joint patrol at Kyzyl-Bel")
    page.click("#daily-report button[type=submit]")
    expect(page.locator(".report-day")).to_contain_text("Joint patrol at Kyzyl-Bel")
    expect(page.locator(".report-day")).to_contain_text("Isfara crossing")
    page.locator(".report-day button").first.click()  # merge the day
    expect(page.locator(".report-day .scope-merged")).to_be_visible()
    expect(page.locator(".objectives")).to_contain_text("5 / 20")
    page.locator("article.operation, #operations-page .detail").first.evaluate(
        "e => e.scrollIntoView()")
    shot(page, "operation", height=1240)
    page.click("#show-on-map")
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible(timeout=20_000)
    assert "section=KG-TJ-007,KG-TJ-008" in page.url and "w=custom" in page.url
    # The vehicle the operation deploys is ringed; the other patrol is not counted.
    expect(page.locator(".legend span.deployed")).to_have_attribute("data-deployed", "1")
    expect(page.locator(".legend span.deployed")).to_contain_text("Batken-Isfara 2026")
