"""Alerts: the signals of the charts and of the space-time scan, fused per section and episode.

A *signal* is one detector's alarm: a run of alarming days of one chart series
(:func:`sitcen.analysis.early_warning.alarms`) or one significant cluster of
the prospective scan (:func:`scan_signals`). A duty officer should not get
five messages for one surge, so :func:`fuse` merges the signals of a section
whose days touch or lie at most ``merge_gap_days`` apart into one **alert**:
an episode with a first and last day, a severity, the methods that saw it, a
plain-words explanation and the events behind it. The alert's ``key`` (section
and first day) is stable when the same history is run again day after day, so
a store can update the alert in place as the episode goes on.

Pure functions over tables (docs/architecture.md, principle 6): the storing of alerts as
journal records of kind ``alert`` happens elsewhere, from :meth:`Alert.to_dict`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from sitcen.analysis.early_warning import SIGNAL_COLUMNS, event_days, event_keys, monitor
from sitcen.analysis.scan import ScanResult, space_time_scan
from sitcen.geo import project, unproject
from sitcen.taxonomy import Category, category_of

EventId = str | int
ALERT_NAMESPACE = uuid.UUID("5d0c1f4e-8a7b-4f53-9c1e-2f6a3b7d9e10")  # uuid5 of the alert keys
SEVERITIES = ("low", "medium", "high")
METHOD_NAMES = {"cusum": "CUSUM chart", "spike": "spike test", "scan": "space-time scan"}
EVIDENCE_LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class Alert:
    """One warning to the duty officer: a section, an episode, and why."""

    key: str  # "early-warning:<section>:<first day>", the deduplication key
    section_id: str
    category: str  # of the strongest signal
    type: str | None  # of the strongest signal, when it is a type series or a cluster of one type
    first_day: date
    last_day: date
    severity: str  # low | medium | high
    methods: tuple[str, ...]  # cusum, spike, scan
    statistic: float  # of the strongest signal, with its threshold
    threshold: float
    expected: float  # over the strongest signal's days
    observed: int
    p_value: float  # chance of the strongest signal's count or more under the usual pattern
    explanation: str
    event_ids: tuple[EventId, ...]
    signals: int  # how many detector signals were fused

    @property
    def id(self) -> uuid.UUID:
        """A UUID derived from :attr:`key`: the same episode always gets the same id."""
        return uuid.uuid5(ALERT_NAMESPACE, self.key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (dates as ISO strings, event ids as a list)."""
        return {
            "id": str(self.id), "key": self.key, "section_id": self.section_id,
            "category": self.category, "type": self.type,
            "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
            "severity": self.severity, "methods": list(self.methods),
            "statistic": _finite(self.statistic), "threshold": _finite(self.threshold),
            "expected": _finite(self.expected), "observed": self.observed,
            "p_value": _finite(self.p_value), "explanation": self.explanation,
            "event_ids": list(self.event_ids), "signals": self.signals,
        }


def _finite(value: float) -> float | None:
    return float(f"{value:.6g}") if math.isfinite(value) else None


def severity_of(observed: float, expected: float, p_value: float, corroborated: bool) -> str:
    """How much the duty officer should care, in three steps.

    ``high``: at least 5 events more than expected, with a chance under 1 in a
    million under the usual pattern; ``medium``: at least 3 more, under 1 in
    10,000; ``low`` otherwise. One step up when the charts and the space-time
    scan (independent methods) both saw the episode.
    """
    excess = observed - expected
    step = 2 if p_value <= 1e-6 and excess >= 5 else 1 if p_value <= 1e-4 and excess >= 3 else 0
    if corroborated:
        step = min(step + 1, 2)
    return SEVERITIES[step]


# ----------------------------------------------------------------------------- scan signals


