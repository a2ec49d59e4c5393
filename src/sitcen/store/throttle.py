"""Login throttling: failed passwords per account and per client address, shared by every
app process of a node through its database.

A few failures are free (a user mistypes); after that each further failure
blocks the key for a delay that doubles, up to a ceiling. While a key is
blocked a login is answered 429 with the seconds to wait, and the password is
not even checked, so guessing gains nothing from speed. A success clears the
account's and the address's failures; failures older than the forgetting
window start again from nothing. The rule is in :class:`ThrottleRule`
(pure); the table is ``login_failures``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros, write_transaction

_SECOND = 1_000_000


@dataclass(frozen=True)
class ThrottleRule:
    """How many failures are free, and how long each later one blocks."""

    free_failures: int
    first_delay_s: float = 1.0
    max_delay_s: float = 900.0
    forget_after_s: float = 3600.0

    def delay_s(self, failures: int) -> float:
        """Seconds a key is blocked after its ``failures``-th failure in a row."""
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        # 1, 2, 4, 8 ... seconds, never more than the ceiling.
        return min(self.max_delay_s, self.first_delay_s * 2.0 ** min(over - 1, 40))


#: An account tolerates five wrong passwords, an address (which may be a whole
#: post behind one gateway) twenty.
ACCOUNT_RULE = ThrottleRule(free_failures=5)
ADDRESS_RULE = ThrottleRule(free_failures=20)


def _keys(username: str, address: str | None) -> list[tuple[str, ThrottleRule]]:
    keys = [(f"user:{username.lower()[:64]}", ACCOUNT_RULE)]
    if address:
        keys.append((f"address:{address[:64]}", ADDRESS_RULE))
    return keys


def wait_seconds(engine: sa.Engine, username: str, address: str | None,
                 now_us: int | None = None) -> int:
    """Whole seconds until a login for this account from this address may be tried (0: now)."""
    now_us = now_micros() if now_us is None else now_us
    t = schema.login_failures
    keys = [k for k, _ in _keys(username, address)]
    with engine.connect() as conn:
        until = conn.execute(sa.select(sa.func.max(t.c.blocked_until))
                             .where(t.c.key.in_(keys))).scalar()
    if until is None or until <= now_us:
        return 0
    return max(1, math.ceil((int(until) - now_us) / _SECOND))


def record_failure(engine: sa.Engine, username: str, address: str | None,
                   now_us: int | None = None) -> int:
    """Count a wrong password; the whole seconds the login is now blocked for (0: not)."""
    now_us = now_micros() if now_us is None else now_us
    t = schema.login_failures
    longest = 0.0
    with write_transaction(engine) as conn:
        for key, rule in _keys(username, address):
            # The row exists first, so that concurrent failures of several app
            # processes all lock it and count one after the other.
            conn.execute(_insert_if_missing(conn, t).values(
                key=key, failures=0, last_at=now_us, blocked_until=0))
            row = conn.execute(sa.select(t.c.failures, t.c.last_at)
                               .where(t.c.key == key).with_for_update()).one()
            forgotten = now_us - row.last_at > rule.forget_after_s * _SECOND
            failures = 1 if forgotten else row.failures + 1
            delay = rule.delay_s(failures)
            conn.execute(sa.update(t).where(t.c.key == key).values(
                failures=failures, last_at=now_us,
                blocked_until=now_us + int(delay * _SECOND)))
            longest = max(longest, delay)
    return math.ceil(longest)


def _insert_if_missing(conn: sa.Connection, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


def clear(engine: sa.Engine, username: str, address: str | None = None) -> None:
    """Forget the failures of an account (and of an address): after a success, or an unlock."""
    t = schema.login_failures
    keys = [k for k, _ in _keys(username, address)]
    with write_transaction(engine) as conn:
        conn.execute(t.delete().where(t.c.key.in_(keys)))
