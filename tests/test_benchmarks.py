"""Every benchmark still runs, and the docs' figures are written from what ``make bench`` measured.

Each run of ``make bench`` (``benchmarks/suite.py``) runs here at its ``--smoke``
size: the last line of stdout must be one JSON object holding the keys
docs/benchmarks.md documents for it. No timing is asserted. The generated
figures themselves are checked against the results file by
``tests/test_docs.py``; here, how they are written.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import suite  # noqa: E402  (benchmarks/suite.py)

from sitcen.api.console import console_dir  # noqa: E402
from sitcen.testing import mosquitto_missing, postgres_binaries_missing  # noqa: E402

FRONTEX = ROOT.parent / "shared" / "data" / "frontex" / "ibc-monthly-2009-2020.csv"


def _unmet(needs: tuple[str, ...]) -> list[str]:
    unmet = []
    if "postgresql" in needs and postgres_binaries_missing():
        unmet.append("PostgreSQL server binaries")
    if "chromium" in needs and not (Path("/usr/bin/chromium").exists()
                                    and (console_dir() / "index.html").is_file()):
        unmet.append("Chromium and the built console (make console)")
    if "mosquitto" in needs and mosquitto_missing() is not None:
        unmet.append("Mosquitto (Debian mosquitto, mosquitto-clients)")
    if "frontex" in needs and not FRONTEX.is_file():
        unmet.append(f"the Frontex series at {FRONTEX}")
    return unmet


def _require(needs: tuple[str, ...]) -> None:
    unmet = _unmet(needs)
    if unmet:
        reason = "needs " + ", ".join(unmet)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)


def _has(result: dict[str, Any], dotted: str) -> bool:
    try:
        suite.lookup(result, dotted)
    except KeyError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("run", suite.RUNS, ids=[run.name for run in suite.RUNS])
def test_benchmark_runs_at_smoke_size(run: suite.Run) -> None:
    _require(run.needs)
    done = subprocess.run([sys.executable, *run.command(), "--smoke"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    last = done.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    assert isinstance(result, dict), last
    missing = [key for key in run.keys if not _has(result, key)]
    assert not missing, f"{run.name}: documented keys missing from its result: {missing}"


@pytest.mark.slow
def test_suite_keeps_each_result_with_commit_machine_and_date(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"format": 1, "runs": {"ui": {"kept": True}}}))
    done = subprocess.run([sys.executable, "benchmarks/suite.py", "--smoke", "--only", "risk",
                           "--results", str(results)], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    data = json.loads(results.read_text())
    assert data["runs"]["ui"] == {"kept": True}  # runs not asked for keep their results
    entry = data["runs"]["risk"]
    assert re.fullmatch(r"[0-9a-f]{10}", entry["commit"])
    assert isinstance(entry["dirty"], bool)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["date"])
    assert entry["machine"]["cores"] == os.cpu_count()
    assert entry["machine"]["cpu"] and entry["machine"]["memory_gb"] > 0
    assert entry["command"] == "python benchmarks/risk.py --smoke"
    assert entry["smoke"] is True
    assert {"events", "seconds", "ratio"} <= set(entry["result"])


def test_suite_refuses_smoke_results_in_the_docs_file() -> None:
    with pytest.raises(SystemExit):
        suite.main(["--smoke", "--only", "risk"])


def _entry(result: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "command": "python benchmarks/x.py", "date": "2026-12-06T10:00:00Z",
        "commit": "abcdef1234", "dirty": False, "seconds": 12.5,
        "load_average_before": [0.3, 0.2, 0.1],
        "machine": {"cores": 2, "cpu": "Test CPU", "memory_gb": 23.4, "system": "Linux 6",
                    "python": "3.11.7", "sqlite": "3.45.1", "postgresql": ""},
    }
    if error is not None:
        entry["error"] = error
    else:
        entry["result"] = result
    return entry


def _ingest(per_s: int, ratio: float) -> dict[str, Any]:
    backend = {"events_per_s": per_s, "raw_rows_per_s": 60_000, "ratio": ratio}
    return {"sqlite": backend, "postgresql": backend}


def test_figures_and_verdicts_come_from_the_results() -> None:
    data = {"runs": {
        "ingest_two_processes": _entry(_ingest(25_000, 2.4)),
        "ingest": _entry(_ingest(14_000, 4.2)),
        "federation": _entry({"events_per_s": 2000, "p50_ms": 150.0, "p99_ms": 420.0,
                              "lost": 0, "duplicated": 0, "catchup_per_s": 12_000}),
        "query": _entry(error="exit code 1; last lines of stderr:\nboom"),
    }}
    table = suite.summary_table(data)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()}
    two = rows["batch ingest through the API, SQLite, two app processes and two clients"]
    assert "25,000 events/s, 2.4× raw" in two and "| met |" in two
    assert "2026-12-06, `abcdef1234`" in two
    fed = rows["federation, post → regional → national → partner, SQLite"]
    assert "p99 420 ms" in fed and "**not met**" in fed  # 420 > 300
    assert "**failed** (exit code 1; last lines of stderr:)" in rows[
        "bbox + time-window queries at 10 M events, SQLite"]
    assert "not measured yet" in rows["console: 50,000 events to an interactive map; a burst "
                                      "of 100 live events"]
    assert "Machine: 2 cores (Test CPU), 23.4 GB" in table

    readme = " ".join(suite.readme_figures(data).split())  # wrapped at 78 columns
    assert readme.startswith("- **Measured speed** by `make bench` on a 2-core machine")
    assert "25,000 events/s" in readme and "14,000 with" in readme
    assert "p99 420 ms" in readme and "2026-12-06, `abcdef1234`" in readme
    assert "queries" not in readme  # the query run failed: no figure is quoted for it

    listing = suite.results_listing(data)
    assert '"events_per_s": 25000' in listing and "load average before 0.3" in listing


def test_a_goal_is_judged_only_at_its_size() -> None:
    small = {"events": 200_000, "p50_ms": 3.0, "p95_ms": 9.0, "p99_ms": 12.0,
             "http": {"p95_ms": 14.0}}
    table = suite.summary_table({"runs": {"query": _entry({"sqlite": small,
                                                          "postgresql": small})}})
    row = next(line for line in table.splitlines()
               if line.startswith("| bbox") and "SQLite" in line)
    assert "p95 9.0 ms" in row and "at 200,000 events" in row
    assert "| — |" in row  # the 20 ms goal is for 10 million events
