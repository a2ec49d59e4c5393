"""`make demo-federation` as a user runs it: twelve real nodes, checked for where records went."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sitcen.testing import free_port_range

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo_federation.py"


def test_federated_demo_shares_only_what_the_agreements_grant(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path / "demo"), "--base-port",
         str(free_port_range(12)), "--every", "1.0", "--duration", "12", "--check"],
        capture_output=True, text=True, timeout=600, check=False)
    logs = "".join(f"\n--- {log}\n{log.read_text()[-2000:]}"
                   for log in (tmp_path / "demo").glob("*/serve.log"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:] + logs[-6000:]
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("check:")]
    assert "PROBLEM" not in done.stdout
    assert "daily count records" in summary and "from Batken" in summary
