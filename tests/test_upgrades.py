"""Upgrades: a database of every earlier schema, with the data its code wrote, is migrated to
the current shape on both backends, keeps its data, and serves; a newer one is refused.

The databases are SQL dumps in tests/data/schemas/, made by the code of each earlier commit
(scripts/make_schema_fixture.py). Each is compared, after migrating, with a fresh database
of the same backend: tables, columns (type, nullability), primary keys and indexes (columns,
uniqueness, partial predicate).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import auth, make_settings
from sitcen.api.main import create_app
from sitcen.cli import main as sitcen_main
from sitcen.node import Node
from sitcen.store import migrations
from sitcen.store.engine import open_engine
from sitcen.store.migrations import MIGRATIONS, NewerDatabase, migrate, schema_version
from sitcen.store.users import issue_token
from sitcen.testing import SchemaShape, load_schema_fixture, schema_shape

SCHEMAS = Path(__file__).parent / "data" / "schemas"
FIXTURES = sorted(SCHEMAS.glob("*.sql"))
PASSWORD = "correct-horse-battery-staple-42"  # scripts/make_schema_fixture.py
NODE_ID = "tj-panj-post"

# The schema a database has once every migration up to the named one has run
# (schema_version()). schema.py may change only together with a new migration: a change
# without one (c2b7101's partial index) leaves the databases made before it behind.
SCHEMA_AFTER = {"0016_partial_follow_up_index": "eac9c7e3adcb"}

# Differences between an upgraded database and a fresh one that are legitimate, by
# (backend, table, aspect): none so far. An entry here needs its reason beside it.
ALLOWED_DIFFERENCES: dict[tuple[str, str, str], str] = {}


def differences(upgraded: SchemaShape, fresh: SchemaShape, backend: str) -> list[str]:
    found = []
    for table in sorted(set(upgraded) | set(fresh)):
        if table not in upgraded or table not in fresh:
            found.append(f"{table}: only in the {'fresh' if table in fresh else 'upgraded'} one")
            continue
        for aspect in ("columns", "column order", "primary_key", "indexes"):
            if (backend, table, aspect) in ALLOWED_DIFFERENCES:
                continue
            old, new = (_aspect(shape, table, aspect) for shape in (upgraded, fresh))
            if old != new:
                found.append(f"{table} {aspect}: upgraded {old} != fresh {new}")
    return found


def _aspect(shape: SchemaShape, table: str, aspect: str) -> Any:
    if aspect == "column order":  # dicts compare without their order
        return list(shape[table]["columns"])
    return shape[table][aspect]


def rows(engine: sa.Engine, tables: SchemaShape) -> dict[str, list[dict[str, Any]]]:
    """Every row of these tables (only the columns they have), in primary-key order."""
    found = {}
    with engine.connect() as conn:
        for name, table_shape in tables.items():
            query: Any = (sa.select(*[sa.column(c) for c in table_shape["columns"]])
                     .select_from(sa.table(name))
                     .order_by(*[sa.column(c) for c in table_shape["primary_key"]]))
            found[name] = [dict(r._mapping) for r in conn.execute(query)]
    return found


_fresh_shapes: dict[str, SchemaShape] = {}


@pytest.fixture
def fresh(database_url: str, another_database: Callable[[str], str]) -> SchemaShape:
    """The shape a fresh database of this backend gets (made once per backend and process)."""
    backend = sa.make_url(database_url).get_backend_name()
    if backend not in _fresh_shapes:
        engine = open_engine(another_database("fresh"))
        try:
            _fresh_shapes[backend] = schema_shape(engine)
        finally:
            engine.dispose()
    return _fresh_shapes[backend]


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the empty database, not migrated."""
    engine = open_engine(database_url, apply_migrations=False)
    yield engine
    engine.dispose()


