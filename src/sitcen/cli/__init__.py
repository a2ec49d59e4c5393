"""The ``sitcen`` command-line program."""

from __future__ import annotations

import click

from sitcen import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
