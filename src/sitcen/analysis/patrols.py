"""Where to patrol: a Stackelberg security game between a post and the smugglers it faces.

The post (the *leader*) commits to a randomised plan: for every team, shift and
border section, the probability that the team patrols that section in that
shift. The adversary (the *follower*) watches the plan over time and picks a
section and shift to cross; it does not see tomorrow's draw. How the
adversary picks is a quantal-response model (SUQR): the attractiveness of a
section-shift is ``w_value * value + w_coverage * coverage`` (plus the log of
the shift's share of activity), and the adversary picks with probability
proportional to ``exp(attractiveness)``. :func:`fit_response` fits the two
weights by maximum likelihood on incident history.

:func:`plan_patrols` finds the coverage that maximises the expected value
interdicted per crossing attempt against that adversary, under the post's
constraints (team hours, travel to and from each section inside a shift,
minimum presence at crossing points, passes closed in winter). The objective
is a ratio of sums of exponentials, so it is solved by Dinkelbach's method: a
guess ``r`` of the achievable rate, a linear programme (HiGHS, through
``scipy.optimize.linprog``) over a piecewise-linear approximation of each
section-shift's term that finds a plan beating ``r`` if there is one, the true
rate of that plan as the next guess, until it stops improving.
:func:`draw_schedule` turns the probabilities into one concrete day (which
team, which section, which hours) whose long-run frequencies are the plan.
docs/patrols.md says all this in plain words, with its limits.

Pure functions: numpy, scipy and shapely; no database, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import shapely
from shapely.ops import nearest_points

from sitcen.errors import FieldError
from sitcen.geo import BorderSection, geodesic_length_km

F64 = npt.NDArray[np.float64]

#: Number of linear pieces each section-shift's term is cut into over coverage 0..1.
PIECES = 20
#: Dinkelbach's method stops after this many programmes, or when the rate gains less than TOL.
MAX_ROUNDS = 8
TOL = 1e-6
#: A team must spend at least this share of a shift on a section for the pairing to count.
MIN_ON_SECTION = 0.1
#: Roads and tracks are longer than the straight line by about this much.
WINDING = 1.4
#: Response weights used when the history is too thin to fit them (docs/patrols.md).
DEFAULT_W_VALUE = 4.0
DEFAULT_W_COVERAGE = -4.0
#: The largest weight the fit may give either term.
MAX_WEIGHT = 20.0
#: Fewer incidents than this and the weights are not fitted.
MIN_INCIDENTS_TO_FIT = 30


class PatrolPlanError(FieldError):
    """Inputs no plan can satisfy, or that are malformed; ``field`` names what."""


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Shift:
    """A block of the day (local hours) in which a team patrols one section."""

    name: str
    start_h: float
    hours: float


#: The usual three eight-hour shifts.
DEFAULT_SHIFTS: tuple[Shift, ...] = (Shift("night", 0, 8), Shift("day", 8, 8),
                                     Shift("evening", 16, 8))


@dataclass(frozen=True)
class Closure:
    """A section closed every year between two month-days (``MM-DD``), both included.

    A range may wrap the new year (``11-15`` to ``04-15``: a high pass under snow).
    """

    section_id: str
    first: str
    last: str

    def applies(self, day: date) -> bool:
        """Whether the section is closed on ``day``."""
        here = (day.month, day.day)
        first, last = _month_day(self.first), _month_day(self.last)
        if first <= last:
            return first <= here <= last
        return here >= first or here <= last


def _month_day(text: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in text.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is a valid day
    except ValueError:
        raise PatrolPlanError("closures", f"{text!r} is not a month-day MM-DD") from None
    return month, day


def closed_sections(closures: Sequence[Closure], day: date) -> frozenset[str]:
    """The sections closed on ``day`` by the calendar."""
    return frozenset(c.section_id for c in closures if c.applies(day))


@dataclass(frozen=True)
class Response:
    """The adversary's quantal-response (SUQR) weights and where they came from."""

    w_value: float = DEFAULT_W_VALUE
    w_coverage: float = DEFAULT_W_COVERAGE
    fitted: bool = False
    incidents: int = 0
    stderr: tuple[float, float] | None = None


