"""Forecast back-test on the real Frontex monthly series: MASE against two baselines, coverage.

Data: ``../shared/data/frontex/ibc-monthly-2009-2020.csv`` (beside the repo),
read with ``interop.spreadsheets.read_indicators`` and summed per route over
border types and nationalities (``monthly_series(by=["route"])``; absent
months are 0). Every route is tested, none is tuned for.

Design (rolling origin). For every forecast origin T (the last month the model
sees) from 2013-12 to 2020-12 minus h, ``forecast(series[:T], horizon=6)``
is compared with the actual count at T + h for h = 1, 3, 6 months, so every
target lies in 2014-01 .. 2020-12 and is never seen by the model. Baselines from
the same origin: seasonal naive (the count 12 months before the target) and
random walk (the count at T).

Scores per route and horizon:
- MASE = mean over origins of |actual - forecast| / scale, scale = the in-sample
  mean absolute seasonal-naive error of the training series (origins with a
  zero scale, i.e. a series flat at the same values year on year so far, are
  skipped); computed for ours and both baselines, and the ratios
  ``ours / seasonal naive`` and ``ours / random walk`` (< 1 = we beat it).
- coverage of the 80 % and 95 % intervals (share of actuals inside them).

A route "has MASE < 1 against both baselines" when its two ratios, averaged
over the three horizons, are both below 1. ``coverage80`` / ``coverage95`` pool
all routes, horizons and origins.

    python benchmarks/forecast.py [--data PATH] [--first-origin 2013-12]

Last stdout line: ``{"routes": ..., "share_routes_mase_below_1": ..., ...}``.

The result is printed (by `_common.emit`) as one JSON object, the last line of stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _common import emit, log, parse_args  # noqa: E402

from sitcen.analysis.forecast import forecast  # noqa: E402
from sitcen.analysis.indicators import monthly_series  # noqa: E402
from sitcen.interop.spreadsheets import read_indicators  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "frontex" / "ibc-monthly-2009-2020.csv"
HORIZONS = (1, 3, 6)
LEVELS = (0.8, 0.95)


def backtest_route(series: pd.Series, first_origin: pd.Period) -> dict[str, Any]:
    """Rolling-origin scores of one route's series."""
    max_h = max(HORIZONS)
    values = series.to_numpy(dtype=float)
    months = series.index
    start = int(months.get_indexer(pd.PeriodIndex([first_origin]))[0])
    if start < 0:
        raise SystemExit(f"first origin {first_origin} is outside the series {months[0]}..")
    errors: dict[int, dict[str, list[float]]] = {
        h: {"ours": [], "snaive": [], "rw": []} for h in HORIZONS}
    inside: dict[int, dict[float, list[bool]]] = {h: {lv: [] for lv in LEVELS} for h in HORIZONS}
    skipped = 0
    for t in range(start, len(values) - 1):
        train = series.iloc[: t + 1]
        scale = float(np.mean(np.abs(values[12 : t + 1] - values[: t + 1 - 12])))
        if scale == 0.0:
            skipped += 1
            continue
        result = forecast(train, horizon=max_h, levels=LEVELS)
        for h in HORIZONS:
            if t + h >= len(values):
                continue
            actual = values[t + h]
            row = result.iloc[h - 1]
            errors[h]["ours"].append(abs(actual - float(row["forecast"])) / scale)
            errors[h]["snaive"].append(abs(actual - values[t + h - 12]) / scale)
            errors[h]["rw"].append(abs(actual - values[t]) / scale)
            for lv in LEVELS:
                name = f"{lv * 100:g}"
                low, high = float(row[f"lower_{name}"]), float(row[f"upper_{name}"])
                inside[h][lv].append(low <= actual <= high)
    out: dict[str, Any] = {"total_detections": int(values.sum()), "skipped_origins": skipped}
    for h in HORIZONS:
        ours, snaive, rw = (float(np.mean(errors[h][k])) for k in ("ours", "snaive", "rw"))
        out[f"h{h}"] = {
            "origins": len(errors[h]["ours"]),
            "mase": round(ours, 3),
            "mase_snaive": round(snaive, 3),
            "mase_rw": round(rw, 3),
            "ratio_snaive": round(ours / snaive, 3) if snaive > 0 else None,
            "ratio_rw": round(ours / rw, 3) if rw > 0 else None,
            "coverage80": round(float(np.mean(inside[h][0.8])), 3),
            "coverage95": round(float(np.mean(inside[h][0.95])), 3),
        }
    ratios_sn = [out[f"h{h}"]["ratio_snaive"] for h in HORIZONS]
    ratios_rw = [out[f"h{h}"]["ratio_rw"] for h in HORIZONS]
    out["mean_ratio_snaive"] = round(float(np.mean([r for r in ratios_sn if r is not None])), 3)
    out["mean_ratio_rw"] = round(float(np.mean([r for r in ratios_rw if r is not None])), 3)
    out["_inside"] = inside
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--first-origin", default="2013-12")
    args = parse_args(parser, argv, smoke={"first_origin": "2020-03"})
    if not args.data.is_file():
        raise SystemExit(f"{args.data} is missing: the Frontex series (see docs/forecasting.md)")

    started = time.perf_counter()
    table, problems, _notes = read_indicators(args.data.read_bytes())
    log(f"read {len(table):,} rows from {args.data.name}; {len(problems)} problems")
    series_by_route = monthly_series(table, by=["route"], value="detections")
    first_origin = pd.Period(args.first_origin, freq="M")

    per_route: dict[str, Any] = {}
    pooled: dict[float, list[bool]] = {lv: [] for lv in LEVELS}
    for route, series in series_by_route.items():
        route_started = time.perf_counter()
        scores = backtest_route(series, first_origin)
        for h in HORIZONS:
            for lv in LEVELS:
                pooled[lv].extend(scores["_inside"][h][lv])
        del scores["_inside"]
        per_route[str(route)] = scores
        log(f"{route}: ours/snaive {scores['mean_ratio_snaive']}, ours/rw "
            f"{scores['mean_ratio_rw']}, h1 cov80 {scores['h1']['coverage80']} "
            f"({time.perf_counter() - route_started:.1f} s)")

    below = [r for r, s in per_route.items()
             if s["mean_ratio_snaive"] < 1 and s["mean_ratio_rw"] < 1]
    cells = [(s[f"h{h}"]["ratio_snaive"], s[f"h{h}"]["ratio_rw"])
             for s in per_route.values() for h in HORIZONS]
    cells_below = [a is not None and b is not None and a < 1 and b < 1 for a, b in cells]
    result = {
        "routes": len(per_route),
        "share_routes_mase_below_1": round(len(below) / len(per_route), 3),
        "routes_mase_below_1": below,
        "share_route_horizons_mase_below_1": round(float(np.mean(cells_below)), 3),
        "coverage80": round(float(np.mean(pooled[0.8])), 3),
        "coverage95": round(float(np.mean(pooled[0.95])), 3),
        "horizons": list(HORIZONS),
        "first_origin": str(first_origin),
        "seconds": round(time.perf_counter() - started, 1),
        "per_route": per_route,
    }
    emit(result)  # the last stdout line: one json object


if __name__ == "__main__":
    main()
