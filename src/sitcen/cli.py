"""The ``sitcen`` command-line program."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from sitcen import __version__
from sitcen.exchange.links import Relation
from sitcen.settings import Settings, SettingsError, settings_environment


def _settings(**overrides: Any) -> Settings:
    """The settings of this invocation, from the environment (and overrides)."""
    try:
        return Settings(**overrides)
    except (SettingsError, ValueError) as exc:
        raise click.ClickException(f"bad settings: {exc}") from exc


@contextmanager
def _database() -> Iterator[sa.Engine]:
    """The node's database, migrated, closed again when the command ends."""
    from sitcen.store.engine import open_engine

    engine = open_engine(_settings().resolved_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitcen")
def main() -> None:
    """sitcen: a situation-centre node for integrated border management.

    Settings come from SITCEN_* environment variables (see docs/settings.md).
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="app processes sharing the port (SQLite and PostgreSQL both allow several)")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the node's API (migrates the database first)."""
    _serve(_settings(), host, port, workers=workers)


def _serve(settings: Settings, host: str, port: int, *, workers: int = 1,
           live: threading.Event | None = None, live_every: float = 4.0) -> None:
    import uvicorn

    from sitcen.api.main import create_app, freeze_start_up, log_to_stderr
    from sitcen.node import Node

    log_to_stderr()
    # Migrate and load the sections once, here, before any worker starts.
    node = Node.open(settings)
    if live is not None:
        from sitcen.demo.patrols import start_demo_patrols
        from sitcen.demo.seeding import LiveFeed

        LiveFeed(node, live, live_every).start()
        start_demo_patrols(node, live)
    if node.identity is not None:
        # Push to linked nodes from this (parent) process; a lease per link keeps
        # other processes on the same database from sending the same batches.
        from sitcen.exchange.sender import LinkSender
        from sitcen.exchange.sharing import section_infos

        LinkSender(node.engine, node.identity,
                   sections=section_infos(node.sections.sections)).start()
    # Notifications: new records matched against every subscription (one process, a lease).
    from sitcen.operations.notifications import NotificationFollower

    NotificationFollower(node.engine, settings.node_id, settings.partner_users).start()
    # Cooperation: mentions in threads and requests past their deadline (one process, a lease).
    from sitcen.operations.watch import CooperationWatch

    CooperationWatch(node.engine, settings.node_id, settings.partner_users).start()
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
        from sitcen.interop.cot import MappingError
        from sitcen.interop.mqtt import DetectionSubscriber

        try:
            DetectionSubscriber.from_settings(node).start()
        except (MappingError, OSError) as exc:
            raise click.ClickException(f"sensor subscriber: {exc}") from exc
    if settings.analysis_interval_min > 0:
        # Risk table and alerts, recomputed on schedule by one process (a lease).
        from sitcen.recompute import AnalysisScheduler

        AnalysisScheduler(node.engine, settings.node_id,
                          settings.analysis_interval_min * 60.0).start()
    # The daily situation report of the day before, drafted (or issued) at 00:30 local,
    # and the products of templates with a schedule of their own.
    from sitcen.reports.library import NodeFacts
    from sitcen.reports.schedule import ReportScheduler

    ReportScheduler(node.engine, NodeFacts(settings.node_id, settings.node_name,
                                           settings.node_country, tuple(node.sections.sections),
                                           node.identity),
                    settings.report_daily_at, settings.report_language,
                    settings.report_issue_as).start()
    if workers == 1:
        app = create_app(node)
        freeze_start_up()
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # Worker processes build their own node from the environment.
    os.environ.update(settings_environment(settings))
    uvicorn.run("sitcen.api.main:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info")


@main.command()
def migrate() -> None:
    """Apply pending database migrations and exit."""
    from sitcen.store.migrations import applied

    with _database() as engine, engine.connect() as conn:
        names = applied(conn)
        click.echo(f"database at {engine.url.render_as_string(hide_password=True)}")
    click.echo("migrations applied: " + ", ".join(names))


@main.command("settings")
def show_settings() -> None:
    """Print the effective settings (secrets masked)."""
    settings = _settings()
    for name, value in settings.model_dump().items():
        shown = "********" if "secret" in name else value
        click.echo(f"SITCEN_{name.upper()}={shown}")


@main.group()
def user() -> None:
    """Manage the node's users."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["operator", "duty_officer", "analyst", "liaison", "admin"]))
@click.option("--full-name", default="", help="the person's name as shown in the console")
@click.password_option(help="password (asked for when not given)")
def user_add(username: str, role: str, full_name: str, password: str) -> None:
    """Create a user with a role."""
    from sitcen.store.users import UserError, add_user
    from sitcen.users import Role

    try:
        with _database() as engine:
            add_user(engine, username, password, Role(role), full_name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} added with role {role}")


@user.command("list")
def user_list() -> None:
    """List the node's users."""
    from sitcen.store.users import list_users

    with _database() as engine:
        users = list_users(engine)
    for u in users:
        flag = " (disabled)" if u.disabled else ""
        click.echo(f"{u.username}\t{u.role.value}\t{u.full_name}{flag}")


@main.group()
def sections() -> None:
    """Border sections: list, import custom ones, restore the defaults."""


@sections.command("list")
def sections_list() -> None:
    """List the node's border sections."""
    from sitcen.store.sections import ensure_sections, load_sections

    with _database() as engine:
        ensure_sections(engine)
        found = load_sections(engine)
    for s in found:
        click.echo(f"{s.id}\t{s.length_km:8.1f} km\t{s.name}")


@sections.command("import")
@click.argument("geojson_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sections_import(geojson_file: Path) -> None:
    """Replace the border sections with those of a GeoJSON FeatureCollection."""
    from sitcen.geo import GeographyError
    from sitcen.store.sections import replace_sections

    try:
        data = json.loads(geojson_file.read_text(encoding="utf-8"))
        with _database() as engine:
            imported = replace_sections(engine, data)
    except (GeographyError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{geojson_file}: {exc}") from exc
    click.echo(f"{len(imported)} sections imported; they replace the previous ones")


@sections.command("reset")
def sections_reset() -> None:
    """Go back to the shipped default sections."""
    from sitcen.store.sections import restore_default_sections

    with _database() as engine:
        restore_default_sections(engine)
    click.echo("default sections restored")


@main.command()
@click.option("--force", is_flag=True, help="replace an existing key pair (peers must re-trust)")
def init(force: bool) -> None:
    """Create this node's Ed25519 key pair and its database."""
    from sitcen.exchange.identity import IdentityExistsError, init_identity

    settings = _settings()
    try:
        identity = init_identity(settings.identity_dir, settings.node_id, overwrite=force)
    except IdentityExistsError as exc:
        raise click.ClickException(f"{exc} (use --force to replace it)") from exc
    with _database():
        pass
    click.echo(f"node {identity.node_id}: key pair in {settings.identity_dir}")
    click.echo(f"public key  {identity.public_key_text}")
    click.echo(f"fingerprint {identity.fingerprint}")


@main.group()
def node() -> None:
    """This node's identity."""


@node.command("show")
def node_show() -> None:
    """Print this node's id, public key and fingerprint (to give to partners)."""
    from sitcen.exchange.identity import IdentityError, NodeIdentity

    settings = _settings()
    try:
        identity = NodeIdentity.load(settings.identity_dir)
    except IdentityError as exc:
        raise click.ClickException(f"{exc}; run `sitcen init` first") from exc
    click.echo(f"node        {identity.node_id} ({settings.node_name}, {settings.node_country})")
    click.echo(f"public key  {identity.public_key_text}")
    click.echo(f"fingerprint {identity.fingerprint}")


@main.group()
def agreement() -> None:
    """Sharing agreements this node grants to the nodes it is linked to."""


@agreement.command("check")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agreement_check(document: Path) -> None:
    """Validate an agreement document (YAML or JSON) without storing it."""
    from sitcen.exchange.agreements import AgreementError, load_agreement

    try:
        parsed = load_agreement(document.read_text(encoding="utf-8"), source=str(document))
    except AgreementError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{parsed.id} v{parsed.version}: {parsed.from_node} -> {parsed.to_node} is valid")


@agreement.command("add")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agreement_add(document: Path) -> None:
    """Store an agreement and make it govern the link to its receiver."""
    from sitcen.exchange.agreements import AgreementError
    from sitcen.exchange.links import PeerError, add_agreement

    settings = _settings()
    try:
        with _database() as engine:
            stored = add_agreement(engine, document.read_text(encoding="utf-8"),
                                   own_node_id=settings.node_id, source=str(document))
    except (AgreementError, PeerError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"agreement {stored.id} v{stored.version} now governs what goes to "
               f"{stored.agreement.to_node}")


@agreement.command("list")
def agreement_list() -> None:
    """List the stored agreements."""
    from sitcen.exchange.links import list_agreements

    with _database() as engine:
        found = list_agreements(engine)
    for a in found:
        click.echo(f"{a.id}\tv{a.version}\t{a.agreement.from_node} -> {a.agreement.to_node}"
                   f"\t{a.agreement.direction}")


@main.group()
def peer() -> None:
    """Links to other nodes: a parent, children and peers."""


@peer.command("add")
@click.argument("node_id")
@click.option("--url", required=True, help="base URL of the other node, e.g. https://kg-nc:8080")
@click.option("--public-key", required=True,
              help="its public key (ed25519:...), exchanged out of band")
@click.option("--relation", required=True, type=click.Choice([r.value for r in Relation]))
@click.option("--name", default="", help="human name of the other node")
def peer_add(node_id: str, url: str, public_key: str, relation: str, name: str) -> None:
    """Link another node by id, URL and public key."""
    from sitcen.exchange.links import PeerError, add_peer

    settings = _settings()
    try:
        with _database() as engine:
            add_peer(engine, node_id, url=url, public_key=public_key,
                     relation=Relation(relation), name=name, own_node_id=settings.node_id)
    except PeerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"linked {node_id} as {relation} at {url}")


@peer.command("list")
def peer_list() -> None:
    """List the linked nodes."""
    from sitcen.exchange.links import list_peers

    with _database() as engine:
        found = list_peers(engine)
    for p in found:
        click.echo(f"{p.node_id}\t{p.relation.value}\t{p.url}\t{p.public_key}")


@peer.command("remove")
@click.argument("node_id")
def peer_remove(node_id: str) -> None:
    """Unlink a node."""
    from sitcen.exchange.links import remove_peer

    with _database() as engine:
        if not remove_peer(engine, node_id):
            raise click.ClickException(f"no linked node {node_id}")
    click.echo(f"unlinked {node_id}")


@main.command()
@click.option("--years", default=3.0, show_default=True, type=click.FloatRange(0.01, 20))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 100),
              help="multiplies the scenario's event rates")
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path),
              help="write the planted anomalies and trend shifts (ground truth) here")
