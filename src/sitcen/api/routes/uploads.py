"""Resumable uploads: a file sent in chunks, resumed after a dropped link (docs/api.md)."""


import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sitcen.api.deps import CurrentNode, CurrentUser
from sitcen.api.routes.attachments import attach, file_max_bytes, may_attach_to
from sitcen.errors import InvalidInput, NotFound, Refused, error
from sitcen.node import Node
from sitcen.operations.uploads import (
    TooManyUploads,
    Upload,
    UploadGone,
    Uploads,
    UploadTooLong,
    WrongOffset,
    sha256_matches,
)
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

router = APIRouter(prefix="/uploads", tags=["attachments"])

#: The most a single chunk may carry; the console sends 64 KiB.
MAX_CHUNK_BYTES = 4 * 1024 * 1024

_CHUNK = {
    "requestBody": {"required": True, "description": "the next bytes of the file, from "
                    "Upload-Offset on",
                    "content": {"application/offset+octet-stream": {
                        "schema": {"type": "string", "format": "binary"}}}},
}


def _uploads(node: Node) -> Uploads:
    return Uploads(node.settings.data_dir / "uploads",
                   expiry_s=node.settings.upload_expiry_hours * 3600,
                   max_bytes=file_max_bytes(node))


def _public(upload: Upload, attachment: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": upload.id, "record_id": upload.record_id, "name": upload.name,
            "length": upload.length, "offset": upload.offset,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(upload.expires_at)),
            "url": f"/api/v1/uploads/{upload.id}", "attachment_id": upload.attachment_id,
            "attachment": attachment}


def _answer(response: Response, upload: Upload) -> None:
    response.headers["Upload-Offset"] = str(upload.offset)
    response.headers["Upload-Length"] = str(upload.length)
    response.headers["Cache-Control"] = "no-store"


def _may_upload(user: StoredUser) -> None:
    if not allows(user.role, Permission.read_picture):
        raise Refused(f"role {user.role.value} may not read the picture")


def _gone(upload_id: str, exc: UploadGone) -> NotFound:
    return NotFound("upload", upload_id, str(exc), loc=("path", "upload_id"))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_upload(
    response: Response, node: CurrentNode, user: CurrentUser,
    record_id: Annotated[uuid.UUID, Query(description="the record the file will belong to")],
    name: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^\x00]*$",
                               description="the file's name (its extension must fit its "
                                           "content)")],
    upload_length: Annotated[int, Header(alias="Upload-Length", ge=1,
                                         description="the file's size in bytes")],
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$",
                                        description="the whole file's SHA-256, checked when "
                                                    "the last byte is in")] = None,
    upload_type: Annotated[str | None, Header(alias="Upload-Type",
                                              description="the file's media type")] = None,
) -> dict[str, Any]:
    """Start a resumable upload of a file to a record; its bytes follow in PATCH requests"""
    _may_upload(user)
    may_attach_to(node, user, record_id)
    try:
        upload = _uploads(node).start(
            username=user.username, record_id=str(record_id), name=name,
            declared_type=upload_type, length=upload_length, sha256=sha256, now=time.time())
    except UploadTooLong as exc:
        raise Refused(str(exc), status=status.HTTP_413_CONTENT_TOO_LARGE, kind="too_large",
                      loc=("header", "Upload-Length")) from None
    except TooManyUploads as exc:
        raise Refused(str(exc), status=status.HTTP_429_TOO_MANY_REQUESTS,
                      kind="too_many_uploads") from None
    _answer(response, upload)
    response.headers["Location"] = f"/api/v1/uploads/{upload.id}"
    return _public(upload)


@router.get("/{upload_id}")
def read_upload(response: Response, node: CurrentNode, user: CurrentUser,
                upload_id: str) -> dict[str, Any]:
    """How far an upload has come (Upload-Offset): where to resume after a dropped link"""
    _may_upload(user)
    try:
        upload = _uploads(node).get(upload_id, user.username, time.time())
    except UploadGone as exc:
        raise _gone(upload_id, exc) from None
    _answer(response, upload)
    return _public(upload)


def _finish(node: Node, user: StoredUser, uploads: Uploads, upload: Upload) -> dict[str, Any]:
    content = uploads.content(upload)
    if not sha256_matches(content, upload.sha256):
        uploads.discard(upload.id)
        raise InvalidInput([error(("query", "sha256"), "the bytes received do not have the "
                                  "SHA-256 declared; the upload was dropped, start it again",
                                  "checksum_mismatch")])
    try:
        attachment = attach(node, user, uuid.UUID(upload.record_id), upload.name,
                            upload.declared_type, content)
    except (InvalidInput, Refused, NotFound):
        uploads.discard(upload.id)  # refused for good: sending it again would not help
        raise
    uploads.finish(upload, str(attachment["id"]))
    return attachment


@router.patch("/{upload_id}", openapi_extra=_CHUNK)
async def update_upload(
    request: Request, response: Response, node: CurrentNode, user: CurrentUser, upload_id: str,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0,
                                         description="where in the file the body starts")],
) -> dict[str, Any]:
    """Add the next bytes of an upload; the last ones make the attachment (in `attachment`)"""
    _may_upload(user)
    try:
        chunk = await request.body()
    except ClientDisconnect:
        # The link dropped mid-chunk: nothing of it is kept; the client resumes from the
        # offset the node holds.
        raise Refused("the chunk broke off before its end", status=status.HTTP_400_BAD_REQUEST,
                      kind="incomplete_chunk", loc=("body",)) from None
    if len(chunk) > MAX_CHUNK_BYTES:
        raise Refused(f"a chunk may carry at most {MAX_CHUNK_BYTES:,} bytes",
                      status=status.HTTP_413_CONTENT_TOO_LARGE, kind="too_large", loc=("body",))
    uploads = _uploads(node)

    def add() -> dict[str, Any]:
        try:
            upload = uploads.append(upload_id, user.username, upload_offset, chunk, time.time())
        except UploadGone as exc:
            raise _gone(upload_id, exc) from None
        except WrongOffset as exc:
            raise Refused(str(exc), status=status.HTTP_409_CONFLICT, kind="wrong_offset",
                          loc=("header", "Upload-Offset"),
                          headers={"Upload-Offset": str(exc.held)}) from None
        except UploadTooLong as exc:
            raise Refused(str(exc), status=status.HTTP_413_CONTENT_TOO_LARGE, kind="too_large",
                          loc=("body",)) from None
        attachment = None
        if upload.complete:
            attachment = _finish(node, user, uploads, upload) if upload.attachment_id is None \
                else None
            upload = uploads.get(upload_id, user.username, time.time())
        _answer(response, upload)
        return _public(upload, attachment)

    return await run_in_threadpool(add)


@router.delete("/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_upload(node: CurrentNode, user: CurrentUser, upload_id: str) -> None:
    """Give up an upload: what arrived of it is removed"""
    _may_upload(user)
    uploads = _uploads(node)
    try:
        uploads.get(upload_id, user.username, time.time())
    except UploadGone as exc:
        raise _gone(upload_id, exc) from None
    uploads.discard(upload_id)
