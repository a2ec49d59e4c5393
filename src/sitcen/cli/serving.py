"""Serving a node, and its database and settings: ``serve``, ``migrate``, ``db status``,
``settings``."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sitcen.cli import main
from sitcen.cli.common import _database, _settings
from sitcen.node import Node
from sitcen.settings import GRACEFUL_SHUTDOWN_S, Settings, settings_environment

if TYPE_CHECKING:
    from sitcen.api.peer_listener import PeerListener


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="app processes sharing the port (SQLite and PostgreSQL both allow several)")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the node's API (migrates the database first)."""
    _serve(_settings(), host, port, workers=workers)


def _serve(settings: Settings, host: str, port: int, *, workers: int = 1,
           started: Callable[[Node], None] | None = None) -> None:
    """Serve ``settings``' node; ``started`` is called with it before the API answers
    (the demo starts its live feed and patrols there)."""
    from sitcen import metrics

    # Pool the metrics of every process of the node (this one, its workers, the analysis
    # children) before anything is counted: importing the app counts nothing, but
    # migrating and seeding may write records.
    settings, made_pool = _pool_metrics(settings)
    try:
        _serve_node(settings, host, port, workers=workers, started=started)
    finally:
        metrics.unpool()
        if made_pool:
            shutil.rmtree(made_pool, ignore_errors=True)


