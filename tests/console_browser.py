"""What the console's browser tests share: Debian's Chromium driven by Playwright.

Each ``test_console*.py`` module serves a node of its own (a module-scoped ``site``
fixture: :func:`scenario_node` or :func:`open_node`, then ``yield from``
:func:`serve_site`) and takes from here: the check that Chromium and the built console are
there, the node filled with the synthetic scenario and patrols, a browser context in a
known language and zone, logging in, and screenshots for docs/screenshots/. Chromium itself
is the ``browser`` fixture of tests/conftest.py, one per module. Importing this module skips
the importing module where Playwright is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import TEST_PASSWORD, make_settings
from sitcen.demo.scenario import generate
from sitcen.events import EventCreate
from sitcen.exchange.identity import NodeIdentity
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.records import write_record
from sitcen.store.users import add_user
from sitcen.testing import ServedNode, console_missing, serve_in_thread
from sitcen.users import Role

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 860}
WAIT_MS = 20_000
ZONE = "Asia/Dushanbe"  # UTC+5 all year
# Conditions to wait for are written as functions ("() => ..."): Playwright evaluates a bare
# expression with eval() when it has to poll, which the page's CSP refuses.

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
# Assertions wait as long as page actions do: 5 s (Playwright's default) is a guess that a
# busy machine misses.
expect.set_options(timeout=WAIT_MS)


def missing(reason: str) -> None:
    """Skip for ``reason``; under CI=true, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (required under CI=true)")
    pytest.skip(reason)


def require_console() -> None:
    """Skip (fail under CI=true) unless Chromium and the built console are there."""
    reason = console_missing()
    if reason is not None:
        missing(reason)


def open_node(tmp: Path, users: Iterable[tuple[str, Role]], *, identity: bool = False,
              **settings_: Any) -> Node:
    """A node on SQLite in ``tmp`` (with its key pair when ``identity``, and ``settings_``)
    and a user of each (username, role), named after the role, whose password is the
    tests' one."""
    settings = make_settings(f"sqlite:///{tmp / 'node.db'}", tmp, **settings_)
    if identity:
        NodeIdentity.generate(settings.node_id).save(settings.identity_dir)
    node = Node.open(settings)
    for username, role in users:
        add_user(node.engine, username, TEST_PASSWORD, role, f"{role.value} (test)")
    return node


def report_scenario(node: Node, years: float, *, seed: int, start: date,
                    until: datetime) -> None:
    """Report the synthetic scenario's events from ``start`` that were reported by ``until``."""
    scenario = generate(years, seed=seed, start=start)
    for batch in scenario.batches(5000):
        items = [EventCreate.model_validate(p) for p in batch]
        items = [it for it in items if (it.reported_at or it.occurred_at) <= until]
        if items:
            report_events(node.engine, node.reporter, items, batch=True)


def scenario_node(tmp: Path, users: Iterable[tuple[str, Role]], *, years: float, days: int,
                  seed: int, **settings_: Any) -> Node:
    """Once :func:`require_console` lets the test go on: :func:`open_node`, with the
    synthetic scenario (``years`` of it from ``days`` days ago, seed ``seed``) reported up
    to now."""
    require_console()
    node = open_node(tmp, users, **settings_)
    now = datetime.now(UTC)
    report_scenario(node, years, seed=seed, start=(now - timedelta(days=days)).date(), until=now)
    return node


def write_patrol(node: Node, asset_id: str, name: str, fixes: Sequence[tuple[float, float]],
                 *, minutes_ago: int | None = None) -> str:
    """An active patrol's positions at ``fixes`` (lon, lat), a minute apart, the first
    ``minutes_ago`` minutes ago (default: as many as there are fixes): its record's id."""
    now = datetime.now(UTC)
    first = len(fixes) if minutes_ago is None else minutes_ago
    record = None
    for step, (lon, lat) in enumerate(fixes):
        record = write_record(
            node.engine, "asset_position",
            {"asset_id": asset_id, "kind": "patrol", "name": name, "status": "active",
             "location": {"lon": lon, "lat": lat},
             "at": (now - timedelta(minutes=first - step)).isoformat(), "handling": "AMBER"},
            node_id=node.settings.node_id,
            record_id=None if record is None else record.id,
            base_version=None if record is None else record.version)
    assert record is not None
    return record.id


@dataclass
class Site:
    """A node served for a module's tests, and its base URL."""

    url: str
    node: Node


def serve_site(node: Node) -> Iterator[Site]:
    """For a module's ``site`` fixture to ``yield from``: ``node`` served (:func:`serving`)."""
    with serving(node) as served:
        yield Site(served.url, node)


@contextmanager
def serving(node: Node) -> Iterator[ServedNode]:
    """``node`` served on a free loopback port; stopped, and its engine closed, afterwards."""
    served = serve_in_thread(node)
    try:
        yield served
    finally:
        served.stop()
        node.engine.dispose()


def new_context(browser: Any, lang: str = "en", **options: Any) -> Any:
    """A browser context whose first page starts in ``lang`` and the Dushanbe time zone
    (``options``: more of Playwright's context options, a ``viewport`` other than the
    desk's among them).

    A reload keeps what the user chose since.
    """
    options.setdefault("viewport", VIEWPORT)
    context = browser.new_context(locale="en-GB", timezone_id=ZONE, **options)
    context.add_init_script(
        "const s = localStorage;"
        f"if (!s.getItem('sitcen.lang')) s.setItem('sitcen.lang', '{lang}');"
        f"if (!s.getItem('sitcen.tz')) s.setItem('sitcen.tz', '{ZONE}');")
    context.set_default_timeout(WAIT_MS)
    return context


def log_in(context: Any, url: str, username: str) -> Any:
    """A new page of ``context`` that opens ``url`` and logs in as ``username``."""
    page = context.new_page()
    page.goto(url)
    page.fill("#login-username", username)
    page.fill("#login-password", TEST_PASSWORD)
    page.click(".login button[type=submit]")
    return page


def log_in_to_map(context: Any, url: str, username: str) -> Any:
    """:func:`log_in`, once the map has drawn."""
    page = log_in(context, url, username)
    expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
    return page


def go_to(page: Any, name: str) -> None:
    """Follow the top bar's link to page ``name`` (its id is ``nav-<name>``), opening the
    bar's "More" menu first when the link did not fit on the bar."""
    link = page.locator(f"#nav-{name}")
    link.wait_for(state="attached")
    if not link.is_visible():
        page.click("#nav-more")
    link.click()


def shot(page: Any, name: str, height: int | None = None) -> None:
    """A screenshot for the docs; ``height``: a taller window, so a long page shows whole."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if height is not None:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    if height is not None:
        page.set_viewport_size(VIEWPORT)


#: axe-core as npm installs it for the console (frontend/package.json).
AXE = Path(__file__).resolve().parent.parent / "frontend" / "node_modules" / "axe-core" / \
    "axe.min.js"


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands (the page's
    context must bypass the CSP, which refuses injected scripts)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            why: v.nodes.slice(0, 1).map(n => n.failureSummary)}));
    }""")
    return [v for v in found if v["impact"] in ("serious", "critical")]
