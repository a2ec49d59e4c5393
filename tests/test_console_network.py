"""The network page in Debian's Chromium driven by Playwright: the completeness board shows
who has submitted the month (a revision marked, in English and Russian) and the month's joint
alert; axe-core finds nothing serious."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from console_browser import (
    AXE,
    expect,
    log_in,
    missing,
    new_context,
    open_node,
    require_console,
    serious_violations,
    serving,
    shot,
)
from sitcen.indicator_list import INDICATORS
from sitcen.operations.indicator_records import (
    IndicatorValue,
    MonthWrite,
    Source,
    write_months,
)
from sitcen.operations.indicator_submissions import submit_month
from sitcen.testing import chromium
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]


def test_the_board_shows_submitted_missing_and_revised_months(tmp_path: Path) -> None:
    require_console()
    if not AXE.is_file():
        missing("axe-core is not installed (npm ci --prefix frontend)")
    node = open_node(tmp_path, [("analyst", Role.analyst)], node_country="TJ",
                     indicator_members=["TJ", "KG"])
    month = str(pd.Period(datetime.now(UTC).date(), freq="M") - 1)
    node_id = node.settings.node_id
    write_months(node.engine, node_id, "TJ", month,
                 [MonthWrite(i, [IndicatorValue(4, Source.entered)]) for i in INDICATORS],
                 author="analyst")
    submit_month(node.engine, node_id, "TJ", month, author="analyst", deadline_day=15,
                 now=datetime.now(UTC))
    write_months(node.engine, node_id, "TJ", month,
                 [MonthWrite("refusals_of_entry", [IndicatorValue(9, Source.entered)])],
                 author="analyst", reason="late returns from Oybek")
    with chromium() as browser, serving(node) as served:
        context = new_context(browser, "en", bypass_csp=True)
        page = log_in(context, served.url + "/#/network", "analyst")
        board = page.locator("#network-board")
        expect(board).to_be_visible()
        tj = board.locator(f'td[data-country="TJ"][data-month="{month}"]')
        expect(tj).to_have_attribute("data-status", "submitted")
        expect(tj).to_contain_text("revised")
        expect(board.locator(f'td[data-country="KG"][data-month="{month}"]')).to_have_attribute(
            "data-status", "due")
        tj.get_by_role("button").click()
        cell = page.locator("#network-cell")
        expect(cell).to_contain_text("late returns from Oybek")
        expect(cell).to_contain_text("4 → 9")
        expect(page.locator("#network-alert")).to_be_visible()
        shot(page, "network-board")
        serious = serious_violations(page)
        assert serious == [], json.dumps(serious, indent=1, ensure_ascii=False)
        context.close()

        context = new_context(browser, "ru")
        page = log_in(context, served.url + "/#/network", "analyst")
        expect(page.locator("#network-board")).to_contain_text("исправлено")
        expect(page.locator("h2")).to_have_text("Сеть анализа рисков")
        context.close()
