"""The login screen's directory button (OpenID Connect), in Debian's Chromium driven by
Playwright: a person the node does not know comes back to the login screen with the reason
(in English and Russian), a known one lands on the map; axe-core finds nothing serious."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console_browser import (
    AXE,
    expect,
    missing,
    new_context,
    open_node,
    require_console,
    serious_violations,
    serving,
)
from sitcen.testing import chromium, mock_issuer
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]


def test_the_directory_button_logs_in_or_says_why_not(tmp_path: Path) -> None:
    require_console()
    if not AXE.is_file():
        missing("axe-core is not installed (npm ci --prefix frontend)")
    with mock_issuer() as issuer, chromium() as browser:
        node = open_node(tmp_path, [("duty-officer", Role.duty_officer)], **issuer.settings())
        with serving(node) as served:
            issuer.person = {"sub": "d-7", "preferred_username": "stranger"}
            context = browser.new_context(locale="en-GB", bypass_csp=True)
            context.add_init_script("localStorage.setItem('sitcen.lang', 'en');")
            page = context.new_page()
            page.goto(served.url + "/")
            button = page.get_by_role("link", name="Log in with Test directory")
            expect(button).to_be_visible()
            button.click()
            alert = page.locator("#login-directory-error")
            expect(alert).to_have_text("The directory knows you, but you have no account on "
                                       "this node. Ask an administrator to create one.")
            expect(alert).to_have_attribute("role", "alert")
            assert "login_error" not in page.url  # a reload does not show it again
            serious = serious_violations(page)
            assert serious == [], json.dumps(serious, indent=1, ensure_ascii=False)
            context.close()

            context = new_context(browser, "ru")
            page = context.new_page()
            page.goto(served.url + "/")
            page.get_by_role("link", name="Войти через Test directory").click()
            expect(page.locator("#login-directory-error")).to_contain_text(
                "учётной записи на этом узле у вас нет")
            issuer.person["preferred_username"] = "duty-officer"
            page.get_by_role("link", name="Войти через Test directory").click()
            expect(page.locator('#map[data-ready="yes"]')).to_be_visible()
            context.close()
