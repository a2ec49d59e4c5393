"""Patrol plans in the console (issue 17), in Debian's Chromium driven by Playwright: a duty
officer opens a post's plan, moves one team to another section, sees the change saved, and
finds it there after a reload; the node keeps it as its own record beside the plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from console_browser import (
    Site,
    expect,
    go_to,
    log_in_to_map,
    new_context,
    open_node,
    require_console,
    serve_site,
    shot,
)
from sitcen.operations.patrols import PatrolPlanCreate, compute_plan
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records
from sitcen.testing import wait_until
from sitcen.users import Role

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

USERS = [("duty", Role.duty_officer), ("operator", Role.operator)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_console()
    node = open_node(tmp_path_factory.mktemp("patrols"), USERS)
    item = PatrolPlanCreate.model_validate({
        "post_id": "AF-TJ-PANJI-POYON", "day": date(2026, 1, 15).isoformat(), "seed": 3,
        "teams": [{"team_id": "tj-panj-1", "hours": 8}, {"team_id": "tj-panj-2", "hours": 16}]})
    compute_plan(node.engine, node.settings.node_id, node.sections, item,
                 risk={"AF-TJ-004": 0.8, "AF-TJ-003": 0.5}, by="duty")
    yield from serve_site(node)


def test_open_a_plan_adjust_one_assignment_and_see_it_saved(browser: Any, site: Site) -> None:
    (plan,) = list_records(site.node.engine, RecordKind.patrol_plan)
    first = plan.body["schedule"][0]
    elsewhere = next(s["section_id"] for s in plan.body["sections"]
                     if s["section_id"] != first["section_id"]
                     and s["section_id"] not in plan.body["closed"])
    context = new_context(browser)
    page = log_in_to_map(context, site.url + "/", "duty")
    go_to(page, "patrols")
    page.select_option("#patrol-plan", plan.id)
    view = page.locator(f'#patrol-plan-view[data-plan="{plan.id}"]')
    expect(view).to_be_visible()
    expect(view.locator("table.patrol-sections tbody tr")).to_have_count(
        len(plan.body["sections"]))
    row = view.locator(f'table.patrol-schedule tr[data-team="{first["team_id"]}"]'
                       f'[data-shift="{first["shift"]}"]')
    expect(row.locator("select.patrol-move")).to_have_value(first["section_id"])
    row.locator("select.patrol-move").select_option(elsewhere)
    expect(page.locator("#patrol-saved")).to_contain_text(first["team_id"])
    expect(row.locator(".badge.adjusted")).to_be_visible()
    expect(row.locator("select.patrol-move")).to_have_value(elsewhere)
    wait_until(lambda: len(list_records(site.node.engine, RecordKind.patrol_adjustment,
                                        subject=plan.id)) == 1)
    (adjustment,) = list_records(site.node.engine, RecordKind.patrol_adjustment,
                                 subject=plan.id)
    assert adjustment.body["section_id"] == elsewhere
    assert adjustment.body["previous_section_id"] == first["section_id"]
    assert adjustment.body["by"] == "duty"
    expect(page.locator("#patrol-csv")).to_have_attribute(
        "href", f"/api/v1/patrols/plans/{plan.id}/schedule.csv")
    shot(page, "patrols")
    # Saved on the node: after a reload the plan opens with the team where it was moved.
    page.reload()
    expect(view).to_be_visible()
    expect(row.locator("select.patrol-move")).to_have_value(elsewhere)
    context.close()


def test_an_operator_reads_the_plan_without_changing_it(browser: Any, site: Site) -> None:
    (plan,) = list_records(site.node.engine, RecordKind.patrol_plan)
    context = new_context(browser)
    page = log_in_to_map(context, site.url + "/", "operator")
    go_to(page, "patrols")
    page.select_option("#patrol-plan", plan.id)
    view = page.locator(f'#patrol-plan-view[data-plan="{plan.id}"]')
    expect(view.locator("table.patrol-schedule tbody tr").first).to_be_visible()
    expect(view.locator("select.patrol-move")).to_have_count(0)
    expect(page.locator("form.patrol-form")).to_have_count(0)
    context.close()
