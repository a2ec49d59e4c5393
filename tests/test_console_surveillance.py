"""Green-border surveillance in Debian's Chromium driven by Playwright, on the demo's Panj
ford (demo/surveillance.py and demo/cameras.py seeded into a fresh node): the event panel of
a proposed incident lists its evidence with the camera snapshot shown to a duty officer and
withheld from an operator; a drone's track and sensor footprint on the map; the sensor
health layer with the silent sensor marked (docs/surveillance.md, docs/cameras-drones.md)."""

from __future__ import annotations

from collections.abc import Iterator
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
    serve_site,
    shot,
)
from sitcen.demo.cameras import FLIGHT_ID, FORD, seed_camera_and_drone
from sitcen.demo.surveillance import seed_surveillance
from sitcen.operations.incidents import evidence_of
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

