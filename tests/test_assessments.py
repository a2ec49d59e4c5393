"""Vulnerability assessment, section levels and alerts as records: versions, rules, CSV import."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from sitcen.demo.capacities import synthetic_capacities
from sitcen.errors import NotFound, VersionConflictError
from sitcen.geo import load_default_sections
from sitcen.interop.capacity_import import import_capacity_csv, parse_capacity_csv
from sitcen.interop.spreadsheets import SpreadsheetError
from sitcen.recompute import section_capacities
from sitcen.store.alerts import acknowledge_alert, list_alerts, record_alerts
from sitcen.store.capacities import capacity_history, current_capacity, put_capacities
from sitcen.store.journal import Record, apply_records, read_journal
from sitcen.store.levels import confirm_level, current_level, current_levels, level_history
from sitcen.store.recommendations import (
    add_recommendation,
    list_recommendations,
    recommendation_history,
    update_recommendation,
)
from sitcen.store.records import AssessmentError, get_record, list_records, record_row

NODE = "tj-ncc"
SECTION = "AF-TJ-003"
FIGURES: dict[str, Any] = {
    "length_km": 50.0, "staff_per_shift": 6, "shifts_per_day": 3, "patrol_hours_per_week": 120.0,
    "vehicles": 3, "sensors": 4, "cameras": 6, "towers": 2, "covered_km": 20.0, "fence_km": 5.0,
    "response_time_min": 25.0, "terrain_permeability": 0.6, "assessed_on": None,
}
HEADER = ("section_id,staff_per_shift,shifts_per_day,patrol_hours_per_week,vehicles,sensors,"
          "cameras,towers,covered_km,fence_km,response_time_min,terrain_permeability")
LENGTHS = {"AF-TJ-001": 51.0, "AF-TJ-002": 50.9, "AF-TJ-003": 51.0}


def _journal_kinds(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [(e.kind, e.version) for e in read_journal(conn)]


# ----------------------------------------------------------------------------- capacity


def test_capacity_versions_are_its_history(engine: sa.Engine) -> None:
    (first,) = put_capacities(engine, NODE, [(SECTION, FIGURES, "first inventory")],
                              assessed_by="analyst")
    (second,) = put_capacities(engine, NODE, [(SECTION, {**FIGURES, "staff_per_shift": 9},
                                               "two officers more")],
                               assessed_by="analyst", base_version=1)
    assert second.id == first.id and second.version == 2
    assert second.body["handling"] == "AMBER" and second.body["section_id"] == SECTION
    history = capacity_history(engine, NODE, SECTION)
    assert [(v["version"], v["staff_per_shift"], v["note"]) for v in history] == [
        (1, 6, "first inventory"), (2, 9, "two officers more")]
    with pytest.raises(VersionConflictError):  # made from version 1, but 2 is current
        put_capacities(engine, NODE, [(SECTION, FIGURES, "")], assessed_by="x", base_version=1)
    assert section_capacities(engine, NODE)[SECTION].staff_per_shift == 9
    assert _journal_kinds(engine) == [("capacity", 1), ("capacity", 2)]


def test_own_inventory_wins_over_a_received_one(engine: sa.Engine) -> None:
    received = record_row("capacity", "22222222-2222-4222-8222-222222222222", "tj-khorog", 1,
                          {**FIGURES, "section_id": SECTION, "staff_per_shift": 2,
                           "handling": "AMBER"}, recorded_at=10**15, provenance=["tj-khorog"],
                          sharing={})
    apply_records(engine, [Record("capacity", received)])
    held = current_capacity(engine, NODE, SECTION)
    assert held is not None and held.origin == "tj-khorog"  # none of our own yet
    put_capacities(engine, NODE, [(SECTION, FIGURES, "")], assessed_by="analyst")
    held = current_capacity(engine, NODE, SECTION)
    assert held is not None and held.origin == NODE and held.body["staff_per_shift"] == 6


def test_capacity_csv_problems_name_row_column_value_and_reason(engine: sa.Engine) -> None:
    text = "\n".join([
        HEADER,
        "AF-TJ-001,6,3,120,3,4,6,2,20,5,25,0.6",
        "XX-YY-001,6,3,120,3,4,6,2,20,5,25,0.6",  # no such section
        "AF-TJ-002,1.5,3,lots,3,4,6,2,20,5,25,0.6",  # not whole, not a number
        "AF-TJ-003,6,3,120,3,4,6,2,80,5,25,0.6",  # 80 km watched on a 51 km line
        "AF-TJ-001,6,3,120,3,4,6,2,20,5,25,0.6",  # listed twice
    ])
    report = import_capacity_csv(engine, NODE, text.encode(), section_lengths=LENGTHS,
                                 assessed_by="analyst")
    found = [(p.row, p.column, p.value) for p in report.problems]
    assert found == [(3, "section_id", "XX-YY-001"), (4, "staff_per_shift", "1.5"),
                     (4, "patrol_hours_per_week", "lots"), (5, "covered_km", "80"),
                     (6, "section_id", "AF-TJ-001")]
    reasons = [p.reason for p in report.problems]
    assert reasons[:3] == ["no such border section", "must be a whole number",
                           "must be a number"]
    assert "must not exceed length_km (51.0)" in reasons[3]
    assert reasons[4] == "section already listed on row 2"
    assert "row 4, column 'staff_per_shift'" in str(report.problems[1])
    assert not report.ok and report.written == 0
    assert list_records(engine, "capacity") == [] and _journal_kinds(engine) == []


def test_capacity_csv_header_problems() -> None:
    _, problems, _ = parse_capacity_csv(b"section_id,staff,shifts_per_day\n", LENGTHS)
    first = problems[0]
    assert (first.row, first.column, first.reason.split(";")[0]) == (1, "staff", "unknown column")
    assert {p.column for p in problems[1:]} >= {"staff_per_shift", "covered_km"}
    assert all(p.reason == "required column missing from the header" for p in problems[1:])
    _, problems, _ = parse_capacity_csv(b"", LENGTHS)
    assert [str(p) for p in problems] == ["row 1: the file is empty (no header) (found '')"]


def test_capacity_csv_dry_run_then_import(engine: sa.Engine) -> None:
    text = (HEADER + ",note\n"
            "AF-TJ-001,6,3,120,3,4,6,2,20,5,25,0.6,after the spring review\n"
            "AF-TJ-002,4,2,80,2,1,2,1,10,0,45,0.8,\n")
    dry = import_capacity_csv(engine, NODE, text.encode(), section_lengths=LENGTHS,
                              assessed_by="a", dry_run=True)
    assert dry.ok and dry.dry_run and dry.sections == ["AF-TJ-001", "AF-TJ-002"]
    assert list_records(engine, "capacity") == []
    done = import_capacity_csv(engine, NODE, text.encode(), section_lengths=LENGTHS,
                               assessed_by="a")
    assert done.ok and done.written == 2
    first = current_capacity(engine, NODE, "AF-TJ-001")
    assert first is not None
    # length_km left out: the section's own length; the note travels with the version.
    assert first.body["length_km"] == 51.0 and first.body["note"] == "after the spring review"
    assert _journal_kinds(engine) == [("capacity", 1), ("capacity", 1)]


def test_capacity_file_saved_by_russian_excel_is_read(engine: sa.Engine) -> None:
    """Windows-1251, semicolons and decimal commas, as Russian Excel saves a CSV."""
    text = (HEADER.replace(",", ";") + ";note\r\n"
            "AF-TJ-001;6;3;120;3;4;6;2;20,5;5;25;0,6;после весенней проверки\r\n")
    report = import_capacity_csv(engine, NODE, text.encode("cp1251"), section_lengths=LENGTHS,
                                 assessed_by="a")
    assert report.ok and report.written == 1, report.problems
    assert any("Windows-1251" in note for note in report.notes)
    assert any("';'" in note for note in report.notes)
    held = current_capacity(engine, NODE, "AF-TJ-001")
    assert held is not None and held.body["note"] == "после весенней проверки"
    assert (held.body["covered_km"], held.body["terrain_permeability"]) == (20.5, 0.6)


def test_capacity_import_reads_csv_only() -> None:
    with pytest.raises(SpreadsheetError, match="XLSX workbook"):
        parse_capacity_csv(b"PK\x03\x04 a workbook", LENGTHS)


def test_synthetic_inventories_are_valid_and_deterministic() -> None:
    sections = load_default_sections()
    first = synthetic_capacities(sections)
    assert len(first) == len(sections) and first == synthetic_capacities(sections)
    assert first != synthetic_capacities(sections, seed=2)
    assert len({c.terrain_permeability for c in first}) > 20  # varied, not one template


# ----------------------------------------------------------------------------- recommendations


def test_recommendation_status_history_and_overdue(engine: sa.Engine) -> None:
    rec = add_recommendation(engine, NODE, section_id=SECTION,
                             text="Two thermal cameras at the ford", owner="Panj detachment",
                             deadline=date(2025, 3, 31), created_by="analyst")
    other = add_recommendation(engine, NODE, section_id="AF-TJ-004", text="Fence 2 km",
                               owner="engineers", deadline=date(2025, 6, 30), created_by="analyst")
    on = date(2025, 4, 1)
    assert [r.id for r in list_recommendations(engine, overdue_on=on)] == [rec.id]
    update_recommendation(engine, NODE, rec.id, updated_by="analyst", status="in_progress",
                          note="cameras ordered")
    assert [r.id for r in list_recommendations(engine, overdue_on=on)] == [rec.id]
    update_recommendation(engine, NODE, rec.id, updated_by="analyst", status="done")
    assert list_recommendations(engine, overdue_on=on) == []
    assert [r.id for r in list_recommendations(engine, overdue_on=date(2025, 7, 1))] == [other.id]
    with pytest.raises(AssessmentError, match="done cannot become open") as refused:
        update_recommendation(engine, NODE, rec.id, updated_by="analyst", status="open")
    assert refused.value.field == "status"
    history = recommendation_history(engine, rec.id)
    assert [(v["status"], v["note"]) for v in history] == [
        ("open", ""), ("in_progress", "cameras ordered"), ("done", "")]
    with pytest.raises(NotFound):
        update_recommendation(engine, NODE, "33333333-3333-4333-8333-333333333333",
                              updated_by="analyst", status="done")


# ----------------------------------------------------------------------------- levels


def test_override_needs_a_justification(engine: sa.Engine) -> None:
    with pytest.raises(AssessmentError, match="proposed level is high") as refused:
        confirm_level(engine, NODE, SECTION, level="medium", proposed_level="high",
                      reasons=["risk 0.40"], reactions=["r"], confirmed_by="duty")
    assert refused.value.field == "justification"
    with pytest.raises(AssessmentError, match="needs a justification"):
        confirm_level(engine, NODE, SECTION, level="low", proposed_level="high", reasons=[],
                      reactions=[], confirmed_by="duty", justification="   ")
    assert list_records(engine, "section_assessment") == []
    first = confirm_level(engine, NODE, SECTION, level="high", proposed_level="high",
                          reasons=["risk 0.40"], reactions=["reinforce"], confirmed_by="duty")
    assert first.body["overridden"] is False and first.body["reactions"] == ["reinforce"]
    second = confirm_level(engine, NODE, SECTION, level="medium", proposed_level="high",
                           reasons=["risk 0.40"], reactions=["measures"], confirmed_by="duty",
                           justification="two extra patrols since Monday")
    assert second.id == first.id and second.version == 2 and second.body["overridden"] is True
    assert [v["level"] for v in level_history(engine, NODE, SECTION)] == ["high", "medium"]
    assert set(current_levels(engine, NODE)) == {SECTION}
    held = current_level(engine, NODE, SECTION)
    assert held is not None and held.body["handling"] == "AMBER"
    with pytest.raises(AssessmentError, match="level must be one of"):
        confirm_level(engine, NODE, SECTION, level="very_high", proposed_level=None,
                      reasons=[], reactions=[], confirmed_by="duty", justification="x")


# ----------------------------------------------------------------------------- alerts


def _alarm(**overrides: Any) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "id": "ignored", "key": "early-warning:AF-TJ-003:2025-05-10", "section_id": SECTION,
        "category": "unauthorised_crossing", "type": "river_crossing",
        "first_day": "2025-05-10", "last_day": "2025-05-11", "severity": "medium",
        "methods": ["cusum"], "statistic": 6.1, "threshold": 5.2, "expected": 1.2,
        "observed": 7, "p_value": 0.001, "explanation": "7 river crossings against 1.2",
        "event_ids": ["e1", "e2"], "signals": 1,
    }
    alarm.update(overrides)
    return alarm


def test_alerts_are_written_once_per_episode(engine: sa.Engine) -> None:
    first = record_alerts(engine, NODE, [_alarm()])
    assert len(first.created) == 1 and first.updated == [] and first.unchanged == 0
    again = record_alerts(engine, NODE, [_alarm()])  # the same run again: nothing to write
    assert (again.created, again.updated, again.unchanged) == ([], [], 1)
    grown = record_alerts(engine, NODE, [_alarm(last_day="2025-05-12", observed=9,
                                                 event_ids=["e1", "e2", "e3"])])
    assert grown.updated == first.created  # the episode grew: same record, next version
    (alert,) = list_alerts(engine)
    assert alert.version == 2 and alert.body["last_day"] == "2025-05-12"
    assert alert.body["dedup_key"] == "early-warning:AF-TJ-003:2025-05-10"
    assert "id" not in alert.body and alert.body["status"] == "open"
    other = record_alerts(engine, NODE, [_alarm(key="early-warning:AF-TJ-003:2025-06-01",
                                                first_day="2025-06-01", last_day="2025-06-01")])
    assert len(other.created) == 1
    assert _journal_kinds(engine) == [("alert", 1), ("alert", 1 + 1), ("alert", 1)]
    assert [a.body["first_day"] for a in list_alerts(engine, since=date(2025, 5, 20))] == [
        "2025-06-01"]


def test_acknowledged_alert_stays_so_unless_it_worsens(engine: sa.Engine) -> None:
    (alert_id,) = record_alerts(engine, NODE, [_alarm()]).created
    acked = acknowledge_alert(engine, NODE, alert_id, by="duty", note="patrol sent")
    assert acked.version == 2 and acked.body["status"] == "acknowledged"
    record_alerts(engine, NODE, [_alarm(last_day="2025-05-12", observed=8)])
    held = get_record(engine, alert_id)
    assert held is not None and held.body["status"] == "acknowledged"
    assert held.body["acknowledged_by"] == "duty"
    record_alerts(engine, NODE, [_alarm(last_day="2025-05-13", observed=20, severity="high")])
    held = get_record(engine, alert_id)
    assert held is not None and held.version == 4 and held.body["status"] == "open"
    assert [a.id for a in list_alerts(engine, status="open")] == [alert_id]
    with pytest.raises(NotFound):
        acknowledge_alert(engine, NODE, "44444444-4444-4444-8444-444444444444", by="duty")
