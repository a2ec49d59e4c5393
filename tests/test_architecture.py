"""The import direction of docs/architecture.md, read from the source with ast.

A module may import its own package and the packages its layer lists in
:data:`ALLOWED`; anything else fails here with the file, the line and the
rule it breaks. Imports inside functions count too: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "sitcen"

#: The users' words: no database, no HTTP, nothing of the layers above.
MODEL = frozenset({"sitcen", "settings", "taxonomy", "geo", "i18n", "users", "events", "errors",
                   "times", "sealing", "metrics", "logs", "indicator_list"})

#: Layer -> the layers it may import (besides itself). Mirrors docs/architecture.md.
ALLOWED: dict[str, frozenset[str]] = {
    "model": frozenset(),
    "store": frozenset({"model"}),
    "analysis": frozenset({"model"}),
    "exchange": frozenset({"store", "model"}),
    "interop": frozenset({"operations", "exchange", "store", "analysis", "model"}),
    "recompute": frozenset({"analysis", "store", "model"}),
    "operations": frozenset({"exchange", "store", "analysis", "model"}),
    "reports": frozenset({"operations", "recompute", "exchange", "store", "analysis", "model"}),
    "node": frozenset({"exchange", "store", "model"}),
    "api": frozenset({"node", "recompute", "operations", "reports", "interop", "exchange",
                      "store", "analysis", "model"}),
    "testing": frozenset({"api", "node", "store", "model"}),
    "demo": frozenset({"node", "recompute", "operations", "reports", "interop", "exchange",
                       "store", "analysis", "model"}),
    "cli": frozenset({"api", "node", "recompute", "operations", "reports", "interop",
                      "exchange", "store", "analysis", "model", "demo"}),
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name under ``sitcen``."""
    parts = module.split(".")
    if parts[0] != "sitcen":
        raise ValueError(module)
    if len(parts) == 1:
        return "model"
    head = parts[1]
    if head in MODEL:
        return "model"
    if head in ALLOWED:
        return head
    raise AssertionError(f"module {module} belongs to no layer of docs/architecture.md")


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, src: Path = SRC) -> list[tuple[int, str]]:
    """(line, module) of every ``sitcen`` module a file imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, src).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "sitcen"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name.split(".")[0] == "sitcen":
                if name == "sitcen":  # from sitcen import geo: the names are modules
                    found += [(node.lineno, f"sitcen.{a.name}") for a in node.names
                              if (SRC / f"{a.name}.py").exists() or (SRC / a.name).is_dir()]
                else:
                    found.append((node.lineno, name))
    return found


SOURCES = sorted(SRC.rglob("*.py"))


def test_every_module_belongs_to_a_layer() -> None:
    for path in SOURCES:
        layer_of(module_name(path))


def violations(path: Path, src: Path = SRC) -> list[str]:
    """Each import of ``path`` that goes against :data:`ALLOWED`, as a readable line."""
    own = layer_of(module_name(path, src))
    wrong = []
    for line, target in imported(path, src):
        theirs = layer_of(target)
        if theirs != own and theirs not in ALLOWED[own]:
            wrong.append(f"{path.relative_to(src)}:{line} imports {target} "
                         f"({own} may not import {theirs})")
    return wrong


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_documented_direction(path: Path) -> None:
    wrong = violations(path)
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_imports_the_demo() -> None:
    users = {module_name(p) for p in SOURCES
             for _, target in imported(p) if layer_of(target) == "demo"}
    assert {u for u in users if layer_of(u) != "demo"} <= {"sitcen.cli.demo_commands"}


def test_the_checker_reports_a_wrong_import_even_inside_a_function(tmp_path: Path) -> None:
    src = tmp_path / "sitcen"
    (src / "store").mkdir(parents=True)
    (src / "store" / "__init__.py").write_text("")
    bad = src / "store" / "bad.py"
    bad.write_text("from sitcen.geo import project\n"
                   "def f():\n    from sitcen.api.main import create_app\n"
                   "    from ..exchange import sharing\n")
    assert violations(bad, src) == [
        "store/bad.py:3 imports sitcen.api.main (store may not import api)",
        "store/bad.py:4 imports sitcen.exchange (store may not import exchange)",
    ]


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_routes_and_their_dependencies_declare_annotations_as_objects() -> None:
    """A string annotation (``from __future__ import annotations``) on an endpoint or a
    dependency is evaluated again for every route of every app (routes/__init__.py)."""
    from fastapi.routing import APIRoute

    from sitcen.api import main

    stringly = set()
    for name in dir(main):
        router = getattr(getattr(main, name), "router", None)
        for route in getattr(router, "routes", ()):
            if isinstance(route, APIRoute):
                for call in _calls(route.dependant):
                    parameters = inspect.signature(call).parameters.values()
                    if any(isinstance(p.annotation, str) for p in parameters):
                        stringly.add(f"{call.__module__}.{call.__qualname__}")
    assert len([n for n in dir(main) if hasattr(getattr(main, n), "router")]) > 40
    assert not stringly, sorted(stringly)
