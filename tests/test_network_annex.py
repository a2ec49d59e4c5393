"""The network's joint statistical annex as a report product (issue 14): built at a hub holding
five members' months, its figures equal the ``/indicators/annex`` route's, a member that did
not submit is named, a late and a revised month are listed, a planted route surge is alerted,
and it renders to HTML, PDF and DOCX like every product."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from fastapi.testclient import TestClient

from sitcen.i18n import SUPPORTED, label
from sitcen.indicator_list import INDICATORS
from sitcen.node import Node
from sitcen.operations.indicator_records import IndicatorValue, MonthWrite, Source, write_months
from sitcen.operations.indicator_submissions import deadline_of, submit_month
from sitcen.reports.building import period_for
from sitcen.reports.labels import MISSING_MARK
from sitcen.reports.library import make_draft
from sitcen.reports.products import figures_of
from sitcen.reports.render import render
from sitcen.sealing import opened
from sitcen.users import Role
from test_reports import SCREENSHOTS, facts, needs_poppler

MEMBERS = ("KZ", "KG", "TJ", "TM", "UZ")
#: A whole year before this one: its first quarter is the annex's, the year before compared.
YEAR = datetime.now(UTC).year - 1
QUARTER = [f"{YEAR}-{m:02d}" for m in (1, 2, 3)]
MISSING = ("UZ", f"{YEAR}-02")  # never recorded nor submitted
LATE = ("KG", f"{YEAR}-02")
REVISED = ("KZ", f"{YEAR}-03")
REASON = "refusals at Khorgos reported late by the crossing point"
SURGE = ("TJ", f"{YEAR}-03")  # Afghan crossings into Tajikistan: 80 against 5 a year before


def _values(country: str, indicator: str, month: str) -> list[IndicatorValue]:
    """A month's values: a total from the country, month and indicator, and for the
    crossings a breakdown by place and nationality that sums to it."""
    base = 5 + MEMBERS.index(country) + list(INDICATORS).index(indicator)
    if indicator != "illegal_crossing_between_bcps":
        return [IndicatorValue(base, Source.entered)]
    afghans = 80 if (country, month) == SURGE else 5
    cells = [IndicatorValue(afghans, Source.entered, place=f"{country}-A", nationality="AF"),
             IndicatorValue(base, Source.entered, place=f"{country}-B", nationality="PK")]
    return [IndicatorValue(afghans + base, Source.entered), *cells]


def hold_members_months(node: Node) -> None:
    """The hub's store as five members' months reach it: the quarter and the one a year
    before, the quarter submitted (one month late, one revised after, one never)."""
    for country in MEMBERS:
        member = f"{country.lower()}-ncc"
        for month in [*QUARTER, *(m.replace(str(YEAR), str(YEAR - 1)) for m in QUARTER)]:
            if (country, month) == MISSING:
                continue
            write_months(node.engine, member, country, month,
                         [MonthWrite(i, _values(country, i, month)) for i in INDICATORS],
                         author="analyst", confirmed=True)
            if month not in QUARTER:
                continue
            deadline = deadline_of(month, 15)
            at = datetime(deadline.year, deadline.month, deadline.day, 9, tzinfo=UTC)
            submit_month(node.engine, member, country, month, author="analyst",
                         deadline_day=15, now=at + timedelta(days=4 if (country, month) == LATE
                                                             else -2))
    write_months(node.engine, "kz-ncc", *REVISED,
                 [MonthWrite("refusals_of_entry", [IndicatorValue(41, Source.entered)])],
                 author="analyst", reason=REASON, confirmed=True)


def _draft(client: TestClient, headers: dict[str, str], product: str, language: str = "en"
           ) -> dict[str, Any]:
    made = client.post("/api/v1/report-drafts", headers=headers, json={
        "product": product, "day": date(YEAR, 2, 10).isoformat(), "language": language})
    assert made.status_code == 201, made.text
    draft: dict[str, Any] = made.json()
    return draft


def _route_annex(client: TestClient, headers: dict[str, str], period: str) -> dict[str, Any]:
    answer = client.get("/api/v1/indicators/annex", headers=headers, params={"period": period})
    assert answer.status_code == 200, answer.text
    annex: dict[str, Any] = answer.json()
    return annex


def test_the_annex_equals_the_route_and_names_the_missing_member(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    hold_members_months(node)
    analyst = as_role(Role.analyst)
    for product, period in (("annex_quarterly", f"{YEAR}Q1"), ("annex_annual", str(YEAR))):
        content = _draft(client, analyst, product)["content"]
        annex = _route_annex(client, analyst, period)
        figures = figures_of(content)
        labels = {i: label(f"indicator.{i}", "en") for i in INDICATORS}
        region = {row[0]: (float(row[2]), float(row[3]), row[4]) for row in figures["region"]}
        assert region == {labels[i]: (e["total"], e["year_before"],
                                      "–" if e["change_pct"] is None
                                      else f"{e['change_pct']:+.1f}\u00a0%")
                          for i, e in annex["region"].items()}
        by_member = {(row[0], row[1]): (float(row[2]), float(row[3]))
                     for row in figures["countries"] if row[2] != "–"}
        assert by_member == {(labels[r["indicator"]], r["country"]):
                             (r["total"], r["year_before"]) for r in annex["countries"]}
        assert len(figures["countries"]) == len(INDICATORS) * len(MEMBERS)
    # The quarter: Uzbekistan's February is named missing (in the summary and the table),
    # Kyrgyzstan's February late, Kazakhstan's March revised after submission, with reason.
    content = _draft(client, analyst, "annex_quarterly")["content"]
    figures = figures_of(content)
    summary = content["blocks"][0]["text"]
    assert f"Not submitted: UZ {YEAR}-02." in summary
    assert "4 of 5 members sent every month" in summary
    rows = {(row[0], row[1]): row for row in figures["submissions"]}
    assert set(rows) == {MISSING, LATE, REVISED}
    assert rows[MISSING][2] == "missing" and rows[LATE][2] == "late"
    assert rows[REVISED][2] == "submitted"
    assert rows[REVISED][4] == f"Refusals of entry 10 → 41: {REASON}"
    uz_crossings = next(row for row in figures["countries"]
                        if row[0] == "Illegal border crossings between crossing points"
                        and row[1] == "UZ")
    assert uz_crossings[5] == "2 of 3 (incomplete)"
    # The planted surge: the monthly alert of March names the route into Tajikistan.
    alerts = figures["network_alerts"]
    assert any(row[0] == f"{YEAR}-03" and opened(row[1]) == "AF via TJ-A into TJ"
               and row[3] == 80 for row in alerts), alerts


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_annex_renders_in_every_language(node: Node) -> None:
    hold_members_months(node)
    for lang in SUPPORTED:
        content = make_draft(node.engine, facts(node), product="annex_quarterly",
                             day=date(YEAR, 2, 10), by="analyst", language=lang).body["content"]
        html = render(content, "html").decode()
        assert content["title"] in html and f"{YEAR}Q1" in html
        assert MISSING_MARK not in html, f"{lang}: a label is not translated"
        if lang == "ru":  # the same content makes the DOCX, with real tables
            words = docx.Document(io.BytesIO(render(content, "docx")))
            assert any(p.text == content["title"] for p in words.paragraphs)
            rows = [[c.text for c in row.cells] for t in words.tables for row in t.rows]
            missing = label("ui.console.network.status.missing", "ru")
            assert ["UZ", f"{YEAR}-02", missing] in [row[:3] for row in rows]


@needs_poppler
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_annex_pdf_holds_the_regional_figures_and_is_pictured_for_the_docs(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]],
        tmp_path: Path) -> None:
    hold_members_months(node)
    analyst = as_role(Role.analyst)
    draft = _draft(client, analyst, "annex_quarterly", "ru")
    pdf = client.get(f"/api/v1/report-drafts/{draft['id']}/document.pdf", headers=analyst)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "annex.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert draft["content"]["title"] in " ".join(text.split())
    region = _route_annex(client, analyst, f"{YEAR}Q1")["region"]
    refusals = region["refusals_of_entry"]
    name = label("indicator.refusals_of_entry", "ru")
    line = next(x for x in text.splitlines() if x.strip().startswith(name))
    assert re.search(rf"\s{refusals['total']:g}\s+{refusals['year_before']:g}\s", line), line
    # Its first page beside the other products' in docs/reports.md.
    stem = SCREENSHOTS / "report-annex_quarterly-ru"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                    str(path), str(stem)], check=True)
    assert stem.with_suffix(".png").stat().st_size > 10_000


@pytest.mark.parametrize(("day", "first", "following"), [
    (date(2026, 2, 10), date(2026, 1, 1), date(2026, 4, 1)),
    (date(2026, 6, 30), date(2026, 4, 1), date(2026, 7, 1)),
    (date(2026, 11, 30), date(2026, 10, 1), date(2027, 1, 1)),
])
def test_the_quarterly_annex_covers_the_calendar_quarter_of_its_day(
        day: date, first: date, following: date) -> None:
    zone = ZoneInfo("Asia/Almaty")
    period = period_for("annex_quarterly", day, zone)
    assert (period.start, period.end) == (datetime.combine(first, time(0), zone),
                                          datetime.combine(following, time(0), zone))
    year = period_for("annex_annual", day, zone)
    assert (year.start.date(), year.end.date()) == (date(day.year, 1, 1),
                                                    date(day.year + 1, 1, 1))
