"""Impact per event and per border section: the potential consequences (CIRAM).

The impact score of an event lies on the scale of the EUROSUR event impact
levels, 1 (low) to 4 (very high):

    score = min(4, severity of the type
                   + 0.5 x log2(1 + persons + minors)      (people at risk; a child counts twice)
                   + 1   if there was violence
                   + 1   x log2(1 + killed + injured)
                   + 0.25 x log2(1 + kg seized))
    then raised to the level the originator reported (low 1, medium 2, high 3, very high 4)

so the person on the spot can always raise, never lower, the computed
impact. A section's impact is the mean score of its events over the last
months, shrunk towards the mean of all sections (a section with two
dramatic events is not yet a dramatic section). docs/risk.md has the worked
example. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from sitcen.analysis.event_table import I64, LEVELS, TYPES, EncodedEvents, encode
from sitcen.analysis.threat import MonthLike, last_month

F64 = npt.NDArray[np.float64]

#: Severity of each event type before its attributes (1 = low ... 3 = high).
DEFAULT_SEVERITY: Mapping[str, float] = {
    "green_border_crossing": 1.0,
    "river_crossing": 1.5,
    "clandestine_at_bcp": 1.0,
    "drug_smuggling": 2.0,
    "weapons_smuggling": 3.0,
    "excise_goods_smuggling": 1.0,
    "migrant_smuggling": 2.0,
    "human_trafficking": 3.0,
    "document_fraud": 1.0,
    "stolen_vehicle": 1.0,
    "natural_disaster": 2.0,
    "armed_incident": 3.0,
    "epidemic": 2.0,
    "suspicious_person": 1.0,
    "suspicious_vehicle": 1.0,
    "suspicious_aircraft": 1.5,
    "damaged_border_sign": 0.5,
    "lost_person": 1.5,
    "refusal_of_entry": 0.5,
    "illegal_stay": 0.5,
    "asylum_at_border": 1.0,
}

MAX_SCORE = 4.0
#: Score floor of each reported impact level (index = position in LEVELS).
LEVEL_FLOOR: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)
#: Upper bounds of the score for the derived labels low, medium, high (above: very_high).
LABEL_BOUNDS: tuple[float, ...] = (1.5, 2.5, 3.5)


@dataclass(frozen=True)
class ImpactWeights:
    """Weights of the event impact score; ``severity`` overrides :data:`DEFAULT_SEVERITY`."""

    severity: Mapping[str, float] = field(default_factory=dict)
    per_log2_person: float = 0.5
    violence: float = 1.0
    per_log2_casualty: float = 1.0
    per_log2_kg: float = 0.25
    reported_level_floor: bool = True

    def __post_init__(self) -> None:
        unknown = sorted(set(self.severity) - set(TYPES))
        if unknown:
            raise ValueError(f"ImpactWeights.severity: unknown event types {unknown}")
        for name, value in [*self.severity.items(), ("per_log2_person", self.per_log2_person),
                            ("violence", self.violence),
                            ("per_log2_casualty", self.per_log2_casualty),
                            ("per_log2_kg", self.per_log2_kg)]:
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"ImpactWeights: {name} must be a finite number >= 0")

    def severities(self) -> F64:
        """Severity of each event type in ``TYPES`` order."""
        merged = {**DEFAULT_SEVERITY, **self.severity}
        return np.array([float(merged.get(t, 1.0)) for t in TYPES])


def _log2_1p(values: F64) -> F64:
    out: F64 = np.log2(1.0 + values)
    return out


def impact_terms(enc: EncodedEvents, weights: ImpactWeights | None = None,
                 index: npt.NDArray[np.intp] | I64 | None = None, *,
                 extras: bool = True) -> dict[str, F64]:
    """The terms of the impact score of the events at ``index`` (default: all).

    With ``extras=False`` the violence, casualty and seizure terms are left
    out (zero): the score of an event that has none of them.
    """
    w = weights or ImpactWeights()
    at: npt.NDArray[np.intp] | I64 = np.arange(len(enc)) if index is None else index
    n = at.size
    floors = np.array([*LEVEL_FLOOR, 0.0]) if w.reported_level_floor else np.zeros(5)
    terms = {
        "severity": w.severities()[enc.type[at]],
        "persons_term": w.per_log2_person * _log2_1p(enc.persons_at(at)),
        "violence_term": np.zeros(n),
        "casualty_term": np.zeros(n),
        "seizure_term": np.zeros(n),
        "reported_floor": floors[enc.level[at]],  # level -1 (unknown) picks 0
    }
    if extras:
        terms["violence_term"] = np.where(enc.violence[at], w.violence, 0.0)
        terms["casualty_term"] = w.per_log2_casualty * _log2_1p(enc.casualties_at(at))
        terms["seizure_term"] = w.per_log2_kg * _log2_1p(enc.kg[at])
    return terms


def impact_scores(enc: EncodedEvents, weights: ImpactWeights | None = None,
                  index: npt.NDArray[np.intp] | I64 | None = None, *,
                  extras: bool = True) -> F64:
    """The impact score (0-4) of the events at ``index`` (default: all)."""
    t = impact_terms(enc, weights, index, extras=extras)
    total = t["severity"] + t["persons_term"]
    if extras:
        total += t["violence_term"] + t["casualty_term"] + t["seizure_term"]
    np.minimum(total, MAX_SCORE, out=total)
    np.maximum(total, t["reported_floor"], out=total)
    return total


def impact_label(score: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Derived impact level of scores: low < 1.5 <= medium < 2.5 <= high < 3.5 <= very_high."""
    labels = np.array(LEVELS, dtype=object)
    out: npt.NDArray[np.object_] = labels[np.searchsorted(LABEL_BOUNDS, np.asarray(score),
                                                          side="right")]
    return out