def scan_signals(result: ScanResult, *, day: date | pd.Timestamp, section_ids: Sequence[str | None],
                 event_ids: Sequence[EventId], types: Sequence[str], label: str,
                 alpha: float) -> pd.DataFrame:
    """Signals of the clusters of one scan with ``p_value <= alpha``.

    ``section_ids``, ``event_ids`` and ``types`` describe the scanned events in
    the order given to :func:`~sitcen.analysis.scan.space_time_scan`; ``day`` is
    its last day (the signal's first and last day: when the scan warned; the
    counts cover the cylinder's ``days``) and ``label`` what was scanned (e.g. a
    category). A cluster
    belongs to the section most of its events lie on (clusters wholly inland
    are left out); its ``type`` is set when one type makes most of it.
    """
    rows = []
    last = pd.Timestamp(day)
    for c in result.clusters:
        if c.p_value > alpha:
            continue
        secs = pd.Series([section_ids[i] for i in c.members]).dropna()
        if secs.empty:
            continue
        section = str(secs.mode().iloc[0])
        kinds = pd.Series([types[i] for i in c.members]).value_counts()
        main = str(kinds.index[0]) if kinds.iloc[0] * 2 > kinds.sum() else None
        lon, lat = (float(v) for v in unproject(c.centre_x, c.centre_y))
        ratio = c.observed / c.expected if c.expected > 0 else math.inf
        what = _words(main) if main else _words(label)
        rows.append({
            "section_id": section, "level": "scan", "key": label,
            "category": category_of(main).value if main else label, "type": main,
            "first_day": last, "last_day": last, "days": c.days, "methods": "scan",
            "observed": c.observed, "expected": round(c.expected, 3), "ratio": round(ratio, 2),
            "statistic": round(c.llr, 3), "threshold": round(result.critical_value(alpha), 3),
            "p_value": c.p_value,
            "explanation": (f"cluster of {c.observed} {what} events within {c.radius_km:g} km "
                            f"of {lat:.4f} N {lon:.4f} E over {c.days} days to {last.date()}, "
                            f"against {c.expected:.1f} expected ({ratio:.1f}x); space-time "
                            f"scan p = {c.p_value:.3g} ({result.replicates} replicates)"),
            "event_ids": tuple(event_ids[i] for i in c.members),
        })
    return pd.DataFrame(rows, columns=[*SIGNAL_COLUMNS, "event_ids"])


def _words(name: str) -> str:
    return name.replace("_", " ")


# ----------------------------------------------------------------------------- fusion


def _day_numbers(values: pd.Series) -> list[int]:
    epoch = pd.Timestamp("1970-01-01")
    return [int((pd.Timestamp(v) - epoch).days) for v in values]


def _chart_event_ids(events: pd.DataFrame, signals: pd.DataFrame) -> list[tuple[EventId, ...]]:
    """For each chart signal: the events its counts cover (its series, its ``days`` days)."""
    if events.empty or signals.empty:
        return [() for _ in range(len(signals))]
    ids = events["id"].to_numpy() if "id" in events else events.index.to_numpy()
    day = event_days(events["occurred_at"])
    section = events["section_id"].to_numpy(dtype=object)
    by_level = {"category": event_keys(events, "category"), "type": event_keys(events, "type")}
    out: list[tuple[EventId, ...]] = []
    for level, sec, key, d1, n_days in zip(
            signals["level"].astype(str), signals["section_id"].astype(str),
            signals["key"].astype(str), _day_numbers(signals["last_day"]),
            signals["days"].astype(int), strict=True):
        if level not in by_level:
            out.append(())
            continue
        sel = ((section == sec) & (by_level[level] == key) & (day > d1 - n_days)
               & (day <= d1))
        out.append(tuple(ids[sel].tolist()))
    return out


