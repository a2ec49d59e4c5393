"""Long IN lists cut to what every driver takes (sitcen.store.sql), on both backends."""

from __future__ import annotations

import sqlalchemy as sa

from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.sql import IN_CHUNK, chunked, select_in


def test_chunked_cuts_into_consecutive_slices() -> None:
    assert [list(p) for p in chunked([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert list(chunked([], 2)) == []
    assert [len(p) for p in chunked(list(range(2 * IN_CHUNK + 1)))] == [IN_CHUNK, IN_CHUNK, 1]


def test_select_in_reads_more_ids_than_one_statement_may_bind(node: Node) -> None:
    """Over SQLite's old limit of 999 parameters, and with duplicates and missing ids."""
    t = schema.retractions
    rows = [{"id": f"id-{i:05d}", "origin": "tj-test-centre", "version": i % 7 + 1,
             "kind": "event", "reason": "", "provenance": "[]", "recorded_at": i}
            for i in range(2_500)]
    with node.engine.begin() as conn:
        conn.execute(t.insert(), rows)
    wanted = [f"id-{i:05d}" for i in range(0, 2_500, 2)] + ["id-00000", "no-such-id"]
    with node.engine.connect() as conn:
        found = {row.id: row.version
                 for row in select_in(conn, sa.select(t.c.id, t.c.version), t.c.id, wanted)}
    assert found == {f"id-{i:05d}": i % 7 + 1 for i in range(0, 2_500, 2)}
