"""The console with no link, on a phone (docs/field.md "Offline and installable").

A node is served on a free loopback port for the module; Debian's Chromium visits it at a
phone's size (390 x 844). The service worker must control the page before the link is
cut; with no link the post operator reports, reloads the page and still finds the console
and its outbox; when the link returns the node receives each report once, in order, with
its photo and without the photo's metadata. Playwright's offline switch covers the page and
its service worker alike.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from console_browser import (
    WAIT_MS,
    Site,
    expect,
    log_in,
    log_in_to_map,
    new_context,
    open_node,
    scenario_node,
    serious_violations,
    serve_site,
    serving,
    shot,
)
from sitcen.node import Node
from sitcen.operations.attachments import attachments_of
from sitcen.operations.tasks import TaskCreate, create_task, known_units, merged, responses_to
from sitcen.store.records import get_record, list_records, write_record
from sitcen.store.schema import events
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("browser")

PHONE = {"width": 390, "height": 844}
#: Where the phone says it is: a post on the Panj, with the accuracy its GPS claims.
HERE = {"longitude": 68.61, "latitude": 37.215, "accuracy": 12}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    node = scenario_node(tmp_path_factory.mktemp("offline"), (("operator", Role.operator),),
                         years=0.02, days=6, seed=11)
    yield from serve_site(node)


def _phone(browser: Any, **options: Any) -> Any:
    return new_context(browser, viewport=PHONE, has_touch=True, is_mobile=True,
                       geolocation=HERE, permissions=["geolocation"], **options)


def _photo_with_exif() -> bytes:
    """A camera-sized JPEG whose EXIF names the camera, the time and a GPS position."""
    from PIL import Image

    image = Image.new("RGB", (2400, 1800), (40, 90, 140))
    for x in range(0, 2400, 200):  # something to compress
        image.paste((200, 120, 40), (x, 0, x + 100, 1800))
    exif = Image.Exif()
    exif[0x010F] = "FieldCam"  # Make
    exif[0x0132] = "2026:12:06 08:15:00"  # DateTime
    exif[0x8825] = {1: "N", 2: (37.0, 12.0, 54.0), 3: "E", 4: (68.0, 36.0, 36.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """The marker segments of a JPEG up to its image data: (marker, payload)."""
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    found, at = [], 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF:
        marker = jpeg[at + 1]
        length = int.from_bytes(jpeg[at + 2:at + 4], "big")
        found.append((marker, jpeg[at + 4:at + 2 + length]))
        if marker == 0xDA:  # start of scan: image data follows
            break
        at += 2 + length
    return found


def _has_exif(jpeg: bytes) -> bool:
    return any(marker == 0xE1 or payload.startswith(b"Exif\0")
               for marker, payload in _segments(jpeg))


def _reported(node: Node, marker: str) -> list[dict[str, Any]]:
    """The events whose description starts with ``marker``, in the order the node stored them."""
    with node.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.id, events.c.body, events.c.lon, events.c.lat)
                            .order_by(events.c.recorded_at, events.c.id)).all()
    found = []
    for row in rows:
        body = json.loads(row.body)
        if str(body.get("description", "")).startswith(marker):
            found.append({"id": row.id, "lon": row.lon, "lat": row.lat, **body})
    return found


def task_status_history(node: Node, task_id: str) -> list[dict[str, Any]]:
    """A task's history as it stands on the node (its versions and the answers to it)."""
    task = get_record(node.engine, task_id)
    assert task is not None
    history = merged(task, responses_to(node.engine, [task_id]).get(task_id, []))["history"]
    return list(history)


def _outbox_photo(page: Any) -> bytes:
    """The bytes of the photo waiting in the outbox (IndexedDB), exactly as they will go."""
    values = page.evaluate("""() => new Promise((done, fail) => {
        const open = indexedDB.open('sitcen');
        open.onerror = () => fail(open.error);
        open.onsuccess = () => {
            const all = open.result.transaction('outbox').objectStore('outbox').getAll();
            all.onsuccess = async () => {
                const photo = all.result.find((i) => i.kind === 'attachment');
                done(Array.from(new Uint8Array(await photo.file.arrayBuffer())));
            };
        };
    })""")
    return bytes(values)