def seed(years: float, seed: int, scale: float, truth: Path | None) -> None:
    """Write a synthetic scenario (events up to now) into the node's database."""
    from sitcen.demo.seeding import seed_scenario
    from sitcen.node import Node

    node = Node.open(_settings())
    bar = _Progress("seeding events")
    try:
        count = seed_scenario(node, years=years, seed=seed, scale=scale, truth=truth,
                              progress=bar)
    finally:
        bar.close()
        node.engine.dispose()
    click.echo(f"{count} events written")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-dir", default=Path(".demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--years", default=3.0, show_default=True, type=click.FloatRange(0.01, 20))
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option("--live/--no-live", default=True, show_default=True,
              help="keep reporting new synthetic events while serving")
@click.option("--live-every", default=4.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="seconds between two live events")
@click.option("--task-every", default=180.0, show_default=True,
              type=click.FloatRange(0.5, 3600),
              help="seconds between two tasks the duty officer gives the patrols (with --live)")
def demo(host: str, port: int, data_dir: Path, years: float, seed_value: int, live: bool,
         live_every: float, task_every: float) -> None:
    """Seed a fresh demo node (SQLite) with years of activity and serve it."""
    # Only this command and `seed` import the demo package.
    from sitcen.demo.seeding import DEMO_USERS, DemoStory, add_demo_users, seed_scenario
    from sitcen.node import Node

    db = data_dir / "sitcen.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = _settings(environment="demo", data_dir=data_dir, node_id="demo-national-centre",
                         node_name="Demo national coordination centre", node_country="TJ")
    node = Node.open(settings)
    if node.identity is None:  # the demo signs the daily report it issues
        from sitcen.exchange.identity import init_identity

        node.identity = init_identity(settings.identity_dir, settings.node_id)
    add_demo_users(node)
    truth = data_dir / "scenario-truth.json"
    bar = _Progress("seeding events")
    try:
        count = seed_scenario(node, years=years, seed=seed_value, truth=truth, progress=bar)
    finally:
        bar.close()
    stages = _Stages("")
    stop = threading.Event()
    story = DemoStory(node, raise_after_s=20.0 if live else 0.0, progress=stages,
                      say=click.echo, stop=stop, task_every_s=task_every if live else 0.0)
    try:
        story.prepare()
    finally:
        stages.close()
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"sitcen demo: {count} events over {years:g} years; ground truth in {truth}")
    click.echo(f"serving at {url}  (API {url}api/v1, OpenAPI {url}openapi.json)")
    click.echo("demo users (username / password / role):")
    for username, password, role, _ in DEMO_USERS:
        click.echo(f"  {username:9} {password:17} {role}")
    for job in story.jobs():  # alerts, a level change on the live stream, patrols tasked
        job.start()
    try:
        _serve(settings, host, port, live=stop if live else None, live_every=live_every)
    finally:
        stop.set()


