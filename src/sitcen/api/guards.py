"""Guards in front of every route: body size, and characters no database can store."""


import logging
from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitcen.errors import refusal

# A full batch of 10,000 events with long descriptions stays well below this.
MAX_BODY_BYTES = 64 * 1024 * 1024

log = logging.getLogger("sitcen.api")


class BodyTooLargeError(Exception):
    """The client sent more than MAX_BODY_BYTES."""


class BodySizeLimit:
    """ASGI middleware answering 413 when a body exceeds the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, int(declared))
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await self._refuse(scope, send, seen)

    async def _refuse(self, scope: Scope, send: Send, size: int) -> None:
        client = scope.get("client") or ("?", 0)
        log.warning("refused %s %s from %s: body of %d bytes or more, over the %d limit",
                    scope.get("method"), scope.get("path"), client[0], size, self.max_bytes)
        body = orjson.dumps(refusal(413, f"request body larger than {self.max_bytes} bytes",
                                    ["body"], "too_large"))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class RefuseNul:
    """ASGI middleware answering 422 when the path or query string holds a NUL character.

    PostgreSQL text cannot contain NUL, and no legitimate parameter does; refusing
    it here keeps every route's parameters safe on both backends.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "")
            or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            body = orjson.dumps(refusal(422, "parameters may not contain NUL characters",
                                        ["query"], "nul_character"))
            await send({"type": "http.response.start", "status": 422,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


#: Headers on every answer: no MIME sniffing, no referrer leaving the node, no framing
#: of the console by another site.
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"SAMEORIGIN")]
#: Answers of the API and the standards' endpoints hold operational and personal data:
#: no browser or proxy keeps a copy (the console's own files stay cacheable).
_NO_STORE = (b"cache-control", b"no-store")
_DATA_PATHS = ("/api/", "/taxii2", "/ogc", "/openapi.json")
#: Under HTTPS the browser keeps to HTTPS for a year.
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """ASGI middleware adding the security headers of docs/security.md to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_ALWAYS)
        if str(scope.get("path", "")).startswith(_DATA_PATHS):
            extra.append(_NO_STORE)
        if scope.get("scheme") == "https":
            extra.append(_HSTS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
