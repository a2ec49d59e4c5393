"""Spreadsheets: files read as tables, and events written out as tables.

Reading: a CSV file (UTF-8; Windows-1251 Cyrillic is recognised and said so;
comma, semicolon or TAB separated) or one sheet of an XLSX workbook becomes a
:class:`Table` of cells with the row numbers a spreadsheet program shows.
Size limits and a guard against unpacking bombs refuse a file before it costs
memory. :mod:`sitcen.interop.event_import` reads events from such a table;
:func:`read_indicators` reads monthly indicator series.

Writing: events are flattened into one table (:data:`COLUMNS`) and written as
CSV, XLSX or GeoJSON page by page, so a query of any size streams. CSV cells
that Excel would take for a formula are defused; XLSX cells are typed as text.
The same column names are read back on import, so an export can be edited and
imported again.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import IO, Any, Literal

import orjson
import pandas as pd
import sqlalchemy as sa

from sitcen.analysis.indicators import read_indicator_rows
from sitcen.errors import ImportProblem, InvalidInput, Refused, error
from sitcen.events import Details
from sitcen.store.queries import EventFilter, query_events

#: The largest file accepted for import (CSV or XLSX as sent).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: The largest an XLSX workbook may grow when unpacked (a guard against zip bombs).
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
#: The most data rows one import reads.
MAX_ROWS = 500_000
#: Rows per sheet Excel can open (the header is one of them).
XLSX_MAX_ROWS = 1_048_576
#: Events read from the store per page while exporting.
EXPORT_PAGE = 5_000

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | bool | datetime | date | time | None
Kind = Literal["text", "integer", "number", "boolean", "datetime", "list"]


class SpreadsheetError(ValueError):
    """A file that cannot be read as a table at all; the message says why and what to do."""


class FileTooLargeError(SpreadsheetError):
    """A file (or an unpacked workbook) over the size limits."""


@contextmanager
def refusing_unreadable_files() -> Iterator[None]:
    """Answer a file that cannot be read as a table in the one error shape, at ``body``:
    413 (``too_large``) for one over the size limits, 422 (``spreadsheet``) otherwise."""
    try:
        yield
    except FileTooLargeError as exc:
        raise Refused(str(exc), status=413, kind="too_large", loc=("body",)) from exc
    except SpreadsheetError as exc:
        raise InvalidInput([error(("body",), str(exc), "spreadsheet")]) from exc


# --- the flat event table ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the flat event table."""

    name: str
    kind: Kind
    imported: bool  # False: the node sets it; ignored when a file is imported


DETAIL_FIELDS: tuple[str, ...] = tuple(Details.model_fields)
_DETAIL_KINDS: dict[str, Kind] = {"quantity": "number", "cases": "integer", "killed": "integer",
                                  "injured": "integer", "shots_fired": "boolean"}

COLUMNS: tuple[Column, ...] = (
    Column("id", "text", False),
    Column("origin", "text", False),
    Column("version", "integer", False),
    Column("type", "text", True),
    Column("category", "text", False),
    Column("occurred_at", "datetime", True),
    Column("reported_at", "datetime", True),
    Column("recorded_at", "datetime", False),
    Column("lon", "number", True),
    Column("lat", "number", True),
    Column("precision_m", "number", True),
    Column("section_id", "text", False),
    Column("section_distance_km", "number", False),
    Column("country", "text", True),
    Column("impact_level", "text", True),
    Column("status", "text", True),
    Column("handling", "text", True),
    Column("source_reliability", "text", True),
    Column("information_credibility", "integer", True),
    Column("transport", "text", True),
    Column("modus_operandi", "list", True),
    Column("reaction", "list", True),
    Column("persons", "text", True),
    Column("persons_total", "integer", False),
    *(Column(name, _DETAIL_KINDS.get(name, "text"), True) for name in DETAIL_FIELDS),
    Column("description", "text", True),
    Column("follow_up_of", "text", False),
    Column("has_personal_data", "boolean", False),
)



def persons_text(persons: Iterable[Mapping[str, Any]]) -> str:
    """Person counts in the short form import reads back: ``2 AF male adult; 1 TJ``."""
    parts = []
    for p in persons:
        text = f"{p['count']} {p['nationality']}"
        sex, age = p.get("sex", "unknown"), p.get("age_group", "unknown")
        if sex != "unknown" or age != "unknown":
            text += f" {sex} {age}"
        parts.append(text)
    return "; ".join(parts)


