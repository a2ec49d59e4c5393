"""The journal: every change of every record, in order, from a cursor."""


from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.operations.notifications import addressed_to
from sitcen.store.journal import USER_KINDS, RecordKind, read_journal, record_bodies, record_body

router = APIRouter(prefix="/journal", tags=["journal"])


class JournalItem(BaseModel):
    """One journal entry and the record version it speaks of."""

    seq: int
    origin: str
    record_id: str
    version: int
    kind: str
    recorded_at: int
    record: dict[str, Any] | None


class JournalPage(BaseModel):
    """Entries after the cursor; pass ``last_seq`` as ``after`` for the next page."""

    entries: list[JournalItem]
    last_seq: int


@router.get("", response_model=JournalPage)
def read_journal_entries(
    node: CurrentNode,
    user: Reader,
    after: Annotated[int, Query(ge=0, le=2**62, description="last sequence number seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    kind: Annotated[list[RecordKind] | None, Query(description="only these record kinds")] = None,
) -> Response:
    """Journal entries after a cursor, oldest first, with the records they changed."""
    # Personal-data entries carry no body here: only a reference to the record.
    kinds = [str(k) for k in (kind or list(RecordKind))]
    with node.engine.connect() as conn:
        entries = read_journal(conn, after=after, limit=limit, kinds=kinds)
        # The bodies of a whole page's events in a few queries, not one or two per entry.
        bodies = record_bodies(conn, [e for e in entries if e.kind == "event"])
        items = []
        for e in entries:
            if e.kind in USER_KINDS and not addressed_to(record_body(conn, e), user.username):
                continue  # another user's subscriptions and notifications are not shown
            body = bodies.get((e.record_id, e.version)) if e.kind == "event" else None
            items.append({
                "seq": e.seq, "origin": e.origin, "record_id": e.record_id,
                "version": e.version, "kind": e.kind, "recorded_at": e.recorded_at,
                "record": orjson.Fragment(body) if body is not None else None,
            })
    last = entries[-1].seq if entries else after
    return Response(orjson.dumps({"entries": items, "last_seq": last}),
                    media_type="application/json")
