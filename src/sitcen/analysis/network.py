"""Joint analysis of the network's monthly indicators at the hub (docs/network.md).

Pure functions on two tables the hub builds from the indicator records it holds:

- ``totals``: one row per country x month x indicator, columns ``country``,
  ``month`` (``YYYY-MM`` or a monthly Period), ``indicator``, ``total``;
- ``cells``: the breakdown values, columns ``country``, ``month``,
  ``indicator``, ``place``, ``nationality``, ``value`` (one breakdown level per
  indicator, the finest the hub was given).

From them: regional totals (:func:`regional_totals`), routes and their
changes with false-discovery control and displacement between countries
(:func:`route_table`, reusing :mod:`sitcen.analysis.flows`), forecasts with
intervals (:func:`regional_forecasts`, :mod:`sitcen.analysis.forecast`), the
**monthly alert** (:func:`monthly_alert`) and the quarterly or annual joint
statistical annex (:func:`joint_annex`). No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from sitcen.analysis.flows import INLAND, UNKNOWN, displacement, route_changes, route_matrix
from sitcen.analysis.forecast import forecast

#: The indicators whose persons, by nationality and place, make the network's routes.
ROUTE_INDICATORS: tuple[str, ...] = ("illegal_crossing_between_bcps", "illegal_crossing_at_bcps")
#: Months of history a series needs before the alert judges it against its forecast.
MIN_HISTORY = 24
#: The alert's forecast interval and false-discovery level.
LEVEL, ALPHA = 0.95, 0.05
#: Counts below which a route's change is not alerted (too few persons to mean much).
MIN_ROUTE_COUNT = 10.0
_REGION = "region"


def _months(values: pd.Series) -> pd.PeriodIndex:
    """Monthly periods of a column of ``YYYY-MM`` texts (or periods), each text parsed once."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(values, freq="M")
    codes, uniques = pd.factorize(values)
    return pd.PeriodIndex([str(u) for u in uniques], freq="M").take(codes)


def series_matrix(totals: pd.DataFrame) -> pd.DataFrame:
    """(country, indicator) x months of totals, with the region's sums as country ``region``.

    A month a country did not send stays NaN (unknown, not zero); the region's
    sum of a month is over the countries that sent it.
    """
    frame = totals.assign(month=_months(totals["month"]))
    wide = frame.pivot_table(index=["country", "indicator"], columns="month", values="total",
                             aggfunc="sum")
    if wide.empty:
        return wide
    columns = pd.period_range(wide.columns.min(), wide.columns.max(), freq="M")
    wide = wide.reindex(columns=columns)
    region = wide.groupby(level="indicator").sum(min_count=1)
    region.index = pd.MultiIndex.from_product([[_REGION], region.index],
                                              names=["country", "indicator"])
    return pd.concat([wide, region]).astype(float)


def regional_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """Months x indicators: the sum over the countries, and ``countries`` that sent each month."""
    frame = totals.assign(month=_months(totals["month"]))
    out = frame.pivot_table(index="month", columns="indicator", values="total", aggfunc="sum")
    out["countries"] = frame.groupby("month")["country"].nunique()
    return out


def route_table(cells: pd.DataFrame,
                indicators: Sequence[str] = ROUTE_INDICATORS) -> pd.DataFrame:
    """The persons of ``indicators`` as :func:`sitcen.analysis.flows.route_counts` gives them.

    A route is nationality -> place (section or crossing point) -> country of
    detection; a value without a place is ``inland``, without nationality ``XX``.
    """
    chosen = cells[cells["indicator"].isin(list(indicators))]
    frame = pd.DataFrame({
        "month": _months(chosen["month"]),
        "nationality": chosen["nationality"].fillna(UNKNOWN).astype(str).to_numpy(),
        "section_id": chosen["place"].fillna(INLAND).astype(str).to_numpy(),
        "area": chosen["country"].astype(str).to_numpy(),
        "count": chosen["value"].astype(float).to_numpy(),
    })
    keys = ["month", "nationality", "section_id", "area"]
    return frame.groupby(keys, sort=True)["count"].sum().reset_index()


def _outside(series: pd.Series, month: pd.Period, level: float) -> dict[str, Any] | None:
    """The forecast of ``month`` from the unbroken months before it, or None (too little)."""
    history = series[series.index < month]
    known = history.notna().to_numpy()
    if not len(known) or not known[-1]:
        return None
    gaps = np.flatnonzero(~known)
    run = history.iloc[gaps[-1] + 1:] if gaps.size else history
    observed = series.get(month)
    if len(run) < MIN_HISTORY or observed is None or pd.isna(observed):
        return None
    ahead = forecast(run, horizon=int((month - run.index[-1]).n), levels=(level,)).iloc[-1]
    name = f"{level * 100:g}"
    return {"observed": float(observed), "forecast": float(ahead["forecast"]),
            "lower": float(ahead[f"lower_{name}"]), "upper": float(ahead[f"upper_{name}"])}