def event_row(body: Mapping[str, Any]) -> dict[str, Any]:
    """An event (its public JSON form) as one flat row keyed by :data:`COLUMNS`.

    Fields a received event does not carry are ``None``; lists stay lists.
    """
    location = body.get("location") or {}
    confidence = body.get("confidence") or {}
    details = body.get("details") or {}
    persons = body.get("persons") or []
    row: dict[str, Any] = {
        "lon": location.get("lon"),
        "lat": location.get("lat"),
        "precision_m": location.get("precision_m"),
        "source_reliability": confidence.get("source_reliability"),
        "information_credibility": confidence.get("information_credibility"),
        "modus_operandi": list(body.get("modus_operandi") or []),
        "reaction": list(body.get("reaction") or []),
        "persons": persons_text(persons) or None,
        "persons_total": sum(int(p["count"]) for p in persons) if persons else None,
    }
    for name in DETAIL_FIELDS:
        row[name] = details.get(name)
    return {c.name: row[c.name] if c.name in row else body.get(c.name) for c in COLUMNS}


def event_feature(body: Mapping[str, Any]) -> dict[str, Any]:
    """An event as a GeoJSON Feature with the flat row as its properties."""
    row = event_row(body)
    geometry = (None if row["lon"] is None or row["lat"] is None
                else {"type": "Point", "coordinates": [row["lon"], row["lat"]]})
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}


# --- export --------------------------------------------------------------------------------


def event_pages(engine: sa.Engine, filt: EventFilter,
                page_size: int = EXPORT_PAGE) -> Iterator[list[dict[str, Any]]]:
    """Every event the filter matches, newest first, a page at a time (one short read each)."""
    cursor: str | None = None
    while True:
        with engine.connect() as conn:
            bodies, cursor = query_events(conn, filt, limit=page_size, cursor=cursor)
        yield [orjson.loads(b) for b in bodies]
        if cursor is None:
            return


# Leading characters that make Excel or LibreOffice read a CSV cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """Text safe to open in a spreadsheet: a leading formula character gets an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return defuse("; ".join(str(v) for v in value))
    if isinstance(value, str):
        return defuse(value)
    return str(value)


def csv_chunks(pages: Iterable[list[dict[str, Any]]], *, bom: bool = False,
               delimiter: str = ",") -> Iterator[bytes]:
    """Events as CSV (UTF-8, a header row, CRLF line ends), one chunk per page.

    ``bom`` starts the file with a byte order mark so that Excel reads it as
    UTF-8. Text cells that begin with ``= + - @`` get a leading apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([c.name for c in COLUMNS])
    yield (("\ufeff" if bom else "") + buffer.getvalue()).encode()
    for page in pages:
        buffer.seek(0)
        buffer.truncate()
        for body in page:
            row = event_row(body)
            writer.writerow([_csv_value(row[c.name]) for c in COLUMNS])
        yield buffer.getvalue().encode()


def geojson_chunks(pages: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    """Events as one GeoJSON FeatureCollection, one chunk per page."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for page in pages:
        if page:
            features = b",".join(orjson.dumps(event_feature(body)) for body in page)
            yield features if first else b"," + features
            first = False
    yield b"]}"


@functools.cache
def _xlsx_cells() -> tuple[Any, re.Pattern[str]]:
    """openpyxl's write-only cell and its pattern of characters XML cannot hold, loaded once
    (a cell at a time, an import statement would cost as much as the cell)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return WriteOnlyCell, ILLEGAL_CHARACTERS_RE


def _xlsx_value(ws: Any, column: Column, value: Any) -> Any:
    if value is None:
        return None
    write_only_cell, illegal = _xlsx_cells()
    if column.kind == "datetime" and isinstance(value, str):
        # Excel has no time zones: times are written in UTC, without one.
        cell = write_only_cell(ws, value=datetime.fromisoformat(value).astimezone(UTC)
                             .replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str):
        cell = write_only_cell(ws, value=illegal.sub("\ufffd", value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    return value


def write_xlsx(pages: Iterable[list[dict[str, Any]]], out: IO[bytes]) -> int:
    """Events as an XLSX workbook with one sheet ``events``; returns how many were written."""
    import openpyxl  # loaded when a workbook is read or written, not at every start

    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("events")
    ws.append([c.name for c in COLUMNS])
    written = 0
    for page in pages:
        for body in page:
            written += 1
            if written >= XLSX_MAX_ROWS:
                raise SpreadsheetError(f"more than {XLSX_MAX_ROWS - 1:,} events: an Excel sheet "
                                       "cannot hold them; export CSV or narrow the query")
            row = event_row(body)
            ws.append([_xlsx_value(ws, c, row[c.name]) for c in COLUMNS])
    workbook.save(out)
    return written


# --- reading a file as a table ----------------------------------------------------------------


@dataclass
class Table:
    """A sheet read as text cells: its header, then (row number, cells) as often as asked.

    Row numbers are those a spreadsheet program shows (the header is usually row 1).
    """

    header: list[str]
    header_row: int
    _rows: Callable[[], Iterator[tuple[int, list[Cell]]]]
    notes: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """The rows under the header, blank ones included."""
        return self._rows()


def blank(cell: Cell) -> bool:
    """Whether a cell holds nothing (or only spaces)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


