"""Green-border surveillance in Debian's Chromium driven by Playwright, on the demo's Panj
ford (demo/surveillance.py and demo/cameras.py seeded into a fresh node): the event panel of
a proposed incident lists its evidence with the camera snapshot shown to a duty officer and
withheld from an operator, and a duty officer takes a piece out of an incident with a
reason (an operator may not); a drone's track and sensor footprint on the map; the sensor
health layer with the silent sensor marked (docs/surveillance.md, docs/cameras-drones.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console_browser import (
    Site,
    expect,
    log_in,
    log_in_to_map,
    new_context,
    open_node,
    require_console,
    serious_violations,
    serve_site,
    shot,
)
from sitcen.demo.cameras import FLIGHT_ID, FORD, seed_camera_and_drone
from sitcen.demo.surveillance import seed_surveillance
from sitcen.operations.incidents import evidence_of, ungroup
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

#: The map over the ford, close enough to tell the sensors apart.
AT_FORD = f"14/{FORD[1] - 0.001}/{FORD[0]}"
#: The map over the end of the demo drone's flight along the river (demo/cameras.py).
OVER_FLIGHT = f"14/{FORD[1] + 0.021}/{FORD[0] + 0.031}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_console()
    node = open_node(tmp_path_factory.mktemp("surveillance"),
                     [("duty", Role.duty_officer), ("operator", Role.operator)])
    seed_surveillance(node)
    seed_camera_and_drone(node)
    yield from serve_site(node)


def _incident_with_snapshot(site: Site) -> str:
    """The id of the proposed event whose evidence holds a camera snapshot."""
    groupings = list_records(site.node.engine, RecordKind.event_action, limit=5000)
    for event_id in {g.body["event_id"] for g in groupings if g.body.get("action") == "group"}:
        evidence = evidence_of(site.node.engine, event_id)
        if any(a["body"].get("camera_snapshot") for p in evidence for a in p["attachments"]):
            return str(event_id)
    raise AssertionError("the demo proposed no incident with a camera snapshot as evidence")


def test_the_incident_panel_shows_evidence_and_the_snapshot(browser: Any, site: Site) -> None:
    event_id = _incident_with_snapshot(site)
    context = new_context(browser, "en")
    page = log_in(context, f"{site.url}/#/map?event={event_id}", "duty")
    evidence = page.locator("#incident-evidence")
    expect(evidence).to_be_visible()
    expect(evidence.locator("li[data-kind=sensor_detection]").first).to_contain_text(
        "Sensor detection")
    expect(evidence).to_contain_text("First piece of the incident")
    snapshot = evidence.locator("img").first
    expect(snapshot).to_be_visible()
    # The picture really came: the browser decoded the thumbnail the node served.
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#incident-evidence img')];"
        " return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0); }")
    page.locator("#incident-evidence-title").evaluate("(h) => h.scrollIntoView()")
    shot(page, "incident-evidence")
    context.close()

    # An operator does not read personal data: told the snapshot is withheld, no picture,
    # and the node refuses the bytes too.
    context = new_context(browser, "ru")
    page = log_in(context, f"{site.url}/#/map?event={event_id}", "operator")
    evidence = page.locator("#incident-evidence")
    expect(evidence.locator(".snapshot-withheld").first).to_contain_text(
        "персональные данные")
    expect(evidence).to_contain_text("Срабатывание датчика")
    assert evidence.locator("img").count() == 0
    thumbnail = next(a["thumbnail_url"] for p in evidence_of(site.node.engine, event_id)
                     for a in p["attachments"] if a["body"].get("camera_snapshot"))
    status = page.evaluate("(url) => fetch(url).then((r) => r.status)", thumbnail)
    assert status == 403
    context.close()


def test_a_drone_flight_shows_its_track_and_footprint(browser: Any, site: Site) -> None:
    [flight] = list_records(site.node.engine, RecordKind.asset_position, subject=FLIGHT_ID)
    context = new_context(browser, "en")
    page = log_in_to_map(context, f"{site.url}/#/map?layers=sections,assets&map={OVER_FLIGHT}",
                         "duty")
    # The flight's track and its footprint, both drawn; the drone itself, not flagged.
    page.wait_for_function(
        "(id) => { const f = window.sitcenMap.queryRenderedFeatures({layers: ['tracks']})"
        ".filter((x) => x.properties.id === id);"
        " return f.some((x) => x.properties.footprint === 1)"
        " && f.some((x) => x.properties.footprint === 0); }", arg=flight.id)
    drone = page.evaluate(
        "(id) => window.sitcenMap.queryRenderedFeatures({layers: ['assets']})"
        ".filter((x) => x.properties.id === id).map((x) => x.properties.flagged)", flight.id)
    assert drone == [0]
    expect(page.locator(".legend")).to_contain_text("Drone sensor footprint")
    shot(page, "drone-footprint")
    context.close()


def test_the_health_layer_marks_the_silent_sensor(browser: Any, site: Site) -> None:
    context = new_context(browser, "en")
    page = log_in_to_map(context, f"{site.url}/#/map?layers=sections,health&map={AT_FORD}",
                         "duty")
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['health']})"
        ".some((x) => x.properties.condition === 'silent')")
    conditions = page.evaluate(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['health']})"
        ".map((x) => [x.properties.tip, x.properties.condition])")
    silent = [tip for tip, condition in conditions if condition == "silent"]
    assert any("tj-panj-seis-12" in tip or "Сейсмодатчик у брода 12" in tip for tip in silent), \
        conditions
    assert any(condition == "ok" for _, condition in conditions), conditions
    expect(page.locator(".legend .health-silent")).to_be_visible()
    shot(page, "sensor-health")
    context.close()



@pytest.fixture
def own_site(tmp_path: Path) -> Iterator[Site]:
    """A node of its own for a test that changes the incident (the module's site keeps the
    demo's incident whole for the others and their screenshots)."""
    require_console()
    node = open_node(tmp_path, [("duty", Role.duty_officer), ("operator", Role.operator)])
    seed_surveillance(node)
    seed_camera_and_drone(node)
    yield from serve_site(node)


def _fence_pieces(site: Site, event_id: str) -> list[dict[str, Any]]:
    """The pieces of the incident a duty officer may take out that have no snapshot."""
    return [p for p in evidence_of(site.node.engine, event_id)
            if p["rule"] is not None and not p["attachments"]]


def _ungroup_actions(site: Site, event_id: str) -> list[dict[str, Any]]:
    return [a.body for a in list_records(site.node.engine, RecordKind.event_action,
                                         subject=event_id, limit=5000)
            if a.body.get("action") == "ungroup"]


def test_the_duty_officer_takes_a_piece_out_of_an_incident(browser: Any, own_site: Site,
                                                            ) -> None:
    site = own_site
    event_id = _incident_with_snapshot(site)
    piece, other = _fence_pieces(site, event_id)[:2]
    # An operator may not change an event: the evidence, no button to take a piece out.
    context = new_context(browser, "en")
    page = log_in(context, f"{site.url}/#/map?event={event_id}", "operator")
    expect(page.locator("#incident-evidence li").first).to_be_visible()
    assert page.locator("#incident-evidence button.ungroup").count() == 0
    context.close()

    context = new_context(browser, "en", bypass_csp=True)
    page = log_in(context, f"{site.url}/#/map?event={event_id}", "duty")
    evidence = page.locator("#incident-evidence")
    pieces = evidence.locator("ol.evidence > li")
    expect(pieces.first).to_be_visible()
    before = pieces.count()
    # Only the pieces matched by a rule can be taken out, not the one the incident began with.
    expect(evidence.locator("button.ungroup")).to_have_count(before - 1)
    button = page.locator(f"#ungroup-{piece['grouping_id']}")
    # What the button says first, then which piece: a screen reader hears both.
    expect(button).to_have_accessible_name(
        f"Take out of the incident: Sensor detection {piece['source']}")
    button.focus()
    page.keyboard.press("Enter")
    reason = page.locator("#ungroup-reason")
    expect(reason).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "true")
    send = evidence.get_by_role("button", name="Take it out")
    expect(send).to_be_disabled()  # no reason, no undoing
    # Escape closes the form and gives the focus back; the panel stays open.
    page.keyboard.press("Escape")
    expect(reason).to_have_count(0)
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(reason).to_be_focused()  # the form takes the focus once it is drawn: type there
    page.keyboard.type("Кабан у брода, не человек: видно на записи камеры")
    expect(send).to_be_enabled()
    assert serious_violations(page) == []
    page.locator("#incident-evidence-title").evaluate("(h) => h.scrollIntoView()")
    shot(page, "incident-ungroup")
    send.click()
    # The piece is gone from what the node lists; the panel says so and keeps the reason.
    expect(pieces).to_have_count(before - 1)
    expect(page.locator(f"#ungroup-{piece['grouping_id']}")).to_have_count(0)
    expect(evidence.get_by_role("status")).to_contain_text("was taken out of the incident")
    expect(page.locator("#incident-evidence-title")).to_be_focused()
    expect(page.locator(".history .action-ungroup")).to_contain_text(
        "Taken out of the incident: Кабан у брода, не человек")
    [undone] = _ungroup_actions(site, event_id)
    assert undone["grouping_id"] == piece["grouping_id"] and undone["by"] == "duty"
    assert undone["text"] == "Кабан у брода, не человек: видно на записи камеры"
    assert piece["grouping_id"] not in {p["grouping_id"] for p in
                                        evidence_of(site.node.engine, event_id)}
    expect(page.locator("#incident-evidence img").first).to_be_visible()  # the rest stays
    assert serious_violations(page) == []

    # Another officer undid a piece meanwhile: the node's refusal, in words, in the form.
    page.locator(f"#ungroup-{other['grouping_id']}").click()
    reason.fill("Дубль")
    ungroup(site.node.engine, site.node.settings.node_id, event_id, other["grouping_id"],
            by="duty2", text="ошибка группировки")
    send.click()
    expect(evidence.get_by_role("alert")).to_contain_text("this grouping was undone by duty2")
    context.close()
