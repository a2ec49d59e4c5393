"""The live stream: journal changes as server-sent events, resumable with Last-Event-ID."""


import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import InvalidInput, error
from sitcen.node import Node
from sitcen.operations.notifications import addressed_to
from sitcen.store.cursors import journal_head
from sitcen.store.journal import (
    PLAN_KINDS,
    USER_KINDS,
    RecordKind,
    read_journal,
    record_bodies,
)
from sitcen.store.users import StoredUser
from sitcen.users import Permission, allows

router = APIRouter(tags=["stream"])

# How often an idle stream looks at the journal, and sends a comment line so that
# proxies and browsers keep the connection open.
POLL_S = 0.25
HEARTBEAT_S = 15.0
PAGE = 2000


def _start(node: Node, last_event_id: str | None, after: int | None) -> int:
    if last_event_id is not None and last_event_id.strip():
        try:
            value = int(last_event_id.strip())
        except ValueError as exc:
            raise InvalidInput([error(("header", "last-event-id"),
                                      "must be the id of an event this stream sent",
                                      "int_parsing")]) from exc
        if value < 0:
            raise InvalidInput([error(("header", "last-event-id"), "must not be negative")])
        return value
    if after is not None:
        return after
    return journal_head(node.engine)


def _kinds(kinds: str | None) -> frozenset[str] | None:
    """The record kinds a client asked for (``?kinds=event,alert``), or None for all."""
    if kinds is None or not kinds.strip():
        return None
    asked = frozenset(k.strip() for k in kinds.split(",") if k.strip())
    unknown = sorted(asked - {k.value for k in RecordKind})
    if unknown:
        raise InvalidInput([error(("query", "kinds"), f"not a record kind: {', '.join(unknown)}",
                                  "enum")])
    return asked


def _frames(node: Node, user: StoredUser, after: int,
            kinds: frozenset[str] | None = None) -> tuple[list[bytes], int]:
    """The SSE frames of the journal entries after a cursor, and the new cursor."""
    personal = allows(user.role, Permission.read_personal_data)
    plans = allows(user.role, Permission.report_events)
    frames: list[bytes] = []
    with node.engine.connect() as conn:
        entries = read_journal(conn, after=after, limit=PAGE)
        # Left out here, not in the query: the cursor moves past what was not asked for.
        wanted = entries if kinds is None else [e for e in entries if e.kind in kinds]
        # Events and the other records carry their body; personal data never does.
        bodies = record_bodies(conn, [e for e in wanted if e.kind != RecordKind.personal_data])
        for e in wanted:
            if e.kind == RecordKind.personal_data and not personal:
                continue  # not for this role: the cursor still moves past it
            body = bodies.get((e.record_id, e.version))
            if e.kind in USER_KINDS and not addressed_to(body, user.username):
                continue  # a user's subscriptions and notifications reach that user only
            if e.kind in PLAN_KINDS and not plans:
                continue  # patrol plans: not for a partner's liaison (docs/patrols.md)
            data = orjson.dumps({
                "seq": e.seq, "kind": e.kind, "origin": e.origin, "record_id": e.record_id,
                "version": e.version, "recorded_at": e.recorded_at,
                "record": orjson.Fragment(body) if body is not None else None,
            })
            frames.append(b"id: %d\nevent: %s\ndata: %s\n\n" % (e.seq, e.kind.encode(), data))
    return frames, (entries[-1].seq if entries else after)


async def _stream(request: Request, node: Node, user: StoredUser,
                  after: int, kinds: frozenset[str] | None) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        frames, after = await run_in_threadpool(_frames, node, user, after, kinds)
        if frames:  # one write per page: thousands of positions a second stay cheap
            yield b"".join(frames)
        if frames:
            quiet_since = time.monotonic()
            continue
        if time.monotonic() - quiet_since > HEARTBEAT_S:
            yield b": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_S)


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def read_stream(
    request: Request,
    node: CurrentNode,
    user: Reader,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62,
                                       description="start after this journal seq")] = None,
    kinds: Annotated[str | None, Query(
        max_length=1000, description="only these record kinds, comma-separated (on a poor "
                                     "link the console leaves out asset positions)")] = None,
) -> StreamingResponse:
    """Journal changes as server-sent events, from now, `after`, or Last-Event-ID."""
    only = _kinds(kinds)
    start = await run_in_threadpool(_start, node, last_event_id, after)
    return StreamingResponse(
        _stream(request, node, user, start, only), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
