"""Routes (nationality -> section of entry -> area of detection) and displacement between them.

A **route** is a (nationality, section of entry, area of detection) triple;
its monthly count is the persons (or events) seen on it. **Displacement** is
one route falling significantly while a related route rises in the same
months: the same nationality elsewhere, or a neighbouring section. Each pair
comes with effect sizes: how much fell, how much rose, how much of the fall
the rise takes up, and a test of the shift of shares between the two routes
that cancels a season they share. docs/risk.md gives the formulas. Pure
functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from sitcen.analysis.event_table import micros, months_of_micros
from sitcen.analysis.threat import MonthLike, month_ordinal

F64 = npt.NDArray[np.float64]

ROUTE = ["nationality", "section_id", "area"]
INLAND = "inland"  # section of entry of events on no section
UNKNOWN = "XX"  # nationality or area not known


def route_counts(events: pd.DataFrame, *, weight: str = "persons",
                 area_column: str = "country") -> pd.DataFrame:
    """Monthly counts per route: columns ``month`` (Period), nationality, section_id, area, count.

    ``weight="persons"`` counts ``persons_total`` (events without persons add
    nothing); ``weight="events"`` counts events. The area of detection is the
    column ``area_column`` (default the reporting country; give a column of
    regions for a finer picture). A missing section becomes ``inland``, a
    missing nationality or area ``XX``. Only months with a count appear.
    """
    if weight not in ("persons", "events"):
        raise ValueError("weight must be 'persons' or 'events'")
    for name in ("occurred_at", "section_id", "nationality"):
        if name not in events:
            raise ValueError(f"the events table has no column {name!r}")
    if weight == "persons" and "persons_total" not in events:
        raise ValueError("the events table has no column 'persons_total'")
    count = (pd.to_numeric(events["persons_total"], errors="coerce").fillna(0).to_numpy(float)
             if weight == "persons" else np.ones(len(events)))
    frame = pd.DataFrame({
        "month": months_of_micros(micros(events["occurred_at"])),
        "nationality": _labels(events["nationality"], UNKNOWN),
        "section_id": _labels(events["section_id"], INLAND),
        "area": (_labels(events[area_column], UNKNOWN) if area_column in events
                 else np.full(len(events), UNKNOWN, dtype=object)),
        "count": count,
    })
    frame = frame[frame["count"] > 0]
    out = pd.DataFrame(frame.groupby(["month", *ROUTE], sort=True, as_index=False)["count"].sum())
    out["month"] = _periods(out["month"].to_numpy(np.int64))
    return out


def _periods(ordinals: npt.NDArray[np.int64]) -> pd.PeriodIndex:
    unique, inverse = np.unique(ordinals, return_inverse=True)
    return pd.PeriodIndex([pd.Period(ordinal=int(u), freq="M") for u in unique])[inverse]


def _labels(values: pd.Series, missing: str) -> npt.NDArray[np.object_]:
    out: npt.NDArray[np.object_] = values.astype(object).where(values.notna(), missing).astype(
        str).to_numpy(dtype=object)
    return out


def route_matrix(counts: pd.DataFrame, *, first: MonthLike | None = None,
                 last: MonthLike | None = None) -> pd.DataFrame:
    """Routes x months (complete, zeros filled) from :func:`route_counts`' table."""
    if counts.empty and (first is None or last is None):
        raise ValueError("no route counts: give first and last")
    months = pd.PeriodIndex(counts["month"], freq="M").asi8
    lo = month_ordinal(first) if first is not None else int(months.min())
    hi = month_ordinal(last) if last is not None else int(months.max())
    if hi < lo:
        raise ValueError("last month is before the first")
    wide = counts.pivot_table(index=ROUTE, columns="month", values="count", aggfunc="sum",
                              fill_value=0.0)
    columns = pd.period_range(pd.Period(ordinal=lo, freq="M"), pd.Period(ordinal=hi, freq="M"),
                              freq="M")
    out = wide.reindex(columns=columns, fill_value=0.0).astype(float)
    if isinstance(out.index, pd.MultiIndex) or out.empty:
        return out
    raise ValueError("route counts need nationality, section_id and area")


def _lag(compare: str, months: int) -> int:
    if compare == "year_before":
        if months > 12:
            raise ValueError("with compare='year_before', months must be at most 12")
        return 12
    if compare == "previous":
        return months
    raise ValueError("compare must be 'year_before' or 'previous'")


