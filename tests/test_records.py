"""Records other than events: versions, history, listing, conflicts, retraction tombstones."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sitcen.errors import NotOwnerError, VersionConflictError
from sitcen.store import schema
from sitcen.store.journal import Record, Withdrawal, apply_records, read_journal, retract_records
from sitcen.store.records import (
    RecordError,
    get_record,
    list_records,
    record_history,
    record_row,
    write_record,
)

NODE = "kz-ncc"


def test_versions_history_and_listing(engine: sa.Engine) -> None:
    first = write_record(engine, "section_assessment",
                         {"section_id": "KZ-UZ-003", "level": "medium", "handling": "AMBER"},
                         node_id=NODE)
    other = write_record(engine, "section_assessment",
                         {"section_id": "KZ-UZ-004", "level": "low", "handling": "AMBER"},
                         node_id=NODE)
    second = write_record(engine, "section_assessment",
                          {"section_id": "KZ-UZ-003", "level": "high", "handling": "AMBER"},
                          node_id=NODE, record_id=first.id, base_version=1)
    assert (second.id, second.version, second.subject) == (first.id, 2, "KZ-UZ-003")
    stored = get_record(engine, first.id)
    assert stored is not None and stored.body["level"] == "high" and stored.provenance is None
    assert [v["body"]["level"] for v in record_history(engine, first.id)] == ["medium", "high"]
    assert [r.id for r in list_records(engine, "section_assessment", subject="KZ-UZ-003")] == [
        first.id]
    assert {r.id for r in list_records(engine, "section_assessment")} == {first.id, other.id}
    assert list_records(engine, "alert") == []
    with engine.connect() as conn:
        kinds = [(e.kind, e.version) for e in read_journal(conn)]
    assert kinds == [("section_assessment", 1), ("section_assessment", 1),
                     ("section_assessment", 2)]
    with pytest.raises(VersionConflictError):  # made from version 1, but 2 is current
        write_record(engine, "section_assessment", {"section_id": "KZ-UZ-003"},
                     node_id=NODE, record_id=first.id, base_version=1)
    with pytest.raises(RecordError, match="not a alert"):
        write_record(engine, "alert", {"section_id": "KZ-UZ-003"}, node_id=NODE,
                     record_id=first.id)


@pytest.mark.parametrize("kind, body, message", [
    ("event", {}, "not kept in the records table"),
    ("alert", {"section_id": 7}, "'section_id' must be text"),
    ("alert", {"section_id": "x", "blob": "y" * 300_000}, "is over"),
])
def test_bad_bodies_are_refused(engine: sa.Engine, kind: str, body: dict[str, object],
                                message: str) -> None:
    with pytest.raises(RecordError, match=message):
        write_record(engine, kind, body, node_id=NODE)


def test_withdrawn_record_stays_out(engine: sa.Engine) -> None:
    row = record_row("alert", "11111111-1111-4111-8111-111111111111", "tj-ncc", 1,
                     {"section_id": "AF-TJ-001", "handling": "GREEN"}, recorded_at=1,
                     provenance=["tj-ncc"], sharing={})
    assert apply_records(engine, [Record("alert", row)]) == [True]
    withdrawal = Withdrawal("alert", "tj-ncc", row["id"], 2, "handling above the ceiling",
                            ["tj-ncc"])
    assert retract_records(engine, [withdrawal]) == [True]
    assert get_record(engine, row["id"]) is None
    assert retract_records(engine, [withdrawal]) == [False]  # idempotent
    assert apply_records(engine, [Record("alert", row)]) == [False]  # late copy of v1
    newer = {**row, "version": 3}
    assert apply_records(engine, [Record("alert", newer)]) == [True]  # back in scope
    with engine.connect() as conn:
        assert [(e.kind, e.version) for e in read_journal(conn)] == [
            ("alert", 1), ("retraction", 2), ("alert", 3)]
        assert conn.execute(sa.select(schema.retractions.c.version)).scalar_one() == 2
    with pytest.raises(NotOwnerError):
        retract_records(engine, [Withdrawal("alert", "kg-ncc", row["id"], 9, "", ["kg-ncc"])])
