"""The store's bulk path on both backends, and the schema version files built for reuse carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from conftest import iso, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.bulk import deferred_indexes, load_reports
from sitcen.store.journal import read_journal
from sitcen.store.migrations import MIGRATIONS, schema_digest, schema_version


def _index_names(engine: sa.Engine) -> set[str]:
    return {str(ix["name"]) for ix in sa.inspect(engine).get_indexes("events")}


def _reports(n: int) -> list[EventCreate]:
    start = datetime.now(UTC) - timedelta(days=2)
    return [EventCreate.model_validate(report(
        occurred_at=iso(start + timedelta(minutes=i)),
        location={"lon": 68.5 + i / 1000, "lat": 37.2})) for i in range(n)]


def test_load_reports_writes_as_the_batch_api_and_builds_the_indexes_after(node: Node) -> None:
    declared = {str(ix.name) for ix in schema.events.indexes}
    assert declared <= _index_names(node.engine)
    seen_during: list[set[str]] = []
    items = _reports(25)

    def progress(done: int) -> None:
        seen_during.append(_index_names(node.engine) & declared)

    written = load_reports(node.engine, node.reporter, [items[:10], items[10:]],
                           progress=progress)

    assert written == 25
    assert seen_during == [set(), set()]  # the load ran without the secondary indexes
    assert declared <= _index_names(node.engine)
    with node.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.events.c.section_id, schema.events.c.cell,
                                      schema.events.c.origin)).all()
        entries = read_journal(conn, limit=100)
    assert len(rows) == 25
    assert all(r.cell is not None and r.origin == node.settings.node_id for r in rows)
    assert any(r.section_id is not None for r in rows)  # placed on the Panj sections
    assert [e.kind for e in entries] == ["event"] * 25


def test_indexes_come_back_when_a_load_fails(node: Node) -> None:
    declared = {str(ix.name) for ix in schema.events.indexes}
    with pytest.raises(RuntimeError), deferred_indexes(node.engine, schema.events):
        assert not _index_names(node.engine) & declared
        raise RuntimeError("the load broke off")
    assert declared <= _index_names(node.engine)


def test_schema_version_changes_with_a_column_or_a_migration() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert schema_version() == schema_digest(schema.metadata, names)
    assert len(schema_version()) == 12

    changed = sa.MetaData()
    for table in schema.metadata.sorted_tables:
        table.to_metadata(changed)
    sa.Table("events", changed, sa.Column("extra", sa.Text), extend_existing=True)
    assert schema_digest(changed, names) != schema_version()
    assert schema_digest(schema.metadata, [*names, "0099_next"]) != schema_version()
