"""Cursors of the node's journal followers (notifications, deliveries, the validation queue).

A follower reads the journal after its cursor, does its work idempotently,
then moves the cursor forward. After a restart it resumes from the stored
position: what it had done past the cursor is done again and absorbed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import last_position, now_micros, write_transaction
from sitcen.store.sql import select_value


def read_cursor(engine: sa.Engine, name: str) -> int | None:
    """Where the follower ``name`` has got to (None when it never ran)."""
    table = schema.cursors
    value = select_value(engine, table.c.position, table.c.name == name)
    return None if value is None else int(value)


def move_cursor(engine: sa.Engine, name: str, position: int) -> None:
    """Move the follower's cursor to ``position``; it never moves back."""
    table = schema.cursors
    with write_transaction(engine) as conn:
        done = conn.execute(table.update()
                            .where(table.c.name == name, table.c.position < position)
                            .values(position=position, updated_at=now_micros())).rowcount
        if not done and conn.execute(sa.select(table.c.name)
                                     .where(table.c.name == name)).first() is None:
            conn.execute(table.insert().values(name=name, position=position,
                                               updated_at=now_micros()))


@dataclass
class FollowerCursor:
    """A follower's cursor held in memory, stored when its work needs it to be.

    A follower of a few kinds moves past every other entry as the journal grows: stored
    each time, that is a write transaction per pass, and a follower woken by every write
    passes many times a second (four of them made 20 % of a TAK node's CPU while devices
    sent 1,000 positions a second, and held up its writer). A move past work done is
    stored at once; a move past entries that asked for nothing is stored at most every
    ``save_every_s`` (and by :meth:`save`): after a restart, or when another process
    takes the lease over, those entries are read again and ask for nothing again.
    """

    engine: sa.Engine
    name: str
    save_every_s: float = 5.0
    _position: int | None = field(default=None, repr=False)
    _saved: int | None = field(default=None, repr=False)
    _saved_at: float = field(default=float("-inf"), repr=False)  # monotonic s

    def read(self) -> int | None:
        """Where the follower has got to (the stored position the first time)."""
        if self._position is None:
            self._position = self._saved = read_cursor(self.engine, self.name)
        return self._position

    def move(self, position: int, *, save: bool) -> None:
        """Move to ``position``; store it now when ``save`` (work was done up to it)."""
        if self._position is not None and position <= self._position:
            return
        self._position = position
        if save or time.monotonic() - self._saved_at >= self.save_every_s:
            self.save()

    def save(self) -> None:
        """Store the position held in memory, if it moved since last stored."""
        if self._position is not None and self._position != self._saved:
            move_cursor(self.engine, self.name, self._position)
            self._saved = self._position
        self._saved_at = time.monotonic()

    def forget(self) -> None:
        """Read the stored position again next time (another process may have moved it)."""
        self._position = None


def journal_head(engine: sa.Engine) -> int:
    """The position of the newest journal entry (0 for an empty journal)."""
    with engine.connect() as conn:
        return last_position(conn)
