"""Imports: historic events from a CSV or XLSX file, each row checked before any is written."""


from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reporting
from sitcen.errors import ImportRefusal, InvalidInput, error
from sitcen.interop.event_import import (
    ColumnMapping,
    EventImportReport,
    MappingError,
    import_events,
    load_mapping,
    mapping_from_dict,
)
from sitcen.interop.spreadsheets import XLSX_MEDIA_TYPE, refusing_unreadable_files
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.users import author
from sitcen.users import Permission, allows

router = APIRouter(prefix="/imports", tags=["imports"])

_FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "the file itself: CSV text or an XLSX workbook",
        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("text/csv", XLSX_MEDIA_TYPE)},
    }
}

PairParam = Annotated[list[str] | None, Query(max_length=500)]


def _pairs(name: str, given: list[str] | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in given or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise MappingError(f"{name}: {item!r} is not field=value")
        pairs[field.strip()] = value.strip()
    return pairs


def _mapping(document: str | None, column: list[str] | None, default: list[str] | None,
             options: dict[str, str | None]) -> ColumnMapping:
    """The mapping document (if any), with the single parameters laid over it."""
    base = load_mapping(document, source="mapping") if document else ColumnMapping()
    data: dict[str, Any] = base.model_dump()
    data["columns"] = {**data["columns"], **_pairs("column", column)}
    data["defaults"] = {**data["defaults"], **_pairs("default", default)}
    data.update({k: v for k, v in options.items() if v is not None})
    return mapping_from_dict(data, source="parameters")


@router.post("/events", openapi_extra=_FILE_BODY, response_model=EventImportReport,
             responses={201: {"description": "imported; the report"},
                        413: {"description": "the file is too large"},
                        422: {"model": ImportRefusal[EventImportReport],
                              "description": "problems in the file; nothing imported"}})
async def import_events_file(
    request: Request,
    node: CurrentNode,
    user: Reporting,
    dry_run: Annotated[bool, Query(description="only check; write nothing")] = False,
    valid_only: Annotated[bool, Query(description="import the valid rows even when others "
                                                  "have problems")] = False,
    column: Annotated[PairParam, Query(description="field=header, e.g. lon=Долгота")] = None,
    default: Annotated[PairParam, Query(description="field=value for rows without one")] = None,
    timezone: Annotated[str | None, Query(max_length=64, description="for times given "
                                          "without a zone: UTC, +05:00, Asia/Dushanbe")] = None,
    date_format: Annotated[str | None, Query(max_length=64, description="strptime format, "
                                             "e.g. %d.%m.%Y %H:%M")] = None,
    sheet: Annotated[str | None, Query(max_length=100, description="XLSX sheet name")] = None,
    encoding: Annotated[str | None, Query(max_length=32, description="CSV encoding when not "
                                          "UTF-8, e.g. cp1251")] = None,
    delimiter: Annotated[str | None, Query(min_length=1, max_length=1)] = None,
    mapping: Annotated[str | None, Query(max_length=20_000, description="a whole mapping "
                                         "document (JSON or YAML)")] = None,
) -> Response:
    """Import events from a CSV or XLSX file (the body); answers with the validation report."""
    try:
        chosen = _mapping(mapping, column, default, {
            "timezone": timezone, "date_format": date_format, "sheet": sheet,
            "encoding": encoding, "delimiter": delimiter})
    except MappingError as exc:
        raise InvalidInput([error(("query", "mapping"), str(exc), "mapping")]) from exc
    data = await request.body()
    with refusing_unreadable_files():
        report = await run_in_threadpool(
            import_events, node.engine, node.reporter, data, chosen, dry_run=dry_run,
            valid_only=valid_only, may_validate=allows(user.role, Permission.change_status),
            by=author(user))
    body = report.to_dict()
    if report.refused:
        raise InvalidInput([error(("body",), report.summary, "import_refused")], report=body)
    if not dry_run:
        audit.record(node.engine, user.username, AuditAction.import_, "events",
                     {"bytes": len(data), "imported": report.imported,
                      "summary": report.summary})
    code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")
