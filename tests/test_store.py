"""The store on both backends: migrations, the one write path, the journal."""

from __future__ import annotations

import uuid

import orjson
import pytest
import sqlalchemy as sa

from sitcen.errors import NotOwnerError, VersionConflictError
from sitcen.store import schema
from sitcen.store.cursors import FollowerCursor, move_cursor, read_cursor
from sitcen.store.journal import Record, follow_kinds, read_journal, record_body, write_records
from sitcen.store.migrations import MIGRATIONS, applied, migrate


def _event_row(event_id: str, origin: str, version: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": event_id, "origin": origin, "version": version, "type": "lost_person",
        "category": "other", "occurred_at": 1, "reported_at": 2, "recorded_at": 3,
        "lon": 70.0, "lat": 40.0, "cell": 1, "section_id": None, "country": "KG",
        "impact_level": "low", "status": "reported", "handling": "GREEN",
        "follow_up_of": None, "body": orjson.dumps({"v": version}).decode(),
    }
    row.update(extra)
    return row


def test_migrations_apply_once_and_match_schema(engine: sa.Engine) -> None:
    assert migrate(engine) == []  # already applied by open_engine
    with engine.connect() as conn:
        assert applied(conn) == sorted(name for name, _ in MIGRATIONS)
    inspector = sa.inspect(engine)
    for table in schema.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_sqlite_runs_in_wal_mode(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_write_stores_record_and_journal_together(engine: sa.Engine) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    last = write_records(engine, [Record("event", _event_row(i, "me", 1)) for i in ids],
                         node_id="me")
    with engine.connect() as conn:
        entries = read_journal(conn)
        assert [e.record_id for e in entries] == ids
        assert entries[-1].seq == last
        assert {e.kind for e in entries} == {"event"}
        assert read_journal(conn, after=entries[0].seq) == entries[1:]


def test_a_follower_of_other_kinds_moves_past_what_it_does_not_want(engine: sa.Engine) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    last = write_records(engine, [Record("event", _event_row(i, "me", 1)) for i in ids],
                         node_id="me")
    with engine.connect() as conn:
        # Nothing of the kind wanted: the position is the head, not the old cursor.
        assert follow_kinds(conn, 0, ["notification"]) == ([], last)
        # A full page stops at its last entry; a short one reaches the head.
        entries, position = follow_kinds(conn, 0, ["event"], limit=2)
        assert [e.record_id for e in entries] == ids[:2] and position == entries[-1].seq
        entries, position = follow_kinds(conn, position, ["event"], limit=10)
        assert [e.record_id for e in entries] == ids[2:] and position == last
        # A cursor at the head stays there.
        assert follow_kinds(conn, last, ["event"]) == ([], last)


def test_a_follower_cursor_stores_work_at_once_and_skips_now_and_then(
        engine: sa.Engine) -> None:
    cursor = FollowerCursor(engine, "test-follower", save_every_s=3600)
    assert cursor.read() is None
    cursor.move(10, save=True)  # work done up to 10
    assert read_cursor(engine, "test-follower") == 10
    cursor.move(20, save=False)  # only skipped: held in memory, stored within the hour
    cursor.move(15, save=True)  # never back
    assert cursor.read() == 20 and read_cursor(engine, "test-follower") == 10
    cursor.move(30, save=True)
    assert read_cursor(engine, "test-follower") == 30
    cursor.move(40, save=False)
    cursor.save()  # on stopping
    assert read_cursor(engine, "test-follower") == 40
    # Another process moved it on while this one did not hold the lease.
    move_cursor(engine, "test-follower", 55)
    assert cursor.read() == 40
    cursor.forget()
    assert cursor.read() == 55
    eager = FollowerCursor(engine, "test-follower", save_every_s=0)
    eager.move(60, save=False)  # stored: its time to store has come
    assert read_cursor(engine, "test-follower") == 60


def test_new_version_moves_old_one_to_history(engine: sa.Engine) -> None:
    event_id = str(uuid.uuid4())
    write_records(engine, [Record("event", _event_row(event_id, "me", 1))], node_id="me")
    write_records(engine, [Record("event", _event_row(event_id, "me", 2, status="validated"))],
                  node_id="me")
    with engine.connect() as conn:
        status = conn.execute(sa.select(schema.events.c.status)).scalar_one()
        history = conn.execute(sa.select(schema.event_versions.c.version)).scalars().all()
        entries = read_journal(conn)
        assert status == "validated"
        assert history == [1]
        assert [(e.version) for e in entries] == [1, 2]
        assert record_body(conn, entries[0]) == '{"v":1}'
        assert record_body(conn, entries[1]) == '{"v":2}'


def test_only_the_origin_writes_and_nothing_half_written(engine: sa.Engine) -> None:
    mine = Record("event", _event_row(str(uuid.uuid4()), "me", 1))
    theirs = Record("event", _event_row(str(uuid.uuid4()), "other-node", 1))
    with pytest.raises(NotOwnerError):
        write_records(engine, [mine, theirs], node_id="me")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 0
        assert read_journal(conn) == []


def test_version_gap_is_refused_and_rolled_back(engine: sa.Engine) -> None:
    event_id = str(uuid.uuid4())
    write_records(engine, [Record("event", _event_row(event_id, "me", 1))], node_id="me")
    fresh = Record("event", _event_row(str(uuid.uuid4()), "me", 1))
    with pytest.raises(VersionConflictError):
        write_records(engine, [fresh, Record("event", _event_row(event_id, "me", 3))],
                      node_id="me")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 1
        assert len(read_journal(conn)) == 1


def test_many_versions_of_a_few_records_in_one_batch(engine: sa.Engine) -> None:
    """A flood: several versions of each record in one batch all reach history and the
    journal, the last is current; a gap anywhere refuses the whole batch."""
    ids = [str(uuid.uuid4()) for _ in range(2)]
    write_records(engine, [Record("event", _event_row(i, "me", 1)) for i in ids], node_id="me")
    batch = [Record("event", _event_row(i, "me", v)) for v in range(2, 12) for i in ids]
    write_records(engine, batch, node_id="me")
    with engine.connect() as conn:
        current = dict(conn.execute(sa.select(schema.events.c.id, schema.events.c.version)).all())
        history = conn.execute(sa.select(schema.event_versions.c.id,
                                         schema.event_versions.c.version)).all()
        assert current == dict.fromkeys(ids, 11)
        assert sorted(history) == sorted((i, v) for i in ids for v in range(1, 11))
        assert len(read_journal(conn)) == 22
    gap = [Record("event", _event_row(i, "me", v)) for v in (12, 13, 14, 15, 17) for i in ids]
    with pytest.raises(VersionConflictError):
        write_records(engine, gap, node_id="me")
    with engine.connect() as conn:
        assert len(read_journal(conn)) == 22


_WRITER = """
import sys, uuid
import orjson
from sitcen.store.engine import open_engine
from sitcen.store.journal import Record, write_records
url, origin = sys.argv[1], sys.argv[2]
engine = open_engine(url)
def row(event_id, version):
    return {"id": event_id, "origin": origin, "version": version, "type": "lost_person",
            "category": "other", "occurred_at": 1, "reported_at": 2, "recorded_at": 3,
            "lon": 70.0, "lat": 40.0, "cell": 1, "section_id": None, "country": "KG",
            "impact_level": "low", "status": "reported", "handling": "GREEN",
            "follow_up_of": None, "body": orjson.dumps({"v": version}).decode()}
for _ in range(40):
    event_id = str(uuid.uuid4())
    write_records(engine, [Record("event", row(event_id, 1))], node_id=origin)
    write_records(engine, [Record("event", row(event_id, 2))], node_id=origin)
"""


def test_two_processes_write_one_sqlite_file(engine: sa.Engine, database_url: str) -> None:
    """Writers in separate processes queue on the file lock instead of failing."""
    import subprocess
    import sys

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL writers are covered by the advisory lock")
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, database_url, "me"],
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    with engine.connect() as conn:
        entries = read_journal(conn, limit=10_000)
    assert len(entries) == 3 * 40 * 2
    assert [e.seq for e in entries] == list(range(1, 241))


