"""The top bar's page links in Debian's Chromium driven by Playwright, at 1,400 × 900 with
every page an administrator has, in each of the console's eight languages: no link is cut
or outside the window, the bar stays one row, and the links that do not fit are under
"More", whose menu opens inside the window and leads to its pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console_browser import (
    Site,
    expect,
    go_to,
    log_in,
    new_context,
    open_node,
    require_console,
    serve_site,
    shot,
)
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

LANGUAGES = ["en", "ru", "kk", "ky", "tg", "tk", "uz", "uz-Cyrl"]
WINDOW = {"width": 1400, "height": 900}
#: Every page on an administrator's bar (main.tsx, navItems).
PAGES = {"map", "dashboard", "risk", "reports", "queue", "alerts", "levels", "tasks",
         "patrols", "log", "network", "requests", "operations", "directory", "users"}

#: Each visible link of the bar (and "More"): its box, the window's width, whether its text
#: is cut (wider than its box), and the first control after the nav.
BOXES = """() => {
  const nav = document.querySelector('.topbar nav');
  const items = [...nav.querySelectorAll(':scope > a, :scope > .nav-more > button')];
  const after = document.querySelector('#language').getBoundingClientRect();
  return {
    width: window.innerWidth, bar: document.querySelector('.topbar').getBoundingClientRect().height,
    navRight: nav.getBoundingClientRect().right, nextLeft: after.left,
    items: items.map((el) => { const r = el.getBoundingClientRect();
      return {id: el.id, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
              cut: el.scrollWidth > el.clientWidth + 1}; }),
  };
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_console()
    node = open_node(tmp_path_factory.mktemp("nav"), [("admin", Role.admin)])
    yield from serve_site(node)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_link_is_cut_or_outside_the_window(browser: Any, site: Site, lang: str) -> None:
    context = new_context(browser, lang, viewport=WINDOW)
    page = log_in(context, site.url + "/#/queue", "admin")
    expect(page.locator(".topbar nav a#nav-map")).to_be_visible()
    page.evaluate("() => document.fonts.ready")
    boxes = page.evaluate(BOXES)
    items = boxes["items"]
    assert items, boxes
    for item in items:
        assert item["left"] >= 0 and item["right"] <= boxes["width"], (lang, item)
        assert not item["cut"], (lang, item)
    # One row, and the links end before the language control begins.
    assert len({round(i["top"]) for i in items}) == 1, (lang, items)
    assert boxes["navRight"] <= boxes["nextLeft"], (lang, boxes)
    assert boxes["bar"] < 80, (lang, boxes)
    on_bar = {i["id"].removeprefix("nav-") for i in items if i["id"] != "nav-more"}
    under_more = set(page.locator("#nav-more-menu a").evaluate_all(
        "(links) => links.map((a) => a.id.replace('nav-', ''))"))
    assert on_bar | under_more == PAGES and not on_bar & under_more, (lang, on_bar, under_more)
    if under_more:
        page.click("#nav-more")
        menu = page.locator("#nav-more-menu")
        expect(menu).to_be_visible()
        box = menu.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WINDOW["width"], (lang, box)
        assert box["y"] + box["height"] <= WINDOW["height"], (lang, box)
        for link in menu.locator("a").all():
            assert link.evaluate("(a) => a.scrollWidth <= a.clientWidth + 1"), lang
        if lang == "ru":
            shot(page, "nav-more-ru")
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        # A page under "More" is reached through it, and "More" shows it is the current one.
        last = sorted(under_more)[0]
        go_to(page, last)
        expect(page.locator(f"#nav-{last}")).to_have_attribute("aria-current", "page")
        expect(page.locator("#nav-more")).to_have_class("active")
        expect(menu).to_be_hidden()
    context.close()


def test_every_link_fits_on_a_wide_screen(browser: Any, site: Site) -> None:
    context = new_context(browser, "en", viewport={"width": 2560, "height": 1000})
    page = log_in(context, site.url + "/", "admin")
    expect(page.locator(".topbar nav a#nav-map")).to_be_visible()
    expect(page.locator("#nav-more")).to_have_count(0)
    assert page.locator(".topbar nav > a").count() == len(PAGES)
    # Narrowed, the bar gives the links that no longer fit to "More".
    page.set_viewport_size(WINDOW)
    expect(page.locator("#nav-more")).to_be_visible()
    context.close()
