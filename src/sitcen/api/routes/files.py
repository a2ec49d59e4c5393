"""The bytes of attached files, by their SHA-256, for readers of a record they belong to."""


from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Path, Response, status

from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import NotFound, Refused
from sitcen.exchange.sharing import CAMERA_SNAPSHOT
from sitcen.operations.attachments import IMAGE_TYPES, make_thumbnail
from sitcen.store import schema
from sitcen.store.files import content_type, get_file, get_thumbnail, set_thumbnail
from sitcen.store.journal import RecordKind
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

router = APIRouter(prefix="/files", tags=["attachments"])

Digest = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes")]


def _attached(engine: sa.Engine, digest: str, user: StoredUser) -> str | None:
    """The name of the file in an attachment record this node holds, or None.

    A camera's snapshot is personal data: only roles that read personal data see it.
    """
    r = schema.records
    with engine.connect() as conn:
        bodies = [orjson.loads(b) for b in conn.execute(sa.select(r.c.body).where(
            r.c.kind == RecordKind.attachment,
            r.c.body.like(f'%"sha256":"{digest}"%'))).scalars()]
    if not bodies:
        return None
    if any(b.get(CAMERA_SNAPSHOT) is True for b in bodies) and not allows(
            user.role, Permission.read_personal_data):
        raise Refused(f"role {user.role.value} may not see camera snapshots (personal data)")
    return str(bodies[0].get("name") or digest)


def _missing(digest: str) -> NotFound:
    return NotFound("attached file", digest, f"no attached file {digest} on this node")


@router.get("/{digest}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def read_file(digest: Digest, node: CurrentNode, user: Reader) -> Response:
    """The bytes of an attached file (images open in the browser, documents download)"""
    name = _attached(node.engine, digest, user)
    stored = get_file(node.engine, digest) if name is not None else None
    if stored is None or name is None:
        raise _missing(digest)
    # Received bytes are checked again before they are served as what their record says.
    if content_type(stored.content) != stored.media_type:
        raise Refused("the stored content is not what its record says; it is not served",
                      status=status.HTTP_409_CONFLICT, kind="type_mismatch",
                      loc=("path", "digest"))
    disposition = "inline" if stored.media_type in IMAGE_TYPES | {"application/pdf"} \
        else "attachment"
    safe = name.encode("ascii", "replace").decode().replace('"', "'")
    return Response(stored.content, media_type=stored.media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{safe}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=31536000, immutable",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/{digest}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def read_thumbnail(digest: Digest, node: CurrentNode, user: Reader) -> Response:
    """A small JPEG of an attached image (made on first request for files received)"""
    if _attached(node.engine, digest, user) is None:
        raise _missing(digest)
    thumbnail = get_thumbnail(node.engine, digest)
    if thumbnail is None:
        stored = get_file(node.engine, digest)
        if stored is None or stored.media_type not in IMAGE_TYPES:
            raise _missing(digest)
        thumbnail = make_thumbnail(stored.content)
        if thumbnail is None:
            raise _missing(digest)
        set_thumbnail(node.engine, digest, thumbnail)
    return Response(thumbnail, media_type="image/jpeg", headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=31536000"})
