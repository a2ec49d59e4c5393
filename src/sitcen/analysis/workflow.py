"""Figures of the shift's work, from recorded timestamps: time in queue, response times, alerts.

Pure functions over tables (docs/architecture.md, principle 6): the caller reads the
stays, tasks or alerts from the store and passes their times; nothing here reads a
clock or a database. Durations are summarised as count, median and 90th percentile
(linear interpolation between the closest ranks, as numpy's default), in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np
import pandas as pd


def day_in(micros: int, zone: tzinfo) -> str:
    """The calendar day (YYYY-MM-DD) of an instant in µs since the epoch, in ``zone``."""
    return datetime.fromtimestamp(micros / 1e6, UTC).astimezone(zone).date().isoformat()


def summarise(seconds: Sequence[float] | np.ndarray[Any, Any]) -> dict[str, Any]:
    """Count, median and 90th percentile of durations in seconds (None when there are none)."""
    values = np.asarray(seconds, dtype=float)
    if not values.size:
        return {"count": 0, "median_s": None, "p90_s": None}
    return {"count": int(values.size), "median_s": round(float(np.median(values)), 3),
            "p90_s": round(float(np.percentile(values, 90)), 3)}


def durations_by(rows: Iterable[Mapping[str, Any]], keys: Sequence[str], *, start: str,
                 end: str) -> list[dict[str, Any]]:
    """Per group of ``keys``: count, median and p90 of ``end - start`` (µs fields), in seconds.

    Rows without an end (still waiting, not yet on scene) are left out. Groups
    come sorted by their keys.
    """
    frame = pd.DataFrame(list(rows))
    if frame.empty or end not in frame:
        return []
    frame = frame[frame[end].notna()]
    if frame.empty:
        return []
    frame = frame.assign(seconds=(frame[end].astype("int64") - frame[start].astype("int64"))
                         / 1e6)
    out = []
    for group, part in frame.groupby(list(keys), sort=True, dropna=False):
        values = group if isinstance(group, tuple) else (group,)
        out.append({**{k: (None if v is None or v != v else v)  # NaN: no value
                       for k, v in zip(keys, values, strict=True)},
                    **summarise(part["seconds"].to_numpy())})
    return out


def false_alarm_rate(outcomes: Iterable[str]) -> dict[str, Any]:
    """Closed alerts by outcome, and the share closed as false alarms (None when none)."""
    counts: dict[str, int] = {"confirmed": 0, "false_alarm": 0, "already_known": 0}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    closed = sum(counts.values())
    return {"closed": closed, "by_outcome": counts,
            "false_alarm_rate": None if closed == 0 else round(counts["false_alarm"] / closed, 4)}
