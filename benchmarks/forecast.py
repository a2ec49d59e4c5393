"""Forecast back-test on the real Frontex monthly series: ours against the best open forecasters.

Data: ``../shared/data/frontex/ibc-monthly-2009-2020.csv`` (beside the repo),
read with ``interop.spreadsheets.read_indicators`` and summed per route over
border types and nationalities (``monthly_series(by=["route"])``; absent
months are 0). Every route is tested, none is tuned for.

Design (rolling origin). For every forecast origin T (the last month the model
sees) from 2013-12 to 2020-12 minus h, ``forecast(series[:T], horizon=6)``
is compared with the actual count at T + h for h = 1, 3, 6 months, so every
target lies in 2014-01 .. 2020-12 and is never seen by the model. Baselines from
the same origin, on the same training months:

- seasonal naive (the count 12 months before the target) and random walk (the
  count at T);
- statsforecast's ``AutoETS``, ``AutoARIMA`` and ``AutoTheta`` (season length
  12, their own automatic model selection, on the raw counts, negative
  forecasts raised to 0), and the **median ensemble** of the three (the median
  of their three point forecasts, month by month). They select and fit afresh
  at the first origin and every 12th after it, and in between the fitted
  models are brought up to date with the newer months (``forward``: the same
  model and parameters, its state run on to the origin), as
  ``StatsForecast.cross_validation(refit=12)`` does: AutoARIMA's order search
  takes seconds per fit, and 750 of them do not fit a routine run on 2 shared
  cores. Ours refits at every origin.

Scores per route and horizon:
- MASE = mean over origins of |actual - forecast| / scale, scale = the in-sample
  mean absolute seasonal-naive error of the training series (origins with a
  zero scale, i.e. a series flat at the same values year on year so far, are
  skipped); for ours and every baseline, and the ratios ``ours / seasonal
  naive`` and ``ours / random walk`` (< 1 = we beat it).
- coverage of our 80 % and 95 % intervals (share of actuals inside them).

Per route, each method's MASE is averaged over the three horizons. A route is
"best or tied" when ours is at most 1 % above the smallest of the baselines'
(``TIE``); ``share_routes_best_or_tied`` is the share of such routes. A route
"has MASE < 1 against both naive baselines" when its two naive ratios,
averaged over the three horizons, are both below 1. ``coverage80`` /
``coverage95`` pool all routes, horizons and origins.

    python benchmarks/forecast.py [--data PATH] [--first-origin 2013-12]

Last stdout line: ``{"routes": 9, "share_routes_best_or_tied": ..., "coverage80": ...,
"coverage95": ..., "per_route": {...}, ...}``.

The result is printed (by `_common.emit`) as one JSON object, the last line of stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
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
SEASON = 12
#: The open models select and fit afresh every REFIT origins (a year) and are brought up
#: to date with the newer months in between (``forward``); ours refits at every origin.
REFIT = 12
#: Ours counts as tied with the best baseline when its MASE is at most 1 % above it.
TIE = 1.01
NAIVE = ("snaive", "rw")
OPEN_MODELS = ("auto_ets", "auto_arima", "auto_theta")
ENSEMBLE = "median_ensemble"
BASELINES = (*NAIVE, *OPEN_MODELS, ENSEMBLE)


def open_forecasts(train: np.ndarray, horizon: int, fitted: dict[str, Any] | None
                   ) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
    """Point forecasts of AutoETS, AutoARIMA, AutoTheta and their median from ``train``.

    With ``fitted`` None each model selects and fits afresh on ``train``;
    otherwise the models fitted before are applied to ``train`` as it is now
    (statsforecast's ``forward``: the same model and parameters, its state
    updated with the newer months), as ``StatsForecast.cross_validation(refit=n)``
    does between refits. Returns the forecasts, the fitted models and the
    models that failed: a failure (none has on the Frontex series) falls back to
    the seasonal naive forecast and is counted, never hidden.
    """
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    n = len(train)
    snaive = np.array([train[n - SEASON + (h - 1) % SEASON] for h in range(1, horizon + 1)])
    models: dict[str, Any] = dict(fitted) if fitted else {
        "auto_ets": AutoETS(season_length=SEASON), "auto_arima": AutoARIMA(season_length=SEASON),
        "auto_theta": AutoTheta(season_length=SEASON)}
    out: dict[str, np.ndarray] = {}
    failed: list[str] = []
    for name in OPEN_MODELS:
        model = models[name]
        try:
            with warnings.catch_warnings():
                # AutoARIMA warns when an optimiser stops early on a candidate order;
                # its own selection then judges that candidate, as in R's auto.arima.
                warnings.simplefilter("ignore")
                if fitted:
                    result = model.forward(y=train, h=horizon)
                else:
                    result = model.fit(y=train).predict(h=horizon)
            mean = np.asarray(result["mean"], dtype=float)
            if mean.shape != (horizon,) or not np.isfinite(mean).all():
                raise ValueError(f"{name} gave {mean!r}")
            out[name] = np.maximum(mean, 0.0)
        except Exception as exc:  # counted and reported, see above
            log(f"{name} failed on {n} months: {exc}")
            failed.append(name)
            out[name] = snaive
    out[ENSEMBLE] = np.median(np.vstack([out[m] for m in OPEN_MODELS]), axis=0)
    return out, models, failed


def backtest_route(series: pd.Series, first_origin: pd.Period) -> dict[str, Any]:
    """Rolling-origin scores of one route's series: ours and every baseline."""
    max_h = max(HORIZONS)
    values = series.to_numpy(dtype=float)
    months = series.index
    start = int(months.get_indexer(pd.PeriodIndex([first_origin]))[0])
    if start < 0:
        raise SystemExit(f"first origin {first_origin} is outside the series {months[0]}..")
    started = time.perf_counter()
    methods = ("ours", *BASELINES)
    errors: dict[int, dict[str, list[float]]] = {h: {k: [] for k in methods} for h in HORIZONS}
    inside: dict[int, dict[float, list[bool]]] = {h: {lv: [] for lv in LEVELS} for h in HORIZONS}
    skipped = 0
    failed: dict[str, int] = {}
    fitted: dict[str, Any] | None = None
    failed_last = False
    for t in range(start, len(values) - 1):
        train = series.iloc[: t + 1]
        scale = float(np.mean(np.abs(values[SEASON : t + 1] - values[: t + 1 - SEASON])))
        if scale == 0.0:
            skipped += 1
            continue
        result = forecast(train, horizon=max_h, levels=LEVELS)
        refit = fitted is None or (t - start) % REFIT == 0 or failed_last
        others, fitted, failures = open_forecasts(values[: t + 1], max_h,
                                                  None if refit else fitted)
        failed_last = bool(failures)
        for name in failures:
            failed[name] = failed.get(name, 0) + 1
        for h in HORIZONS:
            if t + h >= len(values):
                continue
            actual = values[t + h]
            row = result.iloc[h - 1]
            point = {"ours": float(row["forecast"]), "snaive": values[t + h - SEASON],
                     "rw": values[t], **{k: float(v[h - 1]) for k, v in others.items()}}
            for name, value in point.items():
                errors[h][name].append(abs(actual - value) / scale)
            for lv in LEVELS:
                name = f"{lv * 100:g}"
                low, high = float(row[f"lower_{name}"]), float(row[f"upper_{name}"])
                inside[h][lv].append(low <= actual <= high)
    out: dict[str, Any] = {"total_detections": int(values.sum()), "skipped_origins": skipped,
                           "failed_fits": failed,
                           "seconds": round(time.perf_counter() - started, 1)}
    for h in HORIZONS:
        mase = {k: float(np.mean(errors[h][k])) for k in methods}
        ours, snaive, rw = mase["ours"], mase["snaive"], mase["rw"]
        out[f"h{h}"] = {
            "origins": len(errors[h]["ours"]),
            "mase": round(ours, 3),
            **{f"mase_{k}": round(mase[k], 3) for k in BASELINES},
            "ratio_snaive": round(ours / snaive, 3) if snaive > 0 else None,
            "ratio_rw": round(ours / rw, 3) if rw > 0 else None,
            "coverage80": round(float(np.mean(inside[h][0.8])), 3),
            "coverage95": round(float(np.mean(inside[h][0.95])), 3),
        }
    ratios_sn = [out[f"h{h}"]["ratio_snaive"] for h in HORIZONS]
    ratios_rw = [out[f"h{h}"]["ratio_rw"] for h in HORIZONS]
    out["mean_ratio_snaive"] = round(float(np.mean([r for r in ratios_sn if r is not None])), 3)
    out["mean_ratio_rw"] = round(float(np.mean([r for r in ratios_rw if r is not None])), 3)
    # Each method's MASE averaged over the horizons, and ours against the best baseline.
    mean_mase = {k: float(np.mean([np.mean(errors[h][k]) for h in HORIZONS if errors[h][k]]))
                 for k in methods}
    best = min(BASELINES, key=lambda k: mean_mase[k])
    out["mase_by_method"] = {k: round(v, 3) for k, v in mean_mase.items()}
    out["best_baseline"] = best
    out["ratio_best"] = round(mean_mase["ours"] / mean_mase[best], 3) if mean_mase[best] > 0 \
        else None
    out["best_or_tied"] = bool(mean_mase["ours"] <= TIE * mean_mase[best])
    out["_inside"] = inside
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--first-origin", default="2013-12")
    parser.add_argument("--jobs", type=int, default=2,
                        help="routes back-tested at once (one process each)")
    # Six origins, the last with a 6-month target: every route, model (one fit, then
    # forward) and horizon is still scored; AutoARIMA's order search takes seconds a fit.
    args = parse_args(parser, argv, smoke={"first_origin": "2020-06"})
    if not args.data.is_file():
        raise SystemExit(f"{args.data} is missing: the Frontex series (see docs/forecasting.md)")

    started = time.perf_counter()
    table, problems, _notes = read_indicators(args.data.read_bytes())
    log(f"read {len(table):,} rows from {args.data.name}; {len(problems)} problems")
    series_by_route = monthly_series(table, by=["route"], value="detections")
    first_origin = pd.Period(args.first_origin, freq="M")

    per_route: dict[str, Any] = {}
    pooled: dict[float, list[bool]] = {lv: [] for lv in LEVELS}
    routes = list(series_by_route)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(backtest_route, series_by_route[r], first_origin) for r in routes]
        done = [f.result() for f in futures]
    for route, scores in zip(routes, done, strict=True):
        for h in HORIZONS:
            for lv in LEVELS:
                pooled[lv].extend(scores["_inside"][h][lv])
        del scores["_inside"]
        per_route[str(route)] = scores
        log(f"{route}: ours/best ({scores['best_baseline']}) {scores['ratio_best']}, "
            f"ours/snaive {scores['mean_ratio_snaive']}, ours/rw {scores['mean_ratio_rw']}, "
            f"h1 cov80 {scores['h1']['coverage80']} ({scores['seconds']} s)")

    below = [r for r, s in per_route.items()
             if s["mean_ratio_snaive"] < 1 and s["mean_ratio_rw"] < 1]
    best_or_tied = [r for r, s in per_route.items() if s["best_or_tied"]]
    cells = [(s[f"h{h}"]["ratio_snaive"], s[f"h{h}"]["ratio_rw"])
             for s in per_route.values() for h in HORIZONS]
    cells_below = [a is not None and b is not None and a < 1 and b < 1 for a, b in cells]
    methods = ("ours", *BASELINES)
    result = {
        "routes": len(per_route),
        "share_routes_best_or_tied": round(len(best_or_tied) / len(per_route), 3),
        "routes_best_or_tied": best_or_tied,
        "coverage80": round(float(np.mean(pooled[0.8])), 3),
        "coverage95": round(float(np.mean(pooled[0.95])), 3),
        "share_routes_mase_below_1": round(len(below) / len(per_route), 3),
        "routes_mase_below_1": below,
        "share_route_horizons_mase_below_1": round(float(np.mean(cells_below)), 3),
        # Each method's MASE (mean of the three horizons) averaged over the routes.
        "mean_mase": {k: round(float(np.mean([s["mase_by_method"][k]
                                                for s in per_route.values()])), 3)
                      for k in methods},
        "failed_fits": {k: sum(s["failed_fits"].get(k, 0) for s in per_route.values())
                        for k in OPEN_MODELS},
        "horizons": list(HORIZONS),
        "first_origin": str(first_origin),
        "seconds": round(time.perf_counter() - started, 1),
        "per_route": per_route,
    }
    emit(result)  # the last stdout line: one json object


if __name__ == "__main__":
    main()
