"""Risk per border section (CIRAM: risk = f(threat, vulnerability, impact)), ranking, levels.

    risk = threat x (0.5 + 0.5 x vulnerability) x (0.5 + 0.5 x impact)

with all three on 0-1. Threat drives: no threat, no risk. Vulnerability and
impact each scale it between one half and the whole, so a section with
threat T carries between T/4 (strong defence, mild consequences) and T
(open border, grave consequences). Expanded, the product is a sum that a
screen can show as stacked bars:

    risk = T/4                          threat alone
         + T x V/4 x (1 + I/2)          what the vulnerability adds
         + T x I/4 x (1 + V/2)          what the impact adds

(the joint term T x V x I / 4 is split evenly between vulnerability and
impact). Each section also gets a proposed impact level (low | medium |
high | critical) with its reasons in plain words, and :data:`REACTIONS`
gives the reaction checklist of each level. docs/risk.md explains the
choices with a worked example that tests/test_risk.py recomputes.
Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sitcen.analysis.event_table import TYPES, EncodedEvents, encode
from sitcen.analysis.impact import ImpactSettings, section_impact
from sitcen.analysis.threat import (
    MonthLike,
    ThreatSettings,
    assess_threat,
    explain_threat,
    monthly_activity,
)
from sitcen.analysis.vulnerability import (
    TERMS,
    SectionCapacity,
    VulnerabilitySettings,
    adjacency_from_ids,
    capacity_frame,
    detection_at_line,
    explain_vulnerability,
    vulnerability_table,
)

F64 = npt.NDArray[np.float64]

LEVEL_ORDER: tuple[str, ...] = ("low", "medium", "high", "critical")

#: What each section impact level asks of the services (docs/domain.md; wording ours).
REACTIONS: Mapping[str, tuple[str, ...]] = {
    "low": (
        "Keep regular, risk-based surveillance and checks with the staff the section has.",
        "Report events as usual, within 24 hours, and say how the service reacted.",
        "Look at the section again in the next monthly risk analysis.",
    ),
    "medium": (
        "Keep regular, risk-based surveillance and checks with the staff the section has.",
        "Add measures fitted to the threat: patrols and sensors moved to where events "
        "cluster, checks stepped up on the routes in use.",
        "Tell the national coordination centre the level and the measures taken.",
        "Look at the section again every week.",
    ),
    "high": (
        "Reinforce the section: extra staff, vehicles and sensors, from neighbouring "
        "sections first (see the surge exercise).",
        "The national coordination centre supports with national resources and coordinates "
        "the response.",
        "Inform the centres of the neighbouring country and of the regional partners.",
        "Consider asking partners or international programmes for support.",
        "Send a daily situation report; review the level at least weekly.",
    ),
    "critical": (
        "A temporary level for a wider area at risk: act across the neighbouring sections, "
        "not on this section alone.",
        "National-level command of the response; every available reinforcement is moved in.",
        "Ask partners and international programmes for support and keep them informed.",
        "Send situation reports at least daily; review the level every day and lower it as "
        "soon as the wider threat eases.",
    ),
}


@dataclass(frozen=True)
class RiskSettings:
    """Settings of the whole recomputation (each part has its own; see docs/risk.md)."""

    threat: ThreatSettings = field(default_factory=ThreatSettings)
    impact: ImpactSettings = field(default_factory=ImpactSettings)
    vulnerability: VulnerabilitySettings = field(default_factory=VulnerabilitySettings)
    detection_months: int = 12  # months of crossings behind the share detected at the line
    # Vulnerability of a section with no capacity inventory; None = refuse (ValueError).
    unknown_vulnerability: float | None = 0.5
    medium_at: float = 0.15  # risk at or above: medium
    high_at: float = 0.35  # risk at or above: high
    rising_ratio: float = 1.5  # a significant rise at least this big raises the level one step
    critical_neighbours: int = 2  # high neighbours that make a high section critical

    def __post_init__(self) -> None:
        if not 0 <= self.medium_at <= self.high_at <= 1:
            raise ValueError("RiskSettings: need 0 <= medium_at <= high_at <= 1")
        if self.unknown_vulnerability is not None and not 0 <= self.unknown_vulnerability <= 1:
            raise ValueError("RiskSettings.unknown_vulnerability must lie between 0 and 1")


def combine(threat: npt.ArrayLike, vulnerability: npt.ArrayLike, impact: npt.ArrayLike
            ) -> dict[str, F64]:
    """Risk and its three contributions from threat, vulnerability and impact (all 0-1)."""
    t = np.asarray(threat, dtype=np.float64)
    v = np.asarray(vulnerability, dtype=np.float64)
    i = np.asarray(impact, dtype=np.float64)
    return {
        "risk": t * (0.5 + 0.5 * v) * (0.5 + 0.5 * i),
        "threat_part": t / 4.0,
        "vulnerability_part": t * v / 4.0 * (1.0 + i / 2.0),
        "impact_part": t * i / 4.0 * (1.0 + v / 2.0),
    }


@dataclass(frozen=True, eq=False)
class RiskAssessment:
    """The outcome of :func:`assess_risk` for one month.

    ``table``: one row per section, highest risk first, with ``rank``,
    ``risk``, ``proposed_level``, the three inputs on 0-1 (``threat``,
    ``vulnerability``, ``impact`` = the impact table's ``impact_norm``), their
    contributions (``threat_part``,
    ``vulnerability_part``, ``impact_part``, summing to ``risk``), the threat's
    own parts (``magnitude_norm``, ``likelihood``, ``trend``, ``trend_ratio``),
    ``vulnerability_known`` and ``reasons`` (plain words, "; "-separated).
    ``threat``, ``impact`` and ``vulnerability`` are the full tables behind it.
    """

    month: str
    table: pd.DataFrame
    threat: pd.DataFrame
    impact: pd.DataFrame
    vulnerability: pd.DataFrame
    settings: RiskSettings

    def explain(self, section_id: str) -> dict[str, Any]:
        """Everything behind one section's score, JSON-ready (no NaN), for a "why" screen."""
        if section_id not in self.table.index:
            raise KeyError(f"no section {section_id!r} in this assessment")
        row = _record(self.table, section_id)
        t = _record(self.threat, section_id)
        imp = _record(self.impact, section_id)
        share = self.settings.threat.magnitude_share
        vul: dict[str, Any] = {"score": float(row["vulnerability"]),
                               "known": bool(row["vulnerability_known"]), "terms": []}
        if vul["known"]:
            terms = explain_vulnerability(self.vulnerability.loc[[section_id]].iloc[0],
                                          self.settings.vulnerability)
            vul["terms"] = terms.to_dict("records")
        level = str(row["proposed_level"])
        out: dict[str, Any] = _clean({
            "section_id": section_id,
            "month": self.month,
            "rank": int(row["rank"]),
            "risk": float(row["risk"]),
            "proposed_level": level,
            "reasons": str(row["reasons"]).split("; "),
            "reactions": list(REACTIONS[level]),
            "formula": "risk = threat x (0.5 + 0.5 x vulnerability) x (0.5 + 0.5 x impact)",
            "contributions": {"threat": float(row["threat_part"]),
                              "vulnerability": float(row["vulnerability_part"]),
                              "impact": float(row["impact_part"])},
            "threat": {
                "score": float(t["threat"]),
                "from_magnitude": share * float(t["magnitude_norm"]),
                "from_likelihood": (1 - share) * float(t["likelihood"]),
                **{k: t[k] for k in ("events", "persons", "quantity_kg", "magnitude",
                                     "magnitude_norm", "expected_next", "threshold",
                                     "likelihood", "trend", "trend_ratio", "trend_p")},
                "text": explain_threat(t),
            },
            "vulnerability": vul,
            "impact": {"score": float(row["impact"]), **imp},
        })
        return out


def _record(frame: pd.DataFrame, section_id: str) -> dict[str, Any]:
    """One row of a section-indexed table as a plain dict."""
    records = frame.loc[[section_id]].to_dict("records")
    return {str(k): v for k, v in records[0].items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return _plain(value)


def _capacity_table(capacities: Mapping[str, SectionCapacity] | Iterable[SectionCapacity]
                    | pd.DataFrame | None) -> pd.DataFrame:
    if capacities is None:
        return capacity_frame([])
    if isinstance(capacities, pd.DataFrame):
        return capacities
    if isinstance(capacities, Mapping):
        for key, cap in capacities.items():
            if key != cap.section_id:
                raise ValueError(f"capacity filed under {key!r} is for {cap.section_id!r}")
        return capacity_frame(capacities.values())
    return capacity_frame(capacities)


def assess_risk(events: pd.DataFrame | EncodedEvents,
                capacities: Mapping[str, SectionCapacity] | Iterable[SectionCapacity]
                | pd.DataFrame | None = None, *,
                section_ids: Sequence[str] | None = None, month: MonthLike | None = None,
                adjacency: Mapping[str, Sequence[str]] | None = None,
                settings: RiskSettings | None = None,
                silent_sensors: Mapping[str, int] | None = None) -> RiskAssessment:
    """Recompute threat, impact, vulnerability and risk of every section for ``month``.

    ``section_ids`` defaults to the sections with a capacity or an event;
    ``month`` to the latest month with events; ``adjacency`` (section ->
    neighbours) to :func:`~sitcen.analysis.vulnerability.adjacency_from_ids`.
    ``silent_sensors`` (section -> sensors silent or faulty now) reduce the
    sections' surveillance capacity (:func:`vulnerability_table`).
    A section without a capacity inventory gets ``unknown_vulnerability``
    (default 0.5, said in its reasons) or, when that is None, a ``ValueError``
    naming the sections.
    """
    s = settings or RiskSettings()
    caps = _capacity_table(capacities)
    if section_ids is None:
        seen: set[str] = set(map(str, caps.index))
        if isinstance(events, EncodedEvents):
            seen |= set(events.section_ids)
        else:
            seen |= {str(x) for x in events["section_id"].dropna().unique()}
        section_ids = sorted(seen)
    enc = encode(events, section_ids)
    sections = enc.section_ids
    activity = monthly_activity(enc, month=month, history_months=s.threat.history_months,
                                weights=s.threat.weights)
    last = activity.last_month
    threat = assess_threat(activity, s.threat)
    impact = section_impact(enc, month=last, settings=s.impact)
    detected = detection_at_line(enc, month=last, months=s.detection_months)

    known_ids = [x for x in sections if x in caps.index]
    missing = [x for x in sections if x not in caps.index]
    if missing and s.unknown_vulnerability is None:
        raise ValueError(f"no capacity inventory for {len(missing)} sections, e.g. "
                         f"{missing[:5]}; add them or set unknown_vulnerability")
    vulnerability = vulnerability_table(caps.loc[known_ids], detected["share_at_line"],
                                        detected["crossings"], s.vulnerability,
                                        silent_sensors=silent_sensors)
    v_score = vulnerability["score"].reindex(list(sections))
    known = v_score.notna().to_numpy()
    v = v_score.fillna(s.unknown_vulnerability if s.unknown_vulnerability is not None else 0.0)

    parts = combine(threat["threat"].to_numpy(), v.to_numpy(), impact["impact_norm"].to_numpy())
    table = pd.DataFrame({
        **parts,
        "threat": threat["threat"].to_numpy(),
        "vulnerability": v.to_numpy(),
        "impact": impact["impact_norm"].to_numpy(),
        "vulnerability_known": known,
        "magnitude_norm": threat["magnitude_norm"].to_numpy(),
        "likelihood": threat["likelihood"].to_numpy(),
        "trend": threat["trend"].to_numpy(),
        "trend_ratio": threat["trend_ratio"].to_numpy(),
    }, index=pd.Index(sections, name="section_id"))
    w = int(threat.attrs["window_months"])
    armed = activity.by_type[:, -w:, TYPES.index("armed_incident")].sum(axis=1)
    levels, reasons = propose_levels(table, vulnerability, impact, armed,
                                     adjacency if adjacency is not None
                                     else adjacency_from_ids(sections), s)
    table["proposed_level"] = levels
    table["reasons"] = reasons
    table = table.sort_values(["risk"], ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    month_text = str(pd.Period(ordinal=last, freq="M"))
    return RiskAssessment(month_text, table, threat, impact, vulnerability, s)


def propose_levels(table: pd.DataFrame, vulnerability: pd.DataFrame, impact: pd.DataFrame,
                   armed_incidents: npt.ArrayLike, adjacency: Mapping[str, Sequence[str]],
                   settings: RiskSettings | None = None) -> tuple[list[str], list[str]]:
    """Proposed section impact level and its reasons for each row of ``table``.

    1. By risk: below ``medium_at`` low, below ``high_at`` medium, else high.
    2. A significant rise of at least ``rising_ratio`` raises it one step
       (at most to high).
    3. A high section becomes critical when the wider area is at risk: at
       least ``critical_neighbours`` neighbouring sections are high too, or an
       armed incident happened on it in the assessment window.

    ``table`` needs ``risk``, ``threat``, ``vulnerability``, ``impact``,
    ``vulnerability_known``, ``magnitude_norm``, ``likelihood``, ``trend`` and
    ``trend_ratio``; ``armed_incidents`` is aligned with its rows.
    """
    s = settings or RiskSettings()
    ids = [str(x) for x in table.index]
    risk = table["risk"].to_numpy(np.float64)
    base = np.where(risk >= s.high_at, 2, np.where(risk >= s.medium_at, 1, 0))
    ratio = table["trend_ratio"].to_numpy(np.float64)
    rising = (table["trend"].to_numpy() == "up") & (ratio >= s.rising_ratio) & (base < 2)
    step = base + rising
    high = {sid for sid, k in zip(ids, step.tolist(), strict=True) if k >= 2}
    armed = np.asarray(armed_incidents).tolist()
    weakest = _weakest_terms(vulnerability).reindex(ids).tolist()
    imp_mean = impact["impact"].reindex(ids).tolist()
    imp_events = impact["events"].reindex(ids).tolist()
    cols = ["threat", "magnitude_norm", "likelihood", "vulnerability", "vulnerability_known",
            "impact"]
    rows = table[cols].itertuples(index=False)
    levels: list[str] = []
    reasons: list[str] = []
    for k, (sid, row) in enumerate(zip(ids, rows, strict=True)):
        threat, magnitude_norm, likelihood, vul, known, imp = row
        level = int(step[k])
        words = [f"risk {risk[k]:.2f} ({_band_text(int(base[k]), s)})",
                 f"threat {threat:.2f}: activity at {magnitude_norm:.0%} of the scale, "
                 f"{likelihood:.0%} chance of a busy month next",
                 (f"vulnerability {vul:.2f}: weakest point {weakest[k]}" if known else
                  f"vulnerability {vul:.2f}: no capacity inventory on file, assumed"),
                 f"impact {imp:.2f}: events weigh {imp_mean[k]:.1f} of 4 on average "
                 f"({int(imp_events[k])} events in the last months)"]
        if rising[k]:
            words.append(f"activity rising x{ratio[k]:.1f} against the months before: "
                         f"raised to {LEVEL_ORDER[level]}")
        if level == 2:
            why = []
            high_neighbours = [n for n in adjacency.get(sid, ()) if n in high]
            if len(high_neighbours) >= s.critical_neighbours:
                why.append(f"neighbouring sections {', '.join(high_neighbours)} are high too")
            if armed[k] > 0:
                why.append(f"{int(armed[k])} armed incident(s) in the assessment window")
            if why:
                level = 3
                words.append("wider area at risk (" + "; ".join(why) + "): critical")
        levels.append(LEVEL_ORDER[level])
        reasons.append("; ".join(words))
    return levels, reasons


def _weakest_terms(vulnerability: pd.DataFrame) -> pd.Series:
    """Per section, the vulnerability term with the largest contribution."""
    cols = [f"c_{t}" for t in TERMS]
    if vulnerability.empty:
        return pd.Series([], dtype=object)
    names = np.array(TERMS, dtype=object)[vulnerability[cols].to_numpy().argmax(axis=1)]
    return pd.Series(names, index=vulnerability.index)


def _band_text(step: int, s: RiskSettings) -> str:
    if step == 2:
        return f"at or above {s.high_at:g}: high"
    if step == 1:
        return f"between {s.medium_at:g} and {s.high_at:g}: medium"
    return f"below {s.medium_at:g}: low"
