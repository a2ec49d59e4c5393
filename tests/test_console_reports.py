"""The risk screen, the reports library, the situation strip, bins for large windows and an
axe-core check of every main screen, in Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely

from conftest import TEST_PASSWORD, make_settings
from console_browser import (
    AXE,
    VIEWPORT,
    WAIT_MS,
    Site,
    expect,
    go_to,
    log_in,
    log_in_to_map,
    missing,
    new_context,
    scenario_node,
    serious_violations,
    serve_site,
    serving,
    shot,
)
from sitcen.demo.capacities import synthetic_capacities
from sitcen.events import EventCreate
from sitcen.interop.capacity_import import capacity_values
from sitcen.node import Node
from sitcen.recompute import compute_risk, reactions_for
from sitcen.store.capacities import put_capacities
from sitcen.store.events import report_events
from sitcen.store.levels import confirm_level, current_level
from sitcen.store.picture import bin_size_for_zoom
from sitcen.store.recommendations import add_recommendation
from sitcen.store.users import add_user
from sitcen.testing import wait_until
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    node = scenario_node(tmp_path_factory.mktemp("console-reports"),
                         (("duty", Role.duty_officer), ("analyst", Role.analyst)),
                         years=0.25, days=92, seed=5, identity=True)
    now = datetime.now(UTC)
    capacities = synthetic_capacities(node.sections.sections)
    put_capacities(node.engine, node.settings.node_id,
                   [(c.section_id, capacity_values(c), "test") for c in capacities],
                   assessed_by="analyst")
    rows = compute_risk(node.engine, node.settings.node_id)["sections"]
    top = rows[0]
    for level, why in (("medium", "first look"), ("critical", "armed incident across the line")):
        confirm_level(node.engine, node.settings.node_id, top["section_id"], level=level,
                      proposed_level=top["proposed_level"], reasons=top["reasons"],
                      reactions=reactions_for(level), confirmed_by="duty", justification=why)
    add_recommendation(node.engine, node.settings.node_id, section_id=top["section_id"],
                       text="Second thermal camera at the ford", owner="Engineering unit",
                       deadline=(now + timedelta(days=30)).date(), created_by="analyst")
    yield from serve_site(node)


def _login(context: Any, site: Site, username: str) -> Any:
    return log_in_to_map(context, site.url + "/", username)


def _top_section(site: Site) -> dict[str, Any]:
    from sitcen.recompute import risk_table

    return dict(risk_table(site.node.engine, site.node.settings.node_id)["sections"][0])


def test_risk_screen_opens_from_the_map_with_reasons_and_checklist(browser: Any,
                                                                   site: Site) -> None:
    top = _top_section(site)
    section = site.node.sections.section(top["section_id"])
    middle = shapely.line_interpolate_point(section.geometry, 0.5, normalized=True)
    context = new_context(browser)
    page = _login(context, site, "duty")
    # The strip above the map: where it is worst, with the critical section first.
    strip = page.locator(".situation-strip")
    expect(strip.locator(f"button:has-text('{top['section_id']}')")).to_be_visible()
    shot(page, "situation-strip")
    page.evaluate(f"() => window.sitcenMap.jumpTo({{center: [{middle.x}, {middle.y}], zoom: 8}})")
    page.wait_for_function(
        "() => window.sitcenMap.queryRenderedFeatures({layers: ['sections']}).length > 0")
    point = page.evaluate(f"() => window.sitcenMap.project([{middle.x}, {middle.y}])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])  # one click on the section
    card = page.locator(".risk-card")
    expect(card.locator("h2")).to_contain_text(top["section_id"])
    assert "card=" + top["section_id"] in page.url
    expect(card.locator(".reasons li")).to_have_count(len(top["reasons"]))
    expect(card.locator(".reasons li").first).to_have_text(top["reasons"][0])
    expect(card.locator(".bar[data-term=threat]")).to_have_attribute(
        "aria-valuenow", str(top["threat"]))
    checklist = card.locator(".checklist input[type=checkbox]")
    expect(checklist).to_have_count(len(reactions_for("critical")))
    checklist.first.press("Space")  # keyboard: tick the first reaction
    expect(checklist.first).to_be_checked()
    # The tick is a record of the level (the Levels page and other officers see it).
    def first_ticked() -> bool:
        level = current_level(site.node.engine, site.node.settings.node_id, top["section_id"])
        return bool(level and (level.body.get("checklist") or {}).get("0", {}).get("done"))

    wait_until(first_ticked, what="the tick recorded on the level")
    before_after = card.locator(".before-after")
    expect(before_after.locator(".before")).to_contain_text("Medium")
    expect(before_after.locator(".after")).to_contain_text("Critical")
    expect(before_after.locator(".after")).to_contain_text("armed incident across the line")
    expect(card).to_contain_text("Second thermal camera at the ford")
    expect(card).to_contain_text("Engineering unit")
    shot(page, "risk")
    # The strip's chip opens the same card.
    page.goto(site.url + "/#/map")
    page.locator(f".situation-strip button:has-text('{top['section_id']}')").click()
    expect(page.locator(".risk-card h2")).to_contain_text(top["section_id"])
    context.close()


def test_generate_comment_issue_and_download_a_report(browser: Any, site: Site,
                                                      tmp_path: Path) -> None:
    context = new_context(browser)
    page = _login(context, site, "analyst")
    go_to(page, "reports")
    page.select_option("#report-product", "daily")
    page.select_option("#report-language", "ru")
    page.click(".generate button[type=submit]")
    editor = page.locator(".draft-editor")
    expect(editor.locator("h2")).to_contain_text("Ежедневная сводка об обстановке")
    frame = page.frame_locator(".report-preview")
    expect(frame.locator("h1")).to_have_text("Ежедневная сводка об обстановке")
    page.fill("#commentary-0", "Обстановка спокойная; усилить наблюдение на Пяндже.")
    page.click(".commentary-form button[type=submit]")
    expect(frame.locator(".commentary")).to_contain_text("усилить наблюдение на Пяндже")
    shot(page, "report-draft")
    page.click("#issue-report")
    row = page.locator("table.library tbody tr").first
    expect(row).to_contain_text("Ежедневная сводка")
    expect(row).to_contain_text("valid")
    shot(page, "reports")
    with page.expect_download() as got:
        row.locator("a:has-text('PDF')").click()
    path = tmp_path / "report.pdf"
    got.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    context.close()


def _axe(browser: Any, site: Site, username: str, hash_: str, ready: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on one screen.

    The page's CSP refuses injected scripts: this context alone bypasses it, to run axe.
    """
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", bypass_csp=True,
                                  timezone_id="Asia/Dushanbe")
    context.add_init_script("localStorage.setItem('sitcen.lang', 'en');")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    # The screen's address first, then the login (as a bookmark opens it): moving by URL
    # while the map starts up could be undone by the map's first moves.
    page.goto(site.url + "/" + hash_)
    if username:
        page.fill("#login-username", username)
        page.fill("#login-password", TEST_PASSWORD)
        page.click(".login button[type=submit]")
    expect(page.locator(ready).first).to_be_visible()
    violations = serious_violations(page)
    context.close()
    return violations


