"""The synthetic scenario: realistic event reports on the Central Asian borders, with ground truth.

One importable builder for the demo, the tests and the benchmarks. Daily counts
are drawn per (border section, day, event type) from a gamma-mixed Poisson
(negative binomial) process whose rate depends on the border, the section's
length, the season and the weekday; every event then gets a position, a time
of day and report attributes consistent with its type, all vectorised with
numpy and deterministic for a seed. Anomalies, trend shifts and space-time
clusters are planted on top, marked event by event and listed in
:attr:`Scenario.truth` so that early-warning and trend analysis can be scored.
See ``docs/scenario.md`` for what is modelled and why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from sitcen.demo.scenario_attributes import attributes
from sitcen.demo.scenario_geometry import BorderGeometry, along, geometry_of
from sitcen.demo.scenario_tables import (
    AGE_GROUPS,
    BASE_MIX,
    CENTRAL_ASIA,
    COUNTRIES,
    DAY_US,
    DETECTIONS,
    DIRECTIONS,
    DISEASES,
    F64,
    FRAUD_KINDS,
    HANDLINGS,
    HAZARD_SEASON,
    HIGH_PASS_BOXES,
    I8,
    I16,
    I64,
    IMPACTS,
    KIND_OF,
    LOW_WATER,
    MIGRANT_TYPES,
    MIGRATION,
    MODI,
    PASS_OPEN,
    REACTION_SETS,
    REACTIONS,
    RELIABILITY,
    SECOND_US,
    SEXES,
    STAGES,
    STATUSES,
    TRANSPORTS,
    TYPE_CODE,
    TYPES,
    UNITS,
    UNKNOWN_COUNTRY,
    WEEKDAY,
    IntP,
    border_named,
    is_high_pass,
    is_river,
    monthly,
)
from sitcen.geo import BorderSection, unproject
from sitcen.times import from_micros, iso, to_micros

__all__ = [  # the scenario's public names, its code tables included
    "AGE_GROUPS", "CENTRAL_ASIA", "COUNTRIES", "DEFAULT_START", "DETECTIONS", "DIRECTIONS",
    "DISEASES", "FRAUD_KINDS", "HANDLINGS", "HIGH_PASS_BOXES", "IMPACTS", "KIND_OF", "MODI",
    "REACTIONS", "REACTION_SETS", "RELIABILITY", "SEXES", "STAGES", "STATUSES", "TRANSPORTS",
    "TYPES", "UNITS", "UNKNOWN_COUNTRY", "Scenario", "background_rates", "generate",
    "is_high_pass", "is_river", "live_events",
]

DEFAULT_START = date(2023, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------- rates

#: Gamma shape of the day-to-day mixing of background counts (variance mu + mu^2 / shape).
BACKGROUND_SHAPE = 3.0
#: Armed incidents come in bursts: a much smaller shape.
ARMED_INCIDENT_SHAPE = 0.3


def _calendar(start: datetime, n_days: int) -> tuple[F64, IntP]:
    """Fractional month (0 = 1 January) and weekday (0 = Monday) of each scenario day."""
    d64 = np.datetime64(start.date(), "D") + np.arange(n_days)
    months = d64.astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    dim = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    month = (months - d64.astype("datetime64[Y]").astype("datetime64[M]")).astype(np.int64)
    frac = month + (d64 - first).astype(np.int64) / dim
    return np.asarray(frac, dtype=np.float64), np.asarray((d64.astype(np.int64) + 3) % 7)


def _rates(geo: BorderGeometry, months: F64, weekday: IntP, scale: float,
           rng: np.random.Generator) -> F64:
    """Expected events per (section, day, type): border, length, season, weekday."""
    n_sec, n_types = len(geo.sections), len(TYPES)
    base = np.zeros((n_sec, n_types))
    hetero = rng.lognormal(-0.125, 0.5, n_sec)  # some sections are hotspots, some quiet
    for i, s in enumerate(geo.sections):
        b = border_named(geo.border[i])
        mix = {**BASE_MIX, **b.mix}
        if not geo.river[i]:
            mix["green_border_crossing"] += mix["river_crossing"]
            mix["river_crossing"] = 0.0
        if geo.high_pass[i]:
            mix["natural_disaster"] *= 3
        w = np.array([mix[t] for t in TYPES]) / sum(mix.values())
        for t in ("clandestine_at_bcp", "document_fraud", "excise_goods_smuggling",
                  "stolen_vehicle"):  # checks find these at the crossing points
            w[TYPE_CODE[t]] *= 1 + 1.5 * min(int(geo.bcp_count[i]), 2) * b.bcp
        base[i] = b.rate * s.length_km * hetero[i] * w * scale / 365.25
    lam: F64 = base[:, None, :] * np.array(WEEKDAY)[weekday][None, :, None]
    nat = TYPE_CODE["natural_disaster"]
    hazard = lam[:, :, nat] * monthly(HAZARD_SEASON, months)[None, :]
    lam *= np.where(geo.high_pass[:, None], monthly(PASS_OPEN, months)[None, :], 1.0)[:, :, None]
    lam[:, :, nat] = hazard
    water = np.where(geo.river[:, None], monthly(LOW_WATER, months)[None, :], 1.0)
    for t in ("river_crossing", "drug_smuggling", "green_border_crossing"):
        lam[:, :, TYPE_CODE[t]] *= water
    moving = np.array([border_named(b).destination is not None for b in geo.border])
    migration = np.where(moving[:, None], monthly(MIGRATION, months)[None, :], 1.0)
    for t in MIGRANT_TYPES:
        lam[:, :, TYPE_CODE[t]] *= migration
    return lam


# --------------------------------------------------------------------------- planting


@dataclass
class _Planted:
    sec: list[IntP] = field(default_factory=list)
    day: list[I64] = field(default_factory=list)
    typ: list[IntP] = field(default_factory=list)
    mark: list[I16] = field(default_factory=list)
    x: list[F64] = field(default_factory=list)  # fixed projected positions (nan: place normally)
    y: list[F64] = field(default_factory=list)

    def add(self, sec: int, days: I64, typ: int, mark: int,
            xy: tuple[F64, F64] | None = None) -> None:
        n = days.size
        self.sec.append(np.full(n, sec, dtype=np.intp))
        self.day.append(days.astype(np.int64))
        self.typ.append(np.full(n, typ, dtype=np.intp))
        self.mark.append(np.full(n, mark, dtype=np.int16))
        self.x.append(xy[0] if xy else np.full(n, np.nan))
        self.y.append(xy[1] if xy else np.full(n, np.nan))


def _iso_day(start: datetime, day: float) -> str:
    return _iso(int((start + timedelta(days=day)).timestamp()) * SECOND_US)


_Surge = tuple[int, int, int, int, float]  # section, type, first day, end day, factor


def _plant(geo: BorderGeometry, lam: F64, start: datetime, years: float, scale: float,
           rng: np.random.Generator) -> tuple[list[dict[str, Any]], _Planted, list[_Surge]]:
    """Plant trend shifts and clusters, choose anomalies (filled in by :func:`_surge`).

    Scales ``lam`` down where a trend falls, so call it before drawing the background.
    """
    n_sec, n_days, _ = lam.shape
    truth: list[dict[str, Any]] = []
    out = _Planted()
    used: set[int] = set()
    surges: list[_Surge] = []
    # (a) Anomalies: k times the usual rate of a busy (section, type) for d days.
    totals = lam.sum(axis=1)
    busy = np.argsort(totals, axis=None)[::-1][:24]
    for _ in range(max(3, round(2 * years))):
        order = rng.permutation(busy)
        s, t = 0, 0
        for cell in order:
            s, t = divmod(int(cell), len(TYPES))
            if s not in used:
                break
        used.add(s)
        k = float(rng.integers(6, 13)) / 2  # 3.0 .. 6.0
        dur = int(min(rng.integers(3, 15), n_days))
        d0, best = 0, -1.0
        for _try in range(20):  # prefer a window with a usable baseline (not a closed pass)
            cand = int(rng.integers(0, n_days - dur + 1))
            b = float(lam[s, cand:cand + dur, t].sum())
            if b > best:
                d0, best = cand, b
            if b >= 3:
                break
        surges.append((s, t, d0, d0 + dur, k))
        truth.append(_truth("anomaly", geo, s, t, start, d0, d0 + dur, k, best, 0))
    # (b) Trend shift: displacement from one section to its neighbour on the same border.
    pairs = [i for i in range(n_sec - 1) if geo.border[i] == geo.border[i + 1]
             and not {i, i + 1} & used and not geo.high_pass[i] and not geo.high_pass[i + 1]]
    if pairs:  # among the busiest pairs, so that the shift is there to be found
        activity = [min(totals[i].sum(), totals[i + 1].sum()) for i in pairs]
        i = int(rng.choice(np.array(pairs)[np.argsort(activity)[::-1][:20]]))
        down, up = (i, i + 1) if rng.random() < 0.5 else (i + 1, i)
        t = int(np.argmax(totals[down] + totals[up]))
        d0 = int(rng.integers(int(0.35 * n_days), int(0.65 * n_days) + 1))
        ramp = int(rng.integers(60, 121)) if rng.random() < 0.5 else 0
        f_down, f_up = float(rng.uniform(0.3, 0.6)), float(rng.uniform(1.8, 3.0))
        progress = np.clip((np.arange(n_days) - d0 + 1) / max(ramp, 1), 0.0, 1.0)
        progress[: d0] = 0.0
        before = {s: float(lam[s, d0:, t].sum()) for s in (down, up)}
        lam[down, :, t] *= 1 - (1 - f_down) * progress
        days = np.repeat(np.arange(n_days), rng.poisson(lam[up, :, t] * (f_up - 1) * progress))
        pair = len(truth)
        for s, f, n in ((down, f_down, 0), (up, f_up, days.size)):
            entry = _truth("trend_shift", geo, s, t, start, d0, n_days, f, before[s], n)
            entry.update(shape="ramp" if ramp else "step", ramp_days=ramp,
                         pair=pair + (1 if s == down else 0))
            truth.append(entry)
        out.add(up, days, t, pair + 1)
        used |= {down, up}
    # (c) Space-time clusters: armed incidents on KG-TJ, crossings on KZ-UZ / KG-UZ.
    for kind, borders, size in (("armed_incident", ("KG-TJ",), 12),
                                ("green_border_crossing", ("KZ-UZ", "KG-UZ"), 25)):
        cands = [i for i in range(n_sec) if geo.border[i] in borders and i not in used
                 and not geo.high_pass[i]] or [i for i in range(n_sec) if i not in used]
        s = int(rng.choice(cands))
        used.add(s)
        dur = int(min(rng.integers(2, 8), n_days))
        d0 = int(rng.integers(0, n_days - dur + 1))
        radius = float(rng.uniform(3, 6))
        n = max(6, round(size * scale))
        cx, cy, nx, ny, left = along(geo, np.array([s]), rng.uniform(0.3, 0.7, 1))
        side = float(left[0]) if left[0] else 1.0
        cx, cy = cx + side * 1.5 * nx, cy + side * 1.5 * ny  # just inside country A
        r = np.minimum(np.abs(rng.normal(0, radius / 2, n)), radius)
        a = rng.uniform(0, 2 * np.pi, n)
        xy = (cx[0] + r * np.cos(a), cy[0] + r * np.sin(a))
        out.add(s, d0 + rng.integers(0, dur, n), TYPE_CODE[kind], len(truth), xy)
        entry = _truth("cluster", geo, s, TYPE_CODE[kind], start, d0, d0 + dur, None,
                       float(lam[s, d0:d0 + dur, TYPE_CODE[kind]].sum()), n)
        lon, lat = unproject(cx, cy)
        entry.update(centre=[round(float(lon[0]), 5), round(float(lat[0]), 5)],
                     radius_km=round(radius, 2))
        truth.append(entry)
    return truth, out, surges


def _surge(truth: list[dict[str, Any]], out: _Planted, surges: list[_Surge], lam: F64,
           counts: npt.NDArray[np.int64], rng: np.random.Generator) -> None:
    """Top each anomaly window up to ``factor`` x its expected background count."""
    anomalies = [i for i, t in enumerate(truth) if t["kind"] == "anomaly"]
    for j, (s, t, d0, d1, k) in zip(anomalies, surges, strict=True):
        expected = lam[s, d0:d1, t]
        base = float(expected.sum())
        n = max(round(k * base) - int(counts[s, d0:d1, t].sum()), round((k - 1) * base / 2))
        if n and base > 0:
            out.add(s, d0 + rng.choice(d1 - d0, n, p=expected / base), t, j)
        truth[j]["planted"] = int(n if base > 0 else 0)


def _truth(kind: str, geo: BorderGeometry, sec: int, typ: int, start: datetime, d0: int, d1: int,
           factor: float | None, baseline: float, planted: int) -> dict[str, Any]:
    return {"kind": kind, "section_id": geo.sections[sec].id, "type": TYPES[typ],
            "start": _iso_day(start, d0), "end": _iso_day(start, d1),
            "factor": None if factor is None else round(factor, 3),
            "centre": None, "radius_km": None, "baseline": round(baseline, 1),
            "planted": int(planted)}


# --------------------------------------------------------------------------- the scenario


def _iso(us: int) -> str:
    """A generated moment (µs) as the API writes it; the scenario reports whole seconds."""
    return iso(from_micros(us), "seconds")


def _micros(value: date | datetime) -> int:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_micros(value)


_COLUMNS = ("occurred_at", "reported_at", "lon", "lat", "precision_m", "type", "section",
            "country", "impact", "reliability", "credibility", "handling", "status",
            "transport", "modus", "reaction", "kind", "fraud_kind", "quantity", "unit", "stage",
            "direction", "detection", "killed", "injured", "shots", "persons", "nationality",
            "sex", "age", "planted")


@dataclass(frozen=True, eq=False)
class Scenario:
    """Synthetic events in columnar form, sorted by ``occurred_at``, with their ground truth.

    Code columns are indexes into the module's code tables (``type`` into
    :attr:`types`, ``section`` into :attr:`section_ids` or -1 when the event lies
    more than 25 km inland, ``country``/``nationality`` into :data:`COUNTRIES`,
    ``kind`` into the values of :data:`KIND_OF` for the type, ``reaction`` into
    :data:`REACTION_SETS`...); -1 means absent. ``quantity`` holds the number of
    cases for epidemics. ``planted`` is the index of the :attr:`truth` entry
    that planted the event, or -1 for background.
    """

    occurred_at: I64  # µs since the epoch, UTC
    reported_at: I64
    lon: F64
    lat: F64
    precision_m: npt.NDArray[np.int32]
    type: I8
    section: I16
    country: I8
    impact: I8
    reliability: I8
    credibility: I8
    handling: I8
    status: I8
    transport: I8
    modus: I8
    reaction: I8
    kind: I8
    fraud_kind: I8
    quantity: F64
    unit: I8
    stage: I8
    direction: I8
    detection: I8
    killed: I16
    injured: I16
    shots: I16
    persons: I16
    nationality: I8
    sex: I8
    age: I8
    planted: I16
    section_ids: tuple[str, ...]
    truth: list[dict[str, Any]]
    seed: int
    start_us: int
    end_us: int
    types: tuple[str, ...] = TYPES

    def __len__(self) -> int:
        return int(self.occurred_at.size)

    def _select(self, sel: slice | npt.NDArray[Any]) -> Scenario:
        return replace(self, **{name: getattr(self, name)[sel] for name in _COLUMNS})

    def window(self, since: date | datetime | int, until: date | datetime | int) -> Scenario:
        """The events with ``since <= occurred_at < until`` (µs or dates/datetimes, UTC)."""
        lo, hi = (v if isinstance(v, int) else _micros(v) for v in (since, until))
        a, b = np.searchsorted(self.occurred_at, [lo, hi], side="left")
        return self._select(slice(int(a), int(b)))

    def payloads(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        """API-ready JSON dicts (``EventCreate`` shape) of events ``start`` to ``stop``."""
        stop = len(self) if stop is None else min(stop, len(self))
        for lo in range(start, stop, 4096):
            yield from self._build(lo, min(lo + 4096, stop))

    def payload(self, i: int) -> dict[str, Any]:
        """The API-ready JSON dict of event ``i``."""
        i = range(len(self))[i]  # IndexError when out of range; negative counts from the end
        return self._build(i, i + 1)[0]

    def batches(self, size: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Payloads in lists of ``size`` (the API takes up to 10,000 per batch)."""
        for lo in range(0, len(self), size):
            yield list(self.payloads(lo, lo + size))

    def truth_json(self) -> list[dict[str, Any]]:
        """The planted ground truth (JSON-serialisable), with its index as ``id``."""
        return [{"id": i, **t} for i, t in enumerate(self.truth)]

    def _build(self, lo: int, hi: int) -> list[dict[str, Any]]:
        c = {name: getattr(self, name)[lo:hi].tolist() for name in _COLUMNS}
        out = []
        for i in range(hi - lo):
            t = self.types[c["type"][i]]
            details: dict[str, Any] = {}
            if (k := c["kind"][i]) >= 0:
                attr, values = KIND_OF[t]
                details[attr] = values[k]
            if c["fraud_kind"][i] >= 0:
                details["fraud_kind"] = FRAUD_KINDS[c["fraud_kind"][i]]
            if c["unit"][i] >= 0:
                details["quantity"] = c["quantity"][i]
                details["unit"] = UNITS[c["unit"][i]]
            if t == "epidemic":
                details["cases"] = int(c["quantity"][i])
            if c["stage"][i] >= 0:
                details["stage"] = STAGES[c["stage"][i]]
                details["detection"] = DETECTIONS[c["detection"][i]]
            if c["direction"][i] >= 0:
                details["direction"] = DIRECTIONS[c["direction"][i]]
            if t in ("natural_disaster", "armed_incident"):
                details["killed"], details["injured"] = c["killed"][i], c["injured"][i]
            if c["shots"][i] >= 0:
                details["shots_fired"] = bool(c["shots"][i])
            persons = [] if c["persons"][i] <= 0 else [{
                "nationality": COUNTRIES[c["nationality"][i]], "sex": SEXES[c["sex"][i]],
                "age_group": AGE_GROUPS[c["age"][i]], "count": c["persons"][i]}]
            s = c["section"][i]
            where = f"near {self.section_ids[s]}" if s >= 0 else "inland"
            out.append({
                "type": t,
                "occurred_at": _iso(c["occurred_at"][i]),
                "reported_at": _iso(c["reported_at"][i]),
                "location": {"lon": c["lon"][i], "lat": c["lat"][i],
                             "precision_m": float(c["precision_m"][i])},
                "impact_level": IMPACTS[c["impact"][i]],
                "confidence": {"source_reliability": RELIABILITY[c["reliability"][i]],
                               "information_credibility": c["credibility"][i]},
                "handling": HANDLINGS[c["handling"][i]],
                "details": details,
                "persons": persons,
                "transport": TRANSPORTS[c["transport"][i]] if c["transport"][i] >= 0 else None,
                "modus_operandi": [MODI[c["modus"][i]]] if c["modus"][i] >= 0 else [],
                "reaction": list(REACTION_SETS[c["reaction"][i]]),
                "description": f"[synthetic] {t.replace('_', ' ')} {where}",
                "country": COUNTRIES[c["country"][i]],
                "status": STATUSES[c["status"][i]],
            })
        return out


