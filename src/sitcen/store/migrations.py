"""Ordered, named schema migrations, applied at start-up.

Each migration runs once, in order, inside one transaction, and is recorded in
``schema_migrations``. Migration 0001 creates the tables as ``schema.py``
defined them when it was written; every later migration must be written to
be idempotent (check before it alters), because a fresh database gets the
current ``schema.py`` shape from 0001 (docs/decisions.md).
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable

import sqlalchemy as sa

from sitcen.store import schema

Migration = Callable[[sa.Connection], None]


def _m0001_initial(conn: sa.Connection) -> None:
    tables = [t for t in schema.metadata.sorted_tables if t.name != "schema_migrations"]
    schema.metadata.create_all(conn, tables=tables)


def _m0002_peers_agreements_leases(conn: sa.Connection) -> None:
    # Idempotent: a database created after this migration was written already
    # has both tables from 0001.
    for table in (schema.peers, schema.agreements, schema.leases):
        table.create(conn, checkfirst=True)


_RELAXED = ("reported_at", "lon", "lat", "cell", "country", "impact_level", "status")


def _m0003_received_events(conn: sa.Connection) -> None:
    # Received records may lack fields: relax NOT NULL and add provenance and
    # sharing. Idempotent: a database made after this was written has them.
    columns = {c["name"]: c for c in sa.inspect(conn).get_columns("events")}
    if "provenance" in columns and all(columns[n]["nullable"] for n in _RELAXED):
        return
    if conn.dialect.name == "postgresql":
        for name in _RELAXED:
            conn.execute(sa.text(f"ALTER TABLE events ALTER COLUMN {name} DROP NOT NULL"))
        for name in ("provenance", "sharing"):
            conn.execute(sa.text(f"ALTER TABLE events ADD COLUMN IF NOT EXISTS {name} TEXT"))
        return
    # SQLite cannot drop NOT NULL: rebuild the table with the current shape.
    kept = [c.name for c in schema.events.columns if c.name in columns]
    conn.exec_driver_sql("ALTER TABLE events RENAME TO events_before_0003")
    for index in schema.events.indexes:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    schema.events.create(conn)
    names = ", ".join(kept)
    conn.exec_driver_sql(f"INSERT INTO events ({names}) SELECT {names} FROM events_before_0003")
    conn.exec_driver_sql("DROP TABLE events_before_0003")


def _m0004_records_retractions(conn: sa.Connection) -> None:
    # Idempotent: a database created after this was written has them from 0001.
    for table in (schema.records, schema.record_versions, schema.retractions):
        table.create(conn, checkfirst=True)
    for index in schema.records.indexes:
        index.create(conn, checkfirst=True)


def _m0005_seen_batches(conn: sa.Connection) -> None:
    schema.seen_batches.create(conn, checkfirst=True)


def _m0006_analysis_results(conn: sa.Connection) -> None:
    schema.analysis_results.create(conn, checkfirst=True)


def _m0007_cursors(conn: sa.Connection) -> None:
    schema.cursors.create(conn, checkfirst=True)


def _m0008_queue_stays(conn: sa.Connection) -> None:
    # Idempotent: a database created after this was written has the table from 0001.
    schema.queue_stays.create(conn, checkfirst=True)
    for index in schema.queue_stays.indexes:
        index.create(conn, checkfirst=True)


def _m0009_files(conn: sa.Connection) -> None:
    schema.files.create(conn, checkfirst=True)


def _m0010_accounts(conn: sa.Connection) -> None:
    # Idempotent: a database created after this was written has both from 0001.
    columns = {c["name"] for c in sa.inspect(conn).get_columns("tokens")}
    for name in ("kind", "address"):
        if name not in columns:
            width = 16 if name == "kind" else 64
            conn.exec_driver_sql(f"ALTER TABLE tokens ADD COLUMN {name} VARCHAR({width})")
    schema.login_failures.create(conn, checkfirst=True)


def _m0011_audit_log(conn: sa.Connection) -> None:
    # Idempotent: a database created after this was written has the table from 0001.
    schema.audit_log.create(conn, checkfirst=True)
    for index in schema.audit_log.indexes:
        index.create(conn, checkfirst=True)


def _m0012_legal_holds(conn: sa.Connection) -> None:
    schema.legal_holds.create(conn, checkfirst=True)


def _m0013_second_factors(conn: sa.Connection) -> None:
    schema.second_factors.create(conn, checkfirst=True)


def _m0014_journal_epochs(conn: sa.Connection) -> None:
    schema.journal_epochs.create(conn, checkfirst=True)


def _m0015_idempotency_keys(conn: sa.Connection) -> None:
    schema.idempotency_keys.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_initial", _m0001_initial),
    ("0002_peers_agreements_leases", _m0002_peers_agreements_leases),
    ("0003_received_events", _m0003_received_events),
    ("0004_records_retractions", _m0004_records_retractions),
    ("0005_seen_batches", _m0005_seen_batches),
    ("0006_analysis_results", _m0006_analysis_results),
    ("0007_cursors", _m0007_cursors),
    ("0008_queue_stays", _m0008_queue_stays),
    ("0009_files", _m0009_files),
    ("0010_accounts", _m0010_accounts),
    ("0011_audit_log", _m0011_audit_log),
    ("0012_legal_holds", _m0012_legal_holds),
    ("0013_second_factors", _m0013_second_factors),
    ("0014_journal_epochs", _m0014_journal_epochs),
    ("0015_idempotency_keys", _m0015_idempotency_keys),
]


def applied(conn: sa.Connection) -> list[str]:
    """Names of the migrations already applied to this database."""
    schema.schema_migrations.create(conn, checkfirst=True)
    rows = conn.execute(sa.select(schema.schema_migrations.c.name)).scalars()
    return sorted(rows)


def migrate(engine: sa.Engine) -> list[str]:
    """Apply every pending migration in order; returns the names applied now."""
    done_now: list[str] = []
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several app processes may start together on one database.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301001)"))
        already = set(applied(conn))
        for name, step in MIGRATIONS:
            if name in already:
                continue
            step(conn)
            conn.execute(
                schema.schema_migrations.insert().values(
                    name=name, applied_at=int(time.time() * 1_000_000)
                )
            )
            done_now.append(name)
    return done_now


@functools.cache
def schema_version() -> str:
    """A short digest of the schema a migrated database has: the migrations' names and every
    table and index of ``schema.py``.

    Files built for reuse (a benchmark's data set) carry it in their name, so a
    change of the schema makes them stale instead of silently reused.
    """
    return schema_digest(schema.metadata, [name for name, _ in MIGRATIONS])


def schema_digest(metadata: sa.MetaData, migrations: list[str]) -> str:
    """The digest :func:`schema_version` gives for these tables and migration names
    (their DDL as SQLite would run it, so it does not depend on the backend in use)."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    digest = hashlib.sha256()
    for name in migrations:
        digest.update(name.encode() + b"\n")
    for table in metadata.sorted_tables:
        digest.update(str(sa.schema.CreateTable(table).compile(dialect=dialect)).encode())
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            digest.update(str(sa.schema.CreateIndex(index).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:12]
