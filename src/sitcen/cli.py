"""The ``sitcen`` command-line program."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from sitcen import __version__
from sitcen.exchange.links import Relation
from sitcen.settings import Settings, SettingsError

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("operator", "operator-demo-1", "operator", "Post operator (demo)"),
    ("duty", "duty-demo-1", "duty_officer", "Duty officer (demo)"),
    ("analyst", "analyst-demo-1", "analyst", "Risk analyst (demo)"),
    ("liaison", "liaison-demo-1", "liaison", "Liaison officer (demo)"),
    ("admin", "admin-demo-1", "admin", "Administrator (demo)"),
)


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

    from sitcen.api.main import create_app, log_to_stderr
    from sitcen.api.node import Node

    log_to_stderr()
    # Migrate and load the sections once, here, before any worker starts.
    node = Node.open(settings)
    if live is not None:
        _start_live_feed(node, live, live_every)
    if node.identity is not None:
        # Push to linked nodes from this (parent) process; a lease per link keeps
        # other processes on the same database from sending the same batches.
        from sitcen.exchange.sender import LinkSender
        from sitcen.exchange.sharing import section_infos

        LinkSender(node.engine, node.identity,
                   sections=section_infos(node.sections.sections)).start()
    if workers == 1:
        uvicorn.run(create_app(node), host=host, port=port, log_level="info")
        return
    # Worker processes build their own node from the environment.
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            os.environ[f"SITCEN_{name.upper()}"] = str(value)
    os.environ["SITCEN_SECRET_KEY"] = settings.secret_key.get_secret_value()
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
    from sitcen.api.node import Node

    node = Node.open(_settings())
    try:
        count = _seed(node, years, seed, scale, truth)
    finally:
        node.engine.dispose()
    click.echo(f"{count} events written")


def _seed(node: Any, years: float, seed: int, scale: float, truth: Path | None) -> int:
    from datetime import UTC, datetime, timedelta

    from sitcen.events import EventCreate
    from sitcen.scenario import generate
    from sitcen.store.events import report_events

    start = (datetime.now(UTC) - timedelta(days=365.25 * years)).date()
    scenario = generate(years, seed=seed, start=start, scale=scale)
    total = len(scenario)
    now = datetime.now(UTC)
    written = 0
    with click.progressbar(length=total, label="seeding events", file=sys.stderr) as bar:
        for batch in scenario.batches(10_000):
            items = [EventCreate.model_validate(p) for p in batch]
            # The scenario runs up to now; reports still "in the future" are left out.
            items = [it for it in items if (it.reported_at or it.occurred_at) <= now]
            if items:
                report_events(node.engine, node.reporter, items, batch=True)
                written += len(items)
            bar.update(len(batch))
    if truth is not None:
        truth.write_text(json.dumps(scenario.truth_json(), indent=2), encoding="utf-8")
    return written


def _start_live_feed(node: Any, stop: threading.Event, every_s: float = 4.0) -> None:
    """Report a new synthetic event every few seconds on average, as posts would."""
    from sitcen.events import EventCreate
    from sitcen.scenario import live_events
    from sitcen.store.events import report_events

    def run() -> None:
        # live_events sleeps between reports (a Poisson process at this rate).
        for payload in live_events(60.0 / every_s, seed=int(time.time())):
            if stop.is_set():
                return
            try:
                report_events(node.engine, node.reporter, [EventCreate.model_validate(payload)])
            except Exception as exc:  # the feed must never take the server down
                click.echo(f"live feed: skipped one event: {exc}", err=True)

    threading.Thread(target=run, name="live-feed", daemon=True).start()


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
def demo(host: str, port: int, data_dir: Path, years: float, seed_value: int, live: bool,
         live_every: float) -> None:
    """Seed a fresh demo node (SQLite) with years of activity and serve it."""
    from sitcen.api.node import Node
    from sitcen.store.users import add_user
    from sitcen.users import Role

    db = data_dir / "sitcen.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = _settings(environment="demo", data_dir=data_dir, node_id="demo-national-centre",
                         node_name="Demo national coordination centre", node_country="TJ")
    node = Node.open(settings)
    for username, password, role, full_name in DEMO_USERS:
        add_user(node.engine, username, password, Role(role), full_name)
    truth = data_dir / "scenario-truth.json"
    count = _seed(node, years, seed_value, 1.0, truth)
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"sitcen demo: {count} events over {years:g} years; ground truth in {truth}")
    click.echo(f"serving at {url}  (API {url}api/v1, OpenAPI {url}openapi.json)")
    click.echo("demo users (username / password / role):")
    for username, password, role, _ in DEMO_USERS:
        click.echo(f"  {username:9} {password:17} {role}")
    stop = threading.Event()
    try:
        _serve(settings, host, port, live=stop if live else None, live_every=live_every)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
