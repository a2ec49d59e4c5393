"""Retention from the command line: check a policy, purge now (or see what would go), and
legal holds (docs/security.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from sitcen.cli import main
from sitcen.cli.common import _database, _refusing, _settings, cli_actor


@main.group()
def retention() -> None:
    """How long records are kept: check the policy, purge, see the proof."""


@retention.command("check")
@click.argument("policy", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def retention_check(policy: Path) -> None:
    """Check a retention policy file and say what it keeps for how long."""
    from sitcen.operations.retention import RetentionError, load_policy

    with _refusing(RetentionError):
        loaded = load_policy(policy)
    for n, rule in enumerate(loaded.rules, 1):
        limited = f" ({', '.join(rule.handling)})" if rule.handling else ""
        click.echo(f"rule {n}: {rule.kind}{limited} kept {rule.days} days")


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="say what would be removed; remove nothing")
def retention_run(dry_run: bool) -> None:
    """Purge now what the node's policy (SITCEN_RETENTION_FILE) says is past its time."""
    from sitcen.exchange.identity import IdentityError, NodeIdentity
    from sitcen.operations.retention import RetentionError, load_policy, purge

    settings = _settings()
    if settings.retention_file is None:
        raise click.ClickException("no retention policy: set SITCEN_RETENTION_FILE")
    with _refusing(RetentionError):
        policy = load_policy(settings.retention_file)
    try:
        identity: NodeIdentity | None = NodeIdentity.load(settings.identity_dir)
    except (IdentityError, OSError):
        identity = None
    with _database() as engine:
        report = purge(engine, settings.node_id, policy, now=datetime.now(UTC),
                       identity=identity, dry_run=dry_run, by=cli_actor())
    verb = "would remove" if dry_run else "removed"
    listing = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items())) or "nothing"
    click.echo(f"{verb} {listing}; {report.held} kept by legal holds")
    if not dry_run and report.total:
        click.echo(f"proof: ids sha256 {report.proof['ids_sha256']}"
                   + (f", signed {report.signature[:16]}…" if report.signature else ", unsigned"))


@main.group()
def hold() -> None:
    """Legal holds: keep an event, a section or a kind from the retention purge."""


@hold.command("add")
@click.option("--event", "event_id", help="an event's id")
@click.option("--section", help="a border section's id")
@click.option("--kind", help="a whole record kind, e.g. personal_data")
@click.option("--reason", required=True, help="the case or order that requires it")
def hold_add(event_id: str | None, section: str | None, kind: str | None, reason: str) -> None:
    """Put a legal hold on what one option names."""
    from sitcen.operations.retention import RetentionError, add_hold

    given = [(s, v) for s, v in (("event", event_id), ("section", section), ("kind", kind)) if v]
    if len(given) != 1:
        raise click.ClickException("name exactly one of --event, --section and --kind")
    with _refusing(RetentionError), _database() as engine:
        held = add_hold(engine, given[0][0], given[0][1], reason, cli_actor())
    click.echo(f"hold {held.id} on {held.scope} {held.value}")


@hold.command("list")
@click.option("--all", "everything", is_flag=True, help="released holds too")
def hold_list(everything: bool) -> None:
    """The legal holds in force (or every hold), oldest first."""
    from sitcen.operations.retention import list_holds
    from sitcen.times import from_micros, iso

    with _database() as engine:
        holds = list_holds(engine, active_only=not everything)
    for h in holds:
        state = "in force" if h.active else f"released by {h.released_by}"
        click.echo(f"{h.id}\t{h.scope}\t{h.value}\t{iso(from_micros(h.held_at), 'seconds')}\t"
                   f"{h.held_by}\t{state}\t{h.reason}")
    if not holds:
        click.echo("no legal holds")


@hold.command("release")
@click.argument("hold_id")
def hold_release(hold_id: str) -> None:
    """End a legal hold."""
    from sitcen.operations.retention import RetentionError, release_hold

    with _refusing(RetentionError), _database() as engine:
        released = release_hold(engine, hold_id, cli_actor())
    click.echo(f"hold {released.id} on {released.scope} {released.value} released")
