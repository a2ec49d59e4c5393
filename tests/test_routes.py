"""Routes and displacement: counts by hand, a planted displacement found, quiet data left alone."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis.flows import (
    displacement,
    fdr,
    route_changes,
    route_counts,
    route_matrix,
)


def route_events(spec: dict[tuple[str, str | None, str], list[int]],
                 start: str = "2023-01") -> pd.DataFrame:
    """One event per route and month carrying ``spec[route][i]`` persons."""
    rows = []
    for (nationality, section, country), persons in spec.items():
        for i, p in enumerate(persons):
            when = (pd.Period(start, "M") + i).to_timestamp() + pd.Timedelta(days=14)
            rows.append({"type": "green_border_crossing", "occurred_at": when,
                         "section_id": section, "nationality": nationality,
                         "country": country, "persons_total": p})
    return pd.DataFrame(rows)


def test_counts_per_route_and_month() -> None:
    events = pd.DataFrame([
        {"occurred_at": pd.Timestamp("2025-01-03"), "nationality": "AF",
         "section_id": "AF-TJ-001", "country": "TJ", "persons_total": 3},
        {"occurred_at": pd.Timestamp("2025-01-20"), "nationality": "AF",
         "section_id": "AF-TJ-001", "country": "TJ", "persons_total": 2},
        {"occurred_at": pd.Timestamp("2025-02-01"), "nationality": None,
         "section_id": None, "country": "UZ", "persons_total": 1},
        {"occurred_at": pd.Timestamp("2025-02-01"), "nationality": "TJ",
         "section_id": "KG-TJ-007", "country": "KG", "persons_total": 0},
    ])
    counts = route_counts(events)
    assert counts.to_dict("records") == [
        {"month": pd.Period("2025-01", "M"), "nationality": "AF", "section_id": "AF-TJ-001",
         "area": "TJ", "count": 5.0},
        {"month": pd.Period("2025-02", "M"), "nationality": "XX", "section_id": "inland",
         "area": "UZ", "count": 1.0},
    ]
    by_events = route_counts(events, weight="events", area_column="region")
    assert by_events["count"].tolist() == [2.0, 1.0, 1.0]
    assert set(by_events["area"]) == {"XX"}  # no such column: area unknown
    with pytest.raises(ValueError, match="weight"):
        route_counts(events, weight="kg")


def test_matrix_fills_absent_months_with_zeros() -> None:
    counts = route_counts(route_events({("AF", "S1", "TJ"): [4, 0, 6]}))
    matrix = route_matrix(counts, last="2023-04")
    assert [str(m) for m in matrix.columns] == ["2023-01", "2023-02", "2023-03", "2023-04"]
    assert matrix.to_numpy().tolist() == [[4.0, 0.0, 6.0, 0.0]]


def test_changes_by_hand() -> None:
    counts = route_counts(route_events({("AF", "S1", "TJ"): [10, 10, 10, 2, 3, 5]}))
    changes = route_changes(route_matrix(counts), months=3, compare="previous", dispersion=0.0)
    row = changes.iloc[0]
    assert (row["before"], row["after"]) == (30.0, 10.0)
    ratio = 10.5 / 30.5
    z = abs(math.log(ratio)) / math.sqrt(1 / 10.5 + 1 / 30.5)
    assert row["ratio"] == pytest.approx(ratio)
    assert row["p"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    with pytest.raises(ValueError, match="at least 15 months"):
        route_changes(route_matrix(counts))  # a year back needs 12 + 3 months


def test_benjamini_hochberg() -> None:
    # sorted 0.01, 0.03, 0.04, 0.2 -> x 4/1, 4/2, 4/3, 4/4 = 0.04, 0.06, 0.0533, 0.2, then the
    # running minimum from the largest down
    assert fdr([0.01, 0.04, 0.03, 0.2]).tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3,
                                                                  0.2])
    assert fdr([]).tolist() == []


def planted(seed: int = 3) -> pd.DataFrame:
    """Two years of noisy routes; in the last three months AF moves from S1 to S2."""
    rng = np.random.default_rng(seed)
    months = 27
    season = 1 + 0.4 * np.sin(2 * np.pi * np.arange(months) / 12)
    spec: dict[tuple[str, str | None, str], list[int]] = {}
    for nat, section, area, level in [("AF", "AF-TJ-001", "TJ", 60), ("AF", "AF-TJ-002", "TJ", 15),
                                      ("TJ", "KG-TJ-007", "KG", 40), ("UZ", "TJ-UZ-003", "TJ", 25),
                                      ("AF", None, "RU", 10)]:
        spec[(nat, section, area)] = list(rng.poisson(level * season))
    s1, s2 = spec[("AF", "AF-TJ-001", "TJ")], spec[("AF", "AF-TJ-002", "TJ")]
    for i in range(months - 3, months):
        moved = int(0.7 * s1[i])
        s1[i] -= moved
        s2[i] += moved
    return route_events(spec)


def test_a_planted_displacement_is_found_with_its_effect_sizes() -> None:
    pairs = displacement(route_counts(planted()))
    assert len(pairs) == 1
    pair = pairs.iloc[0]
    assert (pair["from_section"], pair["to_section"]) == ("AF-TJ-001", "AF-TJ-002")
    assert pair["relation"] == "same nationality"
    assert pair["drop"] == pair["from_before"] - pair["from_after"] > 0
    assert pair["rise"] == pair["to_after"] - pair["to_before"] > 0
    assert pair["displaced"] == min(pair["drop"], pair["rise"])
    assert 0.6 < pair["offset_share"] <= 1.0
    assert pair["odds_ratio"] > 5 and pair["pair_p"] < 1e-4
    assert pair["from_q"] < 0.05 and pair["to_q"] < 0.05


def test_neighbouring_sections_are_related_whatever_the_nationality() -> None:
    spec: dict[tuple[str, str | None, str], list[int]] = {
        ("AF", "AF-TJ-001", "TJ"): [50] * 12 + [50, 50, 10],
        ("TJ", "AF-TJ-002", "TJ"): [10] * 12 + [10, 10, 50]}
    counts = route_counts(route_events(spec))
    assert displacement(counts, dispersion=0.0).empty  # not the same nationality
    pairs = displacement(counts, dispersion=0.0,
                         adjacency={"AF-TJ-001": ["AF-TJ-002"], "AF-TJ-002": ["AF-TJ-001"]})
    assert pairs[["from_nationality", "to_nationality", "relation"]].values.tolist() == [
        ["AF", "TJ", "neighbouring section"]]
    # Same windows, month before: 150 -> 110 and 30 -> 70, i.e. 40 moved.
    assert (pairs["drop"].iloc[0], pairs["rise"].iloc[0]) == (40.0, 40.0)
    assert pairs["offset_share"].iloc[0] == 1.0


def test_quiet_routes_and_a_season_give_no_pairs() -> None:
    rng = np.random.default_rng(11)
    season = 1 + 0.6 * np.sin(2 * np.pi * np.arange(36) / 12)
    spec: dict[tuple[str, str | None, str], list[int]] = {
        (nat, f"S{k}", "TJ"): [int(n) for n in rng.poisson(30 * season)]
        for k, nat in enumerate(["AF", "AF", "AF", "TJ", "TJ", "UZ"])}
    counts = route_counts(route_events(spec))
    assert displacement(counts).empty
    assert displacement(counts.iloc[:0]).empty
