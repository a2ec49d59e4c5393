"""What a cooperation record may point at: any record this node holds, by id.

An attachment, a thread message or a request names the record it belongs to
or asks about (an event, an alert, a request, an operation...). This module
finds it, wherever the store keeps its kind, and says what a new record
pointing at it inherits (its handling label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.errors import InvalidInput, NotFound, error
from sitcen.store import schema
from sitcen.store.records import get_record
from sitcen.taxonomy import HANDLING_ORDER, Handling


@dataclass(frozen=True)
class HeldRecord:
    """Any record this node holds, as cooperation records refer to it."""

    kind: str
    id: str
    origin: str
    version: int
    body: dict[str, Any]

    @property
    def handling(self) -> str:
        """Its TLP label (RED when it has none: the safe reading)."""
        value = self.body.get("handling")
        return str(value) if value in {h.value for h in Handling} else Handling.red.value


def find_record(engine: sa.Engine, record_id: str) -> HeldRecord | None:
    """The current version of any record (an event or a record of another kind), or None."""
    stored = get_record(engine, record_id)
    if stored is not None:
        return HeldRecord(stored.kind, stored.id, stored.origin, stored.version, stored.body)
    e = schema.events
    with engine.connect() as conn:
        row = conn.execute(sa.select(e.c.id, e.c.origin, e.c.version, e.c.body)
                           .where(e.c.id == record_id)).first()
    if row is None:
        return None
    return HeldRecord("event", row.id, row.origin, row.version, orjson.loads(row.body))


def require_record(engine: sa.Engine, record_id: str, *, kinds: tuple[str, ...] = (),
                   what: str = "record", loc: tuple[str, ...] = ()) -> HeldRecord:
    """:func:`find_record`, raising :class:`~sitcen.errors.NotFound` (``loc``: where the
    request carried the id) or, for a record of the wrong kind, :class:`InvalidInput`."""
    found = find_record(engine, record_id)
    if found is None:
        raise NotFound(what, record_id, f"no {what} {record_id} on this node", loc=loc or None)
    if kinds and found.kind not in kinds:
        raise InvalidInput([error(("body", "record_id"),
                                  f"record {record_id} is a {found.kind}; expected "
                                  + " or ".join(kinds), "wrong_kind")])
    return found


def stricter_handling(*labels: str) -> str:
    """The most restrictive of several TLP labels (unknown ones read as RED)."""
    ranked = [Handling(x) if x in {h.value for h in Handling} else Handling.red for x in labels]
    return max(ranked, key=HANDLING_ORDER.__getitem__).value