@dataclass(frozen=True)
class PatrolInputs:
    """One post's day: its sections, its teams and what the adversary is after.

    ``travel_h[t, i]`` is the one-way travel time in hours of team ``t`` from the
    post to section ``i`` (``inf``: out of reach); ``values`` are on 0..1;
    ``min_presence[i]`` is the least coverage of section ``i`` in every shift
    (a crossing point that must be watched).
    """

    section_ids: Sequence[str]
    values: F64
    detections: F64
    team_ids: Sequence[str]
    team_hours: F64
    travel_h: F64
    min_presence: F64
    closed: frozenset[str] = frozenset()
    shifts: tuple[Shift, ...] = DEFAULT_SHIFTS
    shift_weights: F64 | None = None
    response: Response = field(default_factory=Response)

    def check(self) -> None:
        """Raise :class:`PatrolPlanError` naming the first malformed input."""
        n, m = len(self.section_ids), len(self.team_ids)
        if n == 0:
            raise PatrolPlanError("sections", "the post has no sections to patrol")
        if len(set(self.section_ids)) != n:
            raise PatrolPlanError("sections", "a section is listed twice")
        if len(set(self.team_ids)) != m:
            raise PatrolPlanError("teams", "a team is listed twice")
        if not self.shifts:
            raise PatrolPlanError("shifts", "a day needs at least one shift")
        for name, array, shape in (("values", self.values, (n,)),
                                   ("detections", self.detections, (n,)),
                                   ("min_presence", self.min_presence, (n,)),
                                   ("teams", self.team_hours, (m,)),
                                   ("travel", self.travel_h, (m, n))):
            if np.shape(array) != shape:
                raise PatrolPlanError(name, f"{name} has shape {np.shape(array)}, not {shape}")
        if not np.all(np.isfinite(self.values)) or np.any(self.values < 0):
            raise PatrolPlanError("values", "values must be finite and not negative")
        if np.any(self.min_presence < 0) or np.any(self.min_presence > 1):
            raise PatrolPlanError("min_presence", "a minimum presence is a share, 0 to 1")
        if np.any(self.team_hours < 0) or np.any(np.isnan(self.travel_h)) \
                or np.any(self.travel_h < 0):
            raise PatrolPlanError("teams", "hours and travel times must not be negative")
        if any(s.hours <= 0 for s in self.shifts):
            raise PatrolPlanError("shifts", "a shift must last more than zero hours")
        weights = self.weights_of_shifts()
        if np.any(weights <= 0) or not np.all(np.isfinite(weights)):
            raise PatrolPlanError("shift_weights", "every shift needs a positive weight")

    def weights_of_shifts(self) -> F64:
        """The share of the adversary's activity in each shift (equal when not given)."""
        if self.shift_weights is None:
            return np.full(len(self.shifts), 1.0 / len(self.shifts))
        w = np.asarray(self.shift_weights, dtype=np.float64)
        if w.shape != (len(self.shifts),):
            raise PatrolPlanError("shift_weights", "one weight per shift")
        return w / w.sum() if w.sum() > 0 else w


def travel_hours(lon: float, lat: float, sections: Sequence[BorderSection],
                 speed_kmh: float) -> F64:
    """One-way hours from a post at ``lon, lat`` to the nearest point of each section.

    Straight-line distance times :data:`WINDING` at ``speed_kmh``; the shipped
    geometry knows no roads, so this is a planning figure, not a route.
    """
    if speed_kmh <= 0:
        raise PatrolPlanError("speed_kmh", "a team's speed must be above zero")
    here = shapely.Point(lon, lat)
    hours = np.empty(len(sections))
    for i, section in enumerate(sections):
        near = nearest_points(here, section.geometry)[1]
        km = geodesic_length_km([lon, near.x], [lat, near.y])
        hours[i] = km * WINDING / speed_kmh
    return hours