def _report(page: Any, type_: str, text: str, photo: bytes | None = None) -> None:
    """Fill in the phone's report form with the device's position and send it."""
    page.click(".report-button")
    form = page.locator(".report-form")
    expect(form).to_be_visible()
    page.select_option("#report-type", type_)
    page.click("#report-locate")
    expect(page.locator("#report-accuracy")).to_have_attribute("data-accuracy", "12")
    if photo is not None:
        page.set_input_files("#report-photo", files=[{
            "name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        expect(page.locator(".photo-preview img")).to_be_visible()
    page.fill("#report-description", text)
    page.click(".report-form button[type=submit]")
    expect(form).to_have_count(0)


def test_reports_made_offline_arrive_once_in_order_with_the_photo(browser: Any,
                                                                   site: Site) -> None:
    context = _phone(browser)
    page = log_in_to_map(context, site.url + "/", "operator")
    # The service worker controls the page and has kept what a start with no link needs.
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    expect(page.locator("html[data-offline-ready=yes]")).to_have_count(1)

    # At a phone's size the form's controls are large enough for a thumb.
    page.click(".report-button")
    page.click("#report-locate")
    expect(page.locator("#report-accuracy")).to_contain_text("± 12 m")
    for control in ("#report-type", "#report-locate", "#report-description",
                    ".report-form button[type=submit]", ".photo-button"):
        box = page.locator(control).bounding_box()
        assert box is not None and box["height"] >= 44, (control, box)
    shot(page, "report-phone")
    page.click(".report-form button[type=button]:has-text('Cancel')")

    context.set_offline(True)
    # The switch cuts the service worker's link too (what the reload below relies on).
    (worker,) = context.service_workers
    assert worker.evaluate("() => fetch('/api/v1/health').then(() => 'reached', () => 'cut')") \
        == "cut"
    expect(page.locator(".stale-note")).to_contain_text("offline — picture as of")
    photo = _photo_with_exif()
    assert _has_exif(photo)
    _report(page, "migrant_smuggling", "Offline report 1: group seen at the ford")
    _report(page, "suspicious_person", "Offline report 2: a man photographing the post",
            photo)
    _report(page, "damaged_border_sign", "Offline report 3: sign 114 knocked down")
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "4")  # three reports and a photo

    badge.click()
    expect(page.locator('.outbox-item[data-state="waiting"]')).to_have_count(4)
    shot(page, "outbox-phone")
    badge.click()
    # The photo as it waits to be sent: at most 1600 px, a JPEG without EXIF or GPS.
    sent = _outbox_photo(page)
    assert not _has_exif(sent) and b"FieldCam" not in sent
    from PIL import Image
    assert max(Image.open(io.BytesIO(sent)).size) == 1600
    # The form remembers the last type chosen.
    page.click(".report-button")
    expect(page.locator("#report-type")).to_have_value("damaged_border_sign")
    page.click(".report-form button[type=button]:has-text('Cancel')")

    # A reload with no link: the page comes from the service worker, the queue is still there.
    answer = page.reload()
    assert answer is not None and answer.from_service_worker
    expect(page.locator("#outbox-button")).to_have_attribute("data-waiting", "4")
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
    expect(page.locator(".stale-note")).to_contain_text("offline — picture as of")
    assert _reported(site.node, "Offline report") == []

    context.set_offline(False)
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "0")
    expect(badge).to_have_attribute("data-delivered", "4")
    expect(badge).to_have_attribute("data-failed", "0")
    expect(page.locator(".stale-note")).to_have_count(0)

    reported = _reported(site.node, "Offline report")
    assert [e["description"][:16] for e in reported] == [
        "Offline report 1", "Offline report 2", "Offline report 3"]
    assert [e["type"] for e in reported] == [
        "migrant_smuggling", "suspicious_person", "damaged_border_sign"]
    first = reported[0]
    assert (first["lon"], first["lat"]) == (68.61, 37.215)
    assert first["location"]["precision_m"] == 12
    # Only what was set went on the wire.
    assert "details" not in first or not first["details"]

    (attached,) = attachments_of(site.node.engine, reported[1]["id"])
    assert attached.body["original_sha256"] == hashlib.sha256(sent).hexdigest()
    assert "exif" not in attached.body["stripped"] and "gps" not in attached.body["stripped"]
    assert "location" not in attached.body
    assert attached.body["image"]["width"] == 1600
    assert attachments_of(site.node.engine, reported[0]["id"]) == []
    assert attachments_of(site.node.engine, reported[2]["id"]) == []
    context.close()


def test_a_report_whose_answer_was_lost_is_stored_once(browser: Any, site: Site) -> None:
    # Without the service worker, so that the page's own requests can be intercepted.
    context = new_context(browser, service_workers="block")
    page = log_in_to_map(context, site.url + "/", "operator")
    keys: list[str] = []
    answered: list[int] = []
    losing = [True]
    in_flight = [0]

    def lose_the_answer(route: Any) -> None:
        """The node gets the report and answers; the answer never reaches the browser."""
        if route.request.method != "POST" or not losing[0]:
            route.continue_()
            return
        in_flight[0] += 1
        try:
            keys.append(route.request.headers["idempotency-key"])
            answered.append(route.fetch().status)
            route.abort("connectionreset")
        finally:
            in_flight[0] -= 1

    # The handler stays routed to the end: unrouting it while a try is in flight let that
    # try's abort race Playwright's own hand-over ("Route is already handled!", CI).
    page.route("**/api/v1/events", lose_the_answer)
    page.click(".report-button")
    page.select_option("#report-type", "suspicious_vehicle")
    page.fill("#report-lon", "68.62")
    page.fill("#report-lat", "37.21")
    page.fill("#report-description", "Lost answer: a truck waiting at night")
    page.click(".report-form button[type=submit]")
    # The console's own retries failed too: the report waits in the outbox.
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "1")
    assert answered[0] == 201
    assert len(_reported(site.node, "Lost answer")) == 1

    # The outbox's own first try may still be on its way: the link comes back once no try
    # is in flight (handlers run only while this test waits, so none starts in between).
    deadline = time.monotonic() + WAIT_MS / 1000
    while in_flight[0] and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert not in_flight[0]
    losing[0] = False
    # The link is back (the browser says so): the outbox sends the same request again.
    page.evaluate("() => dispatchEvent(new Event('online'))")
    expect(badge).to_have_attribute("data-delivered", "1")
    expect(badge).to_have_attribute("data-waiting", "0")
    assert len(set(keys)) == 1, "every try carried the same Idempotency-Key"
    assert len(_reported(site.node, "Lost answer")) == 1
    context.close()


