"""Databases of an earlier schema and what a database's schema is.

A schema fixture (tests/data/schemas/, written by scripts/make_schema_fixture.py)
is SQL with ``-- dialect:`` sections; :func:`load_schema_fixture` loads one into an
empty database, :func:`schema_shape` reads back what the node's code depends on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def schema_fixture_statements(path: Path, dialect: str) -> Iterator[str]:
    """The statements of a schema fixture for a backend (``sqlite``, ``postgresql``): those
    of its own ``-- dialect:`` sections and of the shared ones, in order."""
    import re

    section, statement = "all", list[str]()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not statement and line.startswith("--"):
            marker = re.fullmatch(r"-- dialect: (\w+)", line)
            section = marker.group(1) if marker else section
            continue
        if section not in ("all", dialect):
            continue
        statement.append(line)
        if line.endswith(";"):
            yield "\n".join(statement)
            statement = []
    if statement:
        raise ValueError(f"{path.name}: unterminated statement")


def load_schema_fixture(engine: sa.Engine, path: Path) -> None:
    """Load a schema fixture into the empty database of ``engine`` (not migrated)."""
    with engine.begin() as conn:
        for statement in schema_fixture_statements(path, engine.dialect.name):
            conn.exec_driver_sql(statement)


SchemaShape = dict[str, dict[str, Any]]


def schema_shape(engine: sa.Engine) -> SchemaShape:
    """What the node's code depends on, as the database reports it (``sa.inspect``): per
    table its columns (type, nullable), primary key and indexes (columns, unique, partial
    predicate)."""
    import re

    def predicate(index: Any) -> str | None:
        options = index.get("dialect_options", {})
        where = options.get("postgresql_where") or options.get("sqlite_where")
        return None if where is None else re.sub(r"[()\s]", "", str(where)).lower()

    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = inspector.get_multi_columns()
        keys = inspector.get_multi_pk_constraint()
        indexes = inspector.get_multi_indexes()
    return {
        table: {
            "columns": {c["name"]: (str(c["type"].compile(engine.dialect)), c["nullable"])
                        for c in table_columns},
            "primary_key": keys[(schema, table)]["constrained_columns"],
            "indexes": {ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"]),
                                     predicate(ix))
                        for ix in indexes[(schema, table)]},
        }
        for (schema, table), table_columns in columns.items()
    }
