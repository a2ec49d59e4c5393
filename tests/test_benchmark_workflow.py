"""benchmarks/workflow.py runs tiny in the suite: its last line is one JSON object."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]

ROOT = Path(__file__).resolve().parent.parent


def test_the_workflow_benchmark_runs_tiny() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "workflow.py"), "--smoke"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    result = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert result["smoke"] is True and result["queue_waiting"] == 300
    assert result["queue_first_page_p95_ms"] > 0
    assert result["notifications_written"] == result["notifications_expected"] > 0
    assert (result["lost"], result["duplicated"], result["bad_signatures"]) == (0, 0, 0)
    assert result["notify_p99_ms"] is not None and result["webhook_p99_ms"] is not None
