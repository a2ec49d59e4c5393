"""The public-health outbreak detectors our early warning is measured against, and an oracle.

Each detector turns a matrix of daily counts ``[series, day]`` into a score per
cell (larger = more alarming; ``nan`` where it cannot run yet). The benchmark
alarms on the cells whose score exceeds one threshold per method, chosen so
that the method makes as many false alerts as ours (``benchmarks/early_warning.py``),
so each is compared with ours at the same false-alarm rate. Written from the
published definitions:

- **EARS C1, C2, C3** (Hutwagner et al. 2003; as in R's ``surveillance::earsC``,
  Fricker et al. 2008): the mean and standard deviation of the 7 days before
  the day (C1), or of the 7 days before a 2-day guard (C2); the score is
  ``(count - mean) / sd``. C3 adds the C2 scores of the day and the two days
  before, each less 1 and floored at 0 (the published threshold is 2 for C3,
  about 3 for C1 and C2). ``min_sigma`` keeps the score finite in a window of
  equal counts (R's ``minSigma``; its default 0 makes every count above an
  all-zero week infinitely surprising, which no threshold could tune).
- **Farrington** (Farrington et al. 1996), adapted from weeks to days: the
  reference values are the counts within ``w`` days of the same date in each
  of up to ``b`` earlier years; a quasi-Poisson regression is fitted to them,
  refitted once with the reference values weighted down by their Anscombe
  residuals (> 1: weight ``s^-2``), and the day is scored on the 2/3-power
  scale, ``z = (y^(2/3) - mu^(2/3)) / sqrt(4/9 mu^(1/3) tau)`` with
  ``tau = phi + Var(mu_hat) / mu``; its alarm is ``z > z_alpha``. The 1996
  method fits a time trend only with at least three years of references, which
  a 3-year scenario never has for a year back, so the model is its intercept
  (the weighted mean); days without one earlier year of references get no
  score (the published method cannot run there).
- **Oracle**: knows each series' true expected count and its true negative
  binomial dispersion (:func:`sitcen.demo.scenario.background_rates`); it scores a
  day by the smallest upper-tail probability, under that law, of the counts of
  the last 1 to ``max_window`` days together (``-log10``). No real detector can
  know the baseline, so its recall at the same false-alarm rate is the ceiling.

Nothing here is part of the product (docs/early-warning.md, "Against the
standard methods").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: EARS: days in the baseline window, and the guard before the day for C2 and C3.
EARS_WINDOW = 7
EARS_GUARD = 2
#: Farrington (days): half-width of each year's reference window, years back.
FARRINGTON_HALF_WIDTH = 7
FARRINGTON_YEARS = 2
YEAR_DAYS = 365.25


def _rolling(counts: I64, window: int, lag: int) -> tuple[F64, F64]:
    """Mean and sample standard deviation of days ``[t - lag - window, t - lag)`` (nan before)."""
    values = counts.astype(np.float64)
    n_series, n_days = values.shape
    cum = np.zeros((n_series, n_days + 1))
    cum2 = np.zeros((n_series, n_days + 1))
    np.cumsum(values, axis=1, out=cum[:, 1:])
    np.cumsum(values**2, axis=1, out=cum2[:, 1:])
    hi = np.arange(n_days) - lag
    lo = hi - window
    ok = lo >= 0
    lo_c, hi_c = np.clip(lo, 0, n_days), np.clip(hi, 0, n_days)
    total = cum[:, hi_c] - cum[:, lo_c]
    total2 = cum2[:, hi_c] - cum2[:, lo_c]
    mean = total / window
    var = np.maximum(total2 - window * mean**2, 0.0) / (window - 1)
    mean[:, ~ok] = np.nan
    var[:, ~ok] = np.nan
    return mean, np.sqrt(var)


def ears(counts: I64, method: str, min_sigma: float = 0.5) -> F64:
    """EARS C1, C2 or C3 score of every series and day."""
    lag = 0 if method == "C1" else EARS_GUARD
    mean, sd = _rolling(counts, EARS_WINDOW, lag)
    score: F64 = (counts - mean) / np.maximum(sd, min_sigma)
    if method in ("C1", "C2"):
        return score
    if method != "C3":
        raise ValueError(f"unknown EARS method {method!r}")
    excess = np.maximum(score - 1.0, 0.0)
    c3 = excess.copy()
    c3[:, 1:] += excess[:, :-1]
    c3[:, 2:] += excess[:, :-2]
    c3[:, :2] = np.nan
    return c3


def _reference_days(n_days: int, years: int, half_width: int) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Per day, the reference days of each earlier year (``[day, ref]``) and which exist."""
    offsets = np.concatenate([round(YEAR_DAYS * y) + np.arange(-half_width, half_width + 1)
                              for y in range(1, years + 1)])
    refs = np.arange(n_days)[:, None] - offsets[None, :]
    return np.clip(refs, 0, n_days - 1), refs >= 0