def event_impact(events: pd.DataFrame, weights: ImpactWeights | None = None) -> pd.DataFrame:
    """The impact of each event, term by term, on the events' own index.

    Columns: ``severity``, ``persons_term``, ``violence_term``,
    ``casualty_term``, ``seizure_term``, ``reported_floor``, ``impact`` (the
    score) and ``impact_level`` (the label the score reads as).
    """
    defaults = {"section_id": None, "occurred_at": 0}
    missing = {k: v for k, v in defaults.items() if k not in events}
    enc = encode(events.assign(**missing) if missing else events, section_ids=())
    terms = impact_terms(enc, weights)
    frame = pd.DataFrame(terms, index=events.index)
    frame["impact"] = impact_scores(enc, weights)
    frame["impact_level"] = impact_label(frame["impact"].to_numpy())
    return frame


@dataclass(frozen=True)
class ImpactSettings:
    """The window and the shrinkage of the section impact."""

    weights: ImpactWeights = field(default_factory=ImpactWeights)
    months: int = 12  # events of these months, ending with the assessed month
    prior_events: float = 10.0  # pseudo-events at the all-sections mean


def section_impact(events: pd.DataFrame | EncodedEvents, *,
                   section_ids: Sequence[str] | None = None, month: MonthLike | None = None,
                   settings: ImpactSettings | None = None) -> pd.DataFrame:
    """Impact per section over the ``months`` ending with ``month`` (default: latest with data).

    Columns: ``events``, ``mean_impact`` (plain mean score), ``impact`` (mean
    shrunk towards the all-sections mean with ``prior_events`` pseudo-events;
    the all-sections mean itself when a section has no events), ``impact_norm``
    ((impact - 1) / 3 clipped to 0-1), ``max_impact``, ``high_events`` (score
    >= 2.5), ``persons``, ``violent_events``, ``casualties``, ``quantity_kg``.
    ``attrs["overall_mean"]`` is the all-sections mean.
    """
    s = settings or ImpactSettings()
    enc = encode(events, section_ids)
    n_sec = len(enc.section_ids)
    last = last_month(enc, month)
    # Every event of the window is scored without its rare terms (violence, casualties,
    # seizures); the few events that have them are then scored in full and corrected.
    idx = enc.window(last, s.months)
    sec = enc.section[idx]
    plain = impact_scores(enc, s.weights, idx, extras=False)
    special = idx[enc.special_at(idx)]
    special_sec = enc.section[special]
    full = impact_scores(enc, s.weights, special)
    plain_special = impact_scores(enc, s.weights, special, extras=False)
    high = LABEL_BOUNDS[1]

    def per_section(values: npt.ArrayLike | None = None, at: npt.ArrayLike = sec) -> F64:
        out: F64 = np.bincount(np.asarray(at), weights=values, minlength=n_sec).astype(
            np.float64)
        return out

    count = per_section()
    total = per_section(plain) + per_section(full - plain_special, special_sec)
    high_events = per_section(plain >= high) + per_section(
        (full >= high).astype(np.float64) - (plain_special >= high), special_sec)
    max_impact = np.zeros(n_sec)
    np.maximum.at(max_impact, sec, plain)  # a plain score never exceeds the full one
    np.maximum.at(max_impact, special_sec, full)
    overall = float(total.sum() / count.sum()) if count.sum() else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    shrunk = (total + s.prior_events * overall) / (count + s.prior_events) if (
        s.prior_events > 0) else np.where(count > 0, mean, overall)
    frame = pd.DataFrame({
        "events": count.astype(np.int64),
        "mean_impact": mean,
        "impact": shrunk,
        "impact_norm": np.clip((shrunk - 1.0) / 3.0, 0.0, 1.0),
        "max_impact": max_impact,
        "high_events": high_events.astype(np.int64),
        "persons": per_section(enc.persons[idx]).astype(np.int64),
        "violent_events": per_section(enc.violence[special], special_sec).astype(np.int64),
        "casualties": per_section(enc.casualties_at(special), special_sec).astype(np.int64),
        "quantity_kg": per_section(enc.kg[special], special_sec),
    }, index=pd.Index(enc.section_ids, name="section_id"))
    frame.attrs.update(overall_mean=overall, months=s.months,
                       month=str(pd.Period(ordinal=last, freq="M")))
    return frame
