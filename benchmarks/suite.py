"""The benchmark suite ``make bench`` runs, its results file, and the figures the docs quote.

Every measured claim is a :class:`Run` of one script of ``benchmarks/`` (the
script prints one JSON object as its last stdout line). This program runs
them one after the other and keeps each result in ``benchmarks/results/latest.json``
with the commit, the machine and the date of its run, writing the file after
every run so an interrupted suite keeps what it measured. ``scripts/gen_docs.py``
then writes the figures of docs/benchmarks.md and of the README from that file
(:func:`summary_table`, :func:`readme_figures`, ...), and ``tests/test_docs.py``
fails when the docs and the file disagree; ``tests/test_benchmarks.py`` runs
every script with ``--smoke``.

    python benchmarks/suite.py                      # every run (make bench), then make docs
    python benchmarks/suite.py --only ingest,query  # these runs; the others keep their results
    python benchmarks/suite.py --smoke --results /tmp/smoke.json   # tiny sizes, not for docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results" / "latest.json"
FORMAT = 1


@dataclass(frozen=True)
class Run:
    """One script run of the suite: its name in the results, its command, what it needs."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    #: Dotted keys its JSON result always holds (the test suite checks them at smoke size).
    keys: tuple[str, ...] = ()
    #: What it needs beyond the dev install: "postgresql", "chromium", "frontex", "mosquitto".
    needs: tuple[str, ...] = ()

    def command(self) -> list[str]:
        """The command line, from the repository root."""
        return ["benchmarks/" + self.script, *self.args]


_INGEST_KEYS = ("events_per_s", "raw_rows_per_s", "ratio", "median_batch_ms", "server_processes",
                "server_cpu_s")
_QUERY_KEYS = ("events", "p50_ms", "p95_ms", "p99_ms", "http.p95_ms")
_FEDERATION_KEYS = ("events_per_s", "p50_ms", "p99_ms", "lost", "duplicated", "catchup_per_s",
                    "first_after_restart_s", "cpu_s", "stages_us_per_record", "database")

RUNS: tuple[Run, ...] = (
    Run("ingest", "ingest.py", (),
        (*(f"sqlite.{k}" for k in _INGEST_KEYS), "sqlite.breakdown_ms",
         *(f"postgresql.{k}" for k in _INGEST_KEYS)), ("postgresql",)),
    Run("ingest_two_processes", "ingest.py",
        ("--workers", "2", "--concurrency", "2", "--profile-repeats", "0"),
        (*(f"sqlite.{k}" for k in _INGEST_KEYS), *(f"postgresql.{k}" for k in _INGEST_KEYS)),
        ("postgresql",)),
    Run("query", "query.py", (),
        (*(f"sqlite.{k}" for k in _QUERY_KEYS), *(f"postgresql.{k}" for k in _QUERY_KEYS),
         "postgresql.load"), ("postgresql",)),
    Run("federation", "federation.py", (), _FEDERATION_KEYS),
    Run("federation_postgresql", "federation.py", ("--database", "postgresql"), _FEDERATION_KEYS,
        ("postgresql",)),
    Run("cot", "cot.py", (),
        ("messages_per_s", "position_to_stream_ms", "position_to_stream_p99_ms",
         "latency_at_messages_per_s", "probes", "probes_not_seen", "baseline_parse_per_s",
         "route_p50_ms_at_1000", "route_p99_ms_at_1000", "route_p50_ms_at_4000",
         "route_p99_ms_at_4000", "route_stored_fraction_at_4000", "max_paced_per_s",
         "peer_route_p99_ms_at_4000", "peer_max_paced_per_s")),
    Run("surveillance", "surveillance.py", (),
        ("sensors", "heartbeats_per_s", "incident_p50_ms", "incident_p99_ms", "events",
         "bursts", "silence_delay_ratio", "false_silences"), ("mosquitto",)),
    Run("risk", "risk.py", (),
        ("events", "seconds", "groupby_seconds", "ratio", "scan_seconds", "scan_events")),
    Run("early_warning", "early_warning.py", (),
        ("recall", "false_alarms_per_section_year", "median_delay_days", "truth_entries",
         *(f"baselines.{m}" for m in ("ears_c1", "ears_c2", "ears_c3", "farrington")),
         "oracle_recall", "best_baseline", "methods.oracle.median_delay_days")),
    Run("forecast", "forecast.py", (),
        ("routes", "share_routes_best_or_tied", "share_routes_mase_below_1", "coverage80",
         "coverage95", "mean_mase.median_ensemble", "failed_fits"), ("frontex",)),
    Run("network", "network.py", (), ("seconds", "cells", "series", "routes", "planted_found")),
    Run("ui", "ui.py", (),
        ("events", "time_to_interactive_s", "burst_absorb_s", "longest_task_ms",
         "baseline_empty_map_s", "baseline_fetch_parse_s"), ("chromium",)),
    Run("field", "field.py", (),
        ("events", "report_bytes", "report_bytes_compressed.gzip", "live_bytes_per_min",
         "live_bytes_per_min_plain", "live_bytes_per_min_low", "live_bytes_per_min_other.br",
         "live_bytes_per_min_other.zstd", "usable_map_s", "usable_map_s_plain",
         "usable_map_s_low", "delivered_report_s", "delivered_report_s_plain",
         "link.down_kbit_s"), ("chromium",)),
    Run("workflow", "workflow.py", (),
        ("queue_waiting", "queue_first_page_p95_ms", "notify_p50_ms", "notify_p99_ms",
         "webhook_p99_ms", "lost", "duplicated", "subscriptions", "events_per_s")),
    Run("reports", "reports.py", (), ("events", "daily_pdf_s", "monthly_pdf_s", "pages")),
    Run("audit", "audit.py", (),
        ("entries", "verify_s", "verify_per_s", "append_per_s", "raw_append_per_s",
         "append_ratio")),
    Run("operate", "operate.py", (),
        ("events", "backup_s", "ingest_per_s_before", "ingest_per_s_during", "ingest_slowdown",
         "restore_s")),
    Run("patrols", "patrols.py", (),
        ("interdictions_vs_proportional", "interdictions_vs_uniform", "interdictions.game",
         "held_out_months", "sections", "solve_s", "solve_sections", "solve_teams",
         "solve_rounds")),
)
RUN_NAMES = tuple(run.name for run in RUNS)


