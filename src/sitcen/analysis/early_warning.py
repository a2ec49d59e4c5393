"""Tactical early warning: negative-binomial charts of daily counts per border section.

Every border section is watched at two levels: its four event **categories**
and its eighteen event **types** (a surge of one type can be lost in the
count of its category). For every (section, category or type) series of daily
counts the chart computes, each day:

1. an **expected count** from the series' own recent past (a trailing window
   that ends a week before the day, so that a starting surge does not raise
   its own baseline), shrunk towards the series' long-run rate when the window
   holds few events, times a **seasonal ratio** learnt from the same time of
   year in earlier years;
2. the **law of the day's count** around it: a negative binomial whose
   dispersion adds the series' day-to-day overdispersion (pooled over all
   sections) and the uncertainty of an expected count estimated from few
   events (a Gamma-Poisson predictive law);
3. two tests on that law: a one-sided **CUSUM** of the log-likelihood ratio
   "the mean is ``k`` times the expected" (for surges that build up over days),
   with its threshold set from the in-control average run length (ARL0) by a
   Markov chain (Brook and Evans); and a **spike** test, the upper-tail
   probability of the day's count alone (for a sharp jump, caught on its first
   day).

The false-alarm budget (:class:`WarningSettings`) is stated per section and
year and split between the levels and the tests: a section with 18 type
series watches each of them 18 times more strictly than one series alone would
need. Everything on day ``t`` uses counts up to ``t`` only, so a run over a
whole history gives the same answer as running it day after day. Alarms are
turned into alerts by :mod:`sitcen.analysis.alerts`. The count law and the
CUSUM's run lengths and thresholds are in
:mod:`sitcen.analysis.negative_binomial`. See docs/early-warning.md for the
formulas, a worked example and measured figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from sitcen.analysis.negative_binomial import (
    F64,
    I64,
    MU_GRID,
    PHI_GRID,
    llr_terms,
    tail_probability,
    thresholds,
)
from sitcen.taxonomy import EVENT_TYPES, Category, category_of

Bool = npt.NDArray[np.bool_]
Level = Literal["category", "type"]
_DAY_US = 86_400 * 1_000_000
YEAR_DAYS = 365.25


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class BaselineSettings:
    """How the expected count is estimated (see :func:`baseline`)."""

    window_days: int = 56  # trailing baseline window
    guard_days: int = 7  # days between the baseline window and the day charted
    min_history_days: int = 21  # no chart before the window holds this many days
    season_half_width: int = 14  # +- days around the same date in earlier years
    season_years: int = 2  # at most this many earlier years feed the seasonal ratio
    season_pseudo: float = 10.0  # pseudo-events shrinking the seasonal ratio towards 1
    prior_events: float = 1.0  # weight, in events, of the long-run rate in the window mean
    max_dispersion: float = 5.0  # cap of the pooled day-to-day dispersion


@dataclass(frozen=True)
class ChartSettings:
    """The tests run on one level of series (categories or types).

    ``arl0_days``: wanted mean days between false CUSUM alarms on one series
    (``inf``: no CUSUM). ``spike_alpha``: a day alarms when the chance of its
    count or more under the usual pattern is below it (0: no spike test).
    ``spike_guard_days``: the spike test's own baseline guard (a one-day test
    needs no week of it). ``spike_shared``: a section's series share their
    ``spike_alpha`` (times the series per section) by the chances each can
    actually have (:func:`spike_levels`) instead of each using its own.
    ``min_events``: like the Farrington rule of public-health
    surveillance (no alarm on fewer than 5 cases in 4 weeks), a warning about
    one or two events in a quiet series is not worth an officer's time, however
    unlikely.
    """

    shift: float = 2.0  # k: the CUSUM looks for the mean rising to k times the expected
    arl0_days: float = 1460.0
    spike_alpha: float = 0.0
    min_events: int = 3  # an alarm starts only with this many events in the last ...
    min_events_days: int = 7  # ... days, the day itself included, and one on the day
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    spike_guard_days: int | None = None  # guard of the spike test's baseline (None: baseline's)
    spike_shared: bool = False  # a section's series share their spike levels (see spike_levels)

    @property
    def spike_guard(self) -> int:
        """Days between the spike test's baseline window and the day charted."""
        return self.baseline.guard_days if self.spike_guard_days is None else self.spike_guard_days