def test_apply_is_idempotent_and_order_free(engine: sa.Engine) -> None:
    """Received versions: duplicates and late older versions change nothing."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from sitcen.store.journal import apply_records

    ids = [str(uuid.uuid4()) for _ in range(4)]
    versions = [(i, v) for i in ids for v in range(1, 4)]

    @given(deliveries=st.lists(st.sampled_from(versions), min_size=1, max_size=30),
           cut=st.integers(1, 7))
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(deliveries: list[tuple[str, int]], cut: int) -> None:
        with engine.begin() as conn:
            for table in (schema.journal, schema.events, schema.event_versions):
                conn.execute(table.delete())
        for start in range(0, len(deliveries), cut):
            chunk = deliveries[start:start + cut]
            apply_records(engine, [Record("event", _event_row(i, "kg-node", v))
                                   for i, v in chunk])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.events.c.id, schema.events.c.version)).all()
            stored = {r.id: r.version for r in rows}
            journaled = [(e.record_id, e.version) for e in read_journal(conn, limit=1000)]
        expected = {i: max(v for j, v in deliveries if j == i) for i, _ in deliveries}
        assert stored == expected
        assert len(journaled) == len(set(journaled))  # each version journaled at most once
        for i, top in expected.items():  # per origin record, versions journaled in order
            seen = [v for j, v in journaled if j == i]
            assert seen == sorted(seen) and seen[-1] == top

    check()


def test_apply_refuses_an_id_owned_by_another_origin(engine: sa.Engine) -> None:
    from sitcen.store.journal import apply_records

    event_id = str(uuid.uuid4())
    assert apply_records(engine, [Record("event", _event_row(event_id, "kg-node", 1))]) == [True]
    assert apply_records(engine, [Record("event", _event_row(event_id, "kg-node", 1))]) == [False]
    with pytest.raises(NotOwnerError):
        apply_records(engine, [Record("event", _event_row(str(uuid.uuid4()), "kg-node", 1)),
                               Record("event", _event_row(event_id, "forger", 2))])
    with engine.connect() as conn:
        assert len(read_journal(conn)) == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar() == 1


def test_migration_0003_upgrades_a_database_made_before_it(engine: sa.Engine) -> None:
    """An 0002-era events table (NOT NULL location, no provenance) keeps its rows."""
    event_id = str(uuid.uuid4())
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TABLE events")
            conn.exec_driver_sql(
                "CREATE TABLE events (id VARCHAR(36) PRIMARY KEY, origin VARCHAR(64) NOT NULL, "
                "version INTEGER NOT NULL, type VARCHAR(48) NOT NULL, category VARCHAR(32) "
                "NOT NULL, occurred_at BIGINT NOT NULL, reported_at BIGINT NOT NULL, "
                "recorded_at BIGINT NOT NULL, lon FLOAT NOT NULL, lat FLOAT NOT NULL, cell "
                "INTEGER NOT NULL, section_id VARCHAR(64), country VARCHAR(2) NOT NULL, "
                "impact_level VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, handling "
                "VARCHAR(16) NOT NULL, follow_up_of VARCHAR(36), body TEXT NOT NULL)")
            conn.exec_driver_sql("CREATE INDEX ix_events_time ON events (occurred_at, id)")
        else:
            conn.exec_driver_sql("ALTER TABLE events DROP COLUMN provenance, DROP COLUMN sharing,"
                                 " ALTER COLUMN lon SET NOT NULL")
        row = _event_row(event_id, "me", 1)
        conn.execute(sa.text(
            "INSERT INTO events (id, origin, version, type, category, occurred_at, reported_at, "
            "recorded_at, lon, lat, cell, section_id, country, impact_level, status, handling, "
            "follow_up_of, body) VALUES (:id, :origin, :version, :type, :category, "
            ":occurred_at, :reported_at, :recorded_at, :lon, :lat, :cell, :section_id, "
            ":country, :impact_level, :status, :handling, :follow_up_of, :body)"), row)
        conn.execute(schema.schema_migrations.delete()
                     .where(schema.schema_migrations.c.name == "0003_received_events"))
    assert migrate(engine) == ["0003_received_events"]
    inspector = sa.inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("events")}
    assert columns["lon"]["nullable"] and "provenance" in columns
    assert {i["name"] for i in inspector.get_indexes("events")} >= {
        "ix_events_cell_time", "ix_events_time", "ix_events_section_time"}
    with engine.connect() as conn:
        assert conn.execute(sa.select(schema.events.c.id)).scalars().all() == [event_id]