def test_a_refused_change_is_shown_and_removable(browser: Any, site: Site) -> None:
    # No service worker here; the CSP is bypassed for axe-core's script.
    context = _phone(browser, service_workers="block", bypass_csp=True)
    page = log_in_to_map(context, site.url + "/", "operator")
    context.set_offline(True)
    expect(page.locator(".stale-note")).to_have_text(
        re.compile(r"offline — picture as of \d{4}-\d\d-\d\d \d\d:\d\d UTC\+5, just now"))
    # With no link the form cannot check the place: the node will.
    page.click(".report-button")
    page.select_option("#report-type", "suspicious_vehicle")
    page.fill("#report-description", "Refused: no place given")
    assert serious_violations(page) == []
    page.click(".report-form button[type=submit]")
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "1")
    context.set_offline(False)
    expect(badge).to_have_attribute("data-failed", "1")
    expect(page.locator(".stale-note")).to_have_count(0)
    badge.click()
    item = page.locator('.outbox-item[data-state="failed"]')
    expect(item.locator(".error")).to_contain_text("422")
    assert serious_violations(page) == []
    item.locator("button").click()
    expect(page.locator("#outbox-button")).to_have_count(0)
    assert _reported(site.node, "Refused") == []
    context.close()


def test_a_follow_up_made_offline_is_sent_when_the_link_returns(browser: Any,
                                                                 site: Site) -> None:
    context = new_context(browser, service_workers="block")
    page = log_in_to_map(context, site.url + "/", "operator")
    row = page.locator(".event-row").first
    event_id = row.get_attribute("data-event-id")
    row.click()
    expect(page.locator("#comment-text")).to_be_visible()
    context.set_offline(True)
    page.fill("#comment-text", "Offline follow-up: the group turned back")
    page.click("form.comment button[type=submit]")
    expect(page.locator(".panel")).to_contain_text("kept in the outbox")
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "1")
    context.set_offline(False)
    expect(badge).to_have_attribute("data-delivered", "1")
    texts = [a.body.get("text") for a in list_records(site.node.engine, "event_action",
                                                       subject=event_id)]
    assert texts.count("Offline follow-up: the group turned back") == 1
    context.close()


def test_a_task_status_set_offline_is_sent_when_the_link_returns(browser: Any,
                                                                 site: Site) -> None:
    node = site.node
    write_record(node.engine, "asset_position",
                 {"asset_id": "panj-offline", "kind": "patrol", "name": "Panj patrol 7",
                  "status": "active", "location": {"lon": 68.6, "lat": 37.22},
                  "at": datetime.now(UTC).isoformat(), "handling": "AMBER"},
                 node_id=node.settings.node_id)
    task = create_task(
        node.engine, node.settings.node_id, node.reporter.sections,
        TaskCreate.model_validate({"unit_id": "panj-offline", "target": {
            "kind": "point", "location": {"lon": 68.61, "lat": 37.215}}}),
        by="duty", units=known_units(node.engine, {}))
    context = new_context(browser, service_workers="block")
    page = log_in(context, site.url + f"/#/tasks?item={task.id}", "operator")
    detail = page.locator(".task-detail")
    expect(detail.locator("h3").first).to_contain_text("Panj patrol 7 · assigned")
    context.set_offline(True)
    detail.locator("button", has_text="En route").click()
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "1")
    context.set_offline(False)
    expect(badge).to_have_attribute("data-delivered", "1")
    statuses = [h["status"] for h in task_status_history(node, task.id)]
    assert statuses.count("en_route") == 1
    context.close()


