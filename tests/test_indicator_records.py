"""Monthly indicator records over HTTP: the list, a month entered, revised, derived, imported."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from sitcen.events import EventCreate, EventUpdate
from sitcen.indicator_list import INDICATORS, LIST_VERSION
from sitcen.interop.indicator_template import HEADERS, read_template, template_xlsx
from sitcen.interop.spreadsheets import XLSX_MEDIA_TYPE
from sitcen.node import Node
from sitcen.operations.indicator_records import (
    IndicatorValue,
    MonthWrite,
    Source,
    derive_month,
    write_months,
)
from sitcen.store.events import report_events, update_event
from sitcen.testing import seizure_report
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
API = "/api/v1/indicators"
MONTH = "2026-03"
REFUSALS: list[dict[str, Any]] = [
    {"value": 7},
    {"place": "TJ-AF-PANJI-POYON", "nationality": "AF", "value": 4},
    {"place": "TJ-AF-PANJI-POYON", "nationality": "PK", "value": 1},
    {"place": "TJ-UZ-OYBEK", "nationality": "AF", "value": 2},
]


def _put(client: TestClient, headers: dict[str, str], values: list[dict[str, Any]],
         indicator: str = "refusals_of_entry", month: str = MONTH,
         **extra: Any) -> Any:
    return client.put(f"{API}/{month}/{indicator}", json={"values": values, **extra},
                      headers=headers)


def _cells(values: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((v.get("place") or "", v.get("nationality") or "",
                   v.get("document_kind") or "", v.get("substance") or "", v["value"])
                  for v in values)


def _import(client: TestClient, headers: dict[str, str], data: bytes, **params: Any) -> Any:
    return client.post(f"{API}/import", content=data, params=params,
                       headers={**headers, "content-type": XLSX_MEDIA_TYPE})


def _problems(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"][0]["type"] == "import_refused"
    return list(body["report"]["problems"])


def test_the_list_is_served_with_labels(client: TestClient, as_role: Headers) -> None:
    answer = client.get(f"{API}/list", params={"lang": "ru"}, headers=as_role(Role.liaison))
    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == LIST_VERSION
    assert [i["id"] for i in body["indicators"]] == list(INDICATORS)
    refusals = next(i for i in body["indicators"] if i["id"] == "refusals_of_entry")
    assert refusals["label"] == "Отказы во въезде" and refusals["unit"] == "persons"
    assert refusals["breakdowns"] == ["place", "nationality"]
    assert refusals["derived_from"]["event_types"] == ["refusal_of_entry"]
    facilitators = next(i for i in body["indicators"] if i["id"] == "facilitators")
    assert facilitators["derived_from"] is None


def test_a_revision_keeps_the_old_version_and_its_reason(client: TestClient,
                                                         as_role: Headers) -> None:
    analyst = as_role(Role.analyst)
    first = _put(client, analyst, REFUSALS)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and first.json()["total"] == 7
    assert {v["source"] for v in first.json()["values"]} == {"entered"}
    # A second version without a reason is refused, and says which field is missing.
    again = _put(client, analyst, REFUSALS)
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "reason"]
    revised: list[dict[str, Any]] = [
        {"value": 8}, *REFUSALS[1:], {"place": "TJ-UZ-OYBEK", "nationality": "IN", "value": 1}]
    second = _put(client, analyst, revised, reason="late report from Oybek", base_version=1)
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2 and second.json()["total"] == 8
    history = client.get(f"{API}/{MONTH}/refusals_of_entry/history",
                         headers=as_role(Role.operator)).json()
    assert [(v["version"], v["total"], v["reason"]) for v in history] == [
        (1, 7, None), (2, 8, "late report from Oybek")]
    assert _cells(history[0]["values"]) == _cells([{**v, "source": "entered"}
                                                   for v in REFUSALS])
    # A stale base version is a conflict; the month lists the current record.
    stale = _put(client, analyst, revised, reason="again", base_version=1)
    assert stale.status_code == 409
    month = client.get(f"{API}/{MONTH}", headers=analyst).json()
    assert [r["indicator"] for r in month["records"]] == ["refusals_of_entry"]
    assert month["country"] == "TJ" and "facilitators" in month["missing"]


def test_entered_values_are_checked(client: TestClient, as_role: Headers) -> None:
    analyst = as_role(Role.analyst)
    wrong_total = _put(client, analyst, [{"value": 9}, *REFUSALS[1:]])
    assert wrong_total.status_code == 422
    (problem,) = wrong_total.json()["detail"]
    assert problem["loc"] == ["body", "values", 0, "value"]
    assert "not the sum" in problem["msg"] and "(7)" in problem["msg"]
    not_taken = _put(client, analyst, [{"place": "TJ-AF-001", "value": 3}],
                     indicator="illegal_stay_inland")
    assert not_taken.status_code == 422
    assert not_taken.json()["detail"][0]["loc"] == ["body", "values", 0, "place"]
    halves = _put(client, analyst, [{"value": 2.5}])
    assert "whole number" in halves.json()["detail"][0]["msg"]
    assert _put(client, as_role(Role.operator), REFUSALS).status_code == 403
    assert client.get(f"{API}/{MONTH}/no_such", headers=analyst).status_code == 404


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_template_round_trips(client: TestClient, as_role: Headers, lang: str) -> None:
    analyst = as_role(Role.analyst)
    assert _put(client, analyst, REFUSALS).status_code == 200
    seized: list[dict[str, Any]] = [
        {"value": 3.75}, {"place": "TJ-AF-001", "substance": "heroin", "value": 3.5},
        {"place": "TJ-AF-001", "substance": "hashish", "value": 0.25}]
    assert _put(client, analyst, seized, indicator="drug_seizures_kg").status_code == 200
    answer = client.get(f"{API}/template", params={"month": MONTH, "lang": lang},
                        headers=analyst)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    header = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert header[0] == HEADERS[lang]["month"] and header[-1] == HEADERS[lang]["value"]
    # Read back, the template says what the node holds, value for value.
    read = read_template(answer.content)
    assert read.problems == []
    assert set(read.months) == {("TJ", MONTH, "refusals_of_entry"),
                                ("TJ", MONTH, "drug_seizures_kg")}
    # Imported as is, it makes a second version equal to the first but for the source.
    imported = _import(client, analyst, answer.content, reason="checked against the file")
    assert imported.status_code == 201, imported.text
    assert imported.json()["written"] == 2 and imported.json()["months"] == 2
    for indicator, values in (("refusals_of_entry", REFUSALS), ("drug_seizures_kg", seized)):
        record = client.get(f"{API}/{MONTH}/{indicator}", headers=analyst).json()
        assert record["version"] == 2
        assert {v["source"] for v in record["values"]} == {"imported"}
        assert _cells(record["values"]) == _cells([{**v, "source": "imported"}
                                                   for v in values])


def _filled(rows: list[tuple[str, dict[str, Any]]], month: str = MONTH) -> bytes:
    held = {indicator: [IndicatorValue(float(v["value"]), Source.entered,
                                       **{k: x for k, x in v.items() if k != "value"})
                        for i, v in rows if i == indicator]
            for indicator, _ in rows}
    return template_xlsx("TJ", month, "ru", held)


def _row_of(data: bytes, indicator: str, place: str | None = None) -> int:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row[2] == indicator and row[5] == place:
            return number
    raise AssertionError(f"no row for {indicator} {place}")


def test_a_wrong_total_is_reported_with_row_column_and_reason(
        client: TestClient, as_role: Headers) -> None:
    data = _filled([("refusals_of_entry", {"value": 10}),
                    ("refusals_of_entry", {"place": "TJ-UZ-OYBEK", "nationality": "AF",
                                           "value": 4}),
                    ("refusals_of_entry", {"place": "TJ-UZ-OYBEK", "nationality": "UZ",
                                           "value": 5}),
                    ("illegal_stay_inland", {"value": 3}),
                    ("illegal_stay_inland", {"nationality": "ZZZ", "value": 3})])
    problems = _problems(_import(client, as_role(Role.analyst), data))
    total_row = _row_of(data, "refusals_of_entry")
    assert {"row": total_row, "column": "значение", "value": "10",
            "reason": "the total 10 is not the sum of the 2 values by place, nationality (9)"
            } in problems
    bad = next(p for p in problems if p["column"] == "гражданство")
    assert bad["value"] == "ZZZ" and "alpha-2" in bad["reason"]
    assert bad["row"] == _row_of(data, "illegal_stay_inland") + 1
    # Nothing was written.
    month = client.get(f"{API}/{MONTH}", headers=as_role(Role.analyst)).json()
    assert month["records"] == []


def _history(node: Node, months: int = 30) -> None:
    """Refusals of entry around 100 a month (more in summer), for ``months`` months."""
    rng = np.random.default_rng(14)
    for m in range(months):
        period = pd.Period("2024-03", freq="M") + m
        mean = 100 + 30 * (period.month in (6, 7, 8))
        write_months(node.engine, node.settings.node_id, "TJ", str(period),
                     [MonthWrite("refusals_of_entry",
                                 [IndicatorValue(float(rng.poisson(mean)), Source.entered)])],
                     author="analyst", confirmed=True)


def test_an_implausible_jump_needs_confirmation(node: Node, client: TestClient,
                                               as_role: Headers) -> None:
    _history(node)  # 2024-03 .. 2026-08
    month = "2026-09"
    analyst = as_role(Role.analyst)
    usual = _filled([("refusals_of_entry", {"value": 100})], month)
    assert _import(client, analyst, usual, dry_run=True).status_code == 200
    data = _filled([("refusals_of_entry", {"value": 900})], month)
    (problem,) = _problems(_import(client, analyst, data))
    assert problem["row"] == _row_of(data, "refusals_of_entry")
    assert problem["column"] == "значение" and problem["value"] == "900"
    assert "outside the forecast's 95 % interval" in problem["reason"]
    assert "from 30 months" in problem["reason"]
    confirmed = _import(client, analyst, data, confirm="true")
    assert confirmed.status_code == 201, confirmed.text
    record = client.get(f"{API}/{month}/refusals_of_entry", headers=analyst).json()
    assert record["total"] == 900 and "95 %" in record["confirmed"][0]
    # Entered by hand, the same jump is refused with the confirmation's own type.
    entered = _put(client, analyst, [{"value": 5000}], month="2026-10")
    assert entered.status_code == 422
    assert entered.json()["detail"][0]["type"] == "needs_confirmation"


def _event(node: Node, type_: str, day: str, **changes: Any) -> dict[str, Any]:
    return seizure_report(f"{day}T10:00:00Z", type=type_, **changes)


def test_derivation_counts_what_it_should(node: Node, client: TestClient,
                                          as_role: Headers) -> None:
    few: dict[str, Any] = {"modus_operandi": [], "reaction": [], "transport": None}
    bodies = [
        _event(node, "refusal_of_entry", "2026-03-02", details={"direction": "entry"},
               persons=[{"nationality": "AF", "count": 3}, {"nationality": "PK", "count": 1}],
               **few),
        _event(node, "refusal_of_entry", "2026-03-30", details={}, persons=[
            {"nationality": "AF", "count": 2}], **few),
        _event(node, "refusal_of_entry", "2026-04-01", details={}, persons=[
            {"nationality": "AF", "count": 50}], **few),  # next month
        _event(node, "illegal_stay", "2026-03-03", details={"detection": "inland"},
               persons=[{"nationality": "UZ", "count": 2}], **few),
        _event(node, "illegal_stay", "2026-03-03", details={"detection": "bcp_check",
                                                             "direction": "exit"},
               persons=[{"nationality": "UZ", "count": 1}], **few),
        _event(node, "drug_smuggling", "2026-03-04",
               details={"substance": "heroin", "quantity": 1500, "unit": "g"}),
        _event(node, "drug_smuggling", "2026-03-06",
               details={"substance": "heroin", "quantity": 2, "unit": "kg"}),
        _event(node, "drug_smuggling", "2026-03-07",
               details={"substance": "methamphetamine", "quantity": 200, "unit": "tablets"}),
        _event(node, "drug_smuggling", "2026-03-08",
               details={"substance": "precursor", "quantity": 40, "unit": "kg"}),
        _event(node, "drug_smuggling", "2026-03-09", details={"substance": "opium"}),
        _event(node, "document_fraud", "2026-03-10",
               details={"document_kind": "passport", "fraud_kind": "forged"}),
    ]
    report_events(node.engine, node.reporter, [EventCreate.model_validate(b) for b in bodies],
                  batch=True)
    # A report rejected by the duty officer counts for nothing.
    rejected = _event(node, "refusal_of_entry", "2026-03-05", details={}, persons=[
        {"nationality": "AF", "count": 50}], **few)
    (stored,) = report_events(node.engine, node.reporter, [EventCreate.model_validate(rejected)])
    update_event(node.engine, node.reporter, stored.id,
                 EventUpdate.model_validate({**rejected, "status": "rejected"}),
                 may_change_status=True)
    derived = {d.indicator: d for d in derive_month(node.engine, "TJ", MONTH)}
    assert "facilitators" not in derived
    totals = {name: d.values[0].value for name, d in derived.items()}
    assert totals["refusals_of_entry"] == 6
    assert totals["illegal_stay_inland"] == 2 and totals["illegal_stay_at_exit"] == 1
    assert totals["drug_seizures_kg"] == 3.5
    assert totals["drug_seizures_tablets"] == 200 and totals["precursor_seizures_kg"] == 40
    assert totals["fraudulent_documents"] == 1 and totals["illegal_crossing_between_bcps"] == 0
    by_nationality: dict[str | None, float] = {}
    for value in derived["refusals_of_entry"].values[1:]:
        assert value.place is not None and value.source == Source.derived
        by_nationality[value.nationality] = by_nationality.get(value.nationality, 0) + value.value
    assert by_nationality == {"AF": 5, "PK": 1}
    heroin = [v for v in derived["drug_seizures_kg"].values[1:] if v.substance == "heroin"]
    assert sum(v.value for v in heroin) == 3.5
    # The seizure in tablets and the one without a quantity are not kilograms.
    assert derived["drug_seizures_kg"].notes == [
        "2 seizures without a quantity in g or kg: not counted here"]
    # Over HTTP: counted, written, each value marked derived; a second run is a revision.
    analyst = as_role(Role.analyst)
    answer = client.post(f"{API}/{MONTH}/derive", headers=analyst)
    assert answer.status_code == 200, answer.text
    written = {r["indicator"]: r for r in answer.json()["records"]}
    assert written["refusals_of_entry"]["total"] == 6
    assert {v["source"] for v in written["refusals_of_entry"]["values"]} == {"derived"}
    unexplained = client.post(f"{API}/{MONTH}/derive", headers=analyst)
    assert unexplained.status_code == 422
    assert {tuple(e["loc"]) for e in unexplained.json()["detail"]} == {("query", "reason")}
    assert any(e["msg"].startswith("refusals_of_entry: ")
               for e in unexplained.json()["detail"])
    again = client.post(f"{API}/{MONTH}/derive", params={"reason": "late reports"},
                        headers=analyst)
    assert again.status_code == 200
    assert {r["version"] for r in again.json()["records"]} == {2}