def recorded(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return migrations.applied(conn)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_an_earlier_schema_is_upgraded_with_its_data(
        fixture: Path, bare_engine: sa.Engine, fresh: SchemaShape, database_url: str,
        tmp_path: Path) -> None:
    engine = bare_engine
    load_schema_fixture(engine, fixture)
    before_shape = schema_shape(engine)
    before = rows(engine, before_shape)
    old_names = recorded(engine)

    applied_now = migrate(engine)

    known = [name for name, _ in MIGRATIONS]
    assert applied_now == [n for n in known if n not in old_names]
    assert set(recorded(engine)) == set(known) | set(old_names)
    upgraded = schema_shape(engine)
    assert differences(upgraded, fresh, engine.dialect.name) == []
    # Every row and value survived, in the columns the old schema had (and the old
    # migrations' records beside the new ones).
    after = rows(engine, before_shape)
    old_records = before.pop("schema_migrations")
    assert [r for r in after.pop("schema_migrations") if r in old_records] == old_records
    assert after == before
    # Migrating again changes nothing.
    again = rows(engine, upgraded)
    assert migrate(engine) == []
    assert schema_shape(engine) == upgraded
    assert rows(engine, upgraded) == again

    _node_works(engine, database_url, tmp_path, before)


def _node_works(engine: sa.Engine, database_url: str, tmp_path: Path,
                before: dict[str, list[dict[str, Any]]]) -> None:
    """The upgraded node logs its old users in, serves the old events, takes a new version
    through the normal write path and journals it after the old entries."""
    node = Node.open(make_settings(database_url, tmp_path, node_id=NODE_ID,
                                   node_country="TJ"), engine=engine)
    old_events = {e["id"]: e for e in before["events"]}
    last_seq = max(entry["seq"] for entry in before["journal"])
    # A token as a login issues it (test_old_passwords_log_in logs in by password: slow).
    duty = auth(issue_token(engine, "duty.one", 1)[0])
    with TestClient(create_app(node)) as client:
        page = client.get("/api/v1/events", headers=duty, params={
            "since": "2026-11-19T00:00:00Z", "until": "2026-11-21T00:00:00Z"})
        assert page.status_code == 200, page.text
        listed = {e["id"]: e for e in page.json()["items"]}
        assert set(listed) == set(old_events)
        for event_id, row in old_events.items():
            event = client.get(f"/api/v1/events/{event_id}", headers=duty).json()
            assert (event["version"], event["type"], event["status"]) == \
                   (row["version"], row["type"], row["status"])
        seizure = next(e for e in listed.values() if e["version"] == 3)
        assert seizure["has_personal_data"] is True
        persons = client.get(f"/api/v1/events/{seizure['id']}/personal-data",
                             params={"purpose": "validation"}, headers=duty).json()
        assert persons[0]["subjects"][0]["document_number"] == "AB1234567"
        follow_up = next(e for e in listed.values() if e["follow_up_of"])
        assert follow_up["follow_up_of"] == seizure["id"]

        fields = ("type", "occurred_at", "location", "impact_level", "confidence", "handling",
                  "details", "persons", "transport", "modus_operandi", "reaction",
                  "description", "status")
        change = {k: seizure[k] for k in fields} | {"status": "closed", "base_version": 3}
        written = client.put(f"/api/v1/events/{seizure['id']}", json=change, headers=duty)
        assert written.status_code == 200, written.text
        assert written.json()["version"] == 4
        versions = client.get(f"/api/v1/events/{seizure['id']}/versions", headers=duty).json()
        assert [v["version"] for v in versions] == [1, 2, 3, 4]

        journal = client.get("/api/v1/journal", headers=duty, params={"limit": 5000}).json()
        seqs = [e["seq"] for e in journal["entries"]]
        assert seqs[:len(before["journal"])] == [e["seq"] for e in before["journal"]]
        new = [e for e in journal["entries"] if e["seq"] > last_seq]
        assert [(e["record_id"], e["version"]) for e in new if e["kind"] == "event"] == \
               [(seizure["id"], 4)]


def test_old_passwords_log_in(bare_engine: sa.Engine, database_url: str,
                              tmp_path: Path) -> None:
    """The users of the oldest schema log in with their password hashes of that time."""
    load_schema_fixture(bare_engine, FIXTURES[0])
    migrate(bare_engine)
    node = Node.open(make_settings(database_url, tmp_path, node_id=NODE_ID,
                                   node_country="TJ"), engine=bare_engine)
    with TestClient(create_app(node)) as client:
        answer = client.post("/api/v1/auth/login",
                             json={"username": "op.one", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        me = client.get("/api/v1/auth/me", headers=auth(answer.json()["access_token"]))
        assert me.json()["role"] == "operator"


def test_processes_starting_together_migrate_once(bare_engine: sa.Engine,
                                                  database_url: str) -> None:
    """Four start-ups at once on an old database: one migrates, the others wait for it (the
    advisory lock; SQLite's write lock taken at BEGIN) and find nothing left to do."""
    load_schema_fixture(bare_engine, FIXTURES[0])
    engines = [open_engine(database_url, apply_migrations=False) for _ in range(4)]
    start = threading.Barrier(len(engines))
    outcomes: list[object] = []

    def start_up(engine: sa.Engine) -> None:
        start.wait()
        try:
            outcomes.append(len(migrate(engine)))
        except Exception as exc:  # the outcome is what the test checks
            outcomes.append(exc)

    threads = [threading.Thread(target=start_up, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert sorted(outcomes, key=str) == [0, 0, 0, len(MIGRATIONS) - 1]
    assert len(recorded(bare_engine)) == len(MIGRATIONS)


def test_the_schema_changes_only_with_a_migration() -> None:
    last = MIGRATIONS[-1][0]
    assert last in SCHEMA_AFTER, (
        f"new migration {last}: add its schema_version() to SCHEMA_AFTER, and the fixture "
        "of the schema before it (docs/upgrades.md)")
    assert schema_version() == SCHEMA_AFTER[last], (
        "schema.py changed without a migration: add one that brings existing databases "
        "to the new shape (docs/upgrades.md)")


def test_every_earlier_schema_has_a_fixture() -> None:
    """A fixture stands for each migration but the last (made when the next one lands)."""
    last = {p.stem.split("-")[0] for p in FIXTURES}
    names = [name for name, _ in MIGRATIONS]
    assert {migrations.FORMER_NAMES.get(n, n) for n in last} >= set(names[:-1])


def test_a_database_newer_than_the_code_is_refused(database_url: str, tmp_path: Path) -> None:
    engine = open_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO schema_migrations (name, applied_at) "
                                 "VALUES ('0099_from_the_future', 1)"))
        before = schema_shape(engine)
        with pytest.raises(NewerDatabase) as refused:
            migrate(engine)
        assert refused.value.unknown == ["0099_from_the_future"]
        assert "0099_from_the_future" in str(refused.value)
        assert "newer" in str(refused.value)
        assert schema_shape(engine) == before
        with pytest.raises(NewerDatabase):
            Node.open(make_settings(database_url, tmp_path))
    finally:
        engine.dispose()

    env = {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
           "SITCEN_DATABASE_URL": database_url}
    for command in (["migrate"], ["serve"], ["user", "list"]):
        with _sitcen_logger_kept():  # serve sets up its logging before it opens the node
            result = CliRunner().invoke(sitcen_main, command, env=env)
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: the database was upgraded by a newer sitcen")
        assert "0099_from_the_future" in result.output
        assert "Traceback" not in result.output
    status = CliRunner().invoke(sitcen_main, ["db", "status"], env=env)
    assert status.exit_code == 2, status.output
    assert "unknown (1): 0099_from_the_future" in status.output


@contextlib.contextmanager
def _sitcen_logger_kept() -> Iterator[None]:
    logger = logging.getLogger("sitcen")
    kept = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = kept


def test_db_status_shows_pending_then_up_to_date(bare_engine: sa.Engine, database_url: str,
                                                 tmp_path: Path) -> None:
    load_schema_fixture(bare_engine, SCHEMAS / "0002_peers_and_agreements-18b0e63.sql")
    env = {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
           "SITCEN_DATABASE_URL": database_url}
    status = CliRunner().invoke(sitcen_main, ["db", "status"], env=env)
    assert status.exit_code == 1, status.output
    assert "0002_peers_and_agreements (former name of 0002_peers_agreements_leases)" \
           in status.output
    assert f"pending ({len(MIGRATIONS) - 1}): 0002_peers_agreements_leases, " in status.output
    assert "unknown (0): none" in status.output
    migrate(bare_engine)
    status = CliRunner().invoke(sitcen_main, ["db", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert status.output.rstrip().endswith("up to date")
