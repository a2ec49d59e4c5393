"""Seeing a node from outside: request ids and request metrics around every route, and the
gauges a scrape reads from the database (docs/monitoring.md).

What the database knows (journal head, backlog and lag per link, followers'
cursors, queues, alerts, the age of analysis results) is read when Prometheus
scrapes, by whichever app process answers: the database is what every process
of a node shares, so these need no pooling. Each is one cheap, indexed query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.routing import NoMatchFound, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitcen import __version__, metrics
from sitcen.logs import request_id, sane_request_id
from sitcen.node import Node
from sitcen.recompute import RISK_DETAIL
from sitcen.store import schema
from sitcen.store.epochs import EPOCH_BITS
from sitcen.store.journal import now_micros

log = logging.getLogger("sitcen.api")

REQUEST_ID_HEADER = b"x-request-id"

#: The route label of a request no route matched (a scan of unknown paths must not make
#: a series per path).
UNMATCHED = "unmatched"
#: Methods counted by name; any other a client invents is counted as ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIds:
    """ASGI middleware giving every request an id: the client's ``X-Request-ID`` when sane,
    else a new one. It is in the answer's ``X-Request-ID`` and in every log line written
    while the request is served (:data:`sitcen.logs.request_id`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(REQUEST_ID_HEADER)
        rid = sane_request_id(given.decode("latin-1") if given is not None else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, rid.encode())]}
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def route_of(scope: Scope) -> str:
    """The full template of the route that served a request (``/api/v1/events/{event_id}``).

    FastAPI puts in ``scope["route"]`` the route as its router declared it
    (``/events/{event_id}``, without the prefixes it was included under). The prefix is what
    the served path holds before that route's own path filled with the request's
    parameters. Worked out from that one route, at its first request: asking FastAPI for every
    route's full path instead (``iter_route_contexts``) makes it prepare the parameters of
    all 220-odd routes, which cost each new app about 0.3 s at its first request.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED
    if not isinstance(route, Route):  # a mount (the console's files): its path as declared
        return template
    path = scope.get("path", "")
    try:
        own = str(route.url_path_for(route.name, **scope.get("path_params", {})))
    except (NoMatchFound, AssertionError, ValueError):
        return template
    return path[: len(path) - len(own)] + template if path.endswith(own) else template


class RequestMetrics:
    """ASGI middleware counting every request by route template and status class, and
    timing it to the end of its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Each route's template, by the id of the route object, once a request has used it.
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before any answer becomes a 500 further out

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            method = scope.get("method", "GET")
            metrics.count_request(method if method in METHODS else "other",
                                  self._template(scope), status,
                                  time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """:func:`route_of`, worked out once per route rather than on every request."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        template = self._templates.get(id(route))
        if template is None:
            template = self._templates[id(route)] = route_of(scope)
        return template


# ------------------------------------------------------------------ read at scrape time


#: Entries counted at most, one by one, behind a cursor of an earlier epoch (below).
COUNT_CAP = 100_000


def entries_after(conn: sa.Connection, cursor: int, head: int) -> int:
    """How many journal entries lie after ``cursor`` (``head`` is the newest position).

    Within one epoch positions follow each other, so it is a subtraction (a write rolled
    back on PostgreSQL leaves a gap in the sequence, counted too). After a restore the
    positions jump to the next epoch (store/epochs.py): a cursor of an earlier epoch gets
    its entries counted, up to :data:`COUNT_CAP`.
    """
    if head <= cursor:
        return 0
    if head >> EPOCH_BITS == cursor >> EPOCH_BITS:
        return head - cursor
    j = schema.journal
    after = sa.select(j.c.seq).where(j.c.seq > cursor).limit(COUNT_CAP).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(after)).scalar_one())


def _gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class NodeGauges:
    """A collector of what the node's database says now; :attr:`seconds` is what it took."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.seconds = 0.0

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        s = self.node.settings
        info = _gauge("sitcen_node_info", "Always 1: the node's id, version and database",
                      ("node_id", "version", "database"))
        info.add_metric([s.node_id, __version__, self.node.engine.dialect.name], 1)
        yield info
        up = _gauge("sitcen_database_up", "1 when the scrape could read the database")
        try:
            with self.node.engine.connect() as conn:
                families = list(self._read(conn, now_micros()))
        except Exception:  # a scrape reports a database it cannot read, it does not fail
            log.exception("metrics: the database could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families
        self.seconds = time.perf_counter() - started
        took = _gauge("sitcen_metrics_database_read_seconds",
                      "Time this scrape took to read the database's gauges")
        took.add_metric([], self.seconds)
        yield took

    def _read(self, conn: sa.Connection, now_us: int) -> Iterator[Metric]:
        j = schema.journal
        head = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(j.c.seq), 0)))
                   .scalar_one())
        position = _gauge("sitcen_journal_head_seq",
                          "Sequence number of the journal's newest entry")
        position.add_metric([], head)
        yield position
        yield from self._links(conn, head, now_us)
        yield from self._followers(conn, head)
        yield from self._queues(conn, now_us)
        yield from self._alerts(conn)
        yield from self._results(conn, now_us)

    def _links(self, conn: sa.Connection, head: int, now_us: int) -> Iterator[Metric]:
        p, j = schema.peers, schema.journal
        labels = ("peer", "relation")
        backlog = _gauge("sitcen_federation_backlog_records",
                         "Journal entries after the link's acknowledged cursor (not yet sent "
                         "and acknowledged, or not yet passed as not for this peer)", labels)
        lag = _gauge("sitcen_federation_lag_seconds",
                     "Age of the oldest journal entry the link has not had acknowledged; 0 "
                     "when caught up", labels)
        acked = _gauge("sitcen_federation_acked_seq",
                       "The link's acknowledged cursor in this node's journal", labels)
        received = _gauge("sitcen_federation_received_seq",
                          "How far this node has pulled the linked node's journal", labels)
        for peer in conn.execute(sa.select(p.c.node_id, p.c.relation, p.c.acked_seq,
                                           p.c.received_seq).order_by(p.c.node_id)):
            key = [peer.node_id, peer.relation]
            behind = entries_after(conn, int(peer.acked_seq), head)
            backlog.add_metric(key, behind)
            oldest = None
            if behind:
                oldest = conn.execute(sa.select(j.c.recorded_at).where(j.c.seq > peer.acked_seq)
                                      .order_by(j.c.seq).limit(1)).scalar()
            lag.add_metric(key, 0.0 if oldest is None else max(0.0, (now_us - oldest) / 1e6))
            acked.add_metric(key, int(peer.acked_seq))
            received.add_metric(key, int(peer.received_seq))
        yield from (backlog, lag, acked, received)

    def _followers(self, conn: sa.Connection, head: int) -> Iterator[Metric]:
        c = schema.cursors
        behind = _gauge("sitcen_journal_follower_lag_records",
                        "Journal entries a follower of the journal (the validation queue, "
                        "notifications, deliveries...) has still to read", ("follower",))
        for row in conn.execute(sa.select(c.c.name, c.c.position).order_by(c.c.name)):
            behind.add_metric([row.name], entries_after(conn, int(row.position), head))
        yield behind

    def _queues(self, conn: sa.Connection, now_us: int) -> Iterator[Metric]:
        q = schema.queue_stays
        s = self.node.settings
        overdue_before = now_us - s.queue_overdue_min * 60_000_000
        waiting = _gauge("sitcen_queue_waiting_reports",
                         "Reports waiting in a level's validation queue", ("level",))
        overdue = _gauge("sitcen_queue_overdue_reports",
                         "Of them, reports waiting longer than SITCEN_QUEUE_OVERDUE_MIN",
                         ("level",))
        oldest = _gauge("sitcen_queue_oldest_age_seconds",
                        "How long the oldest report in a level's queue has waited; 0 when "
                        "the queue is empty", ("level",))
        # One index range per level of the chain (ix_queue_stays_queue: level, state, ...).
        rows = {row.level: row for row in conn.execute(
            sa.select(q.c.level, sa.func.count().label("n"),
                      sa.func.min(q.c.entered_at).label("first"),
                      sa.func.sum(sa.case((q.c.entered_at < overdue_before, 1), else_=0))
                      .label("late"))
            .where(q.c.level.in_(s.chain_levels), q.c.state == "waiting")
            .group_by(q.c.level))}
        for level in s.chain_levels:
            row: Any = rows.get(level)
            waiting.add_metric([level], 0 if row is None else int(row.n))
            overdue.add_metric([level], 0 if row is None else int(row.late or 0))
            oldest.add_metric([level], 0.0 if row is None or row.first is None
                              else max(0.0, (now_us - int(row.first)) / 1e6))
        yield from (waiting, overdue, oldest)

    def _alerts(self, conn: sa.Connection) -> Iterator[Metric]:
        r = schema.records
        # The status is in the record's JSON body: read there by the database, not here.
        status: Any = (sa.cast(r.c.body, sa.JSON)["status"].as_string()
                       if conn.dialect.name == "postgresql"
                       else sa.func.json_extract(r.c.body, "$.status"))
        counts = {row[0]: int(row[1]) for row in conn.execute(
            sa.select(status, sa.func.count())
            .where(r.c.kind == "alert", r.c.origin == self.node.settings.node_id)
            .group_by(status))}
        alerts = _gauge("sitcen_alerts", "This node's alerts by status (open, acknowledged, "
                                         "closed)", ("status",))
        for name in ("open", "acknowledged", "closed"):
            alerts.add_metric([name], int(counts.get(name, 0)))
        yield alerts

    def _results(self, conn: sa.Connection, now_us: int) -> Iterator[Metric]:
        a = schema.analysis_results
        age = _gauge("sitcen_analysis_result_age_seconds",
                     "Time since a kept analysis result (the risk table) was computed",
                     ("result",))
        for row in conn.execute(sa.select(a.c.name, a.c.computed_at)
                                .where(a.c.name.not_like(RISK_DETAIL + "%"))
                                .order_by(a.c.name)):
            age.add_metric([row.name], max(0.0, (now_us - int(row.computed_at)) / 1e6))
        yield age
