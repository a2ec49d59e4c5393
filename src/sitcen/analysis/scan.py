"""Prospective space-time permutation scan (Kulldorff et al. 2005) for emerging clusters.

Candidate clusters are cylinders: a circle (centred on an event location,
radius from a fixed list up to ``max_radius_km``) times a run of days ending
on the last day (1 to ``max_days`` days). Under the null hypothesis the days
of the events are exchangeable between places, so the expected count of a
cylinder is ``(events in the circle over the whole window) x (events anywhere
in its days) / (all events)``. Each cylinder gets the Poisson generalised
likelihood ratio ``c log(c / mu) + (N - c) log((N - c) / (N - mu))`` (when
``c > mu``); the most likely cluster is the one with the largest. Its p-value
comes from Monte Carlo: the days are permuted among the events (locations
fixed) ``replicates`` times and the scan is rerun on each copy.

Vectorised: one sparse membership matrix (centres x locations) per radius and,
per batch of replicates, one sparse product with the locations' counts over the
last 1..``max_days`` days. See docs/early-warning.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from scipy import sparse

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

DEFAULT_RADII_KM = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)


@dataclass(frozen=True)
class Cluster:
    """A candidate cluster with its Monte Carlo p-value."""

    centre_x: float
    centre_y: float
    radius_km: float
    days: int  # the cluster covers the last ``days`` days of the window
    observed: int
    expected: float
    llr: float
    p_value: float
    members: I64 = field(repr=False)  # indexes of the events in the cylinder


@dataclass(frozen=True)
class ScanResult:
    """The most likely cluster first, then secondary clusters not overlapping it."""

    clusters: list[Cluster]
    replicates: int  # replicates actually run (fewer when stopped early)
    events: int
    null_maxima: F64 = field(default_factory=lambda: np.zeros(0), repr=False)

    def critical_value(self, alpha: float) -> float:
        """The LLR a cluster must exceed for ``p <= alpha`` (inf if no replicate count allows it).

        ``p = (1 + m) / (1 + R)`` with ``m`` replicates whose maximum reaches the
        cluster's LLR: ``p <= alpha`` needs ``m <= alpha (1 + R) - 1``, i.e. an LLR
        above the (m + 1)-th largest replicate maximum.
        """
        allowed = math.floor(alpha * (1 + self.null_maxima.size) - 1 + 1e-9)
        if allowed < 0:
            return math.inf
        if allowed >= self.null_maxima.size:
            return 0.0
        return float(np.sort(self.null_maxima)[::-1][allowed])

    def frame(self) -> pd.DataFrame:
        """The clusters as a table (members as lists of event indexes)."""
        return pd.DataFrame([{
            "centre_x": c.centre_x, "centre_y": c.centre_y, "radius_km": c.radius_km,
            "days": c.days, "observed": c.observed, "expected": c.expected, "llr": c.llr,
            "p_value": c.p_value, "members": c.members.tolist()} for c in self.clusters],
            columns=["centre_x", "centre_y", "radius_km", "days", "observed", "expected",
                     "llr", "p_value", "members"])


def poisson_glr(c: F64, mu: F64, total: float) -> F64:
    """Kulldorff's log-likelihood ratio of a cylinder with ``c`` observed, ``mu`` expected.

    ``c log(c/mu) + (N - c) log((N - c)/(N - mu))`` when ``c > mu``, else 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(c > 0, c * np.log(c / mu), 0.0)
        rest = total - c
        outside = np.where(rest > 0, rest * np.log(rest / (total - mu)), 0.0)
        llr = inside + outside
    result: F64 = np.where((c > mu) & (mu > 0), llr, 0.0)
    return result


@dataclass(frozen=True)
class _Zones:
    centres: I64  # location index of each centre
    radii: tuple[float, ...]
    members: list[sparse.csr_matrix]  # per radius: centres x locations, 1 = inside


def _zones(x: F64, y: F64, radii: tuple[float, ...]) -> _Zones:
    from scipy import sparse
    from scipy.spatial import cKDTree
    tree = cKDTree(np.column_stack([x, y]))
    dist = tree.sparse_distance_matrix(tree, max(radii), output_type="coo_matrix")
    n = x.size
    # sparse_distance_matrix omits zero distances (the centre itself, duplicates): add them.
    rows = np.concatenate([dist.row, np.arange(n)])
    cols = np.concatenate([dist.col, np.arange(n)])
    d = np.concatenate([dist.data, np.zeros(n)])
    members = []
    for r in radii:
        keep = d <= r + 1e-9
        m = sparse.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n))
        m.data[:] = 1.0  # duplicates summed: back to indicators
        members.append(m)
    return _Zones(np.arange(n, dtype=np.int64), radii, members)


def _recent(loc: I64, age: I64, n_loc: int, max_days: int, n_rep: int) -> F64:
    """Counts per location of events in the last 1..max_days days, for ``n_rep`` day vectors.

    ``age`` is ``[n_rep, events]`` (0 = last day). Returns ``[locations, max_days * n_rep]``
    with column ``r * max_days + (d - 1)`` = replicate r, last d days.
    """
    keep = age < max_days
    rep = np.broadcast_to(np.arange(n_rep)[:, None], age.shape)[keep]
    li = np.broadcast_to(loc[None, :], age.shape)[keep]
    flat = (li * n_rep + rep) * max_days + age[keep]
    counts = np.bincount(flat, minlength=n_loc * n_rep * max_days).astype(np.float64)
    out: F64 = np.cumsum(counts.reshape(n_loc, n_rep, max_days), axis=2).reshape(n_loc, -1)
    return out


