"""Files attached to events, requests, answers and reports: checked, cleaned, recorded.

A file is judged by its content, never by its name: libmagic (the library
behind the ``file`` command) names its type, which must be one of
:data:`~sitcen.store.files.ACCEPTED`, and neither the name's extension nor the type the sender
declared may say otherwise. Images are decoded by Pillow, turned upright and
saved again without any metadata (camera, owner, GPS): the place a photo was
taken, read from its GPS tags first, becomes the attachment record's
``location``, which the sharing function coarsens like any location, so the
tags themselves never leave the node and the coordinates leave only where an
agreement grants exact locations. Every file is content-addressed (SHA-256 of
the kept bytes) and kept once (``store/files.py``). Knows no HTTP.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError

from sitcen.errors import InvalidInput, error
from sitcen.geo import SectionIndex
from sitcen.operations.references import HeldRecord
from sitcen.store.files import ACCEPTED, content_type, put_file, sha256_of
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records, write_record

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
#: Larger images are refused before they are decoded (a decompression bomb).
MAX_PIXELS = 60_000_000
THUMBNAIL_PX = 320
#: Declared types that say nothing (a browser's answer for an unknown file).
_VAGUE = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class FileTooLarge(ValueError):
    """A file over the node's size limit (the API answers 413)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the file has {size:,} bytes; this node accepts at most {limit:,}")
        self.size = size
        self.limit = limit


class FileRefused(ValueError):
    """A file whose content is not accepted or does not match what it claims to be.

    ``kind`` is machine-readable: ``unsupported_type``, ``type_mismatch`` or
    ``unreadable``; the API answers 415 for the first and 422 for the others.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class CheckedFile:
    """A file as it will be kept: cleaned bytes and what was read from the original."""

    content: bytes
    media_type: str
    name: str
    original_sha256: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    #: Where an image was taken, from its GPS tags (lon, lat), before they were removed.
    location: tuple[float, float] | None = None
    stripped: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """The name the kept bytes are stored under."""
        return sha256_of(self.content)


def _clean_name(name: str) -> str:
    """The file name without any directory part or control characters, at most 200 chars."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "file"


def check_file(content: bytes, *, name: str, declared_type: str | None,
               max_bytes: int) -> CheckedFile:
    """Check a file by its content and make what will be kept of it.

    Raises :class:`FileTooLarge`, or :class:`FileRefused` when the content is
    of a type not accepted, when the name's extension or the declared type
    names another accepted type than the content is, or when it cannot be read
    as what it is (a broken image, text that is not UTF-8).
    """
    if len(content) > max_bytes:
        raise FileTooLarge(len(content), max_bytes)
    if not content:
        raise FileRefused("unreadable", "the file is empty")
    name = _clean_name(name)
    found = content_type(content)
    if found not in ACCEPTED:
        raise FileRefused("unsupported_type",
                          f"files of this kind ({found}) are not accepted; send an image "
                          "(JPEG, PNG, WebP), a PDF, plain text or an office document")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    named = next((t for t, exts in ACCEPTED.items() if extension in exts), None)
    if extension and named is None:
        raise FileRefused("type_mismatch", f"the name ends in .{extension}, which is not a "
                          f"kind of file this node accepts; the content is {found}")
    if named is not None and named != found:
        raise FileRefused("type_mismatch", f"the name says .{extension} ({named}) but the "
                          f"content is {found}")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _VAGUE and declared != found and not (
            found == "text/plain" and declared.startswith("text/")):
        raise FileRefused("type_mismatch", f"declared as {declared} but the content is {found}")
    original = sha256_of(content)
    if found in IMAGE_TYPES:
        return _clean_image(content, found, name, original)
    if found == "text/plain":
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused("unreadable", "text files must be UTF-8") from exc
        if "\x00" in text:
            raise FileRefused("unreadable", "a text file may not contain NUL characters")
    return CheckedFile(content, found, name, original)


def _rational(value: Any) -> float:
    return float(Fraction(value.numerator, value.denominator)) if hasattr(
        value, "numerator") else float(value)