def _noisy_photo() -> bytes:
    """A photo of noise (800 x 600): some 250 KB however it is compressed, four chunks."""
    import os

    from PIL import Image

    image = Image.frombytes("RGB", (800, 600), os.urandom(800 * 600 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_photo_cut_off_mid_way_is_resumed_and_arrives_once(browser: Any, site: Site) -> None:
    """The link drops after the photo's first chunk: when it returns, the outbox asks the
    node how much it holds and sends only the rest; one report, one whole photo."""
    # Without the service worker, so that the page's own requests can be intercepted.
    context = _phone(browser, service_workers="block")
    page = log_in_to_map(context, site.url + "/", "operator")
    received: dict[int, bytes] = {}  # the chunks that reached the node, by offset
    sent_after_cut: list[int] = []
    cut_at: list[int] = []

    def drop_the_second_chunk(route: Any) -> None:
        request = route.request
        if request.method != "PATCH":
            route.continue_()
            return
        offset, chunk = int(request.headers["upload-offset"]), request.post_data_buffer
        if offset > 0 and not cut_at:
            cut_at.append(offset)
            route.abort("internetdisconnected")
            return
        if cut_at:
            sent_after_cut.append(len(chunk))
        received[offset] = chunk
        route.continue_()

    page.route("**/api/v1/uploads/*", drop_the_second_chunk)
    with page.expect_event("requestfailed", lambda r: r.method == "PATCH"):
        _report(page, "suspicious_vehicle", "Resumed photo: a truck by the ford",
                _noisy_photo())
    badge = page.locator("#outbox-button")
    expect(badge).to_have_attribute("data-waiting", "1")  # the photo; the report went
    assert cut_at == [64 * 1024]
    (event,) = _reported(site.node, "Resumed photo")
    assert attachments_of(site.node.engine, event["id"]) == []

    page.evaluate("() => dispatchEvent(new Event('online'))")  # the link is back
    expect(badge).to_have_attribute("data-delivered", "1")
    expect(badge).to_have_attribute("data-waiting", "0")
    whole = b"".join(received[offset] for offset in sorted(received))
    assert sorted(received)[:2] == [0, 64 * 1024]  # resumed where the node stood
    assert sum(sent_after_cut) == len(whole) - cut_at[0]  # only the rest went again
    assert len(_reported(site.node, "Resumed photo")) == 1
    (attached,) = attachments_of(site.node.engine, event["id"])
    assert attached.body["original_sha256"] == hashlib.sha256(whole).hexdigest()
    context.close()


def test_a_new_build_waits_for_the_operator(browser: Any, tmp_path: Path) -> None:
    """Build A is served and installed; the node then serves build B (another worker and
    page). The open console finds it at its next update check, says a new version is ready
    and keeps the form being typed; only the operator's click reloads into build B."""
    import shutil

    from sitcen.api import console

    served_dir = tmp_path / "console"
    shutil.copytree(console.console_dir(), served_dir)
    node = open_node(tmp_path / "node", (("operator", Role.operator),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(console, "console_dir", lambda: served_dir)
        with serving(node) as served:
            context = _phone(browser)
            page = log_in_to_map(context, served.url + "/", "operator")
            page.wait_for_function("() => !!navigator.serviceWorker.controller")
            page.click(".report-button")
            page.fill("#report-description", "Typed while a new build arrives")

            # Build B: a page that says so, and a worker whose precache names it.
            index = served_dir / "index.html"
            index.write_text(index.read_text(encoding="utf-8").replace(
                "<head>", '<head><meta name="sitcen-build" content="B">'), encoding="utf-8")
            worker = served_dir / "sw.js"
            worker.write_text(re.sub(r'url:"/",revision:"[^"]*"', 'url:"/",revision:"build-b"',
                                     worker.read_text(encoding="utf-8")), encoding="utf-8")
            page.evaluate("() => navigator.serviceWorker.getRegistration()"
                          ".then((r) => r.update())")
            bar = page.locator("#update-bar")
            expect(bar).to_contain_text("A new version of the console is ready.")
            # Nothing was reloaded under the operator's hands.
            expect(page.locator("#report-description")).to_have_value(
                "Typed while a new build arrives")
            assert page.locator('meta[name="sitcen-build"]').count() == 0

            # The operator finishes with the form (on a phone it covers the page), then
            # takes the new version.
            page.click(".report-form button[type=button]:has-text('Cancel')")
            page.click("#update-reload")
            expect(page.locator('meta[name="sitcen-build"]')).to_have_attribute("content", "B")
            expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
            expect(page.locator("#update-bar")).to_have_count(0)
            context.close()
