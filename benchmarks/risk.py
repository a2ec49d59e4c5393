"""Risk recomputation over 10 million events, beside a plain DuckDB group-by; scan timing.

Data: ``--events`` synthetic events (numpy, seeded, built in columns, never as
dicts) over the shipped border sections (``sitcen.geo``), three years from
2023-01-01: about 5 % inland (no section), busy and quiet sections (lognormal
section weights), a type mix like the scenario's, persons on the types that
carry them, seized kilograms on smuggling types, rare violence and
casualties, the place of detection on crossings. ``section_id``, ``type``,
``impact_level`` and ``detection`` are pandas categoricals and ``occurred_at``
int64 µs, as docs/risk.md advises for large tables. Every section gets a
synthetic capacity inventory.

Measured, each ``--repeats`` times (the scan ``--scan-repeats`` times), the
median reported:

1. ``seconds``: ``analysis.risk.assess_risk`` for every section and the last
   month: encoding, monthly aggregates, threat (magnitude, likelihood,
   trend), impact per event and section, share detected at the line,
   vulnerability, risk, ranking, proposed levels with reasons.
2. ``groupby_seconds``: DuckDB (in-process, its default threads) on the same
   pandas frame: ``count(*)``, ``sum(persons_total)`` and
   ``sum(quantity_kg)`` per section and calendar month. ``ratio`` =
   seconds / groupby_seconds.
3. ``scan_seconds``: ``analysis.scan.space_time_scan`` with 999 replicates
   (no early stop) on ``--scan-locations`` (1,000) distinct locations in a
   200 x 200 km square over 90 days, ``--scan-events`` events (90,000: one
   per location and day on average) plus a small cluster in the last days.

Goals (issue 5): seconds <= 2, ratio <= 3, scan_seconds <= 30.

    python benchmarks/risk.py [--events 10000000] [--repeats 5] [--seed 1]

Last stdout line, one json object (``_common.emit``): ``{"events": ..., "seconds": ...,
"groupby_seconds": ..., "ratio": ..., "scan_seconds": ...}``.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import emit, log, median, parse_args

from sitcen.analysis.event_table import TYPES
from sitcen.analysis.risk import assess_risk
from sitcen.analysis.scan import space_time_scan
from sitcen.analysis.vulnerability import SectionCapacity
from sitcen.geo import load_default_sections

_US = 1_000_000
_START_US = int(pd.Timestamp("2023-01-01").value // 1000)
_YEARS = 3

# Share of each type in the synthetic mix (roughly the scenario's).
_MIX = {"green_border_crossing": 0.22, "river_crossing": 0.045, "clandestine_at_bcp": 0.07,
        "drug_smuggling": 0.095, "weapons_smuggling": 0.01, "excise_goods_smuggling": 0.11,
        "migrant_smuggling": 0.075, "human_trafficking": 0.006, "document_fraud": 0.105,
        "stolen_vehicle": 0.03, "natural_disaster": 0.017, "armed_incident": 0.0001,
        "epidemic": 0.001, "suspicious_person": 0.105, "suspicious_vehicle": 0.048,
        "suspicious_aircraft": 0.01, "damaged_border_sign": 0.03, "lost_person": 0.006}
_WITH_PERSONS = {"green_border_crossing", "river_crossing", "clandestine_at_bcp",
                 "drug_smuggling", "weapons_smuggling", "excise_goods_smuggling",
                 "migrant_smuggling", "human_trafficking", "document_fraud", "stolen_vehicle",
                 "armed_incident", "suspicious_person", "suspicious_vehicle", "lost_person"}
_WITH_KG = {"drug_smuggling": (3.0, 1.5), "excise_goods_smuggling": (40.0, 1.2),
            "weapons_smuggling": (2.0, 1.0)}
_CROSSING = {"green_border_crossing", "river_crossing", "clandestine_at_bcp", "migrant_smuggling"}


def synthetic_events(n: int, section_ids: list[str], seed: int) -> pd.DataFrame:
    """``n`` events in columns (vectorised; deterministic for ``seed``)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    n_sec = len(section_ids)
    weights = rng.lognormal(0.0, 1.0, n_sec)
    sec = rng.choice(n_sec, size=n, p=weights / weights.sum()).astype(np.int16)
    sec[rng.random(n) < 0.05] = -1  # inland
    span = int(_YEARS * 365.25 * 86_400 * _US)
    occurred = _START_US + rng.integers(0, span, n, dtype=np.int64)
    # Types the mix leaves out (refusals, illegal stay, asylum: issue 14) are not drawn.
    probs = np.array([_MIX.get(t, 0.0) for t in TYPES])
    typ = rng.choice(len(TYPES), size=n, p=probs / probs.sum()).astype(np.int8)
    type_names = np.array(TYPES)
    has_persons = np.isin(type_names, sorted(_WITH_PERSONS))[typ]
    persons = np.where(has_persons, rng.geometric(0.45, n), 0).astype(np.int32)
    kg = np.zeros(n)
    for name, (med, sigma) in _WITH_KG.items():
        idx = np.flatnonzero(typ == TYPES.index(name))
        kg[idx] = np.round(rng.lognormal(np.log(med), sigma, idx.size), 2)
    level = np.minimum(rng.geometric(0.8, n) - 1, 3).astype(np.int8)
    armed = typ == TYPES.index("armed_incident")
    violence = armed | (rng.random(n) < 0.001)
    hurt = np.flatnonzero(violence & (rng.random(n) < 0.3))
    killed = np.zeros(n, dtype=np.int16)
    injured = np.zeros(n, dtype=np.int16)
    killed[hurt] = rng.poisson(0.4, hurt.size)
    injured[hurt] = rng.poisson(1.2, hurt.size)
    crossing = np.isin(type_names, sorted(_CROSSING))[typ]
    detection = np.where(crossing, rng.choice(5, size=n, p=[0.2, 0.3, 0.3, 0.15, 0.05]),
                         -1).astype(np.int8)
    return pd.DataFrame({
        "occurred_at": occurred,
        "section_id": pd.Categorical.from_codes(sec, categories=pd.Index(section_ids)),
        "type": pd.Categorical.from_codes(typ, categories=pd.Index(TYPES)),
        "impact_level": pd.Categorical.from_codes(
            level, categories=pd.Index(["low", "medium", "high", "very_high"])),
        "persons_total": persons,
        "quantity_kg": kg,
        "violence": violence,
        "killed": killed,
        "injured": injured,
        "detection": pd.Categorical.from_codes(
            detection, categories=pd.Index(["bcp_check", "surveillance", "patrol", "inland",
                                            "other"])),
        "section_distance_km": rng.uniform(0.0, 25.0, n),
    })


