"""What the commands share: the settings and database of an invocation, refusals as
messages, reading a file, printing an import's problems, and progress bars on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from sitcen.settings import Settings, SettingsError


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


@contextmanager
def _refusing(*errors: type[Exception]) -> Iterator[None]:
    """End the command with the message of any of ``errors`` (exit code 1, no traceback)."""
    try:
        yield
    except errors as exc:
        raise click.ClickException(str(exc)) from exc


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


def cli_actor() -> str:
    """Who the audit trail names for a command run on the server: ``cli:<login name>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def _audit(engine: sa.Engine, action: str, subject: str,
           detail: dict[str, object] | None = None) -> None:
    """Write a command's entry of the audit trail (docs/security.md)."""
    from sitcen.store.audit import AuditAction, record

    record(engine, cli_actor(), AuditAction(action), subject, detail)
