"""sitcen's build backend: setuptools' own, with the operator console built first.

A node serves its console from the package directory ``sitcen/console``, which
npm and Vite build from ``frontend/`` (``make console``); without it ``/`` answers
503. So a wheel or an sdist is never made without it: before handing over to
``setuptools.build_meta``, :func:`build_sdist` and :func:`build_wheel` make sure the
built console is there and no older than its sources (the rule of the Makefile's
``console`` target), build it with npm when it is not, and stop the build with a
message saying why when npm is missing. Package data then ships it
(``[tool.setuptools.package-data]``); the sdist also carries ``frontend/``
(MANIFEST.in), so a wheel can be rebuilt from it.

The other hooks are setuptools' unchanged: an editable install (the dev install)
does not build the console; ``make console`` does.

This is an in-tree PEP 517 backend (``backend-path`` in pyproject.toml): it runs
in the build frontend's isolated environment, with the source tree as working
directory, and imports nothing of sitcen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (
    build_editable,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "console_out_of_date",
    "ensure_console",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

#: The built console inside the source tree, and the stamp the Makefile touches after a build.
CONSOLE = Path("src/sitcen/console")
STAMP = CONSOLE / ".built"
FRONTEND = Path("frontend")


def console_sources(root: Path) -> Iterator[Path]:
    """Every file the console is built from: all of ``frontend/`` but ``node_modules``.

    A superset of the Makefile's list (which names the files that matter), so
    a change it misses cannot leave a stale console in a wheel; it is also
    exactly what the sdist carries of ``frontend/``.
    """
    for directory, subdirectories, files in os.walk(root / FRONTEND):
        subdirectories[:] = [d for d in subdirectories if d != "node_modules"]
        for name in files:
            yield Path(directory) / name


def console_out_of_date(root: Path) -> str | None:
    """Why the console under ``root`` must be built (again), or None when it is up to date.

    Up to date, as for make: the page and its assets exist and no source is
    newer than the stamp.
    """
    console = root / CONSOLE
    if not (console / "index.html").is_file() or not (console / "assets").is_dir():
        return f"{CONSOLE} holds no built console"
    stamp = root / STAMP
    if not stamp.is_file():
        return f"{STAMP} is missing, so nothing says which sources it was built from"
    built = stamp.stat().st_mtime
    for source in console_sources(root):
        if source.stat().st_mtime > built:
            return f"{source.relative_to(root)} is newer than the built console"
    return None


def _npm(npm: str, *args: str, root: Path) -> None:
    command = [npm, *args, "--prefix", str(FRONTEND)]
    try:
        subprocess.run(command, cwd=root, check=True)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"error: building the operator console failed: "
                         f"`npm {' '.join(args)}` exited with code {exc.returncode}") from exc


def ensure_console(root: Path) -> bool:
    """Build the console under ``root`` with npm unless it is up to date; whether it did.

    Raises :class:`SystemExit` with the reason when it cannot: a wheel without
    its console would install a node whose ``/`` answers 503.
    """
    reason = console_out_of_date(root)
    if reason is None:
        return False
    if not (root / FRONTEND / "package.json").is_file():
        raise SystemExit(f"error: the operator console must be built into the package, but "
                         f"{reason} and its sources ({FRONTEND}/) are not here")
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            f"error: the operator console must be built into the package, but {reason} "
            f"and npm is not on PATH. Install Node.js 20 or later with npm (it fetches the "
            f"console's packages from the npm registry) and build again, or install from "
            f"a wheel or sdist made where npm was available (`make dist`).")
    print(f"building the operator console with npm: {reason}", flush=True)
    _npm(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", root=root)
    _npm(npm, "run", "build", root=root)
    if not (root / CONSOLE / "index.html").is_file():
        raise SystemExit(f"error: `npm run build` left no {CONSOLE}/index.html")
    (root / STAMP).touch()
    return True


def build_sdist(sdist_directory: str, config_settings: dict[str, object] | None = None) -> str:
    """PEP 517: the sdist, carrying ``frontend/`` and the console built from it."""
    ensure_console(Path.cwd())
    return str(_setuptools.build_sdist(sdist_directory, config_settings))


def build_wheel(wheel_directory: str, config_settings: dict[str, object] | None = None,
                metadata_directory: str | None = None) -> str:
    """PEP 517: the wheel, carrying the built console."""
    ensure_console(Path.cwd())
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))