def _background(years: float, seed: int, start: date | datetime, scale: float,
                sections: Sequence[BorderSection] | None, anomalies: bool
                ) -> tuple[np.random.Generator, BorderGeometry, int, F64, F64,
                           tuple[list[dict[str, Any]], _Planted, list[_Surge]]]:
    """The random state, geometry, calendar, background rates and planted truth of a scenario.

    The first steps of :func:`generate`, in its order of random draws, so that
    :func:`background_rates` gives the rates the events were drawn from.
    """
    if years <= 0 or scale <= 0:
        raise ValueError("years and scale must be positive")
    rng = np.random.Generator(np.random.PCG64(seed))
    geo = geometry_of(tuple(sections) if sections is not None else None)
    start_us = _micros(start)
    start_dt = _EPOCH + timedelta(microseconds=start_us)
    n_days = max(1, round(years * 365.25))
    months, weekday = _calendar(start_dt, n_days)
    lam = _rates(geo, months, weekday, scale, rng)
    planting = _plant(geo, lam, start_dt, years, scale, rng) if anomalies else (
        [], _Planted(), [])
    return rng, geo, start_us, months, lam, planting


def background_rates(years: float = 3, *, seed: int = 1, start: date | datetime = DEFAULT_START,
                     scale: float = 1.0, sections: Sequence[BorderSection] | None = None,
                     anomalies: bool = True) -> F64:
    """The expected background count per (section, day, type) of ``generate(...)``'s scenario.

    The same arguments give the rates the background counts of :func:`generate`
    were drawn from (a negative binomial around each rate: gamma shape
    :data:`BACKGROUND_SHAPE`, or :data:`ARMED_INCIDENT_SHAPE` for armed
    incidents), falling trend shifts included; planted anomalies, clusters and the
    rising side of a trend shift come on top. Types are in the order of
    :data:`TYPES`. An early-warning benchmark uses them as the true baseline
    that no real detector knows.
    """
    return _background(years, seed, start, scale, sections, anomalies)[4]


