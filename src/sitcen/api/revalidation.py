"""Reference data the browser keeps and asks about again: an ETag of the bytes, 304 if unchanged.

The API's answers are otherwise ``no-store`` (:mod:`sitcen.api.guards`): they hold reports
and personal data. The border sections, country outlines, crossing points and the
taxonomy's labels hold neither, change seldom (an administrator replaces the sections, a
release brings new labels) and are most of what the console loads before its map is
usable: on a post's 100 kbit/s link some 70 KB gzipped, six seconds, every time
(benchmarks/field.py). These answers are kept by the browser (``private``: never by a
shared proxy) and asked about again on every use (``no-cache``), so changed sections show
at once while unchanged ones cost one round trip and no bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request, Response

CACHE_CONTROL = "private, no-cache"


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names this ETag (weakly, as RFC 9110 compares:
    the compression middleware hands out the weak form)."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def revalidated(request: Request, content: bytes | Mapping[str, Any], *,
                media_type: str = "application/json",
                vary: str | None = None) -> Response:
    """The answer of ``content`` (bytes, or a JSON object) with its ETag, or 304 when the
    request already holds it."""
    body = content if isinstance(content, bytes) else orjson.dumps(content)
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if vary is not None:
        headers["Vary"] = vary
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
