"""Uploads that survive a dropped link: a file sent in pieces, resumed where it stopped.

A post on a poor link sends a photo in chunks. The node keeps what arrived of each
unfinished upload as two files in ``<data_dir>/uploads/``: ``<id>.part`` (the bytes so
far, whose size *is* the upload's offset) and ``<id>.json`` (who started it, for which
record, the file's name, declared type, length and SHA-256, and when it expires). After a
dropped link the client asks for the offset and sends only the rest; a chunk sent again
is harmless (the bytes the node holds already are skipped); a chunk that would leave a
gap is refused with the offset the node holds. Once the last byte is in, the bytes are
checked and attached like any upload (``operations/attachments.py``) and the ``.part``
goes; the ``.json`` stays, naming the attachment, until the upload expires, so that a
client whose last answer was lost learns what became of it.

No database table: an unfinished upload is scratch, one process's disk is enough (the
processes of one node share ``data_dir``), and an expired one is removed with its file.
Time is a parameter (``now``, seconds since the epoch). Knows no HTTP.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

#: At most this many unfinished uploads per user (a client that starts and never sends).
MAX_OPEN_PER_USER = 20
_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadGone(LookupError):
    """No such upload for this user: never started, expired, or someone else's."""


class WrongOffset(ValueError):
    """A chunk that starts past the bytes the node holds (it would leave a gap)."""

    def __init__(self, offset: int, held: int) -> None:
        super().__init__(f"the chunk starts at byte {offset:,} but the node holds "
                         f"{held:,} bytes of this upload; send from byte {held:,}")
        self.offset = offset
        self.held = held


class UploadTooLong(ValueError):
    """A chunk that runs past the length declared when the upload was started."""


class TooManyUploads(ValueError):
    """The user has :data:`MAX_OPEN_PER_USER` unfinished uploads already."""


@dataclass(frozen=True)
class Upload:
    """An upload as the node keeps it; ``offset`` is how many bytes it holds."""

    id: str
    username: str
    record_id: str
    name: str
    declared_type: str | None
    length: int
    sha256: str | None
    started_at: float
    expires_at: float
    offset: int = 0
    #: The attachment made of it, once finished.
    attachment_id: str | None = None

    @property
    def complete(self) -> bool:
        """Whether every byte has arrived."""
        return self.offset >= self.length


class Uploads:
    """The unfinished uploads kept in one directory."""

    def __init__(self, directory: Path, *, expiry_s: float, max_bytes: int) -> None:
        self.directory = directory
        self.expiry_s = expiry_s
        self.max_bytes = max_bytes

    def _meta(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.json"

    def _part(self, upload_id: str) -> Path:
        return self.directory / f"{upload_id}.part"

    def _write_meta(self, upload: Upload) -> None:
        data = asdict(upload)
        del data["offset"]
        temporary = self._meta(upload.id).with_suffix(".json.new")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self._meta(upload.id))

    def _read(self, upload_id: str) -> Upload | None:
        if not _ID.match(upload_id):
            return None
        try:
            data = json.loads(self._meta(upload_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        part = self._part(upload_id)
        offset = part.stat().st_size if part.exists() else int(data["length"])
        return Upload(offset=offset, **data)

    def start(self, *, username: str, record_id: str, name: str, declared_type: str | None,
              length: int, sha256: str | None, now: float) -> Upload:
        """Begin an upload of ``length`` bytes (checked against the node's file limit)."""
        if length > self.max_bytes:
            raise UploadTooLong(f"the file has {length:,} bytes; this node accepts at most "
                                f"{self.max_bytes:,}")
        self.sweep(now)
        self.directory.mkdir(parents=True, exist_ok=True)
        if sum(1 for u in self._all() if u.username == username and u.attachment_id is None
               ) >= MAX_OPEN_PER_USER:
            raise TooManyUploads(f"{MAX_OPEN_PER_USER} unfinished uploads are open already; "
                                 "finish one or let it expire")
        upload = Upload(secrets.token_hex(16), username, record_id, name, declared_type, length,
                        sha256, now, now + self.expiry_s)
        self._part(upload.id).touch()
        self._write_meta(upload)
        return upload

    def get(self, upload_id: str, username: str, now: float) -> Upload:
        """The upload, as far as it has come; :class:`UploadGone` when there is none."""
        upload = self._read(upload_id)
        if upload is None or upload.username != username:
            raise UploadGone(f"no upload {upload_id} (expired, finished long ago, or never "
                             "started)")
        if upload.expires_at <= now:
            self.discard(upload_id)
            raise UploadGone(f"upload {upload_id} expired unfinished; start it again")
        return upload

    def append(self, upload_id: str, username: str, offset: int, chunk: bytes,
               now: float) -> Upload:
        """Add ``chunk``, which starts at byte ``offset`` of the file.

        Bytes the node holds already are skipped (a chunk sent again changes nothing);
        a chunk starting past them is :class:`WrongOffset`.
        """
        upload = self.get(upload_id, username, now)
        if offset + len(chunk) > upload.length:
            raise UploadTooLong(f"the chunk ends at byte {offset + len(chunk):,}, past the "
                                f"{upload.length:,} bytes declared")
        if upload.attachment_id is not None:
            return upload
        with open(self._part(upload_id), "r+b") as part:
            fcntl.flock(part, fcntl.LOCK_EX)  # two tries of one chunk, in two processes
            held = os.fstat(part.fileno()).st_size
            if offset > held:
                raise WrongOffset(offset, held)
            fresh = chunk[held - offset:]
            if fresh:
                part.seek(held)
                part.write(fresh)
                part.flush()
            offset = held + len(fresh)
        return replace(upload, offset=offset)

    def content(self, upload: Upload) -> bytes:
        """The bytes of a complete upload."""
        return self._part(upload.id).read_bytes()

    def finish(self, upload: Upload, attachment_id: str) -> Upload:
        """Note the attachment made of a complete upload and drop its bytes."""
        done = replace(upload, attachment_id=attachment_id)
        self._write_meta(done)
        self._part(upload.id).unlink(missing_ok=True)
        return replace(done, offset=upload.length)

    def discard(self, upload_id: str) -> None:
        """Forget an upload and its bytes."""
        self._part(upload_id).unlink(missing_ok=True)
        self._meta(upload_id).unlink(missing_ok=True)

    def _all(self) -> list[Upload]:
        if not self.directory.is_dir():
            return []
        found = (self._read(p.stem) for p in self.directory.glob("*.json"))
        return [u for u in found if u is not None]

    def sweep(self, now: float) -> int:
        """Remove every upload past its expiry, finished or not; how many went."""
        gone = [u.id for u in self._all() if u.expires_at <= now]
        for upload_id in gone:
            self.discard(upload_id)
        return len(gone)


def sha256_matches(content: bytes, expected: str | None) -> bool:
    """Whether the bytes have the SHA-256 the client declared (none declared: yes)."""
    return expected is None or hashlib.sha256(content).hexdigest() == expected.lower()
