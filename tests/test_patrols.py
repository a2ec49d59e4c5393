"""The patrol game (analysis/patrols.py): constraints, degenerate cases, schedules, the fit."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from sitcen.analysis.patrols import (
    Closure,
    PatrolInputs,
    PatrolPlanError,
    Response,
    Shift,
    attack_shares,
    capped_allocation,
    closed_sections,
    draw_schedule,
    expected_comparison,
    fit_response,
    plan_patrols,
    travel_hours,
)
from sitcen.geo import default_index


def _inputs(n: int = 12, m: int = 4, *, seed: int = 3, **changes: object) -> PatrolInputs:
    rng = np.random.default_rng(seed)
    base: dict[str, object] = {
        "section_ids": [f"S{i:02d}" for i in range(n)],
        "values": rng.random(n),
        "detections": rng.poisson(4, n).astype(float),
        "team_ids": [f"T{t}" for t in range(m)],
        "team_hours": np.array([8.0, 16.0, 12.0, 24.0][:m] * (m // 4 + 1))[:m],
        "travel_h": rng.random((m, n)) * 2.5,
        "min_presence": np.zeros(n),
    }
    base.update(changes)
    return PatrolInputs(**base)  # type: ignore[arg-type]


def test_every_constraint_holds_on_the_solution() -> None:
    n, m = 12, 4
    travel = np.random.default_rng(3).random((m, n)) * 2.5
    travel[:, 5] = np.inf  # nobody reaches section 5
    minimum = np.zeros(n)
    minimum[2] = 0.5  # a crossing point
    inputs = _inputs(n, m, travel_h=travel, min_presence=minimum, closed=frozenset({"S07"}))
    plan = plan_patrols(inputs)
    x = plan.assignment
    assert x.min() >= -1e-9 and x.max() <= 1 + 1e-9
    # A team is in one place per shift and works no more whole shifts than its hours allow.
    assert np.all(x.sum(axis=1) <= 1 + 1e-6)
    whole_shifts = np.floor(inputs.team_hours / 8)
    assert np.all(x.sum(axis=(1, 2)) <= whole_shifts + 1e-6)
    # Only where a team gets there and back inside the shift, and it counts what is left.
    lengths = np.array([s.hours for s in inputs.shifts])
    share = (lengths[None, None, :] - 2 * travel[:, :, None]) / lengths[None, None, :]
    assert np.all(x[share < 0.1] <= 1e-9)
    expected = np.minimum((np.clip(share, 0, 1) * x).sum(axis=0), 1)
    np.testing.assert_allclose(plan.coverage, expected, atol=1e-6)
    assert np.all(plan.coverage <= 1 + 1e-9)
    # Minimum presence, closed pass, unreachable section.
    assert np.all(plan.coverage[2] >= 0.5 - 1e-6)
    assert np.all(plan.coverage[7] == 0) and np.all(x[:, 7, :] == 0)
    assert np.all(plan.coverage[5] == 0)
    reasons = dict(zip(inputs.section_ids, plan.reasons, strict=True))
    assert reasons["S07"] == "closed" and reasons["S05"] == "out_of_reach"
    # The attack shares are the SUQR response to the plan's coverage.
    assert plan.attack_share.sum() == pytest.approx(1.0)
    assert plan.explain()[7]["reason"] == "closed"


def test_one_section_one_team_patrols_it_all_shift() -> None:
    inputs = PatrolInputs(["KG-TJ-001"], np.array([1.0]), np.array([3.0]), ["T"],
                          np.array([8.0]), np.array([[0.0]]), np.zeros(1),
                          shifts=(Shift("day", 8, 8),))
    plan = plan_patrols(inputs)
    assert plan.assignment[0, 0, 0] == pytest.approx(1.0)
    assert plan.coverage[0, 0] == pytest.approx(1.0)
    assert plan.attack_share[0, 0] == pytest.approx(1.0)
    (only,) = draw_schedule(plan, np.random.default_rng(0))
    assert (only.team_id, only.section_id, only.leave_h, only.back_h) == ("T", "KG-TJ-001", 8, 16)


def test_one_team_of_eight_hours_over_three_shifts_works_one_shift() -> None:
    inputs = PatrolInputs(["S"], np.array([1.0]), np.array([0.0]), ["T"],
                          np.array([8.0]), np.array([[1.0]]), np.zeros(1))
    plan = plan_patrols(inputs)
    assert plan.assignment.sum() == pytest.approx(1.0)
    assert plan.coverage.sum() == pytest.approx(0.75)  # two hours of eight are travel


def test_drawn_schedules_reproduce_the_plan() -> None:
    inputs = _inputs(8, 4, seed=11)
    plan = plan_patrols(inputs)
    rng = np.random.default_rng(2024)
    days = 4000
    counts = np.zeros_like(plan.assignment)
    shift_of = {s.name: k for k, s in enumerate(inputs.shifts)}
    section_of = {sid: i for i, sid in enumerate(inputs.section_ids)}
    team_of = {tid: t for t, tid in enumerate(inputs.team_ids)}
    whole = np.floor(inputs.team_hours / 8)
    for _ in range(days):
        worked = np.zeros(len(inputs.team_ids))
        seen: set[tuple[int, int]] = set()
        for a in draw_schedule(plan, rng):
            t, s = team_of[a.team_id], shift_of[a.shift]
            assert (t, s) not in seen  # one place per shift
            seen.add((t, s))
            worked[t] += 1
            counts[t, section_of[a.section_id], s] += 1
            assert a.leave_h <= a.on_section_h <= a.off_section_h <= a.back_h
        assert np.all(worked <= whole)  # never more shifts than the team's hours
    p = plan.assignment
    freq = counts / days
    # Five standard errors of a binomial frequency (plus a hair for p near 0 or 1).
    bound = 5 * np.sqrt(p * (1 - p) / days) + 1e-3
    assert np.all(np.abs(freq - p) <= bound)
    coverage = (counts * plan.on_section).sum(axis=0) / days
    np.testing.assert_allclose(coverage, plan.coverage, atol=0.05)


def test_the_fit_recovers_the_simulated_response() -> None:
    rng = np.random.default_rng(7)
    periods, targets = 120, 25
    truth = Response(w_value=3.0, w_coverage=-5.0)
    values = rng.random((periods, targets))
    coverage = rng.random((periods, targets)) * 0.8
    attacks = np.stack([rng.multinomial(40, attack_shares(values[p], coverage[p], truth))
                        for p in range(periods)]).astype(float)
    fitted = fit_response(values, coverage, attacks)
    assert fitted.fitted and fitted.incidents == periods * 40 and fitted.stderr is not None
    se_v, se_c = fitted.stderr
    assert abs(fitted.w_value - 3.0) < 4 * se_v and se_v < 0.3
    assert abs(fitted.w_coverage + 5.0) < 4 * se_c and se_c < 0.4


def test_thin_history_keeps_the_default_response() -> None:
    fitted = fit_response(np.ones((1, 3)), np.zeros((1, 3)), np.array([[1.0, 2.0, 0.0]]))
    assert not fitted.fitted and fitted.incidents == 3


def test_closed_passes_get_no_coverage() -> None:
    calendar = [Closure("S01", "11-15", "04-15"), Closure("S02", "06-01", "06-30")]
    assert closed_sections(calendar, date(2026, 1, 10)) == {"S01"}
    assert closed_sections(calendar, date(2026, 6, 10)) == {"S02"}
    assert closed_sections(calendar, date(2026, 5, 1)) == frozenset()
    inputs = _inputs(closed=closed_sections(calendar, date(2026, 12, 24)),
                     values=np.array([0.0, 1.0] + [0.1] * 10))
    plan = plan_patrols(inputs)
    assert np.all(plan.coverage[1] == 0)  # the most valuable section, but under snow
    assert plan.coverage.sum() > 0
    with pytest.raises(PatrolPlanError, match="month-day"):
        Closure("S01", "13-01", "02-01").applies(date(2026, 1, 1))


def test_infeasible_inputs_are_named() -> None:
    travel = np.full((2, 3), 1.0)
    travel[:, 0] = np.inf
    with pytest.raises(PatrolPlanError, match="S00 needs a presence") as info:
        plan_patrols(_inputs(3, 2, travel_h=travel, min_presence=np.array([0.5, 0, 0])))
    assert info.value.field == "min_presence"
    # Each section alone can be watched, but not all three in every shift by one team.
    with pytest.raises(PatrolPlanError, match="more team shifts") as info:
        plan_patrols(_inputs(3, 1, travel_h=np.zeros((1, 3)), min_presence=np.full(3, 0.6)))
    with pytest.raises(PatrolPlanError, match="closed") as info:
        plan_patrols(_inputs(3, 2, closed=frozenset({"S01"}), min_presence=np.array([0, 1, 0])))
    with pytest.raises(PatrolPlanError) as info:
        plan_patrols(_inputs(3, 2, section_ids=[]))
    assert info.value.field == "sections"
    with pytest.raises(PatrolPlanError) as info:
        plan_patrols(_inputs(3, 2, travel_h=np.zeros((3, 3))))
    assert info.value.field == "travel"


def test_the_plan_beats_the_usual_rules_against_its_adversary() -> None:
    rng = np.random.default_rng(5)
    n = 30
    detections = rng.poisson(20 * np.linspace(1, 0.05, n)).astype(float)
    inputs = _inputs(n, 4, detections=detections, values=np.linspace(1, 0.2, n),
                     travel_h=np.zeros((4, n)))
    plan = plan_patrols(inputs)
    figures = expected_comparison(plan)
    assert figures["plan"] >= figures["proportional"] - 1e-9
    assert figures["plan"] >= figures["uniform"] - 1e-9


def test_capped_allocation_hands_on_what_a_cap_cuts() -> None:
    out = capped_allocation(np.array([10.0, 1.0, 1.0]), 2.0)
    assert out[0] == pytest.approx(1.0) and out.sum() == pytest.approx(2.0)
    assert out[1] == pytest.approx(out[2])


def test_travel_hours_from_the_shipped_geometry() -> None:
    index = default_index()
    sections = [index.section("AF-TJ-004"), index.section("CN-KG-001")]
    centroid = sections[0].geometry.centroid
    hours = travel_hours(centroid.x, centroid.y, sections, speed_kmh=30)
    assert hours[0] < 0.5 < hours[1]
    assert math.isfinite(hours[1])
    with pytest.raises(PatrolPlanError):
        travel_hours(0, 0, sections, speed_kmh=0)


def test_nothing_open_within_reach_plans_no_patrol() -> None:
    inputs = _inputs(3, 2, closed=frozenset({"S00", "S01", "S02"}))
    plan = plan_patrols(inputs)
    assert plan.assignment.sum() == 0 and plan.coverage.sum() == 0
    assert set(plan.reasons) == {"closed"}
    assert draw_schedule(plan, np.random.default_rng(0)) == []