@dataclass(frozen=True)
class WarningSettings:
    """One false-alarm budget per section-year, split between the levels and tests.

    ``false_alarms_per_section_year`` is the *nominal* budget: the sum over
    every series of a section of its tests' in-control alarm rates. Each share
    goes to one test on one level and is divided evenly between the series a
    section has at that level (4 categories, 18 types). Discrete, sparse counts
    cannot use all of their share (a series with one event a year cannot alarm
    on "0.3 events"), while a dense series' CUSUM alarms more often than
    nominal (its estimated baseline is off by the same amount for weeks). The
    default budget of 4 is the one whose measured rate of false *alerts* on
    in-control synthetic data is about 0.75 per section-year
    (docs/early-warning.md, "Calibration").
    """

    false_alarms_per_section_year: float = 4.0
    category_cusum_share: float = 0.2
    type_cusum_share: float = 0.5
    type_spike_share: float = 0.3
    category_spike_share: float = 0.0
    category_shift: float = 2.0
    type_shift: float = 3.0
    min_events: int = 3
    min_events_days: int = 7
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    spike_guard_days: int | None = None
    spike_shared: bool = False

    def chart_settings(self, level: Level, series_per_section: int) -> ChartSettings:
        """The ARL0 and spike level of one series, from its share of the budget."""

        def per_series_year(share: float) -> float:
            return share * self.false_alarms_per_section_year / series_per_section

        def arl0(share: float) -> float:
            rate = per_series_year(share)
            return YEAR_DAYS / rate if rate > 0 else math.inf

        shift, cusum, spike = ((self.category_shift, self.category_cusum_share,
                                self.category_spike_share) if level == "category" else
                               (self.type_shift, self.type_cusum_share, self.type_spike_share))
        return ChartSettings(shift, arl0(cusum), per_series_year(spike) / YEAR_DAYS,
                             self.min_events, self.min_events_days, self.baseline,
                             self.spike_guard_days, self.spike_shared)


# ----------------------------------------------------------------------------- counts


DateLike = str | date | datetime | pd.Timestamp | np.datetime64
CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)
TYPES: tuple[str, ...] = tuple(EVENT_TYPES)


@dataclass(frozen=True)
class SeriesCounts:
    """Daily counts of every (section, key) series; ``key`` is a category or a type."""

    section_ids: tuple[str, ...]  # one entry per series
    keys: tuple[str, ...]  # one entry per series
    level: Level
    first_day: np.datetime64
    counts: I64  # [series, day]

    @property
    def keys_per_section(self) -> int:
        """How many series each section has at this level."""
        return len(set(self.keys))


