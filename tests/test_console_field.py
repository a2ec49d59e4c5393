"""The console on a post's poor link (issue 16): Chromium throttled to 100 kbit/s down,
50 kbit/s up and 600 ms of latency still shows the 7-day map and delivers a report, and the
low-bandwidth mode leaves the heavy layers out. How long it takes is measured by
benchmarks/field.py, not asserted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console_browser import (
    Site,
    expect,
    log_in_to_map,
    new_context,
    scenario_node,
    serve_site,
    write_patrol,
)
from sitcen.testing import emulate_link, fill_report_form
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("browser")

#: A throttled page may take this long; only that it happens is checked.
SLOW_MS = 180_000
READY = "() => window.sitcenReady && window.sitcenReady.revision > 0"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    node = scenario_node(tmp_path_factory.mktemp("field"), (("operator", Role.operator),),
                         years=0.03, days=8, seed=16)
    write_patrol(node, "panj-1", "Panj patrol", [(68.6 + step / 50, 37.2) for step in range(3)],
                 minutes_ago=10)  # a patrol with a track
    yield from serve_site(node)


def test_the_map_and_a_report_get_through_a_poor_link(browser: Any, site: Site) -> None:
    context = new_context(browser)
    # Logged in on an open link first: the console's scripts are cached, as on any day but
    # the first (docs/field.md).
    log_in_to_map(context, site.url + "/", "operator").close()
    page = context.new_page()
    emulate_link(page)
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST"
            and r.url.endswith("/api/v1/events") else None)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/sections"),
                              timeout=SLOW_MS) as sections:
        page.goto(site.url + "/#/map?w=7d")
    assert sections.value.headers.get("content-encoding") == "gzip"
    page.wait_for_function(READY, timeout=SLOW_MS)
    assert page.evaluate("() => window.sitcenReady.events") > 0
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible()

    fill_report_form(page)
    page.click("text=Send report")
    expect(page.locator(".toast")).to_have_text("Report sent", timeout=SLOW_MS)
    assert len(sent) == 1
    assert len(sent[0].post_data_buffer) <= 1024  # a report fits in one small packet train
    context.close()


def test_low_bandwidth_mode_leaves_the_heavy_layers_out(browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = log_in_to_map(context, site.url + "/", "operator")
    # The first page's own layers are in before anything is recorded (on a slow machine
    # its outlines could still be on their way when the mode is switched).
    page.wait_for_function(READY)
    page.wait_for_function("() => document.querySelectorAll('.country-name').length > 0")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("/api/v1/", 1)[-1])
            if "/api/v1/" in r.url else None)
    expect(page.locator("#low-bandwidth")).not_to_be_checked()
    with page.expect_navigation():
        page.check("#low-bandwidth")  # kept in this browser; the page starts again in it
    page.wait_for_function(READY)
    expect(page.locator("#low-bandwidth")).to_be_checked()
    page.wait_for_function("() => document.querySelectorAll('.country-name').length > 0")

    assert "countries?detail=low" in asked
    assert "countries" not in asked  # the detailed outlines
    assert "assets?track=1" in asked and "assets" not in asked  # no tracks
    stream = next(u for u in asked if u.startswith("stream"))
    assert "kinds=" in stream and "event" in stream and "asset_position" not in stream
    columns = next(u for u in asked if u.startswith("events/columns"))
    assert "limit=2000" in columns

    asked.clear()
    with page.expect_navigation():
        page.uncheck("#low-bandwidth")
    page.wait_for_function(READY)
    page.wait_for_function("() => document.querySelectorAll('.country-name').length > 0")
    assert "countries" in asked and "countries?detail=low" not in asked
    assert "stream" in asked
    context.close()
