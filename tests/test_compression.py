"""Compressed answers (api/compression.py): gzip when asked, the live stream flushed per event."""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from conftest import auth, report
from sitcen.api.compression import MINIMUM_BYTES, Compression, accepts_gzip, compressible
from sitcen.node import Node
from sitcen.testing import serve_in_thread
from sitcen.users import Role

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


@dataclass
class Wire:
    """An answer as it went on the wire, and its body decoded."""

    status_code: int
    headers: Mapping[str, str]
    raw: bytes

    @property
    def content(self) -> bytes:
        return gzip.decompress(self.raw) if self.headers.get("content-encoding") == "gzip" \
            else self.raw


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> Wire:
    """The answer's bytes as sent (the test client would decode them)."""
    with client.stream("GET", path, headers=headers) as response:
        return Wire(response.status_code, response.headers, b"".join(response.iter_raw()))


@pytest.mark.parametrize(("header", "takes"), [
    ("gzip, deflate, br, zstd", True), ("gzip;q=0", False), ("identity", False),
    ("br;q=1.0, gzip;q=0.5", True), ("*", True), ("", False), ("GZIP", True)])
def test_accept_encoding_is_read_with_its_weights(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


@pytest.mark.parametrize(("media", "shrinks"), [
    ("application/json", True), ("application/geo+json", True), ("text/event-stream", True),
    ("text/csv; charset=utf-8", True), ("application/cap+xml", True), ("image/jpeg", False),
    ("application/pdf", False), ("application/octet-stream", False), ("", False)])
def test_only_compressible_types_are_compressed(media: str, shrinks: bool) -> None:
    assert compressible(media) is shrinks


def test_json_answers_are_gzipped_when_asked_and_decode_to_the_same(
        client: TestClient, tokens: dict[Role, str]) -> None:
    headers = auth(tokens[Role.operator])
    batch = {"events": [report() for _ in range(5)]}
    assert client.post("/api/v1/events/batch", json=batch, headers=headers).status_code == 201
    plain = _raw(client, "/api/v1/events?limit=5", {**headers, **PLAIN})
    packed = _raw(client, "/api/v1/events?limit=5", {**headers, **GZIP})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert int(packed.headers["content-length"]) == len(packed.raw) < len(plain.raw)
    assert packed.content == plain.content  # what the route gave, byte for byte
    geometry = _raw(client, "/api/v1/sections", {**headers, **GZIP})
    assert geometry.headers["content-encoding"] == "gzip"
    assert orjson.loads(geometry.content)["type"] == "FeatureCollection"


def test_small_answers_and_images_go_as_they_are(client: TestClient,
                                                 tokens: dict[Role, str]) -> None:
    answer = _raw(client, "/api/v1/health", GZIP)
    assert len(answer.content) < MINIMUM_BYTES
    assert "content-encoding" not in answer.headers
    refusal = _raw(client, "/api/v1/events", GZIP)  # 401, a small body
    assert refusal.status_code == 401
    assert "content-encoding" not in refusal.headers


def test_a_replayed_idempotent_answer_is_the_first_one_decoded(
        client: TestClient, tokens: dict[Role, str]) -> None:
    headers = {**auth(tokens[Role.operator]), "Idempotency-Key": str(uuid.uuid4())}
    batch = {"events": [report() for _ in range(20)]}
    first = client.post("/api/v1/events/batch", json=batch, headers={**headers, **GZIP})
    again = client.post("/api/v1/events/batch", json=batch, headers={**headers, **GZIP})
    plain = client.post("/api/v1/events/batch", json=batch, headers={**headers, **PLAIN})
    assert first.status_code == again.status_code == plain.status_code == 201
    assert first.headers["content-encoding"] == again.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert again.headers["idempotent-replayed"] == plain.headers["idempotent-replayed"] == "true"
    assert first.content == again.content == plain.content
    stored = client.get("/api/v1/events?limit=100", headers=auth(tokens[Role.operator]))
    assert len(stored.json()["items"]) == 20


def test_console_assets_are_compressed_once_and_kept(client: TestClient) -> None:
    page = client.get("/", headers=GZIP)
    if page.status_code == 503:
        pytest.skip("the console is not built (make console)")
    script = next(part.split('"')[0] for part in page.text.split('src="')[1:]
                  if part.split('"')[0].endswith(".js"))
    plain = _raw(client, script, PLAIN)
    first = _raw(client, script, GZIP)
    second = _raw(client, script, GZIP)
    assert first.headers["content-encoding"] == second.headers["content-encoding"] == "gzip"
    assert first.headers["etag"] == second.headers["etag"] == "W/" + plain.headers["etag"]
    assert first.content == second.content == plain.content
    assert first.raw == second.raw
    assert int(first.headers["content-length"]) == len(first.raw) < len(plain.raw) / 2


@pytest.fixture
def server(node: Node) -> Iterator[str]:
    served = serve_in_thread(node)
    yield served.url
    served.stop()


def test_the_compressed_stream_delivers_each_event_as_it_comes(
        server: str, tokens: dict[Role, str]) -> None:
    """Every chunk on the wire decodes to whole frames: nothing waits in the compressor."""
    operator = auth(tokens[Role.operator])
    with httpx.Client(timeout=60) as client, client.stream(
            "GET", f"{server}/api/v1/stream", headers={**auth(tokens[Role.liaison]), **GZIP}
    ) as response:
        assert response.headers["content-encoding"] == "gzip"
        assert "content-length" not in response.headers
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunks = response.iter_raw()
        assert decoder.decompress(next(chunks)) == b"retry: 2000\n\n"
        for n in range(3):  # one report, then wait for it, then the next
            posted = httpx.post(f"{server}/api/v1/events/batch", headers=operator,
                                json={"events": [report()]})
            record_id = posted.json()["events"][0]["id"]
            text = decoder.decompress(next(chunks))
            while b"event: event\n" not in text:  # a keep-alive comment may come first
                assert text.endswith(b"\n\n")
                text = decoder.decompress(next(chunks))
            assert text.endswith(b"\n\n"), "an event was held back in the compressor"
            frame = dict(line.split(b": ", 1) for line in text.strip().split(b"\n"))
            assert orjson.loads(frame[b"data"])["record_id"] == record_id, n


def _app_answering(body: bytes, media_type: str, chunks: int = 1) -> Compression:
    """A bare ASGI app behind the middleware, answering ``body`` in ``chunks`` parts."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", media_type.encode()),
            *([(b"content-length", str(len(body)).encode())] if chunks == 1 else [])]})
        step = -(-len(body) // chunks)
        for i in range(chunks):
            await send({"type": "http.response.body", "body": body[i * step:(i + 1) * step],
                        "more_body": i < chunks - 1})
    return Compression(app)


@pytest.mark.parametrize("chunks", [1, 7])
def test_large_and_streamed_bodies_decode_to_what_was_sent(chunks: int) -> None:
    body = orjson.dumps({"id": [str(uuid.uuid4()) for _ in range(40_000)]})  # ~1.6 MB
    client = TestClient(_app_answering(body, "application/json", chunks))
    answer = _raw(client, "/", GZIP)
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.content == body
    assert ("content-length" in answer.headers) is (chunks == 1)
    assert len(answer.raw) < len(body) * 0.7
    assert "content-encoding" not in _raw(client, "/", PLAIN).headers
    head = client.head("/", headers=GZIP)
    assert "content-encoding" not in head.headers


def test_an_encoded_or_opaque_answer_is_left_alone() -> None:
    photo = bytes(range(256)) * 64
    client = TestClient(_app_answering(photo, "image/jpeg"))
    answer = _raw(client, "/", GZIP)
    assert "content-encoding" not in answer.headers and answer.raw == photo
