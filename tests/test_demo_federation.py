"""`make demo-federation` as a user runs it: twelve real nodes, checked for where records went."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "demo_federation.py"


def _free_range(size: int) -> int:
    for _ in range(50):
        # Below the kernel's ephemeral range (32768+), so no other test's
        # outgoing connection or port-0 bind can take one of them meanwhile.
        base = random.randrange(20_000, 32_000)
        try:
            for port in range(base, base + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free range of ports")


def test_federated_demo_shares_only_what_the_agreements_grant(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path / "demo"), "--base-port",
         str(_free_range(12)), "--every", "1.0", "--duration", "12", "--check"],
        capture_output=True, text=True, timeout=600, check=False)
    logs = "".join(f"\n--- {log}\n{log.read_text()[-2000:]}"
                   for log in (tmp_path / "demo").glob("*/serve.log"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:] + logs[-6000:]
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("check:")]
    assert "PROBLEM" not in done.stdout
    assert "daily count records" in summary and "from Batken" in summary
    (cooperation,) = [line for line in done.stdout.splitlines()
                      if line.startswith("check cooperation:")]
    assert "1 request answered across KG-TJ" in cooperation
    assert "1 merged daily report" in cooperation
