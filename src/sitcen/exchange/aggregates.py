"""Daily aggregates for links whose agreement sends counts instead of single records.

Under ``delay: daily_aggregates`` no single record leaves: once a day is over,
the sending node makes one ``daily_aggregate`` record for that link and day,
holding the rows :func:`sitcen.exchange.sharing.aggregate` counts, and the
link carries it like any other record. A late report about a closed day
changes the day's counts: the record gets a new version, so the receiver
always holds the latest counts. Days are UTC days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.sharing import DAILY_AGGREGATE, SharedRecord, Sharing, aggregate
from sitcen.store import schema
from sitcen.store.journal import Record, write_records
from sitcen.store.records import get_record, record_row
from sitcen.times import to_micros

#: How many closed days are recounted on each pass (late reports within this
#: many days still correct the counts the peer holds).
RECOUNT_DAYS = 3

# Ids of aggregate records are derived from (agreement, peer, day), so every
# process of a node and every pass agree on which record a day's counts are.
_NAMESPACE = uuid.UUID("5d1f0c52-4c61-4c0e-9a57-2f6f3b2a9e11")


def aggregate_id(agreement_id: str, peer_id: str, day: date) -> str:
    """The record id of one link's counts for one day."""
    return str(uuid.uuid5(_NAMESPACE, f"{agreement_id}|{peer_id}|{day.isoformat()}"))


def _events_of_day(conn: sa.Connection, own_node_id: str, day: date
                   ) -> Iterator[SharedRecord]:
    """The events held here that occurred on ``day`` (UTC), as the sharing function takes them."""
    start = datetime.combine(day, time(), UTC)
    e = schema.events
    rows = conn.execute(
        sa.select(e.c.id, e.c.origin, e.c.version, e.c.body, e.c.provenance, e.c.sharing)
        .where(e.c.occurred_at >= to_micros(start),
               e.c.occurred_at < to_micros(start + timedelta(days=1)))
    )
    for row in rows:
        body = orjson.loads(row.body)
        body.pop("provenance", None)
        body.pop("sharing", None)
        if row.provenance is None:
            if row.origin != own_node_id:
                continue  # another node's record with no known restrictions
            yield SharedRecord("event", row.origin, row.id, row.version, body)
        else:
            received = Sharing.from_dict(orjson.loads(row.sharing or "{}"))
            yield SharedRecord("event", row.origin, row.id, row.version, body,
                               sharing=received)


def aggregate_body(agreement: Agreement, day: date, rows: list[dict[str, Any]]
                   ) -> dict[str, Any]:
    """The body of a daily aggregate record."""
    return {"to_node": agreement.to_node, "agreement_id": agreement.id, "day": day.isoformat(),
            "timezone": "UTC", "handling": agreement.handling_ceiling, "rows": rows}


def refresh_aggregates(engine: sa.Engine, own_node_id: str, agreement: Agreement, *,
                       now: datetime, days: int = RECOUNT_DAYS,
                       sections: Mapping[str, Any] | None = None) -> int:
    """Write the counts of the last ``days`` closed days for one link; returns records written.

    A day whose counts did not change is left alone; a day with nothing to
    count still gets a record (zero rows), so the peer can tell "nothing
    happened" from "not sent yet".
    """
    del sections  # counts need no coordinates
    if agreement.delay != "daily_aggregates" or agreement.from_node != own_node_id:
        return 0
    today = now.astimezone(UTC).date()
    records = []
    with engine.connect() as conn:
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if agreement.valid_from is not None and day < agreement.valid_from.date():
                continue
            rows = aggregate(_events_of_day(conn, own_node_id, day), agreement, day)
            body = aggregate_body(agreement, day, rows)
            record_id = aggregate_id(agreement.id, agreement.to_node, day)
            held = get_record(engine, record_id)
            if held is not None and held.body == body:
                continue
            version = 1 if held is None else held.version + 1
            records.append(Record(DAILY_AGGREGATE, record_row(
                DAILY_AGGREGATE, record_id, own_node_id, version, body,
                recorded_at=to_micros(now))))
    if records:
        write_records(engine, records, node_id=own_node_id)
    return len(records)
