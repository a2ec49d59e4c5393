"""Alerts from recomputation: written once per episode, updated as it grows, acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from sitcen.node import Node
from sitcen.recompute import AnalysisScheduler, recompute
from sitcen.store.journal import read_journal
from sitcen.store.results import load_result
from sitcen.testing import wait_until
from sitcen.users import Role
from test_api_risk import write_events

Headers = Callable[[Role], dict[str, str]]
SECTION = "AF-TJ-003"
FIRST = datetime(2025, 1, 1, 9, tzinfo=UTC)
SURGE = datetime(2025, 6, 13, 9, tzinfo=UTC)  # 12 seizures a day on 13, 14 and 15 June


@pytest.fixture
def surged(node: Node) -> Node:
    """A background of about one drug seizure a day on SECTION since January, then a surge."""
    rng = np.random.default_rng(7)
    background = [FIRST + timedelta(days=d, hours=h)
                  for d in range((SURGE - FIRST).days)
                  for h in range(int(rng.poisson(1.0)))]
    surge = [SURGE + timedelta(days=d, minutes=5 * k) for d in range(3) for k in range(12)]
    write_events(node, SECTION, background + surge)
    return node


def _alert_versions(node: Node) -> list[tuple[str, int]]:
    with node.engine.connect() as conn:
        return [(e.record_id, e.version) for e in read_journal(conn, kinds=["alert"])]


def test_recomputation_writes_each_episode_once(surged: Node, client: TestClient,
                                                as_role: Headers) -> None:
    node_id = surged.settings.node_id
    first = recompute(surged.engine, node_id, now=datetime(2025, 6, 15, 20, tzinfo=UTC))
    assert first.events > 150 and first.sections == len(surged.sections.sections)
    assert len(first.alerts.created) >= 1
    alerts = client.get(f"/api/v1/alerts?section_id={SECTION}",
                        headers=as_role(Role.operator)).json()["alerts"]
    assert len(alerts) == 1
    (alert,) = alerts
    assert (alert["version"], alert["status"], alert["section_id"]) == (1, "open", SECTION)
    assert alert["first_day"] >= "2025-06-13" and alert["last_day"] <= "2025-06-15"
    assert alert["severity"] in ("medium", "high") and SECTION in alert["explanation"]
    assert len(alert["event_ids"]) >= 12 and alert["handling"] == "AMBER"
    written = _alert_versions(surged)

    again = recompute(surged.engine, node_id, now=datetime(2025, 6, 15, 20, tzinfo=UTC))
    assert again.alerts.created == [] and again.alerts.updated == []
    assert _alert_versions(surged) == written  # nothing new on the journal

    # Late reports of the surge's last day arrive: the same alert grows into version 2.
    write_events(surged, SECTION, [SURGE + timedelta(days=2, hours=6, minutes=k)
                                   for k in range(6)])
    grown = recompute(surged.engine, node_id, now=datetime(2025, 6, 15, 21, tzinfo=UTC))
    assert grown.alerts.updated == [alert["id"]] and grown.alerts.created == []
    (now_alert,) = client.get(f"/api/v1/alerts?section_id={SECTION}",
                              headers=as_role(Role.operator)).json()["alerts"]
    assert now_alert["id"] == alert["id"] and now_alert["version"] == 2
    assert len(now_alert["event_ids"]) == len(alert["event_ids"]) + 6
    settled = recompute(surged.engine, node_id, now=datetime(2025, 6, 15, 22, tzinfo=UTC))
    assert settled.alerts.created == [] and settled.alerts.updated == []
    assert load_result(surged.engine, "risk_table") is not None  # the risk table came along


def test_acknowledging_an_alert(surged: Node, client: TestClient, as_role: Headers) -> None:
    recompute(surged.engine, surged.settings.node_id, now=datetime(2025, 6, 15, 20, tzinfo=UTC))
    (alert,) = client.get(f"/api/v1/alerts?section_id={SECTION}&status=open",
                          headers=as_role(Role.liaison)).json()["alerts"]
    url = f"/api/v1/alerts/{alert['id']}/acknowledge"
    for role in (Role.operator, Role.analyst, Role.liaison):
        assert client.post(url, json={}, headers=as_role(role)).status_code == 403, role
    done = client.post(url, json={"note": "patrol sent to the ford"},
                       headers=as_role(Role.duty_officer))
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["version"], body["acknowledged_by"]) == (
        "acknowledged", 2, "duty-officer")
    assert body["acknowledged_note"] == "patrol sent to the ford"
    listed = client.get("/api/v1/alerts?status=acknowledged",
                        headers=as_role(Role.liaison)).json()["alerts"]
    assert [a["id"] for a in listed] == [alert["id"]]
    assert client.get("/api/v1/alerts?since=2025-07-01",
                      headers=as_role(Role.liaison)).json()["alerts"] == []
    missing = client.post("/api/v1/alerts/55555555-5555-4555-8555-555555555555/acknowledge",
                          headers=as_role(Role.duty_officer))
    assert missing.status_code == 404
    # A rerun over the same events leaves the acknowledgement alone.
    recompute(surged.engine, surged.settings.node_id, now=datetime(2025, 6, 15, 20, tzinfo=UTC))
    (kept,) = client.get(f"/api/v1/alerts?section_id={SECTION}",
                         headers=as_role(Role.liaison)).json()["alerts"]
    assert (kept["status"], kept["version"]) == ("acknowledged", 2)


def test_one_process_recomputes_at_a_time(node: Node) -> None:
    now = datetime(2025, 6, 15, 20, tzinfo=UTC)
    first = AnalysisScheduler(node.engine, node.settings.node_id, 60.0, holder="process-a")
    second = AnalysisScheduler(node.engine, node.settings.node_id, 60.0, holder="process-b")
    assert first.run_once(now) is not None
    assert second.run_once(now) is None  # the lease is the first one's for two intervals
    assert first.run_once(now) is not None  # renewed by its holder


def test_scheduled_pass_runs_in_a_child_process(node: Node) -> None:
    """The schedule recomputes in a separate low-priority process and can be stopped mid-pass."""
    from sitcen.recompute import RISK_TABLE

    scheduler = AnalysisScheduler(node.engine, node.settings.node_id, 3600.0,
                                  first_delay_s=0).start()
    try:
        wait_until(lambda: load_result(node.engine, RISK_TABLE) is not None, timeout_s=300,
                   interval_s=0.5, what="a risk table from the analysis process")
        child = scheduler._child
        assert child is not None and child.name == "sitcen-analysis"
    finally:
        scheduler.stop()
    assert not child.is_alive()