# ----------------------------------------------------------------------------- the adversary


def attack_shares(values: F64, coverage: F64, response: Response,
                  log_weights: F64 | None = None) -> F64:
    """SUQR: the share of attempts at each target given its value and coverage."""
    z = response.w_value * values + response.w_coverage * coverage
    if log_weights is not None:
        z = z + log_weights
    z = z - z.max()
    e = np.exp(z)
    return np.asarray(e / e.sum(), dtype=np.float64)


def fit_response(values: F64, coverage: F64, attacks: F64) -> Response:
    """Fit the SUQR weights by maximum likelihood.

    ``values``, ``coverage`` and ``attacks`` are periods x targets: in each
    period (a month, say) the value and coverage of every target and how many
    attempts were seen there. Attempts are taken to choose among the targets
    independently with the softmax of their attractiveness; the fit maximises
    that multinomial likelihood (L-BFGS with the exact gradient) and gives
    standard errors from the observed information.
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    c = np.atleast_2d(np.asarray(coverage, dtype=np.float64))
    n = np.atleast_2d(np.asarray(attacks, dtype=np.float64))
    if not v.shape == c.shape == n.shape:
        raise PatrolPlanError("history", "values, coverage and attacks must have one shape")
    total = float(n.sum())
    if total < MIN_INCIDENTS_TO_FIT:
        return Response(incidents=int(total))
    per_period = n.sum(axis=1)

    def probabilities(w: F64) -> F64:
        z = w[0] * v + w[1] * c
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)

    def loss(w: F64) -> tuple[float, F64]:
        z = w[0] * v + w[1] * c
        top = z.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
        nll = -(float((n * z).sum()) - float((per_period * log_norm).sum()))
        p = probabilities(w)
        expected_v = (p * v).sum(axis=1)
        expected_c = (p * c).sum(axis=1)
        grad = -np.array([float((n * v).sum() - (per_period * expected_v).sum()),
                          float((n * c).sum() - (per_period * expected_c).sum())])
        return nll / total, grad / total

    # The model's premise (attraction grows with value, falls with cover) bounds the signs;
    # the magnitudes are bounded so that exp() stays in range.
    import scipy.optimize
    result = scipy.optimize.minimize(loss, np.array([1.0, -1.0]), jac=True, method="L-BFGS-B",
                                     bounds=[(0.0, MAX_WEIGHT), (-MAX_WEIGHT, 0.0)])
    w = np.asarray(result.x, dtype=np.float64)
    p = probabilities(w)
    info = np.zeros((2, 2))
    for a, x in enumerate((v, c)):
        for b, y in enumerate((v, c)):
            mean_x = (p * x).sum(axis=1, keepdims=True)
            mean_y = (p * y).sum(axis=1, keepdims=True)
            info[a, b] = float((per_period[:, None] * p * (x - mean_x) * (y - mean_y)).sum())
    try:
        cov = np.linalg.inv(info)
        stderr: tuple[float, float] | None = (math.sqrt(max(cov[0, 0], 0.0)),
                                              math.sqrt(max(cov[1, 1], 0.0)))
    except np.linalg.LinAlgError:
        stderr = None
    return Response(float(w[0]), float(w[1]), fitted=True, incidents=int(total), stderr=stderr)


def interdiction_rate(values: F64, coverage: F64, response: Response,
                      log_weights: F64 | None = None) -> float:
    """Expected value interdicted per attempt: the sum of share x coverage x value."""
    q = attack_shares(values, coverage, response, log_weights)
    return float((q * coverage * values).sum())


def catch_rate(values: F64, coverage: F64, response: Response,
               log_weights: F64 | None = None) -> float:
    """Expected share of attempts interdicted: the sum of share x coverage."""
    q = attack_shares(values, coverage, response, log_weights)
    return float((q * coverage).sum())


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PatrolPlan:
    """The solved game: per team, section and shift the probability of a patrol.

    ``assignment[t, i, s]`` is the probability that team ``t`` patrols section
    ``i`` in shift ``s``; ``on_section[t, i, s]`` the share of the shift it then
    spends there (the rest is travel); ``coverage[i, s]`` their product summed
    over teams, the share of the shift the section is watched.
    """

    inputs: PatrolInputs
    assignment: F64
    on_section: F64
    coverage: F64
    attack_share: F64
    rate: float
    rounds: int
    reasons: tuple[str, ...]

    def explain(self) -> list[dict[str, object]]:
        """Per section: its value, past detections, planned coverage and why."""
        rows: list[dict[str, object]] = []
        for i, section_id in enumerate(self.inputs.section_ids):
            rows.append({
                "section_id": section_id,
                "value": round(float(self.inputs.values[i]), 4),
                "detections": int(self.inputs.detections[i]),
                "coverage": [round(float(c), 4) for c in self.coverage[i]],
                "attack_share": round(float(self.attack_share[i].sum()), 4),
                "min_presence": round(float(self.inputs.min_presence[i]), 4),
                "reason": self.reasons[i],
            })
        return rows


def _reach(inputs: PatrolInputs) -> F64:
    """Share of each shift a team spends on a section (0: out of reach or closed)."""
    lengths = np.array([s.hours for s in inputs.shifts])
    on = (lengths[None, None, :] - 2 * inputs.travel_h[:, :, None]) / lengths[None, None, :]
    on = np.where(on >= MIN_ON_SECTION, on, 0.0)
    closed = np.array([sid in inputs.closed for sid in inputs.section_ids])
    on[:, closed, :] = 0.0
    shifts_worked = _shifts_per_team(inputs)
    on[shifts_worked == 0, :, :] = 0.0
    return np.asarray(on, dtype=np.float64)


def _shifts_per_team(inputs: PatrolInputs) -> npt.NDArray[np.int64]:
    """Whole shifts each team's hours allow (the longest shift counts)."""
    longest = max(s.hours for s in inputs.shifts)
    return np.floor(inputs.team_hours / longest + 1e-9).astype(np.int64)


