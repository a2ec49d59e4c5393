"""Capacity inventories from the outside: figures sent to the API or read from a CSV file.

Turns them into checked inventories (:class:`sitcen.analysis.vulnerability.SectionCapacity`),
and imports a whole CSV file all or nothing with a report that names the row,
column, value and reason of every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from pydantic import Field

from sitcen.analysis.vulnerability import CAPACITY_FIELDS, SectionCapacity
from sitcen.errors import ImportProblem, ImportReport
from sitcen.interop.spreadsheets import cell_text, open_table
from sitcen.store.capacities import put_capacities

#: Columns of a capacity CSV file: section_id, then one per figure.
CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(SectionCapacity))


#: Columns that may be left out or empty (length defaults to the section's own).
OPTIONAL_COLUMNS = frozenset({"length_km", "assessed_on", "note"})


_WHOLE = frozenset({"staff_per_shift", "shifts_per_day", "vehicles", "sensors", "cameras",
                    "towers"})


class CapacityImportReport(ImportReport):
    """What a capacity import found and did; nothing is written when there are problems."""

    sections: list[str] = Field(default_factory=list, description="the sections read")
    written: int = Field(0, description="inventories written")


def _field_of(message: str) -> str:
    """The capacity field a ``SectionCapacity`` error message is about ("" if none)."""
    # Messages read "<field> <reason>" or "<section>: <field> <reason>".
    head = message.split(": ", 1)[1] if ": " in message else message
    first = head.split(" ", 1)[0]
    return first if first in CAPACITY_FIELDS else ""


def check_capacity(section_id: str, values: Mapping[str, Any], *,
                   section_length_km: float | None = None) -> SectionCapacity:
    """The checked inventory of a section from its figures (numbers or texts).

    ``length_km`` left out (or empty) is the section's own length. Raises
    ``ValueError`` whose first word, when it is about one figure, is its name.
    """
    data = {k: v for k, v in values.items() if k not in ("section_id", "note")}
    if data.get("length_km") in (None, "") and section_length_km is not None:
        data["length_km"] = round(section_length_km, 3)
    data["section_id"] = section_id
    try:
        return SectionCapacity.from_mapping(data)
    except ValueError as exc:
        message = str(exc)
        name = _field_of(message)
        if name and not message.startswith(name):
            message = message.split(": ", 1)[1]
        raise ValueError(message) from None


def capacity_values(capacity: SectionCapacity) -> dict[str, Any]:
    """The figures of an inventory as stored in a ``capacity`` record (JSON values)."""
    return capacity.to_dict()


def _cell_problem(column: str, text: str) -> str:
    """Why one cell of a figure column cannot be read ("" when it can)."""
    if column == "assessed_on":
        try:
            date.fromisoformat(text)
        except ValueError:
            return "must be a date YYYY-MM-DD"
        return ""
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return "must be a number"
    if number != number or number in (float("inf"), float("-inf")):
        return "must be a finite number"
    if number < 0:
        return "must not be negative"
    if column in _WHOLE and not number.is_integer():
        return "must be a whole number"
    return ""


Parsed = tuple[list[tuple[SectionCapacity, str]], list[ImportProblem], list[str]]


def parse_capacity_csv(data: bytes, section_lengths: Mapping[str, float]) -> Parsed:
    """Read a capacity CSV: one row per section, one column per figure (:data:`CSV_COLUMNS`).

    The file is read by :func:`sitcen.interop.spreadsheets.open_table`, as
    events and indicators are: UTF-8 or Windows-1251, separated by commas,
    semicolons or tabs (so a file saved by Russian Excel reads as it is), a
    decimal comma allowed. ``section_lengths`` are the node's sections (id ->
    km): a row for another section is a problem, and an empty ``length_km``
    takes the section's length. An optional ``note`` column is kept with each
    inventory. Returns the inventories with their notes, every problem found
    (each naming row, column, value and reason) and notes on how the file was
    read; an unknown or missing column, an unreadable cell, a figure out of
    range and a section listed twice are all problems. Raises
    :class:`~sitcen.interop.spreadsheets.SpreadsheetError` for a file that is no
    CSV text at all.
    """
    problems: list[ImportProblem] = []
    with open_table(data, xlsx=False) as table:
        notes = table.notes
        header = [c.strip() for c in table.header]
        rows = [(number, [cell_text(c) for c in cells]) for number, cells in table.rows()]
    if not any(header):
        return [], [ImportProblem(1, "", "", "the file is empty (no header)")], notes
    first = table.header_row
    known = set(CSV_COLUMNS) | {"note"}
    for name in header:
        if name not in known:
            problems.append(ImportProblem(first, name, name, "unknown column; known: "
                                          + ", ".join([*CSV_COLUMNS, "note"])))
    for name in CSV_COLUMNS:
        if name not in header and name not in OPTIONAL_COLUMNS:
            problems.append(ImportProblem(first, name, "",
                                          "required column missing from the header"))
    if len(set(header)) != len(header):
        duplicated = sorted({c for c in header if header.count(c) > 1})
        problems += [ImportProblem(first, c, c, "column appears twice") for c in duplicated]
    if problems:
        return [], problems, notes
    out: list[tuple[SectionCapacity, str]] = []
    first_row: dict[str, int] = {}
    for line, cells in rows:
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(ImportProblem(line, "", ",".join(cells),
                                          f"expected {len(header)} fields, found {len(cells)}"))
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        found = _check_row(line, row, section_lengths, first_row)
        if isinstance(found, list):
            problems += found
        else:
            out.append((found, row.get("note", "")))
    if not out and not problems:
        problems.append(ImportProblem(first + 1, "", "", "the file has a header but no rows"))
    return out, problems, notes


def _check_row(line: int, row: dict[str, str], section_lengths: Mapping[str, float],
               first_row: dict[str, int]) -> SectionCapacity | list[ImportProblem]:
    problems: list[ImportProblem] = []
    section_id = row.get("section_id", "")
    if not section_id:
        problems.append(ImportProblem(line, "section_id", section_id, "empty section id"))
    elif section_id not in section_lengths:
        problems.append(ImportProblem(line, "section_id", section_id, "no such border section"))
    elif section_id in first_row:
        problems.append(ImportProblem(line, "section_id", section_id,
                                f"section already listed on row {first_row[section_id]}"))
    else:
        first_row[section_id] = line
    for name in CSV_COLUMNS:
        if name == "section_id":
            continue
        value = row.get(name, "")
        if not value:
            if name not in OPTIONAL_COLUMNS:
                problems.append(ImportProblem(line, name, value, "missing value"))
            continue
        reason = _cell_problem(name, value)
        if reason:
            problems.append(ImportProblem(line, name, value, reason))
    if problems:
        return problems
    try:
        return check_capacity(section_id, row, section_length_km=section_lengths[section_id])
    except ValueError as exc:
        name = _field_of(str(exc))
        return [ImportProblem(line, name, row.get(name, "") if name else "", str(exc))]


def import_capacity_csv(engine: sa.Engine, node_id: str, data: bytes, *,
                        section_lengths: Mapping[str, float], assessed_by: str,
                        dry_run: bool = False) -> CapacityImportReport:
    """Check a capacity CSV and, unless ``dry_run`` or a problem was found, store every row.

    All or nothing: the inventories are written in one transaction, one new
    version of each section's ``capacity`` record.
    """
    parsed, problems, notes = parse_capacity_csv(data, section_lengths)
    report = CapacityImportReport(
        dry_run=dry_run, sections=[c.section_id for c, _ in parsed], notes=notes,
        rows=len(parsed) + len({p.row for p in problems if p.row > 1}))
    report.add_all(problems)
    if problems or dry_run:
        return report
    items = [(c.section_id, capacity_values(c), note) for c, note in parsed]
    report.written = len(put_capacities(engine, node_id, items, assessed_by=assessed_by))
    return report
