"""Compressed answers for poor links: gzip when the client asks for it (docs/api.md).

A post on a 100 kbit/s link waits eight seconds for every 100 KB; the JSON, GeoJSON,
CSV and the console's scripts the node answers with shrink four to ten times under
gzip. Only answers of a compressible type and of at least ``MINIMUM_BYTES`` are
compressed (a small answer gains less than gzip's own 20 bytes of framing), and never
one that is already encoded (images, PDF, office documents are compressed inside).

Starlette's ``GZipMiddleware`` leaves ``text/event-stream`` alone, and a compressor
that buffered the live stream would hold events back; here each chunk of a streamed
answer is flushed (``Z_SYNC_FLUSH``) as it is sent, so the browser decodes every event
the moment it arrives. Only gzip: brotli and zstd were measured (benchmarks/field.py)
and the choice is in docs/decisions.md.

This middleware sits outside :mod:`sitcen.api.idempotency`, which therefore keeps the
uncompressed answer and a replay is compressed for whoever asks again; a strong
``ETag`` of a compressed answer becomes weak, since the bytes differ.
"""

from __future__ import annotations

import gzip
import zlib
from collections import OrderedDict
from functools import partial

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Smaller answers go as they are: gzip's header and trailer would eat the gain.
MINIMUM_BYTES = 512
#: zlib's level 6 (its default) is within a few per cent of 9 at a third of the time.
LEVEL = 6
#: Larger bodies (a window of 50,000 events is 4 MB of columns) take level 1: twice as
#: fast for a tenth more bytes, and on a link slow enough for the difference to matter
#: such a body is too large to wait for anyway.
LARGE_BYTES = 1 << 20
#: Bodies from this size are compressed in a worker thread, not on the event loop, which
#: would otherwise stall every other answer (the live stream among them) meanwhile.
THREAD_BYTES = 64 << 10
#: Compressed static assets (the console's scripts) kept by ETag, up to this many bytes.
CACHE_BYTES = 8 << 20
#: A body whose Content-Length is above this is compressed on the fly, never cached.
_CACHEABLE_BODY = 4 << 20

_TEXT_TYPES = frozenset({
    "application/javascript", "application/xml", "application/x-ndjson", "image/svg+xml",
    "application/wasm",
})


def compressible(content_type: str) -> bool:
    """Whether answers of this media type shrink under gzip (JSON, text, XML, SVG...)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return (media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json")
            or media.endswith("/json") or media.endswith("+xml"))


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header takes gzip (``gzip;q=0`` refuses it)."""
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


async def _gzip(body: bytes) -> bytes:
    """A whole body gzipped, off the event loop when it is large."""
    level = LEVEL if len(body) <= LARGE_BYTES else 1
    if len(body) < THREAD_BYTES:
        return gzip.compress(body, level, mtime=0)
    return await run_in_threadpool(partial(gzip.compress, body, level, mtime=0))


def _gzip_stream() -> zlib._Compress:
    """A compressor writing the gzip format (wbits 16+15), as browsers decode it."""
    return zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)


class _Cache:
    """Compressed bodies of static answers by ETag, least recently used out first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.bodies: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, etag: bytes) -> bytes | None:
        body = self.bodies.get(etag)
        if body is not None:
            self.bodies.move_to_end(etag)
        return body

    def put(self, etag: bytes, body: bytes) -> None:
        if len(body) > self.limit or etag in self.bodies:
            return
        self.bodies[etag] = body
        self.size += len(body)
        while self.size > self.limit:
            _, old = self.bodies.popitem(last=False)
            self.size -= len(old)


class Compression:
    """ASGI middleware compressing answers with gzip for clients that accept it."""

    def __init__(self, app: ASGIApp, minimum_bytes: int = MINIMUM_BYTES) -> None:
        self.app = app
        self.minimum_bytes = minimum_bytes
        self.cache = _Cache(CACHE_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD" or not accepts_gzip(
                Headers(scope=scope).get("accept-encoding", "")):
            await self.app(scope, receive, send)
            return
        await _Answer(send, self.minimum_bytes, self.cache).run(self.app, scope, receive)


class _Answer:
    """One answer on its way out, held at its start until its first body says how to send it.

    Then it is passed as it is (small, not compressible, already encoded), compressed
    whole (one body), held and compressed whole (a static asset with an ETag, kept in the
    cache), or compressed chunk by chunk (streamed; the live stream flushed per chunk).
    """

    def __init__(self, send: Send, minimum_bytes: int, cache: _Cache) -> None:
        self.send = send
        self.minimum_bytes = minimum_bytes
        self.cache = cache
        self.mode = "undecided"  # then: pass, drop, hold or stream
        self.start: Message = {}
        self.headers = MutableHeaders()
        self.compressor: zlib._Compress | None = None
        self.flush_each = False
        self.etag: bytes | None = None
        self.held: list[bytes] = []

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        await app(scope, receive, self.on_message)

    async def on_message(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = {**message, "headers": list(message.get("headers", []))}
            self.headers = MutableHeaders(raw=self.start["headers"])
            if (message["status"] in (204, 206, 304) or "content-encoding" in self.headers
                    or "content-range" in self.headers
                    or not compressible(self.headers.get("content-type", ""))):
                self.mode = "pass"
                await self.send(self.start)
            return
        if message["type"] != "http.response.body" or self.mode == "pass":
            await self.send(message)
            return
        if self.mode == "drop":
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.mode == "undecided":
            await self.first_body(body, more)
        elif self.mode == "hold":
            self.held.append(body)
            if not more:
                whole = await _gzip(b"".join(self.held))
                assert self.etag is not None
                self.cache.put(self.etag, whole)
                await self.send_whole(whole)
        else:
            await self.compress(body, more)

    async def first_body(self, body: bytes, more: bool) -> None:
        headers = self.headers
        if not more and len(body) < self.minimum_bytes:
            self.mode = "pass"
            await self.send(self.start)
            await self.send({"type": "http.response.body", "body": body})
            return
        self.flush_each = headers.get("content-type", "").startswith("text/event-stream")
        etag = headers.get("etag")
        length = headers.get("content-length")
        if etag and etag.startswith('"'):  # the compressed bytes are another representation
            headers["etag"] = "W/" + etag
            if more and length is not None and length.isdigit() \
                    and int(length) <= _CACHEABLE_BODY:
                self.etag = etag.encode("latin-1")
        headers.add_vary_header("Accept-Encoding")
        headers["content-encoding"] = "gzip"
        if self.etag is not None:
            cached = self.cache.get(self.etag)
            if cached is not None:
                self.mode = "drop"  # the rest of the file is not needed
                await self.send_whole(cached)
                return
            self.mode = "hold"
            self.held.append(body)
            return
        if not more:
            self.mode = "pass"
            await self.send_whole(await _gzip(body))
            return
        self.mode = "stream"
        del headers["content-length"]
        await self.send(self.start)
        self.compressor = _gzip_stream()
        await self.compress(body, more)

    async def compress(self, body: bytes, more: bool) -> None:
        compressor = self.compressor
        assert compressor is not None
        data = (compressor.compress(body) if len(body) < THREAD_BYTES
                else await run_in_threadpool(compressor.compress, body))
        if not more:
            data += compressor.flush(zlib.Z_FINISH)
        elif self.flush_each:
            data += compressor.flush(zlib.Z_SYNC_FLUSH)
        if data or not more:
            await self.send({"type": "http.response.body", "body": data, "more_body": more})

    async def send_whole(self, body: bytes) -> None:
        self.headers["content-length"] = str(len(body))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})
