"""The bytes of attached files, kept once per content (content-addressed by SHA-256).

A file is stored under the SHA-256 of its bytes: the same photo attached to
three records, or received from two peers, is kept once. Which record a file
belongs to, its name and where it was taken are an ``attachment`` record
(journaled and shared like any record); this table only holds bytes. What a
file may contain is checked before it gets here: an attached one by
``operations/attachments.py``, a received one by the inbox, both naming its
type from its content with :func:`content_type`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import magic
import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros, write_transaction
from sitcen.store.sql import select_value

#: Types a node accepts, by what the content is, with the name extensions that fit each.
ACCEPTED: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/png": ("png",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "text/plain": ("txt", "text", "log", "csv"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
}
#: What libmagic reads of a file: enough to see into an office document's zip.
_SNIFF_BYTES = 256 * 1024


def content_type(content: bytes) -> str:
    """What the bytes are, as a media type (libmagic; text of any charset is text/plain)."""
    found = str(magic.from_buffer(content[:_SNIFF_BYTES], mime=True))
    if found.startswith("text/") and found not in ("text/html", "text/xml"):
        return "text/plain"
    if found == "application/zip" or found == "application/octet-stream":
        return _office_type(content) or found
    return found


def _office_type(content: bytes) -> str | None:
    """libmagic sees some office documents only as zip archives: look at the first name."""
    head = content[:_SNIFF_BYTES]
    if b"mimetypeapplication/vnd.oasis.opendocument.text" in head:
        return "application/vnd.oasis.opendocument.text"
    if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head:
        return "application/vnd.oasis.opendocument.spreadsheet"
    return None


@dataclass(frozen=True)
class StoredFile:
    """A file's bytes as this node keeps them."""

    sha256: str
    size: int
    media_type: str
    content: bytes


def sha256_of(content: bytes) -> str:
    """The hex SHA-256 of some bytes: the file's name in the store."""
    return hashlib.sha256(content).hexdigest()


def put_file(engine: sa.Engine, content: bytes, media_type: str,
             thumbnail: bytes | None = None) -> tuple[str, bool]:
    """Keep ``content`` under its SHA-256; (the hash, whether it was new).

    Storing bytes already held changes nothing (a missing thumbnail is added).
    """
    digest = sha256_of(content)
    table = schema.files
    with write_transaction(engine) as conn:
        held = conn.execute(sa.select(table.c.sha256, table.c.thumbnail)
                            .where(table.c.sha256 == digest)).first()
        if held is None:
            conn.execute(table.insert().values(
                sha256=digest, size=len(content), media_type=media_type, content=content,
                thumbnail=thumbnail, created_at=now_micros()))
            return digest, True
        if held.thumbnail is None and thumbnail is not None:
            conn.execute(table.update().where(table.c.sha256 == digest)
                         .values(thumbnail=thumbnail))
    return digest, False


def get_file(engine: sa.Engine, digest: str) -> StoredFile | None:
    """The bytes stored under ``digest``, or None."""
    t = schema.files
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.sha256, t.c.size, t.c.media_type, t.c.content)
                           .where(t.c.sha256 == digest)).first()
    if row is None:
        return None
    return StoredFile(row.sha256, int(row.size), row.media_type, bytes(row.content))


def get_thumbnail(engine: sa.Engine, digest: str) -> bytes | None:
    """The thumbnail kept beside a file, or None (not an image, or not made yet)."""
    value = select_value(engine, schema.files.c.thumbnail, schema.files.c.sha256 == digest)
    return None if value is None else bytes(value)


def set_thumbnail(engine: sa.Engine, digest: str, thumbnail: bytes) -> None:
    """Keep a thumbnail made later (for a file received from a peer)."""
    t = schema.files
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.sha256 == digest).values(thumbnail=thumbnail))


def held_files(engine: sa.Engine, digests: list[str]) -> set[str]:
    """Which of ``digests`` this node holds the bytes of."""
    t = schema.files
    found: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(digests), 900):
            found.update(conn.execute(sa.select(t.c.sha256)
                                      .where(t.c.sha256.in_(digests[start:start + 900])))
                         .scalars())
    return found
