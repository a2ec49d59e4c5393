"""The operator console in a real browser (Debian's Chromium driven by Playwright).

One node on SQLite with a few weeks of synthetic activity is served on a free
loopback port for the whole module; each test opens fresh browser contexts on
it. One test records every request the main screens make and checks that none
left 127.0.0.1. Screenshots of the main screens go to docs/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import TEST_PASSWORD
from console_browser import (
    Site,
    expect,
    log_in_to_map,
    new_context,
    scenario_node,
    serve_site,
    shot,
    write_patrol,
)
from sitcen.demo.scenario import live_events
from sitcen.events import EventCreate
from sitcen.store.events import report_events
from sitcen.testing import CHROMIUM
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    node = scenario_node(tmp_path_factory.mktemp("console"),
                         (("duty", Role.duty_officer), ("operator", Role.operator)),
                         years=0.06, days=22, seed=7)
    for i, (lon, lat) in enumerate([(68.60, 37.22), (68.65, 37.21), (68.70, 37.20)]):
        write_patrol(node, f"panj-{i}", f"Panj patrol {i}",
                     [(lon + step / 50, lat) for step in range(3)], minutes_ago=10)
    yield from serve_site(node)


def _login(context: Any, site: Site, username: str, path: str = "") -> Any:
    return log_in_to_map(context, site.url + "/" + path, username)


def _rows(page: Any) -> Any:
    return page.locator(".event-row")


def test_login_shows_the_sections_on_the_map(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.goto(site.url + "/")
    expect(page.locator("#login-username")).to_be_focused()
    page.fill("#login-username", "duty")
    page.fill("#login-password", "wrong-password-1")
    page.click(".login button[type=submit]")
    expect(page.locator(".login .error")).to_have_text("Wrong username or password.")
    shot(page, "login")
    page.fill("#login-password", TEST_PASSWORD)
    page.click(".login button[type=submit]")
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
    assert int(page.locator("#map").get_attribute("data-sections")) > 300
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['sections']}).length > 100")
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['event-clusters', 'event-points']})"
        ".length > 0")
    page.wait_for_function("() => window.sitcenMap.queryRenderedFeatures({layers: ['assets']})"
                           ".length === 3")
    expect(_rows(page).first).to_be_visible()
    expect(page.locator(".user")).to_contain_text("duty officer")
    # The session is an HttpOnly cookie: page scripts cannot read it.
    assert "sitcen_session" not in page.evaluate("document.cookie")
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["sitcen_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    shot(page, "map")
    page.click(".topbar button:has-text('Log out')")
    expect(page.locator("#login-username")).to_be_visible()
    assert "sitcen_session" not in {c["name"] for c in context.cookies()}
    context.close()


def test_report_appears_live_in_another_browser(browser: Any, site: Site) -> None:
    watcher_context = new_context(browser)
    watcher = _login(watcher_context, site, "duty")
    expect(watcher.locator(".live.on")).to_be_visible()
    reporter_context = new_context(browser)
    reporter = _login(reporter_context, site, "operator")

    reporter.click(".report-button")
    form = reporter.locator(".report-form")
    expect(reporter.locator("#report-type")).to_be_focused()
    # Keyboard only: choose the type, then send without a place to see the inline errors.
    reporter.select_option("#report-type", "drug_smuggling")
    reporter.locator("#report-lon").focus()
    reporter.keyboard.press("Enter")
    expect(form.locator(".field-error").first).to_be_visible()
    expect(form.locator("#err-location\\.lon")).to_have_text("Enter a number.")
    expect(reporter.locator("#report-lon")).to_have_attribute("aria-invalid", "true")

    # Pick the place on the map: the taxonomy's own checks then name the missing detail.
    reporter.click("text=Pick on the map")
    box = reporter.locator("#map").bounding_box()
    reporter.mouse.click(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.70)
    expect(reporter.locator("#report-lon")).not_to_have_value("")
    reporter.fill("#report-lon", "68.6")
    reporter.fill("#report-lat", "37.22")
    reporter.click("text=Send report")
    expect(form.locator("#err-details\\.substance")).to_have_text("This field is required.")
    expect(form.locator("#err-location\\.lon")).to_have_count(0)
    shot(reporter, "report-form")
    reporter.select_option("#detail-substance", "heroin")
    reporter.fill("#detail-quantity", "4.5")
    reporter.select_option("#detail-unit", "kg")
    reporter.select_option("#report-impact", "high")
    reporter.fill("#report-description", "Browser test: courier stopped at the river")
    reporter.locator("#report-description").focus()
    reporter.keyboard.press("Tab")  # to the send button
    reporter.keyboard.press("Enter")
    expect(reporter.locator(".toast")).to_have_text("Report sent")
    expect(reporter.locator(".panel h2")).to_have_text("Drug smuggling")
    new_id = reporter.url.split("event=")[1].split("&")[0]

    row = watcher.locator(f'.event-row[data-event-id="{new_id}"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_have_class(re.compile(r"\bfresh\b"))
    expect(watcher.locator(".unseen")).to_contain_text("new")
    shot(watcher, "live")
    watcher.click(".unseen")
    expect(watcher.locator(".unseen")).to_have_count(0)
    watcher_context.close()
    reporter_context.close()


def test_filters_are_kept_in_the_url(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = _login(context, site, "duty")
    expect(_rows(page).first).to_be_visible()
    page.uncheck("text=Only what the map shows")
    total = int(page.locator(".list-head .count").get_attribute("data-count"))
    page.click(".segmented button:has-text('30 days')")
    page.check("#filter-category input[value=crisis]")
    expect(page).to_have_url(re.compile(r"category=crisis"))
    expect(page).to_have_url(re.compile(r"w=30d"))
    expect(_rows(page).first).to_be_visible()
    page.wait_for_function("() => !document.querySelector('.event-row:not(.cat-crisis)')")
    crisis = int(page.locator(".list-head .count").get_attribute("data-count"))
    assert 0 < crisis < total
    # A shared link opens the same view.
    link = page.url
    other = context.new_page()
    other.goto(link)
    expect(other.locator('#map[data-ready="yes"]')).to_be_visible()
    assert other.locator("#filter-category input:checked").evaluate_all(
        "boxes => boxes.map(b => b.value)") == ["crisis"]
    other.uncheck("text=Only what the map shows")
    expect(other.locator(".list-head .count")).to_have_attribute("data-count", str(crisis))
    context.close()


def test_switch_language(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = _login(context, site, "operator")
    page.select_option("#language", "ru")
    expect(page.locator(".topbar nav a").first).to_have_text("Карта")
    expect(page.locator("#filter-impact_level legend")).to_have_text("Уровень воздействия")
    expect(page.locator("#filter-category label").first).to_have_text(
        "Незаконное пересечение государственной границы")
    shot(page, "map-ru")
    page.select_option("#language", "kk")
    expect(page.locator(".topbar nav a").first).to_have_text("Карта")
    expect(page.locator(".sidebar h3 button")).to_contain_text("Сүзгілер")
    expect(page.get_by_text("Тек картада көрінетіндер")).to_be_visible()
    page.select_option("#time-zone", "Asia/Tashkent")
    page.reload()
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
    expect(page.locator("#language")).to_have_value("kk")
    expect(page.locator("#time-zone")).to_have_value("Asia/Tashkent")
    context.close()


def test_duty_officer_validates_operator_cannot(browser: Any, site: Site) -> None:
    duty_context = new_context(browser)
    duty = _login(duty_context, site, "duty")
    duty.check("#filter-status input[value=reported]")
    expect(_rows(duty).first).to_be_visible()
    duty.wait_for_function(
        "() => !document.querySelector('.event-row .badge:not(.status-reported)')")
    event_id = _rows(duty).first.get_attribute("data-event-id")
    _rows(duty).first.click()
    panel = duty.locator(".panel")
    expect(panel.get_by_role("button", name="Validate")).to_be_visible()
    panel.get_by_role("button", name="Validate").click()
    expect(panel.locator(".history .action-validate")).to_contain_text("Validated")
    expect(panel.locator(".muted .badge")).to_have_text("Validated")
    panel.locator("#comment-text").fill("Confirmed by the Panj post")
    panel.get_by_role("button", name="Add comment").click()
    expect(panel.locator(".history .action-comment")).to_contain_text("Confirmed by the Panj post")
    expect(panel).to_contain_text("tj-test-centre")
    shot(duty, "event-panel")

    operator_context = new_context(browser)
    operator = _login(operator_context, site, "operator", f"#/map?w=7d&event={event_id}")
    panel = operator.locator(".panel")
    expect(panel.locator(".history .action-validate")).to_contain_text("Validated")
    expect(panel.get_by_role("button", name="Validate")).to_have_count(0)
    expect(panel.get_by_role("button", name="Add comment")).to_be_visible()
    # The API refuses it too, whatever the page shows.
    status = operator.evaluate(
        """id => fetch(`/api/v1/events/${id}/actions`, {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-Sitcen-Console': '1'},
            body: JSON.stringify({action: 'validate'})}).then(r => r.status)""", event_id)
    assert status == 403
    duty_context.close()
    operator_context.close()


def test_dashboard_and_missing_analysis_layers(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = _login(context, site, "duty")
    alerts = page.evaluate("fetch('/api/v1/alerts').then(r => r.status)")
    if alerts == 404:
        expect(page.locator('[data-unavailable="alerts"]')).to_have_text("(not available)")
        expect(page.locator("label.layer", has_text="Alerts").locator("input")).to_be_disabled()
    page.click(".topbar nav a:has-text('Dashboard')")
    expect(page.locator("#chart-categories")).to_be_visible()
    expect(page.locator("#chart-sections")).to_be_visible()
    expect(page.locator(".sparklines tbody tr").first).to_be_visible()
    assert page.locator(".sparklines tbody tr").count() == 10
    # Chart.js draws without animation; two animation frames later the picture is painted.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => "
                  "requestAnimationFrame(() => done(true))))")
    shot(page, "dashboard")
    context.close()


def test_map_says_when_the_whole_window_is_drawn(browser: Any, site: Site) -> None:
    since, until = "2026-01-01T00:00:00.000Z", "2030-01-01T00:00:00.000Z"
    context = new_context(browser)
    page = _login(context, site, "duty", f"#/map?w=custom&since={since}&until={until}")
    # window.sitcenReady (benchmarks/ui.py times it) counts every event of the window, all
    # fetched in one request of columns, not page by page.
    page.wait_for_function("() => window.sitcenReady !== undefined")
    ready = page.evaluate("() => window.sitcenReady")
    requests = page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((n) => n.includes('/api/v1/events'))")
    assert len(requests) == 1 and "/api/v1/events/columns?" in requests[0]
    expected = page.evaluate(
        """q => fetch(`/api/v1/events/columns?${q}`).then((r) => r.json()).then((c) => c.count)""",
        f"since={since}&until={until}")
    assert ready["events"] == expected > 1000
    expect(page.locator("#map")).to_have_attribute("data-events", str(expected))
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['event-clusters', 'event-points']})"
        ".length > 0")
    context.close()


def test_a_burst_is_shown_in_one_go(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = _login(context, site, "duty")
    page.wait_for_function("() => window.sitcenReady !== undefined")
    expect(page.locator(".live.on")).to_be_visible()
    page.uncheck("text=Only what the map shows")
    before = int(page.locator(".list-head .count").get_attribute("data-count"))
    feed = live_events(6000, seed=5, now=datetime.now(UTC) - timedelta(minutes=2))
    burst = [EventCreate.model_validate(next(feed)) for _ in range(40)]
    report_events(site.node.engine, site.node.reporter, burst, batch=True)
    expect(page.locator(".list-head .count")).to_have_attribute("data-count", str(before + 40))
    expect(page.locator(".unseen")).to_have_attribute("data-unseen", "40")
    page.wait_for_function("n => window.sitcenLive && window.sitcenLive.events === n",
                           arg=before + 40)
    # Forty stream frames, but the list and the map were updated far fewer times.
    assert page.evaluate("() => window.sitcenLive.flushes") < 40
    expect(page.locator(".event-row.fresh").first).to_be_visible()
    context.close()


def test_no_request_leaves_the_node(browser: Any, site: Site) -> None:
    """Log in and open the main screens: every request they make stays on the node."""
    requests: list[str] = []
    context = new_context(browser)
    context.on("request", lambda request: requests.append(request.url))
    page = _login(context, site, "duty")  # the login page, then the map, list and stream
    expect(page.locator(".live.on")).to_be_visible()
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['sections']}).length > 100")
    _rows(page).first.click()
    expect(page.locator(".panel h2")).to_be_visible()
    page.click(".report-button")
    expect(page.locator(".report-form")).to_be_visible()
    page.click(".topbar nav a:has-text('Dashboard')")
    expect(page.locator(".sparklines tbody tr").first).to_be_visible()
    page.select_option("#language", "ru")
    expect(page.locator(".topbar nav a").first).to_have_text("Карта")
    context.close()
    outside = sorted({u for u in requests
                      if not u.startswith(site.url + "/") and not u.startswith(("data:", "blob:"))})
    assert outside == []
    assert any("/console/assets/" in u for u in requests)
    assert any("/api/v1/stream" in u for u in requests)


def test_chromium_is_found_where_the_makefile_puts_it() -> None:
    assert shutil.which("chromium") in (None, str(CHROMIUM)) or CHROMIUM.exists()
