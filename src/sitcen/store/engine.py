"""Opening a database: SQLite (WAL, embedded default) or PostgreSQL through psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from sitcen.store.migrations import migrate

# Execution option marking a SQLite transaction that will write.
SQLITE_WRITE = "sitcen_sqlite_write"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event open transactions (below) instead of the
    # sqlite3 module, which would begin them late and always as DEFERRED.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against process crashes in WAL mode; only a power cut
    # can lose the last transactions, never corrupt the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # A writer takes the write lock at BEGIN: with several processes on one
    # file, a DEFERRED transaction that reads and then writes can fail at once
    # with SQLITE_BUSY instead of waiting for the other writer.
    immediate = conn.get_execution_options().get(SQLITE_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and route them to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def open_engine(url: str, *, apply_migrations: bool = True) -> sa.Engine:
    """An engine for the URL with the node's connection settings, migrated to the latest schema."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa_event.listen(engine, "connect", _sqlite_pragmas)
        sa_event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = sa.create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    if apply_migrations:
        migrate(engine)
    return engine
