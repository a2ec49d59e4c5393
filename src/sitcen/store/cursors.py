"""Cursors of the node's journal followers (notifications, deliveries, the validation queue).

A follower reads the journal after its cursor, does its work idempotently,
then moves the cursor forward. After a restart it resumes from the stored
position: what it had done past the cursor is done again and absorbed.
"""

from __future__ import annotations

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


def journal_head(engine: sa.Engine) -> int:
    """The position of the newest journal entry (0 for an empty journal)."""
    with engine.connect() as conn:
        return last_position(conn)
