"""SQL idioms the store repeats, written once: long ``IN`` lists cut to what every driver takes,
and one value read by key.

Reading the rows of a few thousand ids is one ``WHERE id IN (...)`` per
:data:`IN_CHUNK` ids. Every id is a bound parameter, and the smallest limit on
them is SQLite's: ``SQLITE_MAX_VARIABLE_NUMBER`` is 999 in SQLite builds before
3.32 (still shipped by some distributions) and 32,766 after; PostgreSQL's
protocol allows 65,535. 900 ids leave room for the statement's other
parameters under the smallest limit, and a round trip per 900 rows costs
little next to reading them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

#: Values in one ``IN`` list (see the module docstring for why 900).
IN_CHUNK = 900

T = TypeVar("T")


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def select_in(conn: sa.Connection, query: sa.Select[Any], column: sa.ColumnElement[Any],
              values: Collection[Any]) -> Iterator[sa.Row[Any]]:
    """The rows of ``query`` whose ``column`` is one of ``values``, one statement per chunk.

    ``values`` may be any collection (duplicates are asked for once); the rows
    come chunk by chunk, each chunk in the order ``query`` gives.
    """
    distinct = list(dict.fromkeys(values))
    for part in chunked(distinct):
        yield from conn.execute(query.where(column.in_(part)))


def select_value(engine: sa.Engine, column: sa.ColumnElement[Any],
                 *where: sa.ColumnElement[bool]) -> Any:
    """``column`` of the row ``where`` picks, or None when there is none (on a connection of
    its own)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(column).where(*where)).scalar()
