"""Tactical early warning: a negative-binomial CUSUM per border section and event category.

For every (section, category) series of daily counts the chart computes, each day:

1. an **expected count** from the series' own recent past (a trailing window
   that ends a week before the day, so that a starting surge does not raise
   its own baseline), times a **seasonal ratio** learnt from the same time of
   year in earlier years;
2. a **dispersion** (negative binomial, method of moments, pooled over all
   sections of the category and all days before the day);
3. a one-sided **CUSUM** of the log-likelihood ratio "the mean is ``k`` times
   the expected" against "the mean is as expected";
4. a **threshold** from the in-control average run length (ARL0) wanted,
   computed exactly for the day's expected count and dispersion by a Markov
   chain (Brook and Evans), not by a rule of thumb.

Everything on day ``t`` uses counts up to ``t`` only, so a run over a whole
history gives the same answer as running it day after day. See
docs/early-warning.md for the formulas, a worked example and measured figures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from sitcen.taxonomy import category_of

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class ChartSettings:
    """Knobs of the chart; the defaults are the ones measured in docs/early-warning.md."""

    shift: float = 2.0  # k: the CUSUM looks for the mean rising to k times the expected
    arl0_days: float = 1460.0  # wanted mean days between false alarms on one series
    window_days: int = 56  # trailing baseline window
    guard_days: int = 7  # days between the baseline window and the day charted
    min_history_days: int = 21  # no chart before the window holds this many days
    season_half_width: int = 14  # +- days around the same date in earlier years
    season_years: int = 2  # at most this many earlier years feed the seasonal ratio
    season_pseudo: float = 10.0  # pseudo-events shrinking the seasonal ratio towards 1
    max_dispersion: float = 5.0


@dataclass(frozen=True)
class Chart:
    """Per series and day: counts, expectation, statistic and threshold (arrays [series, day])."""

    section_ids: tuple[str, ...]
    categories: tuple[str, ...]
    first_day: np.datetime64
    observed: I64
    expected: F64  # nan during warm-up
    dispersion: F64  # phi: variance = mu + phi * mu**2
    statistic: F64
    threshold: F64
    alarm: npt.NDArray[np.bool_]

    def frame(self) -> pd.DataFrame:
        """The chart as a long table: one row per series and day."""
        n_series, n_days = self.observed.shape
        dates = self.first_day + np.arange(n_days).astype("timedelta64[D]")
        return pd.DataFrame({
            "section_id": np.repeat(np.array(self.section_ids, dtype=object), n_days),
            "category": np.repeat(np.array(self.categories, dtype=object), n_days),
            "date": np.tile(dates.astype("datetime64[ns]"), n_series),
            "observed": self.observed.ravel(),
            "expected": self.expected.ravel(),
            "dispersion": self.dispersion.ravel(),
            "statistic": self.statistic.ravel(),
            "threshold": self.threshold.ravel(),
            "alarm": self.alarm.ravel(),
        })


# ----------------------------------------------------------------------------- counts


DateLike = str | date | datetime | pd.Timestamp | np.datetime64


def _utc_day(value: DateLike) -> np.datetime64:
    """The UTC day of a date, an aware or naive (taken as UTC) datetime or a string."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    day: np.datetime64 = ts.to_datetime64().astype("datetime64[D]")
    return day


