"""The console in a real browser: Debian's Chromium through Playwright, and a post's slow link.

:func:`console_missing` says why the console cannot be tried here,
:func:`chromium` launches the browser, :func:`emulate_link` throttles a page to
a :class:`Link` (a post's :data:`POOR_LINK` by default).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Link:
    """A network link as Chromium's DevTools protocol emulates it."""

    down_kbit_s: float
    up_kbit_s: float
    latency_ms: float


#: Debian's Chromium, which the browser tests and benchmarks drive through Playwright.
CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium tries to reach update and sync servers, which a closed network
# refuses slowly.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def console_missing() -> str | None:
    """Why the console cannot be tried in a browser here (Chromium or the built console is
    missing), or None."""
    from sitcen.api.console import console_dir

    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make system-deps installs Debian's chromium)"
    if not (console_dir() / "index.html").is_file():
        return "the console is not built (make console)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright (which must be installed) and
    closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives every launch a fresh, temporary user-data directory.
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True)
        yield launched
        launched.close()


#: A post's poor link (issue 16): 100 kbit/s down, 50 kbit/s up, 600 ms round trip.
POOR_LINK = Link(down_kbit_s=100, up_kbit_s=50, latency_ms=600)


def emulate_link(page: Any, link: Link = POOR_LINK) -> Any:
    """Throttle a Playwright page of Chromium to ``link`` (its whole browser context's
    requests, the page's own and its workers'); the CDP session, to detach later."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": link.latency_ms,
        # Bytes per second, as the protocol takes them.
        "downloadThroughput": link.down_kbit_s * 1000 / 8,
        "uploadThroughput": link.up_kbit_s * 1000 / 8})
    return session
