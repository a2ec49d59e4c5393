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

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

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


def among(dialect: sa.Dialect, column: sa.ColumnElement[Any],
          values: Collection[str]) -> sa.ColumnElement[bool]:
    """``column`` is one of the texts ``values``, whatever their number, in one bound parameter.

    An ``IN`` list binds a parameter per value, and building it costs as much as
    reading the rows it finds (SQLAlchemy renders each one); here the values go as
    one JSON array (SQLite's ``json_each``) or one text array (PostgreSQL's
    ``= ANY``), so a page of a few thousand ids is one statement with no chunks.
    """
    if dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values),
                                              type_=postgresql.ARRAY(sa.Text)))
    listed = sa.func.json_each(sa.bindparam(None, orjson.dumps(list(values)).decode(),
                                            type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(listed.c.value))


def json_fields(dialect: sa.Dialect, column: sa.ColumnElement[Any],
                *paths: tuple[str, ...]) -> list[sa.ColumnElement[Any]]:
    """The values at ``paths`` of a JSON text column, read by the database.

    A path's value comes back as text on PostgreSQL and as SQLite stores it there
    (text, integer, real); None where the path is missing. Reading a field or two
    this way spares fetching and parsing every whole body.
    """
    if dialect.name == "postgresql":
        document: sa.ColumnElement[Any] = sa.cast(column, postgresql.JSONB)
    else:
        document = sa.type_coerce(column, sa.JSON)
    return [document[path if len(path) > 1 else path[0]].as_string() for path in paths]
