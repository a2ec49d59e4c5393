"""The negative-binomial law of a day's count and the CUSUM charted on it.

Pure arithmetic on arrays, knowing nothing of sections, events or dates: the
upper tail ``P(Y >= y)`` of a negative binomial with mean ``mu`` and variance
``mu + phi mu^2`` (Poisson for ``phi = 0``), the log-likelihood-ratio step of a
CUSUM looking for the mean rising ``k``-fold, the in-control average run length
of that CUSUM (a Markov chain after Brook and Evans) and the threshold that
gives a wanted run length, tabled on a (mu, phi) grid and interpolated per
cell. :mod:`sitcen.analysis.early_warning` runs the charts with them; the
formulas are in docs/early-warning.md.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def tail_probability(y: npt.ArrayLike, mu: npt.ArrayLike, phi: npt.ArrayLike) -> F64:
    """``P(Y >= y)`` for Y negative binomial with mean ``mu``, variance ``mu + phi mu^2``."""
    ya, ma, fa = np.broadcast_arrays(np.asarray(y, dtype=np.float64),
                                     np.asarray(mu, dtype=np.float64),
                                     np.asarray(phi, dtype=np.float64))
    r = 1.0 / np.maximum(fa, 1e-9)
    from scipy import stats
    nb = stats.nbinom.sf(ya - 1, r, r / (r + ma))
    result: F64 = np.where(ya <= 0, 1.0, np.where(fa > 1e-9, nb, stats.poisson.sf(ya - 1, ma)))
    return result


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


def _count_law(mu: float, phi: float, top: int) -> tuple[I64, F64]:
    """Counts ``0..top`` and their NB(mu, phi) probabilities (Poisson for phi = 0)."""
    y = np.arange(top + 1, dtype=np.int64)
    from scipy import stats
    if phi <= 1e-9:
        p: F64 = stats.poisson.pmf(y, mu)
    else:
        r = 1.0 / phi
        p = stats.nbinom.pmf(y, r, r / (r + mu))
    return y, p


def _arl(h: float, a: float, b: float, p: F64, states: int) -> float:
    """ARL from 0 of ``S = max(0, S + a y + b)`` alarming above ``h``; ``p[y]`` = P(count = y).

    The statistic lives on the grid ``0, h/states, ..., h``; a step that lands
    between two grid points is split between them in proportion to its
    distance, so that the small daily drift ``b`` of a sparse series is kept on
    average (rounding it to the nearest point would stop the decay). Counts
    beyond ``p`` are alarms from every state. ``(I - Q) L = 1``.
    """
    if h <= 0:  # any rise alarms: a geometric wait for a count with a y + b > 0
        rise = 1.0 - float(p[a * np.arange(p.size) + b <= 0].sum())
        return 1.0 / rise if rise > 0 else math.inf
    width = h / states
    grid = np.arange(states + 1) * width
    y = np.arange(p.size)
    land = grid[:, None] + a * y[None, :] + b  # [state, count]
    pos = np.clip(land / width, 0.0, None)
    low = np.floor(pos).astype(np.int64)
    frac = pos - low
    inside = land <= h + 1e-12
    n = states + 1
    rows = np.broadcast_to(np.arange(n)[:, None], land.shape)
    prob = np.broadcast_to(p[None, :], land.shape)
    up = np.minimum(low + 1, states)
    flat = np.concatenate([(rows * n + np.minimum(low, states))[inside],
                           (rows * n + up)[inside]])
    weight = np.concatenate([(prob * (1 - frac))[inside], (prob * frac)[inside]])
    q = np.bincount(flat, weights=weight, minlength=n * n).reshape(n, n)
    arl = _solve_dominant(np.eye(n) - q, np.ones(n))
    return float(arl[0]) if arl is not None else math.inf


def _solve_dominant(a: F64, b: F64) -> F64 | None:
    """Solve ``a x = b`` for a row-diagonally dominant ``a`` (None if singular).

    ``I - Q`` with Q sub-stochastic is one, so Gaussian elimination needs no
    pivoting. Plain array arithmetic rather than LAPACK: for these 101 x 101
    systems a threaded BLAS spends more time waking threads than solving,
    badly so on a busy machine.
    """
    a = a.copy()
    x = b.astype(np.float64)
    n = a.shape[0]
    for k in range(n):
        if a[k, k] <= 1e-300:
            return None
        f = a[k + 1:, k] / a[k, k]
        a[k + 1:, k:] -= f[:, None] * a[k, k:][None, :]
        x[k + 1:] -= f * x[k]
    for k in range(n - 1, -1, -1):
        x[k] = (x[k] - float((a[k, k + 1:] * x[k + 1:]).sum())) / a[k, k]
    return x


_MAX_COUNT = 20_000  # counts above this alarm (their mass is negligible where charts run)


def _law_top(mu: float, phi: float) -> int:
    """A count above which NB(mu, phi) has less than 1e-12 of its mass (at most _MAX_COUNT)."""
    from scipy import stats
    if phi > 1e-9:
        r = 1.0 / phi
        tail = float(stats.nbinom.isf(1e-12, r, r / (r + mu)))
    else:
        tail = float(stats.poisson.isf(1e-12, mu))
    return int(min(max(tail + 1, 1.0), _MAX_COUNT))


def _alarm_top(h: float, a: float, b: float, law_top: int) -> int:
    """Largest count worth tracking: above it every state alarms (or the law has no mass)."""
    return int(max(1, min(law_top, math.ceil((h - b) / a) + 1)))


def run_length(h: float, mu: float, phi: float, shift: float, states: int = 100) -> float:
    """In-control average run length of the NB CUSUM with threshold ``h`` (Brook–Evans).

    The statistic's range ``[0, h]`` is cut into ``states`` steps; the chain's
    transition probabilities come from the NB(mu, phi) law of the daily count,
    and ``(I - Q) L = 1`` gives the expected days to the first alarm from 0.
    """
    a, b = (float(v) for v in llr_terms(np.array(mu), np.array(phi), shift))
    _, p = _count_law(mu, phi, _alarm_top(h, a, b, _law_top(mu, phi)))
    return _arl(h, a, b, p, states)


def calibrate_threshold(mu: float, phi: float, shift: float, arl0_days: float,
                        states: int = 100) -> float:
    """Smallest threshold ``h`` whose in-control ARL reaches ``arl0_days`` (bisection)."""
    a, b = (float(v) for v in llr_terms(np.array(mu), np.array(phi), shift))
    law_top = _law_top(mu, phi)
    _, p_all = _count_law(mu, phi, _alarm_top(400.0, a, b, law_top))

    def arl(h: float) -> float:
        return _arl(h, a, b, p_all[: _alarm_top(h, a, b, law_top) + 1], states)

    # Illinois (regula falsi) on log ARL(h) - log ARL0, which rises with h, nearly linearly.
    target = math.log(arl0_days)
    lo, f_lo = 0.0, math.log(arl(0.0)) - target
    if f_lo >= 0:
        return 0.0
    hi, f_hi = a, math.log(arl(a)) - target
    while f_hi < 0 and hi < 200:
        lo, f_lo = hi, f_hi
        hi *= 2
        f_hi = math.log(arl(hi)) - target
    side = 0
    for _ in range(30):
        if hi - lo <= 1e-3 * max(hi, 1.0):
            break
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < mid < hi:
            mid = (lo + hi) / 2
        f_mid = math.log(arl(mid)) - target
        if f_mid >= 0:
            hi, f_hi = mid, f_mid
            f_lo = f_lo / 2 if side == -1 else f_lo  # Illinois: keep the stale end moving
            side = -1
        else:
            lo, f_lo = mid, f_mid
            f_hi = f_hi / 2 if side == 1 else f_hi
            side = 1
    return hi


MU_GRID = np.geomspace(1e-4, 50.0, 35)  # above 50 a day the threshold hardly changes
PHI_GRID = np.array([0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0])


@functools.lru_cache(maxsize=16)
def threshold_table(shift: float, arl0_days: float) -> F64:
    """Thresholds on the grid ``MU_GRID x PHI_GRID`` (cached per shift and ARL0)."""
    return np.array([[calibrate_threshold(float(m), float(f), shift, arl0_days)
                      for f in PHI_GRID] for m in MU_GRID])


def _table_lookup(table: F64, lm: F64, lf: F64) -> F64:
    """Bilinear interpolation of a threshold table at log mu ``lm`` and log(1 + phi) ``lf``."""
    gx, gy = np.log(MU_GRID), np.log1p(PHI_GRID)
    i = np.clip(np.searchsorted(gx, lm) - 1, 0, gx.size - 2)
    j = np.clip(np.searchsorted(gy, lf) - 1, 0, gy.size - 2)
    u = (lm - gx[i]) / (gx[i + 1] - gx[i])
    v = (lf - gy[j]) / (gy[j + 1] - gy[j])
    result: F64 = ((1 - u) * (1 - v) * table[i, j] + u * (1 - v) * table[i + 1, j]
                   + (1 - u) * v * table[i, j + 1] + u * v * table[i + 1, j + 1])
    return result


def thresholds(mu: F64, phi: F64, shift: float, arl0_days: float) -> F64:
    """Threshold per cell: bilinear in (log mu, log(1 + phi)) on :func:`threshold_table`."""
    lm = np.log(np.clip(mu, MU_GRID[0], MU_GRID[-1]))
    lf = np.log1p(np.clip(phi, PHI_GRID[0], PHI_GRID[-1]))
    return _table_lookup(threshold_table(shift, arl0_days), lm, lf)
