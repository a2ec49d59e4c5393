"""Threat per section: magnitude, likelihood and trend against hand-computed figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis.event_table import TYPES, encode
from sitcen.analysis.threat import (
    DEFAULT_TYPE_WEIGHTS,
    ThreatSettings,
    ThreatWeights,
    border_of,
    estimate_dispersion,
    exceed_probability,
    explain_threat,
    monthly_activity,
    seasonal_factors,
    threat_table,
)


def monthly_events(counts: dict[str, list[int]], start: str = "2024-01",
                   type_id: str = "green_border_crossing") -> pd.DataFrame:
    """``counts[section][i]`` events of one type, no persons, in month start + i."""
    rows = []
    for section, per_month in counts.items():
        for i, n in enumerate(per_month):
            t = (pd.Period(start, "M") + i).to_timestamp() + pd.Timedelta(days=3)
            rows += [{"type": type_id, "occurred_at": t, "section_id": section}] * n
    return pd.DataFrame(rows, columns=["type", "occurred_at", "section_id"])


def nb_sf(k: int, mean: float, phi: float) -> float:
    """P(N > k), N negative binomial (variance mean + phi mean²), from its pmf written out."""
    r = 1 / phi
    p = r / (r + mean)
    cdf = sum(math.exp(math.lgamma(j + r) - math.lgamma(r) - math.lgamma(j + 1)
                       + r * math.log(p) + j * math.log(1 - p)) for j in range(k + 1))
    return 1 - cdf


def test_magnitude_adds_type_weights_persons_and_doublings_of_kilograms() -> None:
    t = pd.Timestamp("2025-03-05T10:00:00Z")
    frame = pd.DataFrame([
        {"type": "green_border_crossing", "persons_total": 3, "quantity_kg": 0.0},
        {"type": "green_border_crossing", "persons_total": 3, "quantity_kg": 0.0},
        {"type": "drug_smuggling", "persons_total": 1, "quantity_kg": 7.0},
    ]).assign(occurred_at=t, section_id="KG-TJ-007")
    activity = monthly_activity(frame)
    # 2 x (1 + 0.5 x 3) + (2 + 0.5 x 1 + 1 x log2(1 + 7)) = 5 + 5.5
    assert activity.magnitude.tolist() == [[10.5]]
    assert activity.events.tolist() == [[3.0]]
    assert activity.persons.tolist() == [[7.0]] and activity.kg.tolist() == [[7.0]]
    heavier = ThreatWeights(by_type={"drug_smuggling": 5.0}, per_person=0.0)
    assert monthly_activity(frame, weights=heavier).magnitude.tolist() == [[2 + 5 + 3]]


def test_weights_cover_every_type_and_refuse_nonsense() -> None:
    assert set(DEFAULT_TYPE_WEIGHTS) == set(TYPES)
    assert ThreatWeights().type_weights().tolist() == [DEFAULT_TYPE_WEIGHTS[t] for t in TYPES]
    with pytest.raises(ValueError, match="unknown event types"):
        ThreatWeights(by_type={"alien_landing": 1.0})
    with pytest.raises(ValueError, match="per_person"):
        ThreatWeights(per_person=-1)


def test_activity_reads_only_the_history_and_drops_inland_and_later_events() -> None:
    frame = monthly_events({"A": [1, 2, 3, 4], "B": [0, 0, 0, 1]})
    frame = pd.concat([frame, pd.DataFrame([
        {"type": "lost_person", "occurred_at": pd.Timestamp("2024-02-02"), "section_id": None},
        {"type": "lost_person", "occurred_at": pd.Timestamp("2024-05-02"), "section_id": "A"},
    ])])
    activity = monthly_activity(frame, month="2024-04", history_months=2)
    assert activity.section_ids == ("A", "B")
    assert [str(m) for m in activity.months] == ["2024-03", "2024-04"]
    assert activity.events.tolist() == [[3.0, 4.0], [0.0, 1.0]]
    long = activity.frame()
    assert list(long.columns) == ["section_id", "month", "events", "persons", "quantity_kg",
                                  "magnitude"]
    assert long["events"].sum() == 8


def test_history_starts_with_the_first_month_that_has_data() -> None:
    activity = monthly_activity(monthly_events({"A": [5, 5]}), month="2024-02")
    assert activity.events.shape == (1, 2)  # not 36 months with 34 invented zeros


def test_seasonal_factors_pool_a_border_and_shrink_towards_one() -> None:
    # 24 months: 10 events a month from January to June, 30 from July to December.
    pattern = [10] * 6 + [30] * 6
    activity = monthly_activity(monthly_events({"KG-TJ-001": pattern * 2}))
    factors = seasonal_factors(activity)
    # (10 + 5) / (20 + 5) and (30 + 5) / (20 + 5)
    np.testing.assert_allclose(factors[0], [0.6] * 6 + [1.4] * 6)
    short = monthly_activity(monthly_events({"KG-TJ-001": pattern}))
    assert seasonal_factors(short).tolist() == [[1.0] * 12]  # 12 months: no season yet


def test_dispersion_by_moments() -> None:
    counts = np.array([[2.0, 4.0, 6.0, 8.0]])
    # mean 5, variance 20/3: (20/3 - 5) / 25
    assert estimate_dispersion(counts, np.ones_like(counts)) == pytest.approx(1 / 15)
    assert estimate_dispersion(np.array([[5.0, 5.0, 5.0]]), np.ones((1, 3))) == 0.0


def test_likelihood_is_a_negative_binomial_tail_with_the_level_uncertainty() -> None:
    # Level 5.1667 from three months (4 + 6 + 5 + 0.5 prior) / 3; phi = 0, so the only
    # spread is the level's: c = (1 / 5.1667) / 3, the NB phi' = c.
    level = 15.5 / 3
    got = exceed_probability([level], [8], 0.0, level_months=3, level=[level])[0]
    assert got == pytest.approx(nb_sf(8, level, (1 / level) / 3), rel=1e-9)
    # With a month-to-month dispersion the tail is heavier.
    wider = exceed_probability([level], [8], 0.2, level_months=3, level=[level])[0]
    c = (1 / level + 0.2) / 3
    assert wider == pytest.approx(nb_sf(8, level, (1.2) * (1 + c) - 1), rel=1e-9)
    assert wider > got
    assert exceed_probability([0.0], [0], 0.0, level_months=3, level=[0.0]).tolist() == [0.0]


def test_threat_of_a_steady_and_a_rising_section() -> None:
    frame = monthly_events({"A": [5, 5, 5, 5, 5, 5], "B": [2, 3, 5, 10, 10, 10]})
    table = threat_table(frame, settings=ThreatSettings(dispersion=0.0, threshold=8))
    a, b = table.loc["A"], table.loc["B"]
    assert isinstance(a, pd.Series) and isinstance(b, pd.Series)  # one row each
    assert (a["events"], b["events"]) == (15, 30)
    assert (a["magnitude"], b["magnitude"]) == (5.0, 10.0)
    # Reference = median of the active sections' magnitudes = 7.5.
    assert a["magnitude_norm"] == pytest.approx(5 / 12.5)
    assert b["magnitude_norm"] == pytest.approx(10 / 17.5)
    assert b["expected_next"] == pytest.approx(30.5 / 3)
    assert a["likelihood"] == pytest.approx(nb_sf(8, 15.5 / 3, (3 / 15.5) / 3), rel=1e-9)
    # Trend: (30 + 0.5) / (10 + 0.5), se = sqrt(1/30.5 + 1/10.5), two-sided normal p.
    ratio = 30.5 / 10.5
    z = math.log(ratio) / math.sqrt(1 / 30.5 + 1 / 10.5)
    assert b["trend_ratio"] == pytest.approx(ratio)
    assert b["trend_p"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-9)
    assert b["trend"] == "up" and a["trend"] == "flat" and a["trend_ratio"] == 1.0
    assert a["threat"] == pytest.approx(0.5 * a["magnitude_norm"] + 0.5 * a["likelihood"])
    assert table.attrs["month"] == "2024-06" and table.attrs["dispersion"] == 0.0
    assert "rising" in explain_threat(b) and "no significant change" in explain_threat(a)


def test_default_threshold_is_the_upper_quartile_of_section_months() -> None:
    frame = monthly_events({"A": [1, 2, 3, 4], "B": [5, 6, 7, 8]})
    table = threat_table(frame)
    assert table["threshold"].tolist() == [6.0, 6.0]  # np.quantile of 1..8 at 0.75 = 6.25
    per_section = ThreatSettings(threshold={"A": 2, "B": 9})
    assert threat_table(frame, settings=per_section)["threshold"].tolist() == [2.0, 9.0]
    with pytest.raises(ValueError, match="no value for sections"):
        threat_table(frame, settings=ThreatSettings(threshold={"A": 2}))


def test_a_short_history_has_no_trend() -> None:
    table = threat_table(monthly_events({"A": [3, 4]}))
    assert table.loc["A", "trend"] == "n/a" and table["trend_ratio"].isna()["A"]


def test_no_events_with_a_month_gives_quiet_sections_and_without_one_an_error() -> None:
    empty = monthly_events({})
    table = threat_table(empty, section_ids=["A", "B"], month="2025-01")
    assert table["events"].tolist() == [0, 0]
    assert table["magnitude_norm"].tolist() == [0.0, 0.0]
    # Only the half-event prior speaks: P(N > 1) for a mean of 0.5 with phi' = 1/0.5.
    assert table["likelihood"].tolist() == pytest.approx([nb_sf(1, 0.5, 2.0)] * 2)
    with pytest.raises(ValueError, match="give the month"):
        threat_table(empty)


def test_the_season_is_taken_out_of_the_trend_and_put_into_the_forecast() -> None:
    # Two years of a summer peak; the last three months (Oct-Dec) fall as every year.
    pattern = [10] * 6 + [30] * 6
    frame = monthly_events({"KG-TJ-001": pattern * 2 + [10, 10, 10]}, start="2023-01")
    table = threat_table(frame, month="2025-03")
    row = table.loc["KG-TJ-001"]
    assert row["trend"] == "flat"
    # Expected for April: the level of Jan-Mar divided by their factor, times April's.
    activity = monthly_activity(frame, month="2025-03")
    factors = seasonal_factors(activity)[0]
    assert row["expected_next"] == pytest.approx(30.5 / factors[:3].sum() * factors[3])


def test_border_of_a_section_id() -> None:
    assert border_of("KG-TJ-007") == "KG-TJ"
    assert border_of("custom") == "custom"


def test_encoded_events_are_reused_as_they_are() -> None:
    enc = encode(monthly_events({"A": [1, 2]}))
    assert monthly_activity(enc).events.tolist() == [[1.0, 2.0]]
    with pytest.raises(ValueError, match="encoded for other sections"):
        monthly_activity(enc, section_ids=["B"])
