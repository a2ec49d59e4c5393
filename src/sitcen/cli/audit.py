"""The audit trail from the command line: list, export for an inspector, verify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sitcen.cli import main
from sitcen.cli.common import _database


@main.group()
def audit() -> None:
    """The audit trail: who did what, on whose authority (docs/security.md)."""


def _micros(name: str, text: str | None) -> int | None:
    from sitcen.times import parse_moment, to_micros

    if text is None:
        return None
    try:
        return to_micros(parse_moment(text, bound=True))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from exc


@audit.command("list")
@click.option("--actor", help="only this person's entries")
@click.option("--action", help="only this action, e.g. personal_data_read")
@click.option("--since", help="ISO 8601 with a zone")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
def audit_list(actor: str | None, action: str | None, since: str | None, limit: int) -> None:
    """List entries, oldest first: number, time, person, action, subject, details."""
    from sitcen.store.audit import entries
    from sitcen.times import from_micros, iso

    with _database() as engine:
        for n, e in enumerate(entries(engine, actor=actor, action=action,
                                      since_us=_micros("--since", since))):
            if n >= limit:
                break
            click.echo(f"{e.seq}\t{iso(from_micros(e.at), 'seconds')}\t{e.actor}\t{e.action}\t"
                       f"{e.subject}\t{e.detail}")


@audit.command("export")
@click.option("--since", help="ISO 8601 with a zone")
@click.option("--until", help="ISO 8601 with a zone (exclusive)")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (default: standard output)")
def audit_export(since: str | None, until: str | None, output: Path | None) -> None:
    """Write the entries with their hashes as JSON lines, for an inspector.

    A whole export (no --since) verifies on its own: `sitcen audit verify --file`.
    """
    from sitcen.store.audit import export_lines

    count = 0
    with _database() as engine:
        lines = export_lines(engine, since_us=_micros("--since", since),
                             until_us=_micros("--until", until))
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            for line in lines:
                target.write(line)
                count += 1
        finally:
            if output:
                target.close()
    if output:
        click.echo(f"{count} entries written to {output}")


@audit.command("verify")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="an export to check instead of the node's database")
def audit_verify(path: Path | None) -> None:
    """Check the chain: no entry changed, removed or reordered. Exit 1 when one is."""
    import orjson

    from sitcen.store.audit import AuditCheck, verify, verify_entries

    def progress(done: int) -> None:
        click.echo(f"  {done:,} entries checked", err=True)

    check: AuditCheck
    if path is not None:
        with path.open("rb") as handle:
            try:
                check = verify_entries((orjson.loads(line) for line in handle if line.strip()),
                                       progress=progress)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise click.ClickException(f"{path}: not an audit export ({exc})") from exc
    else:
        with _database() as engine:
            check = verify(engine, progress=progress)
    click.echo(f"{check.entries} entries; head {check.head}")
    for problem in check.problems:
        click.echo(f"PROBLEM: {problem}")
    if not check.ok:
        raise SystemExit(1)
    click.echo("the chain is whole")
