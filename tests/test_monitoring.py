"""Seeing a node from outside (issue 20): Prometheus metrics read with the Prometheus client's
own parser, readiness apart from liveness, JSON log lines with the request id, and the
counts of two worker processes pooled into one scrape."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from conftest import add_role_users, auth, iso, make_settings, report
from sitcen import metrics
from sitcen.api.main import create_app
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_agreement, add_peer
from sitcen.exchange.sender import LinkSender, failure_reason
from sitcen.interop.cot import event_xml, load_mapping
from sitcen.interop.tak import TakListener
from sitcen.logs import JsonFormatter
from sitcen.node import Node
from sitcen.operations.queue import QueueKeeper, chain_of
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.alerts import record_alerts
from sitcen.store.cursors import journal_head
from sitcen.store.epochs import begin_epoch
from sitcen.store.migrations import MIGRATIONS
from sitcen.testing import NodeProcess, free_port, serve_in_thread, wait_until
from sitcen.users import Role

TOKEN = "scraper-token-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, read by prometheus_client's parser: (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is not there (a counter not yet counted)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient | httpx.Client, url: str = "/api/v1/metrics",
           **headers: str) -> Samples:
    answer = client.get(url, headers={**SCRAPER, **headers})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


def scrape_until(client: TestClient, holds: Callable[[Samples], bool], what: str) -> Samples:
    """Scrape until ``holds`` says the samples show what is waited for; those samples."""
    def shown() -> Samples | None:
        samples = scrape(client)
        return samples if holds(samples) else None

    return wait_until(shown, what=what)


def identified(settings: Settings) -> Settings:
    """``settings`` with a key pair of the node's own in its identity directory."""
    NodeIdentity.generate(settings.node_id).save(settings.identity_dir)
    return settings


@pytest.fixture
def monitored(engine: sa.Engine, database_url: str, tmp_path: Path) -> Node:
    """A node with a key pair and a metrics token."""
    settings = identified(make_settings(database_url, tmp_path / "centre",
                                        metrics_token=SecretStr(TOKEN)))
    return Node.open(settings, engine=engine)


@pytest.fixture
def monitored_client(monitored: Node) -> Iterator[TestClient]:
    with TestClient(create_app(monitored)) as c:
        yield c


GONE_PEER_AGREEMENT = """
id: tj-gone-events
from_node: tj-test-centre
to_node: kg-gone-peer
direction: peer
kinds: [event]
events: {categories: [cross_border_crime]}
handling_ceiling: AMBER
"""


def _alarm(key: str) -> dict[str, Any]:
    return {"key": key, "section_id": "AF-TJ-003", "category": "unauthorised_crossing",
            "type": "river_crossing", "first_day": "2025-05-10", "last_day": "2025-05-11",
            "severity": "medium", "methods": ["cusum"], "statistic": 6.1, "threshold": 5.2,
            "expected": 1.2, "observed": 7, "p_value": 0.001, "explanation": "7 against 1.2",
            "event_ids": ["e1"], "signals": 1}