# --- spreadsheets: historic events and indicators in, event queries out ---------------------


@main.group("import")
def import_group() -> None:
    """Import historic events or monthly indicators from CSV or XLSX files."""


def _read_file(path: Path) -> bytes:
    from sitcen.interop.spreadsheets import MAX_FILE_BYTES

    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise click.ClickException(f"{path}: {size:,} bytes; the limit is {MAX_FILE_BYTES:,} "
                                   "(split the file)")
    return path.read_bytes()


def _echo_problems(problems: list[Any], count: int, shown: int = 50) -> None:
    for problem in problems[:shown]:
        click.echo(f"  {problem}", err=True)
    if count > shown:
        click.echo(f"  ... and {count - shown} more", err=True)


@import_group.command("events")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="YAML or JSON column mapping (see docs/interop.md)")
@click.option("--column", "columns", multiple=True, metavar="FIELD=HEADER",
              help="the file's column for a field, e.g. lon=Долгота (repeatable)")
@click.option("--timezone", help="zone of times written without one: UTC, +05:00, Asia/Dushanbe")
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
@click.option("--valid-only", is_flag=True,
              help="write the valid rows even when other rows have problems")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the problems as CSV (row, column, value, reason)")
def import_events_command(file: Path, mapping_file: Path | None, columns: tuple[str, ...],
                          timezone: str | None, dry_run: bool, valid_only: bool,
                          report_file: Path | None) -> None:
    """Import historic events from a CSV or XLSX file; nothing is written if a row is wrong."""
    import csv

    from sitcen.interop.event_import import (
        MappingError,
        import_events,
        load_mapping,
        mapping_from_dict,
    )
    from sitcen.interop.spreadsheets import SpreadsheetError
    from sitcen.node import Node

    try:
        base = (load_mapping(mapping_file.read_text(encoding="utf-8"), source=str(mapping_file))
                if mapping_file else None)
        data: dict[str, Any] = base.model_dump() if base else {}
        for item in columns:
            field, sep, header = item.partition("=")
            if not sep:
                raise MappingError(f"--column {item!r}: write FIELD=HEADER")
            data.setdefault("columns", {})[field.strip()] = header.strip()
        if timezone:
            data["timezone"] = timezone
        mapping = mapping_from_dict(data, source=str(mapping_file or "options"))
    except MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    content = _read_file(file)
    node = Node.open(_settings())
    try:
        report = import_events(
            node.engine, node.reporter, content, mapping, dry_run=dry_run, valid_only=valid_only,
            progress=lambda done, total: click.echo(f"written {done} of {total} events",
                                                    err=True))
    except SpreadsheetError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    finally:
        node.engine.dispose()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    click.echo("columns: " + ", ".join(f"{k}={v!r}" for k, v in report.columns.items()),
               err=True)
    _echo_problems(report.problems, report.problem_count)
    if report_file is not None:
        with report_file.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "value", "reason"])
            writer.writerows((p.row, p.column, p.value, p.reason) for p in report.problems)
    if report.problem_count and not valid_only:
        raise click.ClickException(report.summary)
    click.echo(report.summary)


