"""Strategic analysis of monthly counts: decomposition, trend, forecasts with intervals.

All functions take a monthly count series (a ``pd.Series`` with a complete
monthly ``PeriodIndex``, as :func:`sitcen.analysis.indicators.monthly_series`
returns) and return plain values or data frames; nothing here does I/O.

Counts of detections are skewed, spiky and often zero, so every model works on
``log1p(count)``: a doubling is the same step whether it is 10 -> 20 or
1,000 -> 2,000, and zeros stay defined. Forecasts are turned back with
``expm1`` (which gives the median, not the mean, of the forecast distribution)
and are never negative. ``docs/forecasting.md`` explains the methods in plain
words with a worked example.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

PERIOD = 12
MIN_SEASONAL = 2 * PERIOD  # months needed before a seasonal pattern is estimated
MIN_EMPIRICAL_ERRORS = 24  # past h-step errors needed for empirical interval quantiles
# Smoothing weights tried. The floor of 0.3 keeps the level responsive: migration
# series shift level abruptly (a route opens or closes), and a slow level lags for months.
_ALPHAS = np.round(np.arange(0.3, 1.0001, 0.05), 2)
# Past errors are in-sample (the weight and the season were fitted on the same
# months), so they understate future errors; intervals are widened by this one
# global factor, chosen on the pooled back-test of all routes (docs/forecasting.md).
INTERVAL_WIDENING = 1.3

FloatArray = NDArray[np.float64]


def _checked(series: pd.Series, minimum: int = 1) -> pd.Series:
    """The series as float counts on a complete monthly PeriodIndex, or a clear ValueError."""
    index = series.index
    if isinstance(index, pd.DatetimeIndex):
        index = index.to_period("M")
    if not isinstance(index, pd.PeriodIndex) or index.freqstr not in ("M", "ME"):
        raise ValueError("the series needs a monthly PeriodIndex (or a DatetimeIndex of months)")
    if len(series) < minimum:
        raise ValueError(f"the series has {len(series)} months; at least {minimum} are needed")
    if len(index) and not index.equals(pd.period_range(index[0], periods=len(index), freq="M")):
        raise ValueError("the months must be complete and in order (fill absent months with 0)")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("the series has missing or non-numeric values")
    if (values < 0).any():
        raise ValueError("counts must not be negative")
    return pd.Series(values, index=index, name=series.name)


# --- decomposition -----------------------------------------------------------


def decompose(series: pd.Series) -> pd.DataFrame:
    """Split ``log1p(series)`` into trend, seasonal and remainder with robust STL.

    Returns a frame on the series' index with columns ``observed`` (log1p of the
    counts), ``trend``, ``seasonal`` and ``remainder``; observed = trend +
    seasonal + remainder. ``exp(seasonal)`` reads as a month's factor against
    the trend (1.3 = 30 % above). Needs at least 24 months.
    """
    checked = _checked(series, MIN_SEASONAL)
    observed = np.log1p(checked.to_numpy())
    trend, seasonal = _stl(observed)
    return pd.DataFrame(
        {"observed": observed, "trend": trend, "seasonal": seasonal,
         "remainder": observed - trend - seasonal},
        index=checked.index,
    )


def _stl(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    from statsmodels.tsa.seasonal import STL

    if np.ptp(values) == 0:  # STL's robustness weights are undefined on a flat line
        return values.copy(), np.zeros_like(values)
    with warnings.catch_warnings():
        # STL itself does not warn today; a future statsmodels warning must not
        # escape into callers that treat warnings as errors.
        warnings.simplefilter("ignore")
        result = STL(values, period=PERIOD, robust=True).fit()
    return np.asarray(result.trend, dtype=float), np.asarray(result.seasonal, dtype=float)


def seasonal_strength(series: pd.Series) -> float:
    """How much of the detrended variation is seasonal, 0 (none) to 1 (all).

    ``max(0, 1 - var(remainder) / var(seasonal + remainder))`` on the
    decomposition of :func:`decompose` (Wang, Smith and Hyndman 2006).
    """
    parts = decompose(series)
    return _strength(parts["seasonal"].to_numpy(), parts["remainder"].to_numpy())


def _strength(seasonal: FloatArray, remainder: FloatArray) -> float:
    total = float(np.var(seasonal + remainder))
    if total <= 1e-12:
        return 0.0
    return float(max(0.0, 1.0 - float(np.var(remainder)) / total))


# --- trend -------------------------------------------------------------------


@dataclass(frozen=True)
class TrendSummary:
    """The last 12 months against the 12 before them.

    ``change`` and ``change_pct`` compare the two yearly totals; ``p_value`` is
    from an exact paired sign-flip test of the 12 month-by-month differences of
    ``log1p`` counts (January with January, ...), so the season cancels out and
    one spiky month cannot make a change look certain.
    """

    last_12: float
    previous_12: float
    change: float
    change_pct: float | None
    direction: str  # "up" | "down" | "flat"
    p_value: float
    note: str


def trend_summary(series: pd.Series, alpha: float = 0.05) -> TrendSummary:
    """Direction and size of the last 12 months against the previous 12 (needs 24 months)."""
    checked = _checked(series, MIN_SEASONAL).to_numpy()
    last, previous = checked[-PERIOD:], checked[-2 * PERIOD:-PERIOD]
    last_total, previous_total = float(last.sum()), float(previous.sum())
    change = last_total - previous_total
    change_pct = 100.0 * change / previous_total if previous_total > 0 else None
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    p_value = _paired_sign_flip_p(np.log1p(last) - np.log1p(previous))
    size = f"{change_pct:+.0f} %" if change_pct is not None else f"{change:+.0f} (from zero)"
    if direction == "flat":
        note = "no change between the two years"
    elif p_value <= alpha:
        note = (f"{direction} {size}; significant at {alpha:g} "
                f"(paired month-by-month test, p = {p_value:.3f})")
    else:
        note = (f"{direction} {size}; not significant at {alpha:g}: could be noise "
                f"(paired month-by-month test, p = {p_value:.3f})")
    return TrendSummary(last_total, previous_total, change, change_pct, direction, p_value, note)


def _paired_sign_flip_p(differences: FloatArray) -> float:
    """Two-sided exact p-value of mean(differences) == 0 under random signs (2^n patterns)."""
    n = len(differences)
    observed = abs(float(differences.mean()))
    if observed == 0.0:
        return 1.0
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    means = np.abs(signs @ differences) / n
    return float(np.mean(means >= observed - 1e-12))


# --- forecast ----------------------------------------------------------------


def forecast(
    series: pd.Series, horizon: int = 6, levels: Sequence[float] = (0.8, 0.95)
) -> pd.DataFrame:
    """Forecast the next ``horizon`` months with prediction intervals.

    Method (on ``log1p`` counts): the seasonal pattern of the last year of a
    robust STL decomposition, shrunk by the seasonal strength (a weak, noisy
    pattern counts for little), is removed; the seasonally adjusted series is
    smoothed exponentially with the smoothing weight that best predicted its
    own past one month ahead; the forecast is the last smoothed level plus the
    pattern of the forecast month. Intervals come from the method's own past
    errors at each horizon (empirical quantiles once there are
    ``MIN_EMPIRICAL_ERRORS`` of them, a widened normal approximation before).
    Series shorter than 24 months get no seasonal pattern.

    Returns one row per future month (``PeriodIndex``) with ``horizon`` (1..),
    ``forecast`` and ``lower_<p>``/``upper_<p>`` per level (``lower_80``,
    ``upper_95``, ...); ``attrs["method"]`` says which variant ran.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"interval level {level} must be between 0 and 1")
    checked = _checked(series, 1)
    z = np.log1p(checked.to_numpy())
    n = len(z)

    if n >= MIN_SEASONAL:
        trend, seasonal = _stl(z)
        strength = _strength(seasonal, z - trend - seasonal)
        seasonal = strength * seasonal
        method = f"seasonal exponential smoothing on log1p (seasonal strength {strength:.2f})"
    else:
        seasonal = np.zeros(n)
        method = "exponential smoothing on log1p, no season (fewer than 24 months)"
    # The pattern ahead repeats the last estimated year.
    future_seasonal = np.array([seasonal[n - PERIOD + (h - 1) % PERIOD] if n >= MIN_SEASONAL
                                else 0.0 for h in range(1, horizon + 1)])
    adjusted = z - seasonal
    alpha, levels_path = _fit_smoothing(adjusted)
    point_log = levels_path[-1] + future_seasonal

    errors = _past_errors(adjusted, levels_path, horizon)
    index = pd.period_range(checked.index[-1] + 1, periods=horizon, freq="M", name="month")
    frame = pd.DataFrame({"horizon": np.arange(1, horizon + 1)}, index=index)
    frame["forecast"] = np.maximum(np.expm1(point_log), 0.0)
    for level in levels:
        lower, upper = _interval_offsets(errors, level, alpha)
        name = _level_name(level)
        frame[f"lower_{name}"] = np.maximum(np.expm1(point_log + lower), 0.0)
        frame[f"upper_{name}"] = np.maximum(np.expm1(point_log + upper), 0.0)
    frame.attrs["method"] = f"{method}, smoothing weight {alpha:.2f}"
    return frame


