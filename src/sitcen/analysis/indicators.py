"""Monthly indicator series: check a table of them, cut it into complete series.

The file shape is the one of the Frontex monthly detections
(``../shared/data/frontex/``): a ``month`` column (``YYYY-MM``), any number of
dimension columns (route, border type, nationality, ...) and one value column
of non-negative integer counts. The table is long and sparse: a (month,
dimensions) combination that is absent had a count of zero.

Both functions are pure (docs/architecture.md, principle 6): the file itself
is read by :func:`sitcen.interop.spreadsheets.read_indicators`, the one reader
of CSV and XLSX, which hands the rows to :func:`read_indicator_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from sitcen.errors import ImportProblem

MONTH = "month"
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def read_indicator_rows(
    rows: list[list[str]],
    *,
    value_column: str = "detections",
    dimensions: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """Check a monthly indicator table; return the tidy table and every problem found.

    ``rows`` is the table as text, header first: ``rows[i]`` is line ``i + 1``
    of the file, an empty list a blank line (files are read, in any encoding,
    delimiter or as XLSX, by :func:`sitcen.interop.spreadsheets.read_indicators`).
    ``dimensions`` lists the expected dimension columns; a header column that
    is neither ``month``, one of them nor ``value_column`` is reported as
    unknown (its values are ignored). Without ``dimensions`` every other
    column is a dimension. Rows with a problem are left out of the table and
    each problem names its row, column, value and reason: a bad month, a
    missing, negative or non-integer count, an empty label, a wrong number of
    fields, a duplicate of an earlier (month, dimensions) row. A missing
    required column leaves the table empty.

    The table has ``month`` (``Period[M]``), the dimension columns (``str``) and
    ``value_column`` (``int64``), sorted by month and dimensions.
    """
    return _parse_rows(rows, value_column, dimensions)


def _parse_rows(
    rows: list[list[str]], value_column: str, dimensions: Sequence[str] | None
) -> tuple[pd.DataFrame, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    if not rows:
        problems.append(ImportProblem(1, "", "", "the file is empty (no header)"))
        return _empty_table([], value_column), problems
    header = [name.strip() for name in rows[0]]
    dims = (
        list(dimensions)
        if dimensions is not None
        else [c for c in header if c not in (MONTH, value_column)]
    )
    for name in header:
        if name not in (MONTH, value_column, *dims):
            problems.append(ImportProblem(1, name, name, "unknown column (ignored)"))
    seen_names: set[str] = set()
    for name in header:
        if name in seen_names:
            problems.append(ImportProblem(1, name, name, "column appears twice in the header"))
        seen_names.add(name)
    missing = [name for name in (MONTH, *dims, value_column) if name not in header]
    for name in missing:
        problems.append(ImportProblem(1, name, "", "required column missing from the header"))
    if missing or len(seen_names) != len(header):
        return _empty_table(dims, value_column), problems

    at = {name: header.index(name) for name in (MONTH, *dims, value_column)}
    first_seen: dict[tuple[str, ...], int] = {}
    records: list[tuple[Any, ...]] = []
    for line, fields in enumerate(rows[1:], start=2):
        if not fields or all(not f.strip() for f in fields):
            continue  # blank lines carry nothing
        if len(fields) != len(header):
            problems.append(ImportProblem(line, "", ",".join(fields),
                                       f"expected {len(header)} fields, found {len(fields)}"))
            continue
        row_problems: list[ImportProblem] = []
        month_text = fields[at[MONTH]].strip()
        if not _MONTH_RE.match(month_text):
            row_problems.append(ImportProblem(line, MONTH, month_text,
                                           "month must be YYYY-MM with month 01-12"))
        labels: list[str] = []
        for dim in dims:
            label = fields[at[dim]].strip()
            if not label:
                row_problems.append(ImportProblem(line, dim, label, "empty label"))
            labels.append(label)
        value_text = fields[at[value_column]].strip()
        count, reason = _parse_count(value_text)
        if reason:
            row_problems.append(ImportProblem(line, value_column, value_text, reason))
        if row_problems:
            problems.extend(row_problems)
            continue
        key = (month_text, *labels)
        if key in first_seen:
            problems.append(ImportProblem(
                line, "", ",".join(fields),
                f"duplicate of row {first_seen[key]} (same month and dimensions)"))
            continue
        first_seen[key] = line
        records.append((month_text, *labels, count))

    if not records:
        return _empty_table(dims, value_column), problems
    table = pd.DataFrame.from_records(records, columns=[MONTH, *dims, value_column])
    table[MONTH] = pd.PeriodIndex(table[MONTH], freq="M")
    table[value_column] = table[value_column].astype("int64")
    for dim in dims:
        table[dim] = table[dim].astype(str)
    table = table.sort_values([MONTH, *dims], kind="stable").reset_index(drop=True)
    return table, problems


def _parse_count(text: str) -> tuple[int, str]:
    """The count in ``text``, or a reason why it is not a non-negative integer."""
    if not text:
        return 0, "missing count"
    try:
        number = float(text)
    except ValueError:
        return 0, "count is not a number"
    if number != number or number in (float("inf"), float("-inf")):
        return 0, "count is not a finite number"
    if number != int(number):
        return 0, "count must be a whole number"
    if number < 0:
        return 0, "count must not be negative"
    return int(number), ""


def _empty_table(dims: Sequence[str], value_column: str) -> pd.DataFrame:
    table = pd.DataFrame({MONTH: pd.PeriodIndex([], freq="M")})
    for dim in dims:
        table[dim] = pd.Series([], dtype=str)
    table[value_column] = pd.Series([], dtype="int64")
    return table


def monthly_series(
    table: pd.DataFrame,
    by: Sequence[str] = (),
    *,
    value: str | None = None,
    start: pd.Period | str | None = None,
    end: pd.Period | str | None = None,
) -> dict[Hashable, pd.Series]:
    """Sum ``value`` per combination of the ``by`` columns into complete monthly series.

    Every series has the same complete monthly ``PeriodIndex`` from ``start``
    to ``end`` (default: the first and last month of the whole table), months
    absent from the table are 0. Keys are the label when ``by`` names one
    column, a tuple of labels when it names several, and ``"total"`` when it
    names none. ``value`` defaults to the only integer column besides ``by``.
    """
    by = list(by)
    for name in (MONTH, *by):
        if name not in table.columns:
            raise ValueError(f"column {name!r} not in the table")
    if value is None:
        candidates = [c for c in table.columns
                      if c != MONTH and c not in by and pd.api.types.is_integer_dtype(table[c])]
        if len(candidates) != 1:
            raise ValueError(f"cannot tell the value column among {candidates}; pass value=")
        value = str(candidates[0])
    months = pd.PeriodIndex(table[MONTH], freq="M")
    first = pd.Period(start, freq="M") if start is not None else (
        months.min() if len(months) else None)
    last = pd.Period(end, freq="M") if end is not None else (
        months.max() if len(months) else None)
    if first is None or last is None:
        return {}
    index = pd.period_range(first, last, freq="M", name=MONTH)
    work = pd.DataFrame({MONTH: months, value: table[value].to_numpy()})
    for name in by:
        work[name] = table[name].to_numpy()
    result: dict[Hashable, pd.Series] = {}
    if not by:
        totals = work.groupby(MONTH)[value].sum()
        result["total"] = _complete(totals, index, "total")
        return result
    grouped = work.groupby([*by, MONTH], sort=True)[value].sum()
    levels: int | list[int] = 0 if len(by) == 1 else list(range(len(by)))
    for key, part in grouped.groupby(level=levels, sort=True):
        label: Hashable = key[0] if len(by) == 1 and isinstance(key, tuple) else key
        per_month = part.droplevel(list(range(len(by))))
        result[label] = _complete(per_month, index, label)
    return result


def _complete(per_month: pd.Series, index: pd.PeriodIndex, name: Hashable) -> pd.Series:
    series = per_month.reindex(index, fill_value=0).astype("int64")
    series.name = name
    return series
