"""benchmarks/reports.py runs at a tiny size and ends with one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_reports_benchmark_smoke() -> None:
    result = subprocess.run([sys.executable, "benchmarks/reports.py", "--smoke"], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["events"] > 1000
    assert last["pages"]["daily"] >= 1 and last["pages"]["monthly"] >= 2
    assert last["daily_pdf_s"] > 0 and last["monthly_pdf_s"] > 0
