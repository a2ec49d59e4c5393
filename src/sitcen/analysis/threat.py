"""Threat per border section and month: magnitude, likelihood and trend (CIRAM).

* **Magnitude** of a month on a section: the sum over its events of a weight
  per event type, plus a weight per person involved, plus a weight per
  doubling of the seized kilograms (:class:`ThreatWeights`).
* **Likelihood**: the probability that next month's event count on the
  section exceeds a threshold, from a negative-binomial predictive built on
  the section's recent months and its border's seasonal pattern.
* **Trend**: the last ``window_months`` against the ``window_months`` before,
  adjusted for the season, with a significance test that allows for
  overdispersion.

Everything is computed for all sections at once from count matrices
``[section, month]`` made with one ``numpy.bincount``; docs/risk.md gives the
formulas in plain words with a worked example. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sitcen.analysis.event_table import TYPES, EncodedEvents, encode

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Weight of one event of each type in the magnitude (see docs/risk.md for why).
DEFAULT_TYPE_WEIGHTS: Mapping[str, float] = {
    "green_border_crossing": 1.0,
    "river_crossing": 1.0,
    "clandestine_at_bcp": 1.0,
    "drug_smuggling": 2.0,
    "weapons_smuggling": 3.0,
    "excise_goods_smuggling": 0.5,
    "migrant_smuggling": 2.0,
    "human_trafficking": 3.0,
    "document_fraud": 1.0,
    "stolen_vehicle": 1.0,
    "natural_disaster": 0.5,
    "armed_incident": 4.0,
    "epidemic": 0.5,
    "suspicious_person": 0.5,
    "suspicious_vehicle": 0.5,
    "suspicious_aircraft": 1.0,
    "damaged_border_sign": 0.25,
    "lost_person": 0.25,
    "refusal_of_entry": 0.5,
    "illegal_stay": 0.5,
    "asylum_at_border": 0.25,
}

MonthLike = str | pd.Period | pd.Timestamp | int
_SECTION_ID = re.compile(r"^([A-Z]{2}-[A-Z]{2})-\d+$")


@dataclass(frozen=True)
class ThreatWeights:
    """Weights of the magnitude; ``by_type`` overrides :data:`DEFAULT_TYPE_WEIGHTS` per type.

    magnitude of an event = type weight + ``per_person`` x persons
    + ``per_log2_kg`` x log2(1 + kg seized).
    """

    by_type: Mapping[str, float] = field(default_factory=dict)
    per_person: float = 0.5
    per_log2_kg: float = 1.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.by_type) - set(TYPES))
        if unknown:
            raise ValueError(f"ThreatWeights.by_type: unknown event types {unknown}")
        for name, value in [*self.by_type.items(), ("per_person", self.per_person),
                            ("per_log2_kg", self.per_log2_kg)]:
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"ThreatWeights: weight {name} must be a finite number >= 0")

    def type_weights(self) -> F64:
        """Weight of each event type, in :data:`sitcen.analysis.event_table.TYPES` order."""
        merged = {**DEFAULT_TYPE_WEIGHTS, **self.by_type}
        return np.array([float(merged.get(t, 1.0)) for t in TYPES])


@dataclass(frozen=True)
class ThreatSettings:
    """Knobs of the threat assessment; the defaults are explained in docs/risk.md."""

    weights: ThreatWeights = field(default_factory=ThreatWeights)
    history_months: int = 36  # months read, ending with the assessed month
    window_months: int = 3  # current magnitude = mean of these; trend compares two such windows
    level_months: int = 3  # months the predictive level is estimated from
    threshold: float | Mapping[str, float] | None = None  # events per month; None = quantile
    threshold_quantile: float = 0.75  # of all section-months, when threshold is None
    dispersion: float | None = None  # negative-binomial phi; None = estimated from the data
    max_dispersion: float = 5.0
    season_min_months: int = 24  # no seasonal pattern from a shorter history
    season_pseudo: float = 5.0  # events added to each calendar month, shrinking factors to 1
    level_prior_events: float = 0.5  # keeps a quiet section's likelihood above zero
    magnitude_reference: float | None = None  # None = median over sections with activity
    alpha: float = 0.05  # significance level of the trend
    magnitude_share: float = 0.5  # threat = share x magnitude_norm + (1 - share) x likelihood

    def __post_init__(self) -> None:
        for name in ("history_months", "window_months", "level_months"):
            if getattr(self, name) < 1:
                raise ValueError(f"ThreatSettings.{name} must be at least 1")
        if not 0 < self.threshold_quantile < 1:
            raise ValueError("ThreatSettings.threshold_quantile must lie between 0 and 1")
        if not 0 <= self.magnitude_share <= 1:
            raise ValueError("ThreatSettings.magnitude_share must lie between 0 and 1")
        if not 0 < self.alpha < 1:
            raise ValueError("ThreatSettings.alpha must lie between 0 and 1")


def month_ordinal(value: MonthLike) -> int:
    """A month as a ``pd.Period`` ordinal (months since 1970-01)."""
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Period):
        return int(value.asfreq("M").ordinal)
    return int(pd.Period(value, freq="M").ordinal)


def last_month(enc: EncodedEvents, month: MonthLike | None) -> int:
    """The month to assess: ``month``, else the latest month with events (ValueError if none)."""
    if month is not None:
        return month_ordinal(month)
    if len(enc) == 0:
        raise ValueError("no events: give the month to assess")
    return int(enc.month.max())


def border_of(section_id: str) -> str:
    """The border a section lies on (``KG-TJ`` for ``KG-TJ-007``), or the id itself."""
    match = _SECTION_ID.match(section_id)
    return match.group(1) if match else section_id


# ----------------------------------------------------------------------------- activity


@dataclass(frozen=True, eq=False)
class MonthlyActivity:
    """Per section and month (arrays ``[section, month]``): events, persons, kg, magnitude.

    Months run from ``first_month`` to ``last_month`` (ordinals) without gaps;
    the last one is the month assessed.
    """

    section_ids: tuple[str, ...]
    first_month: int
    events: F64
    persons: F64
    kg: F64
    magnitude: F64
    by_type: F64  # [section, month, type] event counts

    @property
    def last_month(self) -> int:
        return self.first_month + int(self.events.shape[1]) - 1

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(pd.Period(ordinal=self.first_month, freq="M"),
                               periods=self.events.shape[1], freq="M")

    def frame(self) -> pd.DataFrame:
        """Long table: one row per section and month."""
        n_sec, n_month = self.events.shape
        return pd.DataFrame({
            "section_id": np.repeat(np.array(self.section_ids, dtype=object), n_month),
            "month": np.tile(self.months, n_sec),
            "events": self.events.ravel().astype(np.int64),
            "persons": self.persons.ravel().astype(np.int64),
            "quantity_kg": self.kg.ravel(),
            "magnitude": self.magnitude.ravel(),
        })


def monthly_activity(events: pd.DataFrame | EncodedEvents, *,
                     section_ids: Sequence[str] | None = None, month: MonthLike | None = None,
                     history_months: int = 36,
                     weights: ThreatWeights | None = None) -> MonthlyActivity:
    """Aggregate events per section and month up to ``month`` (default: the latest with data).

    Only the ``history_months`` months ending with ``month`` are read, and none
    before the first month with an event (earlier months are unknown, not
    zero); inland events and events after ``month`` are left out. Raises ``ValueError`` when
    there are no events and no ``month``.
    """
    weights = weights or ThreatWeights()
    enc = encode(events, section_ids)
    n_sec = len(enc.section_ids)
    last = last_month(enc, month)
    # The history starts with the first month that has data: months before a node
    # recorded anything are unknown, not zero.
    first = last - max(1, history_months) + 1
    first = min(last, max(first, int(enc.month.min()))) if len(enc) else last
    n_month = last - first + 1
    n_type = len(TYPES)
    # Row 0 collects inland events and columns 0 and n_month + 1 the months outside the
    # history: one pass with no masks, then they are cut off.
    width = n_month + 2
    # Keys are intp: bincount would convert anything narrower, at the cost of a copy each time.
    rel = enc.month - np.int32(first - 1)
    np.clip(rel, 0, n_month + 1, out=rel)
    cell = enc.section.astype(np.intp)
    cell += 1
    cell *= width
    cell += rel
    del rel
    n_cell = (n_sec + 1) * width
    key = cell * n_type
    key += enc.type
    by_type = np.bincount(key, minlength=n_cell * n_type).reshape(n_sec + 1, width, n_type)
    del key
    by_type_f = by_type[1:, 1:-1, :].astype(np.float64)

    def per_cell(weights: npt.NDArray[Any], index: npt.NDArray[np.intp] | None = None) -> F64:
        flat = np.bincount(cell if index is None else cell[index], weights=weights,
                           minlength=n_cell).astype(np.float64, copy=False)
        out: F64 = flat.reshape(n_sec + 1, width)[1:, 1:-1]
        return out

    persons = per_cell(enc.persons)
    seized = enc.seized
    kg_values = enc.kg[seized]
    kg = per_cell(kg_values, seized)
    log_kg = per_cell(np.log2(1.0 + kg_values), seized)
    magnitude = (by_type_f @ weights.type_weights() + weights.per_person * persons
                 + weights.per_log2_kg * log_kg)
    return MonthlyActivity(enc.section_ids, first, by_type_f.sum(axis=2), persons, kg,
                           magnitude, by_type_f)


# ----------------------------------------------------------------------------- season, dispersion


def seasonal_factors(activity: MonthlyActivity, settings: ThreatSettings | None = None) -> F64:
    """Factor of each calendar month for each section, ``[section, 12]`` (January first).

    Pooled over the sections of one border: for calendar month m, (mean count
    of the border in month m + pseudo) / (mean over the 12 calendar months +
    pseudo). All ones when the history is shorter than ``season_min_months``.
    """
    s = settings or ThreatSettings()
    n_sec, n_month = activity.events.shape
    if n_month < s.season_min_months or n_sec == 0:
        return np.ones((n_sec, 12))
    borders = [border_of(x) for x in activity.section_ids]
    codes, uniques = pd.factorize(pd.Series(borders))
    totals = np.zeros((len(uniques), n_month))
    np.add.at(totals, codes, activity.events)
    calendar = (activity.first_month + np.arange(n_month)) % 12
    per_month = np.zeros((len(uniques), 12))
    for m in range(12):
        per_month[:, m] = totals[:, calendar == m].mean(axis=1)
    overall = per_month.mean(axis=1, keepdims=True)
    factors = (per_month + s.season_pseudo) / (overall + s.season_pseudo)
    out: F64 = factors[codes]
    return out


def estimate_dispersion(counts: F64, factors: F64, max_dispersion: float = 5.0) -> float:
    """Pooled negative-binomial dispersion phi (variance = mean + phi mean²), by moments.

    ``counts`` are ``[section, month]``, ``factors`` the seasonal factor of each
    cell; per section the mean and variance of the seasonally adjusted counts,
    then phi = sum(variance - mean) / sum(mean²), clipped to [0, max].
    """
    if counts.shape[1] < 2 or counts.size == 0:
        return 0.0
    adjusted = counts / factors
    mean = adjusted.mean(axis=1)
    var = adjusted.var(axis=1, ddof=1)
    denominator = float((mean**2).sum())
    if denominator <= 0:
        return 0.0
    return float(np.clip((var - mean).sum() / denominator, 0.0, max_dispersion))


# ----------------------------------------------------------------------------- assessment


def _threshold(activity: MonthlyActivity, s: ThreatSettings) -> F64:
    n_sec = len(activity.section_ids)
    if isinstance(s.threshold, Mapping):
        missing = [x for x in activity.section_ids if x not in s.threshold]
        if missing:
            raise ValueError(f"ThreatSettings.threshold has no value for sections {missing[:5]}")
        return np.array([float(s.threshold[x]) for x in activity.section_ids])
    if s.threshold is not None:
        return np.full(n_sec, float(s.threshold))
    quantile = float(np.quantile(activity.events, s.threshold_quantile)) if n_sec else 1.0
    return np.full(n_sec, max(1.0, float(np.floor(quantile))))


def assess_threat(activity: MonthlyActivity, settings: ThreatSettings | None = None
                  ) -> pd.DataFrame:
    """Threat per section for the last month of ``activity``; one row per section.

    Columns: ``events``, ``persons``, ``quantity_kg`` (totals over the window),
    ``magnitude`` (mean monthly magnitude over the window), ``magnitude_norm``
    (magnitude / (magnitude + reference), 0-1), ``expected_next`` (predicted
    events next month), ``threshold``, ``likelihood`` (P(next month's events >
    threshold)), ``trend_ratio``, ``trend_p``, ``trend`` (up | down | flat |
    n/a) and ``threat`` (magnitude_share x magnitude_norm + the rest x
    likelihood, 0-1). ``attrs`` holds the month, the dispersion and the
    magnitude reference used.
    """
    s = settings or ThreatSettings()
    counts = activity.events
    n_sec, n_month = counts.shape
    w = min(s.window_months, n_month)
    factors = seasonal_factors(activity, s)
    calendar = (activity.first_month + np.arange(n_month + 1)) % 12
    cell_factors = factors[:, calendar[:n_month]] if n_sec else np.ones((0, n_month))
    phi = s.dispersion if s.dispersion is not None else estimate_dispersion(
        counts[:, -min(12, n_month):], cell_factors[:, -min(12, n_month):], s.max_dispersion)

    magnitude = activity.magnitude[:, -w:].mean(axis=1)
    active = magnitude[magnitude > 0]
    reference = s.magnitude_reference if s.magnitude_reference is not None else (
        float(np.median(active)) if active.size else 1.0)
    magnitude_norm = magnitude / (magnitude + reference) if reference > 0 else np.zeros(n_sec)

    # Predictive: level from the last level_months, seasonally adjusted, times next month's factor.
    n_level = min(s.level_months, n_month)
    level = ((counts[:, -n_level:].sum(axis=1) + s.level_prior_events)
             / cell_factors[:, -n_level:].sum(axis=1))
    expected = level * factors[:, calendar[n_month]] if n_sec else np.zeros(0)
    threshold = _threshold(activity, s)
    likelihood = exceed_probability(expected, threshold, phi, level_months=n_level,
                                    level=level)

    trend_ratio, trend_p, trend = _trend(counts, cell_factors, w, phi, s.alpha)
    threat = s.magnitude_share * magnitude_norm + (1.0 - s.magnitude_share) * likelihood
    frame = pd.DataFrame({
        "events": counts[:, -w:].sum(axis=1).astype(np.int64),
        "persons": activity.persons[:, -w:].sum(axis=1).astype(np.int64),
        "quantity_kg": activity.kg[:, -w:].sum(axis=1),
        "magnitude": magnitude,
        "magnitude_norm": magnitude_norm,
        "expected_next": expected,
        "threshold": threshold,
        "likelihood": likelihood,
        "trend_ratio": trend_ratio,
        "trend_p": trend_p,
        "trend": trend,
        "threat": threat,
    }, index=pd.Index(activity.section_ids, name="section_id"))
    frame.attrs.update(month=str(pd.Period(ordinal=activity.last_month, freq="M")),
                       dispersion=phi, magnitude_reference=reference, window_months=w)
    return frame


def exceed_probability(expected: npt.ArrayLike, threshold: npt.ArrayLike, dispersion: float, *,
                       level_months: int, level: npt.ArrayLike) -> F64:
    """P(N > threshold) for N negative binomial with mean ``expected``.

    The variance allows for the month-to-month spread (``dispersion`` phi) and
    for the uncertainty of a level estimated from ``level_months`` months:
    c = (1 / level + phi) / level_months, phi' = (1 + phi)(1 + c) - 1, and
    N ~ NB(mean, variance = mean + phi' mean²).
    """
    mu = np.asarray(expected, dtype=np.float64)
    lam = np.asarray(level, dtype=np.float64)
    k = np.floor(np.asarray(threshold, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(lam > 0, (1.0 / lam + dispersion) / level_months, 0.0)
    # A tiny floor keeps r finite; NB with a huge r is the Poisson distribution.
    phi = np.maximum((1.0 + dispersion) * (1.0 + c) - 1.0, 1e-9)
    r = 1.0 / phi
    safe_mu = np.where(mu > 0, mu, 1.0)
    from scipy import stats
    out = np.where(mu > 0, stats.nbinom.sf(k, r, r / (r + safe_mu)), 0.0)
    result: F64 = np.clip(np.asarray(out, dtype=np.float64), 0.0, 1.0)
    return result


def _trend(counts: F64, cell_factors: F64, w: int, phi: float, alpha: float
           ) -> tuple[F64, F64, npt.NDArray[np.object_]]:
    """Seasonally adjusted ratio of the last ``w`` months to the ``w`` before, its p-value."""
    n_sec, n_month = counts.shape
    if n_month < 2 * w:
        return (np.full(n_sec, np.nan), np.full(n_sec, np.nan),
                np.full(n_sec, "n/a", dtype=object))
    a = counts[:, -w:].sum(axis=1)
    b = counts[:, -2 * w:-w].sum(axis=1)
    fa = cell_factors[:, -w:].sum(axis=1)
    fb = cell_factors[:, -2 * w:-w].sum(axis=1)
    ratio = ((a + 0.5) / fa) / ((b + 0.5) / fb)
    se = np.sqrt((1.0 + phi * a / w) / (a + 0.5) + (1.0 + phi * b / w) / (b + 0.5))
    from scipy import stats
    p = 2.0 * stats.norm.sf(np.abs(np.log(ratio)) / se)
    trend = np.where(p < alpha, np.where(ratio > 1, "up", "down"), "flat").astype(object)
    return ratio, p, trend


def threat_table(events: pd.DataFrame | EncodedEvents, *,
                 section_ids: Sequence[str] | None = None, month: MonthLike | None = None,
                 settings: ThreatSettings | None = None) -> pd.DataFrame:
    """The threat of every section for ``month`` (default: the latest month with events)."""
    s = settings or ThreatSettings()
    activity = monthly_activity(events, section_ids=section_ids, month=month,
                                history_months=s.history_months, weights=s.weights)
    return assess_threat(activity, s)


def explain_threat(row: Mapping[str, Any] | pd.Series) -> str:
    """One sentence saying what a threat row means, in plain words."""
    trend = str(row["trend"])
    trend_text = {
        "up": f"rising (x{float(row['trend_ratio']):.2f}, p = {float(row['trend_p']):.3f})",
        "down": f"falling (x{float(row['trend_ratio']):.2f}, p = {float(row['trend_p']):.3f})",
        "flat": "no significant change",
        "n/a": "too short a history for a trend",
    }.get(trend, trend)
    return (f"{int(row['events'])} events, magnitude {float(row['magnitude']):.1f} a month "
            f"({float(row['magnitude_norm']):.2f} of the scale); "
            f"{100 * float(row['likelihood']):.0f} % chance of more than "
            f"{int(row['threshold'])} events next month (expected "
            f"{float(row['expected_next']):.1f}); trend {trend_text}")