def test_a_scrape_shows_ingest_federation_queues_and_alerts(
        monitored: Node, monitored_client: TestClient, password_hash: str,
        another_database: Any, tmp_path: Path) -> None:
    client, engine = monitored_client, monitored.engine
    operator = auth(add_role_users(engine, password_hash)[Role.operator])
    keeper = QueueKeeper(engine, chain_of(monitored.settings))
    keeper.follow_once()
    before = scrape(client)

    # Ingest: three reports in one batch, one of them reported 50 minutes ago.
    now = datetime.now(UTC)
    batch = [report(), report(reported_at=iso(now - timedelta(minutes=50)),
                              occurred_at=iso(now - timedelta(hours=1))), report()]
    answer = client.post("/api/v1/events/batch", json={"events": batch}, headers=operator)
    assert answer.status_code in (200, 201), answer.text
    assert client.get("/api/v1/events/not-a-uuid", headers=operator).status_code in (404, 422)
    assert client.get(f"/api/v1/no/such/{tmp_path.name}").status_code == 404
    assert client.request("BREW", "/api/v1/health/live").status_code == 405
    while keeper.follow_once():
        pass
    record_alerts(engine, monitored.settings.node_id, [_alarm(f"scan:{tmp_path.name}")])

    # Federation: a parent that takes every batch, and a peer that is not there.
    parent_settings = identified(make_settings(another_database("parent"), tmp_path / "parent",
                                               node_id="tj-ncc-parent"))
    parent = Node.open(parent_settings)
    served = serve_in_thread(parent)
    try:
        own = NodeIdentity.load(monitored.settings.identity_dir)
        assert parent.identity is not None
        add_peer(parent.engine, own.node_id, url="http://127.0.0.1:9", relation=Relation.child,
                 public_key=own.public_key_text)
        add_peer(engine, "tj-ncc-parent", url=served.url, relation=Relation.parent,
                 public_key=parent.identity.public_key_text)
        add_peer(engine, "kg-gone-peer", url=f"http://127.0.0.1:{free_port()}",
                 relation=Relation.peer, public_key=NodeIdentity.generate("kg-gone-peer")
                 .public_key_text)
        add_agreement(engine, GONE_PEER_AGREEMENT, own_node_id=own.node_id)
        with httpx.Client(timeout=10) as http:
            results = LinkSender(engine, own).run_once(http)
        assert results["tj-ncc-parent"].error is None
        assert results["kg-gone-peer"].error is not None
        after = scrape(client)
    finally:
        served.stop()
        parent.engine.dispose()
    head = journal_head(engine)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    batch_route = {"method": "POST", "route": "/api/v1/events/batch"}
    assert grew("sitcen_http_requests_total", **batch_route, status_class="2xx") == 1
    assert grew("sitcen_http_request_duration_seconds_count", **batch_route) == 1
    assert grew("sitcen_http_requests_total", method="GET", route="/api/v1/events/{event_id}",
                status_class="4xx") == 1
    # Unknown paths and invented methods make no series of their own.
    assert grew("sitcen_http_requests_total", method="GET", route="unmatched",
                status_class="4xx") == 1
    assert grew("sitcen_http_requests_total", method="other", route="/api/v1/health/live",
                status_class="4xx") == 1
    assert not any(tmp_path.name in dict(labels).get("route", "") for _, labels in after)
    assert grew("sitcen_journal_records_written_total", kind="event", source="local") >= 3
    # What the parent applied, counted by the same process (it is served from a thread).
    assert grew("sitcen_journal_records_written_total", kind="event", source="received") >= 3
    assert value(after, "sitcen_journal_head_seq") == head >= 4

    parent_link = {"peer": "tj-ncc-parent", "relation": "parent"}
    gone_link = {"peer": "kg-gone-peer", "relation": "peer"}
    assert value(after, "sitcen_federation_backlog_records", **parent_link) == 0
    assert value(after, "sitcen_federation_lag_seconds", **parent_link) == 0
    assert value(after, "sitcen_federation_acked_seq", **parent_link) == head
    assert grew("sitcen_federation_batches_sent_total", peer="tj-ncc-parent") >= 1
    assert grew("sitcen_federation_records_sent_total", peer="tj-ncc-parent") >= 3
    # The peer's cursor has not moved: every entry is still to be sent and acknowledged.
    assert value(after, "sitcen_federation_backlog_records", **gone_link) == head
    assert 0 < value(after, "sitcen_federation_lag_seconds", **gone_link) < 600
    assert grew("sitcen_federation_send_failures_total", peer="kg-gone-peer",
                reason="unreachable") == 1

    assert value(after, "sitcen_queue_waiting_reports", level="national") == 3
    assert value(after, "sitcen_queue_overdue_reports", level="national") == 1
    assert 50 * 60 - 5 <= value(after, "sitcen_queue_oldest_age_seconds", level="national") \
        < 52 * 60
    assert 0 <= value(after, "sitcen_journal_follower_lag_records",
                      follower="validation_queue") <= head
    assert value(after, "sitcen_alerts", status="open") == 1
    assert value(after, "sitcen_alerts", status="closed") == 0
    assert value(after, "sitcen_database_up") == 1
    assert value(after, "sitcen_node_info", node_id="tj-test-centre", version=_version(),
                 database=engine.dialect.name) == 1
    # The series of the TAK listener, the sensors and the analysis are there, at zero in a
    # node that runs none of them.
    names = {name for name, _ in after}
    assert {"sitcen_tak_clients", "sitcen_sensor_broker_connected",
            "sitcen_analysis_pass_duration_seconds_count",
            "sitcen_analysis_pass_failures_total"} <= names
    # What the scrape's reads took is reported (no time is asserted: docs/monitoring.md).
    assert value(after, "sitcen_metrics_database_read_seconds") >= 0