def synthetic_capacities(sections: list[Any], seed: int) -> list[SectionCapacity]:
    """A plausible capacity inventory for every section (deterministic for ``seed``)."""
    rng = np.random.Generator(np.random.PCG64(seed + 1))
    out = []
    for s in sections:
        length = float(s.length_km)
        out.append(SectionCapacity(
            section_id=s.id, length_km=length,
            staff_per_shift=int(rng.integers(2, 14)), shifts_per_day=3,
            patrol_hours_per_week=float(np.round(rng.uniform(0.5, 6.0) * length, 1)),
            vehicles=int(rng.integers(0, 6)), sensors=int(rng.integers(0, 12)),
            cameras=int(rng.integers(0, 12)), towers=int(rng.integers(0, 4)),
            covered_km=float(np.round(rng.uniform(0, 1) * length, 1)),
            fence_km=float(np.round(rng.uniform(0, 0.4) * length, 1)),
            response_time_min=float(rng.integers(10, 120)),
            terrain_permeability=float(np.round(rng.uniform(0.1, 1.0), 2))))
    return out


def timed(fn: Callable[[], Any], repeats: int, what: str) -> tuple[float, Any]:
    """Median wall time of ``repeats`` runs of ``fn`` (after a collection), and its last result."""
    times = []
    result: Any = None
    for i in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        log(f"{what}: run {i + 1}/{repeats} {times[-1]:.3f} s")
    return median(times), result