def _windows(matrix: pd.DataFrame, months: int, lag: int) -> tuple[F64, F64]:
    """The (before, after) windows of each route, ``[route, months]`` each."""
    if months < 1:
        raise ValueError("months must be at least 1")
    if matrix.shape[1] < lag + months:
        raise ValueError(f"need at least {lag + months} months of route counts")
    values = matrix.to_numpy(float)
    n = values.shape[1]
    return values[:, n - lag - months:n - lag], values[:, n - months:]


def route_changes(matrix: pd.DataFrame, *, months: int = 3, compare: str = "year_before",
                  dispersion: float | None = None) -> pd.DataFrame:
    """Per route: the last ``months`` months against the same months a year before.

    With ``compare="previous"`` the months just before are the comparison
    instead (needs less history, but a season then reads as a change).
    Columns ``before``, ``after`` (totals), ``ratio`` ((after + 0.5) / (before +
    0.5)), ``p`` (two-sided, normal approximation on the log ratio with
    negative-binomial variance: se² = (1 + phi a/m)/(a + 0.5) + (1 + phi b/m)/(b
    + 0.5)) and ``q`` (the p-value adjusted for testing many routes at once,
    Benjamini-Hochberg). ``attrs["dispersion"]`` is phi (pooled, by moments,
    over the routes' months in the two windows, unless given).
    """
    before, after = _windows(matrix, months, _lag(compare, months))
    values = np.concatenate([before, after], axis=1)
    b = before.sum(axis=1)
    a = after.sum(axis=1)
    phi = dispersion if dispersion is not None else _dispersion(values)
    ratio = (a + 0.5) / (b + 0.5)
    se = np.sqrt((1 + phi * a / months) / (a + 0.5) + (1 + phi * b / months) / (b + 0.5))
    from scipy import stats
    p = 2 * stats.norm.sf(np.abs(np.log(ratio)) / se)
    out = pd.DataFrame({"before": b, "after": a, "ratio": ratio, "p": p, "q": fdr(p)},
                       index=matrix.index)
    out.attrs["dispersion"] = phi
    return out


