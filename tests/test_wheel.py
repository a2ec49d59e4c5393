"""The package as `make dist` builds it: installed from its wheel, a node serves its console.

The wheel is built once per test session, as `make dist` builds it (``python
-m build``: the sdist first, then the wheel from the unpacked sdist, so the
sdist is proved complete too), installed into a fresh virtual environment, and
``sitcen serve`` is started from there, in a directory outside the repository,
on a fresh SQLite database.

The fresh environment gets the wheel with ``--no-deps``; its dependencies come
from this (dev) environment's site-packages, named as a plain path in a ``.pth``
file. Installing the dependencies from the registry would take minutes on every
run and prove nothing about our own files; a plain path (not a site directory)
keeps the dev environment's own ``.pth`` files unread, so the editable
install's ``src/`` never lands on ``sys.path``: every ``sitcen`` file the node
imports or serves comes from the wheel, which the test checks
(``sitcen.__file__`` under the new environment). What this does not check is
the wheel's list of dependencies.

The build backend's own rule (is the built console up to date; what when npm
is missing) is tested on small trees, without npm.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sitcen import __version__
from sitcen.testing import clean_environment, free_port, start_server, stop_process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build_backend"))
import sitcen_build  # noqa: E402  (the in-tree build backend, not an installed module)

# Meant to keep the module on one worker (see the dist fixture for why that is not enough).
pytestmark = pytest.mark.xdist_group("wheel")


@dataclass
class Dist:
    """The built wheel and sdist."""

    wheel: Path
    sdist: Path

    @property
    def version(self) -> str:
        """The version in the wheel's name (sitcen-<version>-py3-none-any.whl)."""
        return self.wheel.name.split("-")[1]


def build_distributions(out: Path) -> None:
    """Build the wheel and the sdist of this tree into ``out``, as `make dist` does."""
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          env=clean_environment(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:]
    # The wheel is built from the unpacked sdist, reusing the console the sdist carries
    # (no npm, no registry); only the sdist's build may have had to build it.
    from_sdist = done.stdout.split("* Building wheel from sdist", 1)[1]
    assert "building the operator console" not in from_sdist


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The wheel and sdist of this tree, built once per test session."""
    if sitcen_build.console_out_of_date(ROOT) and shutil.which("npm") is None:
        reason = "the console needs building and npm is not on PATH"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    # Two builds of one tree at a time collide: setuptools stages the sdist in the tree
    # (sitcen-<version>/), and a stale console would be rebuilt in place by both. The
    # xdist_group mark does not keep this module on one worker (pytest 9 ignores the
    # node id xdist rewrites), so the workers of a session share one build, made under
    # a lock that also holds off other sessions building this tree.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "sitcen-dist"
    tree = hashlib.sha256(str(ROOT).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"sitcen-build-{tree}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.is_dir():
            building = shared / f"sitcen-dist-{os.getpid()}"
            build_distributions(building)
            building.rename(out)
    (wheel,) = out.glob("sitcen-*.whl")
    (sdist,) = out.glob("sitcen-*.tar.gz")
    return Dist(wheel, sdist)


@dataclass
class Installed:
    """A fresh virtual environment with the wheel installed, and a directory outside the repo."""

    venv: Path
    elsewhere: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def sitcen(self) -> Path:
        return self.venv / "bin" / "sitcen"

    def environment(self, **settings: str) -> dict[str, str]:
        """This process's environment, without SITCEN_* and with nothing that points at
        another environment or at the repository."""
        env = clean_environment(**settings)
        for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
            env.pop(name, None)
        return env

    def run(self, *command: str | Path) -> str:
        done = subprocess.run([str(c) for c in command], cwd=self.elsewhere,
                              env=self.environment(), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed into a fresh virtual environment (its dependencies: see above)."""
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    target = Installed(venv, root / "elsewhere")
    target.elsewhere.mkdir()
    # This environment's pip installs into the new one (which has none of its own).
    target.run(sys.executable, "-m", "pip", "--python", target.python, "install",
               "--no-deps", "--no-index", "--quiet", dist.wheel)
    site_packages = Path(target.run(
        target.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ).strip())
    dependencies = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site_packages / "dev_dependencies.pth").write_text("\n".join(dependencies) + "\n")
    return target


def wheel_files(dist: Dist) -> set[str]:
    with zipfile.ZipFile(dist.wheel) as wheel:
        return set(wheel.namelist())


def test_the_wheel_holds_every_file_of_the_package_and_the_built_console(dist: Dist) -> None:
    package = ROOT / "src" / "sitcen"
    expected = {
        "sitcen/" + path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name != ".built"
    }
    files = wheel_files(dist)
    assert expected - files == set()
    console = {f for f in files if f.startswith("sitcen/console/")}
    assert "sitcen/console/index.html" in console
    # The installable app's worker, manifest and icons (docs/field.md).
    assert {"sitcen/console/sw.js", "sitcen/console/manifest.webmanifest",
            "sitcen/console/icon-192.png", "sitcen/console/icon.svg"} <= console
    assert any(f.startswith("sitcen/console/assets/index-") and f.endswith(".js")
               for f in console)
    assert not any(f.endswith((".built", ".pyc")) for f in files)
    for data in ("sitcen/locales/en.json", "sitcen/data/border_sections.geojson",
                 "sitcen/reports/templates/report.html", "sitcen/store/migrations.py",
                 "sitcen/py.typed"):
        assert data in files