def _check_presence(inputs: PatrolInputs, on: F64) -> None:
    """Name a section whose minimum presence no plan can give."""
    for i, section_id in enumerate(inputs.section_ids):
        need = inputs.min_presence[i]
        if need <= 0:
            continue
        if section_id in inputs.closed:
            raise PatrolPlanError("min_presence", f"{section_id} is closed on this day but "
                                  f"asks for a minimum presence of {need:g}")
        for s, shift in enumerate(inputs.shifts):
            most = float(on[:, i, s].sum())
            if most + 1e-9 < need:
                raise PatrolPlanError(
                    "min_presence",
                    f"{section_id} needs a presence of {need:g} in the {shift.name} shift but "
                    f"all the teams that reach it together give at most {min(most, 1):.2f}")


def plan_patrols(inputs: PatrolInputs, *, pieces: int = PIECES) -> PatrolPlan:
    """Solve the game for one post's day; raises :class:`PatrolPlanError` when infeasible."""
    inputs.check()
    n, m, n_shifts = len(inputs.section_ids), len(inputs.team_ids), len(inputs.shifts)
    on = _reach(inputs)
    _check_presence(inputs, on)
    values = np.asarray(inputs.values, dtype=np.float64)
    log_w = np.log(inputs.weights_of_shifts())
    # Targets are (section, shift) pairs, flattened section-major: j = i * n_shifts + s.
    v_t = np.repeat(values, n_shifts)
    lw_t = np.tile(log_w, n)
    base = inputs.response.w_value * v_t + lw_t
    base = base - base.max()
    w_c = inputs.response.w_coverage

    t_idx, i_idx, s_idx = np.nonzero(on)
    n_x = len(t_idx)
    open_targets = np.zeros(n * n_shifts, dtype=bool)
    open_targets[i_idx * n_shifts + s_idx] = True
    targets = np.flatnonzero(open_targets)
    n_g = len(targets) * pieces
    target_row = np.full(n * n_shifts, -1)
    target_row[targets] = np.arange(len(targets))

    # (1) a team is in one place per shift; (2) works no more shifts than its hours allow.
    import scipy.optimize
    import scipy.sparse
    one_place = scipy.sparse.coo_matrix(
        (np.ones(n_x), (t_idx * n_shifts + s_idx, np.arange(n_x))), shape=(m * n_shifts, n_x + n_g))
    hours = scipy.sparse.coo_matrix((np.ones(n_x), (t_idx, np.arange(n_x))), shape=(m, n_x + n_g))
    rows_ub = [one_place, hours]
    b_ub = [np.ones(m * n_shifts), _shifts_per_team(inputs).astype(np.float64)]
    # (3) coverage of a target is what its teams give: sum(on * x) - sum(pieces) = 0.
    g_cols = n_x + np.arange(n_g)
    g_rows = np.repeat(np.arange(len(targets)), pieces)
    link = scipy.sparse.coo_matrix(
        (np.concatenate([on[t_idx, i_idx, s_idx], -np.ones(n_g)]),
         (np.concatenate([target_row[i_idx * n_shifts + s_idx], g_rows]),
          np.concatenate([np.arange(n_x), g_cols]))),
        shape=(len(targets), n_x + n_g))
    # (4) minimum presence: -sum(pieces) <= -need.
    need = np.repeat(inputs.min_presence, n_shifts)[targets]
    wanted = np.flatnonzero(need > 0)
    if len(wanted):
        presence = scipy.sparse.coo_matrix(
            (-np.ones(len(wanted) * pieces),
             (np.repeat(np.arange(len(wanted)), pieces),
              (n_x + wanted[:, None] * pieces + np.arange(pieces)[None, :]).ravel())),
            shape=(len(wanted), n_x + n_g))
        rows_ub.append(presence)
        b_ub.append(-need[wanted])
    a_ub = scipy.sparse.vstack(rows_ub).tocsr()
    a_eq = link.tocsr()
    bounds = np.column_stack([np.zeros(n_x + n_g),
                              np.concatenate([np.ones(n_x), np.full(n_g, 1.0 / pieces)])])
    grid = np.linspace(0.0, 1.0, pieces + 1)

    def true_rate(x: F64) -> tuple[float, F64]:
        cov = np.zeros(n * n_shifts)
        np.add.at(cov, i_idx * n_shifts + s_idx, on[t_idx, i_idx, s_idx] * x)
        cov = np.minimum(cov, 1.0)
        z = base + w_c * cov
        e = np.exp(z - z.max())
        q = e / e.sum()
        return float((q * cov * v_t).sum()), cov

    best_x = np.zeros(n_x)
    best_rate, best_cov = true_rate(best_x)
    r, rounds = best_rate, 0
    # Nothing to decide when no team reaches an open section: the plan is no patrol.
    for rounds in range(1, MAX_ROUNDS + 1 if n_x else 1):
        # Each target's term exp(base + w_c * c) * (v * c - r), cut into linear pieces.
        b = base[targets][:, None]
        terms = np.exp(b + w_c * grid[None, :]) * (v_t[targets][:, None] * grid[None, :] - r)
        slopes = np.diff(terms, axis=1) * pieces
        # Scaling the objective leaves the solution as it is and keeps HiGHS's numbers in
        # range; slopes a billion times below the largest are noise.
        top = float(np.abs(slopes).max(initial=0.0))
        if top > 0:
            slopes = slopes / top
            slopes[np.abs(slopes) < 1e-9] = 0.0
        cost = np.concatenate([np.zeros(n_x), -slopes.ravel()])
        result = scipy.optimize.linprog(cost, A_ub=a_ub, b_ub=np.concatenate(b_ub), A_eq=a_eq,
                                        b_eq=np.zeros(len(targets)), bounds=bounds,
                                        method="highs")
        if result.status == 2:
            raise PatrolPlanError("min_presence", "the minimum presences together need more "
                                  "team shifts than the post has")
        if result.status != 0:
            raise PatrolPlanError("plan", f"the solver stopped: {result.message}")
        x = np.clip(np.asarray(result.x[:n_x], dtype=np.float64), 0.0, 1.0)
        rate, cov = true_rate(x)
        if rate > best_rate + TOL or rounds == 1:
            gained = rate - best_rate
            best_x, best_rate, best_cov = x, rate, cov
            r = rate
            if rounds > 1 and gained < TOL:
                break
        else:
            break
    assignment = np.zeros((m, n, n_shifts))
    assignment[t_idx, i_idx, s_idx] = best_x
    coverage = best_cov.reshape(n, n_shifts)
    z = base + w_c * best_cov
    q = np.exp(z - z.max())
    share = (q / q.sum()).reshape(n, n_shifts)
    reasons = _reasons(inputs, on, coverage)
    return PatrolPlan(inputs, assignment, on, coverage, share, best_rate, rounds, reasons)