@import_group.command("indicators")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--value-column", default="detections", show_default=True,
              help="the column of monthly counts")
@click.option("--dimension", "dimensions", multiple=True,
              help="an expected dimension column (repeatable; default: every other column)")
@click.option("--sheet", help="XLSX sheet name (default: the first)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write the checked table here as CSV (month, dimensions, value)")
def import_indicators_command(file: Path, value_column: str, dimensions: tuple[str, ...],
                              sheet: str | None, output: Path | None) -> None:
    """Check a monthly indicator table (CSV or XLSX) and write it out clean."""
    from sitcen.interop.spreadsheets import SpreadsheetError, read_indicators

    try:
        table, problems, notes = read_indicators(
            _read_file(file), value_column=value_column,
            dimensions=list(dimensions) or None, sheet=sheet)
    except SpreadsheetError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    for note in notes:
        click.echo(f"note: {note}", err=True)
    _echo_problems(problems, len(problems))
    if output is not None:
        table.assign(month=table["month"].astype(str)).to_csv(output, index=False)
    months = f"{table['month'].min()} to {table['month'].max()}" if len(table) else "no months"
    summary = f"{len(table)} rows kept ({months}), {len(problems)} problems"
    if problems:
        raise click.ClickException(summary)
    click.echo(summary)