def test_the_sdist_carries_the_console_sources_and_the_built_console(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for needed in ("frontend/package.json", "frontend/package-lock.json",
                   "frontend/vite.config.ts", "frontend/index.html",
                   "build_backend/sitcen_build.py", "src/sitcen/console/index.html",
                   "src/sitcen/console/.built", "MANIFEST.in"):
        assert needed in names
    assert any(n.startswith("frontend/src/") for n in names)
    assert not any("node_modules" in n for n in names)


def test_the_installed_package_is_imported_from_the_new_environment(
        installed: Installed) -> None:
    seen = json.loads(installed.run(installed.python, "-c", (
        "import json, sys, sitcen; from sitcen.api.console import console_dir; "
        "print(json.dumps({'file': sitcen.__file__, 'console': str(console_dir()), "
        "'path': sys.path}))")))
    assert Path(seen["file"]).is_relative_to(installed.venv)
    assert Path(seen["console"]).is_relative_to(installed.venv)
    assert (Path(seen["console"]) / "index.html").is_file()
    # The repository's src/ (the editable install's path) is nowhere on the path.
    assert not any(Path(p).is_relative_to(ROOT / "src") for p in seen["path"] if p)


def test_sitcen_version_prints_the_package_version(installed: Installed, dist: Dist) -> None:
    assert dist.version == __version__
    assert installed.run(installed.sitcen, "--version").strip() == f"sitcen, version {__version__}"


@pytest.fixture(scope="module")
def served(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sitcen serve`` of the installed wheel, on a fresh SQLite database; its base URL."""
    data = tmp_path_factory.mktemp("node")
    port = free_port()
    env = installed.environment(
        SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(data),
        SITCEN_DATABASE_URL=f"sqlite:///{data / 'node.db'}", SITCEN_NODE_ID="tj-wheel-post",
        SITCEN_NODE_COUNTRY="TJ", SITCEN_REPORT_DAILY_AT="")
    process = start_server(["serve"], env, port, log_path=data / "serve.log",
                           program=[str(installed.sitcen)], cwd=installed.elsewhere)
    yield f"http://127.0.0.1:{port}"
    stop_process(process)


def test_the_installed_node_serves_its_console(served: str, dist: Dist) -> None:
    page = httpx.get(f"{served}/", timeout=30)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    scripts = re.findall(r'<script type="module"[^>]* src="(/console/assets/[^"]+\.js)"',
                         page.text)
    assert len(scripts) == 1, page.text
    assets = set(scripts) | set(re.findall(r'href="(/console/assets/[^"]+)"', page.text))
    with zipfile.ZipFile(dist.wheel) as wheel:
        for asset in sorted(assets):
            answer = httpx.get(f"{served}{asset}", timeout=30)
            assert answer.status_code == 200, asset
            assert answer.content == wheel.read("sitcen" + asset), asset
        worker = httpx.get(f"{served}/console/sw.js", timeout=30)
        assert worker.headers["service-worker-allowed"] == "/"
        assert worker.content == wheel.read("sitcen/console/sw.js")


def _console_tree(root: Path, *, built_at: float, sources_at: float) -> None:
    """A source tree with a built console stamped at ``built_at`` and sources of ``sources_at``."""
    for name in ("frontend/package.json", "frontend/src/main.tsx",
                 "src/sitcen/console/index.html", "src/sitcen/console/assets/index-1.js",
                 "src/sitcen/console/.built"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
    for name in ("frontend/package.json", "frontend/src/main.tsx"):
        os.utime(root / name, (sources_at, sources_at))
    os.utime(root / "src/sitcen/console/.built", (built_at, built_at))


def test_a_console_stamped_after_its_sources_is_up_to_date(tmp_path: Path) -> None:
    _console_tree(tmp_path, built_at=2_000_000_000, sources_at=1_900_000_000)
    assert sitcen_build.console_out_of_date(tmp_path) is None
    # The packages npm installs are not sources.
    (tmp_path / "frontend/node_modules/vite").mkdir(parents=True)
    (tmp_path / "frontend/node_modules/vite/index.js").write_text("x")
    assert sitcen_build.console_out_of_date(tmp_path) is None


def test_a_source_newer_than_the_stamp_makes_the_console_out_of_date(tmp_path: Path) -> None:
    _console_tree(tmp_path, built_at=2_000_000_000, sources_at=1_900_000_000)
    os.utime(tmp_path / "frontend/src/main.tsx", (2_000_000_001, 2_000_000_001))
    assert sitcen_build.console_out_of_date(tmp_path) == (
        "frontend/src/main.tsx is newer than the built console")
    (tmp_path / "src/sitcen/console/.built").unlink()
    assert "missing" in str(sitcen_build.console_out_of_date(tmp_path))
    shutil.rmtree(tmp_path / "src/sitcen/console")
    assert "no built console" in str(sitcen_build.console_out_of_date(tmp_path))


def test_without_npm_an_up_to_date_console_is_reused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _console_tree(tmp_path, built_at=2_000_000_000, sources_at=1_900_000_000)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert sitcen_build.ensure_console(tmp_path) is False


def test_without_npm_and_without_a_built_console_the_build_stops_saying_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _console_tree(tmp_path, built_at=2_000_000_000, sources_at=1_900_000_000)
    shutil.rmtree(tmp_path / "src/sitcen/console")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(SystemExit, match="holds no built console and npm is not on PATH"):
        sitcen_build.ensure_console(tmp_path)
