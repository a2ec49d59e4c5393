"""Correlation of detections, segment reports and patrol reports into incidents (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sitcen.analysis.correlation import (
    DETECTION,
    SEGMENT,
    CorrelationRules,
    Correlator,
    Evidence,
)

START = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def piece(name: str, minute: float, lon: float = 68.60, lat: float = 37.22, *,
          section: str | None = "AF-TJ-004", segment: str | None = None,
          kind: str = DETECTION, breach: bool = False) -> Evidence:
    return Evidence(kind, name, f"sensor-{name}", START + timedelta(minutes=minute), lon, lat,
                    section, segment, breach)


def test_one_burst_makes_one_incident() -> None:
    c = Correlator(CorrelationRules(max_km=2.0, window=timedelta(minutes=10), propose_count=3))
    first, why = c.observe(piece("a", 0))
    assert why is None and not c.ready(first)
    second, why = c.observe(piece("b", 4, lon=68.61))  # about 0.9 km east
    assert second is first and why is not None and why.rule == "near"
    assert 0.8 < why.distance_km < 1.0 and why.gap_s == 240
    assert "0.8" in why.explain() or "0.9" in why.explain()
    other, _ = c.observe(piece("far", 5, lon=70.0, lat=38.0, section="KG-TJ-003"))
    assert other is not first  # another place, another section: another incident
    third, why = c.observe(piece("c", 9))
    assert third is first and c.ready(first) and first.detections == 3
    first.event_id = "event-1"
    assert not c.ready(first)  # proposed once
    later, _ = c.observe(piece("d", 15))
    assert later is first  # the incident goes on while pieces keep coming
    quiet, why = c.observe(piece("e", 40))
    assert quiet is not first and why is None  # a quiet spell of a window ended it


def test_rules_and_their_order() -> None:
    c = Correlator(CorrelationRules(max_km=1.0, window=timedelta(minutes=10)))
    start, _ = c.observe(piece("a", 0, segment="F-1"))
    # 10 km along the same fence: the same segment wins over distance.
    joined, why = c.observe(piece("b", 1, lon=68.71, segment="F-1"))
    assert joined is start and why is not None and why.rule == "same_segment"
    # 20 km away on the same section: the burst rule of a section.
    joined, why = c.observe(piece("c", 2, lon=68.82))
    assert joined is start and why is not None and why.rule == "same_section"
    # A segment report is no detection: the section rule does not hold for it.
    alone, why = c.observe(piece("s", 3, lon=69.2, kind=SEGMENT, segment="F-9"))
    assert alone is not start and why is None
    with pytest.raises(ValueError):
        CorrelationRules(window=timedelta(0))


def test_a_breach_is_ready_at_once_and_an_undone_piece_stays_out() -> None:
    c = Correlator(CorrelationRules(propose_count=3))
    incident, _ = c.observe(piece("seg", 0, kind=SEGMENT, segment="F-1", breach=True))
    assert c.ready(incident)
    incident.event_id = "event-1"
    c.observe(piece("a", 1))
    assert [e.id for e in incident.evidence] == ["seg", "a"]
    c.detach("a", "event-1")
    assert [e.id for e in incident.evidence] == ["seg"] and "a" not in incident.groupings