def _serve_node(settings: Settings, host: str, port: int, *, workers: int,
                started: Callable[[Node], None] | None) -> None:
    import uvicorn

    from sitcen.api.main import create_app, freeze_start_up
    from sitcen.logs import log_to_stderr, uvicorn_log_config

    # Migrate and load the sections once, here, before any worker starts.
    node = Node.open(settings)
    from sitcen.store.epochs import pending_epoch

    if (restored := pending_epoch(node.engine)) is not None:
        raise click.ClickException(
            f"this node was restored from the backup of {restored.backup['created_at']} and "
            "has not asked its linked nodes for what it lacks since: run sitcen recover "
            "(docs/backup.md)")
    log_to_stderr(settings.log_format)
    if started is not None:
        started(node)
    if node.identity is not None:
        # Push to linked nodes from this (parent) process; a lease per link keeps
        # other processes on the same database from sending the same batches.
        from sitcen.exchange.sender import LinkSender
        from sitcen.exchange.sharing import section_infos
        from sitcen.exchange.tls import PeerTLSError, link_tls

        try:
            link_context = link_tls(settings)
        except PeerTLSError as exc:
            raise click.ClickException(str(exc)) from exc
        LinkSender(node.engine, node.identity, sections=section_infos(node.sections.sections),
                   tls=link_context).start()
    # Notifications: new records matched against every subscription (one process, a lease).
    from sitcen.operations.notifications import NotificationFollower

    NotificationFollower(node.engine, settings.node_id, settings.partner_users).start()
    # Cooperation: mentions in threads and requests past their deadline (one process, a lease).
    from sitcen.operations.indicator_submissions import Reminders
    from sitcen.operations.watch import CooperationWatch

    reminders = Reminders(settings.node_country, settings.indicator_deadline_day,
                          settings.indicator_reminder_days)
    CooperationWatch(node.engine, settings.node_id, settings.partner_users,
                     indicators=reminders if settings.indicator_reminders else None).start()
    # ... and out of the node by e-mail and webhook, with the delivery log (a lease).
    from sitcen.operations.delivery import Deliverer, DeliveryConfig

    Deliverer(node.engine, DeliveryConfig.from_settings(settings)).start()
    # The validation queue: stays kept in step with the journal, officers told (a lease).
    from sitcen.operations.queue import QueueKeeper, chain_of

    QueueKeeper(node.engine, chain_of(settings), settings.partner_users).start()
    if settings.tak_port or settings.tak_udp_port:
        # CoT from TAK devices in, the picture out to them (docs/tak.md).
        from sitcen.interop.cot import MappingError
        from sitcen.interop.tak import listener_from_settings

        try:
            tak = listener_from_settings(node)
            if tak is not None:
                tak.start()
        except (MappingError, OSError) as exc:
            raise click.ClickException(f"TAK listener: {exc}") from exc
    if settings.mqtt_host:
        # Sensor detections from the MQTT broker (docs/sensors.md); one process holds a lease.
        from sitcen.interop import cameras
        from sitcen.interop.cot import MappingError
        from sitcen.interop.mqtt import DetectionSubscriber

        try:
            # Camera snapshots of detections, in a thread of their own (docs/cameras-drones.md).
            logins = cameras.load_credentials(settings.camera_credentials_file)
            cameras.serve(node.engine, cameras.SnapshotWorker(
                node.engine, settings.node_id, node.reporter, logins,
                timeout_s=settings.camera_timeout_s).start())
            DetectionSubscriber.from_settings(node).start()
        except (MappingError, cameras.CameraError, OSError) as exc:
            raise click.ClickException(f"sensor subscriber: {exc}") from exc
    if settings.mavlink_udp_port:
        # Drone telemetry over MAVLink (docs/cameras-drones.md).
        from sitcen.interop.drones import MavlinkListener

        try:
            MavlinkListener(node.engine, node.reporter, host=settings.mavlink_host,
                            port=settings.mavlink_udp_port).start()
        except OSError as exc:
            raise click.ClickException(f"MAVLink listener: {exc}") from exc
    if settings.analysis_interval_min > 0:
        # Risk table and alerts, recomputed on schedule by one process (a lease).
        from sitcen.recompute import AnalysisScheduler

        AnalysisScheduler(node.engine, settings.node_id,
                          settings.analysis_interval_min * 60.0).start()
    # The daily situation report of the day before, drafted (or issued) at 00:30 local,
    # and the products of templates with a schedule of their own.
    from sitcen.reports.library import NodeFacts
    from sitcen.reports.schedule import ReportScheduler

    ReportScheduler(node.engine, NodeFacts.of(node),
                    settings.report_daily_at, settings.report_language,
                    settings.report_issue_as).start()
    if settings.audit_anchor_interval_min > 0:
        # The audit trail's head into the journal, for peers to keep (one process, a lease).
        from sitcen.operations.audit_anchors import AnchorKeeper

        AnchorKeeper(node.engine, settings.node_id,
                     settings.audit_anchor_interval_min * 60.0).start()
    if settings.retention_file is not None:
        # The retention policy's daily purge, and its proof (one process, a lease).
        from sitcen.operations.retention import RetentionError, RetentionKeeper, load_policy

        try:
            policy = load_policy(settings.retention_file)
        except RetentionError as exc:
            raise click.ClickException(str(exc)) from exc
        RetentionKeeper(node.engine, settings.node_id, policy, node.identity).start()
    # Linked nodes with a client certificate on a port of their own (docs/security.md).
    peers = _peer_listener(node, host) if settings.peer_mtls != "off" else None
    # HTTPS when the node has a certificate (docs/security.md); otherwise plain HTTP for a
    # reverse proxy in front, or loopback.
    options: dict[str, Any] = {"log_level": "info",
                               "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S}
    if settings.tls_cert is not None and settings.tls_key is not None:
        options.update(ssl_certfile=str(settings.tls_cert), ssl_keyfile=str(settings.tls_key))
    # X-Forwarded-Proto and -For only from the proxies the settings name (uvicorn would
    # otherwise read FORWARDED_ALLOW_IPS from the environment).
    proxies = list(settings.trusted_proxies)
    options.update(proxy_headers=bool(proxies), forwarded_allow_ips=proxies)
    logging_config = uvicorn_log_config(settings.log_format)
    if logging_config is not None:
        options["log_config"] = logging_config  # each worker applies it as it starts
    try:
        if workers == 1:
            app = create_app(node)
            freeze_start_up()
            uvicorn.run(app, host=host, port=port, **options)
            return
        # Worker processes build their own node from the environment.
        os.environ.update(settings_environment(settings))
        uvicorn.run("sitcen.api.main:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, **options)
    finally:
        if peers is not None:
            peers.stop()


def _pool_metrics(settings: Settings) -> tuple[Settings, Path | None]:
    """Pool this node's metrics in SITCEN_METRICS_DIR (emptied first), or in a fresh
    temporary directory (returned, to be removed at the end); the settings then name it,
    so that the workers pool there too."""
    from sitcen import metrics

    made = None
    directory = settings.metrics_dir
    if directory is None:
        made = directory = Path(tempfile.mkdtemp(prefix="sitcen-metrics-"))
    else:
        directory.mkdir(parents=True, exist_ok=True)
        metrics.clear_pool(directory)
    metrics.pool_in(directory)
    return settings.model_copy(update={"metrics_dir": directory}), made


def _peer_listener(node: Node, host: str) -> PeerListener:
    """The node's peer port, serving from a thread of this process (the parent of any
    workers): the exchange routes, to clients with a certificate of SITCEN_PEER_TLS_CA."""
    from sitcen.api.main import create_app
    from sitcen.api.peer_listener import PeerListener, PeerListenerError
    from sitcen.exchange.tls import PeerTLSError

    try:
        return PeerListener(create_app(node), node.settings, host).start()
    except (PeerTLSError, PeerListenerError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def migrate() -> None:
    """Apply pending database migrations and exit."""
    from sitcen.store.migrations import applied

    with _database() as engine, engine.connect() as conn:
        names = applied(conn)
        click.echo(f"database at {engine.url.render_as_string(hide_password=True)}")
    click.echo("migrations applied: " + ", ".join(names))


@main.group()
def db() -> None:
    """The node's database: its schema state against this version of sitcen."""


@db.command("status")
def db_status() -> None:
    """Show applied, pending and unknown migrations without changing anything.

    Exit code 0: the database is up to date; 1: migrations are pending (the next
    start applies them); 2: it records migrations this version does not know (a
    newer sitcen upgraded it; this version refuses to start on it).
    """
    import sqlalchemy as sa

    from sitcen.store.engine import open_engine
    from sitcen.store.migrations import FORMER_NAMES, pending, schema_version, unknown

    engine = open_engine(_settings().resolved_database_url, apply_migrations=False)
    try:
        with engine.connect() as conn:
            has_table = sa.inspect(conn).has_table("schema_migrations")
            recorded = sorted(conn.execute(sa.text("SELECT name FROM schema_migrations"))
                              .scalars()) if has_table else []
    finally:
        engine.dispose()
    newer, todo = unknown(recorded), pending(recorded)
    click.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    click.echo(f"this sitcen's schema version: {schema_version()}")
    known = [name for name in recorded if name not in newer]
    click.echo(f"applied ({len(known)}):")
    for name in known:
        former = f" (former name of {FORMER_NAMES[name]})" if name in FORMER_NAMES else ""
        click.echo(f"  {name}{former}")
    click.echo(f"pending ({len(todo)}): " + (", ".join(todo) or "none"))
    click.echo(f"unknown ({len(newer)}): " + (", ".join(newer) or "none"))
    if newer:
        click.echo("a newer sitcen upgraded this database: this version will not start on it "
                   "(docs/upgrades.md)", err=True)
        click.get_current_context().exit(2)
    if todo:
        click.echo("the next start (or sitcen migrate) applies the pending migrations")
        click.get_current_context().exit(1)
    click.echo("up to date")


@main.command("settings")
def show_settings() -> None:
    """Print the effective settings (secrets masked)."""
    settings = _settings()
    for name, value in settings.model_dump().items():
        shown = "********" if "secret" in name else value
        click.echo(f"SITCEN_{name.upper()}={shown}")