def _reasons(inputs: PatrolInputs, on: F64, coverage: F64) -> tuple[str, ...]:
    """Why each section got its share, as a code the console translates.

    ``closed`` (pass closed on the day), ``out_of_reach`` (no team gets there and
    back inside a shift), ``minimum_presence`` (held at the floor a crossing
    point asks), ``reach_limited`` (every team that reaches it is already there),
    ``not_worth`` (left uncovered: attempts there are worth less than the
    cover they would take from others), ``balanced`` (covered until crossing
    there is no more tempting than at the other covered sections).
    """
    out = []
    for i, section_id in enumerate(inputs.section_ids):
        cov = coverage[i]
        most = np.minimum(on[:, i, :].sum(axis=0), 1.0)
        if section_id in inputs.closed:
            out.append("closed")
        elif not np.any(most > 0):
            out.append("out_of_reach")
        elif inputs.min_presence[i] > 0 and np.all(cov <= inputs.min_presence[i] + 1e-6):
            out.append("minimum_presence")
        elif np.all(cov < 1e-6):
            out.append("not_worth")
        elif np.all(cov >= most - 1e-6):
            out.append("reach_limited")
        else:
            out.append("balanced")
    return tuple(out)


# ----------------------------------------------------------------------------- baselines


def capped_allocation(weights: F64, budget: float, cap: F64 | None = None) -> F64:
    """Spread ``budget`` in proportion to ``weights``, no target above its ``cap`` (default 1).

    What is cut off at a cap is handed on to the others in the same proportion.
    """
    w = np.asarray(weights, dtype=np.float64).copy()
    limit = np.ones_like(w) if cap is None else np.asarray(cap, dtype=np.float64)
    out = np.zeros_like(w)
    left = float(budget)
    active = (w > 0) & (limit > 0)
    while left > 1e-12 and active.any():
        share = left * w[active] / w[active].sum()
        room = limit[active] - out[active]
        take = np.minimum(share, room)
        out[active] += take
        left -= float(take.sum())
        active &= out < limit - 1e-12
    return out


