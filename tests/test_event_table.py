"""The events table: built from stored bodies, encoded into codes, refused when malformed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis.event_table import COLUMNS, encode, events_frame
from sitcen.events import EventPublic


def body(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "00000000-0000-0000-0000-000000000001", "origin": "tj-ncc", "version": 1,
        "category": "unauthorised_crossing", "type": "green_border_crossing",
        "occurred_at": "2025-03-10T05:00:00Z", "handling": "AMBER", "section_id": "KG-TJ-007",
        "section_distance_km": 1.2, "country": "TJ", "impact_level": "low",
        "status": "validated", "details": {"stage": "actual", "direction": "entry",
                                           "detection": "patrol"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 3},
                    {"nationality": "TJ", "sex": "male", "age_group": "minor", "count": 1}],
    }
    base.update(fields)
    return base


def test_a_stored_body_becomes_one_row_with_every_column() -> None:
    model = EventPublic.model_validate(body())  # the fixture is shaped like the API's answer
    frame = events_frame([body()])
    assert events_frame([model]).equals(frame)
    assert list(frame.columns) == list(COLUMNS)
    row = frame.iloc[0]
    assert row["type"] == "green_border_crossing"
    assert row["occurred_at"] == pd.Timestamp("2025-03-10T05:00:00Z").value // 1000
    assert (row["persons_total"], row["minors"], row["nationality"]) == (4, 1, "AF")
    assert row["detection"] == "patrol" and row["direction"] == "entry"
    assert not row["violence"]


def test_one_row_per_nationality_for_route_counts() -> None:
    frame = events_frame([body()], per_nationality=True)
    assert frame[["nationality", "persons_total", "minors"]].values.tolist() == [
        ["AF", 3, 0], ["TJ", 1, 1]]
    assert frame["id"].nunique() == 1


def test_quantities_become_kilograms_and_casualties_mean_violence() -> None:
    frame = events_frame([
        body(type="drug_smuggling", details={"substance": "heroin", "quantity": 2500,
                                             "unit": "g"}),
        body(type="excise_goods_smuggling", details={"goods": "alcohol", "quantity": 30,
                                                     "unit": "l"}),
        body(type="weapons_smuggling", details={"weapon_kind": "ammunition", "quantity": 200,
                                                "unit": "rounds"}),
        body(type="natural_disaster", persons=[], details={"hazard": "mudflow", "killed": 2}),
        body(type="armed_incident", details={"shots_fired": False}),
    ])
    assert frame["quantity_kg"].tolist() == [2.5, 30.0, 0.0, 0.0, 0.0]
    assert frame["violence"].tolist() == [False, False, False, True, True]
    assert frame["killed"].tolist() == [0, 0, 0, 2, 0]
    assert frame["category"].iloc[3] == "unauthorised_crossing"  # as stored, not re-derived


def test_rejected_reports_are_left_out_unless_asked_for() -> None:
    bodies = [body(), body(status="rejected")]
    assert len(events_frame(bodies)) == 1
    assert len(events_frame(bodies, include_rejected=True)) == 2


def test_a_body_with_fields_withheld_by_a_sharing_agreement_still_reads() -> None:
    shared = {"id": "x", "origin": "kg-ncc", "version": 2, "category": "other",
              "type": "suspicious_person", "occurred_at": "2025-01-01T00:00:00+06:00",
              "handling": "GREEN"}
    row = events_frame([shared]).iloc[0]
    assert row["occurred_at"] == pd.Timestamp("2024-12-31T18:00:00Z").value // 1000
    assert row["section_id"] is None and row["persons_total"] == 0
    assert row["country"] == "XX" and row["nationality"] is None


def test_no_bodies_give_an_empty_table_with_the_columns() -> None:
    frame = events_frame([])
    assert frame.empty and list(frame.columns) == list(COLUMNS)
    assert len(encode(frame, ["A-1"])) == 0


def test_encoding_maps_codes_and_months() -> None:
    frame = pd.DataFrame({
        "type": ["river_crossing", "drug_smuggling", "lost_person"],
        "occurred_at": [pd.Timestamp("2025-01-31T23:59:59Z"),  # mixed zones: object column
                        pd.Timestamp("2025-02-01T00:00:00Z"),
                        pd.Timestamp("2025-01-01T03:00:00+05:00")],
        "section_id": ["B", None, "Z"],
        "impact_level": ["high", None, "low"],
        "quantity_kg": [np.nan, 4.0, 0.0],
    })
    enc = encode(frame, ["A", "B"])
    assert enc.section.tolist() == [1, -1, -1]  # Z is not one of the sections: not on one
    assert enc.month.tolist() == [pd.Period(m, "M").ordinal
                                  for m in ("2025-01", "2025-02", "2024-12")]  # 22:00 UTC
    assert enc.level.tolist() == [2, -1, 0]
    assert enc.seized.tolist() == [1]
    assert enc.kg.tolist() == [0.0, 4.0, 0.0]


def test_categorical_and_plain_columns_encode_alike() -> None:
    plain = pd.DataFrame({"type": ["lost_person", "epidemic"], "occurred_at": [0, 10**12],
                          "section_id": ["S2", "S1"], "detection": ["inland", None]})
    categorical = plain.astype({"type": "category", "section_id": "category",
                                "detection": "category"})
    a, b = encode(plain, ["S1", "S2"]), encode(categorical, ["S1", "S2"])
    for name in ("section", "type", "month"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist()


def test_detection_at_the_line_comes_from_details_then_from_distance() -> None:
    frame = pd.DataFrame({
        "type": ["green_border_crossing"] * 5 + ["drug_smuggling"],
        "occurred_at": [0] * 6,
        "section_id": ["A", "A", "A", "A", None, "A"],
        "section_distance_km": [20.0, 1.0, 1.0, 9.0, 30.0, 0.5],
        "detection": ["patrol", "inland", None, "other", None, None],
    })
    enc = encode(frame, ["A"])
    crossings = enc.crossings_at(np.arange(6))
    assert crossings.tolist() == [0, 1, 2, 3, 4]  # smuggling drugs is not a crossing
    assert enc.at_line_at(crossings).tolist() == [1, 0, 1, 0, 0]


@pytest.mark.parametrize(("change", "message"), [
    ({"type": ["teleportation"]}, "unknown event types"),
    ({"impact_level": ["extreme"]}, "impact_level"),
    ({"persons_total": [-1]}, "negative"),
    ({"detection": ["satellite"]}, "detection"),
])
def test_bad_values_are_refused_naming_the_column(change: dict[str, Any], message: str) -> None:
    frame = pd.DataFrame({"type": ["lost_person"], "occurred_at": [0], "section_id": ["A"]})
    with pytest.raises(ValueError, match=message):
        encode(frame.assign(**change))


def test_a_missing_required_column_is_named() -> None:
    with pytest.raises(ValueError, match="'section_id'"):
        encode(pd.DataFrame({"type": ["lost_person"], "occurred_at": [0]}))