def fuse(signals: pd.DataFrame, events: pd.DataFrame | None = None, *,
         merge_gap_days: int = 2) -> list[Alert]:
    """Merge the signals of each section into alerts, one per episode.

    Signals of a section are taken in order of their first day; one joins the
    open episode when its evidence begins at most ``merge_gap_days`` after the
    episode's last day, else it opens a new one. A signal's evidence begins
    where its counts do (the CUSUM's estimate of the onset, a cluster's first
    day), at most :data:`EVIDENCE_LOOKBACK_DAYS` before it warned: a CUSUM that
    restarts after an alarm and alarms again three days later, on the same
    surge, stays in the same alert. The strongest signal (smallest
    ``p_value``, then largest ratio) gives the alert its category, type,
    statistic, counts and the first sentence of its explanation; the others
    are listed after it. The events behind the alert are the scan clusters'
    members and, from ``events`` (columns as for
    :func:`~sitcen.analysis.early_warning.daily_counts`, ids from an ``id``
    column or the index), the events of each chart signal's series and days.
    """
    if signals.empty:
        return []
    table = signals.reset_index(drop=True)
    chart_ids = _chart_event_ids(events if events is not None else pd.DataFrame(), table)
    scan_ids = table["event_ids"].tolist() if "event_ids" in table else [None] * len(table)
    member_ids = [tuple(s) if isinstance(s, tuple) else c
                  for s, c in zip(scan_ids, chart_ids, strict=True)]
    sections = table["section_id"].astype(str).tolist()
    first = _day_numbers(table["first_day"])
    last = _day_numbers(table["last_day"])
    # Where a signal's evidence begins: its counts cover `days` days to its last day,
    # looking back at most a week before it warned.
    since = [max(min(f, end - int(d) + 1), f - EVIDENCE_LOOKBACK_DAYS)
             for f, end, d in zip(first, last, table["days"], strict=True)]
    order = sorted(range(len(table)), key=lambda i: (sections[i], first[i], last[i]))
    episodes: list[list[int]] = []
    for i in order:
        current = episodes[-1] if episodes else []
        if (current and sections[current[0]] == sections[i]
                and since[i] <= max(last[j] for j in current) + merge_gap_days):
            current.append(i)
        else:
            episodes.append([i])
    alerts = [_alert(sections[e[0]], table.iloc[e], [member_ids[i] for i in e])
              for e in episodes]
    return sorted(alerts, key=lambda a: (a.first_day, a.section_id))


def _alert(section: str, rows: pd.DataFrame, member_ids: list[tuple[EventId, ...]]) -> Alert:
    ranked = rows.assign(_r=-rows["ratio"].astype(float)).sort_values(["p_value", "_r"])
    lead = ranked.iloc[0]
    methods = tuple(sorted({m for ms in rows["methods"] for m in str(ms).split("+") if m}))
    first = pd.Timestamp(rows["first_day"].min()).date()
    last = pd.Timestamp(rows["last_day"].max()).date()
    ids: dict[EventId, None] = {}
    for members in member_ids:
        ids.update(dict.fromkeys(members))
    corroborated = "scan" in methods and len(methods) > 1
    severity = severity_of(float(lead["observed"]), float(lead["expected"]),
                           float(lead["p_value"]), corroborated)
    others = [str(e) for e in ranked["explanation"].iloc[1:]]
    seen_by = " and ".join(METHOD_NAMES.get(m, m) for m in methods)
    lines = [f"{severity.capitalize()} alert on {section} from {first} to {last}, seen by the "
             f"{seen_by} ({len(rows)} signal{'s' if len(rows) > 1 else ''}, "
             f"{len(ids)} event{'s' if len(ids) != 1 else ''}).",
             f"Strongest: {lead['explanation']}."]
    if others:
        lines.append("Also: " + "; ".join(others[:3]) + ("; ..." if len(others) > 3 else "."))
    types = {t for t in rows["type"] if isinstance(t, str)}
    kind = lead["type"] if isinstance(lead["type"], str) else (
        types.pop() if len(types) == 1 else None)
    return Alert(
        key=f"early-warning:{section}:{first.isoformat()}", section_id=section,
        category=str(lead["category"]), type=kind, first_day=first, last_day=last,
        severity=severity, methods=methods, statistic=float(lead["statistic"]),
        threshold=float(lead["threshold"]), expected=float(lead["expected"]),
        observed=int(lead["observed"]), p_value=float(lead["p_value"]),
        explanation=" ".join(lines), event_ids=tuple(ids), signals=len(rows))


