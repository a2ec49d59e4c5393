"""Early warning against planted truth: recall, false alarms per section-year, detection delay.

For each seed, ``generate(years, seed=...)`` (3 years, ~135,000 events, 411
sections x 4 categories = 1,644 series):

1. **Chart** (``analysis.early_warning``): the NB CUSUM over the whole history
   at once. It is prospective by construction (day t uses counts up to t only;
   ``tests/test_early_warning.py::test_chart_is_prospective`` checks that a run
   cut at t gives the same day t), so this equals running it day by day.
2. **Scan** (``analysis.scan``): one prospective scan per category per scanned
   day over the last ``--window`` days (max cluster length 7 days, radii 1-10 km,
   999 replicates with sequential early stop at p > 0.01). Scanning all 1,096
   days x 4 categories is too slow for a routine benchmark on 2 cores, so the
   scan runs on (a) every day from one day before to one day after each
   planted anomaly / cluster (recall, delay) and (b) ``--null-days`` random
   other days (false alarms, extrapolated to a year). A scan alarm is a
   cluster with p <= ``--scan-alpha``.

Scoring. Truth = the planted anomalies and space-time clusters (trend shifts
are not scored for recall; alarms on their rising section after their start
are not counted as false). A truth entry is detected by an alarm of its section
and category (chart) or a scan cluster containing its centre / most of whose
members it planted, dated between its start and end + 1 day; delay = alarm day
- start day. False alarms = alarms matching no truth entry, per series-year
(1,644 series x years charted: what the brief asks) and per section-year (all
four categories of a section together: what a duty officer of a section sees).

    python benchmarks/early_warning.py [--seeds 1,2,3] [--years 3] [--null-days 60]

Last stdout line: ``{"recall": ..., "false_alarms_per_section_year": ..., ...}``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd
from _common import emit, log

from sitcen.analysis import early_warning as ew
from sitcen.analysis.scan import space_time_scan
from sitcen.geo import project
from sitcen.scenario import generate
from sitcen.taxonomy import category_of

_DAY_US = 86_400 * 1_000_000


def _day(iso: str, start_us: int) -> int:
    return int((pd.Timestamp(iso).value // 1000 - start_us) // _DAY_US)


def run_seed(seed: int, years: float, window: int, null_days: int, alpha: float,
             settings: ew.ChartSettings) -> dict[str, Any]:
    s = generate(years, seed=seed)
    n_days = int((s.end_us - s.start_us) // _DAY_US)
    sec_names = np.array([*s.section_ids, ""], dtype=object)[s.section]
    cat_of_type = np.array([category_of(t).value for t in s.types], dtype=object)
    events = pd.DataFrame({"occurred_at": s.occurred_at,
                           "section_id": np.where(s.section >= 0, sec_names, None),
                           "category": cat_of_type[s.type]})
    t0 = time.perf_counter()
    secs, cats, first, counts = ew.daily_counts(
        events, start=pd.Timestamp(s.start_us, unit="us"), end=pd.Timestamp(s.end_us, unit="us"),
        section_ids=s.section_ids)
    result = ew.chart(counts, secs, cats, first, settings)
    table = ew.alarms(result)
    chart_s = time.perf_counter() - t0
    charted_days = np.isfinite(result.expected).any(axis=0).sum()
    log(f"seed {seed}: {len(s)} events, chart {chart_s:.1f} s, {len(table)} alarms")
    truth = s.truth_json()
    scored = [t for t in truth if t["kind"] in ("anomaly", "cluster")]
    # ---- chart scoring
    alarm_day = ((table["date"] - pd.Timestamp(first)).dt.days.to_numpy()
                 if len(table) else np.zeros(0, dtype=np.int64))
    explained = np.zeros(len(table), dtype=bool)
    chart_delay: dict[int, int] = {}
    for t in truth:
        cat = category_of(t["type"]).value
        d0, d1 = _day(t["start"], s.start_us), _day(t["end"], s.start_us)
        same = ((table["section_id"] == t["section_id"]) & (table["category"] == cat)).to_numpy()
        if t["kind"] == "trend_shift":
            explained |= same & (alarm_day >= d0)
            continue
        hit = same & (alarm_day >= d0) & (alarm_day <= d1)  # end is exclusive: +1 day
        explained |= hit
        if hit.any():
            chart_delay[t["id"]] = int(alarm_day[hit].min() - d0)
    # ---- scan
    x, y = project(s.lon, s.lat)
    day = (s.occurred_at - s.start_us) // _DAY_US
    ev_cat = cat_of_type[s.type]
    rng = np.random.default_rng(seed)
    truth_days: set[int] = set()
    for t in scored:
        truth_days |= set(range(_day(t["start"], s.start_us) - 1, _day(t["end"], s.start_us) + 1))
    others = np.setdiff1d(np.arange(window, n_days), np.array(sorted(truth_days)))
    null_sample = set(rng.choice(others, min(null_days, others.size), replace=False).tolist())
    scan_days = sorted(d for d in truth_days | null_sample if window <= d < n_days)
    t0 = time.perf_counter()
    scan_delay: dict[int, int] = {}
    scan_false_null = 0
    prev: list[tuple[str, float, float, float]] = []  # yesterday's alarms (dedup of runs)
    for i, d in enumerate(scan_days):
        lo, hi = np.searchsorted(day, [d - window + 1, d + 1])
        today = []
        for cat in sorted(set(cat_of_type)):
            sel = np.flatnonzero(ev_cat[lo:hi] == cat) + lo
            if sel.size < 10:
                continue
            res = space_time_scan(x[sel], y[sel], day[sel], max_radius_km=10, max_days=7,
                                  replicates=999, seed=d, batch=25, stop_above=0.01)
            for c in res.clusters:
                if c.p_value > alpha:
                    continue
                members = sel[c.members]
                match = None
                for t in scored:
                    d0, d1 = _day(t["start"], s.start_us), _day(t["end"], s.start_us)
                    if not d0 <= d <= d1 or category_of(t["type"]).value != cat:
                        continue
                    inside = False
                    if t["centre"] is not None:
                        cx, cy = project([t["centre"][0]], [t["centre"][1]])
                        inside = float(np.hypot(cx[0] - c.centre_x, cy[0] - c.centre_y)) <= (
                            c.radius_km + (t["radius_km"] or 0))
                    if inside or (s.planted[members] == t["id"]).mean() >= 0.5:
                        match = t["id"]
                        break
                if match is not None:
                    scan_delay.setdefault(match, d - _day(truth[match]["start"], s.start_us))
                elif d in null_sample:
                    repeat = any(p[0] == cat and np.hypot(p[1] - c.centre_x, p[2] - c.centre_y)
                                 <= p[3] + c.radius_km for p in prev)
                    scan_false_null += 0 if repeat else 1
                today.append((cat, c.centre_x, c.centre_y, c.radius_km))
        prev = today
        if i % 25 == 0:
            log(f"seed {seed}: scan day {i + 1}/{len(scan_days)}")
    scan_s = time.perf_counter() - t0
    # Scan false alarms on the sampled days, extrapolated to all charted days.
    scan_false = scan_false_null * (n_days - window) / max(len(null_sample), 1)
    combined: dict[int, int] = {}
    for k in {*chart_delay, *scan_delay}:
        combined[k] = min(chart_delay.get(k, 10**6), scan_delay.get(k, 10**6))
    return {
        "seed": seed, "events": len(s), "truth": len(scored),
        "series": counts.shape[0], "sections": len(s.section_ids),
        "years_charted": float(charted_days / 365.25),
        "chart_alarms": len(table), "chart_false": int((~explained).sum()),
        "chart_delay": chart_delay, "scan_delay": scan_delay, "combined_delay": combined,
        "scan_false": scan_false, "scan_days": len(scan_days), "scan_seconds": scan_s,
        "chart_seconds": chart_s, "clusters": [t["id"] for t in scored if t["kind"] == "cluster"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--window", type=int, default=28, help="scan window (days)")
    parser.add_argument("--null-days", type=int, default=40)
    parser.add_argument("--scan-alpha", type=float, default=0.002)
    parser.add_argument("--shift", type=float, default=2.0)
    parser.add_argument("--arl0", type=float, default=1460.0)
    args = parser.parse_args()
    settings = ew.ChartSettings(shift=args.shift, arl0_days=args.arl0)
    runs = [run_seed(int(v), args.years, args.window, args.null_days, args.scan_alpha, settings)
            for v in args.seeds.split(",")]
    truth = sum(r["truth"] for r in runs)
    clusters = sum(len(r["clusters"]) for r in runs)
    series_years = sum(r["series"] * r["years_charted"] for r in runs)
    section_years = sum(r["sections"] * r["years_charted"] for r in runs)
    chart_false = sum(r["chart_false"] for r in runs)
    scan_false = sum(r["scan_false"] for r in runs)

    def delays(key: str) -> list[int]:
        return [v for r in runs for v in r[key].values()]

    def med(values: list[int]) -> float | None:
        return float(statistics.median(values)) if values else None

    scan_cluster_hits = sum(len(set(r["scan_delay"]) & set(r["clusters"])) for r in runs)
    result = {
        "recall": round(len(delays("combined_delay")) / truth, 3),
        "false_alarms_per_section_year": round((chart_false + scan_false) / series_years, 3),
        "false_alarms_per_section_year_all_categories": round(
            (chart_false + scan_false) / section_years, 3),
        "median_delay_days": med(delays("combined_delay")),
        "truth_entries": truth, "seeds": len(runs),
        "chart": {"recall": round(len(delays("chart_delay")) / truth, 3),
                  "false_alarms_per_series_year": round(chart_false / series_years, 3),
                  "median_delay_days": med(delays("chart_delay")),
                  "alarms": sum(r["chart_alarms"] for r in runs),
                  "shift": args.shift, "arl0_days": args.arl0,
                  "seconds_per_run": round(statistics.mean(r["chart_seconds"] for r in runs), 2)},
        "scan": {"recall_clusters": round(scan_cluster_hits / max(clusters, 1), 3),
                 "recall_all": round(len(delays("scan_delay")) / truth, 3),
                 "false_alarms_per_year": round(scan_false / sum(
                     r["years_charted"] for r in runs), 2),
                 "median_delay_days": med(delays("scan_delay")),
                 "alpha": args.scan_alpha, "window_days": args.window,
                 "days_scanned": sum(r["scan_days"] for r in runs),
                 "seconds": round(sum(r["scan_seconds"] for r in runs), 1)},
        "series_years": round(series_years, 1),
    }
    emit(result)


if __name__ == "__main__":
    main()