def daily_counts(events: pd.DataFrame, *, start: DateLike, end: DateLike,
                 section_ids: Sequence[str] | None = None,
                 categories: Sequence[str] | None = None) -> tuple[
                     tuple[str, ...], tuple[str, ...], np.datetime64, I64]:
    """Count events per (section, category) and UTC day in ``[start, end)``.

    ``events`` has ``occurred_at`` (datetime64 UTC or int64 µs since the epoch),
    ``section_id`` (None or NaN for inland events, which are left out) and
    ``category`` or ``type`` (the category is then looked up in the taxonomy).
    Returns the series' section ids and categories (one entry per series), the
    first day and the counts ``[series, day]``; every (section, category) pair
    of the given (or seen) sections and categories is a series, zeros included.
    """
    first, last = _utc_day(start), _utc_day(end)
    n_days = int((last - first).astype(np.int64))
    if n_days <= 0:
        raise ValueError("end must be after start")
    day = _days(events["occurred_at"]) - first.astype(np.int64)
    if "category" in events:
        cat = events["category"].astype(str).to_numpy()
    else:
        lookup = {t: category_of(t).value for t in pd.unique(events["type"])}
        cat = events["type"].map(lookup).astype(str).to_numpy()
    sec = events["section_id"]
    known = sec.notna().to_numpy()
    secs = tuple(sorted(set(sec[known].astype(str)))) if section_ids is None else tuple(
        section_ids)
    cats = tuple(sorted(set(cat))) if categories is None else tuple(categories)
    sec_index = {s: i for i, s in enumerate(secs)}
    cat_index = {c: i for i, c in enumerate(cats)}
    si = np.array([sec_index.get(s, -1) for s in sec.where(known, "").astype(str)],
                  dtype=np.int64)
    ci = np.array([cat_index.get(c, -1) for c in cat], dtype=np.int64)
    keep = known & (si >= 0) & (ci >= 0) & (day >= 0) & (day < n_days)
    flat = (si[keep] * len(cats) + ci[keep]) * n_days + day[keep]
    counts = np.bincount(flat, minlength=len(secs) * len(cats) * n_days).astype(np.int64)
    series_secs = tuple(s for s in secs for _ in cats)
    series_cats = tuple(c for _ in secs for c in cats)
    return series_secs, series_cats, first, counts.reshape(len(secs) * len(cats), n_days)


def _days(occurred_at: pd.Series) -> I64:
    if pd.api.types.is_integer_dtype(occurred_at):
        days: I64 = np.floor_divide(occurred_at.to_numpy(np.int64), _DAY_US)
        return days
    ts = pd.to_datetime(occurred_at, utc=True).dt.tz_localize(None)
    return ts.to_numpy().astype("datetime64[D]").astype(np.int64)


# ----------------------------------------------------------------------------- baseline


def _window_sum(cum: F64, lo: I64, hi: I64) -> F64:
    """Sum of days ``[lo, hi)`` per series from a cumulative sum with a leading 0 column."""
    n_days = cum.shape[1] - 1
    lo_c, hi_c = np.clip(lo, 0, n_days), np.clip(hi, 0, n_days)
    result: F64 = cum[:, hi_c] - cum[:, lo_c]
    return result