def yoy_dispersion(matrix: pd.DataFrame, month: pd.Period, *, months: int = 12) -> float:
    """Negative-binomial phi of the rows of ``matrix``, by moments, from the ``months``
    months before ``month`` each against the same month a year earlier.

    Two counts with the same mean mu differ by E[(a - b)²] = 2 (mu + phi mu²), so
    phi = (sum (a - b)² / 2 - sum m) / sum m² with m = (a + b) / 2, over every row
    and pair (clipped to 0-5). Pairing a month with last year's cancels the
    season; leaving out ``month`` keeps a surge from widening its own test.
    """
    pairs = [(m, m - 12) for m in pd.period_range(month - months, month - 1, freq="M")]
    pairs = [(a, b) for a, b in pairs if a in matrix.columns and b in matrix.columns]
    if not pairs:
        return 0.0
    after = matrix[[a for a, _ in pairs]].to_numpy(float)
    before = matrix[[b for _, b in pairs]].to_numpy(float)
    keep = ~(np.isnan(after) | np.isnan(before))
    a, b = after[keep], before[keep]
    mean = (a + b) / 2
    denominator = float((mean**2).sum())
    if denominator <= 0:
        return 0.0
    return float(np.clip((((a - b) ** 2).sum() / 2 - mean.sum()) / denominator, 0.0, 5.0))


def monthly_alert(totals: pd.DataFrame, cells: pd.DataFrame, month: str, *,
                  level: float = LEVEL, alpha: float = ALPHA,
                  min_count: float = MIN_ROUTE_COUNT) -> dict[str, Any]:
    """The network's monthly alert for ``month``: what left its forecast or changed significantly.

    An **indicator** (a country's total, or the region's) is alerted when the
    month lies outside the ``level`` interval of the forecast made from the
    months before it **and** its change against the same month a year before
    is significant after false-discovery control over every series tested
    (Benjamini-Hochberg, ``alpha``; the dispersion from the year before's
    months, :func:`yoy_dispersion`). The forecast is seasonal, and the test
    compares with last year's month, so a seasonal peak the size of last
    year's is silent on both counts. A **route** (nationality -> place ->
    country) is alerted when its change against the same month a year before
    is significant (q < ``alpha`` over all routes) and it counts at least
    ``min_count`` persons in one of the two months. Each alert says which way
    it went, the figures and the forecast's interval.
    """
    target = pd.Period(month, freq="M")
    matrix = series_matrix(totals)
    indicators: list[dict[str, Any]] = []
    if not matrix.empty and target in matrix.columns and (target - 12) in matrix.columns:
        window = matrix.loc[:, :target].fillna(0.0)
        changes = route_changes(window, months=1, compare="year_before",
                                dispersion=yoy_dispersion(matrix, target))
        for key, row in changes.iterrows():
            if row["q"] >= alpha:
                continue
            country, indicator = cast(tuple[str, str], key)
            found = _outside(matrix.loc[[key]].iloc[0], target, level)
            if found is None or found["lower"] <= found["observed"] <= found["upper"]:
                continue
            indicators.append({
                "country": country, "indicator": indicator,
                "direction": "up" if found["observed"] > found["upper"] else "down",
                **found, "year_before": float(row["before"]), "ratio": float(row["ratio"]),
                "q": float(row["q"])})
    routes: list[dict[str, Any]] = []
    table = route_table(cells)
    if not table.empty:
        counts = route_matrix(table, first=target - 24, last=target)
        changes = route_changes(counts, months=1, compare="year_before",
                                dispersion=yoy_dispersion(counts, target))
        hits = changes[(changes["q"] < alpha)
                       & (changes[["before", "after"]].max(axis=1) >= min_count)]
        for key, row in hits.iterrows():
            nationality, place, country = cast(tuple[str, str, str], key)
            routes.append({"nationality": nationality, "place": place, "country": country,
                           "direction": "up" if row["ratio"] > 1 else "down",
                           "year_before": float(row["before"]), "observed": float(row["after"]),
                           "ratio": float(row["ratio"]), "q": float(row["q"])})
    indicators.sort(key=lambda a: (a["q"], a["country"], a["indicator"]))
    routes.sort(key=lambda a: (a["q"], -a["observed"]))
    return {"month": str(target), "level": level, "alpha": alpha,
            "indicators": indicators, "routes": routes,
            "fired": bool(indicators or routes)}


