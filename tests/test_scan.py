"""Space-time permutation scan: hand-checked statistic, null p-values, planted clusters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sitcen.analysis.scan import poisson_glr, space_time_scan


def test_glr_by_hand() -> None:
    got = poisson_glr(np.array([3.0, 1.0, 0.0]), np.array([1.0, 2.0, 1.0]), 10.0)
    assert got[0] == pytest.approx(3 * math.log(3) + 7 * math.log(7 / 9))
    assert got[1] == 0.0 and got[2] == 0.0  # fewer than expected: no cluster


def test_tiny_example_by_hand() -> None:
    # Two places 50 km apart, two days (0, 1). Place A: 3 events on day 1, 1 on day 0;
    # place B: 1 event on day 1, 3 on day 0. N = 8; 4 events on the last day.
    x = np.array([0, 0, 0, 0, 50, 50, 50, 50], dtype=float)
    y = np.zeros(8)
    day = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    result = space_time_scan(x, y, day, radii_km=(1.0,), max_days=1, replicates=99, seed=1)
    best = result.clusters[0]
    # Cylinder "A, last day": c = 3, mu = (4 at A) x (4 on day 1) / 8 = 2.
    assert (best.centre_x, best.days, best.observed) == (0.0, 1, 3)
    assert best.expected == pytest.approx(2.0)
    assert best.llr == pytest.approx(3 * math.log(3 / 2) + 5 * math.log(5 / 6))
    assert sorted(best.members.tolist()) == [0, 1, 2]
    assert result.replicates == 99
    assert 0 < best.p_value <= 1


def _background(rng: np.random.Generator, n: int = 600, places: int = 150,
                days: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    px, py = rng.uniform(0, 200, places), rng.uniform(0, 20, places)
    where = rng.integers(0, places, n)
    return px[where], py[where], rng.integers(0, days, n)


def test_p_values_are_roughly_uniform_under_the_null() -> None:
    p_values = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        x, y, day = _background(rng)
        result = space_time_scan(x, y, day, max_radius_km=6, max_days=5, replicates=99,
                                 seed=seed)
        p_values.append(result.clusters[0].p_value)
    p = np.array(p_values)
    assert (p < 0.05).sum() <= 6  # 2 expected; 6 or more has probability < 0.5 %
    assert 0.3 < p.mean() < 0.7


def test_a_planted_cluster_is_found_with_a_small_p_value() -> None:
    rng = np.random.default_rng(7)
    x, y, day = _background(rng)
    k = 12
    x = np.concatenate([x, 100 + rng.normal(0, 1, k)])
    y = np.concatenate([y, 10 + rng.normal(0, 1, k)])
    day = np.concatenate([day, rng.integers(37, 40, k)])
    result = space_time_scan(x, y, day, max_radius_km=6, max_days=5, replicates=999, seed=3)
    best = result.clusters[0]
    assert best.p_value == pytest.approx(0.001)
    assert math.hypot(best.centre_x - 100, best.centre_y - 10) < 5
    planted = set(range(x.size - k, x.size))
    assert len(planted & set(best.members.tolist())) >= 0.8 * k
    for other in result.clusters[1:]:  # secondary clusters share no place with it
        assert not set(other.members.tolist()) & set(best.members.tolist())
        assert other.p_value > 0.05


def test_sequential_stop_runs_fewer_replicates() -> None:
    rng = np.random.default_rng(2)
    x, y, day = _background(rng)
    result = space_time_scan(x, y, day, max_radius_km=6, max_days=5, replicates=999,
                             batch=20, stop_above=0.01)
    assert result.replicates < 999 or result.clusters[0].p_value <= 0.01
    frame = result.frame()
    assert list(frame.columns)[:3] == ["centre_x", "centre_y", "radius_km"]


def test_empty_input() -> None:
    assert space_time_scan([], [], []).clusters == []


def test_critical_value_separates_significant_clusters() -> None:
    rng = np.random.default_rng(11)
    x, y, day = _background(rng)
    result = space_time_scan(x, y, day, max_radius_km=6, max_days=5, replicates=199, seed=4)
    assert result.null_maxima.size == 199
    for alpha in (0.01, 0.05, 0.2):
        crit = result.critical_value(alpha)
        for c in result.clusters:
            assert (c.p_value <= alpha) == (c.llr > crit + 1e-9)
    assert result.critical_value(0.001) == math.inf  # 199 replicates cannot give p < 0.005