def proportional_coverage(detections: F64, budget: float) -> F64:
    """What centres do today: cover in proportion to past detections."""
    d = np.asarray(detections, dtype=np.float64)
    if d.sum() <= 0:
        return uniform_coverage(len(d), budget)
    return capped_allocation(d, budget)


def uniform_coverage(n: int, budget: float) -> F64:
    """The same coverage everywhere."""
    return capped_allocation(np.ones(n), budget)


# ----------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Assignment:
    """One team's patrol: the section, the shift, when it leaves and comes back."""

    team_id: str
    shift: str
    section_id: str
    leave_h: float
    on_section_h: float
    off_section_h: float
    back_h: float

    def to_dict(self) -> dict[str, object]:
        return {"team_id": self.team_id, "shift": self.shift, "section_id": self.section_id,
                "leave_h": round(self.leave_h, 2), "on_section_h": round(self.on_section_h, 2),
                "off_section_h": round(self.off_section_h, 2), "back_h": round(self.back_h, 2)}


def draw_schedule(plan: PatrolPlan, rng: np.random.Generator) -> list[Assignment]:
    """One day's schedule drawn from the plan; over many days each team is where it should be.

    Per team: which shifts it works, by systematic sampling over its shift
    probabilities (one uniform draw; since no shift's probability passes 1 and
    their sum is within the team's whole shifts, it never works a shift twice or
    more shifts than its hours); then, in each shift worked, which section, with
    the plan's conditional probabilities. The chance that team ``t`` patrols
    section ``i`` in shift ``s`` is exactly ``assignment[t, i, s]``.
    """
    inputs = plan.inputs
    whole = _shifts_per_team(inputs)
    out: list[Assignment] = []
    for t, team_id in enumerate(inputs.team_ids):
        per_shift = np.clip(plan.assignment[t].sum(axis=0), 0.0, 1.0)
        if per_shift.sum() > whole[t]:  # the solver's rounding must not add a shift
            per_shift = per_shift * (whole[t] / per_shift.sum())
        edges = np.concatenate([[0.0], np.cumsum(per_shift)])
        start = rng.random()
        marks = start + np.arange(math.ceil(edges[-1]) + 1)
        marks = marks[marks < edges[-1]]
        for mark in marks:
            s = int(np.searchsorted(edges, mark, side="right") - 1)
            s = min(s, len(inputs.shifts) - 1)
            p = plan.assignment[t, :, s]
            if p.sum() <= 0:
                continue
            i = int(rng.choice(len(p), p=p / p.sum()))
            shift = inputs.shifts[s]
            travel = float(inputs.travel_h[t, i])
            out.append(Assignment(team_id, shift.name, inputs.section_ids[i], shift.start_h,
                                  shift.start_h + travel, shift.start_h + shift.hours - travel,
                                  shift.start_h + shift.hours))
    order = {s.name: k for k, s in enumerate(inputs.shifts)}
    out.sort(key=lambda a: (order[a.shift], a.team_id))
    return out


def expected_comparison(plan: PatrolPlan) -> Mapping[str, float]:
    """Per attempt, the value interdicted under the plan and under the two usual rules.

    The baselines spend the same total coverage as the plan, spread over the
    open sections in proportion to past detections, or evenly.
    """
    inputs = plan.inputs
    n_shifts = len(inputs.shifts)
    open_ = np.array([sid not in inputs.closed for sid in inputs.section_ids])
    budget = float(plan.coverage.sum())
    v_t = np.repeat(inputs.values, n_shifts)
    lw_t = np.tile(np.log(inputs.weights_of_shifts()), len(inputs.section_ids))
    weights = np.repeat(np.where(open_, inputs.detections, 0.0), n_shifts)
    proportional = proportional_coverage(weights, budget) if weights.sum() > 0 else \
        capped_allocation(np.repeat(open_.astype(float), n_shifts), budget)
    uniform = capped_allocation(np.repeat(open_.astype(float), n_shifts), budget)
    response = inputs.response
    return {
        "plan": interdiction_rate(v_t, plan.coverage.ravel(), response, lw_t),
        "proportional": interdiction_rate(v_t, proportional, response, lw_t),
        "uniform": interdiction_rate(v_t, uniform, response, lw_t),
    }