def _scan_stats(zones: _Zones, recent: F64, n_zone: list[F64], n_day: F64, total: float,
                max_days: int) -> list[F64]:
    """LLR per radius: arrays ``[centres, n_rep, max_days]``."""
    out = []
    for m, nz in zip(zones.members, n_zone, strict=True):
        c = np.asarray(m @ recent).reshape(m.shape[0], -1, max_days)
        mu = nz[:, None, None] * n_day[None, None, :] / total
        out.append(poisson_glr(c, mu, total))
    return out


def space_time_scan(x: npt.ArrayLike, y: npt.ArrayLike, day: npt.ArrayLike, *,
                    max_radius_km: float = 10.0, radii_km: tuple[float, ...] | None = None,
                    max_days: int = 7, replicates: int = 999, seed: int = 0,
                    batch: int = 50, stop_above: float | None = None,
                    max_clusters: int = 5, cell_km: float = 0.0) -> ScanResult:
    """Prospective space-time permutation scan of events at ``(x, y)`` km on integer ``day``.

    The window is ``min(day) .. max(day)``; cylinders end on ``max(day)``. Centres
    are the distinct locations (after snapping to ``cell_km`` squares when > 0).
    ``replicates`` permutations give p = (1 + replicates with a larger maximum)
    / (1 + replicates), for the most likely and (conservatively) the secondary
    clusters, which share no location with a cluster listed before them.
    With ``stop_above`` set, the replicates stop once the most likely cluster's
    p-value is certain to exceed it (sequential Monte Carlo, Besag and Clifford
    1991); the p-values are then estimated from the replicates run.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    days = np.asarray(day, dtype=np.int64)
    n = xs.size
    if n == 0:
        return ScanResult([], 0, 0)
    radii = tuple(sorted(radii_km)) if radii_km else tuple(
        r for r in DEFAULT_RADII_KM if r <= max_radius_km) or (max_radius_km,)
    if cell_km > 0:
        key = np.column_stack([np.floor(xs / cell_km), np.floor(ys / cell_km)])
        _, loc_idx, loc = np.unique(key, axis=0, return_index=True, return_inverse=True)
    else:
        _, loc_idx, loc = np.unique(np.column_stack([xs, ys]), axis=0, return_index=True,
                                    return_inverse=True)
    loc = loc.ravel().astype(np.int64)
    lx, ly = xs[loc_idx], ys[loc_idx]
    n_loc = lx.size
    zones = _zones(lx, ly, radii)
    age = days.max() - days
    total = float(n)
    loc_total = np.bincount(loc, minlength=n_loc).astype(np.float64)
    n_zone = [np.asarray(m @ loc_total).ravel() for m in zones.members]
    by_age = np.bincount(np.minimum(age, max_days), minlength=max_days + 1)[:max_days]
    n_day: F64 = np.cumsum(by_age).astype(np.float64)
    observed = _scan_stats(zones, _recent(loc, age[None, :], n_loc, max_days, 1), n_zone,
                           n_day, total, max_days)
    best_obs = max(float(s.max()) for s in observed)
    rng = np.random.Generator(np.random.PCG64(seed))
    maxima: list[F64] = []
    done = 0
    while done < replicates:
        b = min(batch, replicates - done)
        perm = rng.permuted(np.broadcast_to(age, (b, n)), axis=1)
        stats_b = _scan_stats(zones, _recent(loc, perm, n_loc, max_days, b), n_zone, n_day,
                              total, max_days)
        maxima.append(np.max([s.max(axis=(0, 2)) for s in stats_b], axis=0))
        done += b
        if stop_above is not None:
            exceed = int((np.concatenate(maxima) >= best_obs - 1e-9).sum())
            if (1 + exceed) / (1 + replicates) > stop_above:
                break
    null_max = np.concatenate(maxima) if maxima else np.zeros(0)
    clusters = _clusters(zones, observed, n_zone, n_day, total, null_max, loc, age, lx, ly,
                         max_days, max_clusters)
    return ScanResult(clusters, done, n, null_max)


def _clusters(zones: _Zones, observed: list[F64], n_zone: list[F64], n_day: F64, total: float,
              null_max: F64, loc: I64, age: I64, lx: F64, ly: F64, max_days: int,
              max_clusters: int) -> list[Cluster]:
    """Most likely cluster and secondary ones sharing no location with those before them."""
    llr = np.stack([s[:, 0, :] for s in observed])  # [radius, centre, days]
    order = np.argsort(llr, axis=None)[::-1]
    taken = np.zeros(lx.size, dtype=bool)
    out: list[Cluster] = []
    for flat in order[: 20_000]:
        value = float(llr.flat[flat])
        if value <= 0 or len(out) >= max_clusters:
            break
        ri, ci, di = np.unravel_index(flat, llr.shape)
        m = zones.members[ri]
        inside = m.indices[m.indptr[ci]:m.indptr[ci + 1]]
        if taken[inside].any():
            continue
        taken[inside] = True
        d = int(di) + 1
        members = np.flatnonzero(np.isin(loc, inside) & (age < d))
        p = (1 + int((null_max >= value - 1e-9).sum())) / (1 + null_max.size)
        mu = float(n_zone[ri][ci] * n_day[di] / total)
        out.append(Cluster(float(lx[ci]), float(ly[ci]), zones.radii[ri], d, int(members.size),
                           mu, value, p, members.astype(np.int64)))
    return out
