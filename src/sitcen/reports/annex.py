"""The risk analysis network's joint statistical annex of a quarter or a year, a hub's product.

Built from the indicator records the hub holds (``hub_tables``) with
:func:`sitcen.analysis.network.joint_annex`, the same function the
``/indicators/annex`` route answers with, so the annex and the screen agree:
the region's and each member's totals per indicator against the same period a
year before, which member did not submit a month, submitted it late or revised
it after submitting (the completeness board), and the monthly alerts of the
period (:func:`sitcen.analysis.network.monthly_alert`). docs/network.md.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pandas as pd

from sitcen.analysis.network import joint_annex, monthly_alert
from sitcen.indicator_list import INDICATORS
from sitcen.operations.indicator_submissions import completeness_board, hub_tables
from sitcen.reports.building import Build, _table, _text
from sitcen.sealing import seal


def annex_period(b: Build) -> str:
    """The annex's period as :func:`joint_annex` takes it: ``2026Q1`` or ``2026``."""
    start = b.period.start
    if b.product == "annex_quarterly":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def figure(value: float) -> int | float:
    """A total as a table shows it: whole numbers without a decimal point."""
    return int(value) if float(value).is_integer() else round(float(value), 2)


def _change(pct: float | None) -> str:
    return "–" if pct is None else f"{pct:+.1f}\u00a0%"


