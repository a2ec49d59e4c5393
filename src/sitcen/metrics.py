"""What the node counts as it happens, for Prometheus: the instruments and how they are pooled.

This module knows no database and no HTTP. Code that does something worth
counting (a request answered, records written, a batch that did not reach a
peer, a TAK message, an analysis pass) calls one of the functions here; the
scrape (``GET /api/v1/metrics``, :mod:`sitcen.api.routes.metrics`) adds what
the database says at that moment (journal head, backlog per link, queues,
alerts) and writes it all out with :func:`exposition`.

``sitcen serve`` runs a node in several processes: the app workers and the
parent that sends to peers, listens to TAK devices and the sensors' broker,
and the child of each analysis pass. So it *pools* them (:func:`pool_in`):
with prometheus_client's multiprocess mode every process writes its values to
files of one directory, and whichever worker answers a scrape sums them. An app
built in-process (tests, ``serve_in_thread``) keeps its values in memory.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The content type of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Request durations, in seconds: from a cached page (ms) to a 10,000-event batch (s).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Analysis passes, in seconds: a small node's few seconds to a busy centre's minutes.
ANALYSIS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

_pool: Path | None = None

# A counter's *_created series is a second series per label set that no alert here uses,
# and the pooled (multiprocess) mode does not write it: off, so both modes look alike.
disable_created_metrics()  # type: ignore[no-untyped-call]


class _Instruments:
    """Every instrument of the node, made once per process (after pooling is decided)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry
        self.http_requests = Counter(
            "sitcen_http_requests", "HTTP requests answered, by route template and status class",
            ["method", "route", "status_class"], registry=r)
        self.http_duration = Histogram(
            "sitcen_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template",
            ["method", "route"], buckets=HTTP_BUCKETS, registry=r)
        self.records_written = Counter(
            "sitcen_journal_records_written",
            "Record versions written to the journal: source local (this node's own writes: "
            "reports, imports, TAK, sensors, analysis) or received (applied from linked nodes)",
            ["kind", "source"], registry=r)
        self.batches_sent = Counter(
            "sitcen_federation_batches_sent", "Batches a linked node acknowledged",
            ["peer"], registry=r)
        self.records_sent = Counter(
            "sitcen_federation_records_sent", "Records in batches a linked node acknowledged",
            ["peer"], registry=r)
        self.send_failures = Counter(
            "sitcen_federation_send_failures",
            "Pushes to a linked node that stopped without an acknowledgement, by reason",
            ["peer", "reason"], registry=r)
        self.tak_clients = Gauge(
            "sitcen_tak_clients", "TAK (CoT) TCP clients connected now, and of them authenticated",
            ["state"], multiprocess_mode="livesum", registry=r)
        for state in ("connected", "authenticated"):
            self.tak_clients.labels(state)  # both series exist, at 0, before any client
        self.tak_messages = Counter(
            "sitcen_tak_messages", "CoT messages the TAK listener handled, by outcome",
            ["outcome"], registry=r)
        self.sensor_connected = Gauge(
            "sitcen_sensor_broker_connected",
            "1 while this node's sensor subscriber is connected to the MQTT broker",
            multiprocess_mode="livesum", registry=r)
        self.sensor_messages = Counter(
            "sitcen_sensor_messages", "MQTT detection messages handled, by outcome",
            ["outcome"], registry=r)
        self.camera_snapshots = Counter(
            "sitcen_camera_snapshots", "Camera snapshots attempted on detections, by outcome "
            "(taken, timeout, auth, no_stream, unreadable, busy)", ["outcome"], registry=r)
        self.mavlink_messages = Counter(
            "sitcen_mavlink_messages", "MAVLink datagrams from drones, by outcome (received, "
            "positions, malformed, oversized, unregistered, ignored)", ["outcome"], registry=r)
        self.analysis_duration = Histogram(
            "sitcen_analysis_pass_duration_seconds",
            "Duration of a scheduled analysis pass (risk table, early warning and scan)",
            buckets=ANALYSIS_BUCKETS, registry=r)
        self.analysis_failures = Counter(
            "sitcen_analysis_pass_failures",
            "Scheduled analysis passes that ended without a result", registry=r)


#: The in-process registry (an app not pooled): what the scrape reads besides the database.
_REGISTRY = CollectorRegistry(auto_describe=True)
_in_memory: _Instruments | None = None
_in_pool: _Instruments | None = None
_value_class_before: Any = None


def _instruments() -> _Instruments:
    global _in_memory, _in_pool
    if _pool is not None:
        # Pooled, the values live in the pool's files, not in a registry: the scrape reads
        # them with MultiProcessCollector (registering them too would export them twice).
        if _in_pool is None:
            _in_pool = _Instruments(None)
        return _in_pool
    if _in_memory is None:
        _in_memory = _Instruments(_REGISTRY)
    return _in_memory