def _utc_day(value: DateLike) -> np.datetime64:
    """The UTC day of a date, an aware or naive (taken as UTC) datetime or a string."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    day: np.datetime64 = ts.to_datetime64().astype("datetime64[D]")
    return day


def event_days(occurred_at: pd.Series) -> I64:
    """UTC day numbers (days since 1970-01-01) of datetimes or int64 µs since the epoch."""
    if pd.api.types.is_integer_dtype(occurred_at):
        days: I64 = np.floor_divide(occurred_at.to_numpy(np.int64), _DAY_US)
        return days
    ts = pd.to_datetime(occurred_at, utc=True).dt.tz_localize(None)
    return ts.to_numpy().astype("datetime64[D]").astype(np.int64)


def event_keys(events: pd.DataFrame, level: Level) -> npt.NDArray[np.object_]:
    """The category (looked up from ``type`` if absent) or the type of every event."""
    if level == "type":
        return events["type"].astype(str).to_numpy(dtype=object)
    if "category" in events:
        return events["category"].astype(str).to_numpy(dtype=object)
    lookup = {t: category_of(t).value for t in pd.unique(events["type"])}
    return events["type"].map(lookup).astype(str).to_numpy(dtype=object)


def daily_counts(events: pd.DataFrame, *, start: DateLike, end: DateLike,
                 section_ids: Sequence[str] | None = None, by: Level = "category",
                 keys: Sequence[str] | None = None) -> SeriesCounts:
    """Count events per (section, category or type) and UTC day in ``[start, end)``.

    ``events`` has ``occurred_at`` (datetime64 UTC or int64 µs since the epoch),
    ``section_id`` (None or NaN for inland events, which are left out) and
    ``type`` and/or ``category``. Every (section, key) pair of the given (or
    seen) sections and keys is a series, zeros included; events of other
    sections or keys are left out.
    """
    first, last = _utc_day(start), _utc_day(end)
    n_days = int((last - first).astype(np.int64))
    if n_days <= 0:
        raise ValueError("end must be after start")
    day = event_days(events["occurred_at"]) - first.astype(np.int64)
    key = event_keys(events, by)
    sec = events["section_id"]
    known = sec.notna().to_numpy()
    secs = tuple(sorted(set(sec[known].astype(str)))) if section_ids is None else tuple(
        section_ids)
    names = tuple(sorted(set(key))) if keys is None else tuple(keys)
    sec_index = {s: i for i, s in enumerate(secs)}
    key_index = {c: i for i, c in enumerate(names)}
    si = np.array([sec_index.get(s, -1) for s in sec.where(known, "").astype(str)],
                  dtype=np.int64)
    ki = np.array([key_index.get(c, -1) for c in key], dtype=np.int64)
    keep = known & (si >= 0) & (ki >= 0) & (day >= 0) & (day < n_days)
    flat = (si[keep] * len(names) + ki[keep]) * n_days + day[keep]
    counts = np.bincount(flat, minlength=len(secs) * len(names) * n_days).astype(np.int64)
    return SeriesCounts(tuple(s for s in secs for _ in names),
                        tuple(c for _ in secs for c in names), by, first,
                        counts.reshape(len(secs) * len(names), n_days))


# ----------------------------------------------------------------------------- baseline


def _window_sum(cum: F64, lo: I64, hi: I64) -> F64:
    """Sum of days ``[lo, hi)`` per series from a cumulative sum with a leading 0 column."""
    n_days = cum.shape[1] - 1
    lo_c, hi_c = np.clip(lo, 0, n_days), np.clip(hi, 0, n_days)
    result: F64 = cum[:, hi_c] - cum[:, lo_c]
    return result


def baseline(counts: I64, sections: Sequence[str],
             settings: BaselineSettings = BaselineSettings()) -> tuple[F64, F64]:
    """Expected count per series and day (nan before ``min_history_days``) and its support.

    With ``n`` events in the ``w`` days ``[t - guard - window, t - guard)`` and
    the series' long-run rate ``r = (N + 0.5) / D`` over all its ``D`` days
    before ``t - guard`` (Jeffreys), the level is the Gamma-Poisson posterior
    mean ``(n + e) / (w + e / r)`` with ``e = prior_events``: a window with many
    events speaks for itself, an empty one falls back on the long run. The
    level is multiplied by a seasonal ratio: over up to ``season_years``
    earlier years, the count in ``t - 365 y ± half_width`` over the count
    expected there from that year's own trailing window; shrunk towards the
    section's ratio over all its series, itself shrunk towards 1.
    The support is ``n + e``, the number of events the level rests on.
    """
    s = settings
    n_series, n_days = counts.shape
    cum = np.zeros((n_series, n_days + 1))
    np.cumsum(counts, axis=1, out=cum[:, 1:])
    t = np.arange(n_days, dtype=np.int64)
    hi = np.maximum(t - s.guard_days, 0)
    lo = np.maximum(hi - s.window_days, 0)
    width = (hi - lo).astype(np.float64)
    in_window = _window_sum(cum, lo, hi)
    long_run = (_window_sum(cum, np.zeros_like(hi), hi) + 0.5) / np.maximum(hi, 1)
    level = (in_window + s.prior_events) / (width + s.prior_events / long_run)
    level[:, width < s.min_history_days] = np.nan
    # Seasonal ratio from earlier years (same date vs that year's own trailing window).
    num = np.zeros((n_series, n_days))
    den = np.zeros((n_series, n_days))
    span = 2 * s.season_half_width + 1
    for y in range(1, s.season_years + 1):
        shift = round(YEAR_DAYS * y)
        ok = (t - shift - s.guard_days - s.window_days) >= 0
        n_y = _window_sum(cum, t - shift - s.season_half_width, t - shift + s.season_half_width + 1)
        d_y = _window_sum(cum, t - shift - s.guard_days - s.window_days, t - shift - s.guard_days)
        num += np.where(ok, n_y, 0.0)
        den += np.where(ok, d_y * span / s.window_days, 0.0)
    sec_codes, sec_index = np.unique(np.asarray(sections), return_inverse=True)
    num_sec = np.zeros((sec_codes.size, n_days))
    den_sec = np.zeros((sec_codes.size, n_days))
    np.add.at(num_sec, sec_index, num)
    np.add.at(den_sec, sec_index, den)
    m = s.season_pseudo
    ratio_sec = (num_sec + m) / (den_sec + m)
    ratio = (num + m * ratio_sec[sec_index]) / (den + m)
    expected: F64 = level * np.clip(ratio, 0.2, 5.0)
    return expected, in_window + s.prior_events


def estimation_variance(support: F64, phi: F64, window_days: int) -> F64:
    """Squared relative error of an expected count resting on ``support`` events.

    ``1 / support`` (Poisson counting error) plus ``phi / window_days`` (the
    days of the window scatter more than Poisson).
    """
    result: F64 = 1.0 / np.maximum(support, 0.05) + phi / max(window_days, 1)
    return result


def pooled_dispersion(counts: I64, expected: F64, support: F64, keys: Sequence[str],
                      settings: BaselineSettings = BaselineSettings()) -> F64:
    """Day-to-day negative-binomial dispersion phi per series and day, pooled over each key.

    Method of moments on all (section, day) cells of the key before the day.
    A cell's squared error holds the count's own spread ``mu + phi mu^2`` and the
    error of its expected count ``v mu^2 (1 + phi)`` (``v`` from
    :func:`estimation_variance`), so ``phi = (sum((y - mu)^2 - y) - sum(v mu^2))
    / sum((1 + v) mu^2)``. Clipped to ``[0, max_dispersion]``; 0 (Poisson) until
    data exist.
    """
    key_codes, key_index = np.unique(np.asarray(keys), return_inverse=True)
    n_days = counts.shape[1]
    ok = np.isfinite(expected)
    mu = np.where(ok, expected, 0.0)
    y = np.where(ok, counts, 0).astype(np.float64)
    v = np.where(ok, estimation_variance(support, np.zeros(1), settings.window_days), 0.0)
    mu2 = mu**2
    top = np.zeros((key_codes.size, n_days))
    bottom = np.zeros((key_codes.size, n_days))
    np.add.at(top, key_index, (y - mu) ** 2 - y - v * mu2)
    np.add.at(bottom, key_index, (1 + v) * mu2)
    # Strictly before the day: shift the cumulative sums by one.
    zero = np.zeros((key_codes.size, 1))
    top_c = np.concatenate([zero, np.cumsum(top, axis=1)[:, :-1]], 1)
    bot_c = np.concatenate([zero, np.cumsum(bottom, axis=1)[:, :-1]], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(bot_c > 0, top_c / bot_c, 0.0)
    result: F64 = np.clip(phi, 0.0, settings.max_dispersion)[key_index]
    return result


def predictive_dispersion(phi: F64, support: F64, window_days: int,
                          days: int | I64 = 1) -> F64:
    """Dispersion of the count over ``days`` days around an estimated expected count.

    The days' own scatter averages out over several days (``phi / days``); the
    error of the expected count does not: ``phi_d + v (1 + phi_d)``, capped at
    the largest :data:`~sitcen.analysis.negative_binomial.PHI_GRID` value.
    """
    phi_d = phi / days
    v = estimation_variance(support, phi, window_days)
    result: F64 = np.minimum(phi_d + v * (1 + phi_d), PHI_GRID[-1])
    return result


# ----------------------------------------------------------------------------- the chart


@dataclass(frozen=True)
class Chart:
    """Per series and day: counts, expectation, both tests (arrays [series, day])."""

    series: SeriesCounts
    settings: ChartSettings
    expected: F64  # nan during warm-up
    support: F64  # events the expected count rests on
    dispersion: F64  # pooled day-to-day phi: variance = mu + phi * mu**2
    statistic: F64  # CUSUM
    threshold: F64  # CUSUM threshold (inf: no CUSUM; nan during warm-up)
    p_value: F64  # P(count >= observed) under the day's predictive law (1 for 0 counts)
    cusum: Bool
    spike: Bool
    onset: npt.NDArray[np.int32]  # on alarm days: first day of the excess (else -1)
    spike_p: F64  # P(count >= observed) under the spike test's law (its own guard)
    spike_level: F64  # the spike test alarms when spike_p <= spike_level (0: no test)

    @property
    def observed(self) -> I64:
        return self.series.counts

    @property
    def alarm(self) -> Bool:
        """Days on which either test alarms."""
        result: Bool = self.cusum | self.spike
        return result

    def frame(self) -> pd.DataFrame:
        """The chart as a long table: one row per series and day."""
        n_series, n_days = self.observed.shape
        dates = self.series.first_day + np.arange(n_days).astype("timedelta64[D]")
        return pd.DataFrame({
            "section_id": np.repeat(np.array(self.series.section_ids, dtype=object), n_days),
            self.series.level: np.repeat(np.array(self.series.keys, dtype=object), n_days),
            "date": np.tile(dates.astype("datetime64[ns]"), n_series),
            "observed": self.observed.ravel(),
            "expected": self.expected.ravel(),
            "dispersion": self.dispersion.ravel(),
            "statistic": self.statistic.ravel(),
            "threshold": self.threshold.ravel(),
            "p_value": self.p_value.ravel(),
            "cusum": self.cusum.ravel(),
            "spike": self.spike.ravel(),
        })


def chart(series: SeriesCounts, settings: ChartSettings = ChartSettings()) -> Chart:
    """Run the NB CUSUM and the spike test over every series (rows) and day (columns).

    ``S_t = max(0, S_(t-1) + a_t y_t + b_t)`` (see :func:`llr_terms`); the day
    alarms when ``S_t > h_t``, and the statistic then restarts from 0 (so the
    in-control alarms are a renewal process with mean gap ARL0; a surge that
    goes on alarms again, and :mod:`~sitcen.analysis.alerts` merges the runs).
    The day after the statistic was last 0 is the CUSUM's estimate of when the
    excess began (``onset``). The spike test alarms
    when ``P(Y >= y_t) <= spike_alpha`` under NB(mu_t, predictive phi), with the
    expected count from its own guard (``spike_guard_days``); with
    ``spike_shared`` the level is the section's (:func:`spike_levels`). Either
    alarm starts only on a day with an event and at least ``min_events`` in
    the last ``min_events_days`` days. Days in warm-up (no expected count yet)
    keep ``S = 0`` and never alarm.
    """
    counts = series.counts
    b_set = settings.baseline
    expected, support = baseline(counts, series.section_ids, b_set)
    phi = pooled_dispersion(counts, expected, support, series.keys, b_set)
    ok = np.isfinite(expected)
    mu = np.where(ok, np.maximum(expected, MU_GRID[0]), 1.0)
    phi_pred = predictive_dispersion(phi, support, b_set.window_days)
    p_value = np.ones(counts.shape)
    some = ok & (counts > 0)
    p_value[some] = tail_probability(counts[some], mu[some], phi_pred[some])
    cum = np.concatenate([np.zeros((counts.shape[0], 1), dtype=np.int64),
                          np.cumsum(counts, axis=1)], axis=1)
    t = np.arange(counts.shape[1])
    recent = cum[:, t + 1] - cum[:, np.maximum(t + 1 - settings.min_events_days, 0)]
    may_start = some & (recent >= settings.min_events)
    if settings.spike_guard != b_set.guard_days and settings.spike_alpha > 0:
        spike_exp, spike_support = baseline(counts, series.section_ids,
                                            replace(b_set, guard_days=settings.spike_guard))
        spike_ok = np.isfinite(spike_exp)
        spike_mu = np.where(spike_ok, np.maximum(spike_exp, MU_GRID[0]), 1.0)
        spike_phi = predictive_dispersion(phi, spike_support, b_set.window_days)
        spike_p = np.ones(counts.shape)
        spike_some = spike_ok & (counts > 0)
        spike_p[spike_some] = tail_probability(counts[spike_some], spike_mu[spike_some],
                                               spike_phi[spike_some])
        del spike_exp, spike_support
    else:
        spike_ok, spike_mu, spike_phi, spike_p = ok, mu, phi_pred, p_value
    if settings.spike_shared and settings.spike_alpha > 0:
        before = recent - counts  # events in the days before the day, within the rule's span
        need = np.maximum(1, settings.min_events - before)
        level = spike_levels(spike_mu, spike_phi, need, spike_ok, series.section_ids,
                             settings.spike_alpha * series.keys_per_section)
    else:
        level = np.where(spike_ok, settings.spike_alpha, 0.0)
    del cum, recent
    spike = may_start & spike_ok & (spike_p <= level) & (level > 0)
    stat = np.zeros(counts.shape)
    cusum = np.zeros(counts.shape, dtype=bool)
    onset = np.full(counts.shape, -1, dtype=np.int32)
    onset[spike] = np.broadcast_to(t, counts.shape)[spike]
    if math.isfinite(settings.arl0_days):
        a, b = llr_terms(mu, phi_pred, settings.shift)
        h = np.where(ok, thresholds(mu, phi_pred, settings.shift, settings.arl0_days), np.inf)
        incr = np.where(ok, a * counts + b, 0.0)
        del a, b
        s = np.zeros(counts.shape[0])
        last_zero = np.full(counts.shape[0], -1)
        for d in range(counts.shape[1]):
            s = np.maximum(0.0, s + incr[:, d])
            now = (s > h[:, d]) & may_start[:, d]
            stat[:, d] = s
            cusum[:, d] = now
            onset[now, d] = np.where(onset[now, d] >= 0,
                                     np.minimum(onset[now, d], last_zero[now] + 1),
                                     last_zero[now] + 1)
            s[now] = 0.0  # raised: look afresh
            last_zero[s == 0.0] = d
    else:
        h = np.full(counts.shape, np.inf)
    return Chart(series, settings, np.where(ok, expected, np.nan), support, phi, stat,
                 np.where(ok, h, np.nan), p_value, cusum, spike, onset, spike_p, level)


def spike_levels(mu: F64, phi: F64, need: I64, ok: Bool, sections: Sequence[str],
                 alpha: float, depth: int = 12) -> F64:
    """Each series' spike level on each day, sharing ``alpha`` among a section's series.

    A count is discrete: a series expecting 0.05 events a day cannot alarm at a
    level of 10⁻⁴ on "half an event"; its smallest alarming count already has a
    far smaller chance. So, as in the discrete Bonferroni procedures (Tarone
    1990; Döhler, Durand and Roquain 2018), one level ``c`` is found per section
    and day, the largest at which the chances of alarm *actually achievable*
    add up to at most ``alpha`` over the section's series: series ``i`` alarms
    on a count ``y >= need_i`` (the rule of ``min_events``: given the days
    before, the day needs ``need_i`` events) with ``P_i(Y >= y) <= c``, so at
    level ``c`` its chance of a false alarm is the largest ``P_i(Y >= y)``,
    ``y >= need_i``, not above ``c``. Laws are NB(``mu``, ``phi``) per series
    and day; ``depth`` counts per series are considered from the first whose
    chance is at most ``alpha`` (the chances of higher counts are counted in
    full with the last: conservative). Returns ``c`` per series and day (the
    same for a section's series; 0 where ``ok`` is false: no test).
    Each day's level uses that day's laws and the days before it only.
    """
    n_series, n_days = mu.shape
    codes, index = np.unique(np.asarray(sections), return_inverse=True)
    order = np.argsort(index, kind="stable")
    per = n_series // max(codes.size, 1)
    if per * codes.size != n_series or (np.bincount(index) != per).any():
        raise ValueError("every section must have the same number of series")
    levels = np.zeros((n_series, n_days))
    r = 1.0 / np.maximum(phi, 1e-9)
    poisson = phi <= 1e-9
    from scipy import stats
    first = np.where(poisson, stats.poisson.isf(alpha, mu),
                     stats.nbinom.isf(alpha, r, r / (r + mu))) + 1  # P(Y >= first) <= alpha
    start = np.maximum(np.nan_to_num(first, nan=1.0, posinf=1.0), need).astype(np.int64)
    step = np.arange(depth)
    chunk = max(1, 2_000_000 // max(n_series * depth, 1))
    for d0 in range(0, n_days, chunk):
        cols = slice(d0, min(n_days, d0 + chunk))
        y = start[order, cols][..., None] + step  # [series by section, day, count]
        m, f = mu[order, cols][..., None], phi[order, cols][..., None]
        chance_ = tail_probability(y, np.broadcast_to(m, y.shape), np.broadcast_to(f, y.shape))
        chance_ = np.where(ok[order, cols][..., None], chance_, 0.0)
        gain = chance_ - np.concatenate([chance_[..., 1:], np.zeros_like(chance_[..., :1])], -1)
        width = chance_.shape[1]
        # [section, day, candidate]: every (series, count) of the section is a candidate level.
        cand = chance_.reshape(codes.size, per, width, depth).transpose(0, 2, 1, 3).reshape(
            codes.size, width, per * depth)
        inc = gain.reshape(codes.size, per, width, depth).transpose(0, 2, 1, 3).reshape(
            codes.size, width, per * depth)
        sort = np.argsort(cand, axis=-1, kind="stable")
        cand = np.take_along_axis(cand, sort, -1)
        spent = np.cumsum(np.take_along_axis(inc, sort, -1), axis=-1)
        # Equal chances (alike series) are one level: count all of them or none.
        tie_end = np.concatenate([cand[..., 1:] != cand[..., :-1],
                                  np.ones_like(cand[..., :1], dtype=bool)], -1)
        affordable = (spent <= alpha * (1 + 1e-9)) & (cand > 0) & tie_end
        last = affordable.shape[-1] - 1 - np.argmax(affordable[..., ::-1], axis=-1)
        c = np.where(affordable.any(-1), np.take_along_axis(cand, last[..., None], -1)[..., 0],
                     0.0)
        levels[order, cols] = np.repeat(c, per, axis=0)
    levels[~ok] = 0.0
    return levels


# ----------------------------------------------------------------------------- alarms


SIGNAL_COLUMNS = ["section_id", "level", "key", "category", "type", "first_day", "last_day",
                  "days", "methods", "observed", "expected", "ratio", "statistic", "threshold",
                  "p_value", "explanation"]


def _words(name: str) -> str:
    return name.replace("_", " ")


def chance(p: float) -> str:
    """A probability in plain words: ``1 in 2,500``, ``1 in 43 million``."""
    if p >= 0.5:
        return f"{p:.0%}"
    if p < 1e-12:
        return "less than 1 in a million million"
    odds = 1 / p
    for size, word in ((1e9, " billion"), (1e6, " million"), (1.0, "")):
        if odds >= size:
            value = odds / size
            digits = max(0, int(math.log10(value)) - 1)  # two significant figures
            return f"1 in {round(value, -digits):,.0f}{word}"
    return "certain"  # unreachable: odds >= 2 here


def events(n: int) -> str:
    """``1 event``, ``3 events``."""
    return f"{n} event" if n == 1 else f"{n} events"


def alarms(result: Chart) -> pd.DataFrame:
    """One row (a *signal*) per run of consecutive alarming days of a series.

    ``first_day`` is the first alarming day (when the duty officer is warned),
    ``last_day`` the last; ``methods`` says which tests fired (``cusum``,
    ``spike`` or both). The counts cover the excess: from the CUSUM's onset
    estimate (or the first day, for a spike alone) to ``last_day``, ``days``
    days: ``observed``, ``expected``, their ``ratio`` and ``p_value``, the
    chance of that many events or more under the usual pattern (nominal: not
    corrected for the many series and days watched). ``statistic`` and
    ``threshold`` are those of the test that fired on the first day (for the
    spike test: ``-log10`` of the day's probability and of ``spike_alpha``).
    """
    al = result.alarm
    start = al & ~np.pad(al, ((0, 0), (1, 0)))[:, :-1]
    end = al & ~np.pad(al, ((0, 0), (0, 1)))[:, 1:]
    si, t0 = np.nonzero(start)
    _, t1 = np.nonzero(end)  # both in row-major order: runs pair up
    if si.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SIGNAL_COLUMNS})
    n_days = al.shape[1]
    onset = np.array([min([int(t0[i]), *(int(o) for o in result.onset[si[i], t0[i]:t1[i] + 1]
                                         if o >= 0)]) for i in range(si.size)])

    def window_sum(values: npt.NDArray[np.generic]) -> F64:
        cum = np.zeros((si.size, n_days + 1))
        np.cumsum(values[si], axis=1, dtype=np.float64, out=cum[:, 1:])
        rows = np.arange(si.size)
        result_: F64 = cum[rows, t1 + 1] - cum[rows, onset]
        return result_

    obs = window_sum(result.observed)
    exp = window_sum(np.nan_to_num(result.expected))
    n_cusum = window_sum(result.cusum)
    n_spike = window_sum(result.spike)
    days = t1 - onset + 1
    b_set = result.settings.baseline
    phi_run = predictive_dispersion(result.dispersion[si, t0], result.support[si, t0],
                                    b_set.window_days, days)
    p_run = tail_probability(obs, exp, phi_run)
    level = result.series.level
    rows = []
    for i in range(si.size):
        sec, key = result.series.section_ids[si[i]], result.series.keys[si[i]]
        a, b = int(t0[i]), int(t1[i])
        first = pd.Timestamp(result.series.first_day + np.timedelta64(a, "D"))
        last = pd.Timestamp(result.series.first_day + np.timedelta64(b, "D"))
        since = pd.Timestamp(result.series.first_day + np.timedelta64(int(onset[i]), "D"))
        methods = [m for m, hits in (("cusum", n_cusum[i]), ("spike", n_spike[i])) if hits]
        y0, mu0 = int(result.observed[si[i], a]), float(result.expected[si[i], a])
        if result.cusum[si[i], a]:
            stat, limit = float(result.statistic[si[i], a]), float(result.threshold[si[i], a])
            test = f"CUSUM {stat:.2f} above its threshold {limit:.2f}"
        else:
            p_spike = float(result.spike_p[si[i], a])
            level_ = float(result.spike_level[si[i], a])
            stat, limit = -math.log10(max(p_spike, 1e-300)), -math.log10(max(level_, 1e-300))
            test = f"spike test: a day like this comes {chance(p_spike)} under the usual pattern"
        ratio = float(obs[i] / exp[i]) if exp[i] > 0 else math.inf
        span = (f"; {int(obs[i])} against {exp[i]:.1f} expected over {int(days[i])} days "
                f"{since.date()} to {last.date()}" if days[i] > 1 else "")
        rows.append({
            "section_id": sec, "level": level, "key": key,
            "category": key if level == "category" else (
                category_of(key).value if key in EVENT_TYPES else None),
            "type": key if level == "type" else None,
            "first_day": first, "last_day": last, "days": int(days[i]),
            "methods": "+".join(methods), "observed": int(obs[i]),
            "expected": round(float(exp[i]), 3), "ratio": round(ratio, 2),
            "statistic": round(stat, 3), "threshold": round(limit, 3),
            "p_value": float(p_run[i]),
            "explanation": (f"{_words(key)} on {sec}: {events(y0)} on {first.date()} against "
                            f"{mu0:.2f} expected{span} ({ratio:.1f}x, chance "
                            f"{chance(float(p_run[i]))}); {test}"),
        })
    return pd.DataFrame(rows, columns=SIGNAL_COLUMNS)


def monitor(events: pd.DataFrame, *, start: DateLike, end: DateLike,
            section_ids: Sequence[str] | None = None,
            settings: WarningSettings = WarningSettings()) -> pd.DataFrame:
    """Signals of every section at both levels (see :func:`daily_counts`, :func:`alarms`).

    Categories and types are those of the taxonomy, so that the number of
    series per section, which sets each series' share of the budget, does not
    depend on what happened to be reported.
    """
    frames = []
    levels: tuple[tuple[Level, tuple[str, ...]], ...] = (("category", CATEGORIES),
                                                         ("type", TYPES))
    for level, keys in levels:
        series = daily_counts(events, start=start, end=end, section_ids=section_ids,
                              by=level, keys=keys)
        result = chart(series, settings.chart_settings(series.level, series.keys_per_section))
        frames.append(alarms(result))
    return pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
