"""Exports: any event query as CSV, XLSX or GeoJSON, streamed page by page."""


import dataclasses
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from sitcen.api.deps import CurrentNode, Reader
from sitcen.api.routes.events import EventQuery
from sitcen.errors import InvalidInput, error
from sitcen.interop.spreadsheets import (
    XLSX_MAX_ROWS,
    XLSX_MEDIA_TYPE,
    csv_chunks,
    event_pages,
    geojson_chunks,
    write_xlsx,
)
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.queries import EventFilter, count_matching

router = APIRouter(prefix="/exports", tags=["exports"])


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    geojson = "geojson"


class Delimiter(StrEnum):
    comma = "comma"
    semicolon = "semicolon"
    tab = "tab"


_SEPARATORS = {Delimiter.comma: ",", Delimiter.semicolon: ";", Delimiter.tab: "\t"}
_SPOOL_BYTES = 16 * 1024 * 1024


def _query_of(filt: EventFilter) -> dict[str, Any]:
    """What an export asked for, as the audit trail keeps it (the filters given)."""
    return {k: list(v) if isinstance(v, (list, tuple)) else v
            for k, v in dataclasses.asdict(filt).items() if v not in (None, [], ())}


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        handle.seek(0)
        while chunk := handle.read(256 * 1024):
            yield chunk
    finally:
        handle.close()


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {},
                                         "application/geo+json": {}}}})
def export_events(
    node: CurrentNode,
    user: Reader,
    filt: EventQuery,
    format: Annotated[ExportFormat, Query()] = ExportFormat.csv,
    bom: Annotated[bool, Query(description="CSV: start with a UTF-8 byte order mark "
                                           "(for Excel)")] = False,
    delimiter: Annotated[Delimiter, Query(description="CSV: the column separator")] = (
        Delimiter.comma),
) -> StreamingResponse:
    """Every event a query matches (the filters of GET /events) as CSV, XLSX or GeoJSON."""
    audit.record(node.engine, user.username, AuditAction.export, "events",
                 {"format": str(format), "query": _query_of(filt)})
    pages = event_pages(node.engine, filt)
    if format == ExportFormat.csv:
        return StreamingResponse(csv_chunks(pages, bom=bom, delimiter=_SEPARATORS[delimiter]),
                                 media_type="text/csv; charset=utf-8",
                                 headers=_attachment("events.csv"))
    if format == ExportFormat.geojson:
        return StreamingResponse(geojson_chunks(pages), media_type="application/geo+json",
                                 headers=_attachment("events.geojson"))
    with node.engine.connect() as conn:
        matched = count_matching(conn, filt)
    if matched >= XLSX_MAX_ROWS:
        raise InvalidInput([error(("query", "format"),
                                  f"{matched:,} events: more than an Excel sheet holds "
                                  f"({XLSX_MAX_ROWS - 1:,}); export CSV or narrow the query",
                                  "too_many")])
    # A workbook is a ZIP archive, written whole before it can be sent.
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed by the stream)
    try:
        write_xlsx(pages, spool)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(_file_chunks(spool), media_type=XLSX_MEDIA_TYPE,
                             headers=_attachment("events.xlsx"))
