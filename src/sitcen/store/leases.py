"""Leases: one holder at a time for a named job, across the processes of a node.

Several app processes may serve one node (`sitcen serve --workers N`, or
several machines on one PostgreSQL). Work that must run once — sending a
link's journal to a peer, say — is guarded by a lease: a row naming the job,
its holder and an expiry. The holder renews it while it works; if the holder
dies, the lease expires and another process takes over from the job's own
cursor, so nothing is sent twice at once and nothing is lost.
"""

from __future__ import annotations

import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros, write_transaction


def acquire(engine: sa.Engine, name: str, holder: str, ttl_s: float, *,
            now: int | None = None) -> bool:
    """Take or renew the lease ``name`` for ``holder``; whether it is now held by it.

    Atomic on both backends: an expired or own lease is updated in one
    statement, a missing one inserted (a concurrent insert loses on the key).
    ``now`` (µs since the epoch) is the clock's reading, the current time by default.
    """
    now = now_micros() if now is None else now
    until = now + int(ttl_s * 1_000_000)
    table = schema.leases
    with write_transaction(engine) as conn:
        taken = conn.execute(
            table.update()
            .where(table.c.name == name,
                   sa.or_(table.c.holder == holder, table.c.expires_at <= now))
            .values(holder=holder, expires_at=until)
        ).rowcount
        if taken:
            return True
        exists = conn.execute(sa.select(table.c.name).where(table.c.name == name)).first()
        if exists:
            return False
    try:
        with write_transaction(engine) as conn:
            conn.execute(table.insert().values(name=name, holder=holder, expires_at=until))
    except sa.exc.IntegrityError:
        return False
    return True


def release(engine: sa.Engine, name: str, holder: str) -> None:
    """Give the lease back (only its holder can)."""
    table = schema.leases
    with write_transaction(engine) as conn:
        conn.execute(table.delete().where(table.c.name == name, table.c.holder == holder))


def holder_of(engine: sa.Engine, name: str, *, now: int | None = None) -> str | None:
    """Who holds a lease at ``now`` (µs since the epoch; by default now), None when free."""
    table = schema.leases
    at = now_micros() if now is None else now
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.holder).where(table.c.name == name, table.c.expires_at > at)
        ).first()
    return None if row is None else str(row.holder)
