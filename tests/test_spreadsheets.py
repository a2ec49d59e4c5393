"""Spreadsheet files: reading CSV and XLSX safely, and exporting event queries as tables."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import sitcen.api.routes.exports
import sitcen.interop.spreadsheets
from conftest import iso, report
from sitcen.interop.spreadsheets import (
    COLUMNS,
    FileTooLargeError,
    SpreadsheetError,
    csv_chunks,
    decode_text,
    event_pages,
    open_table,
    read_indicators,
    write_xlsx,
)
from sitcen.node import Node
from sitcen.store.queries import EventFilter
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
EXPORTS = "/api/v1/exports/events"
NOW = datetime.now(UTC).replace(microsecond=0)

# --- reading -------------------------------------------------------------------------------------


def test_encodings() -> None:
    text = "Вид;Описание\nКонтрабанда;Задержан «курьер»\n"
    assert decode_text(text.encode()) == (text, [])
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == (text, [])
    decoded, notes = decode_text(text.encode("cp1251"))
    assert decoded == text
    assert "Windows-1251" in notes[0]
    assert decode_text(text.encode("utf-16"))[0] == text
    plain = "Вид;Описание\nКонтрабанда;Задержан курьер\n"
    assert decode_text(plain.encode("koi8-r"), "koi8-r") == (plain, [])
    with pytest.raises(SpreadsheetError, match=r"not UTF-8 \(byte 0xfc at offset 2\).*cp1251"):
        decode_text("Grüße, Müller & Söhne".encode("latin-1"))
    with pytest.raises(SpreadsheetError, match="not valid utf-8: byte 0"):
        decode_text(text.encode("cp1251"), "utf-8")
    with pytest.raises(SpreadsheetError, match="unknown encoding 'klingon'"):
        decode_text(b"a", "klingon")
    with pytest.raises(SpreadsheetError, match="NUL characters"):
        decode_text("type,lon\n".encode("utf-16-le"))


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_separators_and_quoted_cells(separator: str) -> None:
    rows = [["Вид", "Описание, подробно", "Долгота"],
            ["drug_smuggling", f'он сказал "стой"{separator} потом ушёл\nночью', "68,6"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=separator).writerows(rows)
    with open_table(buffer.getvalue().encode()) as table:
        assert table.header == rows[0]
        assert list(table.rows()) == [(2, rows[1])]


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_keep_their_types() -> None:
    data = _xlsx([[None], ["Дата", "Долгота", "Описание", "Формула"],
                  [datetime(2021, 3, 1, 14, 30), 68.6, "Пяндж", "=1+1"]])
    with open_table(data) as table:
        assert (table.header, table.header_row) == (["Дата", "Долгота", "Описание", "Формула"], 2)
        # A formula nobody calculated has no value to read.
        assert list(table.rows()) == [(3, [datetime(2021, 3, 1, 14, 30), 68.6, "Пяндж", None])]


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name in set(replace) - set(source.namelist()):
            target.writestr(name, replace[name])
    return out.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&i;</t></is></c></row></sheetData>'
    "</worksheet>"
)


def test_hostile_and_wrong_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    good = _xlsx([["type"], ["drug_smuggling"]])
    cases: list[tuple[bytes, str]] = [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
        (b"PK\x03\x04 broken archive", "cannot be opened"),
        (_rezip(good, {"xl/workbook.xml": b"<not-a-workbook"}), "cannot be read"),
        (_rezip(good, {"xl/worksheets/sheet1.xml": BILLION_LAUGHS.encode()}),
         "declares XML entities"),
    ]
    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as archive:
        archive.writestr("content.xml", "<office/>")
    cases.append((odt.getvalue(), "not an XLSX workbook"))
    for data, message in cases:
        with pytest.raises(SpreadsheetError, match=message), open_table(data) as table:
            list(table.rows())
    missing = "no sheet 'Итоги' in the workbook; its sheets are 'Sheet'"
    with pytest.raises(SpreadsheetError, match=missing), open_table(good, sheet="Итоги"):
        pass
    # An archive that would unpack beyond the limit is refused before it is unpacked.
    monkeypatch.setattr(sitcen.interop.spreadsheets, "MAX_UNPACKED_BYTES", 100_000)
    bomb = _rezip(good, {"xl/media/padding.bin": b" " * 200_000})
    assert len(bomb) < 20_000
    with pytest.raises(FileTooLargeError, match="unpacks to"), open_table(bomb):
        pass


# --- exporting -----------------------------------------------------------------------------------

TRICKY = [
    ("=HYPERLINK(\"http://evil.example\",\"нажми\")", 68.60, 37.22),
    ("+7 900 000 00 00 — звонок", 68.61, 37.23),
    ("-5 кг героина", -3.70, 40.42),  # Madrid: a negative number must stay a number
    ("@SUM(1+1)", 70.80, 39.95),
    ("Обычный текст: «кавычки», запятые; точки с запятой\nи перенос строки", 71.43, 51.17),
]


@pytest.fixture
def tricky(client: TestClient, as_role: Headers) -> list[dict[str, Any]]:
    events = [report(description=text, location={"lon": lon, "lat": lat},
                     occurred_at=iso(NOW - timedelta(hours=i)))
              for i, (text, lon, lat) in enumerate(TRICKY)]
    response = client.post("/api/v1/events/batch", json={"events": events},
                           headers=as_role(Role.operator))
    assert response.status_code == 201, response.text
    return events


@pytest.mark.usefixtures("tricky")
def test_csv_export_defuses_formulas_and_keeps_cyrillic(client: TestClient,
                                                        as_role: Headers) -> None:
    response = client.get(f"{EXPORTS}?format=csv", headers=as_role(Role.liaison))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="events.csv"'
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert list(rows[0]) == [c.name for c in COLUMNS]
    assert [r["description"] for r in rows] == [
        "'=HYPERLINK(\"http://evil.example\",\"нажми\")", "'+7 900 000 00 00 — звонок",
        "'-5 кг героина", "'@SUM(1+1)", TRICKY[4][0]]
    assert rows[2]["lon"] == "-3.7"
    assert rows[0]["persons"] == "2 AF male adult"
    assert rows[0]["modus_operandi"] == "river_crossing"
    assert rows[0]["reaction"] == "apprehended; seized"
    assert rows[0]["has_personal_data"] == "false"
    # For Excel: a byte order mark, and semicolons as Russian Excel expects.
    excel = client.get(f"{EXPORTS}?format=csv&bom=true&delimiter=semicolon"
                       "&bbox=68.605,37.225,68.62,37.24", headers=as_role(Role.liaison))
    assert excel.content.startswith("\ufeffid;origin;".encode())
    (row,) = list(csv.DictReader(io.StringIO(excel.content.decode("utf-8-sig")), delimiter=";"))
    assert row["description"].startswith("'+7 900")


@pytest.mark.usefixtures("tricky")
def test_xlsx_export_types_every_cell(client: TestClient, as_role: Headers) -> None:
    response = client.get(f"{EXPORTS}?format=xlsx&type=drug_smuggling",
                          headers=as_role(Role.analyst))
    assert response.status_code == 200
    assert response.headers["content-type"] == sitcen.interop.spreadsheets.XLSX_MEDIA_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = workbook["events"]
    header = [c.value for c in ws[1]]
    assert header == [c.name for c in COLUMNS]
    at = {name: i for i, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(TRICKY)
    first = rows[0]
    assert first[at["description"]].value == TRICKY[0][0]
    assert first[at["description"]].data_type == "s"  # text, never a formula
    assert first[at["occurred_at"]].value == NOW.replace(tzinfo=None)  # UTC, no zone in Excel
    assert first[at["quantity"]].value == 12.5
    assert rows[2][at["lon"]].value == -3.7


@pytest.mark.usefixtures("tricky")
def test_geojson_export(client: TestClient, as_role: Headers) -> None:
    response = client.get(f"{EXPORTS}?format=geojson&since={iso(NOW - timedelta(hours=2))}"
                          .replace("+", "%2B"), headers=as_role(Role.operator))
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["description"] for f in body["features"]] == [
        t for t, _, _ in TRICKY[:3]]
    assert body["features"][2]["geometry"] == {"type": "Point", "coordinates": [-3.7, 40.42]}
    empty = client.get(f"{EXPORTS}?format=geojson&type=epidemic", headers=as_role(Role.operator))
    assert empty.json() == {"type": "FeatureCollection", "features": []}


def test_export_refusals(client: TestClient, as_role: Headers, tokens: dict[Role, str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get(EXPORTS).status_code == 401
    bad = client.get(f"{EXPORTS}?format=pdf", headers=as_role(Role.liaison))
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "format"]
    bad = client.get(f"{EXPORTS}?bbox=1,2,3", headers=as_role(Role.liaison))
    assert bad.json()["detail"][0]["loc"] == ["query", "bbox"]
    client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    monkeypatch.setattr(sitcen.api.routes.exports, "XLSX_MAX_ROWS", 1)
    too_many = client.get(f"{EXPORTS}?format=xlsx", headers=as_role(Role.liaison))
    assert too_many.status_code == 422
    assert "more than an Excel sheet holds" in too_many.json()["detail"][0]["msg"]


def test_exports_stream_page_by_page(node: Node, client: TestClient, as_role: Headers) -> None:
    events = [report(occurred_at=iso(NOW - timedelta(minutes=i)), description=f"№{i}")
              for i in range(23)]
    client.post("/api/v1/events/batch", json={"events": events}, headers=as_role(Role.operator))
    chunks = list(csv_chunks(event_pages(node.engine, EventFilter(), page_size=5)))
    assert len(chunks) == 1 + 5  # the header, then five pages
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [r["description"] for r in rows] == [f"№{i}" for i in range(23)]
    sitcen_xlsx = io.BytesIO()
    assert write_xlsx(event_pages(node.engine, EventFilter(), page_size=7), sitcen_xlsx) == 23


# --- monthly indicators --------------------------------------------------------------------------


def test_indicators_from_xlsx_and_windows_1251_csv() -> None:
    xlsx = _xlsx([
        ["month", "участок", "detections"],
        [datetime(2021, 1, 1), "Хатлон", 3],  # a month typed into Excel is a date
        ["2021-02", "Согд", 1.0],
        [datetime(2021, 3, 15), "Хатлон", 4],  # not the 1st: not a month
        ["2021-04", "Хатлон", -1],
        [None, None, None],
        ["2021-05", "Хатлон", 2],
    ])
    table, problems, notes = read_indicators(xlsx)
    assert notes == []
    assert [(p.row, p.column, p.value) for p in problems] == [
        (4, "month", "2021-03-15T00:00:00"), (5, "detections", "-1")]
    assert table.to_dict("records") == [
        {"month": pd.Period("2021-01", "M"), "участок": "Хатлон", "detections": 3},
        {"month": pd.Period("2021-02", "M"), "участок": "Согд", "detections": 1},
        {"month": pd.Period("2021-05", "M"), "участок": "Хатлон", "detections": 2}]
    text = "month;участок;detections\n2021-01;Хатлон;3\n2021-02;Согд;много\n"
    table, problems, notes = read_indicators(text.encode("cp1251"))
    assert len(table) == 1
    assert [(p.row, p.column, p.reason) for p in problems] == [
        (3, "detections", "count is not a number")]
    assert any("Windows-1251" in n for n in notes)
    assert "columns are separated by ';'" in notes
    empty, problems, _ = read_indicators(b"")
    assert empty.empty
    assert problems[0].reason == "the file is empty (no header)"


def test_column_table_matches_the_json_export(node: Node, client: TestClient,
                                              as_role: Headers) -> None:
    client.post("/api/v1/events", json=report(), headers=as_role(Role.operator))
    geojson = client.get(f"{EXPORTS}?format=geojson", headers=as_role(Role.operator)).json()
    csv_rows = list(csv.DictReader(io.StringIO(
        client.get(EXPORTS, headers=as_role(Role.operator)).text)))
    (feature,), (row,) = geojson["features"], csv_rows
    assert list(feature["properties"]) == list(row)
    for name, value in feature["properties"].items():
        shown = ("" if value is None else "; ".join(value) if isinstance(value, list)
                 else json.dumps(value) if isinstance(value, bool) else str(value))
        assert row[name] == shown, name
