"""Files attached to events, requests, answers, operations and daily reports."""


import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, CurrentUser, Reader
from sitcen.errors import InvalidInput, Refused, error
from sitcen.node import Node
from sitcen.operations.attachments import (
    ATTACHABLE,
    FileRefused,
    FileTooLarge,
    attach_file,
    attachments_of,
    check_file,
    public_attachment,
)
from sitcen.operations.references import HeldRecord, require_record
from sitcen.store.journal import RecordKind
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

router = APIRouter(prefix="/attachments", tags=["attachments"])

#: Who may attach a file to a record of each kind.
NEEDS: dict[str, Permission] = {
    RecordKind.event: Permission.report_events,
    RecordKind.request_for_information: Permission.handle_requests,
    RecordKind.request_response: Permission.handle_requests,
    RecordKind.joint_operation: Permission.coordinate_operations,
    RecordKind.operation_report: Permission.report_events,
}

_UPLOAD = {
    "requestBody": {"required": True, "description": "the file's bytes",
                    "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                          "format": "binary"}}}},
}


def may_attach_to(node: Node, user: StoredUser, record_id: uuid.UUID) -> HeldRecord:
    """The record a file is to be attached to, if this user may attach one to it."""
    record = require_record(node.engine, str(record_id), loc=("query", "record_id"))
    needed = NEEDS.get(record.kind)
    if needed is not None and not allows(user.role, needed):
        raise Refused(f"role {user.role.value} may not attach files to a {record.kind}")
    return record


def file_max_bytes(node: Node) -> int:
    """The largest file this node accepts (``file_max_mb``), in bytes."""
    return int(node.settings.file_max_mb * 1024 * 1024)


def attach(node: Node, user: StoredUser, record_id: uuid.UUID, name: str,
           declared: str | None, content: bytes) -> dict[str, Any]:
    """Check a file and attach it (the one path of a whole upload and a resumed one)."""
    record = may_attach_to(node, user, record_id)
    max_bytes = file_max_bytes(node)
    try:
        checked = check_file(content, name=name, declared_type=declared, max_bytes=max_bytes)
    except FileTooLarge as exc:
        raise Refused(str(exc), status=status.HTTP_413_CONTENT_TOO_LARGE, kind="too_large",
                      loc=("body",)) from None
    except FileRefused as exc:
        if exc.kind == "unsupported_type":
            raise Refused(str(exc), status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                          kind=exc.kind, loc=("body",)) from None
        raise InvalidInput([error(("body",), str(exc), exc.kind)]) from None
    reporter = node.reporter
    stored = attach_file(node.engine, node.settings.node_id, record, checked, by=user.username,
                         sections=reporter.sections, max_km=reporter.max_km)
    return dict(public_attachment(stored))


@router.post("", status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD)
async def create_attachment(
    request: Request, node: CurrentNode, user: CurrentUser,
    record_id: Annotated[uuid.UUID, Query(description="the record the file belongs to: an "
                                          "event, request, response, operation or report")],
    name: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]*$",
                               description="the file's name (its extension must fit its "
                                           "content)")],
) -> dict[str, Any]:
    """Attach a file (the body) to a record: checked by content, images stripped of metadata"""
    if not allows(user.role, Permission.read_picture):
        raise Refused(f"role {user.role.value} may not read the picture")
    content = await request.body()
    return await run_in_threadpool(attach, node, user, record_id, name,
                                   request.headers.get("content-type"), content)


@router.get("")
def read_attachments(node: CurrentNode, _user: Reader,
                     record_id: Annotated[uuid.UUID, Query()]) -> list[dict[str, Any]]:
    """The files attached to a record this node holds (own and received), oldest first"""
    return [dict(public_attachment(a)) for a in attachments_of(node.engine, str(record_id))]


__all__ = ["ATTACHABLE", "router"]
