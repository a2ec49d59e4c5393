"""Daily and monthly report of a national centre with 1,000,000 events in its store.

Seeds a fresh SQLite node with the synthetic scenario scaled to the number of
events asked for (three years up to now), gives every section a capacity
inventory and computes the risk table as the node's schedule would, then
times, over several rounds, the two products a national centre issues most:

- the daily situation report of yesterday: built from the store and rendered
  to PDF (WeasyPrint);
- the monthly analytical report of last month: built (trends, top-risk
  sections with solutions, routes and displacement, forecasts, follow-up) and
  rendered to PDF.

Goals (issue 13): daily < 2 s, monthly < 10 s, PDF included. The last line of
stdout is one JSON object, e.g. ``{"events": 1000000, "daily_pdf_s": ...,
"monthly_pdf_s": ..., "pages": ...}``. ``--smoke`` runs it at a tiny size (the
test suite does).

    .venv/bin/python benchmarks/reports.py            # 1,000,000 events
    .venv/bin/python benchmarks/reports.py --smoke    # a few thousand, seconds
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, log

from sitcen.demo.capacities import synthetic_capacities
from sitcen.demo.scenario import generate
from sitcen.events import EventCreate
from sitcen.interop.capacity_import import capacity_values
from sitcen.node import Node
from sitcen.recompute import RISK_TABLE, compute_risk
from sitcen.reports.building import centre_for, period_for
from sitcen.reports.products import build_product
from sitcen.reports.render import render_pdf
from sitcen.reports.templates import default_template
from sitcen.settings import Settings
from sitcen.store.capacities import put_capacities
from sitcen.store.events import report_events
from sitcen.store.queries import count_events
from sitcen.store.results import load_result

# The scenario makes about 140,000 events in three years at scale 1.
EVENTS_PER_SCALE = 140_000
YEARS = 3.0


def seed(node: Node, events: int) -> int:
    scale = max(0.01, events / EVENTS_PER_SCALE)
    now = datetime.now(UTC)
    scenario = generate(YEARS, seed=11, start=(now - timedelta(days=365.25 * YEARS)).date(),
                        scale=scale)
    written = 0
    for batch in scenario.batches(10_000):
        items = [EventCreate.model_validate(p) for p in batch]
        items = [it for it in items if (it.reported_at or it.occurred_at) <= now]
        if written + len(items) > events:
            items = items[:events - written]
        if items:
            report_events(node.engine, node.reporter, items, batch=True)
            written += len(items)
        if written >= events:
            break
        if written and written % 100_000 < 10_000:
            log(f"  {written:,} events written")
    return written


def pages_of(pdf: bytes, directory: Path) -> int:
    path = directory / "report.pdf"
    path.write_bytes(pdf)
    try:
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                              text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a tiny run (a few thousand events)")
    parser.add_argument("--database", type=Path,
                        help="a SQLite file to keep the seeded node in and reuse on the next "
                             "run (seeding 1,000,000 events takes long on a busy machine)")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.rounds = 4_000, 1
    with tempfile.TemporaryDirectory(prefix="sitcen-bench-reports-") as tmp:
        directory = Path(tmp)
        url = f"sqlite:///{(args.database or directory / 'sitcen.db').resolve()}"
        settings = Settings(environment="test", data_dir=directory, database_url=url,
                            node_id="tj-ncc", node_name="National coordination centre",
                            node_country="TJ")
        node = Node.open(settings)
        with node.engine.connect() as conn:
            stored = count_events(conn)
        started = time.perf_counter()
        written = 0
        if stored < args.events:
            log(f"seeding {args.events - stored:,} events (three years up to now)")
            written = seed(node, args.events - stored)
            with node.engine.connect() as conn:
                stored = count_events(conn)
        log(f"seeded {stored:,} events in {time.perf_counter() - started:.0f} s")
        capacities = synthetic_capacities(node.sections.sections)
        if written:
            put_capacities(node.engine, settings.node_id,
                           [(c.section_id, capacity_values(c), "benchmark")
                            for c in capacities], assessed_by="benchmark")
        started = time.perf_counter()
        if load_result(node.engine, RISK_TABLE) is None or written:
            compute_risk(node.engine, settings.node_id)  # what the node's schedule keeps ready
        risk_s = time.perf_counter() - started
        log(f"risk table computed in {risk_s:.1f} s (scheduled work, not timed below)")
        timings: dict[str, list[float]] = {"daily": [], "monthly": []}
        # CPU time of this process too: on a shared machine (load far above the cores) the
        # wall clock mostly measures waiting; SQLite, the layout and the figures all run in
        # this one thread, so its CPU time is what the work costs.
        cpu: dict[str, list[float]] = {"daily": [], "monthly": []}
        build_s: dict[str, list[float]] = {"daily": [], "monthly": []}
        pages: dict[str, int] = {}
        today = datetime.now(UTC).date()
        days = {"daily": today - timedelta(days=1),
                "monthly": (today.replace(day=1) - timedelta(days=1))}
        for round_ in range(args.rounds):
            for product in ("daily", "monthly"):
                template = default_template(product, "ru")
                t0 = time.perf_counter()
                c0 = time.process_time()
                centre = centre_for(template, node_id=settings.node_id,
                                    node_name=settings.node_name,
                                    node_country=settings.node_country,
                                    sections=node.sections.sections)
                content = build_product(node.engine, product, centre=centre,
                                        period=period_for(product, days[product], centre.zone),
                                        template=template)
                t1 = time.perf_counter()
                pdf = render_pdf(content)
                t2 = time.perf_counter()
                cpu[product].append(time.process_time() - c0)
                timings[product].append(t2 - t0)
                build_s[product].append(t1 - t0)
                pages[product] = pages_of(pdf, directory)
                log(f"round {round_ + 1}: {product}: build {t1 - t0:.2f} s, "
                    f"PDF {t2 - t1:.2f} s, CPU {cpu[product][-1]:.2f} s, "
                    f"{pages[product]} pages")
        node.engine.dispose()
    emit({"events": stored, "written": written,
          "daily_pdf_s": round(statistics.median(timings["daily"]), 3),
          "monthly_pdf_s": round(statistics.median(timings["monthly"]), 3),
          "daily_build_s": round(statistics.median(build_s["daily"]), 3),
          "monthly_build_s": round(statistics.median(build_s["monthly"]), 3),
          "daily_cpu_s": round(statistics.median(cpu["daily"]), 3),
          "monthly_cpu_s": round(statistics.median(cpu["monthly"]), 3),
          "load_average": round(os.getloadavg()[0], 1),
          "pages": pages, "rounds": args.rounds, "risk_table_s": round(risk_s, 1),
          "goals": {"daily_pdf_s": 2.0, "monthly_pdf_s": 10.0},
          "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
