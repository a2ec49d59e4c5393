"""Products from the node's own data: figures equal the statistics API, every language renders,
drafts are edited and issued as signed records, templates are validated."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import lxml.html
import pytest
from fastapi.testclient import TestClient

from conftest import iso, report
from sitcen.events import EventCreate
from sitcen.exchange.identity import NodeIdentity
from sitcen.i18n import SUPPORTED, format_day
from sitcen.node import Node
from sitcen.reports.labels import MISSING_MARK
from sitcen.reports.library import NodeFacts, make_draft, verify_report
from sitcen.reports.render import render
from sitcen.reports.templates import PRODUCTS, TemplateError, load_template
from sitcen.sealing import tags_present
from sitcen.store.events import report_events
from sitcen.store.levels import confirm_level
from sitcen.store.recommendations import add_recommendation
from sitcen.users import Role

ZONE = ZoneInfo("Asia/Dushanbe")
# Places on three Tajik borders (AF-TJ near Nizhny Panj, KG-TJ near Isfara, TJ-UZ near Khujand).
PLACES = [(68.60, 37.22), (70.80, 39.95), (69.35, 40.45)]
TYPES: list[dict[str, Any]] = [
    {"type": "green_border_crossing", "details": {"stage": "actual", "direction": "entry"},
     "impact_level": "low"},
    {"type": "drug_smuggling", "impact_level": "high"},
    {"type": "natural_disaster", "details": {"hazard": "mudflow"}, "impact_level": "very_high",
     "persons": []},
    {"type": "suspicious_person", "details": {}, "impact_level": "medium", "persons": []},
]


def pdftotext_missing() -> bool:
    return shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None


needs_poppler = pytest.mark.skipif(pdftotext_missing(), reason="poppler-utils not installed "
                                   "(make system-deps); fails under CI")


def the_day() -> date:
    """Three days ago in Dushanbe: complete, with a previous day and a year before."""
    return datetime.now(ZONE).date() - timedelta(days=3)


def seed(node: Node) -> dict[str, int]:
    """Events on the day, the day before and a year before (at noon local): a known mix."""
    day = the_day()
    items = []
    for offset, repeat in ((0, 3), (-1, 2), (-364, 1)):
        noon = datetime.combine(day + timedelta(days=offset), time(12), ZONE)
        for i in range(repeat):
            for t, kind in enumerate(TYPES):
                lon, lat = PLACES[(i + t) % len(PLACES)]
                items.append(report(**{**kind, "occurred_at": iso(noon + timedelta(minutes=i)),
                                       "location": {"lon": lon, "lat": lat}}))
    # Late on the day in Dushanbe is already the next day in UTC: it belongs to the day here.
    late = datetime.combine(day, time(23, 30), ZONE)
    items.append(report(occurred_at=iso(late)))
    written = report_events(node.engine, node.reporter,
                            [EventCreate.model_validate(x) for x in items], batch=True)
    return {"events": len(written)}


def with_identity(node: Node) -> Node:
    identity = NodeIdentity.generate(node.settings.node_id)
    identity.save(node.settings.identity_dir)
    node.identity = identity
    return node


def facts(node: Node) -> NodeFacts:
    s = node.settings
    return NodeFacts(s.node_id, s.node_name, s.node_country, tuple(node.sections.sections),
                     node.identity)


def _rows(html: str, part: str) -> list[list[str]]:
    page = lxml.html.fromstring(html)
    section = page.xpath(f"//section[@data-part='{part}']")[0]
    return [[cell.text_content().strip() for cell in tr.xpath("./td")]
            for tr in section.xpath(".//tbody/tr")]


def test_daily_report_figures_equal_the_statistics_api(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    seed(node)
    day = the_day()
    made = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                       json={"product": "daily", "day": day.isoformat(), "language": "en"})
    assert made.status_code == 201, made.text
    html = client.get(f"/api/v1/report-drafts/{made.json()['id']}/document.html",
                      headers=as_role(Role.analyst)).text
    start = datetime.combine(day, time(0), ZONE)
    stats: dict[int, dict[str, int]] = {}
    for shift in (0, -1, -364):
        since = start + timedelta(days=shift)
        answer = client.get("/api/v1/stats/categories", headers=as_role(Role.analyst), params={
            "since": since.isoformat(), "until": (since + timedelta(days=1)).isoformat(),
            "tz": "Asia/Dushanbe", "country": "TJ", "bucket": "day"}).json()
        stats[shift] = {s["category"]: sum(s["counts"]) for s in answer["series"]}
    rows = _rows(html, "categories")
    assert len(rows) == 5  # four categories and the total
    for row, category in zip(rows, ["unauthorised_crossing", "cross_border_crime", "crisis",
                                    "other"], strict=False):
        assert [int(x) for x in row[1:4]] == [stats[0][category], stats[-1][category],
                                              stats[-364][category]]
    assert int(rows[4][1]) == sum(stats[0].values()) == 13  # 3 x 4 types + the late one
    sections = client.get("/api/v1/stats/sections", headers=as_role(Role.analyst), params={
        "since": start.isoformat(), "until": (start + timedelta(days=1)).isoformat(),
        "tz": "Asia/Dushanbe", "country": "TJ", "limit": 100}).json()["sections"]
    by_section = {r[0]: (int(r[1]), int(r[2])) for r in _rows(html, "sections")}
    assert by_section == {s["section_id"]: (s["count"], s["previous"]) for s in sections}
    serious = _rows(html, "serious_events")
    assert len(serious) == 3 * 2  # drug seizures (high) and mudflows (very high)


@pytest.mark.parametrize("language", ["ru", "uz-Cyrl"])
def test_daily_summary_names_the_centres_local_day_in_the_reports_language(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]],
        language: str) -> None:
    # The event at 23:30 in Dushanbe is already the next day in UTC; it counts on the day.
    seed(node)
    made = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                       json={"product": "daily", "day": the_day().isoformat(),
                             "language": language})
    assert made.status_code == 201, made.text
    summary = made.json()["content"]["blocks"][0]["text"]
    assert format_day(the_day(), language) in summary
    assert " 13 " in summary.replace("\u00a0", " ")


@needs_poppler
def test_daily_report_pdf_text_holds_the_figures(node: Node, client: TestClient,
                                                 as_role: Callable[[Role], dict[str, str]],
                                                 tmp_path: Path) -> None:
    seed(node)
    made = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                       json={"product": "daily", "day": the_day().isoformat(),
                             "language": "ru"}).json()
    pdf = client.get(f"/api/v1/report-drafts/{made['id']}/document.pdf",
                     headers=as_role(Role.analyst))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "daily.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Ежедневная сводка об обстановке" in text
    total = next(line for line in text.splitlines() if line.strip().startswith("Всего"))
    assert total.split()[1:4] == ["13", "8", "4"]  # day, day before, a year before
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout
    listed = [line.split()[0] for line in fonts.splitlines()[2:]]
    # Only the shipped font, embedded (no system font stands in anywhere on the page).
    assert listed and all("DejaVu-Sans" in name for name in listed), fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("product", PRODUCTS)
def test_every_product_renders_in_every_language(node: Node, product: str) -> None:
    seed(node)
    with_identity(node)
    add_recommendation(node.engine, node.settings.node_id, section_id="AF-TJ-001",
                       text="Second observation tower", owner="Panj detachment",
                       deadline=the_day(), created_by="analyst")
    for lang in SUPPORTED:
        draft = make_draft(node.engine, facts(node), product=product, day=the_day(), by="analyst",
                           language=lang, area=["AF-TJ-*"] if product == "tactical" else None)
        content = draft.body["content"]
        assert content["language"] == lang
        html = render(content, "html").decode()
        assert content["title"] in html
        if lang == "en":
            assert MISSING_MARK not in html and content["missing_note"] is None
        else:  # complete catalogues: only the analysis' own English reasons are marked
            assert (MISSING_MARK in html) == (content["missing_note"] is not None)
            if content["missing_note"] is not None:
                assert content["missing_note"] in html
        if lang == "ru":  # the same content makes the DOCX; once per product is enough
            words = docx.Document(io.BytesIO(render(content, "docx")))
            assert any(p.text == content["title"] for p in words.paragraphs)


@needs_poppler
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pdf_prints_every_script(node: Node, tmp_path: Path) -> None:
    """Kazakh, Kyrgyz, Tajik (Cyrillic), Turkmen and Uzbek (Latin) letters survive into the PDF."""
    seed(node)
    for lang, word in (("kk", "Жағдай"), ("ky", "Кырдаал"), ("tg", "ҳаррӯзаи"),
                       ("tk", "Ýagdaý"), ("uz", "Vaziyat")):
        draft = make_draft(node.engine, facts(node), product="daily", day=the_day(),
                           by="analyst", language=lang)
        path = tmp_path / f"{lang}.pdf"
        path.write_bytes(render(draft.body["content"], "pdf"))
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert word in text, lang


def test_draft_commentary_issue_and_signature(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    seed(node)
    with_identity(node)
    confirm_level(node.engine, node.settings.node_id, "AF-TJ-001", level="high",
                  proposed_level=None, reasons=[], reactions=[], confirmed_by="duty-officer",
                  justification="armed group seen on the other bank")
    draft = client.post("/api/v1/report-drafts", headers=as_role(Role.duty_officer),
                        json={"product": "daily", "day": the_day().isoformat(),
                              "language": "en"}).json()
    assert client.post("/api/v1/report-drafts", headers=as_role(Role.operator),
                       json={"product": "daily"}).status_code == 403
    edited = client.patch(f"/api/v1/report-drafts/{draft['id']}", headers=as_role(Role.analyst),
                          json={"commentary": {"0": "Quiet night on the Panj; watch Isfara."},
                                "texts": {"0": "Rewritten summary."}, "base_version": 1})
    assert edited.status_code == 200, edited.text
    stale = client.patch(f"/api/v1/report-drafts/{draft['id']}", headers=as_role(Role.analyst),
                         json={"commentary": {"1": "late"}, "base_version": 1})
    assert stale.status_code == 409 and stale.json()["detail"][0]["loc"] == ["body",
                                                                             "base_version"]
    bad = client.patch(f"/api/v1/report-drafts/{draft['id']}", headers=as_role(Role.analyst),
                       json={"texts": {"1": "a table is not a text"}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "texts"]
    issued = client.post(f"/api/v1/report-drafts/{draft['id']}/issue",
                         headers=as_role(Role.duty_officer), json={"base_version": 2})
    assert issued.status_code == 201, issued.text
    report_id = issued.json()["id"]
    assert issued.json()["signature_valid"] is True
    again = client.post(f"/api/v1/report-drafts/{draft['id']}/issue",
                        headers=as_role(Role.duty_officer), json={})
    assert again.status_code == 422
    detail = client.get(f"/api/v1/reports/{report_id}", headers=as_role(Role.liaison)).json()
    assert detail["signature"]["by"] == "duty-officer"
    assert detail["content"]["blocks"][0]["text"] == "Rewritten summary."
    html = client.get(f"/api/v1/reports/{report_id}/document.html",
                      headers=as_role(Role.liaison)).text
    assert "Quiet night on the Panj; watch Isfara." in html and "signature checked: valid" in html
    tampered = {**detail, "content": {**detail["content"], "title": "Forged"}}
    assert not verify_report(tampered, node.identity.public_key_text,  # type: ignore[union-attr]
                             record_id=report_id)
    library = client.get("/api/v1/reports", headers=as_role(Role.liaison)).json()["reports"]
    assert [r["id"] for r in library] == [report_id]
    # A correction is the next version of the same report, signed again.
    reopened = client.post(f"/api/v1/reports/{report_id}/correction",
                           headers=as_role(Role.analyst)).json()
    client.patch(f"/api/v1/report-drafts/{reopened['draft_id']}", headers=as_role(Role.analyst),
                 json={"commentary": {"1": "Corrected figures."}})
    corrected = client.post(f"/api/v1/report-drafts/{reopened['draft_id']}/issue",
                            headers=as_role(Role.analyst), json={}).json()
    assert corrected["id"] == report_id and corrected["version"] == 2
    assert corrected["signature_valid"] is True and corrected["issued_by"] == "analyst"
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK")):
        got = client.get(f"/api/v1/reports/{report_id}/document.{fmt}",
                         headers=as_role(Role.analyst))
        assert got.status_code == 200 and got.content.startswith(magic)
    withdrawn = client.post(f"/api/v1/reports/{report_id}/withdraw",
                            headers=as_role(Role.duty_officer), json={"reason": "duplicate"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_issue_needs_a_signing_key(node: Node, client: TestClient,
                                   as_role: Callable[[Role], dict[str, str]]) -> None:
    draft = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                        json={"product": "daily"}).json()
    refused = client.post(f"/api/v1/report-drafts/{draft['id']}/issue",
                          headers=as_role(Role.analyst), json={})
    assert refused.status_code == 409
    assert "sitcen init" in refused.json()["detail"][0]["msg"]


BROKEN_TEMPLATE = """\
id: tj-ncc-daily
product: daily
language: fr
parts: [summary, weather]
logo: "https://example.org/logo.png"
"""


def test_a_broken_template_is_refused_with_line_and_field(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    with pytest.raises(TemplateError) as caught:
        load_template(BROKEN_TEMPLATE, source="tj.yaml")
    message = str(caught.value)
    assert "tj.yaml: line 3, column 1: language: Value error, no catalogue for 'fr'" in message
    assert "line 4, column 1: parts: Value error, unknown part 'weather'" in message
    assert "line 5, column 1: logo" in message
    refused = client.put("/api/v1/report-templates", headers=as_role(Role.analyst),
                         content=BROKEN_TEMPLATE)
    assert refused.status_code == 422
    assert {(e["loc"][1], e["msg"].split(",")[0]) for e in refused.json()["detail"]} == {
        ("language", "line 3"), ("parts", "line 4"), ("logo", "line 5")}
    assert client.put("/api/v1/report-templates", headers=as_role(Role.operator),
                      content="id: x").status_code == 403


@pytest.mark.parametrize(("product", "day"), [
    ("daily", "0001-01-01"), ("annex_quarterly", "0009-01-01"), ("annex_annual", "1899-01-01"),
    ("annex_annual", "2101-01-01")])
def test_a_draft_for_a_day_outside_the_nodes_years_is_refused(
        client: TestClient, as_role: Callable[[Role], dict[str, str]], product: str, day: str
        ) -> None:
    """Schemathesis found these answered 500 (the day before 0001-01-01, a quarter label of
    the year 9): a draft's day lies in 2000-2100 like every day of the node's work."""
    refused = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                          json={"product": product, "day": day})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "day"]


def test_a_template_chooses_sections_parts_header_and_language(
        node: Node, client: TestClient, as_role: Callable[[Role], dict[str, str]]) -> None:
    seed(node)
    template = ("id: panj-daily\nproduct: daily\nlanguage: en\ncentre_level: regional\n"
                "sections: [AF-TJ-*]\nheader: Panj border detachment\n"
                "parts: [summary, sections, categories]\n")
    saved = client.put("/api/v1/report-templates", headers=as_role(Role.analyst),
                       content=template)
    assert saved.status_code == 201, saved.text
    draft = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                        json={"product": "daily", "day": the_day().isoformat(),
                              "template_id": "panj-daily"}).json()
    content = draft["content"]
    assert [b["part"] for b in content["blocks"]] == ["summary", "sections", "categories"]
    assert content["centre"]["level"] == "regional"
    html = client.get(f"/api/v1/report-drafts/{draft['id']}/document.html",
                      headers=as_role(Role.analyst)).text
    assert "Panj border detachment" in html
    assert {r[0][:5] for r in _rows(html, "sections")} == {"AF-TJ"}
    unknown = client.post("/api/v1/report-drafts", headers=as_role(Role.analyst),
                          json={"product": "daily", "template_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == [
        "body", "template_id"]


def test_open_tasks_and_requests_appear_in_the_daily_report(node: Node) -> None:
    """Open work as the shift and cooperation pages see it: tasks with their answers
    applied, requests still owed an answer; finished work is left out."""
    from sitcen.operations.requests import RequestCreate, create_request
    from sitcen.operations.tasks import TaskCreate, create_task, known_units, update_own_task

    node_id = node.settings.node_id
    now = datetime.now(UTC)
    create_request(node.engine, node_id, RequestCreate.model_validate({
        "to_node": "kg-ncc", "title": "Who owns the boat seized at Panj?",
        "text": "The registration points to a Kyrgyz company.",
        "due_at": "2040-01-15T06:00:00Z"}), by="duty", reachable=["kg-ncc"], now=now)
    units = known_units(node.engine, {"tj-post-panj": "Panj post"})
    section = node.sections.sections[0].id
    tasks = [create_task(node.engine, node_id, node.sections, TaskCreate.model_validate({
        "unit_kind": "post", "unit_id": "tj-post-panj", "priority": "immediate",
        "target": {"kind": "section", "section_id": section}, "instructions": text}),
        by="duty", units=units) for text in ("Check the ford", "Count the boats")]
    update_own_task(node.engine, node_id, tasks[1].id, "cancelled", by="duty", via="console",
                    note="done by the river patrol")
    draft = make_draft(node.engine, facts(node), product="daily", day=the_day(), by="analyst",
                       language="en")
    html = render(draft.body["content"], "html").decode()
    rows = _rows(html, "open_work")
    assert rows == [
        ["task (immediate)", f"Check the ford · {section}", "Panj post (duty)", "–",
         "assigned"],
        ["request for information", "Who owns the boat seized at Panj?", "→ kg-ncc (duty)",
         "2040-01-15 11:00", "sent"]]
    # Who gave the task or asked is personal data: sealed, so a partner without it
    # receives the row without the cell.
    rows_content = [b for b in draft.body["content"]["blocks"] if b.get("part") == "open_work"]
    assert "personal" in tags_present(rows_content)


def _blocks(content: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in content["blocks"] if b["kind"] == kind]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rendering_is_deterministic_from_the_record(node: Node) -> None:
    seed(node)
    draft = make_draft(node.engine, facts(node), product="weekly", day=the_day(), by="analyst",
                       language="ru")
    content = draft.body["content"]
    assert render(content, "html") == render(content, "html")
    assert _blocks(content, "map") and _blocks(content, "chart")


def test_the_daily_report_is_drafted_at_half_past_midnight_and_issued_if_so_set(
        node: Node, tokens: dict[Role, str]) -> None:
    from sitcen.reports.schedule import run_schedule

    seed(node)
    with_identity(node)
    day = the_day()
    before = datetime.combine(day + timedelta(days=1), time(0, 29), ZONE)
    assert run_schedule(node.engine, facts(node), now=before, daily_at="00:30") == []
    at = datetime.combine(day + timedelta(days=1), time(0, 30), ZONE)
    made = run_schedule(node.engine, facts(node), now=at, daily_at="00:30")
    assert [r.kind for r in made] == ["report_draft"]
    assert made[0].body["period"]["start"] == datetime.combine(day, time(0), ZONE).isoformat()
    assert run_schedule(node.engine, facts(node), now=at + timedelta(minutes=5),
                        daily_at="00:30") == []  # once a day, whichever process runs it
    # A template with its own time and officer: drafted and issued, signed for the officer.
    from sitcen.reports.library import save_template

    save_template(node.engine, node.settings.node_id,
                  "id: ncc-daily\nproduct: daily\nlanguage: en\nschedule: '00:45'\n"
                  "issue_as: duty-officer\n", by="admin")
    later = run_schedule(node.engine, facts(node), now=at + timedelta(minutes=20),
                         daily_at="00:30")
    assert [r.kind for r in later] == ["report_draft", "report"]
    assert later[1].body["signature"]["by"] == "duty-officer"


SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@needs_poppler
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pdf_pages_rendered_for_the_docs(node: Node, tmp_path: Path) -> None:
    """First pages of three products as PNG (pdftoppm), shown in docs/reports.md."""
    seed(node)
    with_identity(node)
    for product, lang, area in (("daily", "ru", None), ("weekly", "en", None),
                                ("tactical", "tg", ["AF-TJ-*"])):
        draft = make_draft(node.engine, facts(node), product=product, day=the_day(),
                           by="analyst", language=lang, area=area)
        pdf = tmp_path / f"{product}.pdf"
        pdf.write_bytes(render(draft.body["content"], "pdf"))
        stem = SCREENSHOTS / f"report-{product}-{lang}"
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(stem)], check=True)
        assert stem.with_suffix(".png").stat().st_size > 10_000