def lookup(result: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a result (KeyError when a part is missing)."""
    value: Any = result
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            raise KeyError(dotted)
        value = value[part]
    return value


# ----------------------------------------------------------------------------- running


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def commit() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it (the results file
    aside: the suite itself writes it after each run)."""
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                   f":!{RESULTS.relative_to(ROOT)}")
    return {"commit": _git("rev-parse", "--short=10", "HEAD") or "unknown",
            "dirty": bool(changed)}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    memory_gb = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                    if line.startswith("model name")), "")
        meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
        kib = next(int(line.split()[1]) for line in meminfo.splitlines()
                   if line.startswith("MemTotal:"))
        memory_gb = round(kib / 1024**2, 1)
    except (OSError, StopIteration, ValueError):
        pass
    from sitcen.testing import postgres_bin_dir

    postgres_bin_dir()  # Debian keeps the server programs in a versioned directory
    postgres = shutil.which("postgres")
    pg_version = ""
    if postgres:
        pg_version = subprocess.run([postgres, "--version"], capture_output=True, text=True,
                                    check=False).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": cpu or platform.processor() or platform.machine(),
            "memory_gb": memory_gb, "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "postgresql": pg_version}


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other work on the machine), where known."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def execute(run: Run, smoke: bool, log_dir: Path | None) -> dict[str, Any]:
    """Run one script; its entry for the results file (``result``, or ``error``)."""
    command = [*run.command(), *(["--smoke"] if smoke else [])]
    started = datetime.now(UTC)
    entry: dict[str, Any] = {"command": "python " + " ".join(command),
                             "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"), **commit(),
                             "machine": machine(), "load_average_before": load_average()}
    print(f"== {run.name}: {entry['command']}", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    stderr_path = (log_dir / f"{run.name}.log") if log_dir else None
    with (stderr_path.open("w", encoding="utf-8") if stderr_path else
          open(os.devnull, "w", encoding="utf-8")) as stderr_log:
        process = subprocess.Popen([sys.executable, *command], cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        tail: list[str] = []
        for line in process.stderr:  # progress, shown as it comes and kept for the log
            sys.stderr.write(line)
            stderr_log.write(line)
            tail = [*tail[-19:], line.rstrip()]
        stdout = process.stdout.read()
        process.wait()
    entry["seconds"] = round(time.monotonic() - t0, 1)
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if process.returncode != 0 or not isinstance(result, dict):
        entry["error"] = (f"exit code {process.returncode}; last lines of stderr:\n"
                          + "\n".join(tail))
    else:
        entry["result"] = result
    return entry


def read_results(path: Path = RESULTS) -> dict[str, Any]:
    """The results file (an empty one when there is none yet)."""
    if not path.is_file():
        return {"format": FORMAT, "runs": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_results(data: Mapping[str, Any], path: Path = RESULTS) -> None:
    """Write the results file (stable key order, so that its diffs read well)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", help="comma-separated runs: " + ", ".join(RUN_NAMES))
    parser.add_argument("--smoke", action="store_true",
                        help="every script at its tiny size (checks they run; not for the docs)")
    parser.add_argument("--results", type=Path, default=None,
                        help=f"results file (default {RESULTS.relative_to(ROOT)}; with --smoke "
                             "it must be given)")
    parser.add_argument("--logs", type=Path, default=None,
                        help="directory for each run's progress log")
    args = parser.parse_args(argv)
    if args.smoke and args.results is None:
        parser.error("--smoke writes tiny-size results: give --results elsewhere than the "
                     "file the docs are made from")
    path = args.results or RESULTS
    wanted = RUN_NAMES if not args.only else tuple(n.strip() for n in args.only.split(","))
    unknown = sorted(set(wanted) - set(RUN_NAMES))
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; known: {', '.join(RUN_NAMES)}")
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    data = read_results(path)
    data["format"] = FORMAT
    failed = []
    for run in RUNS:
        if run.name not in wanted:
            continue
        entry = execute(run, args.smoke, args.logs)
        if args.smoke:
            entry["smoke"] = True
        data.setdefault("runs", {})[run.name] = entry
        write_results(data, path)
        if "error" in entry:
            failed.append(run.name)
            print(f"== {run.name} FAILED:\n{entry['error']}", file=sys.stderr, flush=True)
    print(f"results in {path}" + (f"; failed: {', '.join(failed)}" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0


# ----------------------------------------------------------------------------- the docs


def _n(value: Any, digits: int = 0) -> str:
    """A number as the docs write it (thousands separated), or a dash."""
    if value is None:
        return "—"
    if isinstance(value, float) and value != value:  # NaN
        return "—"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Claim:
    """A measured claim: what, its goal, the run it comes from, its figure and verdict."""

    what: str
    goal: str
    run: str
    figure: Callable[[dict[str, Any]], str]
    met: Callable[[dict[str, Any]], bool | None]


def _ingest(backend: str) -> Callable[[dict[str, Any]], str]:
    def figure(r: dict[str, Any]) -> str:
        b = r[backend]
        return (f"{_n(b['events_per_s'])} events/s, {b['ratio']}× raw "
                f"({_n(b['raw_rows_per_s'])} rows/s)")
    return figure


def _query(backend: str) -> Callable[[dict[str, Any]], str]:
    def figure(r: dict[str, Any]) -> str:
        b = r[backend]
        http = b.get("http") or {}
        over_http = f"; HTTP p95 {_n(http.get('p95_ms'), 1)} ms" if http else ""
        return (f"p95 {_n(b['p95_ms'], 1)} ms, p50 {_n(b['p50_ms'], 1)} ms at "
                f"{_n(b['events'])} events{over_http}")
    return figure


def _federation(r: dict[str, Any]) -> str:
    return (f"p99 {_n(r['p99_ms'])} ms (p50 {_n(r['p50_ms'])}) at {_n(r['events_per_s'])} "
            f"events/s, {r['lost']} lost, {r['duplicated']} twice; catch-up "
            f"{_n(r['catchup_per_s'])} records/s")


def _federation_met(r: dict[str, Any]) -> bool | None:
    if r.get("p99_ms") is None or r.get("catchup_per_s") is None:
        return None
    return bool(r["p99_ms"] <= 300 and r["events_per_s"] >= 1_900 and r["lost"] == 0
                and r["duplicated"] == 0 and r["catchup_per_s"] >= 10_000)


def _cot(r: dict[str, Any]) -> str:
    return (f"{_n(r['messages_per_s'])} messages/s; stream {_n(r['position_to_stream_ms'])} ms "
            f"median, {_n(r['position_to_stream_p99_ms'])} ms p99 at "
            f"{_n(r['latency_at_messages_per_s'])}/s, {r['probes_not_seen']} probes not seen")


def _surveillance(r: dict[str, Any]) -> str:
    return (f"incident p99 {_n(r['incident_p99_ms'])} ms ({r['events']} events from "
            f"{r['bursts']} bursts); silence flagged at {r['silence_delay_ratio']}× the interval, "
            f"{_n(r['sensors'])} sensors")


def _cot_route(r: dict[str, Any]) -> str:
    def ms(key: str) -> str:
        return "—" if r.get(key) is None else f"{r[key]:g} ms"

    def rate(key: str) -> str:
        return "none" if r.get(key) is None else f"{_n(r[key])}/s"

    return (f"p99 {ms('route_p99_ms_at_4000')} at 4,000/s (taky "
            f"{ms('peer_route_p99_ms_at_4000')}), p50 {ms('route_p50_ms_at_1000')} at "
            f"1,000/s (taky "
            f"{ms('peer_route_p50_ms_at_1000')}); kept up to {rate('max_paced_per_s')} (taky "
            f"{rate('peer_max_paced_per_s')}); stored {r.get('route_stored_fraction_at_4000')}")


def _cot_route_met(r: dict[str, Any]) -> bool | None:
    if r.get("route_p99_ms_at_4000") is None or r.get("peer") is None:
        return None if r.get("peer") is None else False
    return bool(r["route_p99_ms_at_4000"] < 50
                and (r.get("route_stored_fraction_at_4000") or 0) >= 1
                and (r.get("max_paced_per_s") or 0) > (r.get("peer_max_paced_per_s") or 0))


def _slower(slowdown: float) -> str:
    return f"{slowdown:.0%} slower" if slowdown >= 0.005 else "not slower"


def _rate(result: dict[str, Any]) -> str:
    rate = result.get("backup_max_rate_mb_s")
    return f"the copy held to {rate:g} MB/s" if rate else "the copy at full speed"


def _forecast_vs_open(r: dict[str, Any]) -> str:
    return (f"at or below the best on {r['share_routes_best_or_tied']:.0%} of {r['routes']} "
            f"routes; coverage {r['coverage80']:.1%} (80 %), {r['coverage95']:.1%} (95 %)")


def _forecast_vs_open_met(r: dict[str, Any]) -> bool | None:
    return bool(r["share_routes_best_or_tied"] > 0.5 and abs(r["coverage80"] - 0.8) <= 0.05
                and abs(r["coverage95"] - 0.95) <= 0.05)


def _warning_vs_baselines(r: dict[str, Any]) -> str:
    best = r["best_baseline"]
    return (f"recall {r['recall']} against {best.replace('_', ' ').upper()} "
            f"{r['baselines'][best]} (oracle {r['oracle_recall']}); median delay "
            f"{r['median_delay_days']} against {r['methods'][best]['median_delay_days']} days")


def _warning_vs_baselines_met(r: dict[str, Any]) -> bool | None:
    if r["recall"] is None:
        return None
    best = r["methods"][r["best_baseline"]]
    delay, theirs = r["median_delay_days"], best["median_delay_days"]
    return bool(r["recall"] >= best["recall"] + 0.1
                and (theirs is None or (delay is not None and delay <= theirs)))


CLAIMS: tuple[Claim, ...] = (
    Claim("batch ingest through the API, SQLite, two app processes and two clients",
          "≥ 20,000 events/s, ≤ 3× a raw insert", "ingest_two_processes", _ingest("sqlite"),
          lambda r: r["sqlite"]["events_per_s"] >= 20_000 and r["sqlite"]["ratio"] <= 3),
    Claim("batch ingest through the API, SQLite, one process", "(reported)", "ingest",
          _ingest("sqlite"), lambda r: None),
    Claim("batch ingest through the API, PostgreSQL, one process", "(reported)", "ingest",
          _ingest("postgresql"), lambda r: None),
    Claim("batch ingest through the API, PostgreSQL, two processes", "(reported)",
          "ingest_two_processes", _ingest("postgresql"), lambda r: None),
    Claim("bbox + time-window queries at 10 M events, SQLite", "p95 ≤ 20 ms", "query",
          _query("sqlite"),
          lambda r: r["sqlite"]["p95_ms"] <= 20 if r["sqlite"]["events"] >= 10_000_000
          else None),
    Claim("bbox + time-window queries at 10 M events, PostgreSQL", "p95 ≤ 20 ms", "query",
          _query("postgresql"),
          lambda r: r["postgresql"]["p95_ms"] <= 20 if r["postgresql"]["events"] >= 10_000_000
          else None),
    Claim("federation, post → regional → national → partner, SQLite",
          "p99 ≤ 300 ms at 2,000 events/s, 0 lost, 0 twice; catch-up ≥ 10,000 records/s",
          "federation", _federation, _federation_met),
    Claim("federation, the same chain on PostgreSQL", "(the same goals, reported)",
          "federation_postgresql", _federation, _federation_met),
    Claim("CoT positions through the TAK listener from concurrent pytak clients",
          "≥ 5,000 messages/s; position to live stream < 1 s", "cot",
          _cot,
          lambda r: r["messages_per_s"] >= 5_000 and r["position_to_stream_ms"] < 1_000),
    Claim("sensor field over Mosquitto: 5,000 sensors beating every 10 s, detection bursts",
          "incident p99 < 1 s; silence flagged within 1.5× the interval", "surveillance",
          _surveillance,
          lambda r: r["incident_p99_ms"] < 1_000 and r["silence_delay_ratio"] <= 1.5
          and r["events"] == r["bursts"] and r["false_silences"] == 0),
    Claim("CoT device to device through the TAK listener, 4 senders and 1 subscriber, "
          "against taky in the same run",
          "p99 < 50 ms at 4,000/s storing every position; a higher sustained rate than taky",
          "cot", _cot_route, _cot_route_met),
    Claim("full risk recomputation, 411 sections over 10 M events; scan with 999 replicates",
          "≤ 2 s and ≤ 3× a DuckDB group-by; scan ≤ 30 s", "risk",
          lambda r: (f"{r['seconds']} s, {r['ratio']}× the group-by ({_n(r['events'])} "
                     f"events); scan {r['scan_seconds']} s"),
          lambda r: (r["seconds"] <= 2 and r["ratio"] <= 3 and r["scan_seconds"] <= 30)
          if r["events"] >= 10_000_000 else None),
    Claim("early warning against planted truth",
          "recall ≥ 0.9, ≤ 1 false alarm per section-year, median delay ≤ 1 day",
          "early_warning",
          lambda r: (f"recall {r['recall']}, {r['false_alarms_per_section_year']} false alarms "
                     f"per section-year, median delay {r['median_delay_days']} days"),
          lambda r: None if r["recall"] is None else bool(
              r["recall"] >= 0.9 and r["false_alarms_per_section_year"] <= 1
              and r["median_delay_days"] is not None and r["median_delay_days"] <= 1)),
    Claim("forecasts on the real Frontex series",
          "MASE < 1 against both baselines on most routes; coverage within 10 points",
          "forecast",
          lambda r: (f"{r['share_routes_mase_below_1']:.0%} of {r['routes']} routes beat both; "
                     f"coverage {r['coverage80']:.1%} (80 %), {r['coverage95']:.1%} (95 %)"),
          lambda r: bool(r["share_routes_mase_below_1"] > 0.5
                         and abs(r["coverage80"] - 0.8) <= 0.1
                         and abs(r["coverage95"] - 0.95) <= 0.1)),
    Claim("forecasts against AutoETS, AutoARIMA, AutoTheta and their median ensemble",
          "MASE at or below the best of them on most routes; coverage within 5 points",
          "forecast", _forecast_vs_open, _forecast_vs_open_met),
    Claim("early warning against EARS C1–C3 and Farrington at ours' false-alarm rate",
          "recall ≥ the best baseline's + 10 points, median delay no worse", "early_warning",
          _warning_vs_baselines, _warning_vs_baselines_met),
    Claim("the hub's monthly joint analysis, 5 countries x 15 indicators x 50 nationalities "
          "x 10 years", "< 5 s, the planted route surge found", "network",
          lambda r: (f"{r['seconds']} s for {_n(r['cells'])} cells; planted surge "
                     f"{'found' if r['planted_found'] else 'missed'}"),
          lambda r: bool(r["seconds"] < 5 and r["planted_found"])
          if r["cells"] >= 450_000 else None),
    Claim("console: 50,000 events to an interactive map; a burst of 100 live events",
          "< 2 s to interactive; no frozen page", "ui",
          lambda r: (f"{r['time_to_interactive_s']} s to interactive with {_n(r['events'])} "
                     f"events (empty map {r['baseline_empty_map_s']} s); burst shown in "
                     f"{r['burst_absorb_s']} s, longest task {_n(r['longest_task_ms'])} ms"),
          lambda r: r["time_to_interactive_s"] < 2 if r["events"] >= 50_000 else None),
    Claim("a post's report on the wire, as the console sends it", "≤ 1 KB before compression",
          "field",
          lambda r: (f"{_n(r['report_bytes'])} bytes ({_n(r['report_bytes_compressed']['gzip'])}"
                     " gzipped)"),
          lambda r: bool(r["report_bytes"] <= 1024)),
    Claim("the live picture on a post's link: reports and patrol positions as they come",
          "(reported)", "field",
          lambda r: (f"{_n(r['live_bytes_per_min'])} bytes a minute gzipped, "
                     f"{_n(r['live_bytes_per_min_plain'])} uncompressed, "
                     f"{_n(r['live_bytes_per_min_low'])} in low-bandwidth mode "
                     f"({_n(r['live_reports'])} reports, {_n(r['live_positions'])} positions in "
                     f"{r['live_minutes']} min)"),
          lambda r: None),
    Claim("the 7-day map usable on a poor link (100/50 kbit/s, 600 ms), console cached",
          "≤ 10 s", "field",
          lambda r: (f"{r['usable_map_s']} s gzipped ({_n(r['events'])} events), "
                     f"{r['usable_map_s_plain']} s uncompressed, {r['usable_map_s_low']} s in "
                     "low-bandwidth mode"),
          lambda r: bool(r["usable_map_s"] <= 10) if r["link"]["down_kbit_s"] <= 100 else None),
    Claim("a report delivered on the same poor link", "≤ 3 s", "field",
          lambda r: (f"{r['delivered_report_s']} s gzipped, {r['delivered_report_s_plain']} s "
                     "uncompressed"),
          lambda r: bool(r["delivered_report_s"] <= 3) if r["link"]["down_kbit_s"] <= 100
          else None),
    Claim("validation queue's first page over 10,000 waiting reports",
          "p95 < 200 ms", "workflow",
          lambda r: (f"p95 {r['queue_first_page_p95_ms']} ms over {_n(r['queue_waiting'])} "
                     "waiting"),
          lambda r: r["queue_first_page_p95_ms"] < 200 if r["queue_waiting"] >= 10_000
          else None),
    Claim("notification fan-out: 1,000 subscriptions while 2,000 events/s arrive",
          "p99 < 1 s to the stream and a webhook; 0 lost, 0 twice", "workflow",
          lambda r: (f"stream p50 {r['notify_p50_ms']} ms, p99 {r['notify_p99_ms']} ms; webhook "
                     f"p99 {r['webhook_p99_ms']} ms at {_n(r['events_per_s'])} events/s; "
                     f"{r['lost']} lost, {r['duplicated']} twice"),
          lambda r: None if r["subscriptions"] < 1_000 or r["notify_p99_ms"] is None
          else bool(r["notify_p99_ms"] < 1_000 and (r["webhook_p99_ms"] or 0) < 1_000
                    and r["lost"] == 0 and r["duplicated"] == 0)),
    Claim("daily and monthly report of a national centre, PDF included, 1 M events stored",
          "daily < 2 s, monthly < 10 s", "reports",
          lambda r: (f"daily {r['daily_pdf_s']} s, monthly {r['monthly_pdf_s']} s "
                     f"({_n(r['events'])} events; {r['pages'].get('daily')} and "
                     f"{r['pages'].get('monthly')} pages)"),
          lambda r: bool(r["daily_pdf_s"] < 2 and r["monthly_pdf_s"] < 10)
          if r["events"] >= 1_000_000 else None),
    Claim("audit verify over the whole hash chain, 10 M entries", "< 30 s", "audit",
          lambda r: (f"{r['verify_s']} s ({_n(r['verify_per_s'])} entries/s) over "
                     f"{_n(r['entries'])} entries"),
          lambda r: bool(r["verify_s"] < 30) if r["entries"] >= 10_000_000 else None),
    Claim("audit entry appended (one transaction each)", "(reported)", "audit",
          lambda r: (f"{_n(r['append_per_s'])} entries/s, {r['append_ratio']}× a raw "
                     f"one-row SQLite transaction ({_n(r['raw_append_per_s'])}/s)"),
          lambda r: None),
    Claim("online backup of a 10 M-event SQLite node while ingest goes on; its restore",
          "ingest slowdown ≤ 30 %; restore < 2 min", "operate",
          lambda r: (f"backup {r['backup_s']} s, ingest {_n(r['ingest_per_s_before'])} → "
                     f"{_n(r['ingest_per_s_during'])} events/s during it "
                     f"({_slower(r['ingest_slowdown'])}; {_rate(r)}); restore "
                     f"{r['restore_s']} s ({_n(r['events'])} events)"),
          lambda r: bool(r["ingest_slowdown"] <= 0.3 and r["restore_s"] < 120)
          if r["events"] >= 10_000_000 and r["ingest_slowdown"] is not None else None),
    Claim("patrol plan (security game) vs today's rule, adaptive adversary, held-out months",
          "≥ 30 % more interdictions than proportional-to-history", "patrols",
          lambda r: (f"{_pct(r['interdictions_vs_proportional'])} vs proportional, "
                     f"{_pct(r['interdictions_vs_uniform'])} vs uniform "
                     f"({r['held_out_months']} months, {r['sections']} sections)"),
          lambda r: bool(r["interdictions_vs_proportional"] >= 0.3)
          if r["held_out_months"] >= 12 else None),
    Claim("patrol plan solve, 1,000 sections × 200 teams × 3 shifts", "< 1 s", "patrols",
          lambda r: (f"{r['solve_s']} s ({_n(r['solve_sections'])} × {r['solve_teams']} × 3, "
                     f"{r['solve_rounds']} LPs)"),
          lambda r: bool(r["solve_s"] < 1)
          if r["solve_sections"] >= 1000 and r["solve_teams"] >= 200 else None),
)


def _pct(gain: float) -> str:
    return f"{gain * 100:+.0f} %"


def _when(entry: Mapping[str, Any]) -> str:
    dirty = " + uncommitted changes" if entry.get("dirty") else ""
    return f"{entry['date'][:10]}, `{entry['commit']}`{dirty}"


def _verdict(value: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "—"}[value]


def summary_table(data: Mapping[str, Any]) -> str:
    """The claims table of docs/benchmarks.md: goal, figure, verdict, when and where measured."""
    runs: Mapping[str, Any] = data.get("runs", {})
    rows = ["| claim | goal | measured | goal met | run (date, commit) |",
            "| --- | --- | --- | --- | --- |"]
    for claim in CLAIMS:
        entry = runs.get(claim.run)
        if entry is None:
            rows.append(f"| {claim.what} | {claim.goal} | not measured yet | — | — |")
            continue
        if "error" in entry:
            first = entry["error"].splitlines()[0]
            rows.append(f"| {claim.what} | {claim.goal} | **failed** ({first}) | — | "
                        f"`{claim.run}`, {_when(entry)} |")
            continue
        try:
            figure, met = claim.figure(entry["result"]), claim.met(entry["result"])
        except (KeyError, TypeError):
            figure, met = "not in this run's result", None
        rows.append(f"| {claim.what} | {claim.goal} | {figure} | {_verdict(met)} | "
                    f"`{claim.run}`, {_when(entry)} |")
    machines = {json.dumps(e["machine"], sort_keys=True) for e in runs.values()}
    text = "\n".join(rows) + "\n"
    for described in sorted(machines):
        m = json.loads(described)
        text += (f"\nMachine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, "
                 f"{m['system']}; Python {m['python']}, SQLite {m['sqlite']}"
                 + (f", {m['postgresql']}" if m.get("postgresql") else "") + ".\n")
    return text


def results_listing(data: Mapping[str, Any]) -> str:
    """Every run's command, date, commit, load and JSON result, as measured."""
    parts = []
    for name in RUN_NAMES:
        entry = data.get("runs", {}).get(name)
        if entry is None:
            parts.append(f"#### `{name}`\n\nNot measured yet.\n")
            continue
        load = entry.get("load_average_before")
        header = (f"#### `{name}`\n\n`{entry['command']}` — {_when(entry)}, "
                  f"{entry['seconds']} s" + (f", load average before {load[0]}" if load else "")
                  + ("; **smoke size, not a measurement**" if entry.get("smoke") else "") + "\n")
        body = entry.get("result", entry.get("error"))
        parts.append(header + "\n```json\n" + json.dumps(body, ensure_ascii=False) + "\n```\n")
    return "\n".join(parts)


def breakdowns(data: Mapping[str, Any]) -> str:
    """Where the time goes: ingest per stage of a batch, federation per stage and record."""
    runs = data.get("runs", {})
    out = []
    ingest = runs.get("ingest", {})
    stages = (ingest.get("result") or {}).get("sqlite", {}).get("breakdown_ms")
    if stages:
        total = stages.get("total in-process") or 1.0
        out += [f"Ingest, one batch in-process on SQLite (median ms; {_when(ingest)}):", "",
                "| stage | ms | share |", "| --- | ---: | ---: |"]
        out += [f"| {k.strip()} | {v} | {100 * v / total:.1f} % |" for k, v in stages.items()]
        out.append("")
    for name in ("federation", "federation_postgresql"):
        entry = runs.get(name, {})
        per = (entry.get("result") or {}).get("stages_us_per_record")
        if not per:
            continue
        labels = list(per)
        keys = list(dict.fromkeys(k for label in labels for k in per[label]))
        out += [f"Federation stages, µs per record (per record and hop after the post), "
                f"in-process on SQLite (`{name}`, {_when(entry)}):", "",
                "| stage | " + " | ".join(label.replace("_", " ") for label in labels) + " |",
                "| --- |" + " ---: |" * len(labels)]
        out += [f"| {k} | " + " | ".join(_n(per[label].get(k), 1) for label in labels) + " |"
                for k in keys]
        out.append("")
        break  # the stages are measured in-process on SQLite either way
    return "\n".join(out) + "\n" if out else "No breakdown measured yet.\n"


def readme_figures(data: Mapping[str, Any]) -> str:
    """The README's "measured speed" lines."""
    runs = data.get("runs", {})

    def result(name: str) -> dict[str, Any] | None:
        entry = runs.get(name)
        return None if entry is None or "result" not in entry else dict(entry["result"])

    parts = []
    two, one = result("ingest_two_processes"), result("ingest")
    if two and one:
        parts.append(f"{_n(two['sqlite']['events_per_s'])} events/s through the batch API into "
                     f"SQLite with two app processes ({_n(one['sqlite']['events_per_s'])} with "
                     "one)")
    query = result("query")
    if query and "postgresql" in query:
        parts.append(f"bbox + time-window queries over {_n(query['sqlite']['events'])} events "
                     f"with p95 {_n(query['sqlite']['p95_ms'], 1)} ms on SQLite and "
                     f"{_n(query['postgresql']['p95_ms'], 1)} ms on PostgreSQL")
    fed = result("federation")
    if fed:
        parts.append(f"records crossing three federation hops at {_n(fed['events_per_s'])} "
                     f"events/s with p99 {_n(fed['p99_ms'])} ms, and a partner catching up "
                     f"at {_n(fed['catchup_per_s'])} records/s")
    if not parts:
        return "- **Measured speed**: not measured yet (`make bench`).\n"
    dates = sorted({_when(runs[n]) for n in ("ingest", "ingest_two_processes", "query",
                                             "federation") if n in runs})
    cores = {runs[n]["machine"]["cores"] for n in runs}
    text = (f"**Measured speed** by `make bench` on a {'/'.join(map(str, sorted(cores)))}-core "
            f"machine ({'; '.join(dates)}): " + "; ".join(parts)
            + " ([docs/benchmarks.md](docs/benchmarks.md)).")
    return textwrap.fill(text, width=78, initial_indent="- ", subsequent_indent="  ",
                         break_on_hyphens=False, break_long_words=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
