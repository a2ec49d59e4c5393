"""Early warning against planted truth: recall, false alerts per section-year, detection delay.

For each seed, ``generate(years, seed=...)`` (3 years, ~140,000 events, 411
sections; 4 category and 18 type series per section, 9,042 series):

1. **Charts** (``analysis.early_warning.monitor``): NB CUSUM per section x
   category, NB CUSUM and spike test per section x type, over the whole
   history at once. Prospective by construction (day t uses counts up to t
   only; ``tests/test_early_warning.py::test_chart_is_prospective``), so this
   equals running them day by day.
2. **Scan** (``analysis.scan``): one prospective scan per category per scanned
   day over the last ``--window`` days (cylinders up to 7 days and 10 km, 999
   replicates, sequential early stop once p > 0.01), clusters with p <=
   ``--scan-alpha`` become signals. Scanning all 1,096 days x 4 categories is
   too slow for a routine run on 2 cores, so the scan runs on (a) every day
   from one day before to one day after each planted anomaly / cluster
   (recall, delay) and (b) ``--null-days`` random other days (false alerts,
   extrapolated to all days).
3. **Alerts** (``analysis.alerts.fuse``): the signals of a section whose days
   lie at most ``--merge-gap`` days apart become one alert.

Scoring. Truth = the planted anomalies and space-time clusters. Trend shifts
are not scored for recall, and signals of their rising section's category after
their start are not false. A truth entry is detected by an alert holding a
signal of its section and of its type, its category, or (scan) mostly its
planted events, raised between its start and one day after its end; delay =
that signal's day - start day. A false alert holds no signal matching a truth
entry. Rates are per section-year (411 sections x years charted: what one
section's duty officer sees over all categories, types and the scan).

    python benchmarks/early_warning.py [--seeds 1,2,3] [--years 3] [--null-days 40]
    python benchmarks/early_warning.py --null --seeds 101,102   # in-control calibration
    python benchmarks/early_warning.py --no-scan --budget 8     # charts only, another budget

Last stdout line: ``{"recall": ..., "false_alarms_per_section_year": ...,
"median_delay_days": ...}``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd
from _common import emit, log, parse_args

from sitcen.analysis import alerts as al
from sitcen.analysis import early_warning as ew
from sitcen.analysis.scan import space_time_scan
from sitcen.demo.scenario import generate
from sitcen.geo import project
from sitcen.taxonomy import category_of

_DAY_US = 86_400 * 1_000_000


def _day(iso: str, start_us: int) -> int:
    return int((pd.Timestamp(iso).value // 1000 - start_us) // _DAY_US)


def _days(values: pd.Series, first: pd.Timestamp) -> np.ndarray:
    return np.asarray((pd.to_datetime(values) - first).dt.days, dtype=np.int64)


def run_seed(seed: int, args: argparse.Namespace, settings: ew.WarningSettings) -> dict[str, Any]:
    s = generate(args.years, seed=seed, anomalies=not args.null)
    n_days = int((s.end_us - s.start_us) // _DAY_US)
    first = pd.Timestamp(s.start_us, unit="us")
    sec_names = np.array([*s.section_ids, ""], dtype=object)[s.section]
    types = np.array(s.types, dtype=object)
    cat_of_type = np.array([category_of(t).value for t in s.types], dtype=object)
    events = pd.DataFrame({"id": np.arange(len(s)), "occurred_at": s.occurred_at,
                           "section_id": np.where(s.section >= 0, sec_names,
                                                  np.array(None, dtype=object)),
                           "type": types[s.type], "category": cat_of_type[s.type]})
    t0 = time.perf_counter()
    chart_signals = ew.monitor(events, start=first, end=pd.Timestamp(s.end_us, unit="us"),
                               section_ids=s.section_ids, settings=settings)
    chart_s = time.perf_counter() - t0
    warm = settings.baseline.guard_days + settings.baseline.min_history_days
    years_charted = (n_days - warm) / 365.25
    log(f"seed {seed}: {len(s)} events, charts {chart_s:.1f} s, {len(chart_signals)} signals")
    truth = s.truth_json()
    scored = [t for t in truth if t["kind"] in ("anomaly", "cluster")]
    # ---- scan on the planted windows and a random sample of other days
    x, y = project(s.lon, s.lat)
    day = (s.occurred_at - s.start_us) // _DAY_US
    window = args.window
    rng = np.random.default_rng(seed)
    truth_days: set[int] = set()
    for t in scored:
        truth_days |= set(range(_day(t["start"], s.start_us) - 1, _day(t["end"], s.start_us) + 1))
    others = np.setdiff1d(np.arange(window, n_days), np.array(sorted(truth_days), dtype=int))
    null_sample = set(rng.choice(others, min(args.null_days, others.size),
                                 replace=False).tolist())
    scan_days = [] if args.no_scan else sorted(
        d for d in truth_days | null_sample if window <= d < n_days)
    t0 = time.perf_counter()
    frames = []
    for i, d in enumerate(scan_days):
        lo, hi = np.searchsorted(day, [d - window + 1, d + 1])
        for cat in sorted(set(cat_of_type)):
            sel = np.flatnonzero(cat_of_type[s.type[lo:hi]] == cat) + lo
            if sel.size < 10:
                continue
            res = space_time_scan(x[sel], y[sel], day[sel], max_radius_km=10, max_days=7,
                                  replicates=999, seed=d, batch=25, stop_above=0.01)
            frames.append(al.scan_signals(
                res, day=first + pd.Timedelta(days=d), label=cat, alpha=args.scan_alpha,
                section_ids=events["section_id"].to_numpy()[sel].tolist(),
                event_ids=sel.tolist(), types=types[s.type[sel]].tolist()))
        if i % 25 == 0:
            log(f"seed {seed}: scan day {i + 1}/{len(scan_days)}")
    scan_s = time.perf_counter() - t0
    found = [f for f in frames if len(f)]
    scan_signals = (pd.concat(found, ignore_index=True) if found
                    else pd.DataFrame(columns=[*ew.SIGNAL_COLUMNS, "event_ids"]))
    signals = pd.concat([chart_signals.assign(event_ids=None), scan_signals], ignore_index=True)
    # The day each signal was raised (a scan signal's first and last day are its scan day).
    signals["alarm_day"] = _days(signals["first_day"], first)
    t0 = time.perf_counter()
    alerts = al.fuse(signals, events, merge_gap_days=args.merge_gap)
    fuse_s = time.perf_counter() - t0
    # ---- match signals to truth
    planted = s.planted
    match = np.full(len(signals), -1)
    explained = np.zeros(len(signals), dtype=bool)
    for t in truth:
        d0, d1 = _day(t["start"], s.start_us), _day(t["end"], s.start_us)
        cat = category_of(t["type"]).value
        same_sec = (signals["section_id"] == t["section_id"]).to_numpy()
        same_cat = (signals["category"] == cat).to_numpy()
        if t["kind"] == "trend_shift":
            explained |= same_sec & same_cat & (signals["alarm_day"] >= d0).to_numpy()
            continue
        same_series = same_sec & np.where((signals["level"] == "type").to_numpy(),
                                          (signals["type"] == t["type"]).to_numpy(), same_cat)
        mostly_planted = np.array([
            isinstance(ids, tuple) and len(ids) > 0
            and float(np.mean(planted[np.array(ids)] == t["id"])) >= 0.5
            for ids in signals["event_ids"]])
        in_time = ((signals["alarm_day"] >= d0) & (signals["alarm_day"] <= d1)).to_numpy()
        hit = (same_series | mostly_planted) & in_time & (match < 0)
        match[hit] = t["id"]
    explained |= match >= 0
    # ---- alerts: which signals each holds (episodes partition a section's signals in time)
    per_section = {sec: g for sec, g in signals.groupby("section_id")}
    delays: dict[str, dict[int, int]] = {"fused": {}, "type": {}, "category": {}, "scan": {}}
    false_chart, false_scan_null, false_scan_other = 0, 0, 0
    severities: dict[str, int] = {}
    true_severities: dict[str, int] = {}
    for a in alerts:
        g = per_section[a.section_id]
        d_a, d_b = (pd.Timestamp(a.first_day) - first).days, (pd.Timestamp(a.last_day) - first).days
        inside = g[(g["alarm_day"] >= d_a) & (g["alarm_day"] <= d_b)]
        idx = inside.index.to_numpy()
        if (match[idx] >= 0).any():
            true_severities[a.severity] = true_severities.get(a.severity, 0) + 1
        if not explained[idx].any():
            severities[a.severity] = severities.get(a.severity, 0) + 1
            if (inside["level"] != "scan").any():
                false_chart += 1
            elif inside["alarm_day"].isin(null_sample).any():
                false_scan_null += 1
            else:
                false_scan_other += 1
        for j in idx[match[idx] >= 0]:
            k, dd = int(match[j]), int(signals["alarm_day"][j]) - _day(
                truth[int(match[j])]["start"], s.start_us)
            for key in ("fused", str(signals.at[j, "level"])):
                delays[key][k] = min(delays[key].get(k, dd), dd)
    scannable = n_days - window
    scan_false = false_scan_null * scannable / max(len(null_sample), 1)
    missed = [t["id"] for t in scored if t["id"] not in delays["fused"]]
    log(f"seed {seed}: {len(alerts)} alerts, {false_chart} false from charts, "
        f"{false_scan_null} scan-only false on {len(null_sample)} sampled days; "
        f"missed {missed}; delays {delays['fused']}")
    return {
        "seed": seed, "events": len(s), "truth": len(scored), "sections": len(s.section_ids),
        "years_charted": years_charted, "alerts": len(alerts), "signals": len(signals),
        "false_chart": false_chart, "false_scan": scan_false,
        "false_scan_other_days": false_scan_other, "false_severity": severities,
        "true_severity": true_severities,
        "delays": delays, "chart_seconds": chart_s, "scan_seconds": scan_s,
        "fuse_seconds": fuse_s, "scan_days": len(scan_days), "missed": missed,
        "clusters": [t["id"] for t in scored if t["kind"] == "cluster"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--window", type=int, default=28, help="scan window (days)")
    parser.add_argument("--null-days", type=int, default=40)
    parser.add_argument("--scan-alpha", type=float, default=0.002)
    parser.add_argument("--merge-gap", type=int, default=2,
                        help="days between signals of one alert")
    defaults = ew.WarningSettings()
    parser.add_argument("--budget", type=float, default=defaults.false_alarms_per_section_year,
                        help="nominal false alarms per section-year shared by the charts")
    parser.add_argument("--type-shift", type=float, default=defaults.type_shift)
    parser.add_argument("--null", action="store_true",
                        help="in-control run: scenario without planted anomalies")
    parser.add_argument("--no-scan", action="store_true", help="charts only (fast)")
    # The scan's smoke run is risk.py's (and tests/test_scan.py's).
    args = parse_args(parser, argv, smoke={"seeds": "1", "years": 1.5, "no_scan": True})
    settings = ew.WarningSettings(false_alarms_per_section_year=args.budget,
                                  type_shift=args.type_shift)
    runs = [run_seed(int(v), args, settings) for v in args.seeds.split(",")]
    truth = sum(r["truth"] for r in runs)
    section_years = sum(r["sections"] * r["years_charted"] for r in runs)
    false_chart = sum(r["false_chart"] for r in runs)
    false_scan = sum(r["false_scan"] for r in runs)

    def delays(key: str) -> list[int]:
        return [v for r in runs for v in r["delays"][key].values()]

    def med(values: list[int]) -> float | None:
        return float(statistics.median(values)) if values else None

    def recall(key: str) -> float | None:
        return round(len(delays(key)) / truth, 3) if truth else None

    clusters = sum(len(r["clusters"]) for r in runs)
    scan_cluster_hits = sum(len(set(r["delays"]["scan"]) & set(r["clusters"])) for r in runs)
    def tally(key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in runs:
            for k, v in r[key].items():
                out[k] = out.get(k, 0) + v
        return {k: out[k] for k in al.SEVERITIES if k in out}

    fused = delays("fused")
    result = {
        "recall": recall("fused"),
        "false_alarms_per_section_year": round((false_chart + false_scan) / section_years, 3),
        "median_delay_days": med(fused),
        "share_detected_within_1_day": round(sum(d <= 1 for d in fused) / truth, 3)
        if truth else None,
        "truth_entries": truth, "seeds": len(runs), "null_scenario": args.null,
        "section_years": round(section_years, 1),
        "alerts": sum(r["alerts"] for r in runs),
        "false_alerts": {"with_chart_signals": false_chart,
                         "scan_only_extrapolated": round(false_scan, 1),
                         "by_severity": tally("false_severity")},
        "alerts_on_planted_truth_by_severity": tally("true_severity"),
        "type_charts": {"recall": recall("type"), "median_delay_days": med(delays("type"))},
        "category_charts": {"recall": recall("category"),
                            "median_delay_days": med(delays("category"))},
        "scan": {"recall_clusters": round(scan_cluster_hits / clusters, 3) if clusters else None,
                 "recall_all": recall("scan"), "median_delay_days": med(delays("scan")),
                 "alpha": args.scan_alpha, "window_days": args.window,
                 "days_scanned": sum(r["scan_days"] for r in runs),
                 "seconds": round(sum(r["scan_seconds"] for r in runs), 1)},
        "settings": {"budget": args.budget, "type_shift": args.type_shift, "scan": not args.no_scan,
                     "category_shift": settings.category_shift, "merge_gap_days": args.merge_gap},
        "missed": {r["seed"]: r["missed"] for r in runs},
        "chart_seconds_per_run": round(statistics.mean(r["chart_seconds"] for r in runs), 1),
    }
    emit(result)


if __name__ == "__main__":
    main()
