"""Risk per section: the formula, its parts, the proposed levels, the worked example of the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis.risk import (
    LEVEL_ORDER,
    REACTIONS,
    RiskSettings,
    assess_risk,
    combine,
    propose_levels,
)
from sitcen.analysis.vulnerability import SectionCapacity
from sitcen.taxonomy import SectionImpactLevel

DOC = Path(__file__).resolve().parent.parent / "docs" / "risk.md"


def worked_example_events() -> pd.DataFrame:
    """docs/risk.md, "Worked example": six identical months on two sections."""
    rows = []
    for month in pd.period_range("2024-10", "2025-03", freq="M"):
        t = month.to_timestamp() + pd.Timedelta(days=9)
        for k in range(4):
            rows.append({"type": "green_border_crossing", "occurred_at": t,
                         "section_id": "KG-TJ-007", "persons_total": 2, "impact_level": "low",
                         "detection": "patrol" if k < 3 else "inland"})
        rows.append({"type": "drug_smuggling", "occurred_at": t, "section_id": "KG-TJ-007",
                     "persons_total": 1, "quantity_kg": 3.0, "impact_level": "low"})
        for _ in range(2):
            rows.append({"type": "suspicious_person", "occurred_at": t,
                         "section_id": "KG-TJ-008", "persons_total": 1, "impact_level": "low"})
    return pd.DataFrame(rows)


WORKED_CAPACITY = SectionCapacity(
    "KG-TJ-007", length_km=20, staff_per_shift=2, shifts_per_day=3, patrol_hours_per_week=40,
    vehicles=1, sensors=2, cameras=1, towers=1, covered_km=15, fence_km=4,
    response_time_min=30, terrain_permeability=0.8)


def test_the_worked_example_of_the_docs() -> None:
    result = assess_risk(worked_example_events(), [WORKED_CAPACITY])
    a = result.table.loc["KG-TJ-007"]
    t = result.threat.loc["KG-TJ-007"]
    imp = result.impact.loc["KG-TJ-007"]
    figures: dict[str, Any] = {
        "12.5": t["magnitude"],
        "0.6329": t["magnitude_norm"],
        "5.1667": t["expected_next"],
        "0.4082": t["likelihood"],
        "0.5205": t["threat"],
        "2.0340": imp["mean_impact"],
        "1.9958": imp["impact"],
        "0.3319": imp["impact_norm"],
        "0.4455": a["vulnerability"],
        "0.2506": a["risk"],
        "0.1301": a["threat_part"],
        "0.0676": a["vulnerability_part"],
        "0.0528": a["impact_part"],
        "0.0597": result.table.loc["KG-TJ-008", "risk"],
    }
    doc = DOC.read_text(encoding="utf-8")
    bold = set(re.findall(r"\*\*([0-9.]+)\*\*", doc))
    assert bold == set(figures), "every bold figure of the worked example is checked here"
    for text, value in figures.items():
        assert float(value) == pytest.approx(float(text), abs=5e-5), text
    assert result.month == "2025-03"
    assert t["threshold"] == 5 and result.threat.attrs["dispersion"] == 0.0
    assert a["proposed_level"] == "medium" and "**medium**" in doc
    assert result.table.loc["KG-TJ-008", "proposed_level"] == "low"
    assert "weakest point terrain" in a["reasons"]
    assert not result.table.loc["KG-TJ-008", "vulnerability_known"]
    assert "no capacity inventory on file" in str(result.table.loc["KG-TJ-008", "reasons"])


def test_the_formula_and_its_three_parts() -> None:
    parts = combine([0.8], [0.5], [0.2])
    assert parts["risk"][0] == pytest.approx(0.8 * 0.75 * 0.6)
    assert parts["threat_part"][0] == pytest.approx(0.2)
    assert parts["vulnerability_part"][0] == pytest.approx(0.8 * 0.5 / 4 * 1.1)
    assert parts["impact_part"][0] == pytest.approx(0.8 * 0.2 / 4 * 1.25)
    rng = np.random.default_rng(3)
    t, v, i = rng.random((3, 100))
    got = combine(t, v, i)
    np.testing.assert_allclose(got["threat_part"] + got["vulnerability_part"]
                               + got["impact_part"], got["risk"])
    assert (combine([0.0], [1.0], [1.0])["risk"] == 0).all()  # no threat, no risk
    assert combine([1.0], [1.0], [1.0])["risk"][0] == 1.0


def level_table(risks: dict[str, float], trend: dict[str, tuple[str, float]] | None = None
                ) -> pd.DataFrame:
    trend = trend or {}
    ids = list(risks)
    return pd.DataFrame({
        "risk": [risks[s] for s in ids], "threat": 0.5, "magnitude_norm": 0.5,
        "likelihood": 0.5, "vulnerability": 0.5, "vulnerability_known": False, "impact": 0.3,
        "trend": [trend.get(s, ("flat", 1.0))[0] for s in ids],
        "trend_ratio": [trend.get(s, ("flat", 1.0))[1] for s in ids],
    }, index=ids)


def test_levels_by_risk_rise_and_wider_area() -> None:
    risks = {"S-001": 0.05, "S-002": 0.20, "S-003": 0.40, "S-004": 0.50, "S-005": 0.36,
             "S-006": 0.30, "S-007": 0.10, "S-008": 0.40}
    table = level_table(risks, trend={"S-006": ("up", 1.6), "S-007": ("up", 1.2),
                                      "S-001": ("down", 0.5)})
    impact = pd.DataFrame({"impact": 2.0, "events": 10}, index=list(risks))
    adjacency = {"S-004": ["S-003", "S-005"], "S-003": ["S-002", "S-004"],
                 "S-005": ["S-004", "S-006"], "S-008": ["S-007"]}
    armed = [0, 0, 0, 0, 0, 0, 0, 2]
    levels, reasons = propose_levels(table, pd.DataFrame(), impact, armed, adjacency)
    got = dict(zip(risks, levels, strict=True))
    assert got == {"S-001": "low", "S-002": "medium", "S-003": "high",
                   "S-004": "critical",  # both neighbours high
                   "S-005": "critical",  # S-004 high, S-006 raised to high by its rise
                   "S-006": "high", "S-007": "low",  # a rise x1.2 is too small
                   "S-008": "critical"}  # an armed incident on a high section
    why = dict(zip(risks, reasons, strict=True))
    assert "neighbouring sections S-003, S-005 are high too" in why["S-004"]
    assert "activity rising x1.6" in why["S-006"] and "raised to high" in why["S-006"]
    assert "2 armed incident(s)" in why["S-008"]
    assert "below 0.15: low" in why["S-001"]


def test_reactions_cover_every_section_level() -> None:
    assert set(REACTIONS) == {v.value for v in SectionImpactLevel} == set(LEVEL_ORDER)
    assert all(len(items) >= 3 for items in REACTIONS.values())
    assert any("national coordination centre" in r for r in REACTIONS["medium"])


def test_ranking_and_explanation_are_ready_for_a_screen() -> None:
    result = assess_risk(worked_example_events(), {"KG-TJ-007": WORKED_CAPACITY},
                         section_ids=["KG-TJ-006", "KG-TJ-007", "KG-TJ-008"])
    assert result.table.index.tolist() == ["KG-TJ-007", "KG-TJ-008", "KG-TJ-006"]
    assert result.table["rank"].tolist() == [1, 2, 3]
    detail = result.explain("KG-TJ-007")
    json.dumps(detail, allow_nan=False)  # plain JSON, no NaN
    assert detail["proposed_level"] == "medium"
    assert detail["reactions"] == list(REACTIONS["medium"])
    assert sum(detail["contributions"].values()) == pytest.approx(detail["risk"])
    assert detail["threat"]["from_magnitude"] + detail["threat"]["from_likelihood"] == (
        pytest.approx(detail["threat"]["score"]))
    terms = detail["vulnerability"]["terms"]
    assert terms[0]["term"] == "terrain"
    assert sum(x["contribution"] for x in terms) == pytest.approx(0.4455)
    quiet = result.explain("KG-TJ-006")
    json.dumps(quiet, allow_nan=False)
    assert quiet["vulnerability"] == {"score": 0.5, "known": False, "terms": []}
    with pytest.raises(KeyError):
        result.explain("XX-YY-001")


def test_missing_capacity_is_refused_when_asked() -> None:
    message = r"no capacity inventory for 1 sections, e\.g\. \['KG-TJ-008'\]"
    with pytest.raises(ValueError, match=message):
        assess_risk(worked_example_events(), [WORKED_CAPACITY],
                    settings=RiskSettings(unknown_vulnerability=None))
    with pytest.raises(ValueError, match="filed under"):
        assess_risk(worked_example_events(), {"KG-TJ-008": WORKED_CAPACITY})


def test_no_events_give_low_levels_everywhere() -> None:
    empty = worked_example_events().iloc[:0]
    result = assess_risk(empty, [WORKED_CAPACITY], section_ids=["KG-TJ-007", "KG-TJ-008"],
                         month="2025-03")
    assert (result.table["proposed_level"] == "low").all()
    assert (result.table["risk"] < 0.05).all()
    assert (result.impact["events"] == 0).all()
    with pytest.raises(ValueError, match="give the month"):
        assess_risk(empty, [WORKED_CAPACITY])


def test_level_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="medium_at <= high_at"):
        RiskSettings(medium_at=0.5, high_at=0.2)


def test_on_the_synthetic_scenario_busy_sections_rank_first() -> None:
    from sitcen.demo.scenario import generate

    s = generate(1, seed=5, anomalies=False)
    secs = np.array([*s.section_ids, None], dtype=object)
    events = pd.DataFrame({
        "occurred_at": s.occurred_at, "section_id": secs[s.section],
        "type": np.array(s.types, dtype=object)[s.type],
        "persons_total": np.maximum(s.persons, 0),
    })
    result = assess_risk(events, section_ids=list(s.section_ids))
    counts = events.groupby("section_id").size().reindex(list(s.section_ids), fill_value=0)
    top = result.table.index[:40]
    bottom = result.table.index[-40:]
    assert counts[top].mean() > 3 * counts[bottom].mean()
    assert set(result.table["proposed_level"]) <= set(LEVEL_ORDER)