@contextmanager
def open_table(data: bytes, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None, xlsx: bool = True) -> Iterator[Table]:
    """The table in ``data``: XLSX when it is a ZIP archive, CSV text otherwise.

    The one reader of every imported table (events, capacity inventories,
    indicators). CSV text is decoded by :func:`decode_text` (UTF-8 with or
    without a byte order mark, UTF-16 with one, Cyrillic Windows-1251 as
    Russian Excel saves it) and split at the ``delimiter`` given or, without
    one, the one of ``,`` ``;`` TAB ``|`` its header uses most. A workbook is
    read only where the caller allows it (``xlsx``).
    """
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError(f"the file has {len(data):,} bytes; the limit is "
                                f"{MAX_FILE_BYTES:,} (split it into several files)")
    if data.startswith(b"PK\x03\x04"):
        if not xlsx:
            raise SpreadsheetError("this is an XLSX workbook; this import reads CSV text: "
                                   "save the sheet as CSV")
        with _xlsx_table(data, sheet) as table:
            yield table
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError("this is an old Excel .xls file (or another OLE document); "
                               "save it as .xlsx or as CSV UTF-8")
    else:
        yield _csv_table(data, encoding, delimiter)


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, list[str]]:
    """The text of a CSV file and notes on how it was decoded.

    Without ``encoding``: UTF-8 (with or without a byte order mark), UTF-16 with
    a byte order mark, or, when the bytes are not UTF-8 but read as Cyrillic
    text in Windows-1251, that (with a note saying so). Anything else is refused.
    """
    notes: list[str] = []
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise SpreadsheetError(f"unknown encoding {encoding!r}") from exc
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(f"the file is not valid {encoding}: byte {exc.start} "
                                   f"(0x{data[exc.start]:02x}) cannot be decoded") from exc
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SpreadsheetError("the file starts like UTF-16 but is not valid UTF-16") from exc
        notes.append("the file was read as UTF-16 (it starts with a UTF-16 byte order mark)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            cyrillic = _as_windows_1251(data)
            if cyrillic is None:
                raise SpreadsheetError(
                    f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "save it as 'CSV UTF-8' or give its encoding (for example cp1251)") from exc
            text = cyrillic
            notes.append("the file is not UTF-8; it reads as Cyrillic in Windows-1251 and was "
                         "decoded so (check the text, or save the file as 'CSV UTF-8')")
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise SpreadsheetError("the file contains NUL characters, so it is not CSV text "
                               "(UTF-16 without a byte order mark?); save it as 'CSV UTF-8'")
    return text, notes


_CYRILLIC_WORD = re.compile(r"\w*[\u0400-\u04ff]\w*")


def _as_windows_1251(data: bytes) -> str | None:
    """The text when the bytes read as Cyrillic in Windows-1251, else None.

    Most non-ASCII characters must be Cyrillic, and words must not mix Cyrillic
    and Latin letters: Western text read this way does (``Müller`` → ``Mьller``).
    """
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        return None
    non_ascii = [ch for ch in text if ord(ch) > 127]
    cyrillic = sum(1 for ch in non_ascii if "\u0400" <= ch <= "\u04ff")
    if not non_ascii or cyrillic < 0.8 * len(non_ascii):
        return None
    words = _CYRILLIC_WORD.findall(text)
    mixed = sum(1 for word in words if re.search(r"[A-Za-z]", word))
    return text if mixed <= 0.1 * len(words) else None


def _sniff_delimiter(first_line: str) -> str:
    """The most frequent of , ; TAB | outside quotes in the header line (comma by default)."""
    counts = dict.fromkeys((",", ";", "\t", "|"), 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unescape(text: str) -> str:
    # Undo the apostrophe our own export puts before formula characters.
    return text[1:] if text.startswith("'") and text[1:2] in _FORMULA_START else text


def _csv_table(data: bytes, encoding: str | None, delimiter: str | None) -> Table:
    text, notes = decode_text(data, encoding)
    first_line = text.split("\n", 1)[0]
    sep = delimiter or _sniff_delimiter(first_line)

    def records() -> Iterator[tuple[int, list[Cell]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        number = 0
        try:
            for number, fields in enumerate(reader, start=1):
                yield number, [_unescape(f) for f in fields]
        except csv.Error as exc:
            raise SpreadsheetError(f"row {number + 1}: not readable as CSV ({exc})") from exc

    header, header_row = _find_header(records())

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        for number, cells in records():
            if number > header_row:
                yield number, cells

    if sep != ",":
        notes.append(f"columns are separated by {'TAB' if sep == chr(9) else repr(sep)}")
    return Table(header, header_row, rows, notes)


def _find_header(records: Iterator[tuple[int, list[Cell]]]) -> tuple[list[str], int]:
    """The first row that is not blank, as header texts (empty when the file has none)."""
    for number, cells in records:
        if not all(blank(c) for c in cells):
            return [cell_text(c).strip() for c in cells], number
    return [], 0


def _refuse_entities(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a workbook whose XML parts declare a DTD or entities.

    Spreadsheet programs never write them; a declaration is how "billion
    laughs" and external-entity attacks start, so no parser gets to see one
    (whichever XML library openpyxl happens to use).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            with archive.open(info) as part:
                head = part.read(4096)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise SpreadsheetError(f"{info.filename} declares XML entities (a DTD), which "
                                       "spreadsheets never need: refused")


@contextmanager
def _xlsx_table(data: bytes, sheet: str | None) -> Iterator[Table]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(f"the file starts like an XLSX workbook (a ZIP archive) but "
                               f"cannot be opened: {exc}") from exc
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileTooLargeError(f"the workbook unpacks to {unpacked:,} bytes; the limit is "
                                f"{MAX_UNPACKED_BYTES:,}")
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise SpreadsheetError("a ZIP archive, but not an XLSX workbook (no xl/workbook.xml); "
                               "save the sheet as .xlsx or as CSV UTF-8")
    _refuse_entities(data, infos)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles openpyxl does not know are no concern here
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise SpreadsheetError(f"the XLSX workbook cannot be read: {exc}") from exc
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            raise SpreadsheetError(f"no sheet {sheet!r} in the workbook; its sheets are "
                                   + ", ".join(repr(n) for n in names))
        ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        title = ws.title

        def records() -> Iterator[tuple[int, list[Cell]]]:
            number = 0
            try:
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    yield number, [_xlsx_cell(v) for v in values]
            except SpreadsheetError:
                raise
            except Exception as exc:
                raise SpreadsheetError(f"sheet {title!r}, after row {number}: the worksheet "
                                       f"cannot be read: {exc}") from exc

        header, header_row = _find_header(records())

        def rows() -> Iterator[tuple[int, list[Cell]]]:
            for number, cells in records():
                if number > header_row:
                    yield number, cells

        notes = [f"read sheet {title!r} of {len(names)}"] if len(names) > 1 else []
        yield Table(header, header_row, rows, notes)
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    """A value openpyxl read, as one of the cell types the rest of the code knows."""
    if value is None or isinstance(value, bool | int | float | datetime | date | time):
        return value
    if isinstance(value, str):
        return _unescape(value)
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # rich text, time spans, array formulas: their text


def cell_text(cell: Cell) -> str:
    """A cell as the text a problem report shows."""
    if cell is None:
        return ""
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


# --- monthly indicators -------------------------------------------------------------------------


def _indicator_text(cell: Cell) -> str:
    # A month typed into Excel is a date on the 1st: give it back as YYYY-MM.
    if isinstance(cell, datetime | date) and cell.day == 1 and (
            not isinstance(cell, datetime) or cell.time() == time()):
        return f"{cell.year:04d}-{cell.month:02d}"
    return cell_text(cell)


def read_indicators(
    data: bytes,
    *,
    value_column: str = "detections",
    dimensions: list[str] | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
) -> tuple[pd.DataFrame, list[ImportProblem], list[str]]:
    """A monthly indicator table from CSV or XLSX: the table, its problems, reading notes.

    The file is read by :func:`open_table` (any encoding and delimiter it
    knows, or a sheet) and its rows checked by
    :func:`sitcen.analysis.indicators.read_indicator_rows`.
    """
    with open_table(data, encoding=encoding, sheet=sheet) as table:
        if not table.header:
            frame, problems = read_indicator_rows([], value_column=value_column,
                                                  dimensions=dimensions)
            return frame, problems, table.notes
        rows: list[list[str]] = [[*table.header]]
        last = table.header_row
        for number, cells in table.rows():
            rows += [[] for _ in range(number - last - 1)]
            rows.append([_indicator_text(c) for c in cells])
            last = number
            if len(rows) > MAX_ROWS:
                raise FileTooLargeError(f"more than {MAX_ROWS:,} rows; split the file")
        notes = table.notes
    frame, problems = read_indicator_rows(rows, value_column=value_column, dimensions=dimensions)
    if table.header_row > 1:
        shift = table.header_row - 1
        problems = [ImportProblem(p.row + shift, p.column, p.value, p.reason) for p in problems]
    return frame, problems, notes
