"""Patrol plans against an adaptive adversary: interdictions vs today's rules; solve time.

1. **Interdictions on held-out scenario months.** ``generate(years, seed)``
   gives the events of the 411 shipped sections; each section's value is its
   share of the training months' events (log-scaled to 0..1, what the risk
   table would say). A simulated adversary places each month's attempts (as
   many as the scenario has events that month) by SUQR with weights
   ``--w-value`` and ``--w-coverage``, reacting to the coverage it saw the
   month before: it shifts toward less-covered sections. Over the training
   months the defender covered in proportion to the previous month's
   detections (today's rule); the adversary's weights are fitted on those
   months (:func:`fit_response`). Over the held-out months three defenders
   with the same ``--teams`` (one shift a day each, no travel) are compared,
   each month's expected interdictions being the sum of attempts x coverage:
   the game plan (solved once with the fitted weights), proportional to the
   previous month's detections, and uniform.
2. **Solve time** of :func:`plan_patrols` for ``--sections`` sections x
   ``--solve-teams`` teams x 3 shifts: posts every ``--post-km`` along a
   border of 50 km sections, four teams a post, each team reaching what it can
   drive to and back inside a shift at 40 km/h; best of ``--repeats``.

    python benchmarks/patrols.py            # 3 years, 1,000 x 200 x 3
    python benchmarks/patrols.py --smoke

Last stdout line: ``{"interdictions_vs_proportional": ..., "interdictions_vs_uniform": ...,
"solve_s": ...}`` (the first two are relative gains: 0.3 = 30 % more).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from _common import emit, log, parse_args

from sitcen.analysis.patrols import (
    PatrolInputs,
    Response,
    Shift,
    attack_shares,
    fit_response,
    plan_patrols,
    proportional_coverage,
    uniform_coverage,
)
from sitcen.demo.scenario import generate

MONTH_US = int(365.25 / 12 * 86_400 * 1_000_000)


def monthly_counts(years: float, seed: int) -> tuple[list[str], np.ndarray]:
    """Events per month and section of the scenario (months x sections)."""
    s = generate(years, seed=seed, anomalies=False)
    on_border = s.section >= 0
    month = ((s.occurred_at - s.start_us) // MONTH_US)[on_border]
    n_months = int(month.max()) + 1
    counts = np.zeros((n_months, len(s.section_ids)))
    np.add.at(counts, (month, s.section[on_border]), 1)
    return list(s.section_ids), counts[:-1]  # the last month is cut short


def game_coverage(values: np.ndarray, response: Response, teams: int) -> np.ndarray:
    """The game plan's coverage with ``teams`` one-shift teams that reach every section."""
    n = len(values)
    inputs = PatrolInputs([str(i) for i in range(n)], values, np.zeros(n),
                          [f"t{t}" for t in range(teams)], np.full(teams, 8.0),
                          np.zeros((teams, n)), np.zeros(n), shifts=(Shift("day", 8, 8),),
                          response=response)
    return plan_patrols(inputs).coverage[:, 0]


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    section_ids, counts = monthly_counts(args.years, args.seed)
    n = len(section_ids)
    train = int(args.train_months)
    held = counts.shape[0] - train
    if held < 1:
        raise SystemExit("the scenario is too short for its training months")
    rng = np.random.default_rng(args.seed)
    values = np.log1p(counts[:train].sum(axis=0))
    values = values / values.max()
    truth = Response(args.w_value, args.w_coverage)
    budget = float(args.teams)

    # Training: today's rule, the adversary reacting to last month's cover.
    seen = uniform_coverage(n, budget)
    cover_seen, attacks = [], []
    detections = np.ones(n)
    for m in range(train):
        cover = proportional_coverage(detections, budget)
        attempts = rng.multinomial(int(counts[m].sum()), attack_shares(values, seen, truth))
        detections = rng.binomial(attempts, np.clip(cover, 0, 1)).astype(float)
        cover_seen.append(seen)
        attacks.append(attempts)
        seen = cover
    fitted = fit_response(np.broadcast_to(values, (train, n)), np.array(cover_seen),
                          np.array(attacks, dtype=float))
    log(f"fitted w_value {fitted.w_value:.2f} (true {args.w_value}), w_coverage "
        f"{fitted.w_coverage:.2f} (true {args.w_coverage}) on {fitted.incidents} attempts")

    t0 = time.perf_counter()
    plan = game_coverage(values, fitted, args.teams)
    plan_s = time.perf_counter() - t0
    totals = {"game": 0.0, "proportional": 0.0, "uniform": 0.0}
    attempts_total = 0
    state = {"game": seen.copy(), "proportional": seen.copy(), "uniform": seen.copy()}
    last_detections = {"proportional": detections.copy()}
    for m in range(train, train + held):
        total = int(counts[m].sum())
        attempts_total += total
        for name in totals:
            if name == "game":
                cover = plan
            elif name == "uniform":
                cover = uniform_coverage(n, budget)
            else:
                cover = proportional_coverage(last_detections["proportional"] + 1e-9, budget)
            shares = attack_shares(values, state[name], truth)
            attempts = rng.multinomial(total, shares)
            totals[name] += float((attempts * cover).sum())
            if name == "proportional":
                last_detections[name] = rng.binomial(attempts, np.clip(cover, 0, 1)).astype(float)
            state[name] = cover
    log(f"held-out months {held}: {attempts_total} attempts; interdicted "
        + ", ".join(f"{k} {v:.0f}" for k, v in totals.items()))
    return {
        "sections": n, "teams": args.teams, "train_months": train, "held_out_months": held,
        "attempts": attempts_total,
        "interdictions": {k: round(v, 1) for k, v in totals.items()},
        "interdictions_vs_proportional": round(totals["game"] / totals["proportional"] - 1, 3),
        "interdictions_vs_uniform": round(totals["game"] / totals["uniform"] - 1, 3),
        "fitted": {"w_value": round(fitted.w_value, 3), "w_coverage": round(fitted.w_coverage, 3)},
        "plan_s": round(plan_s, 3),
    }


