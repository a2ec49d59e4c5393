"""The outbreak detectors the early-warning benchmark measures ours against (_outbreak.py).

Each is checked against its published definition on a series small enough to
work out by hand, and the oracle's true rates against the scenario they come from.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _outbreak as ob

from sitcen.demo.scenario import BACKGROUND_SHAPE, TYPES, background_rates, generate


def test_ears_c1_c2_c3_follow_their_definitions() -> None:
    row = np.array([[1, 2, 3, 1, 2, 3, 1, 6, 0, 9, 8, 7]])
    c1, c2, c3 = (ob.ears(row, m) for m in ("C1", "C2", "C3"))
    week = row[0, :7].astype(float)
    assert np.isnan(c1[0, :7]).all() and np.isnan(c2[0, :9]).all()
    # C1 on day 7: the 7 days before it; C2 on day 9: the 7 days before a 2-day guard.
    assert c1[0, 7] == pytest.approx((6 - week.mean()) / week.std(ddof=1))
    assert c2[0, 9] == pytest.approx((9 - week.mean()) / week.std(ddof=1))
    # C3: the day's and the two previous days' C2, less 1, floored at 0, added up; so
    # from the third day C2 has (as R's surveillance::earsC: baseline + 5).
    assert np.isnan(c3[0, :11]).all()
    assert c3[0, 11] == pytest.approx(sum(max(c2[0, d] - 1, 0.0) for d in (9, 10, 11)))
    assert c3[0, 11] > 0
    with pytest.raises(ValueError, match="unknown EARS method"):
        ob.ears(row, "C4")


def test_ears_keeps_a_flat_week_finite() -> None:
    row = np.array([[0, 0, 0, 0, 0, 0, 0, 3]])
    assert ob.ears(row, "C1")[0, 7] == pytest.approx(3 / 0.5)


def _farrington_day(counts: np.ndarray, day: int) -> float:
    return float(ob.farrington(counts, (np.array([0]), np.array([day])))[0])


def test_farrington_scores_on_the_two_thirds_power_scale() -> None:
    counts = np.full((1, 400), 4)
    counts[0, 380] = 10
    z = _farrington_day(counts, 380)
    n = 2 * ob.FARRINGTON_HALF_WIDTH + 1  # one earlier year of references, all 4
    se = math.sqrt(4 / 9 * 4 ** (1 / 3) * (1 + 1 / n))  # phi = 1: no overdispersion
    assert z == pytest.approx((10 ** (2 / 3) - 4 ** (2 / 3)) / se)
    assert _farrington_day(counts, 379) == pytest.approx(0.0)
    assert math.isnan(_farrington_day(counts, 300))  # no earlier year yet


def test_farrington_weighs_down_a_past_outbreak_among_its_references() -> None:
    rng = np.random.default_rng(7)
    counts = rng.poisson(4.0, (1, 400))
    counts[0, 380] = 12
    plain = _farrington_day(counts, 380)
    counts[0, 15] = 40  # an outbreak a year earlier, inside the reference window
    spoiled = _farrington_day(counts, 380)
    # The outlier raises the dispersion, but its weight is cut, so the day still stands out.
    assert 0 < spoiled < plain
    assert spoiled > 1.0


def test_oracle_scores_the_tail_of_the_true_law() -> None:
    counts = np.zeros((1, 30), dtype=np.int64)
    counts[0, 20] = 10
    mean = np.full((1, 30), 2.0)
    score = ob.oracle(counts, mean, np.array([0.0]), (np.array([0]), np.array([20])))
    # With no overdispersion the one-day window is Poisson(2); longer windows add
    # zero-count days, which only make 10 less surprising.
    assert score[0] == pytest.approx(-math.log10(stats.poisson.sf(9, 2.0)), rel=1e-3)


def test_background_rates_are_the_rates_the_scenario_drew_from() -> None:
    rates = background_rates(0.25, seed=5, anomalies=False)
    scenario = generate(0.25, seed=5, anomalies=False)
    assert rates.shape == (len(scenario.section_ids), 91, len(TYPES))
    # The background is a negative binomial around each rate (armed incidents burstier).
    phi = np.where(np.array(TYPES) == "armed_incident", 1 / 0.3, 1 / BACKGROUND_SHAPE)
    sd = math.sqrt(float((rates + phi * rates**2).sum()))
    assert abs(len(scenario) - float(rates.sum())) < 5 * sd
    # Per type too: the totals follow the rates, not just their sum.
    per_type = np.bincount(scenario.type, minlength=len(TYPES))
    busy = rates.sum(axis=(0, 1)) > 200
    ratio = per_type[busy] / rates.sum(axis=(0, 1))[busy]
    assert np.all(np.abs(ratio - 1) < 0.2)
