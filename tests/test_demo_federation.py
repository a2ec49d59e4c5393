"""`make demo-federation` as a user runs it: thirteen real nodes, checked for where records went."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sitcen.testing import free_port_range

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo_federation.py"
BACKSTOP_S = 1800


def test_federated_demo_shares_only_what_the_agreements_grant(tmp_path: Path) -> None:
    # Its own session, so that what it started can be stopped with it if it hangs. The
    # script waits on conditions only; the limit is a backstop for a machine shared with
    # other work (twelve nodes on two cores), not a measure of speed.
    script = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path / "demo"), "--base-port",
         str(free_port_range(13)), "--every", "1.0", "--duration", "12", "--check"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = script.communicate(timeout=BACKSTOP_S)
    except subprocess.TimeoutExpired:
        os.killpg(script.pid, signal.SIGKILL)
        stdout, stderr = script.communicate()
    logs = "".join(f"\n--- {log}\n{log.read_text()[-2000:]}"
                   for log in (tmp_path / "demo").glob("*/serve.log"))
    assert script.returncode == 0, stdout[-4000:] + stderr[-4000:] + logs[-6000:]
    (summary,) = [line for line in stdout.splitlines() if line.startswith("check:")]
    assert "PROBLEM" not in stdout
    assert "daily count records" in summary and "from Batken" in summary
    (cooperation,) = [line for line in stdout.splitlines()
                      if line.startswith("check cooperation:")]
    assert "1 request answered across KG-TJ" in cooperation
    assert "1 mention told at kg-ncc" in cooperation
    assert "1 merged daily report" in cooperation
    (network,) = [line for line in stdout.splitlines() if line.startswith("check network:")]
    assert "5 of 5 months at the hub" in network and "late ['TM']" in network
