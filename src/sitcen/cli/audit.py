"""The audit trail from the command line: list, export for an inspector, verify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sitcen.cli import main
from sitcen.cli.common import _database, _settings


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


def _read_anchors(path: Path) -> list[dict[str, object]]:
    import orjson

    anchors: list[dict[str, object]] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
                anchors.append({"seq": int(item["seq"]), "hash": str(item["hash"])})
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise click.ClickException(
                    f"{path} line {number}: not an anchor (`sitcen audit anchors` on a peer "
                    f"writes them): {exc}") from exc
    return anchors


@audit.command("verify")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="an export to check instead of the node's database")
@click.option("--anchors", "anchors_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="anchors of this node's trail that a peer holds (JSON lines from "
                   "`sitcen audit anchors --origin THIS-NODE` there)")
def audit_verify(path: Path | None, anchors_path: Path | None) -> None:
    """Check the chain: no entry changed, removed or reordered, and every anchor (the node's
    own, and a peer's copies with --anchors) still matching. Exit 1 when one is not."""
    import orjson

    from sitcen.operations.audit_anchors import anchors_held
    from sitcen.store.audit import AuditCheck, check_anchors, verify, verify_entries

    def progress(done: int) -> None:
        click.echo(f"  {done:,} entries checked", err=True)

    check: AuditCheck
    anchored = 0
    if path is not None:
        if anchors_path is not None:
            raise click.UsageError("--anchors checks the node's database, not an export")
        with path.open("rb") as handle:
            try:
                check = verify_entries((orjson.loads(line) for line in handle if line.strip()),
                                       progress=progress)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise click.ClickException(f"{path}: not an audit export ({exc})") from exc
    else:
        anchors = _read_anchors(anchors_path) if anchors_path is not None else []
        with _database() as engine:
            check = verify(engine, progress=progress)
            anchors += anchors_held(engine, _settings().node_id)
            check.problems.extend(check_anchors(engine, anchors))
            anchored = len(anchors)
    click.echo(f"{check.entries} entries; head {check.head}; {anchored} anchors compared")
    for problem in check.problems:
        click.echo(f"PROBLEM: {problem}")
    if not check.ok:
        raise SystemExit(1)
    click.echo("the chain is whole")


@audit.command("anchor")
def audit_anchor() -> None:
    """Journal the trail's head now (a running node does it every
    SITCEN_AUDIT_ANCHOR_INTERVAL_MIN minutes)."""
    from sitcen.operations.audit_anchors import anchor

    with _database() as engine:
        written = anchor(engine, _settings().node_id)
    if written is None:
        click.echo("nothing to anchor: the last anchor holds the head already")
    else:
        click.echo(f"anchored entry {written.body['seq']}: {written.body['hash']}")


@audit.command("anchors")
@click.option("--origin", help="the node whose anchors to print (default: this node)")
def audit_anchors(origin: str | None) -> None:
    """Print the anchors of a node's trail held here, as JSON lines: on a peer, what the
    audited node's `sitcen audit verify --anchors` takes."""
    import orjson

    from sitcen.operations.audit_anchors import anchors_held

    with _database() as engine:
        for item in anchors_held(engine, origin or _settings().node_id):
            sys.stdout.buffer.write(orjson.dumps(item) + b"\n")
