"""The risk analysis network in the federated demo (issue 14): monthly indicators to a hub.

Each national centre holds three years of its monthly indicator records (the
illegal crossings and refusals of entry by place and nationality; every
indicator of the list for the last three months) and has submitted its last
three months: Turkmenistan the month before last after the deadline, and
Kazakhstan revised last month's refusals of entry after submitting it. A surge
of Afghan crossings into Tajikistan is planted in the last month. The records
and submissions travel to the network's hub (``ca-ran-hub``) under written
agreements; the hub passes the others' totals (and, to Kyrgyzstan, their
nationalities) back to each member. The demo prints the hub's completeness
board and its joint analysis of the last month; ``--check`` verifies them.

Seeding happens in the demo's own process, before the nodes start, with the
functions behind the indicator routes (checks included: the jumps are
confirmed, as an analyst would).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd

HUB = "ca-ran-hub"
NCCS = ("kz-ncc", "kg-ncc", "tj-ncc", "tm-ncc", "uz-ncc")
#: The border section each centre's figures are placed on (one per country, for a demo).
PLACES = {"KZ": "CN-KZ-001", "KG": "KG-TJ-001", "TJ": "AF-TJ-001", "TM": "AF-TM-001",
          "UZ": "AF-UZ-001"}
NATIONALITIES = ("AF", "PK", "IN", "BD")
HISTORY_INDICATORS = ("illegal_crossing_between_bcps", "illegal_crossing_at_bcps",
                      "refusals_of_entry")
LATE, REVISED = "tm-ncc", "kz-ncc"
REVISION_REASON = "refusals at Khorgos reported late by the crossing point"

UP = """\
id: {src}-to-ca-ran-hub
version: 1
from_node: {src}
to_node: ca-ran-hub
direction: peer
purpose: Monthly figures on the network's common indicator list, with every breakdown.
kinds: [indicator_record, indicator_submission]
handling_ceiling: AMBER
indicator_breakdowns: [place, nationality, document_kind, substance]
onward_sharing: true
"""

DOWN = """\
id: ca-ran-hub-to-{dst}
version: 1
from_node: ca-ran-hub
to_node: {dst}
direction: peer
purpose: The other members' monthly figures, {what}.
kinds: [indicator_record, indicator_submission]
handling_ceiling: AMBER
indicator_breakdowns: {breakdowns}
"""


def last_month(today: date) -> str:
    """The last whole month."""
    return str(pd.Period(today, freq="M") - 1)


def agreements() -> list[tuple[str, str, str]]:
    """(node, partner, document) of every written agreement of the network."""
    out = []
    for ncc in NCCS:
        out.append((ncc, HUB, UP.format(src=ncc)))
        by_nationality = ncc == "kg-ncc"
        out.append((HUB, ncc, DOWN.format(
            dst=ncc, what="totals and nationalities" if by_nationality else "totals only",
            breakdowns="[nationality]" if by_nationality else "[]")))
    return out


def _month_values(country: str, indicator: str, month: pd.Period,
                  rng: np.random.Generator, surge: bool) -> list[Any]:
    from sitcen.indicator_list import INDICATORS
    from sitcen.operations.indicator_records import IndicatorValue, Source

    item = INDICATORS[indicator]
    takes = {b.value for b in item.breakdowns}
    season = 1.0 + 0.8 * np.exp(-((month.month - 7) ** 2) / 4.0)
    base = 5 if indicator == "refusals_of_entry" else 12
    if not {"place", "nationality"} <= takes or indicator not in HISTORY_INDICATORS:
        total = int(rng.poisson(3 * season))
        return [IndicatorValue(total if item.unit.value != "kg" else total * 1.5,
                               Source.entered)]
    cells = []
    for i, nationality in enumerate(NATIONALITIES):
        value = int(rng.poisson(base * season / (i + 1)))
        if surge and nationality == "AF" and indicator == "illegal_crossing_between_bcps":
            value = value * 3 + 60
        cells.append(IndicatorValue(value, Source.entered, place=PLACES[country],
                                    nationality=nationality))
    return [IndicatorValue(sum(c.value for c in cells), Source.entered), *cells]


def seed(engine: Any, node_id: str, country: str, today: date) -> None:
    """Three years of a centre's months, its last three submitted (see the module)."""
    from sitcen.indicator_list import INDICATORS
    from sitcen.operations.indicator_records import IndicatorValue, MonthWrite, Source, write_months
    from sitcen.operations.indicator_submissions import deadline_of, submit_month

    rng = np.random.default_rng(sum(map(ord, node_id)))
    last = pd.Period(last_month(today), freq="M")
    for month in pd.period_range(last - 35, last, freq="M"):
        whole = month > last - 3
        wanted = list(INDICATORS) if whole else list(HISTORY_INDICATORS)
        surge = country == "TJ" and month == last
        write_months(engine, node_id, country, str(month),
                     [MonthWrite(i, _month_values(country, i, month, rng, surge))
                      for i in wanted], author="analyst", confirmed=True)
        if not whole:
            continue
        deadline = deadline_of(str(month), 15)
        at = datetime(deadline.year, deadline.month, deadline.day, 10, tzinfo=UTC) - timedelta(
            days=3)
        if node_id == LATE and month == last - 1:
            at = datetime(deadline.year, deadline.month, deadline.day, 10, tzinfo=UTC) + \
                timedelta(days=6)
        submit_month(engine, node_id, country, str(month), author="analyst", deadline_day=15,
                     now=min(at, datetime.now(UTC)))
    if node_id == REVISED:
        write_months(engine, node_id, country, str(last),
                     [MonthWrite("refusals_of_entry", [IndicatorValue(41, Source.entered)])],
                     author="analyst", reason=REVISION_REASON, confirmed=True)