@main.group("export")
def export_group() -> None:
    """Export data as spreadsheets or GeoJSON."""


def _listed(name: str, values: tuple[str, ...], allowed: set[str] | None = None) -> list[str]:
    found = [v.strip() for value in values for v in value.split(",") if v.strip()]
    for value in found:
        if allowed is not None and value not in allowed:
            raise click.BadParameter(f"unknown value {value!r}", param_hint=f"--{name}")
    return found


def _moment(name: str, value: str | None) -> int | None:
    from datetime import UTC

    from sitcen.times import parse_moment, to_micros

    if value is None:
        return None
    try:
        return to_micros(parse_moment(value, naive_zone=UTC, bound=True))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{name}") from exc


@export_group.command("events")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson"]), default="csv",
              show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True,
              path_type=Path), help="the file to write (- for standard output)")
@click.option("--since", help="occurred at or after (ISO 8601; UTC when no zone is given)")
@click.option("--until", help="occurred before (ISO 8601; UTC when no zone is given)")
@click.option("--bbox", help="min_lon,min_lat,max_lon,max_lat")
@click.option("--section", multiple=True, help="border section id (repeatable or comma-separated)")
@click.option("--country", multiple=True, help="ISO country code")
@click.option("--category", multiple=True)
@click.option("--type", "types", multiple=True, help="event type id")
@click.option("--impact-level", multiple=True)
@click.option("--status", multiple=True)
@click.option("--handling", multiple=True)
@click.option("--origin", multiple=True, help="node id of the reporting node")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel)")
@click.option("--delimiter", type=click.Choice(["comma", "semicolon", "tab"]), default="comma",
              show_default=True, help="CSV: the column separator")
def export_events_command(fmt: str, output: Path, since: str | None, until: str | None,
                          bbox: str | None, section: tuple[str, ...], country: tuple[str, ...],
                          category: tuple[str, ...], types: tuple[str, ...],
                          impact_level: tuple[str, ...], status: tuple[str, ...],
                          handling: tuple[str, ...], origin: tuple[str, ...], bom: bool,
                          delimiter: str) -> None:
    """Export the events a query matches as CSV, XLSX or GeoJSON."""
    from sitcen.geo import BBox, parse_bbox
    from sitcen.interop.spreadsheets import (
        SpreadsheetError,
        csv_chunks,
        event_pages,
        geojson_chunks,
        write_xlsx,
    )
    from sitcen.store.queries import EventFilter
    from sitcen.taxonomy import EVENT_TYPES, Category, Handling, ImpactLevel, Status

    box: BBox | None = None
    if bbox is not None:
        try:
            box = parse_bbox(bbox)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--bbox") from exc
    filt = EventFilter(
        since=_moment("since", since), until=_moment("until", until), bbox=box,
        section_ids=_listed("section", section), countries=_listed("country", country),
        categories=_listed("category", category, {c.value for c in Category}),
        types=_listed("type", types, set(EVENT_TYPES)),
        impact_levels=_listed("impact-level", impact_level, {v.value for v in ImpactLevel}),
        statuses=_listed("status", status, {v.value for v in Status}),
        handlings=_listed("handling", handling, {v.value for v in Handling}),
        origins=_listed("origin", origin),
    )
    written = 0
    with _database() as engine:
        def counted() -> Iterator[list[dict[str, Any]]]:
            nonlocal written
            for page in event_pages(engine, filt):
                written += len(page)
                yield page

        with click.open_file(str(output), "wb") as handle:
            try:
                if fmt == "xlsx":
                    write_xlsx(counted(), handle)
                else:
                    chunks = (geojson_chunks(counted()) if fmt == "geojson" else
                              csv_chunks(counted(), bom=bom, delimiter={
                                  "comma": ",", "semicolon": ";", "tab": "\t"}[delimiter]))
                    for chunk in chunks:
                        handle.write(chunk)
            except SpreadsheetError as exc:
                raise click.ClickException(str(exc)) from exc
    click.echo(f"{written} events written to {output}", err=True)