def _degrees(dms: Any) -> float:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals."""
    return _rational(dms[0]) + _rational(dms[1]) / 60 + _rational(dms[2]) / 3600


def gps_location(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) from an image's EXIF GPS tags, or None when it has none usable."""
    try:
        gps = image.getexif().get_ifd(0x8825)
        lat_ref, lat, lon_ref, lon = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not (lat and lon and lat_ref and lon_ref):
            return None
        latitude = _degrees(lat) * (-1 if str(lat_ref).upper().startswith("S") else 1)
        longitude = _degrees(lon) * (-1 if str(lon_ref).upper().startswith("W") else 1)
    except (TypeError, ValueError, ZeroDivisionError, IndexError, KeyError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return (round(longitude, 6), round(latitude, 6))


def _clean_image(content: bytes, media_type: str, name: str, original: str) -> CheckedFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused("unreadable", f"the image has {image.width}×{image.height} "
                                  f"pixels; at most {MAX_PIXELS:,} are accepted")
            location = gps_location(image)
            stripped: list[str] = sorted(k for k in ("exif", "icc_profile", "xmp", "comment", "dpi")
                              if k in image.info)
            upright = ImageOps.exif_transpose(image)
            upright.load()
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise FileRefused("unreadable", f"the image cannot be read: {exc}") from exc
    upright.info = {}  # nothing of the original's metadata is written again
    fmt = _PIL_FORMAT[media_type]
    if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    upright.save(out, format=fmt, **options)
    thumb = upright.convert("RGB")
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    small = io.BytesIO()
    thumb.save(small, format="JPEG", quality=80)
    if location is not None:
        stripped.append("gps")
    return CheckedFile(out.getvalue(), media_type, name, original, upright.width,
                       upright.height, small.getvalue(), location, sorted(set(stripped)))


def make_thumbnail(content: bytes) -> bytes | None:
    """A small JPEG of an image (for files received from peers), or None if not an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.width * image.height > MAX_PIXELS:
                return None
            thumb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    small = io.BytesIO()
    thumb.save(small, format="JPEG", quality=80)
    return small.getvalue()


#: Kinds of record a file may be attached to.
ATTACHABLE = (RecordKind.event, RecordKind.request_for_information, RecordKind.request_response,
              RecordKind.joint_operation, RecordKind.operation_report,
              RecordKind.sensor_detection)


def attach_file(engine: sa.Engine, node_id: str, record: HeldRecord, checked: CheckedFile, *,
                by: str, sections: SectionIndex | None = None,
                max_km: float = 25.0, marks: Mapping[str, Any] | None = None) -> StoredRecord:
    """Keep the file's bytes and write the ``attachment`` record linking it to ``record``.

    The same file under the same name from the same user, attached to the record again,
    is the earlier attachment: a retried upload is answered, not repeated. ``marks`` are
    fields written into the first version (a camera snapshot's ``camera_snapshot``).

    The attachment takes the handling of its record. A photo's GPS position
    becomes its ``location`` (placed on the nearest border section within
    ``max_km``, so that section precision can place it too).
    """
    if record.kind not in ATTACHABLE:
        raise InvalidInput([error(("query", "record_id"), f"files cannot be attached to a "
                                  f"{record.kind}", "wrong_kind")])
    # An upload sent again (the link dropped before the answer came) attaches nothing twice.
    for earlier in attachments_of(engine, record.id):
        if (earlier.body.get("sha256"), earlier.body.get("name"), earlier.body.get("by")) \
                == (checked.sha256, checked.name, by):
            return earlier
    put_file(engine, checked.content, checked.media_type, checked.thumbnail)
    body: dict[str, Any] = {
        "record_id": record.id, "record_kind": record.kind, "record_origin": record.origin,
        "sha256": checked.sha256, "size": len(checked.content),
        "media_type": checked.media_type, "name": checked.name,
        "original_sha256": checked.original_sha256, "stripped": checked.stripped,
        "handling": record.handling, "by": by,
        "attached_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        **(marks or {}),
    }
    if checked.width is not None:
        body["image"] = {"width": checked.width, "height": checked.height}
    if checked.location is not None:
        lon, lat = checked.location
        body["location"] = {"lon": lon, "lat": lat, "precision_m": None}
        if sections is not None:
            section_id = sections.assign([lon], [lat], max_km=max_km).section_ids[0]
            if section_id:
                body["section_id"] = str(section_id)
    return write_record(engine, RecordKind.attachment, body, node_id=node_id)


def attachments_of(engine: sa.Engine, record_id: str) -> list[StoredRecord]:
    """The attachments of a record this node holds (its own and received), oldest first."""
    return list(reversed(list_records(engine, RecordKind.attachment, subject=record_id)))


def public_attachment(record: StoredRecord) -> Mapping[str, Any]:
    """An attachment as the API shows it: the record and where to fetch the bytes."""
    data = record.to_dict()
    digest = record.body.get("sha256")
    data["url"] = f"/api/v1/files/{digest}"
    if record.body.get("image"):
        data["thumbnail_url"] = f"/api/v1/files/{digest}/thumbnail"
    return data
