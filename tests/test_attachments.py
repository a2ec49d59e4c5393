"""Attached files: type by content, size limit, metadata stripped, GPS kept as the record's
location, stored once per content; through the API on both backends."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from conftest import report
from sitcen.node import Node
from sitcen.operations.attachments import FileRefused, FileTooLarge, check_file
from sitcen.store import schema
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]

#: Near the Kyrgyz-Tajik border by Isfara (on section KG-TJ-*).
GPS_LON, GPS_LAT = 70.80, 39.95


def _dms(degrees: float) -> tuple[float, float, float]:
    """Degrees as EXIF writes them: whole degrees, whole minutes, seconds."""
    seconds = round(degrees * 3600, 2)
    return (float(seconds // 3600), float((seconds % 3600) // 60), round(seconds % 60, 2))


def jpeg_with_gps(lon: float = GPS_LON, lat: float = GPS_LAT, *, colour: tuple[int, int, int]
                  = (180, 40, 40), size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG photo with EXIF: camera make, orientation and GPS position."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # make
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def has_gps(content: bytes) -> bool:
    return bool(Image.open(io.BytesIO(content)).getexif().get_ifd(0x8825))


def test_a_photo_loses_its_metadata_and_keeps_where_it_was_taken() -> None:
    original = jpeg_with_gps()
    assert has_gps(original)
    checked = check_file(original, name="IMG_0042.JPG", declared_type="image/jpeg",
                         max_bytes=10 * 2**20)
    assert checked.media_type == "image/jpeg" and not has_gps(checked.content)
    assert not Image.open(io.BytesIO(checked.content)).getexif()
    assert checked.location is not None
    assert checked.location == pytest.approx((GPS_LON, GPS_LAT), abs=1e-3)
    # Turned upright (orientation 6: the stored image is rotated to stand as seen).
    assert (checked.width, checked.height) == (480, 640)
    assert checked.thumbnail is not None
    assert max(Image.open(io.BytesIO(checked.thumbnail)).size) == 320
    assert "gps" in checked.stripped and "exif" in checked.stripped
    assert checked.original_sha256 != checked.sha256


@pytest.mark.parametrize("content, name, declared, kind", [
    (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "photo.jpg", None, "type_mismatch"),
    (jpeg_with_gps(), "report.pdf", None, "type_mismatch"),
    (jpeg_with_gps(), "photo", "application/pdf", "type_mismatch"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "a.exe", None,
     "unsupported_type"),
    ("не UTF-8".encode("cp1251"), "note.txt", "text/plain", "unreadable"),
    (b"<html><script>alert(1)</script></html>", "page.txt", None, "unsupported_type"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "broken.jpg", None, "unreadable"),
    (b"", "empty.txt", None, "unreadable"),
])
def test_a_file_is_judged_by_its_content(content: bytes, name: str, declared: str | None,
                                         kind: str) -> None:
    with pytest.raises(FileRefused) as refused:
        check_file(content, name=name, declared_type=declared, max_bytes=2**20)
    assert refused.value.kind == kind, str(refused.value)


def test_documents_pass_as_they_are() -> None:
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    checked = check_file(pdf, name="plan.pdf", declared_type="application/pdf", max_bytes=2**20)
    assert checked.content == pdf and checked.media_type == "application/pdf"
    text = check_file("Оперативный план\n".encode(), name="plan.txt", declared_type=None,
                      max_bytes=2**20)
    assert text.media_type == "text/plain" and text.location is None


def test_size_limit() -> None:
    with pytest.raises(FileTooLarge):
        check_file(b"x" * 1025, name="a.txt", declared_type=None, max_bytes=1024)


def _attach(client: TestClient, headers: dict[str, str], record_id: str, content: bytes,
            name: str, media_type: str = "application/octet-stream") -> Any:
    return client.post(f"/api/v1/attachments?record_id={record_id}&name={name}",
                       content=content, headers={**headers, "Content-Type": media_type})


def test_attach_to_an_event_through_the_api(client: TestClient, node: Node, as_role: Headers,
                                            tmp_path: Path) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = jpeg_with_gps()
    first = _attach(client, operator, event["id"], photo, "seizure.jpg", "image/jpeg")
    assert first.status_code == 201, first.text
    body = first.json()["body"]
    assert body["record_kind"] == "event" and body["handling"] == "AMBER"
    assert body["location"]["lon"] == pytest.approx(GPS_LON, abs=1e-3)
    assert body["section_id"].startswith("KG-TJ-")
    again = _attach(client, operator, event["id"], photo, "copy.jpg", "image/jpeg")
    assert again.status_code == 201 and again.json()["body"]["sha256"] == body["sha256"]
    with node.engine.connect() as conn:
        assert conn.execute(schema.files.select()).all().__len__() == 1  # kept once
    listed = client.get(f"/api/v1/attachments?record_id={event['id']}",
                        headers=as_role(Role.liaison)).json()
    assert [a["body"]["name"] for a in listed] == ["seizure.jpg", "copy.jpg"]
    served = client.get(listed[0]["url"], headers=as_role(Role.liaison))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert not has_gps(served.content)
    thumb = client.get(listed[0]["thumbnail_url"], headers=as_role(Role.liaison))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert client.get("/api/v1/files/" + "0" * 64, headers=operator).status_code == 404


def test_the_api_refuses_what_does_not_fit(client: TestClient, node: Node,
                                           as_role: Headers) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    mismatch = _attach(client, operator, event["id"], b"%PDF-1.4\n%%EOF\n", "photo.jpg")
    assert mismatch.status_code == 422
    assert mismatch.json()["detail"][0]["type"] == "type_mismatch"
    exe = _attach(client, operator, event["id"], b"MZ\x90\x00" + b"\x00" * 300, "tool.bin")
    assert exe.status_code in (415, 422)
    limit = int(node.settings.file_max_mb * 2**20)
    big = _attach(client, operator, event["id"], b"a" * (limit + 1), "big.txt")
    assert big.status_code == 413 and big.json()["detail"][0]["type"] == "too_large"
    liaison = _attach(client, as_role(Role.liaison), event["id"], b"hello", "a.txt")
    assert liaison.status_code == 403
    unknown = _attach(client, operator, "00000000-0000-4000-8000-000000000000", b"hi", "a.txt")
    assert unknown.status_code == 404
    with node.engine.connect() as conn:
        assert conn.execute(schema.files.select()).all() == []


def test_an_upload_sent_again_attaches_one_file(client: TestClient, node: Node,
                                                as_role: Headers) -> None:
    """A retried upload (the link dropped before the answer), with or without its
    Idempotency-Key, is answered with the first attachment."""
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = jpeg_with_gps(colour=(20, 90, 160))
    keyed = {**operator, "Idempotency-Key": "upload-1"}
    first = _attach(client, keyed, event["id"], photo, "boat.jpg", "image/jpeg")
    replayed = _attach(client, keyed, event["id"], photo, "boat.jpg", "image/jpeg")
    unkeyed = _attach(client, operator, event["id"], photo, "boat.jpg", "image/jpeg")
    assert first.status_code == replayed.status_code == unkeyed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == replayed.json()["id"] == unkeyed.json()["id"]
    listed = client.get(f"/api/v1/attachments?record_id={event['id']}", headers=operator).json()
    assert len(listed) == 1
    with node.engine.connect() as conn:
        assert len(conn.execute(schema.files.select()).all()) == 1