def regional_forecasts(totals: pd.DataFrame, *, horizon: int = 3,
                       levels: Sequence[float] = (0.8, 0.95)) -> dict[str, list[dict[str, Any]]]:
    """Per indicator, the region's total forecast ``horizon`` months ahead with intervals.

    Indicators with fewer than 12 months of regional totals get none.
    """
    region = regional_totals(totals).drop(columns="countries")
    out: dict[str, list[dict[str, Any]]] = {}
    for indicator in region.columns:
        series = region[indicator].dropna()
        if len(series) < 12:
            continue
        frame = forecast(series, horizon=horizon, levels=levels)
        out[str(indicator)] = [{"month": str(m), **{str(k): float(v) for k, v in row.items()}}
                               for m, row in frame.iterrows()]
    return out


def route_displacement(cells: pd.DataFrame, month: str, *, months: int = 3,
                       alpha: float = ALPHA) -> list[dict[str, Any]]:
    """Pairs of routes where one fell and a related one rose (:func:`flows.displacement`)."""
    table = route_table(cells)
    if table.empty:
        return []
    pairs = displacement(table, month=month, months=months, alpha=alpha)
    return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in pairs.to_dict("records")]


def _period_months(period: str) -> pd.PeriodIndex:
    if "Q" in period:
        quarter = pd.Period(period, freq="Q")
        return pd.period_range(quarter.asfreq("M", "start"), quarter.asfreq("M", "end"), freq="M")
    year = pd.Period(period, freq="Y")
    return pd.period_range(year.asfreq("M", "start"), year.asfreq("M", "end"), freq="M")


def joint_annex(totals: pd.DataFrame, period: str) -> dict[str, Any]:
    """The joint statistical annex of a quarter (``2026Q1``) or a year (``2026``).

    Per indicator: each country's total over the period and the same period a
    year before, the change, the region's sum, and how many of the period's
    months each country sent (a total over fewer months is marked incomplete).
    """
    months = _period_months(period)
    before = months - 12
    frame = totals.assign(month=_months(totals["month"]))
    rows: list[dict[str, Any]] = []
    for (indicator, country), group in frame.groupby(["indicator", "country"], sort=True):
        now = group[group["month"].isin(months)]
        then = group[group["month"].isin(before)]
        total, previous = float(now["total"].sum()), float(then["total"].sum())
        rows.append({"indicator": indicator, "country": country, "total": total,
                     "year_before": previous,
                     "change_pct": None if previous == 0 else
                     round(100.0 * (total - previous) / previous, 1),
                     "months_sent": int(now["month"].nunique()),
                     "complete": int(now["month"].nunique()) == len(months)})
    region: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = region.setdefault(row["indicator"], {"total": 0.0, "year_before": 0.0,
                                                     "complete": True})
        entry["total"] += row["total"]
        entry["year_before"] += row["year_before"]
        entry["complete"] = entry["complete"] and row["complete"]
    for entry in region.values():
        previous = entry["year_before"]
        entry["change_pct"] = None if previous == 0 else round(
            100.0 * (entry["total"] - previous) / previous, 1)
    return {"period": period, "first": str(months[0]), "last": str(months[-1]),
            "countries": rows, "region": region}


def joint_analysis(totals: pd.DataFrame, cells: pd.DataFrame, month: str) -> dict[str, Any]:
    """The hub's monthly analysis: regional totals of the month, the alert, the forecasts,
    displacement between routes."""
    region = regional_totals(totals)
    target = pd.Period(month, freq="M")
    this = region.loc[[target]].iloc[0] if target in region.index else None
    known = totals.assign(month=_months(totals["month"]))
    known = known[known["month"] <= target]
    return {
        "month": str(target),
        "regional_totals": {} if this is None else {
            str(k): float(v) for k, v in this.items() if k != "countries" and pd.notna(v)},
        "countries_reporting": 0 if this is None else int(this["countries"]),
        "alert": monthly_alert(totals, cells, month),
        "forecasts": regional_forecasts(known),
        "displacement": route_displacement(cells, month),
    }


__all__ = [
    "ROUTE_INDICATORS",
    "joint_analysis",
    "joint_annex",
    "monthly_alert",
    "regional_forecasts",
    "regional_totals",
    "route_displacement",
    "route_table",
    "series_matrix",
    "yoy_dispersion",
]
