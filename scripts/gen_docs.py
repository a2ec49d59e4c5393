"""Regenerate the generated blocks of docs/ from the code (CLI help, settings, API routes)
and from the benchmark results (``benchmarks/results/latest.json``, written by ``make bench``).

A block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``.
``python scripts/gen_docs.py`` rewrites them; ``--check`` exits 1 when any is stale
(tests/test_docs.py runs the check).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _commands(group: click.Group, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += _commands(command, [*prefix, name])
        elif command is not None:
            found.append([*prefix, name])
    return found


def cli_help() -> str:
    """The --help text of every command, as Markdown."""
    from sitcen.cli import main

    runner = CliRunner()
    parts = []
    for path in _commands(main, []):
        result = runner.invoke(main, [*path, "--help"], prog_name="sitcen", terminal_width=100)
        title = " ".join(["sitcen", *path])
        parts.append(f"### `{title}`\n\n```text\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def settings_table() -> str:
    """Every setting with its variable, default and description."""
    from sitcen.settings import Settings

    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default: Any = field.default
        if hasattr(default, "get_secret_value"):
            # An empty secret is one nobody needs until its feature is on.
            default = default.get_secret_value() and "(placeholder; must be set in production)"
        shown = "" if default in (None, "") else str(default)
        rows.append(f"| `SITCEN_{name.upper()}` | `{shown}` | {field.description or ''} |")
    return "\n".join(rows) + "\n"


def api_table() -> str:
    """Every API operation with its one-line summary."""
    from sitcen.api.main import create_app
    from sitcen.node import Node
    from sitcen.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp))
        node = Node.open(settings)
        spec = create_app(node).openapi()
        node.engine.dispose()
    rows = ["| method | path | what it does |", "| --- | --- | --- |"]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            rows.append(f"| {method.upper()} | `{path}` | {op.get('summary', '')} |")
    return "\n".join(rows) + "\n"


def authorisation_table() -> str:
    """Which roles pass each operation's permission check, as the node answers."""
    from sitcen.testing import authorisation_matrix
    from sitcen.users import Role

    roles = [r.value for r in Role]
    rows = ["| operation | " + " | ".join(roles) + " |",
            "| --- |" + " :---: |" * len(roles)]
    for operation, passing in authorisation_matrix().items():
        method, path = operation.split(" ", 1)
        cells = " | ".join("yes" if r in passing else "—" for r in roles)
        rows.append(f"| {method} `{path}` | {cells} |")
    return "\n".join(rows) + "\n"


def taxonomy_table() -> str:
    """Every event type with its category and the details it accepts."""
    from sitcen.taxonomy import ENUMS, EVENT_TYPES

    rows = ["| category | type | details it accepts (required in bold) | persons |",
            "| --- | --- | --- | --- |"]
    for t in EVENT_TYPES.values():
        details = ", ".join(f"**{d}**" if d in t.required else d for d in t.details) or "—"
        rows.append(f"| {t.category.value} | `{t.id}` | {details} | "
                    f"{'yes' if t.persons else 'no'} |")
    rows += ["", "| enumeration | values |", "| --- | --- |"]
    for name, enum in ENUMS.items():
        rows.append(f"| `{name}` | " + ", ".join(f"`{v.value}`" for v in enum) + " |")
    return "\n".join(rows) + "\n"


def _suite() -> Any:
    """benchmarks/suite.py: the runs, the results file and how its figures are written."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import suite

    return suite


def bench_runs() -> str:
    """Every run of ``make bench``: its command and the keys of its JSON result."""
    suite = _suite()
    rows = ["| run | command | result keys (checked at smoke size by the test suite) |",
            "| --- | --- | --- |"]
    for run in suite.RUNS:
        needs = f" (needs {', '.join(run.needs)})" if run.needs else ""
        keys = ", ".join(f"`{k}`" for k in run.keys)
        rows.append(f"| `{run.name}` | `python {' '.join(run.command())}`{needs} | {keys} |")
    return "\n".join(rows) + "\n"


def bench_summary() -> str:
    """The claims, their goals and the figures of the latest results."""
    suite = _suite()
    return str(suite.summary_table(suite.read_results()))


def bench_breakdowns() -> str:
    """Where the time goes, from the latest results."""
    suite = _suite()
    return str(suite.breakdowns(suite.read_results()))


def bench_results() -> str:
    """Every run's command and result as measured."""
    suite = _suite()
    return str(suite.results_listing(suite.read_results()))


def bench_readme() -> str:
    """The README's measured-speed lines."""
    suite = _suite()
    return str(suite.readme_figures(suite.read_results()))


BLOCKS = {
    "cli": (DOCS / "cli.md", cli_help),
    "settings": (DOCS / "settings.md", settings_table),
    "api-routes": (DOCS / "api.md", api_table),
    "taxonomy": (DOCS / "data-model.md", taxonomy_table),
    "authorisation": (DOCS / "security.md", authorisation_table),
    "bench-runs": (DOCS / "benchmarks.md", bench_runs),
    "bench-summary": (DOCS / "benchmarks.md", bench_summary),
    "bench-breakdowns": (DOCS / "benchmarks.md", bench_breakdowns),
    "bench-results": (DOCS / "benchmarks.md", bench_results),
    "bench-readme": (ROOT / "README.md", bench_readme),
}


def render(text: str, name: str, content: str) -> str:
    """Replace the named generated block of a document."""
    pattern = re.compile(
        rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL
    )
    if not pattern.search(text):
        raise SystemExit(f"no generated:{name} block found")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


def main(check: bool) -> int:
    stale = []
    for name, (path, produce) in BLOCKS.items():
        text = path.read_text(encoding="utf-8")
        new = render(text, name, produce())
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print("stale generated docs: " + ", ".join(stale) + " (run make docs)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
