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
import dataclasses
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

import _outbreak as ob
import numpy as np
import pandas as pd
from _common import emit, log, parse_args

from sitcen.analysis import alerts as al
from sitcen.analysis import early_warning as ew
from sitcen.analysis.scan import space_time_scan
from sitcen.demo.scenario import (
    ARMED_INCIDENT_SHAPE,
    BACKGROUND_SHAPE,
    TYPES,
    background_rates,
    generate,
)
from sitcen.geo import project
from sitcen.taxonomy import category_of

_DAY_US = 86_400 * 1_000_000
BASELINES = ("ears_c1", "ears_c2", "ears_c3", "farrington")
#: Farrington needs one earlier year of references: entries that start before this day
#: are reported apart (``recall_after_first_year``).
FIRST_YEAR_DAYS = round(ob.YEAR_DAYS) + ob.FARRINGTON_HALF_WIDTH


def _day(iso: str, start_us: int) -> int:
    return int((pd.Timestamp(iso).value // 1000 - start_us) // _DAY_US)


def _days(values: pd.Series, first: pd.Timestamp) -> np.ndarray:
    return np.asarray((pd.to_datetime(values) - first).dt.days, dtype=np.int64)


def match_truth(signals: pd.DataFrame, truth: list[dict[str, Any]], planted: np.ndarray,
                start_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Which truth entry each signal found (-1: none), and which signals are explained.

    A signal finds an anomaly or cluster when it is of its section and of its
    type (a type signal), its category (a category signal) or (a scan signal)
    made mostly of its planted events, and was raised between its start and one
    day after its end; each signal counts for the first entry it finds.
    Signals of a trend shift's section and category after its start are
    explained too (not false), but do not count as detections.
    """
    match = np.full(len(signals), -1)
    explained = np.zeros(len(signals), dtype=bool)
    event_ids = signals["event_ids"] if "event_ids" in signals else pd.Series(
        [None] * len(signals), dtype=object)
    for t in truth:
        d0, d1 = _day(t["start"], start_us), _day(t["end"], start_us)
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
            for ids in event_ids], dtype=bool)
        in_time = ((signals["alarm_day"] >= d0) & (signals["alarm_day"] <= d1)).to_numpy()
        hit = (same_series | mostly_planted) & in_time & (match < 0)
        match[hit] = t["id"]
    explained |= match >= 0
    return match, explained


@dataclass
class Candidates:
    """The (series, day) cells of one seed where any detector may alarm, and their scores.

    A cell qualifies under the rule ours applies before any alarm (an event on
    the day and ``min_events`` in the last ``min_events_days`` days) and after
    ours' warm-up, so that every method watches the same days; the rule spares
    the baselines alarms on one or two events in a quiet series.
    """

    rows: np.ndarray  # series index of each cell (sorted by series, then day)
    days: np.ndarray
    section: np.ndarray  # per series
    key: np.ndarray
    category: np.ndarray
    scores: dict[str, np.ndarray]  # per method, one per cell (nan: cannot score)
    truth: list[dict[str, Any]]
    planted: np.ndarray
    start_us: int


def candidates(s: Any, events: pd.DataFrame, first: pd.Timestamp, settings: ew.WarningSettings,
               args: argparse.Namespace) -> Candidates:
    """Score every candidate cell of the type series with each baseline and the oracle."""
    series = ew.daily_counts(events, start=first, end=pd.Timestamp(s.end_us, unit="us"),
                             section_ids=s.section_ids, by="type", keys=ew.TYPES)
    counts = series.counts
    n_days = counts.shape[1]
    cum = np.zeros((counts.shape[0], n_days + 1), dtype=np.int64)
    np.cumsum(counts, axis=1, out=cum[:, 1:])
    t = np.arange(n_days)
    recent = cum[:, t + 1] - cum[:, np.maximum(t + 1 - settings.min_events_days, 0)]
    warm = settings.baseline.guard_days + settings.baseline.min_history_days
    may = (counts > 0) & (recent >= settings.min_events) & (t >= warm)[None, :]
    rows, days = np.nonzero(may)
    scores = {f"ears_{m.lower()}": ob.ears(counts, m)[rows, days] for m in ("C1", "C2", "C3")}
    scores["farrington"] = ob.farrington(counts, (rows, days))
    # The oracle: the rates the scenario drew its background from, per series and day.
    lam = background_rates(args.years, seed=s.seed, anomalies=not args.null)
    n_sec, n_keys = len(s.section_ids), len(ew.TYPES)
    mean = np.zeros((n_sec, n_keys, n_days))
    phi = np.zeros(n_keys)
    for k, key in enumerate(ew.TYPES):
        if key in TYPES:
            mean[:, k, :] = lam[:, :n_days, TYPES.index(key)]
            shape = ARMED_INCIDENT_SHAPE if key == "armed_incident" else BACKGROUND_SHAPE
            phi[k] = 1.0 / shape
    scores["oracle"] = ob.oracle(counts, mean.reshape(n_sec * n_keys, n_days),
                                 np.tile(phi, n_sec), (rows, days))
    keys = np.array(series.keys, dtype=object)
    return Candidates(rows, days, np.array(series.section_ids, dtype=object), keys,
                      np.array([category_of(k).value for k in keys], dtype=object), scores,
                      s.truth_json(), s.planted, s.start_us)


def false_alerts(signals: pd.DataFrame, explained: np.ndarray, merge_gap: int) -> int:
    """Alerts with no explained signal, the signals grouped as ``alerts.fuse`` groups them.

    Per section, in order of first day, a signal joins the open episode when its
    evidence (``days`` back from its last day, at most a week before it warned)
    begins at most ``merge_gap`` days after the episode's last day.
    """
    if not len(signals):
        return 0
    first = signals["alarm_day"].to_numpy().astype(np.int64)
    frame = pd.DataFrame({"sec": signals["section_id"].astype(str).to_numpy(), "first": first,
                          "explained": explained})
    if "days" in signals:  # ours: dates, and the days the evidence covers
        frame["last"] = first + _days(signals["last_day"], pd.Timestamp(0)) - _days(
            signals["first_day"], pd.Timestamp(0))
        span = frame["last"].to_numpy() - signals["days"].to_numpy().astype(np.int64) + 1
        frame["since"] = np.maximum(np.minimum(first, span),
                                    first - al.EVIDENCE_LOOKBACK_DAYS)
    else:  # baseline signals: day numbers, the evidence starts on the first day
        frame["last"] = signals["last_day"].to_numpy()
        frame["since"] = first
    frame = frame.sort_values(["sec", "first", "last"], kind="stable")
    previous = frame.groupby("sec")["last"].cummax().groupby(frame["sec"]).shift()
    episode = (previous.isna() | (frame["since"] > previous + merge_gap)).cumsum()
    return int((~frame.groupby(episode)["explained"].any()).sum())


def evaluate(c: Candidates, method: str, threshold: float,
             merge_gap: int) -> tuple[dict[int, int], int]:
    """Detections (truth id -> delay in days) and false alerts of one method at a threshold."""
    with np.errstate(invalid="ignore"):
        sel = c.scores[method] > threshold
    rows, days = c.rows[sel], c.days[sel]
    if rows.size == 0:
        return {}, 0
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]) | (days[1:] != days[:-1] + 1)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], rows.size) - 1
    r = rows[starts]
    signals = pd.DataFrame({"section_id": c.section[r], "level": "type", "type": c.key[r],
                            "category": c.category[r], "alarm_day": days[starts],
                            "last_day": days[ends]})
    match, explained = match_truth(signals, c.truth, c.planted, c.start_us)
    detected: dict[int, int] = {}
    for j in np.flatnonzero(match >= 0):
        k = int(match[j])
        delay = int(days[starts[j]]) - _day(c.truth[k]["start"], c.start_us)
        detected[k] = min(detected.get(k, delay), delay)
    return detected, false_alerts(signals, explained, merge_gap)


def tune(cands: list[Candidates], method: str, most_false: float,
         merge_gap: int) -> tuple[float, list[dict[int, int]], int]:
    """The lowest threshold whose false alerts over all seeds are at most ``most_false``.

    Bisection over the method's distinct scores (false alerts fall as the
    threshold rises). Returns the threshold, the detections per seed and the
    false alerts.
    """
    pooled = np.concatenate([c.scores[method] for c in cands])
    values = np.unique(pooled[np.isfinite(pooled)])
    if values.size == 0:
        return math.inf, [{} for _ in cands], 0

    def run(i: int) -> tuple[list[dict[int, int]], int]:
        found = [evaluate(c, method, float(values[i]), merge_gap) for c in cands]
        return [f[0] for f in found], sum(f[1] for f in found)

    lo, hi = 0, values.size - 1  # at values[-1] nothing scores above: no alarm at all
    best = run(hi)
    if run(lo)[1] <= most_false:
        hi = lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        found = run(mid)
        if found[1] <= most_false:
            hi, best = mid, found
        else:
            lo = mid
    if hi == 0:
        best = run(0)
    return float(values[hi]), best[0], best[1]


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
    match, explained = match_truth(signals, truth, s.planted, s.start_us)
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
        "first_year": [t["id"] for t in scored
                       if _day(t["start"], s.start_us) < FIRST_YEAR_DAYS],
        "ours_false_check": false_alerts(signals, explained, args.merge_gap),
        "_candidates": candidates(s, events, first, settings, args),
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
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="another WarningSettings field, e.g. --set spike_shared=true "
                             "--set type_spike_share=0.5 (repeatable)")
    parser.add_argument("--null", action="store_true",
                        help="in-control run: scenario without planted anomalies")
    parser.add_argument("--no-scan", action="store_true", help="charts only (fast)")
    # The scan's smoke run is risk.py's (and tests/test_scan.py's).
    args = parse_args(parser, argv, smoke={"seeds": "1", "years": 1.5, "no_scan": True})
    settings = ew.WarningSettings(false_alarms_per_section_year=args.budget,
                                  type_shift=args.type_shift, **settings_fields(args.set))
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
    comparison = compare(runs, truth, false_chart + false_scan, args.merge_gap)
    after_first_year = sum(r["truth"] - len(r["first_year"]) for r in runs)
    result = {
        "recall": recall("fused"),
        **comparison,
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
                     **settings_fields(args.set),
                     "category_shift": settings.category_shift, "merge_gap_days": args.merge_gap},
        "missed": {r["seed"]: r["missed"] for r in runs},
        "chart_seconds_per_run": round(statistics.mean(r["chart_seconds"] for r in runs), 1),
        "recall_after_first_year": round(sum(
            k not in r["first_year"] for r in runs for k in r["delays"]["fused"])
            / after_first_year, 3) if after_first_year else None,
        "false_alerts_recounted": sum(r["ours_false_check"] for r in runs),
    }
    emit(result)


def settings_fields(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs as WarningSettings fields, each VALUE read as its field's type."""
    fields = {f.name: f for f in dataclasses.fields(ew.WarningSettings)}
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or name not in fields or name == "baseline":
            raise SystemExit(f"--set {pair}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(n for n in fields if n != 'baseline')}")
        kind = str(fields[name].type)
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise SystemExit(f"--set {pair}: {name} is true or false")
            out[name] = text.lower() == "true"
        elif kind.startswith("int"):
            out[name] = None if text.lower() == "none" else int(text)
        else:
            out[name] = float(text)
    return out


def compare(runs: list[dict[str, Any]], truth: int, ours_false: float,
            merge_gap: int) -> dict[str, Any]:
    """Each baseline and the oracle tuned to ours' false alerts: recall, delay, threshold."""
    cands: list[Candidates] = [r.pop("_candidates") for r in runs]
    if not truth:  # the in-control run: nothing to find, nothing to compare
        return {"baselines": None, "oracle_recall": None, "methods": None}
    first_year = {(i, k) for i, r in enumerate(runs) for k in r["first_year"]}
    later = truth - len(first_year)
    methods: dict[str, Any] = {}
    for method in (*BASELINES, "oracle"):
        t0 = time.perf_counter()
        threshold, found, false = tune(cands, method, ours_false, merge_gap)
        delays = [d for f in found for d in f.values()]
        hits_later = sum((i, k) not in first_year for i, f in enumerate(found) for k in f)
        methods[method] = {
            "recall": round(len(delays) / truth, 3),
            "median_delay_days": float(statistics.median(delays)) if delays else None,
            "false_alerts": false, "threshold": round(threshold, 3),
            "recall_after_first_year": round(hits_later / later, 3) if later else None,
        }
        log(f"{method}: {methods[method]} ({time.perf_counter() - t0:.1f} s)")
    best = max(BASELINES, key=lambda m: methods[m]["recall"])
    return {
        "baselines": {m: methods[m]["recall"] for m in BASELINES},
        "oracle_recall": methods["oracle"]["recall"],
        "best_baseline": best,
        "methods": methods,
    }


if __name__ == "__main__":
    main()
