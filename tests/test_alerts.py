"""Alerts: fusion of chart and scan signals per section and episode, severity, records."""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sitcen.analysis import alerts as al
from sitcen.analysis import early_warning as ew
from sitcen.analysis.scan import space_time_scan

DAY0 = pd.Timestamp("2024-01-01")


def _signal(section: str, day: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "section_id": section, "level": "type", "key": "drug_smuggling",
        "category": "cross_border_crime", "type": "drug_smuggling",
        "first_day": DAY0 + pd.Timedelta(days=day), "last_day": DAY0 + pd.Timedelta(days=day),
        "days": 1, "methods": "cusum", "observed": 4, "expected": 1.0, "ratio": 4.0,
        "statistic": 5.0, "threshold": 4.0, "p_value": 1e-3, "explanation": f"signal {day}"}
    row.update(fields)
    return row


def _events() -> pd.DataFrame:
    plan = [(10, "A", "drug_smuggling"), (10, "A", "drug_smuggling"),
            (10, "A", "excise_goods_smuggling"), (11, "A", "weapons_smuggling"),
            (10, "B", "drug_smuggling"), (30, "A", "drug_smuggling")]
    rows = [(f"e{i}", DAY0 + pd.Timedelta(days=d, hours=3), s, t)
            for i, (d, s, t) in enumerate(plan)]
    return pd.DataFrame(rows, columns=["id", "occurred_at", "section_id", "type"])


def test_signals_of_an_episode_become_one_alert() -> None:
    signals = pd.DataFrame([
        _signal("A", 10, methods="cusum+spike", observed=9, expected=1.5, ratio=6.0,
                p_value=2e-7, explanation="nine drug seizures"),
        _signal("A", 11, level="category", key="cross_border_crime", type=None,
                p_value=1e-3, explanation="crime in general"),
        _signal("A", 13, level="scan", methods="scan", p_value=0.001, event_ids=("x1", "x2"),
                explanation="a cluster"),
        _signal("A", 16),  # 3 days after the episode's last day: a new alert
        _signal("B", 10),
    ])
    alerts = al.fuse(signals, _events(), merge_gap_days=2)
    assert [(a.section_id, a.first_day.day, a.last_day.day) for a in alerts] == [
        ("A", 11, 14), ("B", 11, 11), ("A", 17, 17)]
    first = alerts[0]
    assert first.key == "early-warning:A:2024-01-11" and first.signals == 3
    assert first.methods == ("cusum", "scan", "spike")
    # The strongest signal (smallest p) leads: its counts, statistic and words.
    assert (first.type, first.observed, first.expected, first.p_value) == (
        "drug_smuggling", 9, 1.5, 2e-7)
    assert first.explanation.index("nine drug seizures") < first.explanation.index("a cluster")
    # The events behind it: the type series' day, the category's day, the cluster.
    assert set(first.event_ids) == {"e0", "e1", "e3", "x1", "x2"}
    # 9 against 1.5 with p = 2e-7 is high on its own; the scan would raise it anyway.
    assert first.severity == "high"
    assert al.fuse(signals.iloc[:0]) == []


@pytest.mark.parametrize(("observed", "expected", "p", "both", "severity"), [
    (12, 2.0, 1e-7, False, "high"),
    (6, 2.0, 1e-7, False, "medium"),  # very unlikely, but only 4 more events than usual
    (6, 2.0, 1e-5, False, "medium"),
    (6, 2.0, 1e-3, False, "low"),
    (6, 2.0, 1e-3, True, "medium"),  # seen by the charts and the scan
    (12, 2.0, 1e-5, True, "high"),
])
def test_severity(observed: int, expected: float, p: float, both: bool, severity: str) -> None:
    assert al.severity_of(observed, expected, p, both) == severity