def expected_counts(counts: I64, sections: Sequence[str],
                    settings: ChartSettings = ChartSettings()) -> F64:
    """Expected count per series and day (nan before ``min_history_days``).

    ``mean of days [t - guard - window, t - guard)`` times a seasonal ratio: over
    up to ``season_years`` earlier years, the count in ``t - 365 y ± half_width``
    over the count expected there from that year's own trailing window; shrunk
    towards the section's ratio over all categories, itself shrunk towards 1.
    """
    s = settings
    n_series, n_days = counts.shape
    cum = np.zeros((n_series, n_days + 1))
    np.cumsum(counts, axis=1, out=cum[:, 1:])
    t = np.arange(n_days, dtype=np.int64)
    hi = t - s.guard_days
    lo = np.maximum(hi - s.window_days, 0)
    width = (hi - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        trailing = _window_sum(cum, lo, hi) / width
    trailing[:, width < s.min_history_days] = np.nan
    # Seasonal ratio from earlier years (same date vs that year's own trailing window).
    num = np.zeros((n_series, n_days))
    den = np.zeros((n_series, n_days))
    span = 2 * s.season_half_width + 1
    for y in range(1, s.season_years + 1):
        shift = round(365.25 * y)
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
    result: F64 = trailing * np.clip(ratio, 0.2, 5.0)
    return result


def pooled_dispersion(counts: I64, expected: F64, categories: Sequence[str],
                      max_dispersion: float = 5.0) -> F64:
    """Negative-binomial dispersion phi per series and day, pooled over each category.

    Method of moments on all (section, day) cells of the category before the
    day: ``phi = sum((y - mu)^2 - y) / sum(mu^2)``, so that ``var = mu + phi mu^2``;
    0 means Poisson. Clipped to ``[0, max_dispersion]``; 0 until data exist.
    """
    cat_codes, cat_index = np.unique(np.asarray(categories), return_inverse=True)
    n_days = counts.shape[1]
    ok = np.isfinite(expected)
    mu = np.where(ok, expected, 0.0)
    y = np.where(ok, counts, 0).astype(np.float64)
    excess = (y - mu) ** 2 - y
    top = np.zeros((cat_codes.size, n_days))
    bottom = np.zeros((cat_codes.size, n_days))
    np.add.at(top, cat_index, excess)
    np.add.at(bottom, cat_index, mu**2)
    # Strictly before the day: shift the cumulative sums by one.
    top_c = np.concatenate([np.zeros((cat_codes.size, 1)), np.cumsum(top, axis=1)[:, :-1]], 1)
    bot_c = np.concatenate([np.zeros((cat_codes.size, 1)), np.cumsum(bottom, axis=1)[:, :-1]], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(bot_c > 0, top_c / bot_c, 0.0)
    result: F64 = np.clip(phi, 0.0, max_dispersion)[cat_index]
    return result


# ----------------------------------------------------------------------------- CUSUM


def llr_terms(mu: F64, phi: F64, shift: float) -> tuple[F64, F64]:
    """``(a, b)`` with ``log NB(y; k mu, phi) - log NB(y; mu, phi) = a y + b``.

    With ``r = 1 / phi``: ``a = log(k (r + mu) / (r + k mu))`` and
    ``b = r log((r + mu) / (r + k mu))``; for phi = 0 (Poisson) ``a = log k``,
    ``b = -(k - 1) mu``.
    """
    k = shift
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(phi > 1e-9, 1.0 / np.maximum(phi, 1e-9), np.inf)
        a_nb = np.log(k * (r + mu) / (r + k * mu))
        b_nb = r * np.log((r + mu) / (r + k * mu))
    poisson = ~np.isfinite(r)
    a: F64 = np.where(poisson, math.log(k), a_nb)
    b: F64 = np.where(poisson, -(k - 1.0) * mu, b_nb)
    return a, b


def _nb_pmf(y: I64, mu: float, phi: float) -> F64:
    if phi <= 1e-9:
        result: F64 = stats.poisson.pmf(y, mu)
        return result
    r = 1.0 / phi
    result = stats.nbinom.pmf(y, r, r / (r + mu))
    return result


def _count_law(mu: float, phi: float) -> tuple[I64, F64]:
    """Support (up to a 1e-10 tail) and probabilities of NB(mu, phi) (Poisson for phi = 0)."""
    if phi > 1e-9:
        r = 1.0 / phi
        top = int(stats.nbinom.isf(1e-10, r, r / (r + mu)))
    else:
        top = int(stats.poisson.isf(1e-10, mu))
    y = np.arange(top + 3, dtype=np.int64)
    return y, _nb_pmf(y, mu, phi)


def _arl(h: float, a: float, b: float, y: I64, p: F64, states: int) -> float:
    width = h / states
    centres = (np.arange(states) + 0.5) * width
    centres[0] = 0.0  # the reset state: S = 0 exactly is where most time is spent
    nxt = centres[:, None] + a * y[None, :] + b  # [state, count]
    cell = np.where(nxt <= 0, 0, np.minimum(nxt / width, states).astype(np.int64))
    flat = (np.arange(states)[:, None] * (states + 1) + cell).ravel()
    q = np.bincount(flat, weights=np.tile(p, states), minlength=states * (states + 1))
    mat = np.eye(states) - q.reshape(states, states + 1)[:, :states]
    try:
        arl = np.linalg.solve(mat, np.ones(states))
    except np.linalg.LinAlgError:
        return math.inf
    return float(arl[0])


def run_length(h: float, mu: float, phi: float, shift: float, states: int = 100) -> float:
    """In-control average run length of the NB CUSUM with threshold ``h`` (Brook–Evans).

    The statistic's range ``[0, h]`` is cut into ``states`` cells; the chain's
    transition probabilities come from the NB(mu, phi) law of the daily count,
    and ``(I - Q) L = 1`` gives the expected days to the first alarm from 0.
    Cells the statistic leaves above ``h`` are the alarm (absorbing).
    """
    a, b = (float(v) for v in llr_terms(np.array(mu), np.array(phi), shift))
    y, p = _count_law(mu, phi)
    return _arl(h, a, b, y, p, states)


def calibrate_threshold(mu: float, phi: float, shift: float, arl0_days: float,
                        states: int = 100) -> float:
    """Smallest threshold ``h`` whose in-control ARL reaches ``arl0_days`` (bisection)."""
    a, b = (float(v) for v in llr_terms(np.array(mu), np.array(phi), shift))
    y, p = _count_law(mu, phi)
    lo, hi = 0.0, a
    while _arl(hi, a, b, y, p, states) < arl0_days and hi < 200:
        lo, hi = hi, hi * 2
    for _ in range(14):
        mid = (lo + hi) / 2
        if _arl(mid, a, b, y, p, states) >= arl0_days:
            hi = mid
        else:
            lo = mid
    return hi


MU_GRID = np.geomspace(0.01, 100.0, 25)
PHI_GRID = np.array([0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0])


@functools.lru_cache(maxsize=8)
def threshold_table(shift: float, arl0_days: float) -> F64:
    """Thresholds on the grid ``MU_GRID x PHI_GRID`` (cached per shift and ARL0)."""
    return np.array([[calibrate_threshold(float(m), float(f), shift, arl0_days)
                      for f in PHI_GRID] for m in MU_GRID])


def thresholds(mu: F64, phi: F64, shift: float, arl0_days: float) -> F64:
    """Threshold per cell: bilinear interpolation in (log mu, phi) of :func:`threshold_table`."""
    table = threshold_table(shift, arl0_days)
    lm = np.log(np.clip(mu, MU_GRID[0], MU_GRID[-1]))
    gx = np.log(MU_GRID)
    f = np.clip(phi, PHI_GRID[0], PHI_GRID[-1])
    i = np.clip(np.searchsorted(gx, lm) - 1, 0, gx.size - 2)
    j = np.clip(np.searchsorted(PHI_GRID, f) - 1, 0, PHI_GRID.size - 2)
    u = (lm - gx[i]) / (gx[i + 1] - gx[i])
    v = (f - PHI_GRID[j]) / (PHI_GRID[j + 1] - PHI_GRID[j])
    result: F64 = ((1 - u) * (1 - v) * table[i, j] + u * (1 - v) * table[i + 1, j]
                   + (1 - u) * v * table[i, j + 1] + u * v * table[i + 1, j + 1])
    return result


def chart(counts: I64, section_ids: Sequence[str], categories: Sequence[str],
          first_day: np.datetime64, settings: ChartSettings = ChartSettings()) -> Chart:
    """Run the NB CUSUM over every series (rows of ``counts``) and day (columns).

    ``S_t = max(0, S_(t-1) + a_t y_t + b_t)`` (see :func:`llr_terms`); the day
    alarms when ``S_t > h_t``. After an alarm the statistic is not reset while
    the excess lasts (the run is one alarm, see :func:`alarms`); it is reset to
    0 the first day it falls back under the threshold. Days in warm-up (no
    expected count yet) keep ``S = 0``.
    """
    expected = expected_counts(counts, section_ids, settings)
    phi = pooled_dispersion(counts, expected, categories, settings.max_dispersion)
    ok = np.isfinite(expected)
    mu = np.where(ok, np.maximum(expected, 1e-3), 1.0)
    a, b = llr_terms(mu, phi, settings.shift)
    h = thresholds(mu, phi, settings.shift, settings.arl0_days)
    incr = np.where(ok, a * counts + b, 0.0)
    limit = np.where(ok, h, np.inf)
    stat = np.zeros(counts.shape)
    alarm = np.zeros(counts.shape, dtype=bool)
    s = np.zeros(counts.shape[0])
    before = np.zeros(counts.shape[0], dtype=bool)
    for t in range(counts.shape[1]):
        s = np.maximum(0.0, s + incr[:, t])
        now = s > limit[:, t]
        stat[:, t] = s
        alarm[:, t] = now
        s = np.where(before & ~now, 0.0, s)  # the run is over: start afresh
        before = now
    return Chart(tuple(section_ids), tuple(categories), first_day, counts,
                 np.where(ok, expected, np.nan), phi, stat, np.where(ok, h, np.nan), alarm)


# ----------------------------------------------------------------------------- alarms


ALARM_COLUMNS = ["section_id", "category", "date", "last_date", "days", "observed", "expected",
                 "ratio", "statistic", "threshold", "p_value", "severity", "explanation"]


def severity_of(ratio: float, excess: float) -> str:
    """``high`` at 4x expected or a statistic 3x its threshold, ``medium`` at 2x / 1.5x."""
    if ratio >= 4 or excess >= 3:
        return "high"
    if ratio >= 2 or excess >= 1.5:
        return "medium"
    return "low"


def alarms(result: Chart) -> pd.DataFrame:
    """One row per run of consecutive alarming days of a series (deduplicated).

    ``date`` is the first alarming day (when the duty officer is warned),
    ``last_date`` the last; ``observed``/``expected`` are summed over the run;
    ``statistic``/``threshold`` are those of the first day; ``p_value`` is the
    upper-tail probability of the first day's count under NB(expected, phi).
    """
    al = result.alarm
    start = al & ~np.pad(al, ((0, 0), (1, 0)))[:, :-1]
    end = al & ~np.pad(al, ((0, 0), (0, 1)))[:, 1:]
    si, t0 = np.nonzero(start)
    _, t1 = np.nonzero(end)  # both in row-major order: runs pair up
    if si.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ALARM_COLUMNS})
    cum_o = np.concatenate([np.zeros((al.shape[0], 1)), np.cumsum(result.observed, 1)], 1)
    cum_e = np.concatenate([np.zeros((al.shape[0], 1)),
                            np.cumsum(np.nan_to_num(result.expected), 1)], 1)
    obs = cum_o[si, t1 + 1] - cum_o[si, t0]
    exp = cum_e[si, t1 + 1] - cum_e[si, t0]
    mu0 = result.expected[si, t0]
    phi0 = result.dispersion[si, t0]
    y0 = result.observed[si, t0]
    r = 1.0 / np.maximum(phi0, 1e-9)
    p_nb = stats.nbinom.sf(y0 - 1, r, r / (r + mu0))
    p_val = np.where(phi0 > 1e-9, p_nb, stats.poisson.sf(y0 - 1, mu0))
    stat0, h0 = result.statistic[si, t0], result.threshold[si, t0]
    rows = []
    for i in range(si.size):
        ratio = float(obs[i] / exp[i]) if exp[i] > 0 else math.inf
        first = result.first_day + np.timedelta64(int(t0[i]), "D")
        last = result.first_day + np.timedelta64(int(t1[i]), "D")
        days = int(t1[i] - t0[i] + 1)
        sec, cat = result.section_ids[si[i]], result.categories[si[i]]
        rows.append({
            "section_id": sec, "category": cat,
            "date": pd.Timestamp(first), "last_date": pd.Timestamp(last), "days": days,
            "observed": int(obs[i]), "expected": round(float(exp[i]), 2),
            "ratio": round(ratio, 2), "statistic": round(float(stat0[i]), 2),
            "threshold": round(float(h0[i]), 2), "p_value": float(p_val[i]),
            "severity": severity_of(ratio, float(stat0[i] / h0[i])),
            "explanation": (
                f"{cat.replace('_', ' ')} on {sec}: {int(y0[i])} events on {first} against "
                f"{mu0[i]:.1f} expected (p = {p_val[i]:.2g}); {int(obs[i])} against "
                f"{exp[i]:.1f} expected over {days} day(s) to {last} ({ratio:.1f}x); "
                f"CUSUM {stat0[i]:.2f} above its threshold {h0[i]:.2f}"),
        })
    return pd.DataFrame(rows, columns=ALARM_COLUMNS)


def early_warning(events: pd.DataFrame, *, start: DateLike, end: DateLike,
                  section_ids: Sequence[str] | None = None,
                  categories: Sequence[str] | None = None,
                  settings: ChartSettings = ChartSettings()) -> pd.DataFrame:
    """Alarms for every (section, category) from an events table (see :func:`daily_counts`)."""
    secs, cats, first, counts = daily_counts(events, start=start, end=end,
                                             section_ids=section_ids, categories=categories)
    return alarms(chart(counts, secs, cats, first, settings))