# --- analyse: risk table, alerts, forecasts, capacity inventories ---------------------------


class _Stages:
    """One progress bar per long step of a computation (each closes the one before)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.bar: _Progress | None = None

    def __call__(self, name: str) -> _Progress:
        self.close()
        self.bar = _Progress(f"{self.prefix}{name}")
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Progress:
    """A click progress bar on stderr, opened on the first report of a long step."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@main.group()
def analyse() -> None:
    """Risk analysis: the risk table, alerts, forecasts and capacity inventories."""


def _risk_lines(table: dict[str, Any], top: int | None) -> list[str]:
    rows = table["sections"][:top] if top else table["sections"]
    period = table["period"]
    lines = [f"risk of {len(table['sections'])} sections, {period['month']} "
             f"({period['from']} to {period['to']}, {period['events_read']} events read)",
             f"{'rank':>4}  {'section':12} {'risk':>5} {'threat':>6} {'vuln':>5} {'impact':>6}"
             f"  {'proposed':9} confirmed"]
    for r in rows:
        vulnerability = f"{r['vulnerability']:5.2f}{' ' if r['vulnerability_known'] else '*'}"
        lines.append(f"{r['rank']:>4}  {r['section_id']:12} {r['risk']:5.2f} {r['threat']:6.2f} "
                     f"{vulnerability}{r['impact']:6.2f}  {r['proposed_level']:9} "
                     f"{r.get('confirmed_level') or '-'}")
    if any(not r["vulnerability_known"] for r in rows):
        lines.append("* no capacity inventory on file: vulnerability assumed")
    return lines


@analyse.command("risk")
@click.option("--top", type=click.IntRange(1, 10_000), help="show only the N riskiest sections")
@click.option("--json", "as_json", is_flag=True, help="print the table as JSON")
def analyse_risk(top: int | None, as_json: bool) -> None:
    """Recompute the risk table of every border section and print the ranking."""
    from sitcen.recompute import compute_risk, risk_table

    node_id = _settings().node_id
    bar = _Progress("reading events")
    with _database() as engine:
        try:
            compute_risk(engine, node_id, progress=bar)
        finally:
            bar.close()
        table = risk_table(engine, node_id)
    if as_json:
        click.echo(json.dumps(table, indent=2, ensure_ascii=False))
        return
    for line in _risk_lines(table, top):
        click.echo(line)


@analyse.command("alerts")
@click.option("--replicates", default=999, show_default=True, type=click.IntRange(9, 99_999),
              help="Monte Carlo replicates of the space-time scan")
def analyse_alerts(replicates: int) -> None:
    """Run early warning and the cluster scan over recent events; write alert records."""
    from datetime import UTC, datetime, timedelta

    from sitcen.analysis.alerts import CHART_HISTORY_DAYS
    from sitcen.recompute import load_events, run_alerts
    from sitcen.store.alerts import list_alerts
    from sitcen.store.sections import load_sections

    node_id = _settings().node_id
    today = datetime.now(UTC).date()
    with _database() as engine:
        reading = _Progress("reading events")
        try:
            events = load_events(engine, since=today - timedelta(days=CHART_HISTORY_DAYS),
                                 until=today + timedelta(days=1), progress=reading)
        finally:
            reading.close()
        detecting = _Progress("charts and scan")
        try:
            writes = run_alerts(engine, node_id, events,
                                section_ids=[s.id for s in load_sections(engine)], today=today,
                                replicates=replicates, progress=detecting)
        finally:
            detecting.close()
        changed = set(writes.created) | set(writes.updated)
        shown = [a for a in list_alerts(engine) if a.id in changed]
    click.echo(f"alerts: {len(writes.created)} new, {len(writes.updated)} updated, "
               f"{writes.unchanged} unchanged")
    for a in shown:
        b = a.body
        click.echo(f"  {b.get('severity', '?'):6} {b.get('section_id')}  {b.get('first_day')} to "
                   f"{b.get('last_day')}  {b.get('status')}  {a.id}")


@analyse.command("forecast")
@click.option("--series", "series", multiple=True,
              help="total, a category, section:<id> or type:<t> (repeatable; default: the "
                   "total and every category)")
@click.option("--horizon", default=6, show_default=True, type=click.IntRange(1, 6),
              help="months ahead")