def pool_in(directory: Path) -> None:
    """Pool this process's values, and those of the processes it starts, in ``directory``.

    Called by ``sitcen serve`` before anything is counted, and again in each app
    worker (which inherits the variable). prometheus_client reads the directory from
    ``PROMETHEUS_MULTIPROC_DIR`` in every process, so it is set here for the
    children; the parent, which imported prometheus_client before, is switched over
    explicitly. The directory must hold no files of an earlier run (:func:`clear_pool`).
    What this process counted before (``sitcen demo`` seeding its history) stays out.
    """
    global _pool, _in_pool, _value_class_before
    directory = directory.resolve()
    if _pool == directory:
        return
    unpool()
    directory.mkdir(parents=True, exist_ok=True)
    _value_class_before = values.ValueClass
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    _pool, _in_pool = directory, None


def unpool() -> None:
    """Count in memory again, as before :func:`pool_in` (a ``sitcen serve`` run in-process,
    by a test, has returned and its pool is removed)."""
    global _pool, _in_pool
    if _pool is None:
        return
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    values.ValueClass = _value_class_before
    _pool, _in_pool = None, None


def clear_pool(directory: Path) -> None:
    """Remove the value files an earlier run left in ``directory`` (before it is pooled in)."""
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def pooled() -> Path | None:
    """The directory this process's values are pooled in, or None (in memory)."""
    return _pool


def exposition(*collectors: Collector) -> bytes:
    """The text exposition of every process's instruments, then of ``collectors``."""
    _instruments()  # every family appears, at zero, before anything was counted
    registry = CollectorRegistry(auto_describe=False)
    if _pool is not None:
        MultiProcessCollector(registry, path=str(_pool))  # type: ignore[no-untyped-call]
    else:
        registry.register(_REGISTRY)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


# ------------------------------------------------------------------ what the code counts


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request answered with ``status`` after ``seconds``; ``route`` is its template."""
    i = _instruments()
    i.http_requests.labels(method, route, f"{status // 100}xx").inc()
    i.http_duration.labels(method, route).observe(seconds)


def count_written(kinds: Iterable[str], *, received: bool) -> None:
    """Record versions of these kinds written to the journal (own, or received from peers)."""
    counter = _instruments().records_written
    source = "received" if received else "local"
    for kind, n in Tally(kinds).items():
        counter.labels(kind, source).inc(n)


def count_sent(peer: str, batches: int, records: int) -> None:
    """Batches (and the records in them) that ``peer`` acknowledged."""
    if batches:
        i = _instruments()
        i.batches_sent.labels(peer).inc(batches)
        i.records_sent.labels(peer).inc(records)


def count_send_failure(peer: str, reason: str) -> None:
    """A push to ``peer`` that stopped without an acknowledgement; ``reason`` is a short word."""
    _instruments().send_failures.labels(peer, reason).inc()


def tak_client(*, connected: int = 0, authenticated: int = 0) -> None:
    """TAK TCP clients came (+1) or went (-1), or authenticated (+1; -1 when they leave)."""
    i = _instruments()
    if connected:
        i.tak_clients.labels("connected").inc(connected)
    if authenticated:
        i.tak_clients.labels("authenticated").inc(authenticated)


def count_tak(outcome: str, n: int = 1) -> None:
    """``n`` CoT messages of one outcome (received, positions, malformed ...)."""
    _instruments().tak_messages.labels(outcome).inc(n)


def sensor_broker(connected: bool) -> None:
    """The sensor subscriber connected to (True) or lost (False) the MQTT broker."""
    _instruments().sensor_connected.set(1 if connected else 0)


def count_sensor(outcome: str, n: int = 1) -> None:
    """``n`` MQTT detection messages of one outcome (received, detections, dropped ...)."""
    _instruments().sensor_messages.labels(outcome).inc(n)


def count_camera(outcome: str) -> None:
    """One camera snapshot attempt of an outcome (taken, timeout, auth ...)."""
    _instruments().camera_snapshots.labels(outcome).inc()


def count_mavlink(outcome: str, n: int = 1) -> None:
    """``n`` MAVLink datagrams of one outcome (received, positions, malformed ...)."""
    _instruments().mavlink_messages.labels(outcome).inc(n)


def observe_analysis_pass(seconds: float | None) -> None:
    """A scheduled analysis pass took ``seconds``; None: it ended without a result."""
    i = _instruments()
    if seconds is None:
        i.analysis_failures.inc()
    else:
        i.analysis_duration.observe(seconds)