def board_lines(board: dict[str, Any]) -> list[str]:
    """The completeness board as a few lines of text."""
    lines = ["month    " + "  ".join(f"{c:>10}" for c in board["countries"]) + "  received"]
    cells = {(c["country"], c["month"]): c for c in board["cells"]}
    for month in board["months"]:
        row = []
        for country in board["countries"]:
            cell = cells[(country, month)]
            row.append(f"{cell['status'] + ('*' if cell['revised'] else ''):>10}")
        summary = board["summary"][month]
        lines.append(f"{month}  " + "  ".join(row)
                     + f"  {summary['received']}/{summary['expected']}")
    lines.append("(* revised: " + "; ".join(
        f"{c['country']} {c['month']} {r['indicator']} {r['total_before']} -> {r['total']}: "
        f"{r['reason']}" for c in board["cells"] for r in c["revisions"]) + ")")
    return lines


def analysis_lines(analysis: dict[str, Any]) -> list[str]:
    """The month's joint analysis as a few lines of text."""
    lines = [f"joint analysis of {analysis['month']} ({analysis['countries_reporting']} "
             "members reporting):"]
    totals = analysis["regional_totals"]
    for indicator in HISTORY_INDICATORS:
        ahead = (analysis["forecasts"].get(indicator) or [{}])[0]
        lines.append(f"  {indicator}: regional total {totals.get(indicator, 0):g}; next month "
                     f"{ahead.get('forecast', 0):.0f} (95 % {ahead.get('lower_95', 0):.0f}-"
                     f"{ahead.get('upper_95', 0):.0f})")
    alert = analysis["alert"]
    for a in alert["indicators"]:
        lines.append(f"  ALERT {a['country']} {a['indicator']} {a['direction']}: "
                     f"{a['observed']:g} outside {a['lower']:.0f}-{a['upper']:.0f} "
                     f"(a year before {a['year_before']:g}, q {a['q']:.1g})")
    for a in alert["routes"]:
        lines.append(f"  ALERT route {a['nationality']} -> {a['place']} -> {a['country']} "
                     f"{a['direction']}: {a['observed']:g} (a year before {a['year_before']:g}, "
                     f"q {a['q']:.1g})")
    if not alert["fired"]:
        lines.append("  no alert")
    return lines


def fetch(client: httpx.Client, url: str, headers: dict[str, str], today: date
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The hub's board of the last three months and its analysis of the last month."""
    last = pd.Period(last_month(today), freq="M")
    board = client.get(f"{url}/api/v1/indicators/board", headers=headers,
                       params={"first": str(last - 2), "last": str(last)}).json()
    analysis = client.get(f"{url}/api/v1/indicators/analysis", headers=headers,
                          params={"month": str(last)}).json()
    return board, analysis


def member_view(client: httpx.Client, url: str, headers: dict[str, str], today: date
                ) -> dict[str, Any] | None:
    """What the Tajik centre at ``url`` holds of Uzbekistan's crossings between crossing points
    in the last month (passed on by the hub), or None while it holds nothing."""
    answer = client.get(f"{url}/api/v1/indicators/{last_month(today)}/"
                        "illegal_crossing_between_bcps", headers=headers,
                        params={"country": "UZ"})
    return answer.json() if answer.status_code == 200 else None


def check(board: dict[str, Any], analysis: dict[str, Any], member_view: dict[str, Any],
          today: date) -> tuple[list[str], str]:
    """Problems (none when all is well) and the line saying what the hub showed."""
    problems = []
    last = pd.Period(last_month(today), freq="M")
    summary = board.get("summary", {})
    if summary.get(str(last), {}).get("received") != len(NCCS):
        problems.append(f"the network hub's board shows {summary.get(str(last))} for {last}")
    late = [c["country"] for c in board.get("cells", []) if c["status"] == "late"]
    if late != ["TM"]:
        problems.append(f"late at the hub: {late} (expected TM)")
    revised = [c["country"] for c in board.get("cells", []) if c["revised"]]
    if revised != ["KZ"]:
        problems.append(f"revised at the hub: {revised} (expected KZ)")
    revisions = [r for c in board.get("cells", []) for r in c["revisions"]]
    if not any(r["reason"] == REVISION_REASON and r["total"] == 41
               and r["total_before"] is not None and r["after_submission"] for r in revisions):
        problems.append(f"Kazakhstan's revision after submission, with its reason and the "
                        f"total before, is not on the hub's board: {revisions}")
    routes = analysis.get("alert", {}).get("routes", [])
    if not any(r["country"] == "TJ" and r["nationality"] == "AF" for r in routes):
        problems.append("the planted surge of Afghan crossings into Tajikistan raised no alert")
    values = member_view.get("values")
    if not values or any(len(v) > 2 for v in values):
        problems.append(f"a member sees another's breakdown it was not granted: {values}")
    return problems, (f"check network: {summary.get(str(last), {}).get('received')} of "
                      f"{len(NCCS)} months at the hub for {last}, late {late}, revised "
                      f"{revised}, {len(routes)} route alert(s)")