@click.option("--indicators", "indicator_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="forecast the series of a monthly indicator CSV instead of the node's events")
@click.option("--by", "by", multiple=True,
              help="with --indicators: the dimension columns to split by (repeatable)")
@click.option("--value-column", default="detections", show_default=True,
              help="with --indicators: the column of monthly counts")
def analyse_forecast(series: tuple[str, ...], horizon: int, indicator_file: Path | None,
                     by: tuple[str, ...], value_column: str) -> None:
    """Forecast monthly counts 1-6 months ahead with 80 and 95 % intervals."""
    from sitcen.recompute import default_series, forecasts, parse_series

    if indicator_file is not None:
        found = _indicator_forecasts(indicator_file, list(by), value_column, horizon)
    else:
        names = list(series) or default_series()
        for name in names:
            try:
                parse_series(name)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
        with _database() as engine:
            found = forecasts(engine, names, horizon=horizon)
    for item in found:
        click.echo(f"{item['series']}: {item['months']} months"
                   + (f"; {item['method']}" if item.get("method") else "")
                   + (f"; {item['note']}" if item.get("note") else ""))
        if item.get("trend"):
            click.echo(f"  trend: {item['trend']['note']}")
        for row in item["forecast"]:
            click.echo(f"  {row['month']}  {row['forecast']:10.1f}   80 % {row['lower_80']:9.1f}"
                       f" - {row['upper_80']:<9.1f}  95 % {row['lower_95']:9.1f} - "
                       f"{row['upper_95']:.1f}")


def _indicator_forecasts(path: Path, by: list[str], value_column: str,
                         horizon: int) -> list[dict[str, Any]]:
    from sitcen.analysis.forecast import forecast
    from sitcen.analysis.indicators import monthly_series
    from sitcen.interop.spreadsheets import SpreadsheetError, read_indicators

    try:
        table, problems, _notes = read_indicators(_read_file(path), value_column=value_column)
    except SpreadsheetError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    for problem in problems[:20]:
        click.echo(f"  {problem}", err=True)
    if problems:
        raise click.ClickException(f"{path}: {len(problems)} problems; fix them first")
    try:
        found = monthly_series(table, by, value=value_column)
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    out = []
    for label, monthly in found.items():
        ahead = forecast(monthly, horizon=horizon)
        out.append({"series": str(label), "months": len(monthly),
                    "method": ahead.attrs.get("method"), "trend": None,
                    "forecast": [{"month": str(m), **r} for m, r in ahead.iterrows()]})
    return out


@analyse.group("capacity")
def analyse_capacity() -> None:
    """Capacity inventories of the border sections (vulnerability assessment)."""


@analyse_capacity.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
@click.option("--by", "assessed_by", default="cli", show_default=True,
              help="who assessed the inventories (kept with each version)")
def analyse_capacity_import(file: Path, dry_run: bool, assessed_by: str) -> None:
    """Import capacity inventories from CSV (one row per section); all or nothing."""
    from sitcen.interop.capacity_import import import_capacity_csv
    from sitcen.interop.spreadsheets import SpreadsheetError
    from sitcen.store.sections import load_sections

    settings = _settings()
    with _database() as engine:
        lengths = {s.id: s.length_km for s in load_sections(engine)}
        try:
            report = import_capacity_csv(engine, settings.node_id, _read_file(file),
                                         section_lengths=lengths, assessed_by=assessed_by,
                                         dry_run=dry_run)
        except SpreadsheetError as exc:
            raise click.ClickException(f"{file}: {exc}") from exc
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    _echo_problems(report.problems, report.problem_count, shown=100)
    if report.problems:
        raise click.ClickException(f"{file}: {report.problem_count} problems; nothing written")
    if dry_run:
        click.echo(f"{len(report.sections)} inventories are valid (dry run: nothing written)")
    else:
        click.echo(f"{report.written} capacity inventories written")


if __name__ == "__main__":
    main()


# --- reports: situation reports and analytical products (docs/reports.md) ------------------


@main.group()
def report() -> None:
    """Situation reports and analytical products: generate, issue, list, render, templates."""


def _facts() -> Any:
    from sitcen.node import Node
    from sitcen.reports.library import NodeFacts

    node = Node.open(_settings())
    s = node.settings
    return node, NodeFacts(s.node_id, s.node_name, s.node_country, tuple(node.sections.sections),
                           node.identity)


@report.command("generate")
@click.argument("product", type=click.Choice(["daily", "weekly", "monthly", "tactical",
                                              "annual"]))
@click.option("--day", help="a day of the period, YYYY-MM-DD (default: yesterday for daily, "
                            "today otherwise; tactical: its first day)")
@click.option("--language", help="a catalogue language (default: the template's, else ru)")
@click.option("--template", "template_id", help="a stored template id")
@click.option("--area", multiple=True, help="tactical: a section or border (AF-TJ-*); repeat")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90),
              help="tactical: days ahead")