def _version() -> str:
    from sitcen import __version__

    return __version__


def test_metrics_need_the_token(monitored_client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer another-token-0123456789"},
                    {"Authorization": f"Basic {TOKEN}"}):
        answer = monitored_client.get("/api/v1/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["detail"][0]["type"] == "unauthorized"
        assert "sitcen_" not in answer.text


def test_metrics_are_off_without_a_token(client: TestClient) -> None:
    answer = client.get("/api/v1/metrics", headers=SCRAPER)
    assert answer.status_code == 404
    assert "SITCEN_METRICS_TOKEN" in answer.json()["detail"][0]["msg"]


def test_a_placeholder_metrics_token_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SITCEN_METRICS_TOKEN"):
        Settings(environment="production", data_dir=tmp_path,
                 secret_key=SecretStr("a-real-secret-of-the-node-1234"),
                 metrics_token=SecretStr("changeme"))


def test_push_failures_are_counted_by_reason() -> None:
    assert failure_reason("unreachable: [Errno 111] Connection refused") == "unreachable"
    assert failure_reason("refused (403): batch from an unknown node") == "refused_403"
    assert failure_reason("https://ncc.example:8443: the TLS handshake failed: x") == "tls"


def test_tak_connections_and_messages_show_in_a_scrape(
        monitored: Node, monitored_client: TestClient, password_hash: str) -> None:
    """The TAK listener runs in the node's process here (as in `sitcen serve`'s parent)."""
    token = add_role_users(monitored.engine, password_hash)[Role.operator]
    before = scrape(monitored_client)

    def grew(samples: Samples, name: str, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    position = event_xml("ANDROID-0042", "a-f-G-U-C", 37.22, 68.60, time=datetime.now(UTC),
                         stale=datetime.now(UTC) + timedelta(minutes=5), callsign="Пяндж-4",
                         token=token, ce=12.0)
    with TakListener(monitored, load_mapping(None), tcp_port=0) as listener, \
            socket.create_connection(("127.0.0.1", listener.tcp_port), timeout=10) as device:
        device.sendall(position)
        during = scrape_until(
            monitored_client,
            lambda s: all(grew(s, "sitcen_tak_clients", state=state) == 1
                          for state in ("connected", "authenticated")),
            "the device counted as connected and authenticated")
        wait_until(lambda: listener.counters.positions == 1, what="the position written")
    assert grew(during, "sitcen_tak_messages_total", outcome="received") == 1
    after = scrape_until(monitored_client,
                         lambda s: grew(s, "sitcen_tak_clients", state="connected") == 0,
                         "the device counted as gone")
    assert grew(after, "sitcen_tak_clients", state="authenticated") == 0
    assert grew(after, "sitcen_tak_messages_total", outcome="positions") == 1


def test_a_backlog_across_a_restored_epoch_counts_entries_not_positions(
        monitored: Node, monitored_client: TestClient, password_hash: str) -> None:
    operator = auth(add_role_users(monitored.engine, password_hash)[Role.operator])

    def write(n: int) -> None:
        answer = monitored_client.post("/api/v1/events/batch", headers=operator,
                                       json={"events": [report() for _ in range(n)]})
        assert answer.status_code in (200, 201), answer.text

    add_peer(monitored.engine, "kg-far-peer", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=NodeIdentity.generate("kg-far-peer").public_key_text)
    write(3)
    begin_epoch(monitored.engine, monitored.settings.node_id, {"created_at": "2026-12-01"})
    write(2)
    with monitored.engine.connect() as conn:
        entries = conn.execute(sa.select(sa.func.count()).select_from(schema.journal)).scalar()
    samples = scrape(monitored_client)
    assert value(samples, "sitcen_journal_head_seq") > 2**40
    assert value(samples, "sitcen_federation_backlog_records", peer="kg-far-peer",
                 relation="peer") == entries == 6  # five events and the epoch's note


def test_a_process_pools_its_counts_in_a_directory_and_back(tmp_path: Path) -> None:
    """What `sitcen serve` does around its run, also when a test runs it in-process."""
    failure = {"peer": "kg-pool-peer", "reason": "unreachable"}
    name = "sitcen_federation_send_failures_total"
    before = parse(metrics.exposition().decode())
    metrics.pool_in(tmp_path / "pool")
    try:
        metrics.count_send_failure(**failure)
        pooled = parse(metrics.exposition().decode())
        assert list((tmp_path / "pool").glob("counter_*.db"))
    finally:
        metrics.unpool()
    assert value(pooled, name, **failure) == 1
    metrics.count_send_failure(**failure)
    after = parse(metrics.exposition().decode())
    assert value(after, name, **failure) == value(before, name, **failure) + 1
    assert metrics.pooled() is None


# ------------------------------------------------------------------ readiness and liveness


def test_ready_with_database_migrations_and_identity(monitored_client: TestClient) -> None:
    assert monitored_client.get("/api/v1/health/live").json() == {"status": "ok"}
    answer = monitored_client.get("/api/v1/health/ready")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] is True
    assert [c["name"] for c in body["checks"]] == ["database", "migrations", "identity"]
    assert all(c["ok"] for c in body["checks"])


def test_not_ready_without_the_node_identity(client: TestClient) -> None:
    answer = client.get("/api/v1/health/ready")
    assert answer.status_code == 503
    checks = {c["name"]: c for c in answer.json()["checks"]}
    assert not checks["identity"]["ok"] and "sitcen init" in checks["identity"]["detail"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert client.get("/api/v1/health").status_code == 200  # as before: up, and what it is


def test_not_ready_when_a_migration_is_missing(monitored: Node,
                                               monitored_client: TestClient) -> None:
    last = MIGRATIONS[-1][0]
    with monitored.engine.begin() as conn:
        conn.execute(schema.schema_migrations.delete()
                     .where(schema.schema_migrations.c.name == last))
    answer = monitored_client.get("/api/v1/health/ready")
    assert answer.status_code == 503
    checks = {c["name"]: c for c in answer.json()["checks"]}
    assert checks["migrations"] == {"name": "migrations", "ok": False,
                                    "detail": f"not applied: {last}"}
    assert checks["database"]["ok"] and checks["identity"]["ok"]
    assert monitored_client.get("/api/v1/health/live").status_code == 200


def _unreachable_url(database_url: str, tmp_path: Path) -> str:
    """A database of the same backend that cannot be reached: a SQLite file in a directory
    that does not exist, a PostgreSQL server on a port nobody listens on."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'node.db'}"
    url = sa.make_url(database_url)
    return url.set(port=free_port()).render_as_string(hide_password=False)


def test_not_ready_when_the_database_is_down(monitored: Node, database_url: str,
                                             tmp_path: Path) -> None:
    dead = sa.create_engine(_unreachable_url(database_url, tmp_path))
    down = dataclasses.replace(monitored, engine=dead)
    try:
        with TestClient(create_app(down)) as client:
            assert client.get("/api/v1/health/live").status_code == 200
            answer = client.get("/api/v1/health/ready")
            assert answer.status_code == 503
            checks = {c["name"]: c for c in answer.json()["checks"]}
            assert not checks["database"]["ok"]
            assert checks["database"]["detail"].startswith("unreachable: ")
            assert not checks["migrations"]["ok"] and checks["identity"]["ok"]
            # The scrape still answers, and says so.
            samples = scrape(client)
            assert value(samples, "sitcen_database_up") == 0
            assert not any(name == "sitcen_journal_head_seq" for name, _ in samples)
    finally:
        dead.dispose()


# ------------------------------------------------------------------ logs and request ids


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the ``sitcen`` loggers write meanwhile, as JSON lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("sitcen")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_log_lines_carry_the_request_id(tmp_path: Path, json_lines: io.StringIO) -> None:
    settings = identified(make_settings("", tmp_path, metrics_token=SecretStr(TOKEN)))
    node = Node.open(settings)
    dead = sa.create_engine(f"sqlite:///{tmp_path / 'gone' / 'node.db'}")
    try:
        with TestClient(create_app(dataclasses.replace(node, engine=dead))) as client:
            answer = client.get("/api/v1/health/ready", headers={"X-Request-ID": "probe-7f3a"})
            assert answer.headers["x-request-id"] == "probe-7f3a"
            made = client.get("/api/v1/health/ready",
                              headers={"X-Request-ID": "two words" + "x" * 200})
            generated = made.headers["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", generated)
            assert client.get("/api/v1/health/live").headers["x-request-id"] != generated
    finally:
        dead.dispose()
        node.engine.dispose()
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    readiness = [line for line in lines if line["message"].startswith("readiness: database")]
    assert [line["request_id"] for line in readiness] == ["probe-7f3a", generated]
    for line in readiness:
        assert line["level"] == "WARNING" and line["logger"] == "sitcen.api"
        assert datetime.fromisoformat(line["time"]).tzinfo is not None
        assert isinstance(line["process"], int)
    outside = logging.LogRecord("sitcen.exchange", logging.INFO, __file__, 1, "no request",
                                None, None)
    assert "request_id" not in json.loads(JsonFormatter().format(outside))


# ------------------------------------------------------------------ real processes


@pytest.mark.xdist_group("processes")
@pytest.mark.slow
def test_two_workers_pool_their_counts_into_every_scrape(tmp_path: Path) -> None:
    node = NodeProcess("tj-metrics-node", f"sqlite:///{tmp_path / 'node.db'}",
                       tmp_path / "node", workers=2, log_path=tmp_path / "node.log",
                       env={"SITCEN_METRICS_TOKEN": TOKEN, "SITCEN_LOG_FORMAT": "json",
                            "SITCEN_METRICS_DIR": str(tmp_path / "metrics")})
    node.cli("init")
    node.start()
    assert node.log_path is not None
    log_path = node.log_path

    def served_by() -> dict[str, int]:
        """The process that answered each request, by request id, from the JSON access log."""
        found = {}
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry["logger"] == "uvicorn.access" and "request_id" in entry:
                    found[entry["request_id"]] = entry["process"]
        return found

    try:
        sent: list[str] = []

        def both_workers_answered() -> bool:
            # A new connection each time: the two workers take turns accepting them.
            rid = f"probe-{len(sent)}"
            answer = httpx.get(f"{node.url}/api/v1/health/live", headers={"X-Request-ID": rid},
                               timeout=10)
            assert answer.status_code == 200 and answer.headers["x-request-id"] == rid
            sent.append(rid)
            pids = wait_until(lambda: served_by().get(rid), what=f"the access line of {rid}")
            return len({served_by()[r] for r in sent}) >= 2 and pids > 0

        wait_until(both_workers_answered, timeout_s=120, interval_s=0, what="both workers")
        workers = {served_by()[r] for r in sent}
        assert len(workers) == 2

        scraped_by: set[int] = set()

        def every_scrape_sums_both() -> bool:
            rid = f"scrape-{len(scraped_by)}-{datetime.now(UTC).timestamp()}"
            with httpx.Client(timeout=10) as http:
                samples = scrape(http, f"{node.url}/api/v1/metrics", **{"X-Request-ID": rid})
            assert value(samples, "sitcen_http_requests_total", method="GET",
                         route="/api/v1/health/live", status_class="2xx") == len(sent)
            scraped_by.add(wait_until(lambda: served_by().get(rid), what="a scrape's line"))
            return scraped_by >= workers

        wait_until(every_scrape_sums_both, timeout_s=120, interval_s=0,
                   what="a scrape answered by each worker")
    finally:
        node.stop()
    assert "Traceback" not in log_path.read_text(errors="replace")


def test_the_backlog_counts_a_journal_with_history(monitored: Node,
                                                   monitored_client: TestClient,
                                                   password_hash: str) -> None:
    operator = auth(add_role_users(monitored.engine, password_hash)[Role.operator])
    answer = monitored_client.post("/api/v1/events/batch", headers=operator,
                                   json={"events": [report() for _ in range(500)]})
    assert answer.status_code in (200, 201), answer.text
    add_peer(monitored.engine, "kg-slow-peer", url="http://127.0.0.1:9", relation=Relation.peer,
             public_key=NodeIdentity.generate("kg-slow-peer").public_key_text)
    samples = [scrape(monitored_client) for _ in range(5)]
    assert value(samples[-1], "sitcen_federation_backlog_records", peer="kg-slow-peer",
                 relation="peer") == journal_head(monitored.engine) >= 500
    # Every scrape reports what its reads took; how long is measured by hand, not asserted
    # here (the machines are shared and noisy).
    assert all(value(s, "sitcen_metrics_database_read_seconds") >= 0 for s in samples)

