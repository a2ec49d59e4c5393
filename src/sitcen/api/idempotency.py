"""The ``Idempotency-Key`` header: a request sent again gets the first answer (docs/api.md).

Any request that changes something (POST, PUT, PATCH, DELETE) may carry
``Idempotency-Key: <1-200 printable characters>``, typically a random UUID the client
made when the user pressed Send. The first request with a key is answered as usual and
its answer kept for seven days (:mod:`sitcen.store.idempotency`); the same request with
the same key from the same user gets that answer again, marked ``Idempotent-Replayed:
true``, and changes nothing. A different request with a used key is refused (422
``idempotency_key_reused``), and so is a repetition while the first is still being
answered (409 ``idempotency_key_in_use``, with ``Retry-After``). Answers of the node's
own failures (5xx) are not kept: a repetition runs again. Exchange between nodes has its
own replay protection and ignores the header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitcen.api.deps import SESSION_COOKIE
from sitcen.errors import refusal
from sitcen.store.idempotency import Claim, Kept, claim, complete, release
from sitcen.store.users import token_owner

HEADER = b"idempotency-key"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
#: Headers of the first answer that a replay carries again.
_KEPT_HEADERS = frozenset({b"content-type", b"location", b"etag", b"content-disposition"})
#: Answers larger than this are not kept (a repetition runs again); no mutating route of
#: the node answers with this much.
MAX_KEPT_BYTES = 1 << 20
_EXEMPT = ("/api/v1/exchange/",)


def _answer(status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-length", str(len(body)).encode()), *headers]},
            {"type": "http.response.body", "body": body}]


def _refused(status: int, msg: str, kind: str, extra: Sequence[tuple[bytes, bytes]] = ()
             ) -> list[Message]:
    body = orjson.dumps(refusal(status, msg, ("header", "Idempotency-Key"), kind))
    return _answer(status, body, [(b"content-type", b"application/json"), *extra])


def _token(scope: Scope) -> str | None:
    headers = dict(scope.get("headers", []))
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return str(value)
    return None


class Idempotency:
    """ASGI middleware keeping the first answer to a request sent with an Idempotency-Key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key_bytes = dict(scope.get("headers", [])).get(HEADER) if scope["type"] == "http" \
            else None
        if key_bytes is None or scope["method"] not in _UNSAFE or str(
                scope["path"]).startswith(_EXEMPT):
            await self.app(scope, receive, send)
            return
        key = key_bytes.decode("latin-1")
        if not _KEY.match(key):
            for message in _refused(422, "Idempotency-Key must be 1-200 printable characters "
                                    "without spaces (a random UUID, for example)",
                                    "invalid_idempotency_key"):
                await send(message)
            return
        # The whole body, to tell the same request from another with the same key.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left: let the app see it
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        node = scope["app"].state.node
        token = _token(scope)
        owner = await run_in_threadpool(token_owner, node.engine, token) if token else None
        if owner is None:  # not logged in: the route refuses it as usual
            await self.app(scope, replay, send)
            return
        username = owner[0].username
        fingerprint = hashlib.sha256(b"\0".join([
            str(scope["method"]).encode(), str(scope["path"]).encode(),
            scope.get("query_string", b""), body])).hexdigest()
        found, kept = await run_in_threadpool(claim, node.engine, username, key, fingerprint)
        if found is Claim.reused:
            messages = _refused(422, "this Idempotency-Key was used for another request; make "
                                "a new key for each new request", "idempotency_key_reused")
        elif found is Claim.in_progress:
            messages = _refused(409, "the first request with this Idempotency-Key is still "
                                "being answered; send it again shortly", "idempotency_key_in_use",
                                [(b"retry-after", b"1")])
        elif found is Claim.answered and kept is not None:
            messages = _answer(kept.status, kept.body, [
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers),
                (b"idempotent-replayed", b"true")])
        else:
            await self._first(scope, replay, send, node.engine, username, key)
            return
        for message in messages:
            await send(message)

    async def _first(self, scope: Scope, receive: Receive, send: Send, engine: sa.Engine,
                     username: str, key: str) -> None:
        status = 500
        headers: list[tuple[str, str]] = []
        parts: list[bytes] = []
        size = 0

        async def keeping(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers.extend((k.decode("latin-1"), v.decode("latin-1"))
                               for k, v in message.get("headers", [])
                               if k.lower() in _KEPT_HEADERS)
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_KEPT_BYTES:
                    parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, keeping)
        except BaseException:
            await run_in_threadpool(release, engine, username, key)
            raise
        if status >= 500 or size > MAX_KEPT_BYTES:
            await run_in_threadpool(release, engine, username, key)
        else:
            await run_in_threadpool(complete, engine, username, key,
                                    Kept(status, headers, b"".join(parts)))