def solve_time(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    n, teams = args.sections, args.solve_teams
    along = np.arange(n) * 50.0 + 25.0
    posts = np.linspace(0, n * 50.0, max(1, teams // 4))
    team_post = np.repeat(posts, 4)[:teams]
    travel = np.abs(team_post[:, None] - along[None, :]) * 1.4 / 40.0
    reach = (2 * travel < 8 * 0.9)
    # Each post's own crossing point, on the section nearest it, is watched a fifth of every
    # shift: its four teams (one shift a day at least) can always give that. Minimums drawn
    # at random could ask more of a post than its teams have, and the plan is then refused.
    minimum = np.zeros(n)
    minimum[np.abs(posts[:, None] - along[None, :]).argmin(axis=1)] = 0.2
    inputs = PatrolInputs([f"S{i}" for i in range(n)], rng.random(n),
                          rng.poisson(5, n).astype(float), [f"T{t}" for t in range(teams)],
                          rng.choice([8.0, 12.0, 16.0], teams), travel, minimum,
                          closed=frozenset(f"S{i}" for i in np.flatnonzero(rng.random(n) < 0.05)
                                           if minimum[i] == 0),
                          response=Response(3.0, -5.0))
    best = float("inf")
    rounds = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        plan = plan_patrols(inputs)
        best = min(best, time.perf_counter() - t0)
        rounds = plan.rounds
    log(f"solve {n} sections x {teams} teams x 3 shifts: {best:.3f} s, {rounds} LPs")
    return {"solve_s": round(best, 3), "solve_sections": n, "solve_teams": teams,
            "solve_shifts": 3, "solve_pairs": int(reach.sum()), "solve_rounds": rounds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--train-months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--teams", type=int, default=40,
                        help="one-shift teams for the 411 sections in the evaluation")
    parser.add_argument("--w-value", type=float, default=3.0)
    parser.add_argument("--w-coverage", type=float, default=-6.0)
    parser.add_argument("--sections", type=int, default=1000)
    parser.add_argument("--solve-teams", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parse_args(parser, argv, {"years": 1.5, "train_months": 12, "sections": 100,
                                     "solve_teams": 20, "repeats": 1})
    result = evaluate(args)
    result.update(solve_time(args))
    emit(result)


if __name__ == "__main__":
    main()
