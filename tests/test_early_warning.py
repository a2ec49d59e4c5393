"""NB charts: hand-checked terms, ARL against simulation, baselines, prospective runs, alarms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sitcen.analysis import early_warning as ew

FIRST = np.datetime64("2024-01-01")
YEAR = ew.YEAR_DAYS


def _series(counts: np.ndarray, per_section: int = 1) -> ew.SeriesCounts:
    n = counts.shape[0]
    return ew.SeriesCounts(tuple(f"S{i // per_section}" for i in range(n)),
                           tuple(f"k{i % per_section}" for i in range(n)), "type", FIRST,
                           np.asarray(counts, dtype=np.int64))


def _nb_counts(rng: np.random.Generator, mu: np.ndarray, phi: float, days: int) -> np.ndarray:
    lam = rng.gamma(1 / phi, mu[:, None] * phi, (mu.size, days))
    return np.asarray(rng.poisson(lam), dtype=np.int64)


def test_llr_terms_poisson_and_negative_binomial() -> None:
    a, b = ew.llr_terms(np.array([1.5]), np.array([0.0]), 2.0)
    assert a[0] == pytest.approx(math.log(2)) and b[0] == pytest.approx(-1.5)
    mu, phi, k, y = 2.0, 0.5, 2.0, np.arange(8)
    a, b = ew.llr_terms(np.array(mu), np.array(phi), k)
    r = 1 / phi
    direct = (stats.nbinom.logpmf(y, r, r / (r + k * mu)) - stats.nbinom.logpmf(y, r, r / (r + mu)))
    assert a * y + b == pytest.approx(direct)


def _simulated_run_length(h: float, mu: float, phi: float, k: float, n: int = 4000) -> float:
    a, b = (float(v) for v in ew.llr_terms(np.array(mu), np.array(phi), k))
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
    h = ew.calibrate_threshold(mu, phi, k, arl0)
    assert ew.run_length(h, mu, phi, k) == pytest.approx(arl0, rel=0.02)
    assert ew.run_length(0.97 * h, mu, phi, k) < arl0  # the smallest such threshold
    assert _simulated_run_length(h, mu, phi, k) == pytest.approx(arl0, rel=0.06)


def test_threshold_zero_when_no_count_can_raise_the_statistic() -> None:
    # Poisson(20), k = 3: a y + b > 0 needs y > 2 * 20 / log 3 = 36.4, P = 1e-4 a day.
    h = ew.calibrate_threshold(20.0, 0.0, 3.0, 1000.0)
    assert h == 0.0
    assert ew.run_length(0.0, 20.0, 0.0, 3.0) == pytest.approx(
        1 / stats.poisson.sf(36, 20.0), rel=1e-6)


def test_tail_probability() -> None:
    got = ew.tail_probability([0, 3, 5], [1.0, 1.0, 2.0], [0.5, 0.0, 0.25])
    assert got[0] == 1.0
    assert got[1] == pytest.approx(stats.poisson.sf(2, 1.0))
    assert got[2] == pytest.approx(stats.nbinom.sf(4, 4, 4 / 6))


def test_baseline_of_flat_and_empty_series() -> None:
    counts = np.zeros((2, 200), dtype=np.int64)
    counts[0] = 3
    s = ew.BaselineSettings(window_days=28, guard_days=7, min_history_days=14)
    exp, support = ew.baseline(counts, ["A", "A"], s)
    assert np.isnan(exp[:, :21]).all()  # window [t-35, t-7) holds < 14 days before day 21
    assert exp[0, 21:] == pytest.approx(3.0, rel=0.01)
    assert support[0, 100] == 3 * 28 + 1
    # Nothing ever: the prior of one event over the history keeps the rate above 0,
    # falling as the empty history grows.
    assert (exp[1, 21:] > 0).all() and (np.diff(exp[1, 40:]) < 0).all()
    assert exp[1, 199] == pytest.approx(1 / (28 + 1 / (0.5 / 192)))


def test_seasonal_ratio_follows_last_year() -> None:
    # A series that doubles every year on day 200 for 40 days: in year 2 the
    # baseline expects the doubling from the same dates last year.
    days = 365 * 2 + 250
    t = np.arange(days)
    rate = np.where((t % 365 >= 200) & (t % 365 < 240), 20.0, 10.0)
    counts = np.rint(rate).astype(np.int64)[None, :]
    exp, _ = ew.baseline(counts, ["A"])
    assert exp[0, 2 * 365 + 215] > 1.6 * 10  # plain trailing mean would say 10


def test_pooled_dispersion_recovers_the_simulated_one() -> None:
    rng = np.random.default_rng(3)
    counts = _nb_counts(rng, rng.uniform(0.5, 4.0, 60), 0.4, 500)
    exp, support = ew.baseline(counts, [f"S{i}" for i in range(60)])
    phi = ew.pooled_dispersion(counts, exp, support, ["k"] * 60)
    assert phi[0, -1] == pytest.approx(0.4, abs=0.06)
    assert (phi[:, 0] == 0).all()  # nothing known yet


def test_predictive_dispersion() -> None:
    # 9 events behind the expected count: v = 1/9 + 0.5/56; one day, then 4 days.
    v = 1 / 9 + 0.5 / 56
    one = ew.predictive_dispersion(np.array([0.5]), np.array([9.0]), 56)
    four = ew.predictive_dispersion(np.array([0.5]), np.array([9.0]), 56, 4)
    assert one[0] == pytest.approx(0.5 + v * 1.5)
    assert four[0] == pytest.approx(0.125 + v * 1.125)


@pytest.mark.parametrize("settings", [
    ew.ChartSettings(),
    ew.ChartSettings(spike_alpha=0.01, spike_days=3, spike_guard_days=2),
])
def test_chart_is_prospective(settings: ew.ChartSettings) -> None:
    rng = np.random.default_rng(1)
    counts = _nb_counts(rng, rng.uniform(0.3, 4.0, 20), 1 / 3, 200)
    full = ew.chart(_series(counts), settings)
    assert full.spike.any() == (settings.spike_alpha > 0)
    for t in (60, 120, 199):
        part = ew.chart(_series(counts[:, : t + 1]), settings)
        for name in ("statistic", "threshold", "p_value", "spike_p", "spike_window", "onset",
                     "cusum", "spike"):
            np.testing.assert_allclose(getattr(part, name)[:, t], getattr(full, name)[:, t],
                                       err_msg=name)


def test_in_control_alarm_rates_by_simulation() -> None:
    # Stationary NB series, baseline estimated from 56 days as in use. The spike test
    # (one day, exact predictive law) keeps its nominal rate. The CUSUM's threshold
    # assumes day-to-day independent errors, but an expected count estimated from 56
    # days is off by the same ~10 % for weeks, and the CUSUM adds that up: its rate is
    # about twice nominal here. docs/early-warning.md: the system's budget is therefore
    # calibrated on in-control data, not taken at face value.
    rng = np.random.default_rng(5)
    counts = _nb_counts(rng, rng.uniform(0.5, 3.0, 300), 0.3, 1500)
    settings = ew.ChartSettings(shift=2.0, arl0_days=365.0, spike_alpha=1e-3)
    result = ew.chart(_series(counts, per_section=4), settings)
    years = np.isfinite(result.expected).sum() / 365.25
    assert result.spike.sum() / years == pytest.approx(1e-3 * 365.25, rel=0.2)
    assert 1.0 < result.cusum.sum() / years < 2.5


def test_planted_step_is_found_and_restarts_the_statistic() -> None:
    # One a day as usual, then four times that for six days.
    rng = np.random.default_rng(2)
    counts = _nb_counts(rng, np.full(20, 1.0), 1 / 3, 300)
    base = counts[5].copy()
    counts[5, 250:256] += rng.poisson(3.0, 6)
    result = ew.chart(_series(counts), ew.ChartSettings(shift=2.0, arl0_days=1460.0))
    hits = np.flatnonzero(result.alarm[5, 250:260])
    assert hits.size and hits[0] <= 3  # within its first four days, at an ARL0 of 4 years
    t = 250 + int(hits[0])
    assert result.statistic[5, t] > result.threshold[5, t]
    assert result.onset[5, t] <= 250 <= t  # the change-point estimate covers the start
    table = ew.alarms(result)
    row = table[(table.section_id == "S5") & (table.first_day == pd.Timestamp(FIRST + t))].iloc[0]
    assert row.observed == counts[5, int(result.onset[5, t]):t + 1].sum()
    assert row.observed > 2 * row.expected and row.p_value < 1e-3
    assert row.methods.startswith("cusum") and "S5" in row.explanation
    # Without the surge the series stays quiet there.
    counts[5] = base
    assert not ew.chart(_series(counts), ew.ChartSettings(2.0, 1460.0)).alarm[5, 250:260].any()


def test_one_day_spike_alarms_on_its_day() -> None:
    rng = np.random.default_rng(4)
    counts = _nb_counts(rng, np.full(10, 0.5), 1 / 3, 200)
    counts[3, 150] = 12
    settings = ew.ChartSettings(shift=3.0, arl0_days=math.inf, spike_alpha=1e-5)
    result = ew.chart(_series(counts), settings)
    assert result.spike[3, 150] and result.p_value[3, 150] < 1e-8
    row = ew.alarms(result).iloc[0]
    assert (row.methods, row.days, row.observed) == ("spike", 1, 12)
    assert row.statistic > row.threshold == pytest.approx(5.0)


def test_spike_test_over_the_last_days_worked_by_hand() -> None:
    # The worked example of docs/early-warning.md: 0.359 expected a day, resting on
    # 21 events; pooled phi = 0.4, so v = 1/21 + 0.4/56 = 0.05476. A surge brings 4,
    # then 3 events. Over d days the law is NB(d x 0.359, phi/d + v (1 + phi/d)):
    # d = 1: phi 0.4767; d = 2: 0.2657; d = 3: 0.1954.
    counts = np.zeros((1, 13), dtype=np.int64)
    counts[0, 11:] = [4, 3]
    expected = np.full(counts.shape, 0.359)
    support = np.full(counts.shape, 21.0)
    phi = np.full(counts.shape, 0.4)
    settings = ew.ChartSettings(arl0_days=math.inf, spike_alpha=1e-3, spike_days=3,
                                spike_guard_days=2)
    p, window = ew.spike_test(counts, expected, support, phi, settings)
    # Day 11, 4 events: alone P(Y >= 4) = 0.00225 (1 in 444); over 2 days (4 against
    # 0.718) 0.0132, over 3 days 0.0374: the day alone wins, times 3 windows.
    assert window[0, 11] == 1 and p[0, 11] == pytest.approx(3 * 0.0022499, rel=1e-4)
    # Day 12: 3 alone is 1 in 82; 7 in 2 days against 0.718 is 1.6458e-4 (1 in 6,076);
    # 7 in 3 days against 1.077 is 8.99e-4. Two days win: 3 x 1.6458e-4 = 1 in 2,025.
    assert window[0, 12] == 2 and p[0, 12] == pytest.approx(3 * 1.6458e-4, rel=1e-4)
    assert (p[0, :11] == 1).all()  # no event, no test
    # On the chart the second day alarms at alpha = 1e-3 (the first does not), and its
    # signal's counts cover both days.
    series = _series(np.concatenate([np.tile([0, 0, 1], 30), [4, 3]])[None, :])
    result = ew.chart(series, settings)
    assert result.spike[0, 91] and not result.spike[0, 90]
    assert result.spike_window[0, 91] == 2 and result.onset[0, 91] == 90
    row = ew.alarms(result).iloc[-1]
    assert (row.methods, row.days, row.observed) == ("spike", 2, 7)
    assert "2 days like these come" in row.explanation


def test_spike_guard_must_cover_the_window() -> None:
    with pytest.raises(ValueError, match="guard"):
        ew.ChartSettings(spike_alpha=1e-3, spike_days=3, spike_guard_days=1)
    assert ew.ChartSettings(spike_days=2).spike_guard == 7  # the baseline's by default
    typ = ew.WarningSettings(spike_days=2, spike_guard_days=1, category_spike_share=0.1)
    assert typ.chart_settings("type", 18).spike_guard == 1
    cat = typ.chart_settings("category", 4)
    assert cat.spike_alpha * YEAR * 4 == pytest.approx(0.1 * 4)


def test_one_or_two_events_in_a_quiet_series_never_alarm() -> None:
    counts = np.zeros((1, 300), dtype=np.int64)
    counts[0, [100, 200, 201]] = [1, 1, 1]
    settings = ew.ChartSettings(2.0, 1460.0, spike_alpha=0.01)
    result = ew.chart(_series(counts), settings)
    assert not result.alarm.any()
    assert result.p_value[0, 100] < 0.01  # unlikely, but only one event
    counts[0, 202] = 1  # a third within the week: now it may
    assert ew.chart(_series(counts), settings).alarm[0, 202]


def _events() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=90, freq="D", tz="UTC")
    rows = [{"occurred_at": d + pd.Timedelta(hours=10), "section_id": "KG-TJ-001",
             "type": "armed_incident"} for d in days[::3]]
    rows += [{"occurred_at": days[80] + pd.Timedelta(hours=h), "section_id": "KG-TJ-001",
              "type": "armed_incident"} for h in range(8)]
    rows.append({"occurred_at": days[5], "section_id": None, "type": "drug_smuggling"})
    rows.append({"occurred_at": days[6], "section_id": "KG-TJ-001", "type": "lost_person"})
    return pd.DataFrame(rows)


def test_daily_counts_by_category_and_by_type() -> None:
    events = _events()
    by_cat = ew.daily_counts(events, start="2024-01-01", end="2024-03-31")
    assert by_cat.section_ids == ("KG-TJ-001",) * 3  # one series per category seen
    assert by_cat.keys == ("crisis", "cross_border_crime", "other")
    assert by_cat.counts.sum() == 39  # the inland event is left out
    by_type = ew.daily_counts(events, start="2024-01-01", end="2024-03-31", by="type",
                              keys=ew.TYPES)
    assert by_type.keys_per_section == len(ew.TYPES) == 21
    row = by_type.keys.index("armed_incident")
    assert by_type.counts[row, 80] == 8 and by_type.counts[row].sum() == 38
    with pytest.raises(ValueError, match="after start"):
        ew.daily_counts(events, start="2024-02-01", end="2024-02-01")


def test_monitor_finds_the_burst_at_both_levels() -> None:
    signals = ew.monitor(_events(), start="2024-01-01", end="2024-03-31",
                         section_ids=["KG-TJ-001"])
    assert list(signals.columns) == ew.SIGNAL_COLUMNS
    burst = signals[signals.first_day == pd.Timestamp("2024-03-21")]
    assert set(burst.level) == {"category", "type"}
    assert set(burst.key) == {"crisis", "armed_incident"}
    assert (burst.observed >= 8).all() and (burst.category == "crisis").all()
    assert ew.alarms(ew.chart(_series(np.zeros((1, 50))))).empty


def test_budget_split() -> None:
    w = ew.WarningSettings(false_alarms_per_section_year=4.0)
    cat = w.chart_settings("category", 4)
    typ = w.chart_settings("type", 18)
    # 0.2 x 4 = 0.8 false alarms a year over 4 categories: one per 5 years per series.
    assert cat.arl0_days == pytest.approx(5 * 365.25) and cat.spike_alpha == 0
    assert typ.arl0_days == pytest.approx(365.25 * 18 / 2.0)
    assert typ.spike_alpha * 365.25 * 18 == pytest.approx(0.3 * 4)
    assert math.isinf(ew.WarningSettings(category_cusum_share=0).chart_settings(
        "category", 4).arl0_days)


def test_chance_in_words() -> None:
    assert ew.chance(0.0004) == "1 in 2,500"
    assert ew.chance(1 / 43_000_000) == "1 in 43 million"
    assert ew.chance(0.6) == "60%"
    assert ew.chance(1e-20) == "less than 1 in a million million"