def generate(years: float = 3, *, seed: int = 1, start: date | datetime = DEFAULT_START,
             scale: float = 1.0, sections: Sequence[BorderSection] | None = None,
             anomalies: bool = True) -> Scenario:
    """Generate ``years`` of synthetic reports (≈ 50,000 a year at ``scale`` 1).

    Deterministic for ``seed`` (numpy PCG64). ``scale`` multiplies every rate
    (background and planted alike); ``sections`` defaults to the shipped border
    sections; ``anomalies=False`` plants nothing and leaves ``truth`` empty.
    """
    rng, geo, start_us, months, lam, (truth, planted, surges) = _background(
        years, seed, start, scale, sections, anomalies)
    n_days = months.size
    # Background: gamma-mixed Poisson (negative binomial); armed incidents come in bursts.
    shape = np.where(np.array(TYPES) == "armed_incident", ARMED_INCIDENT_SHAPE, BACKGROUND_SHAPE)
    counts = rng.poisson(lam * rng.gamma(shape, 1 / shape, lam.shape))
    _surge(truth, planted, surges, lam, counts, rng)
    del lam
    flat = counts.reshape(-1)
    cells = np.repeat(np.flatnonzero(flat), flat[flat > 0])
    del counts, flat
    n_types = len(TYPES)
    sec = np.concatenate([cells // (n_days * n_types), *planted.sec]).astype(np.intp)
    day = np.concatenate([(cells // n_types) % n_days, *planted.day]).astype(np.int64)
    typ = np.concatenate([cells % n_types, *planted.typ]).astype(np.intp)
    mark = np.concatenate([np.full(cells.size, -1, dtype=np.int16), *planted.mark])
    fixed_x = np.concatenate([np.zeros(0), *planted.x])
    fixed_y = np.concatenate([np.zeros(0), *planted.y])
    del cells
    cols = attributes(rng, geo, start_us, months, sec, day, typ, fixed_x, fixed_y)
    del sec, day, typ
    cols["planted"] = mark
    order = np.argsort(cols["occurred_at"], kind="stable")
    sorted_cols = {name: cols.pop(name)[order] for name in _COLUMNS}
    return Scenario(**sorted_cols, section_ids=tuple(s.id for s in geo.sections), truth=truth,
                    seed=seed, start_us=start_us, end_us=start_us + n_days * DAY_US)


def live_events(rate_per_minute: float, *, seed: int,
                now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Endless new reports with the scenario's mix, as a live feed would bring them.

    Reports arrive as a Poisson process of ``rate_per_minute``. With ``now``
    given the clock is simulated: the first report is stamped ``now`` plus one
    gap and nothing sleeps. With ``now=None`` the generator sleeps between
    reports and stamps them with the wall clock. ``reported_at`` is the arrival,
    ``occurred_at`` minutes to hours before it; status is ``reported``.
    """
    if rate_per_minute <= 0:
        raise ValueError("rate_per_minute must be positive")
    rng = np.random.Generator(np.random.PCG64(seed))
    clock = now.astimezone(UTC) if now is not None else datetime.now(UTC)
    pool = generate(0.25, seed=seed, start=(clock - timedelta(days=92)).date(), anomalies=False)
    while True:
        gap = float(rng.exponential(60.0 / rate_per_minute))
        if now is None:
            time.sleep(gap)
            clock = datetime.now(UTC)
        else:
            clock += timedelta(seconds=gap)
        i = int(rng.integers(len(pool)))
        item = pool.payload(i)
        delay = int(pool.reported_at[i] - pool.occurred_at[i])
        stamp = _micros(clock)
        item.update(reported_at=_iso(stamp), occurred_at=_iso(stamp - delay), status="reported")
        yield item
