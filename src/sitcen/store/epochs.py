"""The journal's epochs: positions that never repeat, even after a restore (docs/backup.md).

A node's journal positions are cursors for others: a linked node pulls "after my
position N", a browser's live stream resumes "after N". A node restored from a backup
would hand out again the positions written between the backup and the restore, with
other records behind them, and those cursors would skip them. So a restore starts a new
epoch: the journal continues at ``epoch << EPOCH_BITS``, beyond any position an earlier
epoch could have reached, with a journal note of kind ``journal_epoch`` at its first
position. Until the records written after the backup have been asked back from the
linked nodes (:mod:`sitcen.exchange.recovery`), the epoch is *pending* and the node does
not serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import RecordKind, last_position, now_micros, write_transaction

#: Positions of epoch ``e`` start at ``e << EPOCH_BITS``: 2^40 (a trillion) positions per
#: epoch, and 2^13 epochs before a position leaves the range a browser's numbers hold.
EPOCH_BITS = 40


@dataclass(frozen=True)
class Epoch:
    """One epoch of the journal after the first: where it starts and what it restored."""

    epoch: int
    first_seq: int
    started_at: int
    backup: dict[str, Any]
    recovered_at: int | None
    recovery: dict[str, Any] | None

    @property
    def pending(self) -> bool:
        """Whether the records written after its backup are still to be asked back."""
        return self.recovered_at is None


def _epoch(row: Any) -> Epoch:
    return Epoch(row.epoch, row.first_seq, row.started_at, orjson.loads(row.backup),
                 row.recovered_at, orjson.loads(row.recovery) if row.recovery else None)


def epochs(engine: sa.Engine) -> list[Epoch]:
    """Every epoch begun by a restore, oldest first (none for a node never restored)."""
    t = schema.journal_epochs
    with engine.connect() as conn:
        return [_epoch(r) for r in conn.execute(sa.select(t).order_by(t.c.epoch))]


def current_epoch(conn: sa.Connection) -> int:
    """The epoch the journal writes in now: 0 until the first restore."""
    t = schema.journal_epochs
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.epoch), 0))).scalar_one())


def pending_epoch(engine: sa.Engine) -> Epoch | None:
    """The newest epoch if its recovery has not been done, else None."""
    found = epochs(engine)
    return found[-1] if found and found[-1].pending else None


def begin_epoch(engine: sa.Engine, node_id: str, backup: dict[str, Any]) -> Epoch:
    """Start the next epoch after a restore of ``backup`` (its manifest): the journal's next
    position jumps beyond every earlier epoch's, marked by a ``journal_epoch`` note."""
    t = schema.journal_epochs
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301002)"))  # the journal's
        epoch = current_epoch(conn) + 1
        first = max(epoch << EPOCH_BITS, last_position(conn) + 1)
        now = now_micros()
        # The note takes the epoch's first position explicitly; the journal's own counter
        # (SQLite's largest rowid, PostgreSQL's sequence) then continues after it.
        conn.execute(schema.journal.insert().values(
            seq=first, origin=node_id, record_id=f"epoch-{epoch}", version=epoch,
            kind=RecordKind.journal_epoch, recorded_at=now))
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('journal', 'seq'), :v)"),
                         {"v": first})
        conn.execute(t.insert().values(epoch=epoch, first_seq=first, started_at=now,
                                       backup=orjson.dumps(backup).decode(), recovered_at=None,
                                       recovery=None))
    return Epoch(epoch, first, now, backup, None, None)


def finish_recovery(engine: sa.Engine, epoch: int, report: dict[str, Any]) -> None:
    """Record that the epoch's recovery was done (or given up), with what it found."""
    t = schema.journal_epochs
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.epoch == epoch).values(
            recovered_at=now_micros(), recovery=orjson.dumps(report).decode()))
