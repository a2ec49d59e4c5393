"""The hub's monthly joint analysis at network size (issue 14): goal < 5 s.

Synthetic series (seeded): ``--countries`` members x ``--indicators``
indicators x ``--nationalities`` nationalities x ``--years`` years of months,
each country's values on one border place per country, Poisson counts around
a level that differs by nationality, with a summer peak of the same size every
year. One route surge is planted in the last month (a nationality at one
country, three times its usual count plus 50), so the alert has something to
find.

Timed: :func:`sitcen.analysis.network.joint_analysis` for the last month
(regional totals, the monthly alert over every country's and the region's
series and every route, regional forecasts with intervals, displacement
between routes), from the two tables the hub builds from its records.

    python benchmarks/network.py [--countries 5 --indicators 15 --nationalities 50 --years 10]

Last stdout line: ``{"seconds": ..., "cells": ..., "series": ..., "routes": ...,
"planted_found": ..., "alerts": ...}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _common import emit, log, parse_args  # noqa: E402

from sitcen.analysis.network import joint_analysis  # noqa: E402
from sitcen.indicator_list import INDICATORS  # noqa: E402

COUNTRIES = ("KZ", "KG", "TJ", "TM", "UZ", "AF", "CN", "RU", "IR", "PK")
LAST = pd.Period("2025-12", freq="M")


def synthetic(countries: int, indicators: int, nationalities: int, years: int, seed: int
              ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, str]]:
    """The hub's ``totals`` and ``cells`` tables, and the (country, nationality) planted."""
    rng = np.random.default_rng(seed)
    names = [*INDICATORS][:indicators] + [f"indicator_{i}" for i in range(len(INDICATORS),
                                                                           indicators)]
    members = list(COUNTRIES[:countries])
    nats = [f"N{i:02d}" for i in range(nationalities)]
    months = pd.period_range(LAST - 12 * years + 1, LAST, freq="M")
    season = 1 + 1.5 * np.isin(months.month, [6, 7, 8])
    levels = rng.gamma(2.0, 8.0, size=(countries, indicators, nationalities))
    counts = rng.poisson(levels[..., None] * season[None, None, None, :]).astype(float)
    planted = (members[-1], nats[0])
    counts[-1, 0, 0, -1] = 3 * counts[-1, 0, 0, -1] + 50
    c, i, n, m = np.meshgrid(np.arange(countries), np.arange(indicators),
                             np.arange(nationalities), np.arange(len(months)), indexing="ij")
    country = np.asarray(members, dtype=object)[c.ravel()]
    cells = pd.DataFrame({
        "country": country,
        "month": np.asarray([str(p) for p in months], dtype=object)[m.ravel()],
        "indicator": np.asarray(names, dtype=object)[i.ravel()],
        "place": np.char.add(country.astype(str), "-S1").astype(object),
        "nationality": np.asarray(nats, dtype=object)[n.ravel()],
        "value": counts.ravel(),
    })
    totals = (cells.groupby(["country", "month", "indicator"])["value"].sum().reset_index()
              .rename(columns={"value": "total"}))
    return totals, cells, planted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=15)
    parser.add_argument("--nationalities", type=int, default=50)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=14)
    args = parse_args(parser, argv, {"countries": 3, "indicators": 3, "nationalities": 4,
                                     "years": 3})
    if not 1 <= args.countries <= len(COUNTRIES) or args.years < 3:
        parser.error(f"--countries 1..{len(COUNTRIES)}, --years at least 3")
    totals, cells, planted = synthetic(args.countries, args.indicators, args.nationalities,
                                       args.years, args.seed)
    log(f"{len(cells):,} cells, {len(totals):,} totals")
    started = time.perf_counter()
    result = joint_analysis(totals, cells, str(LAST))
    seconds = time.perf_counter() - started
    alert = result["alert"]
    found = any((r["country"], r["nationality"]) == planted and r["direction"] == "up"
                for r in alert["routes"])
    log(f"joint analysis in {seconds:.2f} s; {len(alert['indicators'])} indicator alerts, "
        f"{len(alert['routes'])} route alerts")
    emit({"seconds": round(seconds, 3), "cells": len(cells),
          "series": (args.countries + 1) * args.indicators,
          "routes": int(cells.loc[cells["indicator"].isin(list(INDICATORS)[:2]),
                                  ["country", "nationality"]].drop_duplicates().shape[0]),
          "months": 12 * args.years, "planted_found": found,
          "alerts": {"indicators": len(alert["indicators"]), "routes": len(alert["routes"])},
          "displacement_pairs": len(result["displacement"]), "goal_s": 5})


if __name__ == "__main__":
    main()
