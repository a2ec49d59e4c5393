"""The count law and the CUSUM: hand-checked terms, run lengths against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sitcen.analysis import negative_binomial as nb


def test_llr_terms_poisson_and_negative_binomial() -> None:
    a, b = nb.llr_terms(np.array([1.5]), np.array([0.0]), 2.0)
    assert a[0] == pytest.approx(math.log(2)) and b[0] == pytest.approx(-1.5)
    mu, phi, k, y = 2.0, 0.5, 2.0, np.arange(8)
    a, b = nb.llr_terms(np.array(mu), np.array(phi), k)
    r = 1 / phi
    direct = (stats.nbinom.logpmf(y, r, r / (r + k * mu)) - stats.nbinom.logpmf(y, r, r / (r + mu)))
    assert a * y + b == pytest.approx(direct)


def _simulated_run_length(h: float, mu: float, phi: float, k: float, n: int = 4000) -> float:
    a, b = (float(v) for v in nb.llr_terms(np.array(mu), np.array(phi), k))
    rng = np.random.default_rng(0)
    s, first = np.zeros(n), np.full(n, -1)
    t = 0
    while (first < 0).any():
        t += 1
        s = np.maximum(0, s + a * rng.poisson(rng.gamma(1 / phi, mu * phi, n)) + b)
        first[(first < 0) & (s > h)] = t
    return float(first.mean())


@pytest.mark.parametrize(("mu", "phi", "k", "arl0"), [(1.0, 0.3, 2.0, 60.0),
                                                      (0.05, 0.33, 3.0, 300.0)])
def test_run_length_matches_simulation(mu: float, phi: float, k: float, arl0: float) -> None:
    # The second case has a daily drift (b = -0.1) smaller than a grid step: rounding
    # each step to a grid point would stop the decay (ARL off by ~40 %); splitting the
    # step between its two neighbours keeps it.
    h = nb.calibrate_threshold(mu, phi, k, arl0)
    assert nb.run_length(h, mu, phi, k) == pytest.approx(arl0, rel=0.02)
    assert nb.run_length(0.97 * h, mu, phi, k) < arl0  # the smallest such threshold
    assert _simulated_run_length(h, mu, phi, k) == pytest.approx(arl0, rel=0.06)


def test_threshold_zero_when_no_count_can_raise_the_statistic() -> None:
    # Poisson(20), k = 3: a y + b > 0 needs y > 2 * 20 / log 3 = 36.4, P = 1e-4 a day.
    h = nb.calibrate_threshold(20.0, 0.0, 3.0, 1000.0)
    assert h == 0.0
    assert nb.run_length(0.0, 20.0, 0.0, 3.0) == pytest.approx(
        1 / stats.poisson.sf(36, 20.0), rel=1e-6)


def test_tail_probability() -> None:
    got = nb.tail_probability([0, 3, 5], [1.0, 1.0, 2.0], [0.5, 0.0, 0.25])
    assert got[0] == 1.0
    assert got[1] == pytest.approx(stats.poisson.sf(2, 1.0))
    assert got[2] == pytest.approx(stats.nbinom.sf(4, 4, 4 / 6))
