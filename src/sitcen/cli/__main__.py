"""``python -m sitcen.cli``: the same program as the ``sitcen`` command."""

from sitcen.cli import main

main()