def alerts_frame(alerts: Sequence[Alert]) -> pd.DataFrame:
    """The alerts as a table (one row each, the fields of :meth:`Alert.to_dict`)."""
    columns = ["id", "key", "section_id", "category", "type", "first_day", "last_day",
               "severity", "methods", "statistic", "threshold", "expected", "observed",
               "p_value", "explanation", "event_ids", "signals"]
    return pd.DataFrame([a.to_dict() for a in alerts], columns=columns)


# ----------------------------------------------------------------------------- detection


#: Days of events the space-time scan looks at (its window), and the p-value it
#: alarms at: with one scan a day per category, 0.002 is one false cluster in
#: about 500 days per category (docs/early-warning.md).
SCAN_WINDOW_DAYS = 28


SCAN_ALPHA = 0.002


#: Alerts are recorded while their episode is at most this many days old: the
#: charts run over the whole history (their baselines need it), but episodes
#: that ended long ago are history, not news for the duty officer.
ALERT_DAYS = 30


#: Days of history the charts run over: two earlier years for the seasonal
#: ratio, plus the baseline window and guard before them.
CHART_HISTORY_DAYS = 2 * 365 + 90


#: Signals that ended this long before the alert horizon cannot join a recent
#: episode (episodes chain signals at most a few days apart) and are not fused.
_FUSE_MARGIN_DAYS = 60


def _day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def detect_alarms(events: pd.DataFrame, *, section_ids: Sequence[str], today: date,
                  replicates: int = 999, alert_days: int = ALERT_DAYS,
                  progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Alerts of the charts (every section, category and type) and of the scan, as dicts.

    The charts run over the events of the :data:`CHART_HISTORY_DAYS` up to
    ``today``; the scan over the last
    :data:`SCAN_WINDOW_DAYS` days, one stream per category, with a seed fixed
    by the day and category (the same events give the same p-values, so a
    rerun finds the same alerts). Signals of one section and episode are
    fused into one alert (:func:`sitcen.analysis.alerts.fuse`); alerts whose
    last day is more than ``alert_days`` before ``today`` are left out.
    """
    if events.empty:
        return []
    today_n = _day_number(today)
    days = event_days(events["occurred_at"])
    events = events[days <= today_n]
    days = days[days <= today_n]
    if events.empty:
        return []
    first = max(date(1970, 1, 1) + timedelta(days=int(days.min())),
                today - timedelta(days=CHART_HISTORY_DAYS))
    steps = 1 + len(Category)
    signals = [monitor(events, start=first, end=today + timedelta(days=1),
                       section_ids=section_ids)]
    if progress is not None:
        progress(1, steps)
    recent = (days > today_n - SCAN_WINDOW_DAYS) & events["lon"].notna().to_numpy() & (
        events["lat"].notna().to_numpy())
    for step, category in enumerate(Category, start=2):
        sel = recent & (events["category"] == category.value).to_numpy()
        part = events[sel]
        if len(part) >= 2:
            x, y = project(part["lon"].to_numpy(), part["lat"].to_numpy())
            part_days = days[sel]
            seed = (today_n * 31 + step) % (2**32)
            result = space_time_scan(x, y, part_days, replicates=replicates, seed=seed,
                                     stop_above=SCAN_ALPHA)
            last = date(1970, 1, 1) + timedelta(days=int(part_days.max()))
            signals.append(scan_signals(
                result, day=last, section_ids=part["section_id"].tolist(),
                event_ids=part["id"].tolist(), types=part["type"].tolist(),
                label=category.value, alpha=SCAN_ALPHA))
        if progress is not None:
            progress(step, steps)
    oldest = today - timedelta(days=alert_days)
    horizon = pd.Timestamp(oldest - timedelta(days=_FUSE_MARGIN_DAYS))
    found = [s[pd.to_datetime(s["last_day"]) >= horizon] for s in signals if len(s)]
    found = [s for s in found if len(s)]
    if not found:
        return []
    alerts = fuse(pd.concat(found, ignore_index=True), events)
    return [a.to_dict() for a in alerts if a.last_day >= oldest]