def _level_name(level: float) -> str:
    return f"{level * 100:g}"


def _smooth(values: FloatArray, alpha: float) -> FloatArray:
    """Simple exponential smoothing levels; level[t] uses values up to t."""
    out = np.empty_like(values)
    level = values[0]
    for t, value in enumerate(values):
        level = level + alpha * (value - level) if t else value
        out[t] = level
    return out


def _fit_smoothing(values: FloatArray) -> tuple[float, FloatArray]:
    """The smoothing weight with the smallest one-step-ahead absolute error (grid search)."""
    if len(values) < 3:
        return 1.0, values.copy()
    best_alpha, best_path, best_error = 1.0, values.copy(), np.inf
    for alpha in _ALPHAS:
        path = _smooth(values, float(alpha))
        error = float(np.mean(np.abs(values[1:] - path[:-1])))
        if error < best_error - 1e-12:
            best_alpha, best_path, best_error = float(alpha), path, error
    return best_alpha, best_path


def _past_errors(adjusted: FloatArray, levels_path: FloatArray, horizon: int) -> list[FloatArray]:
    """Per horizon h, the errors adjusted[t + h] - level[t] the method made in the past."""
    n = len(adjusted)
    return [adjusted[h:] - levels_path[: n - h] if n > h else np.zeros(0)
            for h in range(1, horizon + 1)]