def fdr(p: npt.ArrayLike) -> F64:
    """Benjamini-Hochberg adjusted p-values (q-values) of ``p``, in the same order."""
    values = np.asarray(p, dtype=np.float64)
    n = values.size
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="stable")
    scaled = values[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _dispersion(values: F64) -> float:
    """Pooled negative-binomial phi by moments: sum(var - mean) / sum(mean²), clipped to 0-5."""
    if values.shape[1] < 2 or values.size == 0:
        return 0.0
    mean = values.mean(axis=1)
    var = values.var(axis=1, ddof=1)
    denominator = float((mean**2).sum())
    return float(np.clip((var - mean).sum() / denominator, 0.0, 5.0)) if denominator > 0 else 0.0


_PAIR_COLUMNS = [
    "from_nationality", "from_section", "from_area", "to_nationality", "to_section", "to_area",
    "relation", "from_before", "from_after", "from_ratio", "from_q", "to_before", "to_after",
    "to_ratio", "to_q", "drop", "rise", "displaced", "offset_share", "odds_ratio", "pair_p",
    "correlation",
]


def displacement(counts: pd.DataFrame, *, month: MonthLike | None = None, months: int = 3,
                 compare: str = "year_before", alpha: float = 0.05, min_count: float = 10.0,
                 adjacency: Mapping[str, Sequence[str]] | None = None,
                 dispersion: float | None = None) -> pd.DataFrame:
    """Pairs of routes where one fell significantly and a related one rose, same months.

    ``counts`` is :func:`route_counts`' table; the windows are the ``months``
    ending with ``month`` (default: the last month in the table) against the
    same months a year before (``compare="previous"``: the months just before;
    see :func:`route_changes`). A route *fell* when its ratio < 1 with q <
    ``alpha`` (q: its p-value adjusted for the number of routes tested) and it
    had at least ``min_count`` before; it *rose* when ratio > 1, q < ``alpha``
    and at least ``min_count`` after. Related: the same
    nationality (another section or area), or neighbouring sections
    (``adjacency``: section -> neighbours; none when not given). A pair is
    kept when the shift of shares between the two routes is significant too
    (``pair_p`` < ``alpha``).

    Effect sizes per pair: ``drop`` (before - after of the falling route),
    ``rise`` (after - before of the rising one), ``displaced`` = min(drop,
    rise), ``offset_share`` = displaced / drop (how much of the fall the rise
    takes up), ``odds_ratio`` of the 2x2 table (the rising route's share of the
    pair after against before; a shared season cancels) with its p-value
    ``pair_p``, and ``correlation`` of the two routes' monthly counts over both
    windows (negative supports displacement). Largest ``displaced`` first.
    Treat pairs as leads for an analyst, not as proof of a cause.
    """
    if counts.empty:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    last = month_ordinal(month) if month is not None else int(
        pd.PeriodIndex(counts["month"], freq="M").asi8.max())
    lag = _lag(compare, months)
    matrix = route_matrix(counts, first=last - lag - months + 1, last=last)
    changes = route_changes(matrix, months=months, compare=compare, dispersion=dispersion)
    phi = float(changes.attrs["dispersion"])
    fell = changes[(changes["ratio"] < 1) & (changes["q"] < alpha)
                   & (changes["before"] >= min_count)]
    rose = changes[(changes["ratio"] > 1) & (changes["q"] < alpha)
                   & (changes["after"] >= min_count)]
    if fell.empty or rose.empty:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    f = _prefixed(fell, "from_")
    r = _prefixed(rose, "to_")
    same = f.merge(r, left_on="from_nationality", right_on="to_nationality")
    same = same[(same["from_section"] != same["to_section"])
                | (same["from_area"] != same["to_area"])]
    pairs = [same.assign(relation="same nationality")]
    if adjacency:
        links = pd.DataFrame([(a, b) for a, ns in adjacency.items() for b in ns],
                             columns=["from_section", "to_section"])
        near = f.merge(links, on="from_section").merge(r, on="to_section")
        pairs.append(near.assign(relation="neighbouring section"))
    both = pd.concat(pairs, ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=_PAIR_COLUMNS)
    keys = ["from_nationality", "from_section", "from_area", "to_nationality", "to_section",
            "to_area"]
    both = both.groupby(keys, as_index=False, sort=False).agg(
        {**{c: "first" for c in both.columns if c not in keys and c != "relation"},
         "relation": _join_relations})
    before, after = _windows(matrix, months, lag)
    out = _effects(both, matrix.index, np.concatenate([before, after], axis=1), phi, months)
    out = out[out["pair_p"] < alpha]
    return out[_PAIR_COLUMNS].sort_values(["displaced", "pair_p"], ascending=[False, True],
                                          kind="stable").reset_index(drop=True)


def _join_relations(values: pd.Series) -> str:
    return " and ".join(sorted({str(v) for v in values}))


def _prefixed(changes: pd.DataFrame, prefix: str) -> pd.DataFrame:
    frame = changes.reset_index()
    frame = frame.rename(columns={"section_id": "section"})
    return frame.add_prefix(prefix)


def _effects(pairs: pd.DataFrame, routes: pd.Index, values: F64, phi: float, months: int
             ) -> pd.DataFrame:
    out = pairs.copy()
    out["drop"] = out["from_before"] - out["from_after"]
    out["rise"] = out["to_after"] - out["to_before"]
    out["displaced"] = np.minimum(out["drop"], out["rise"])
    out["offset_share"] = out["displaced"] / out["drop"]
    fb, fa = out["from_before"] + 0.5, out["from_after"] + 0.5
    tb, ta = out["to_before"] + 0.5, out["to_after"] + 0.5
    log_or = np.log(ta * fb / (tb * fa))
    se = np.sqrt(sum((1 + phi * (x - 0.5) / months) / x for x in (fb, fa, tb, ta)))
    out["odds_ratio"] = np.exp(log_or)
    from scipy import stats
    out["pair_p"] = 2 * stats.norm.sf(np.abs(log_or) / se)
    rows = {key: i for i, key in enumerate(routes)}
    correlations = []
    for fr in out[["from_nationality", "from_section", "from_area", "to_nationality",
                   "to_section", "to_area"]].itertuples(index=False):
        x = values[rows[(fr[0], fr[1], fr[2])]]
        y = values[rows[(fr[3], fr[4], fr[5])]]
        correlations.append(float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0
                            else float("nan"))
    out["correlation"] = correlations
    return out