@click.option("--by", default="cli", show_default=True, help="who drafts it")
@click.option("--issue-as", help="issue it at once, signed for this user")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="also write it here; .html, .pdf or .docx")
def report_generate(product: str, day: str | None, language: str | None,
                    template_id: str | None, area: tuple[str, ...], days: int, by: str,
                    issue_as: str | None, output: Path | None) -> None:
    """Generate a product from the node's own data as a draft (and issue it if asked)."""
    from datetime import UTC, date, datetime, timedelta

    from sitcen.reports.library import ReportError, issue_draft, make_draft
    from sitcen.reports.render import render
    from sitcen.store.users import list_users

    node, facts = _facts()
    today = datetime.now(UTC).date()
    try:
        when = date.fromisoformat(day) if day else (
            today - timedelta(days=1) if product == "daily" else today)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    try:
        record = make_draft(node.engine, facts, product=product, day=when, by=by,
                            template_id=template_id, language=language, area=list(area),
                            days=days)
        click.echo(f"draft {record.id} (version {record.version}): {record.body['title']}, "
                   f"{record.body['period']['label']}")
        if issue_as:
            officer = next((u for u in list_users(node.engine) if u.username == issue_as), None)
            if officer is None:
                raise click.ClickException(f"no user {issue_as!r}")
            record = issue_draft(node.engine, facts, record.id, officer)
            click.echo(f"issued report {record.id} (version {record.version}), signed for "
                       f"{issue_as}")
    except ReportError as exc:
        raise click.ClickException(f"{exc.field}: {exc}") from None
    if output is not None:
        fmt = output.suffix.lstrip(".").lower()
        if fmt not in ("html", "pdf", "docx"):
            raise click.BadParameter("the file must end in .html, .pdf or .docx",
                                     param_hint="--output")
        body = record.body if record.kind == "report" else None
        output.write_bytes(render(record.body["content"], fmt,
                                  None if body is None else {**body, "version": record.version}))
        click.echo(f"written {output}")


@report.command("list")
@click.option("--drafts", is_flag=True, help="list drafts instead of issued reports")
def report_list(drafts: bool) -> None:
    """The reports library (issued reports, own and received), newest first."""
    from sitcen.reports.library import library
    from sitcen.store.journal import RecordKind

    with _database() as engine:
        found = library(engine, kind=RecordKind.report_draft if drafts else RecordKind.report)
    for r in found:
        who = (r.body.get("signature") or {}).get("by") or r.body.get("edited_by", "")
        click.echo(f"{r.id}  v{r.version}  {r.body.get('status'):9} {r.body.get('product'):8} "
                   f"{r.body.get('period', {}).get('label', ''):25} {r.body.get('language')}  "
                   f"{r.origin}  {who}")


@report.command("render")
@click.argument("record_id")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def report_render(record_id: str, output: Path) -> None:
    """Render an issued report or a draft to OUTPUT (.html, .pdf or .docx)."""
    from sitcen.reports.render import render
    from sitcen.store.records import get_record

    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("html", "pdf", "docx"):
        raise click.BadParameter("the file must end in .html, .pdf or .docx")
    with _database() as engine:
        record = get_record(engine, record_id)
    if record is None or record.kind not in ("report", "report_draft"):
        raise click.ClickException(f"no report or draft {record_id}")
    body = {**record.body, "version": record.version} if record.kind == "report" else None
    output.write_bytes(render(record.body["content"], fmt, body))
    click.echo(f"written {output}")


@report.command("template")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="only validate it")
def report_template(document: Path, check: bool) -> None:
    """Validate a report template (YAML or JSON) and store it; errors name line and field."""
    from sitcen.reports.library import save_template
    from sitcen.reports.templates import TemplateError, load_template

    text = document.read_text(encoding="utf-8")
    try:
        if check:
            template = load_template(text, source=document.name)
            click.echo(f"template {template.id}: valid")
            return
        with _database() as engine:
            record = save_template(engine, _settings().node_id, text, by="cli",
                                   source=document.name)
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"template {record.subject} stored (version {record.version})")