def _interval_offsets(
    errors: list[FloatArray], level: float, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper log-scale offsets around the point forecast for each horizon."""
    from scipy.stats import norm

    tail = (1.0 - level) / 2.0
    one_step = errors[0]
    sigma1 = float(np.sqrt(np.mean(one_step**2))) if len(one_step) else 0.0
    lower = np.zeros(len(errors))
    upper = np.zeros(len(errors))
    for i, err in enumerate(errors):
        h = i + 1
        if len(err) >= MIN_EMPIRICAL_ERRORS:
            lower[i] = float(np.quantile(err, tail))
            upper[i] = float(np.quantile(err, 1.0 - tail))
        else:
            # Too few past errors: a normal approximation that grows like the
            # smoothing model's variance, widened by 1.5 for the short history.
            spread = sigma1 * np.sqrt(1.0 + (h - 1) * alpha**2) * 1.5
            z = float(norm.ppf(1.0 - tail))
            lower[i], upper[i] = -z * spread, z * spread
    lower = np.minimum(lower, 0.0) * INTERVAL_WIDENING
    upper = np.maximum(upper, 0.0) * INTERVAL_WIDENING
    # Uncertainty does not shrink with the horizon.
    return np.minimum.accumulate(lower), np.maximum.accumulate(upper)
