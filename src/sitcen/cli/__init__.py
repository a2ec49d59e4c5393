"""The ``sitcen`` command-line program."""

from __future__ import annotations

from typing import Any

import click

from sitcen import __version__


class _Program(click.Group):
    """The command group, which answers a database newer than this code (refused by every
    command that migrates: serve, migrate, user add, ...) with a message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sitcen.store.migrations import NewerDatabase

        try:
            return super().invoke(ctx)
        except NewerDatabase as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Program, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitcen")
def main() -> None:
    """sitcen: a situation-centre node for integrated border management.

    Settings come from SITCEN_* environment variables (see docs/settings.md).
    """


# The commands, by area; importing each module adds its commands to ``main``.
from sitcen.cli import (  # noqa: E402, F401
    accounts,
    admin,
    analyse,
    audit,
    backup,
    data,
    demo_commands,
    reports,
    retention,
    serving,
)
