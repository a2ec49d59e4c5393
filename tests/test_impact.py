"""Impact per event and per section against hand-computed scores."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis.event_table import TYPES, encode
from sitcen.analysis.impact import (
    DEFAULT_SEVERITY,
    ImpactSettings,
    ImpactWeights,
    event_impact,
    impact_label,
    impact_scores,
    section_impact,
)

T0 = pd.Timestamp("2025-03-10T00:00:00Z")


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"occurred_at": T0, "section_id": "A", **r} for r in rows])


def test_each_term_of_the_event_score() -> None:
    events = frame(
        {"type": "green_border_crossing", "persons_total": 3, "impact_level": "low"},
        {"type": "armed_incident", "violence": True, "killed": 1, "injured": 2,
         "impact_level": "high"},
        {"type": "drug_smuggling", "persons_total": 1, "quantity_kg": 15.0},
        {"type": "damaged_border_sign"},
        {"type": "lost_person", "persons_total": 1, "minors": 1},
        {"type": "suspicious_person", "persons_total": 1, "impact_level": "very_high"},
    )
    table = event_impact(events)
    expected = [
        1 + 0.5 * 2,  # 1 + 0.5 log2(1 + 3)
        4.0,  # 3 + 1 (violence) + 1 log2(1 + 3) = 6, capped at 4
        2 + 0.5 * 1 + 0.25 * 4,  # + 0.25 log2(1 + 15)
        0.5,
        1.5 + 0.5 * math.log2(3),  # a child counts twice: log2(1 + 1 + 1)
        4.0,  # 1 + 0.5 computed, raised to the reported very_high
    ]
    assert table["impact"].tolist() == pytest.approx(expected)
    assert table["impact_level"].tolist() == ["medium", "very_high", "very_high", "low",
                                              "medium", "very_high"]
    assert table.loc[1, "casualty_term"] == 2.0 and table.loc[1, "violence_term"] == 1.0
    assert table.loc[2, "seizure_term"] == 1.0
    assert table.loc[5, "reported_floor"] == 4.0 and table.loc[3, "reported_floor"] == 0.0


def test_the_reported_level_floor_can_be_switched_off() -> None:
    events = frame({"type": "suspicious_person", "impact_level": "high"})
    assert event_impact(events)["impact"].tolist() == [3.0]
    weights = ImpactWeights(reported_level_floor=False)
    assert event_impact(events, weights)["impact"].tolist() == [1.0]


def test_severities_cover_every_type_and_can_be_overridden() -> None:
    assert set(DEFAULT_SEVERITY) == set(TYPES)
    weights = ImpactWeights(severity={"epidemic": 3.0})
    assert weights.severities()[TYPES.index("epidemic")] == 3.0
    with pytest.raises(ValueError, match="unknown event types"):
        ImpactWeights(severity={"meteor": 1.0})
    with pytest.raises(ValueError, match="violence"):
        ImpactWeights(violence=float("nan"))


def test_labels_follow_the_bounds() -> None:
    assert impact_label([0.0, 1.49, 1.5, 2.49, 2.5, 3.49, 3.5, 4.0]).tolist() == [
        "low", "low", "medium", "medium", "high", "high", "very_high", "very_high"]


def test_section_impact_is_a_mean_shrunk_towards_all_sections() -> None:
    events = pd.DataFrame([
        {"type": "green_border_crossing", "persons_total": 3, "section_id": "A"},  # 2.0
        {"type": "armed_incident", "violence": True, "killed": 3, "section_id": "A"},  # 4.0
        {"type": "suspicious_person", "persons_total": 0, "section_id": "B"},  # 1.0
        {"type": "suspicious_person", "persons_total": 0, "section_id": "B"},  # 1.0
        {"type": "suspicious_person", "persons_total": 0, "section_id": None},  # inland
    ]).assign(occurred_at=T0)
    table = section_impact(events, section_ids=["A", "B", "C"])
    assert table.attrs["overall_mean"] == 2.0  # (2 + 4 + 1 + 1) / 4
    assert table["events"].tolist() == [2, 2, 0]
    assert table["mean_impact"].iloc[:2].tolist() == [3.0, 1.0]
    assert np.isnan(table["mean_impact"].iloc[2])
    # (sum + 10 x 2.0) / (n + 10)
    assert table["impact"].tolist() == pytest.approx([26 / 12, 22 / 12, 2.0])
    assert table["impact_norm"].tolist() == pytest.approx([(26 / 12 - 1) / 3,
                                                          (22 / 12 - 1) / 3, 1 / 3])
    assert table["max_impact"].tolist() == [4.0, 1.0, 0.0]
    assert table["high_events"].tolist() == [1, 0, 0]
    assert table["violent_events"].tolist() == [1, 0, 0]
    assert table["casualties"].tolist() == [3, 0, 0]
    unshrunk = section_impact(events, section_ids=["A", "B"],
                              settings=ImpactSettings(prior_events=0))
    assert unshrunk["impact"].tolist() == [3.0, 1.0]


def test_section_impact_reads_only_its_window() -> None:
    events = pd.DataFrame([
        {"type": "weapons_smuggling", "occurred_at": pd.Timestamp("2023-01-05"),
         "section_id": "A"},
        {"type": "damaged_border_sign", "occurred_at": pd.Timestamp("2025-01-05"),
         "section_id": "A"},
    ])
    table = section_impact(events, month="2025-01",
                           settings=ImpactSettings(months=12, prior_events=0))
    assert table["events"].tolist() == [1] and table["impact"].tolist() == [0.5]


def test_the_fast_path_equals_scoring_every_event_in_full() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    events = pd.DataFrame({
        "type": rng.choice(TYPES, n),
        "occurred_at": rng.integers(0, 400, n) * 86_400 * 1_000_000,
        "section_id": rng.choice(np.array(["A", "B", "C", None], dtype=object), n),
        "impact_level": rng.choice(np.array(["low", "medium", "high", "very_high", None],
                                            dtype=object), n),
        "persons_total": rng.poisson(2, n),
        "minors": rng.poisson(0.2, n),
        "quantity_kg": np.where(rng.random(n) < 0.2, rng.lognormal(1, 2, n), 0.0),
        "violence": rng.random(n) < 0.05,
        "killed": rng.poisson(0.05, n),
        "injured": rng.poisson(0.05, n),
    })
    table = section_impact(events, section_ids=["A", "B", "C"], month="1971-01",
                           settings=ImpactSettings(months=12, prior_events=0))
    enc = encode(events, ["A", "B", "C"])
    scores = impact_scores(enc)
    last = pd.Period("1971-01", "M").ordinal  # the data run on to 1971-02: later is left out
    in_window = (enc.month > last - 12) & (enc.month <= last) & (enc.section >= 0)
    for k, sid in enumerate(["A", "B", "C"]):
        mine = scores[in_window & (enc.section == k)]
        assert table.loc[sid, "mean_impact"] == pytest.approx(mine.mean())
        assert table.loc[sid, "max_impact"] == mine.max()
        assert table.loc[sid, "high_events"] == (mine >= 2.5).sum()


def test_no_events_in_the_window() -> None:
    events = frame({"type": "lost_person"}).iloc[:0]
    table = section_impact(events, section_ids=["A"], month="2025-01")
    assert table["events"].tolist() == [0] and table["impact"].tolist() == [1.0]
    with pytest.raises(ValueError, match="give the month"):
        section_impact(events)
