"""Backups from the command line: ``backup`` while the node serves, ``restore`` onto a stopped
node, ``recover`` what the linked nodes hold of the time after the backup (docs/backup.md)."""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from sitcen.cli import main
from sitcen.cli.common import _audit, _database, _refusing, _settings

T = TypeVar("T")

#: ioprio_set(2)'s system call number, per machine (Linux has no libc wrapper for it).
_IOPRIO_SET = {"x86_64": 251, "aarch64": 30, "i686": 289, "armv7l": 314}
_IOPRIO_WHO_PROCESS, _IOPRIO_CLASS_BEST_EFFORT, _IOPRIO_CLASS_SHIFT = 1, 2, 13


#: MB a second a low-priority copy of a SQLite file reads at most (benchmarks/operate.py
#: measures what it costs the serving node).
LOW_PRIORITY_RATE = 50.0


def _say(text: str) -> None:
    click.echo(text, err=True)


def _lowest_priority() -> None:
    """Give the calling thread the lowest CPU priority and, on Linux, the lowest best-effort
    I/O priority. Linux keeps both per thread, and a process started from the thread
    (``pg_dump``) inherits them."""
    os.setpriority(os.PRIO_PROCESS, 0, 19)
    number = _IOPRIO_SET.get(platform.machine())
    if sys.platform == "linux" and number is not None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall(number, _IOPRIO_WHO_PROCESS, 0,
                     (_IOPRIO_CLASS_BEST_EFFORT << _IOPRIO_CLASS_SHIFT) | 7)


def _in_background(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of the lowest priority (:func:`_lowest_priority`) and wait
    for it, so a backup leaves the processor and the disk to the serving node first."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            _lowest_priority()
            outcome.append(work())
        except BaseException as exc:  # re-raised in the command's own thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="sitcen-backup")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


@main.command()
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-identity", is_flag=True,
              help="also copy the node's key pair (keep the backup as safe as the node)")
@click.option("--priority", type=click.Choice(["low", "normal"]), default="low",
              show_default=True,
              help="low: the copy takes the processor and the disk only when the serving node "
                   "leaves them (slower, gentler); normal: as fast as it can")
@click.option("--max-rate", type=click.FloatRange(min=0), default=None, metavar="MB/S",
              help="the most a SQLite copy reads a second, in MB; 0 for no limit "
                   f"[default: {LOW_PRIORITY_RATE:g} at low priority, none at normal]")
def backup(target: Path, with_identity: bool, priority: str, max_rate: float | None) -> None:
    """Back up the node's database into the new directory TARGET, while the node serves."""
    from sitcen.store.backup import BackupError, Manifest
    from sitcen.store.backup import backup as make_backup

    settings = _settings()
    rate = (LOW_PRIORITY_RATE if priority == "low" else 0) if max_rate is None else max_rate
    with _database() as engine, _refusing(BackupError):
        def copy() -> Manifest:
            return make_backup(engine, settings.node_id, target,
                               identity_dir=settings.identity_dir if with_identity else None,
                               progress=_say, max_rate=rate * 1e6 or None)

        manifest = _in_background(copy) if priority == "low" else copy()
        _audit(engine, "backup", str(target), {"journal_position": manifest.journal_position,
                                               "sha256": manifest.files[manifest.database_file]})
    click.echo(f"{target}: journal position {manifest.journal_position}, "
               f"{manifest.database_bytes / 1e6:.1f} MB in {manifest.seconds:.1f} s")


@main.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True,
              help="replace the node's current database (stop the node first)")
@click.option("--other-node", is_flag=True,
              help="restore a backup of another node id on purpose")
def restore(source: Path, replace: bool, other_node: bool) -> None:
    """Restore the backup in SOURCE as this node's database, and start a new journal epoch.

    The node then holds what it held at the backup. Run ``sitcen recover`` next: it asks the
    linked nodes for what was written and exchanged since. The node does not serve before.
    """
    from sitcen.store.backup import BackupError
    from sitcen.store.backup import restore as put_back
    from sitcen.store.engine import open_engine
    from sitcen.store.epochs import begin_epoch

    settings = _settings()
    with _refusing(BackupError):
        manifest = put_back(source, settings.resolved_database_url, node_id=settings.node_id,
                            other_node=other_node, replace=replace, progress=_say)
    identity = source / "identity"
    if identity.is_dir() and not (settings.identity_dir / "node.key").exists():
        import shutil

        shutil.copytree(identity, settings.identity_dir, dirs_exist_ok=True)
        _say(f"node key pair restored into {settings.identity_dir}")
    engine = open_engine(settings.resolved_database_url)  # migrates an older schema
    try:
        epoch = begin_epoch(engine, settings.node_id, manifest.to_dict())
        _audit(engine, "restore", str(source), {
            "journal_position": manifest.journal_position, "backup_of": manifest.created_at,
            "epoch": epoch.epoch, "first_seq": epoch.first_seq})
    finally:
        engine.dispose()
    click.echo(f"restored the backup of {manifest.created_at} (journal position "
               f"{manifest.journal_position}); journal epoch {epoch.epoch} starts at "
               f"{epoch.first_seq}. Next: sitcen recover")


@main.command()
@click.option("--accept-loss", is_flag=True,
              help="end the recovery even if some linked nodes did not answer")
def recover(accept_loss: bool) -> None:
    """Ask every linked node for what this node lacks since the restored backup.

    Pulls what they sent since, and takes back this node's own records they hold whole.
    Run it again while some do not answer; ``--accept-loss`` lets the node serve without them.
    """
    import httpx

    from sitcen.exchange.identity import IdentityError, NodeIdentity
    from sitcen.exchange.inbox import StoredReplayGuard
    from sitcen.exchange.recovery import recover as ask_back
    from sitcen.exchange.tls import PeerTLSError, link_tls
    from sitcen.store.epochs import pending_epoch

    settings = _settings()
    with _refusing(IdentityError, PeerTLSError):
        identity = NodeIdentity.load(settings.identity_dir)
        tls = link_tls(settings)
    with _database() as engine:
        epoch = pending_epoch(engine)
        if epoch is None:
            raise click.ClickException("nothing to recover: no restore is waiting for it")
        with httpx.Client(timeout=60, verify=tls) as client:
            report = ask_back(engine, identity, epoch, guard=StoredReplayGuard(engine),
                              client=client, accept_loss=accept_loss)
        _audit(engine, "recover", f"epoch-{epoch.epoch}", report)
    for peer in report["peers"]:
        reduced = sum(len(ids) for ids in peer["reduced"].values())
        line = (f"{peer['node_id']}: {peer['pulled']} records pulled, {peer['recovered']} own "
                f"records recovered, {peer['already_held']} already held")
        if reduced:
            line += f", {reduced} held there only reduced by an agreement (not taken)"
        click.echo(line + (f"; FAILED: {peer['error']}" if peer["error"] else ""))
    if not report["finished"]:
        raise click.ClickException(
            f"not answered: {', '.join(report['unanswered'])}. Run sitcen recover again when "
            "they are reachable, or sitcen recover --accept-loss to serve without them")
    click.echo("recovery finished; the node may serve")
