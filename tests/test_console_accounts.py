"""Accounts in the console (issue 15), in Debian's Chromium driven by Playwright: a user
ends a session and changes their password; an administrator disables a user, sees it in
the audit trail and checks the chain; a second factor is set up at login and on My account
and asked for at the next login; axe-core finds nothing serious on either page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from conftest import TEST_PASSWORD
from console_browser import (
    AXE,
    Site,
    expect,
    go_to,
    log_in,
    log_in_to_map,
    missing,
    new_context,
    open_node,
    require_console,
    serious_violations,
    serve_site,
    serving,
    shot,
)
from sitcen.store.second_factor import STEP_S
from sitcen.store.users import issue_token, list_sessions
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

USERS = [("admin", Role.admin), ("duty", Role.duty_officer), ("operator", Role.operator)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_console()
    yield from serve_site(open_node(tmp_path_factory.mktemp("accounts"), USERS))


def test_a_user_ends_a_session_and_changes_their_password(browser: Any,
                                                          site: Site) -> None:
    issue_token(site.node.engine, "duty", 1, kind="bearer", address="10.0.0.7")
    context = new_context(browser)
    page = log_in_to_map(context, site.url + "/", "duty")
    page.click("#nav-account")
    rows = page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("table.sessions")).to_contain_text("this one")
    page.locator("tr:has-text('10.0.0.7') button.end-session").click()
    expect(rows).to_have_count(1)
    assert [s.address for s in list_sessions(site.node.engine, "duty")] == ["127.0.0.1"]
    page.fill("#current-password", "not-my-password")
    page.fill("#new-password", "a-better-password-9")
    page.click(".password-form button[type=submit]")
    expect(page.locator(".account-page .error")).to_contain_text("is not your password")
    page.fill("#current-password", TEST_PASSWORD)
    page.click(".password-form button[type=submit]")
    expect(page.locator(".account-page .notice")).to_contain_text("Password changed")
    shot(page, "account")
    context.close()


def test_an_administrator_disables_a_user_and_checks_the_audit_trail(
        browser: Any, site: Site) -> None:
    context = new_context(browser)
    page = log_in_to_map(context, site.url + "/", "admin")
    go_to(page, "users")
    row = page.locator("tr[data-user='operator']")
    expect(row).to_be_visible()
    row.locator("button.toggle-user").click()
    expect(row).to_have_class("disabled")
    expect(page.locator("table.audit tr[data-action='user_changed']")).to_have_count(1)
    page.click("#audit-verify")
    expect(page.locator("#audit-check")).to_contain_text("The chain is whole")
    shot(page, "users")
    row.locator("button.toggle-user").click()
    expect(row).not_to_have_class("disabled")
    context.close()


@pytest.mark.parametrize(("username", "hash_", "ready"), [
    ("admin", "#/account", "table.sessions"),  # duty changed their password above
    ("admin", "#/users", "table.users"),
])
def test_axe_finds_no_serious_violation(browser: Any, site: Site, username: str,
                                        hash_: str, ready: str) -> None:
    if not AXE.is_file():
        missing("axe-core is not installed (npm ci --prefix frontend)")
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-GB",
                                  bypass_csp=True, timezone_id="Asia/Dushanbe")
    context.add_init_script("localStorage.setItem('sitcen.lang', 'en');")
    # The page's address first, then the login (as a bookmark opens it): moving by URL
    # while the map starts up could be undone by the map's first moves.
    page = log_in(context, site.url + "/" + hash_, username)
    expect(page.locator(ready).first).to_be_visible()
    serious = serious_violations(page)
    context.close()
    assert serious == [], json.dumps(serious, indent=1, ensure_ascii=False)


def _app_code(page: Any, steps_ahead: int = 0) -> str:
    """The code an authenticator app that scanned the page's QR code shows."""
    secret = page.locator(".factor-secret").inner_text().replace(" ", "")
    return str(pyotp.TOTP(secret).at(time.time() + steps_ahead * STEP_S))


def test_a_second_factor_set_up_at_login_and_asked_for_at_the_next(
        browser: Any, tmp_path: Path) -> None:
    node = open_node(tmp_path, [("chief", Role.duty_officer), ("ops", Role.operator)],
                     second_factor_roles=["duty_officer"])
    with serving(node) as served:
        context = new_context(browser)
        page = log_in(context, served.url + "/", "chief")
        # The role needs a second factor: the QR code comes before the console.
        expect(page.locator("img.factor-qr")).to_be_visible()
        shot(page, "second-factor")
        secret = page.locator(".factor-secret").inner_text().replace(" ", "")
        page.fill("#factor-code", _app_code(page))
        page.click(".factor-setup button[type=submit]")
        expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
        page.click("text=Log out")
        page.fill("#login-username", "chief")
        page.fill("#login-password", TEST_PASSWORD)
        page.click(".login button[type=submit]")
        expect(page.locator(".login .error")).to_contain_text("code from its authenticator")
        far = pyotp.TOTP(secret).at(time.time() + 100 * STEP_S)
        page.fill("#login-code", far)
        page.click(".login button[type=submit]")
        expect(page.locator(".login .error")).to_contain_text("Wrong code")
        page.fill("#login-code", pyotp.TOTP(secret).at(time.time() + STEP_S))
        page.click(".login button[type=submit]")
        expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
        context.close()

        # Someone whose role does not need one sets it up on My account.
        context = new_context(browser)
        page = log_in_to_map(context, served.url + "/", "ops")
        page.click("#nav-account")
        page.click(".second-factor button.primary")
        page.fill("#factor-password", TEST_PASSWORD)
        page.click(".factor-setup button[type=submit]")
        expect(page.locator("img.factor-qr")).to_be_visible()
        page.fill("#factor-code", _app_code(page))
        page.click(".factor-setup button[type=submit]")
        expect(page.locator(".second-factor .notice")).to_contain_text("Second factor set up")
        expect(page.locator(".second-factor #remove-factor-code")).to_be_visible()
        context.close()
