"""The monthly indicator template: an XLSX workbook in Russian or English, and reading it back.

The node generates the template for a country's month (``values`` sheet: one
row per indicator for its total, then a row per value already held; a
``list`` sheet that explains each indicator); the analyst fills it in and
imports it. Reading goes through :func:`sitcen.interop.spreadsheets.open_table`,
the one reader of every imported table, and accepts the headers of either
language. What a row says is turned into
:class:`~sitcen.operations.indicator_records.IndicatorValue` (source
``imported``); every problem names its row, column and reason.
:func:`import_template` checks and writes what a file says; no HTTP.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import Field

from sitcen import i18n
from sitcen.errors import ImportProblem, ImportReport
from sitcen.indicator_list import INDICATORS, LIST_VERSION
from sitcen.interop.spreadsheets import Cell, blank, cell_text, open_table
from sitcen.operations.indicator_records import (
    BREAKDOWNS,
    MONTH_RE,
    Finding,
    IndicatorValue,
    MonthWrite,
    Source,
    prepare_month,
)
from sitcen.store.records import write_own

#: The languages the template is made in.
LANGUAGES = ("en", "ru")
#: The columns of the ``values`` sheet, by their code; ``label`` and ``unit`` are read-only help.
COLUMNS = ("month", "country", "indicator", "label", "unit", *BREAKDOWNS, "value")
HEADERS: Mapping[str, Mapping[str, str]] = {
    "en": {"month": "month", "country": "country", "indicator": "indicator",
           "label": "label", "unit": "unit", "place": "place", "nationality": "nationality",
           "document_kind": "document kind", "substance": "substance", "value": "value"},
    "ru": {"month": "месяц", "country": "страна", "indicator": "показатель",
           "label": "наименование", "unit": "единица", "place": "участок или пункт пропуска",
           "nationality": "гражданство", "document_kind": "вид документа",
           "substance": "вещество", "value": "значение"},
}
SHEETS: Mapping[str, tuple[str, str]] = {"en": ("values", "list"), "ru": ("значения", "перечень")}
_HELP: Mapping[str, Sequence[str]] = {
    "en": ("indicator", "label", "unit", "breakdowns", "derived from events"),
    "ru": ("показатель", "наименование", "единица", "разбивка", "выводится из событий"),
}
_YES_NO: Mapping[str, tuple[str, str]] = {"en": ("yes", "no"), "ru": ("да", "нет")}
#: A header text (either language, any case) to its column code.
_CODE_OF: dict[str, str] = {text.casefold(): code for names in HEADERS.values()
                            for code, text in names.items()}
_REQUIRED = ("month", "country", "indicator", "value")


def _text(ws: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # never a formula or a date, whatever it looks like
    return cell


def template_xlsx(country: str, month: str, lang: str,
                  held: Mapping[str, Sequence[IndicatorValue]]) -> bytes:
    """The template for ``country``'s ``month`` in ``lang`` (``en`` or ``ru``).

    ``held`` gives, per indicator, the values the node already holds; they are
    filled in (the total on the indicator's first row). An indicator without
    values gets its total row only, empty.
    """
    import openpyxl  # loaded when a template is made, not at every start
    from openpyxl.styles import Font

    names = HEADERS[lang]
    workbook = openpyxl.Workbook(write_only=True)
    values_sheet, list_sheet = (workbook.create_sheet(title) for title in SHEETS[lang])
    bold = Font(bold=True)
    header = []
    for code in COLUMNS:
        cell = _text(values_sheet, names[code])
        cell.font = bold
        header.append(cell)
    values_sheet.append(header)
    for item in INDICATORS.values():
        label = i18n.label(f"indicator.{item.id}", lang)
        unit = i18n.label(f"indicator_unit.{item.unit.value}", lang)
        values = list(held.get(item.id, ()))
        total = next((v for v in values if v.is_total), None)
        rows: list[IndicatorValue | None] = [total, *(v for v in values if not v.is_total)]
        for value in rows:
            cells: list[object] = [_text(values_sheet, month), _text(values_sheet, country),
                                   _text(values_sheet, item.id), _text(values_sheet, label),
                                   _text(values_sheet, unit)]
            cells += [None if value is None or part is None else _text(values_sheet, part)
                      for part in (value.cell if value is not None else [None] * 4)]
            cells.append(None if value is None else value.value)
            values_sheet.append(cells)
    list_sheet.append([_text(list_sheet, t) for t in _HELP[lang]])
    yes, no = _YES_NO[lang]
    for item in INDICATORS.values():
        breakdowns = ", ".join(names[b.value] for b in item.breakdowns)
        list_sheet.append([_text(list_sheet, item.id),
                           _text(list_sheet, i18n.label(f"indicator.{item.id}", lang)),
                           _text(list_sheet, i18n.label(f"indicator_unit.{item.unit.value}",
                                                        lang)),
                           _text(list_sheet, breakdowns),
                           _text(list_sheet, yes if item.derivation else no)])
    list_sheet.append([_text(list_sheet, f"list version {LIST_VERSION}")])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass
class ReadValue:
    """A value read from the template, with the row it came from."""

    row: int
    value: IndicatorValue


@dataclass
class ReadTemplate:
    """What a filled-in template says: per (country, month, indicator) its values."""

    months: dict[tuple[str, str, str], list[ReadValue]] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # code -> the header as the file has it
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def _month_text(cell: Cell) -> str:
    if isinstance(cell, datetime | date):
        return f"{cell.year:04d}-{cell.month:02d}"
    return cell_text(cell).strip()


def read_template(data: bytes) -> ReadTemplate:
    """The values in a filled-in template (its first sheet), and every problem found.

    A row whose value is empty is skipped (an indicator not reported); a row
    with no breakdown is the indicator's total.
    """
    found = ReadTemplate()
    with open_table(data) as table:
        found.notes = list(table.notes)
        positions: dict[str, int] = {}
        for i, text in enumerate(table.header):
            code = _CODE_OF.get(text.strip().casefold())
            if code is None:
                continue
            positions[code] = i
            found.columns[code] = text
        missing = [code for code in _REQUIRED if code not in positions]
        if missing:
            found.problems.append(ImportProblem(
                table.header_row, "", ", ".join(table.header),
                "missing column(s): " + ", ".join(HEADERS["en"][c] for c in missing)
                + " (the template's header, in English or Russian)"))
            return found
        for number, cells in table.rows():
            if all(blank(c) for c in cells):
                continue
            found.rows += 1
            _read_row(found, number, cells, positions)
    return found


def _read_row(found: ReadTemplate, number: int, cells: list[Cell],
              positions: Mapping[str, int]) -> None:
    def get(code: str) -> Cell:
        i = positions.get(code)
        return cells[i] if i is not None and i < len(cells) else None

    def problem(code: str, value: str, reason: str) -> None:
        found.problems.append(ImportProblem(number, found.columns.get(code, code), value,
                                            reason))

    raw_value = get("value")
    if blank(raw_value):
        return
    month = _month_text(get("month"))
    country = cell_text(get("country")).strip().upper()
    indicator = cell_text(get("indicator")).strip()
    ok = True
    if not MONTH_RE.match(month):
        problem("month", month, "not a month as YYYY-MM")
        ok = False
    if len(country) != 2 or not country.isalpha():
        problem("country", country, "not an ISO 3166-1 alpha-2 country code")
        ok = False
    if indicator not in INDICATORS:
        problem("indicator", indicator, "not an indicator of the common list "
                                        f"(version {LIST_VERSION})")
        ok = False
    number_value = _number(raw_value)
    if number_value is None:
        problem("value", cell_text(raw_value), "not a number")
        ok = False
    if not ok or number_value is None:
        return
    parts = {code: None if blank(get(code)) else cell_text(get(code)).strip()
             for code in BREAKDOWNS}
    value = IndicatorValue(number_value, Source.imported, **parts)
    found.months.setdefault((country, month, indicator), []).append(ReadValue(number, value))


def _number(cell: Cell) -> float | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        return float(cell) if math.isfinite(cell) else None
    text = cell_text(cell).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ----------------------------------------------------------------------------- importing


class IndicatorImportReport(ImportReport):
    """What an indicator template import found and wrote."""

    months: int = Field(0, description="indicator months in the file")
    written: int = Field(0, description="indicator records written (new versions included)")
    to_confirm: int = Field(0, description="values outside the forecast's 95 % interval; "
                                           "import again with confirm=true to accept them")


def import_template(engine: sa.Engine, node_id: str, country: str, data: bytes, *,
                    author: str, reason: str | None = None, confirm: bool = False,
                    dry_run: bool = False) -> IndicatorImportReport:
    """Check a filled-in template and write its months, all or nothing.

    Only ``country``'s months are accepted (a node records its own country).
    Every problem names the row, the column (as the file heads it) and why;
    a jump beyond the forecast's interval is a problem until ``confirm``.
    """
    found = read_template(data)
    report = IndicatorImportReport(dry_run=dry_run, rows=found.rows, notes=found.notes)
    report.add_all(found.problems)
    prepared = []
    for (month_country, month, indicator), read in found.months.items():
        report.months += 1
        if month_country != country:
            first = read[0].row
            report.add(ImportProblem(first, found.columns.get("country", "country"),
                                     month_country, f"this node records {country} only"))
            continue
        values = [r.value for r in read]
        findings, record = prepare_month(
            engine, node_id, country, month, MonthWrite(indicator, values), author=author,
            reason=reason, confirmed=confirm)
        for finding in findings:
            report.add(_problem(found, read, finding))
            report.to_confirm += int(finding.confirm)
        if record is not None:
            prepared.append(record)
    if report.ok and not dry_run:
        report.written = len(write_own(engine, prepared, node_id))
    return report


def _problem(found: ReadTemplate, read: Sequence[ReadValue], finding: Finding) -> ImportProblem:
    at = read[finding.index] if finding.index is not None else read[0]
    code = finding.column
    column = found.columns.get(code, "" if code == "reason" else code)
    shown = at.value.value if code == "value" else dict(zip(BREAKDOWNS, at.value.cell,
                                                            strict=True)).get(code)
    return ImportProblem(at.row, column, "" if shown is None else cell_text(shown),
                         finding.reason)