def check_counts(threat: pd.DataFrame, grouped: pd.DataFrame, month: str) -> None:
    """The two computations saw the same data: events of the last 3 months per section agree."""
    last = pd.Period(month, "M")
    months = pd.to_datetime(grouped["month"]).dt.to_period("M")
    recent = grouped[(months > last - 3) & (months <= last) & grouped["section_id"].notna()]
    per_section = recent.groupby("section_id", observed=True)["events"].sum()
    mine = threat["events"]
    theirs = per_section.reindex(mine.index, fill_value=0).astype(int)
    if not (mine == theirs).all():
        raise SystemExit("risk recomputation and DuckDB disagree on event counts")
    log(f"checked: both count {int(mine.sum()):,} events on sections in the last 3 months")


def scan_data(n_locations: int, n_events: int, seed: int) -> tuple[Any, Any, Any]:
    """Events at ``n_locations`` places over 90 days, with a small cluster in the last days."""
    rng = np.random.Generator(np.random.PCG64(seed + 2))
    lx, ly = rng.uniform(0, 200, n_locations), rng.uniform(0, 200, n_locations)
    loc = rng.integers(0, n_locations, n_events)
    day = rng.integers(0, 90, n_events)
    near = np.flatnonzero(np.hypot(lx - lx[0], ly - ly[0]) < 5.0)
    extra = rng.choice(near, 25)
    loc = np.concatenate([loc, extra])
    day = np.concatenate([day, rng.integers(87, 90, extra.size)])
    return lx[loc], ly[loc], day


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scan-locations", type=int, default=1000)
    parser.add_argument("--scan-events", type=int, default=90_000)
    parser.add_argument("--scan-repeats", type=int, default=3)
    args = parse_args(parser, argv, smoke={"events": 50_000, "repeats": 1, "scan_locations": 50,
                                           "scan_events": 2_000, "scan_repeats": 1})

    import duckdb

    sections = load_default_sections()
    ids = [s.id for s in sections]
    log(f"generating {args.events:,} events over {len(ids)} sections (seed {args.seed})")
    t0 = time.perf_counter()
    events = synthetic_events(args.events, ids, args.seed)
    capacities = synthetic_capacities(sections, args.seed)
    log(f"generated in {time.perf_counter() - t0:.1f} s")
    month = str(pd.Period(ordinal=int(
        pd.Timestamp(int(events["occurred_at"].max()) * 1000).to_period("M").ordinal),
        freq="M"))

    seconds, assessment = timed(
        lambda: assess_risk(events, capacities, section_ids=ids, month=month),
        args.repeats, "risk recomputation")
    counts = assessment.table["proposed_level"].value_counts().to_dict()
    log(f"month {assessment.month}: levels {counts}; top {assessment.table.index[0]}")

    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0]
    query = ("SELECT section_id, date_trunc('month', make_timestamp(occurred_at)) AS month, "
             "count(*) AS events, sum(persons_total) AS persons, sum(quantity_kg) AS kg "
             "FROM events GROUP BY ALL")
    con.register("events", events)
    groupby_seconds, grouped = timed(lambda: con.execute(query).df(), args.repeats,
                                     "duckdb group-by")
    log(f"duckdb ({threads[0] if threads else '?'} threads): {len(grouped)} groups")
    check_counts(assessment.threat, grouped, month)

    x, y, day = scan_data(args.scan_locations, args.scan_events, args.seed)
    scan_seconds, result = timed(
        lambda: space_time_scan(x, y, day, replicates=999, seed=args.seed),
        args.scan_repeats, f"scan ({x.size} events, {args.scan_locations} locations, 90 days)")
    best = result.clusters[0] if result.clusters else None
    log(f"scan: most likely cluster p = {best.p_value if best else 'n/a'}")

    emit({"events": args.events, "seconds": round(seconds, 3),
          "groupby_seconds": round(groupby_seconds, 3),
          "ratio": round(seconds / groupby_seconds, 2),
          "scan_seconds": round(scan_seconds, 2),
          "scan_events": int(x.size), "repeats": args.repeats, "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
