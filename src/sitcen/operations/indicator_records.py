"""Monthly indicator records: a member's figures for one month on the common list.

One ``indicator_record`` per country x month x indicator (docs/network.md,
docs/decisions.md): its values, one per breakdown cell (a place, a
nationality, a document kind, a substance, or none for the total), each
saying where it came from (derived from events, entered, imported). Records go
through the one write path like every other record; a revision is the next
version of the same record and carries its reason, and the older versions stay
in the history.

Before a month is written it is checked (:func:`check_month`): breakdowns the
indicator takes, values of the right kind, one value per cell, every breakdown
summing to the stated total, and the total against the forecast of the
country's own series: a month outside the forecast's 95 % interval is written
only once confirmed. :func:`derive_month` counts what the node's events give.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa

from sitcen.analysis.forecast import forecast
from sitcen.indicator_list import (
    INDICATORS,
    LIST_VERSION,
    Breakdown,
    Counted,
    Indicator,
    IndicatorUnit,
)
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import (
    HANDLING,
    StoredRecord,
    list_records,
    next_version,
    own_record_id,
    record_history,
    write_own,
)
from sitcen.taxonomy import DocumentKind, Substance

KIND = RecordKind.indicator_record
#: A month as ``YYYY-MM``, in years a monthly statistic can be about.
MONTH_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"
MONTH_RE = re.compile(MONTH_PATTERN)
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
#: Months of a country's own series the jump check forecasts from (at least, at most).
MIN_HISTORY, MAX_HISTORY = 12, 120
#: The largest value a cell may hold (a guard against a misplaced column, not a quota).
MAX_VALUE = 1e9
#: The most cells one indicator's month may have.
MAX_CELLS = 5000
_WHOLE_UNITS = frozenset(IndicatorUnit) - {IndicatorUnit.kg}
BREAKDOWNS: tuple[str, ...] = tuple(b.value for b in Breakdown)
#: The place and nationality of a derived value when the event names none.
UNPLACED, UNKNOWN_NATIONALITY = "unplaced", "XX"


class Source(StrEnum):
    """Where a value came from."""

    derived = "derived"  # counted from the node's single-event reports
    entered = "entered"  # typed in by an analyst
    imported = "imported"  # read from a filled-in template


@dataclass(frozen=True)
class IndicatorValue:
    """One cell of a month: its breakdown (None where not broken down), value and source."""

    value: float
    source: Source
    place: str | None = None
    nationality: str | None = None
    document_kind: str | None = None
    substance: str | None = None

    @property
    def cell(self) -> tuple[str | None, ...]:
        """The breakdown, in :data:`BREAKDOWNS` order."""
        return (self.place, self.nationality, self.document_kind, self.substance)

    @property
    def is_total(self) -> bool:
        """Whether this is the indicator's total (no breakdown)."""
        return all(part is None for part in self.cell)

    @property
    def shape(self) -> tuple[str, ...]:
        """The breakdowns this value is by (``()`` for the total)."""
        return tuple(name for name, part in zip(BREAKDOWNS, self.cell, strict=True)
                     if part is not None)

    def to_dict(self) -> dict[str, Any]:
        """The stored and answered form (absent breakdowns left out)."""
        out: dict[str, Any] = {name: part for name, part in zip(BREAKDOWNS, self.cell,
                                                                 strict=True)
                               if part is not None}
        number = int(self.value) if float(self.value).is_integer() else self.value
        return {**out, "value": number, "source": self.source.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndicatorValue:
        """A value from its stored form."""
        return cls(value=float(data["value"]), source=Source(data["source"]),
                   **{name: data.get(name) for name in BREAKDOWNS})


@dataclass(frozen=True)
class Finding:
    """Something wrong with one value of a month, or a jump to confirm.

    ``index`` is the value's place in the list checked (None: the month as a
    whole), ``column`` the breakdown or ``value`` concerned. ``confirm`` marks
    a finding that confirmation lets through (an implausible jump); every
    other finding refuses the month.
    """

    index: int | None
    column: str
    reason: str
    confirm: bool = False


class IndicatorError(ValueError):
    """A month refused, with every finding (and, for an import, the rows)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__("; ".join(f.reason for f in findings))
        self.findings = list(findings)


# ----------------------------------------------------------------------------- keys


def record_key(country: str, month: str, indicator_id: str) -> str:
    """The subject of the record of a country's month on one indicator."""
    return f"{country}|{month}|{indicator_id}"


def month_range(month: str) -> tuple[int, int]:
    """The month's first and next month's first instant, in microseconds (UTC)."""
    period = pd.Period(month, freq="M")
    start = int(period.start_time.tz_localize("UTC").timestamp()) * 1_000_000
    end = int((period + 1).start_time.tz_localize("UTC").timestamp()) * 1_000_000
    return start, end


def check_month_text(month: str) -> str:
    """The month (``YYYY-MM``), or ValueError."""
    if not MONTH_RE.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    return month


# ----------------------------------------------------------------------------- reading


def current_record(engine: sa.Engine, node_id: str, country: str, month: str,
                   indicator_id: str) -> StoredRecord | None:
    """The record of a country's month on one indicator: the node's own, else one received."""
    found = list_records(engine, KIND, subject=record_key(country, month, indicator_id),
                         limit=50)
    own = [r for r in found if r.origin == node_id]
    chosen = own or found
    return chosen[0] if chosen else None


def month_records(engine: sa.Engine, node_id: str, country: str,
                  month: str) -> list[StoredRecord]:
    """Every indicator's record of a country's month, in the list's order."""
    keys = [record_key(country, month, i) for i in INDICATORS]
    held: dict[str, StoredRecord] = {}
    for stored in list_records(engine, KIND, subjects=keys, limit=10_000):
        indicator_id = str(stored.body.get("indicator"))
        if indicator_id not in held or (stored.origin == node_id
                                        and held[indicator_id].origin != node_id):
            held[indicator_id] = stored
    return [held[i] for i in INDICATORS if i in held]


def record_versions(engine: sa.Engine, record: StoredRecord) -> list[dict[str, Any]]:
    """Every version of a record, oldest first, each with its body's fields."""
    return [{"version": v["version"], "recorded_at": v["recorded_at"], **v["body"]}
            for v in record_history(engine, record.id)]


def values_of(record: StoredRecord) -> list[IndicatorValue]:
    """The values of a stored record."""
    return [IndicatorValue.from_dict(v) for v in record.body.get("values", [])]


def series_before(engine: sa.Engine, node_id: str, country: str, month: str,
                  indicator_id: str) -> pd.Series:
    """The country's monthly totals on an indicator up to the month before ``month``.

    Only the unbroken run of months that ends just before ``month`` (at most
    :data:`MAX_HISTORY`): a month never sent is unknown, not zero.
    """
    last = pd.Period(month, freq="M") - 1
    months = pd.period_range(end=last, periods=MAX_HISTORY, freq="M")
    keys = {record_key(country, str(m), indicator_id): m for m in months}
    totals: dict[pd.Period, float] = {}
    origins: dict[pd.Period, str] = {}
    for stored in list_records(engine, KIND, subjects=list(keys), limit=10 * MAX_HISTORY):
        period = keys.get(stored.subject or "")
        if period is None or (period in origins and origins[period] == node_id):
            continue
        totals[period] = float(stored.body.get("total", 0.0))
        origins[period] = stored.origin
    run: list[pd.Period] = []
    for period in reversed(months):
        if period not in totals:
            break
        run.append(period)
    run.reverse()
    index = pd.PeriodIndex(run, freq="M", name="month")
    return pd.Series([totals[p] for p in run], index=index, dtype=float, name=indicator_id)


# ----------------------------------------------------------------------------- checks


def total_of(values: Sequence[IndicatorValue]) -> float:
    """The month's total: the total cell when given, else the sum of the finest breakdown."""
    for value in values:
        if value.is_total:
            return value.value
    by_shape: dict[tuple[str, ...], float] = defaultdict(float)
    for value in values:
        by_shape[value.shape] += value.value
    if not by_shape:
        return 0.0
    finest = max(by_shape, key=len)
    return round(by_shape[finest], 6)


def check_values(item: Indicator, values: Sequence[IndicatorValue]) -> list[Finding]:
    """What is wrong with a month's values on ``item``, the jump check aside."""
    findings: list[Finding] = []
    if len(values) > MAX_CELLS:
        return [Finding(None, "values", f"{len(values)} values; at most {MAX_CELLS}")]
    allowed = {b.value for b in item.breakdowns}
    seen: dict[tuple[str | None, ...], int] = {}
    for i, value in enumerate(values):
        findings += _check_cell(i, value, item, allowed)
        if value.cell in seen:
            findings.append(Finding(i, "value", f"the same breakdown as value {seen[value.cell]}"
                                    " (one value per cell)"))
        else:
            seen[value.cell] = i
    if findings:
        return findings
    totals = [i for i, v in enumerate(values) if v.is_total]
    if totals:
        stated = values[totals[0]].value
        by_shape: dict[tuple[str, ...], list[float]] = defaultdict(list)
        for value in values:
            if not value.is_total:
                by_shape[value.shape].append(value.value)
        for shape, parts in sorted(by_shape.items()):
            summed = sum(parts)
            if not math.isclose(summed, stated, rel_tol=1e-9, abs_tol=1e-6):
                findings.append(Finding(
                    totals[0], "value",
                    f"the total {_number(stated)} is not the sum of the {len(parts)} values "
                    f"by {', '.join(shape)} ({_number(summed)})"))
    return findings


def _check_cell(i: int, value: IndicatorValue, item: Indicator,
                allowed: set[str]) -> list[Finding]:
    found: list[Finding] = []
    for name, part in zip(BREAKDOWNS, value.cell, strict=True):
        if part is None:
            continue
        if name not in allowed:
            takes = ", ".join(sorted(allowed)) or "no breakdown"
            found.append(Finding(i, name, f"{item.id} is not broken down by {name} "
                                          f"(it takes {takes})"))
        elif name == Breakdown.nationality and not _COUNTRY_RE.match(part):
            found.append(Finding(i, name, f"nationality {part!r} is not an ISO 3166-1 "
                                          "alpha-2 code (XX when unknown)"))
        elif name == Breakdown.document_kind and part not in DocumentKind.__members__:
            found.append(Finding(i, name, f"unknown document kind {part!r}"))
        elif name == Breakdown.substance and part not in Substance.__members__:
            found.append(Finding(i, name, f"unknown substance {part!r}"))
        elif name == Breakdown.place and not 0 < len(part) <= 64:
            found.append(Finding(i, name, "a place is a section or crossing point id of "
                                          "1 to 64 characters"))
    number = value.value
    if not math.isfinite(number) or number < 0 or number > MAX_VALUE:
        found.append(Finding(i, "value", f"{number!r} is not a count between 0 and "
                                         f"{MAX_VALUE:g}"))
    elif item.unit in _WHOLE_UNITS and not float(number).is_integer():
        found.append(Finding(i, "value", f"{_number(number)} {item.unit.value}: "
                                         "a whole number is expected"))
    return found


def check_jump(series: pd.Series, total: float) -> Finding | None:
    """A finding to confirm when ``total`` leaves the 95 % interval forecast from ``series``.

    Without :data:`MIN_HISTORY` months of history there is nothing to judge by.
    """
    if len(series) < MIN_HISTORY:
        return None
    ahead = forecast(series, horizon=1, levels=(0.95,)).iloc[0]
    lower, upper = float(ahead["lower_95"]), float(ahead["upper_95"])
    if lower <= total <= upper:
        return None
    return Finding(None, "value",
                   f"{_number(total)} is outside the forecast's 95 % interval "
                   f"[{_number(round(lower, 1))}, {_number(round(upper, 1))}] "
                   f"(forecast {_number(round(float(ahead['forecast']), 1))} from "
                   f"{len(series)} months): confirm it to submit", confirm=True)


def check_month(engine: sa.Engine, node_id: str, country: str, month: str, item: Indicator,
                values: Sequence[IndicatorValue]) -> list[Finding]:
    """Every finding on a country's month on ``item``: the values, then the jump."""
    findings = check_values(item, values)
    if findings or not values:
        return findings
    jump = check_jump(series_before(engine, node_id, country, month, item.id),
                      total_of(values))
    if jump is not None:
        total_index = next((i for i, v in enumerate(values) if v.is_total), None)
        findings.append(Finding(total_index, jump.column, jump.reason, confirm=True))
    return findings


def _number(value: float) -> str:
    return f"{value:g}" if not float(value).is_integer() else str(int(value))


# ----------------------------------------------------------------------------- writing


@dataclass
class MonthWrite:
    """One indicator's month to write, as checked."""

    indicator: str
    values: list[IndicatorValue]
    notes: list[str] = field(default_factory=list)


def prepare_month(engine: sa.Engine, node_id: str, country: str, month: str,
                  month_write: MonthWrite, *, author: str, reason: str | None = None,
                  confirmed: bool = False, base_version: int | None = None,
                  ) -> tuple[list[Finding], Any]:
    """The findings that refuse the month, and the record version to write when none do."""
    item = INDICATORS[month_write.indicator]
    findings = check_month(engine, node_id, country, month, item, month_write.values)
    refusing = [f for f in findings if not (f.confirm and confirmed)]
    key = record_key(country, month, item.id)
    record_id = own_record_id(node_id, KIND, key)
    current = current_record(engine, node_id, country, month, item.id)
    own = current if current is not None and current.origin == node_id else None
    if own is not None and not (reason and reason.strip()):
        refusing.append(Finding(None, "reason", f"{item.id} for {month} is already recorded "
                                f"(version {own.version}): a revision needs a reason"))
    if refusing:
        return refusing, None
    body = {
        "key": key, "country": country, "month": month, "indicator": item.id,
        "list_version": LIST_VERSION, "unit": item.unit.value,
        "total": total_of(month_write.values),
        "values": [v.to_dict() for v in month_write.values],
        "recorded_by": author,
        "reason": reason.strip() if reason and reason.strip() else None,
        "confirmed": [f.reason for f in findings if f.confirm],
        "notes": list(month_write.notes),
        # Shared with partners by agreement only, like a section's assessment.
        "handling": HANDLING,
    }
    return [], next_version(engine, KIND, record_id, body, node_id, base_version, own)


def write_months(engine: sa.Engine, node_id: str, country: str, month: str,
                 writes: Sequence[MonthWrite], *, author: str, reason: str | None = None,
                 confirmed: bool = False, base_version: int | None = None,
                 ) -> list[StoredRecord]:
    """Check and write several indicators' months, all or none; IndicatorError on findings.

    Each finding's ``column`` is prefixed by the indicator (``refusals_of_entry:value``)
    when more than one indicator is written.
    """
    check_month_text(month)
    records, refused = [], []
    for month_write in writes:
        findings, record = prepare_month(engine, node_id, country, month, month_write,
                                         author=author, reason=reason, confirmed=confirmed,
                                         base_version=base_version)
        if len(writes) > 1:
            findings = [Finding(f.index, f"{month_write.indicator}:{f.column}", f.reason,
                                f.confirm) for f in findings]
        refused += findings
        if record is not None:
            records.append(record)
    if refused:
        raise IndicatorError(refused)
    return write_own(engine, records, node_id)


# ----------------------------------------------------------------------------- deriving


def derive_month(engine: sa.Engine, country: str, month: str,
                 indicator_ids: Iterable[str] | None = None) -> list[MonthWrite]:
    """What the node's events of ``country`` in ``month`` give, per derivable indicator.

    Rejected reports are left out; the month is the UTC month of ``occurred_at``.
    Each value is marked derived, each indicator's total given; what could not
    be counted (an event naming no persons, a quantity in another unit) is
    said in the notes.
    """
    wanted = [INDICATORS[i] for i in (indicator_ids or INDICATORS)]
    derivable = [i for i in wanted if i.derivation is not None]
    types = sorted({t for i in derivable if i.derivation for t in i.derivation.event_types})
    start, end = month_range(check_month_text(month))
    e = schema.events
    query = (sa.select(e.c.body).where(
        e.c.type.in_(types), e.c.country == country, e.c.occurred_at >= start,
        e.c.occurred_at < end, sa.or_(e.c.status.is_(None), e.c.status != "rejected"))
        .order_by(e.c.occurred_at, e.c.id))
    with engine.connect() as conn:
        bodies = [orjson.loads(row.body) for row in conn.execute(query)] if types else []
    return [_derive(item, bodies) for item in derivable]


def _derive(item: Indicator, bodies: Sequence[Mapping[str, Any]]) -> MonthWrite:
    rule = item.derivation
    assert rule is not None
    takes = {b.value for b in item.breakdowns}
    cells: dict[tuple[str | None, ...], float] = defaultdict(float)
    skipped: dict[str, int] = defaultdict(int)
    for body in bodies:
        details = body.get("details") or {}
        if body.get("type") not in rule.event_types or any(
                details.get(name) not in allowed for name, allowed in rule.details.items()):
            continue
        # Every value of a derived month has the same breakdowns, so that each sums to the
        # total: what an event does not say is filled with the list's "unknown".
        base = {"place": (body.get("section_id") or UNPLACED) if Breakdown.place in takes
                else None,
                "document_kind": (details.get("document_kind") or DocumentKind.other.value)
                if Breakdown.document_kind in takes else None,
                "substance": (details.get("substance") or Substance.other.value)
                if Breakdown.substance in takes else None}
        persons = body.get("persons") or []
        if rule.counted == Counted.persons:
            if not persons:
                skipped["events naming no persons"] += 1
            for person in persons:
                nationality = (person.get("nationality") or UNKNOWN_NATIONALITY
                               if Breakdown.nationality in takes else None)
                cells[_cell(base, nationality)] += int(person.get("count", 1))
        elif rule.counted == Counted.events:
            nationality = None
            if Breakdown.nationality in takes:
                nationality = (persons[0].get("nationality") if persons else None
                               ) or UNKNOWN_NATIONALITY
            cells[_cell(base, nationality)] += 1
        else:
            factor = rule.units.get(str(details.get("unit")))
            quantity = details.get("quantity")
            if factor is None or quantity is None:
                skipped[f"seizures without a quantity in {' or '.join(sorted(rule.units))}"] += 1
                continue
            cells[_cell(base, None)] += float(quantity) * factor
    values = [IndicatorValue(_rounded(v, item), Source.derived, *cell)
              for cell, v in sorted(cells.items(), key=lambda kv: [p or "" for p in kv[0]])]
    if len(values) == 1 and values[0].is_total:
        values = []
    total = round(sum(v.value for v in values), 3)
    values.insert(0, IndicatorValue(total, Source.derived))
    notes = [f"{n} {what}: not counted here" for what, n in sorted(skipped.items())]
    return MonthWrite(item.id, values, notes)


def _cell(base: Mapping[str, str | None], nationality: str | None) -> tuple[str | None, ...]:
    return (base["place"], nationality, base["document_kind"], base["substance"])


def _rounded(value: float, item: Indicator) -> float:
    return float(round(value)) if item.unit in _WHOLE_UNITS else round(value, 3)
