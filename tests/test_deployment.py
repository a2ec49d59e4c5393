"""The systemd unit and its environment file (deploy/systemd/): the command it runs exists
with those options, the settings it sets exist, and the hardening the operations guide
promises is there. ``systemd-analyze verify`` checks the unit where systemd is installed."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitcen.cli import main
from sitcen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "sitcen.service"
ENV_FILE = ROOT / "deploy" / "systemd" / "sitcen.env"


def service() -> configparser.SectionProxy:
    """The unit's [Service] section (systemd allows repeated keys; the last one counts here)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser["Service"]


def test_the_unit_runs_sitcen_serve_with_options_it_has() -> None:
    argv = shlex.split(service()["ExecStart"])
    assert argv[0].endswith("/bin/sitcen") and argv[1] == "serve"
    serve = main.commands["serve"]
    # Parsed (and range-checked) as the command would parse them, without running it.
    params = serve.make_context("serve", argv[2:]).params
    assert params["host"] == "127.0.0.1"  # loopback: nginx in front
    assert params["workers"] >= 1
    shown = CliRunner().invoke(main, ["serve", "--help"]).output
    for option in (a.split("=")[0] for a in argv[2:] if a.startswith("--")):
        assert option in shown, f"sitcen serve --help does not name {option}"


def test_the_unit_is_hardened() -> None:
    unit = service()
    expected = {
        "User": "sitcen", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "SystemCallFilter":
        "@system-service", "MemoryDenyWriteExecute": "yes", "Restart": "on-failure",
        "StateDirectory": "sitcen",
    }
    for key, value in expected.items():
        assert unit.get(key) == value, f"{key}={unit.get(key)!r}, expected {value!r}"
    assert set(unit["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert unit["EnvironmentFile"] == "/etc/sitcen/sitcen.env"


def _variables(text: str, *, commented: bool = True) -> dict[str, str]:
    """The SITCEN_ variables of an environment file (``commented``: also those commented
    out), each value without the quotes around it, as systemd and a shell read it."""
    found = re.findall(r"^%s(SITCEN_[A-Z0-9_]+)=(.*)$" % ("#?" if commented else ""), text,
                       flags=re.MULTILINE)
    return {name: value[1:-1] if value[:1] in "'\"" and value[:1] == value[-1:] else value
            for name, value in found}


def test_the_environment_file_names_real_settings() -> None:
    variables = _variables(ENV_FILE.read_text(encoding="utf-8"))
    known = {f"SITCEN_{name.upper()}" for name in Settings.model_fields}
    assert set(variables) <= known, set(variables) - known
    # The data directory is the one the unit makes writable.
    assert variables["SITCEN_DATA_DIR"] == "/var/lib/" + service()["StateDirectory"]


def test_the_example_does_not_start_until_its_secret_is_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = ENV_FILE.read_text(encoding="utf-8")
    active = _variables(text, commented=False)
    for name in [n for n in os.environ if n.startswith("SITCEN_")]:
        monkeypatch.delenv(name)
    for name, value in active.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="SITCEN_SECRET_KEY is a placeholder"):
        Settings()
    monkeypatch.setenv("SITCEN_SECRET_KEY", "a-real-secret-of-good-length")
    settings = Settings()
    assert settings.environment == "production" and settings.node_id == "tj-ncc"
    # The commented choices parse too, once uncommented.
    for name, value in _variables(text).items():
        if name not in active and not name.startswith("SITCEN_TLS_"):  # files must exist
            monkeypatch.setenv(name, value)
    Settings()


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    # The same unit with this checkout's sitcen and environment file, which exist here.
    sitcen = shutil.which("sitcen", path=str(Path(sys.executable).parent))
    assert sitcen is not None
    text = UNIT.read_text(encoding="utf-8")
    for old, new in (("ExecStart=/opt/sitcen/bin/sitcen", f"ExecStart={sitcen}"),
                     ("EnvironmentFile=/etc/sitcen/sitcen.env", f"EnvironmentFile={ENV_FILE}")):
        assert text.count(old) == 1
        text = text.replace(old, new)
    copy = tmp_path / "sitcen.service"
    copy.write_text(text, encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_a_shell_reads_the_environment_file_as_systemd_does(tmp_path: Path) -> None:
    # The guide runs the node's commands with `set -a; . /etc/sitcen/sitcen.env`.
    text = ENV_FILE.read_text(encoding="utf-8")
    uncommented = tmp_path / "sitcen.env"
    uncommented.write_text(re.sub(r"^#(SITCEN_)", r"\1", text, flags=re.MULTILINE),
                           encoding="utf-8")
    shown = subprocess.run(["sh", "-c", f'set -a; . "{uncommented}"; env -0'],
                           capture_output=True, text=True, env={"PATH": os.defpath},
                           check=True).stdout
    seen = dict(item.split("=", 1) for item in shown.split("\0") if item.startswith("SITCEN_"))
    assert seen == _variables(text)