def _q(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _months_of(cells: list[dict[str, Any]]) -> str:
    """Members' months as a short list: ``UZ 2026-02, KG 2026-01 … 2026-06 (6)``."""
    by_member: dict[str, list[str]] = {}
    for cell in cells:
        by_member.setdefault(cell["country"], []).append(cell["month"])
    return ", ".join(f"{country} {months[0]}" if len(months) == 1 else
                     f"{country} {', '.join(months)}" if len(months) <= 3 else
                     f"{country} {months[0]} … {months[-1]} ({len(months)})"
                     for country, months in by_member.items())


def _indicator(b: Build, indicator: str) -> str:
    return b.labels(f"indicator.{indicator}")


def _region_block(b: Build, annex: dict[str, Any], members: int) -> dict[str, Any]:
    L = b.labels
    complete: dict[str, int] = {}
    for row in annex["countries"]:
        complete[row["indicator"]] = complete.get(row["indicator"], 0) + int(row["complete"])
    rows = []
    for indicator, item in INDICATORS.items():
        entry = annex["region"].get(indicator)
        if entry is None:
            continue
        rows.append([_indicator(b, indicator), L(f"indicator_unit.{item.unit.value}"),
                     figure(entry["total"]), figure(entry["year_before"]),
                     _change(entry["change_pct"]),
                     L("ui.console.network.received_of", n=complete.get(indicator, 0),
                       of=members)])
    return _table("region", L("ui.report.annex_region"),
                  [L("ui.console.network.indicator"), L("ui.report.annex_unit"),
                   L("ui.report.annex_total"), L("ui.report.annex_year_before"),
                   L("ui.report.change"), L("ui.report.annex_complete")],
                  rows, numeric=(2, 3, 4), empty=L("ui.report.annex_no_records"),
                  note=L("ui.report.annex_totals_note"))


def _countries_block(b: Build, annex: dict[str, Any], months: int) -> dict[str, Any]:
    L = b.labels
    held = {(r["indicator"], r["country"]): r for r in annex["countries"]}
    rows = []
    for indicator in INDICATORS:
        if indicator not in annex["region"]:
            continue
        for country in b.members:
            row = held.get((indicator, country))
            sent = 0 if row is None else row["months_sent"]
            rows.append([_indicator(b, indicator), country,
                         "–" if row is None else figure(row["total"]),
                         "–" if row is None else figure(row["year_before"]),
                         "–" if row is None else _change(row["change_pct"]),
                         L("ui.console.network.received_of", n=sent, of=months)
                         + ("" if sent == months else f" ({L('ui.report.annex_incomplete')})")])
    return _table("countries", L("ui.report.annex_countries"),
                  [L("ui.console.network.indicator"), L("ui.report.annex_member"),
                   L("ui.report.annex_total"), L("ui.report.annex_year_before"),
                   L("ui.report.change"), L("ui.report.annex_months")],
                  rows, numeric=(2, 3, 4), empty=L("ui.report.annex_no_records"))


def _revision_text(b: Build, revision: dict[str, Any]) -> str:
    before = "–" if revision["total_before"] is None else f"{figure(revision['total_before'])}"
    reason = f": {revision['reason']}" if revision.get("reason") else ""
    return (f"{_indicator(b, str(revision['indicator']))} {before} → "
            f"{figure(revision['total'] or 0)}{reason}")


def _submission_rows(b: Build, board: dict[str, Any]) -> list[list[Any]]:
    """A row per member and month not submitted on time or revised after submission."""
    L = b.labels
    rows = []
    for cell in board["cells"]:
        late_revisions = [r for r in cell["revisions"] if r["after_submission"]]
        if cell["status"] == "submitted" and not late_revisions:
            continue
        rows.append([cell["country"], cell["month"],
                     L(f"ui.console.network.status.{cell['status']}"), cell["deadline"],
                     "; ".join(_revision_text(b, r) for r in late_revisions) or "–"])
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


def _alert_rows(b: Build, alerts: list[dict[str, Any]]) -> list[list[Any]]:
    L = b.labels
    rows: list[list[Any]] = []
    for alert in alerts:
        for a in alert["indicators"]:
            where = (L("ui.console.network.region") if a["country"] == "region"
                     else a["country"])
            rows.append([alert["month"], f"{where}: {_indicator(b, a['indicator'])}",
                         L(f"ui.report.trend_{a['direction']}"), figure(a["observed"]),
                         figure(a["year_before"]),
                         f"{a['lower']:.0f}–{a['upper']:.0f}", _q(a["q"])])
        for a in alert["routes"]:  # a route names its place: withheld where sections are
            route = seal("section", L("ui.console.network.route", nationality=a["nationality"],
                                      place=a["place"], country=a["country"]))
            rows.append([alert["month"], route, L(f"ui.report.trend_{a['direction']}"),
                         figure(a["observed"]), figure(a["year_before"]), "–", _q(a["q"])])
    return rows


def _annex(b: Build, parts: list[str]) -> list[dict[str, Any]]:
    L = b.labels
    period = annex_period(b)
    members = list(b.members)
    totals, cells = hub_tables(b.engine, members)
    annex = joint_annex(totals, period)
    months = [str(m) for m in pd.period_range(annex["first"], annex["last"], freq="M")]
    today = b.now.astimezone(UTC).date()
    board = completeness_board(b.engine, members, months, today=today,
                               deadline_day=b.deadline_day)
    held = set(totals["month"].astype(str))
    past = [m for m in months if m in held]  # a month nobody sent has no alert to make
    alerts = [monthly_alert(totals, cells, m) for m in past] if not totals.empty else []
    complete = sum(1 for country in members
                   if all(r["complete"] for r in annex["countries"] if r["country"] == country)
                   and any(r["country"] == country for r in annex["countries"]))
    submissions = _submission_rows(b, board)
    summary = L("ui.report.annex_summary", period=period, first=months[0], last=months[-1],
                members=", ".join(members), complete=complete, count=len(members))
    missing = [c for c in board["cells"] if c["status"] == "missing"]
    if missing:
        summary += " " + L("ui.report.annex_not_submitted", cells=_months_of(missing))
    fired = sum(1 for a in alerts if a["fired"])
    summary += " " + L("ui.report.annex_alerts_fired", fired=fired, months=len(alerts))
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if part == "summary":
            blocks.append(_text(part, L("ui.report.summary"), summary))
        elif part == "region":
            blocks.append(_region_block(b, annex, len(members)))
        elif part == "countries":
            blocks.append(_countries_block(b, annex, len(months)))
        elif part == "submissions":
            blocks.append(_table(part, L("ui.report.annex_submissions"),
                                 [L("ui.report.annex_member"), L("ui.report.month"),
                                  L("ui.report.status"), L("ui.report.deadline"),
                                  L("ui.report.annex_revisions")], submissions,
                                 empty=L("ui.report.annex_all_submitted")))
        elif part == "network_alerts":
            blocks.append(_table(part, L("ui.report.annex_alerts"),
                                 [L("ui.report.month"), L("ui.report.series"),
                                  L("ui.report.annex_direction"), L("ui.report.annex_observed"),
                                  L("ui.report.annex_month_year_before"),
                                  L("ui.report.interval_95"), L("ui.report.annex_q")],
                                 _alert_rows(b, alerts), numeric=(3, 4, 6),
                                 empty=L("ui.report.annex_no_alerts"),
                                 note=L("ui.report.annex_alerts_note")))
    return blocks