@pytest.mark.parametrize(("username", "hash_", "ready"), [
    ("", "", "#login-username"),
    ("duty", "#/map", '#map[data-ready="yes"]'),
    ("duty", "#/dashboard", "canvas"),
    ("duty", "#/risk", ".rank-row"),
    ("analyst", "#/reports", ".generate"),
])
def test_axe_finds_no_serious_violation_on_the_main_screens(
        browser: Any, site: Site, username: str, hash_: str, ready: str) -> None:
    if not AXE.is_file():
        missing("axe-core is not installed (npm ci --prefix frontend)")
    violations = _axe(browser, site, username, hash_, ready)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)


def test_a_window_of_200000_events_still_shows_every_section(browser: Any,
                                                             tmp_path: Path) -> None:
    """A flood of 150,000 on one section and 1,000 on each of 50 others: none is hidden."""
    settings = make_settings(f"sqlite:///{tmp_path / 'flood.db'}", tmp_path)
    node = Node.open(settings)
    add_user(node.engine, "duty", TEST_PASSWORD, Role.duty_officer, "duty")
    now = datetime.now(UTC)
    sections = node.sections.sections
    flooded, others = sections[0], sections[1::8][:50]
    places: list[tuple[float, float, int]] = []
    for s, n in [(flooded, 150_000), *((s, 1_000) for s in others)]:
        p = shapely.line_interpolate_point(s.geometry, 0.5, normalized=True)
        places.append((round(p.x, 4), round(p.y, 4), n))
    batch: list[EventCreate] = []
    for lon, lat, n in places:
        for i in range(n):
            batch.append(EventCreate.model_validate({
                "type": "suspicious_person", "location": {"lon": lon, "lat": lat},
                "occurred_at": (now - timedelta(minutes=1 + i % 9000)).isoformat()}))
            if len(batch) == 10_000:
                report_events(node.engine, node.reporter, batch, batch=True)
                batch = []
    if batch:
        report_events(node.engine, node.reporter, batch, batch=True)
    with serving(node) as served:
        context = new_context(browser)
        page = log_in(context, served.url + "/#/map?w=7d&map=4.00/40.00000/66.00000", "duty")
        # 200,000 events to count and bin: on a loaded machine this takes longer than
        # Playwright's usual wait (the speed is measured by benchmarks/ui.py, not here).
        expect(page.locator(".binned-note")).to_have_attribute("data-binned", "200000",
                                                               timeout=180_000)
        bins = page.evaluate("() => window.sitcenBins")
        assert bins["count"] == 200_000 == sum(b["count"] for b in bins["bins"])
        size = bin_size_for_zoom(4)
        assert bins["size_deg"] == size
        cells: dict[tuple[int, int], int] = {}
        for lon, lat, n in places:
            key = (int((lon + 180) // size), int((lat + 90) // size))
            cells[key] = cells.get(key, 0) + n
        got = sorted(b["count"] for b in bins["bins"])
        assert got == sorted(cells.values())  # every section's cell, with all its events
        page.wait_for_function(
            "() => window.sitcenMap.queryRenderedFeatures({layers: ['bins']}).length > 0")
        shot(page, "map-binned")
        context.close()
