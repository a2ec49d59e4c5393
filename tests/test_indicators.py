"""Monthly indicator import: validation names every bad row; series are complete and zero-filled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sitcen.analysis.indicators import monthly_series
from sitcen.errors import ImportProblem
from sitcen.interop.spreadsheets import read_indicators

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
FRONTEX = SHARED / "data" / "frontex" / "ibc-monthly-2009-2020.csv"

def _read(source: str | bytes | Path, **options: Any) -> tuple[pd.DataFrame, list[ImportProblem]]:
    """An indicator file read by the one reader of tables, as the command line reads it."""
    data = (source.read_bytes() if isinstance(source, Path)
            else source.encode() if isinstance(source, str) else source)
    table, problems, _notes = read_indicators(data, **options)
    return table, problems


GOOD = """month,участок,category,detections
2021-01,Хатлон,нарушение,3
2021-01,Согд,нарушение,1
2021-03,Хатлон,нарушение,4
2021-03,Хатлон,контрабанда,2
"""


def test_reads_cyrillic_labels_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "indicators.csv"
    path.write_text(GOOD, encoding="utf-8")
    table, problems = _read(path)
    assert problems == []
    assert list(table.columns) == ["month", "участок", "category", "detections"]
    assert str(table["month"].dtype) == "period[M]"
    assert table["detections"].dtype == "int64"
    assert set(table["участок"]) == {"Хатлон", "Согд"}
    assert table["detections"].sum() == 10


def test_reads_a_binary_file_object_with_a_byte_order_mark() -> None:
    table, problems = _read(("\ufeff" + GOOD).encode("utf-8"))
    assert problems == []
    assert len(table) == 4
    assert table.columns[0] == "month"


def test_every_bad_row_is_named_with_column_value_and_reason() -> None:
    text = (
        "month,route,detections\n"
        "2021-13,A,1\n"  # line 2: month 13
        "21-01,A,1\n"  # line 3: short year
        "2021-02,A,-4\n"  # line 4: negative
        "2021-02,B,2.5\n"  # line 5: not whole
        "2021-02,C,много\n"  # line 6: not a number
        "2021-02,D,\n"  # line 7: missing
        "2021-03,A,7\n"  # line 8: good
        "2021-03,A,8\n"  # line 9: duplicate of 8
        "2021-04,,1\n"  # line 10: empty label
        "2021-05,A\n"  # line 11: too few fields
    )
    table, problems = _read(text)
    by_row = {p.row: p for p in problems}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 9, 10, 11]
    assert by_row[2] == ImportProblem(2, "month", "2021-13",
                                      "month must be YYYY-MM with month 01-12")
    assert by_row[3].column == "month"
    assert (by_row[4].column, by_row[4].value) == ("detections", "-4")
    assert "negative" in by_row[4].reason
    assert "whole" in by_row[5].reason
    assert "not a number" in by_row[6].reason
    assert "missing" in by_row[7].reason
    assert "duplicate of row 8" in by_row[9].reason
    assert (by_row[10].column, by_row[10].reason) == ("route", "empty label")
    assert "expected 3 fields, found 2" in by_row[11].reason
    assert "row 4, column 'detections'" in str(by_row[4])
    # Only the good row is kept.
    assert table.to_dict("records") == [
        {"month": pd.Period("2021-03", "M"), "route": "A", "detections": 7}]


def test_unknown_and_missing_columns_are_reported() -> None:
    text = "month,route,colour,detections\n2021-01,A,red,1\n"
    table, problems = _read(text, dimensions=["route"])
    assert [(p.row, p.column, p.reason) for p in problems] == [
        (1, "colour", "unknown column (ignored)")]
    assert list(table.columns) == ["month", "route", "detections"]
    assert len(table) == 1

    table, problems = _read("month,route\n2021-01,A\n")
    assert [(p.row, p.column) for p in problems] == [(1, "detections")]
    assert "missing" in problems[0].reason
    assert table.empty


def test_an_empty_file_is_a_problem_not_a_crash() -> None:
    table, problems = _read("")
    assert table.empty
    assert problems[0].row == 1


def test_monthly_series_fill_absent_months_with_zero() -> None:
    table, _ = _read(GOOD)
    series = monthly_series(table, by=["участок"])
    assert sorted(map(str, series)) == ["Согд", "Хатлон"]
    hatlon = series["Хатлон"]
    assert list(hatlon.index.astype(str)) == ["2021-01", "2021-02", "2021-03"]
    assert list(hatlon) == [3, 0, 6]
    assert list(series["Согд"]) == [1, 0, 0]
    assert series["Согд"].index.equals(hatlon.index)  # one shared span

    total = monthly_series(table)
    assert list(total["total"]) == [4, 0, 6]

    pairs = monthly_series(table, by=["участок", "category"], end="2021-05")
    assert ("Хатлон", "контрабанда") in pairs
    assert list(pairs[("Хатлон", "контрабанда")]) == [0, 0, 2, 0, 0]


def test_monthly_series_rejects_unknown_columns() -> None:
    table, _ = _read(GOOD)
    with pytest.raises(ValueError, match="not in the table"):
        monthly_series(table, by=["nationality"])


@pytest.mark.skipif(not FRONTEX.exists(), reason=f"shared Frontex data not found at {FRONTEX}")
def test_the_real_frontex_file_reads_cleanly() -> None:
    table, problems = _read(FRONTEX)
    assert problems == []
    assert len(table) > 20_000
    assert list(table.columns) == ["month", "route", "border_type", "nationality", "detections"]
    routes = monthly_series(table, by=["route"])
    assert len(routes) >= 8
    for series in routes.values():
        assert len(series) == 144  # 2009-01 .. 2020-12, complete
        assert (series >= 0).all()
    assert sum(int(s.sum()) for s in routes.values()) == int(table["detections"].sum())
