"""Decomposition, trend and forecasts of monthly counts against hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitcen.analysis.forecast import decompose, forecast, seasonal_strength, trend_summary

PATTERN = np.array([10, 12, 20, 40, 80, 150, 200, 180, 120, 60, 25, 12], dtype=float)


def monthly(values: np.ndarray | list[float], start: str = "2015-01") -> pd.Series:
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"))


def noisy_counts(months: int = 72, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    mean = np.tile(PATTERN, months // 12 + 1)[:months] * np.exp(np.linspace(0, 1, months))
    return monthly(rng.negative_binomial(5, 5 / (5 + mean)).astype(float))


BOUNDS = ["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]  # in nesting order


def test_a_pure_seasonal_series_is_forecast_by_its_pattern() -> None:
    series = monthly(np.tile(PATTERN, 4))  # 2015-01 .. 2018-12
    result = forecast(series, horizon=6)
    assert list(result.index.astype(str)) == [f"2019-0{m}" for m in range(1, 7)]
    np.testing.assert_allclose(result["forecast"], PATTERN[:6], rtol=0.02)
    assert seasonal_strength(series) > 0.99


def test_a_constant_series_gives_a_flat_forecast_with_narrow_intervals() -> None:
    result = forecast(monthly([50.0] * 36), horizon=6)
    np.testing.assert_allclose(result["forecast"], 50.0)
    assert ((result["upper_95"] - result["lower_95"]) < 1.0).all()


def test_a_series_of_zeros_forecasts_zeros() -> None:
    result = forecast(monthly([0.0] * 30), horizon=3)
    assert (result[BOUNDS] == 0.0).all().all()


def test_intervals_nest_are_non_negative_and_have_the_horizon_length() -> None:
    result = forecast(noisy_counts(), horizon=6)
    assert len(result) == 6
    assert list(result["horizon"]) == [1, 2, 3, 4, 5, 6]
    values = result[BOUNDS].to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()  # 95 ⊃ 80 ⊃ point
    assert (result["upper_95"] > result["lower_95"]).all()


def test_the_forecast_is_deterministic() -> None:
    series = noisy_counts(seed=7)
    pd.testing.assert_frame_equal(forecast(series), forecast(series))


def test_a_14_month_series_falls_back_to_a_non_seasonal_forecast() -> None:
    series = monthly([30, 35, 28, 40, 33, 31, 36, 29, 34, 38, 32, 30, 35, 33])
    result = forecast(series, horizon=6)
    assert "no season" in result.attrs["method"]
    assert len(result) == 6
    # A flat level near the recent values, with honest (non-zero) width.
    assert result["forecast"].nunique() == 1
    assert 28 <= result["forecast"].iloc[0] <= 38
    assert (result["upper_80"] > result["lower_80"]).all()
    assert (result["upper_95"] - result["lower_95"]).iloc[-1] >= (
        result["upper_95"] - result["lower_95"]).iloc[0]


def test_a_one_month_series_still_answers() -> None:
    result = forecast(monthly([5.0]), horizon=2)
    assert list(result["forecast"]) == [5.0, 5.0]


def test_custom_levels_name_their_columns() -> None:
    result = forecast(noisy_counts(), horizon=1, levels=(0.5, 0.975))
    assert {"lower_50", "upper_50", "lower_97.5", "upper_97.5"} <= set(result.columns)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (pd.Series([1.0, 2.0], index=[0, 1]), "monthly PeriodIndex"),
        (monthly([1.0, -2.0]), "negative"),
        (monthly([1.0, np.nan]), "missing"),
        (pd.Series([1.0, 2.0], index=pd.PeriodIndex(["2020-01", "2020-03"], freq="M")),
         "complete"),
    ],
)
def test_bad_series_are_refused_with_a_reason(series: pd.Series, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast(series)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="horizon"):
        forecast(noisy_counts(), horizon=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        forecast(noisy_counts(), levels=(80,))


def test_a_datetime_index_of_months_is_accepted() -> None:
    series = noisy_counts()
    assert isinstance(series.index, pd.PeriodIndex)
    as_dates = pd.Series(series.to_numpy(), index=series.index.to_timestamp())
    pd.testing.assert_frame_equal(forecast(as_dates), forecast(series))


def test_decomposition_recovers_a_known_trend_and_season() -> None:
    months = 96
    t = np.arange(months)
    true_trend = 3.0 + 0.02 * t
    true_season = 0.5 * np.sin(2 * np.pi * t / 12)
    series = monthly(np.expm1(true_trend + true_season))
    parts = decompose(series)
    assert list(parts.columns) == ["observed", "trend", "seasonal", "remainder"]
    np.testing.assert_allclose(parts["observed"], true_trend + true_season, atol=1e-9)
    np.testing.assert_allclose(parts["seasonal"], true_season, atol=0.03)
    np.testing.assert_allclose(parts["trend"], true_trend, atol=0.03)
    assert np.abs(parts["remainder"]).max() < 0.03
    np.testing.assert_allclose(parts.sum(axis=1) - 2 * parts["observed"], 0.0, atol=1e-9)


def test_decomposition_needs_two_years() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        decompose(monthly([1.0] * 23))


def test_trend_summary_of_a_doubling() -> None:
    summary = trend_summary(monthly([10.0] * 12 + [20.0] * 12))
    assert (summary.previous_12, summary.last_12) == (120.0, 240.0)
    assert summary.direction == "up"
    assert summary.change_pct == pytest.approx(100.0)
    # All 12 paired differences are positive: only 2 of 2^12 sign patterns are as extreme.
    assert summary.p_value == pytest.approx(2 / 4096)
    assert "significant" in summary.note and "not significant" not in summary.note


def test_trend_summary_of_noise_is_not_significant() -> None:
    values = [10.0, 12.0] * 6 + [12.0, 10.0] * 6  # same total, signs of changes alternate
    summary = trend_summary(monthly(values))
    assert summary.direction == "flat"
    assert summary.p_value == 1.0
    one_spike = trend_summary(monthly([10.0] * 12 + [10.0] * 11 + [200.0]))
    assert one_spike.direction == "up"
    assert one_spike.p_value > 0.05
    assert "not significant" in one_spike.note


def test_trend_summary_from_zero() -> None:
    summary = trend_summary(monthly([0.0] * 12 + [1.0] * 12))
    assert summary.change_pct is None
    assert "from zero" in summary.note


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=40))
def test_any_count_series_gets_nested_non_negative_bounds(counts: list[int]) -> None:
    result = forecast(monthly(np.array(counts, dtype=float)), horizon=3)
    values = result[BOUNDS].to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= -1e-9).all()
