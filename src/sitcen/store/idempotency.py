"""Idempotency keys: the first answer to a request, kept for the same request sent again.

A client on a poor link does not know whether a request it sent arrived; it sends it
again with the same ``Idempotency-Key``. The first arrival *claims* the key (a pending
row), the answer *completes* it, and a repetition gets the kept answer. Keys belong to
a user: another user's request with the same key is unrelated. A key used for a
different request (another method, path or body) is refused, as is a key whose first
request is still being answered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

import orjson
import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros, write_transaction

#: How long an answer is kept (a phone offline for days re-sends within this).
KEEP_US = 7 * 86_400 * 1_000_000
#: A pending claim older than this is taken to be from a process that died mid-request.
ABANDONED_US = 5 * 60 * 1_000_000


class Claim(Enum):
    """What claiming a key found."""

    new = "new"  # this request is the first: answer it, then complete the key
    in_progress = "in_progress"  # the first is still being answered
    reused = "reused"  # the key was used for a different request
    answered = "answered"  # the kept answer is in the result


@dataclass(frozen=True)
class Kept:
    """A kept answer."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def claim(engine: sa.Engine, username: str, key: str, fingerprint: str
          ) -> tuple[Claim, Kept | None]:
    """Claim ``key`` for this request of ``username`` (``fingerprint``: a hash of its method,
    path and body), or find what became of an earlier claim."""
    t = schema.idempotency_keys
    now = now_micros()
    mine = (t.c.username == username) & (t.c.key == key)
    with write_transaction(engine) as conn:
        if random.random() < 0.01:  # nosec B311: when to prune, not a secret
            conn.execute(t.delete().where(t.c.created_at < now - KEEP_US))
        row = conn.execute(sa.select(t).where(mine)).first()
        if row is None or (row.status is None and row.created_at < now - ABANDONED_US):
            conn.execute(t.delete().where(mine))
            conn.execute(t.insert().values(username=username, key=key, fingerprint=fingerprint,
                                           created_at=now, status=None, headers=None,
                                           body=None))
            return Claim.new, None
    if row.fingerprint != fingerprint:
        return Claim.reused, None
    if row.status is None:
        return Claim.in_progress, None
    headers = [(str(k), str(v)) for k, v in orjson.loads(row.headers or "[]")]
    return Claim.answered, Kept(row.status, headers, bytes(row.body or b""))


def complete(engine: sa.Engine, username: str, key: str, answer: Kept) -> None:
    """Keep the answer to the request that claimed ``key``."""
    t = schema.idempotency_keys
    with write_transaction(engine) as conn:
        conn.execute(t.update().where((t.c.username == username) & (t.c.key == key))
                     .values(status=answer.status, headers=orjson.dumps(answer.headers).decode(),
                             body=answer.body))


def release(engine: sa.Engine, username: str, key: str) -> None:
    """Forget a claim whose request failed on the node's side: a repetition runs again."""
    t = schema.idempotency_keys
    with write_transaction(engine) as conn:
        conn.execute(t.delete().where((t.c.username == username) & (t.c.key == key)
                                      & t.c.status.is_(None)))