def farrington(counts: I64, cells: tuple[I64, I64], years: int = FARRINGTON_YEARS,
               half_width: int = FARRINGTON_HALF_WIDTH) -> F64:
    """Farrington z-score (2/3-power scale) of the given cells; nan without a year back."""
    rows, days = cells
    n_days = counts.shape[1]
    refs, exists = _reference_days(n_days, years, half_width)
    ref = counts[rows[:, None], refs[days]].astype(np.float64)  # [cell, reference]
    present = exists[days].astype(np.float64)
    n = present.sum(axis=1)
    mu = _weighted_mean(ref, present)
    phi = _dispersion(ref, mu, present, n)
    # Reweighting: standardised Anscombe residuals above 1 count for s^-2.
    hat = present / np.maximum(n, 1.0)[:, None]
    mu_r = np.maximum(mu, 1e-9)[:, None]
    anscombe = 1.5 * (ref ** (2 / 3) * mu_r ** (-1 / 6) - np.sqrt(mu_r))
    s = anscombe / np.sqrt(phi[:, None] * np.maximum(1.0 - hat, 1e-9))
    raw = np.where(s > 1.0, 1.0 / np.maximum(s, 1.0) ** 2, 1.0) * present
    weights = raw * (n / np.maximum(raw.sum(axis=1), 1e-12))[:, None]
    mu = _weighted_mean(ref, weights)
    phi = _dispersion(ref, mu, weights, n)
    # An intercept-only quasi-Poisson fit: Var(mu_hat) = phi mu / n, so tau = phi (1 + 1/n).
    mu0 = np.maximum(mu, 0.5 / np.maximum(n, 1.0))  # all-zero references: half an event
    tau = phi * (1.0 + 1.0 / np.maximum(n, 1.0))
    se = np.sqrt(4.0 / 9.0 * mu0 ** (1 / 3) * tau)
    z: F64 = (counts[rows, days] ** (2 / 3) - mu0 ** (2 / 3)) / se
    z[n < 2 * half_width + 1] = np.nan  # not one complete earlier year
    return z


def _weighted_mean(ref: F64, weights: F64) -> F64:
    result: F64 = (ref * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-12)
    return result


def _dispersion(ref: F64, mu: F64, weights: F64, n: F64) -> F64:
    """Quasi-Poisson dispersion: weighted Pearson chi-square over n - 1, at least 1."""
    m = np.maximum(mu, 1e-9)[:, None]
    chi2 = (weights * (ref - m) ** 2 / m).sum(axis=1)
    result: F64 = np.maximum(chi2 / np.maximum(n - 1.0, 1.0), 1.0)
    return result


def oracle(counts: I64, mean: F64, dispersion: F64, cells: tuple[I64, I64],
           max_window: int = 14) -> F64:
    """``-log10`` of the smallest tail probability over windows ending at each given cell.

    ``mean[series, day]`` is the true expected count, ``dispersion[series]`` the
    true NB phi (variance ``mu + phi mu^2`` per day, days independent); a window's
    sum gets the negative binomial of the same mean and variance. Scored only on
    ``cells`` (the days a detector may alarm on): one score per cell.
    """
    rows, days = cells
    n_series, n_days = counts.shape
    cum_y = np.zeros((n_series, n_days + 1))
    cum_m = np.zeros((n_series, n_days + 1))
    cum_m2 = np.zeros((n_series, n_days + 1))
    np.cumsum(counts, axis=1, out=cum_y[:, 1:])
    np.cumsum(mean, axis=1, out=cum_m[:, 1:])
    np.cumsum(mean**2, axis=1, out=cum_m2[:, 1:])
    best = np.zeros(rows.size)
    phi = dispersion[rows]
    for w in range(1, max_window + 1):
        start = np.maximum(days + 1 - w, 0)
        y = cum_y[rows, days + 1] - cum_y[rows, start]
        m = np.maximum(cum_m[rows, days + 1] - cum_m[rows, start], 1e-9)
        m2 = cum_m2[rows, days + 1] - cum_m2[rows, start]
        phi_w = np.maximum(phi * m2 / m**2, 1e-9)  # NB of the window's mean and variance
        r = 1.0 / phi_w
        p = stats.nbinom.sf(y - 1, r, r / (r + m))
        best = np.maximum(best, -np.log10(np.maximum(p, 1e-300)))
    return best