def test_alert_record_is_json_with_a_stable_id() -> None:
    alert = al.fuse(pd.DataFrame([_signal("A", 10)]), _events())[0]
    record = json.loads(json.dumps(alert.to_dict()))
    assert record["id"] == str(uuid.uuid5(al.ALERT_NAMESPACE, "early-warning:A:2024-01-11"))
    assert record["first_day"] == record["last_day"] == "2024-01-11"
    assert record["severity"] in al.SEVERITIES and record["methods"] == ["cusum"]
    assert record["event_ids"] == ["e0", "e1"]
    assert {"section_id", "category", "type", "statistic", "threshold", "expected", "observed",
            "explanation"} <= set(record)
    again = al.fuse(pd.DataFrame([_signal("A", 10), _signal("A", 11)]), _events())[0]
    assert again.id == alert.id  # the episode grew; its record keeps its id
    frame = al.alerts_frame([alert, again])
    assert list(frame.key) == [alert.key] * 2


def test_a_chart_surge_becomes_one_alert_with_its_events() -> None:
    rng = np.random.default_rng(8)
    days = 200
    counts = rng.poisson(rng.gamma(3.0, 0.8 / 3.0, (4, days)))
    counts[2, 150:156] += 4
    rows = [(f"{s}-{d}-{j}", DAY0 + pd.Timedelta(days=int(d), hours=j), f"S{s}",
             "green_border_crossing")
            for s in range(4) for d in range(days) for j in range(int(counts[s, d]))]
    events = pd.DataFrame(rows, columns=["id", "occurred_at", "section_id", "type"])
    series = ew.daily_counts(events, start=DAY0, end=DAY0 + pd.Timedelta(days=days), by="type")
    signals = ew.alarms(ew.chart(series, ew.WarningSettings().chart_settings("type", 18)))
    start, end = ((DAY0 + pd.Timedelta(days=d)).date() for d in (150, 155))
    alerts = [a for a in al.fuse(signals, events) if a.section_id == "S2"
              and a.last_day >= start and a.first_day <= end]
    assert len(alerts) == 1  # the six days of the surge are one alert
    alert = alerts[0]
    assert alert.last_day >= start and alert.signals >= 1
    surge_ids = {i for i in events["id"]
                 if i.startswith("2-15") and 150 <= int(i.split("-")[1]) < 156}
    assert surge_ids & set(alert.event_ids)
    assert all(str(i).startswith("2-") for i in alert.event_ids)
    assert alert.type == "green_border_crossing" and alert.category == "unauthorised_crossing"


def test_scan_signals_of_a_planted_cluster() -> None:
    rng = np.random.default_rng(7)
    n, k = 600, 14
    px, py = rng.uniform(0, 200, 150), rng.uniform(0, 20, 150)
    where = rng.integers(0, 150, n)
    x = np.concatenate([px[where], 100 + rng.normal(0, 1, k)])
    y = np.concatenate([py[where], 10 + rng.normal(0, 1, k)])
    day = np.concatenate([rng.integers(0, 40, n), rng.integers(37, 40, k)])
    sections = ["west" if v < 100 else "east" for v in x[:n]] + ["east"] * k
    kinds = ["green_border_crossing"] * (n + k)
    ids = [f"b{i}" for i in range(n)] + [f"c{i}" for i in range(k)]
    result = space_time_scan(x, y, day, max_radius_km=6, max_days=5, replicates=999, seed=3)
    table = al.scan_signals(result, day=DAY0 + pd.Timedelta(days=39), section_ids=sections,
                            event_ids=ids, types=kinds, label="unauthorised_crossing",
                            alpha=0.002)
    assert len(table) == 1
    row = table.iloc[0]
    assert row.section_id == "east" and row.level == "scan" and row.methods == "scan"
    assert row.type == "green_border_crossing" and row.category == "unauthorised_crossing"
    assert row.first_day == row.last_day == DAY0 + pd.Timedelta(days=39)
    assert row.statistic > row.threshold == pytest.approx(result.critical_value(0.002), abs=1e-3)
    assert sum(i.startswith("c") for i in row.event_ids) >= 0.8 * k
    assert "cluster of" in row.explanation and "p = 0.001" in row.explanation
