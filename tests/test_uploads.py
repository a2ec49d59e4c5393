"""Resumable uploads: a photo sent in chunks, cut off half-way and resumed from where the
node stopped; chunks sent twice; chunks that would leave a gap; expiry (docs/api.md)."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

from conftest import report
from sitcen.node import Node
from sitcen.operations.uploads import Uploads
from sitcen.store import schema
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
CHUNK = 64 * 1024


def noisy_photo() -> bytes:
    """A JPEG of some 200 KB: noise does not compress, like a camera's photo."""
    image = Image.frombytes("RGB", (480, 360), os.urandom(480 * 360 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def _start(client: TestClient, headers: dict[str, str], record_id: str, content: bytes,
           **extra: str) -> dict[str, object]:
    sha = hashlib.sha256(content).hexdigest()
    answer = client.post(f"/api/v1/uploads?record_id={record_id}&name=photo.jpg&sha256={sha}",
                         headers={**headers, "Upload-Length": str(len(content)),
                                  "Upload-Type": "image/jpeg", **extra})
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == answer.json()["url"]
    body: dict[str, object] = answer.json()
    return body


def _send(client: TestClient, headers: dict[str, str], url: str, content: bytes,
          offset: int) -> object:
    return client.patch(url, content=content[offset:offset + CHUNK],
                        headers={**headers, "Upload-Offset": str(offset),
                                 "Content-Type": "application/offset+octet-stream"})


def test_an_upload_cut_off_half_way_resumes_with_the_rest(
        client: TestClient, node: Node, as_role: Headers) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = noisy_photo()
    assert len(photo) > 3 * CHUNK
    upload = _start(client, operator, event["id"], photo)
    url = str(upload["url"])
    assert upload["offset"] == 0 and upload["length"] == len(photo)
    # The link drops after two chunks.
    for offset in (0, CHUNK):
        answer = _send(client, operator, url, photo, offset)
        assert answer.status_code == 200  # type: ignore[attr-defined]
    # Back online: ask how far it came, send only the rest.
    asked = client.get(url, headers=operator)
    held = int(asked.headers["upload-offset"])
    assert held == asked.json()["offset"] == 2 * CHUNK
    sent_again = 0
    offset = held
    while offset < len(photo):
        answer = _send(client, operator, url, photo, offset)
        sent_again += len(photo[offset:offset + CHUNK])
        offset = int(answer.headers["upload-offset"])  # type: ignore[attr-defined]
    assert sent_again == len(photo) - held
    done = answer.json()  # type: ignore[attr-defined]
    assert done["offset"] == len(photo) and done["attachment"]["body"]["name"] == "photo.jpg"
    assert done["attachment_id"] == done["attachment"]["id"]
    listed = client.get(f"/api/v1/attachments?record_id={event['id']}", headers=operator).json()
    assert [a["id"] for a in listed] == [done["attachment_id"]]
    assert listed[0]["body"]["original_sha256"] == hashlib.sha256(photo).hexdigest()
    # The bytes are gone from the scratch directory; what became of it is still told.
    assert not list((node.settings.data_dir / "uploads").glob("*.part"))
    again = client.get(url, headers=operator).json()
    assert again["attachment_id"] == done["attachment_id"]


def test_a_chunk_sent_twice_changes_nothing(client: TestClient, node: Node,
                                            as_role: Headers) -> None:
    """The answer to a chunk was lost and the client sends it again: no harm, even after the
    last chunk (one attachment)."""
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = noisy_photo()
    url = str(_start(client, operator, event["id"], photo)["url"])
    first = _send(client, operator, url, photo, 0)
    twice = _send(client, operator, url, photo, 0)
    assert first.headers["upload-offset"] == twice.headers["upload-offset"] == str(CHUNK)  # type: ignore[attr-defined]
    offset = CHUNK
    while offset < len(photo):
        last_offset = offset
        offset = int(_send(client, operator, url, photo, offset).headers["upload-offset"])  # type: ignore[attr-defined]
    repeated = _send(client, operator, url, photo, last_offset)
    assert repeated.status_code == 200  # type: ignore[attr-defined]
    assert repeated.json()["attachment_id"]  # type: ignore[attr-defined]
    with node.engine.connect() as conn:
        assert len(conn.execute(schema.files.select()).all()) == 1
    listed = client.get(f"/api/v1/attachments?record_id={event['id']}", headers=operator).json()
    assert len(listed) == 1


def test_a_chunk_past_the_bytes_held_is_refused(client: TestClient, as_role: Headers) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = noisy_photo()
    url = str(_start(client, operator, event["id"], photo)["url"])
    _send(client, operator, url, photo, 0)
    gap = _send(client, operator, url, photo, 2 * CHUNK)
    assert gap.status_code == 409  # type: ignore[attr-defined]
    assert gap.headers["upload-offset"] == str(CHUNK)  # type: ignore[attr-defined]
    assert gap.json() == {"detail": [{  # type: ignore[attr-defined]
        "loc": ["header", "Upload-Offset"], "type": "wrong_offset",
        "msg": f"the chunk starts at byte {2 * CHUNK:,} but the node holds {CHUNK:,} bytes of "
               f"this upload; send from byte {CHUNK:,}"}]}
    past_end = client.patch(url, content=b"x" * 10, headers={
        **operator, "Upload-Offset": str(len(photo) - 5)})
    assert past_end.status_code == 413 and past_end.json()["detail"][0]["type"] == "too_large"
    other = client.get(url, headers=as_role(Role.duty_officer))
    assert other.status_code == 404  # another user's upload is not there for them


def test_what_the_node_refuses_at_the_start_and_at_the_end(
        client: TestClient, node: Node, as_role: Headers) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    limit = int(node.settings.file_max_mb * 2**20)
    big = client.post(f"/api/v1/uploads?record_id={event['id']}&name=a.jpg",
                      headers={**operator, "Upload-Length": str(limit + 1)})
    assert big.status_code == 413
    assert big.json()["detail"][0]["loc"] == ["header", "Upload-Length"]
    liaison = client.post(f"/api/v1/uploads?record_id={event['id']}&name=a.jpg",
                          headers={**as_role(Role.liaison), "Upload-Length": "10"})
    assert liaison.status_code == 403
    # A checksum that does not match the bytes: refused when the last byte is in, and gone.
    content = b"plain words\n"
    wrong = hashlib.sha256(b"other words\n").hexdigest()
    started = client.post(
        f"/api/v1/uploads?record_id={event['id']}&name=note.txt&sha256={wrong}",
        headers={**operator, "Upload-Length": str(len(content))}).json()
    refused = client.patch(started["url"], content=content,
                           headers={**operator, "Upload-Offset": "0"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "checksum_mismatch"
    assert client.get(started["url"], headers=operator).status_code == 404
    # Content that is not what the name says: the attachment's own checks, at the end.
    pdf = b"%PDF-1.4\n%%EOF\n"
    started = client.post(f"/api/v1/uploads?record_id={event['id']}&name=photo.jpg",
                          headers={**operator, "Upload-Length": str(len(pdf))}).json()
    mismatch = client.patch(started["url"], content=pdf, headers={**operator, "Upload-Offset": "0"})
    assert mismatch.status_code == 422 and mismatch.json()["detail"][0]["type"] == "type_mismatch"
    with node.engine.connect() as conn:
        assert conn.execute(schema.files.select()).all() == []


def test_an_unfinished_upload_expires(client: TestClient, node: Node, as_role: Headers) -> None:
    operator = as_role(Role.operator)
    event = client.post("/api/v1/events", json=report(), headers=operator).json()
    photo = noisy_photo()
    upload = _start(client, operator, event["id"], photo)
    _send(client, operator, str(upload["url"]), photo, 0)
    directory = node.settings.data_dir / "uploads"
    assert len(list(directory.iterdir())) == 2  # its bytes and what they are
    uploads = Uploads(directory, expiry_s=node.settings.upload_expiry_hours * 3600,
                      max_bytes=10 * 2**20)
    assert uploads.sweep(now=time.time()) == 0
    later = time.time() + node.settings.upload_expiry_hours * 3600 + 1
    assert uploads.sweep(now=later) == 1
    assert list(directory.iterdir()) == []
    gone = client.get(str(upload["url"]), headers=operator)
    assert gone.status_code == 404
    assert gone.json()["detail"][0]["loc"] == ["path", "upload_id"]
    # And one that has expired but is not swept yet is refused all the same.
    kept = Uploads(directory, expiry_s=0.0, max_bytes=10 * 2**20)
    stale = kept.start(username="operator", record_id=event["id"], name="a.jpg",
                       declared_type=None, length=10, sha256=None, now=time.time() - 1)
    assert client.get(f"/api/v1/uploads/{stale.id}", headers=operator).status_code == 404
    assert list(directory.iterdir()) == []
