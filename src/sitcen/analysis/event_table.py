"""The events table every risk function reads, and its encoding into integer codes.

Threat, impact, vulnerability, risk and route analysis all start from one
table with one row per event (:data:`COLUMNS` says what each column holds).
:func:`events_frame` builds it from event bodies as the store keeps them
(dicts shaped like :class:`sitcen.events.EventPublic`); a benchmark or an
import may build it directly in columns. :func:`encode` turns it once into
integer codes (section, type, month, impact level, detection) so that every
aggregate afterwards is a ``numpy.bincount`` over codes, not a loop over
events. Pure functions: no database, no HTTP (docs/architecture.md, principle 6).

For large tables, give ``section_id``, ``type``, ``impact_level`` and
``detection`` as pandas categoricals and ``occurred_at`` as int64 µs: the
encoding then costs a few milliseconds per million events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from sitcen.taxonomy import EVENT_TYPES, Category, ImpactLevel

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Bool = npt.NDArray[np.bool_]

DAY_US = 86_400 * 1_000_000
TYPES: tuple[str, ...] = tuple(EVENT_TYPES)
LEVELS: tuple[str, ...] = tuple(v.value for v in ImpactLevel)
#: Event types whose reports are border crossings (with or without a smuggler).
CROSSING_TYPES: frozenset[str] = frozenset(
    {t.id for t in EVENT_TYPES.values() if t.category == Category.unauthorised_crossing}
    | {"migrant_smuggling"}
)
#: ``details.detection`` values that mean "detected at the line".
AT_LINE: frozenset[str] = frozenset({"bcp_check", "surveillance", "patrol"})
#: Distance to the nearest section (km) within which an event without a usable
#: ``detection`` counts as detected at the line (see docs/risk.md).
LINE_KM = 5.0

#: The events table: column -> (required, meaning). Optional columns default as stated.
COLUMNS: Mapping[str, tuple[bool, str]] = {
    "id": (False, "event id (text); only carried along"),
    "type": (True, "event type id from the taxonomy (sitcen.taxonomy.EVENT_TYPES)"),
    "category": (False, "EUROSUR category; derived from the type when absent"),
    "occurred_at": (True, "when it happened: datetime (aware = converted to UTC, naive = UTC) "
                          "or int64 microseconds since the epoch, UTC"),
    "section_id": (True, "border section the event is assigned to; null = inland"),
    "section_distance_km": (False, "distance to the nearest section, km; default unknown"),
    "country": (False, "ISO2 code of the reporting country; default 'XX'"),
    "impact_level": (False, "low | medium | high | very_high as reported; default unknown"),
    "persons_total": (False, "persons involved (sum of the person counts); default 0"),
    "minors": (False, "of whom minors; default 0"),
    "nationality": (False, "ISO2 code of the most numerous nationality; default null"),
    "quantity_kg": (False, "seized weight in kg (g / 1000, litres taken as kg); default 0"),
    "violence": (False, "shots fired, someone killed or injured, or an armed incident"),
    "killed": (False, "persons killed; default 0"),
    "injured": (False, "persons injured; default 0"),
    "detection": (False, "bcp_check | surveillance | patrol | inland | other; default null"),
    "direction": (False, "entry | exit; default null"),
    "status": (False, "report status; default null"),
}

_WEIGHT_UNITS = {"kg": 1.0, "g": 0.001, "l": 1.0}


def _micros_of(value: Any) -> int | None:
    if value is None:
        return None
    ts = pd.Timestamp(value) if isinstance(value, datetime) else pd.Timestamp(str(value))
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value // 1000)


def _persons(body: Mapping[str, Any]) -> dict[str | None, tuple[int, int]]:
    """Persons and minors per nationality, in the order first listed (None: not given)."""
    by_nat: dict[str | None, tuple[int, int]] = {}
    for p in body.get("persons") or ():
        count = int(p.get("count", 0))
        minor = count if p.get("age_group") == "minor" else 0
        nat = p.get("nationality") or None
        total, minors = by_nat.get(nat, (0, 0))
        by_nat[nat] = (total + count, minors + minor)
    return by_nat


def events_frame(bodies: Iterable[Mapping[str, Any] | BaseModel], *,
                 include_rejected: bool = False,
                 per_nationality: bool = False) -> pd.DataFrame:
    """The events table (:data:`COLUMNS`) from event bodies as stored or returned by the API.

    Each body is a dict shaped like :class:`sitcen.events.EventPublic` (fields a
    sharing agreement withheld are simply absent), or such a model itself.
    Rejected reports are left out unless ``include_rejected``: they did not
    happen. ``quantity_kg`` is the seized weight (``g`` / 1000; a litre is
    taken as a kilogram); counts of tablets, pieces, rounds or packs are not a
    weight and give 0.
    ``nationality`` is the most numerous one (the first listed on ties). With
    ``per_nationality`` an event with persons of several nationalities gives
    one row per nationality, with that nationality's persons and minors: for
    route counts, not for threat or impact (the event would count twice).
    """
    rows: list[dict[str, Any]] = []
    for item in bodies:
        # An EventPublic model is read through its JSON form, like a stored body.
        body: Mapping[str, Any] = (item.model_dump(mode="json") if isinstance(item, BaseModel)
                                   else item)
        if not include_rejected and body.get("status") == "rejected":
            continue
        details = body.get("details") or {}
        by_nat = _persons(body)
        named = {k: v for k, v in by_nat.items() if k is not None}
        total = sum(v[0] for v in by_nat.values())
        minors = sum(v[1] for v in by_nat.values())
        nationality = max(named, key=lambda k: named[k][0]) if named else None
        unit = details.get("unit")
        quantity = details.get("quantity")
        kg = float(quantity) * _WEIGHT_UNITS[unit] if (
            quantity is not None and unit in _WEIGHT_UNITS) else 0.0
        killed = int(details.get("killed") or 0)
        injured = int(details.get("injured") or 0)
        etype = str(body["type"])
        if etype not in EVENT_TYPES:
            raise ValueError(f"event {body.get('id')!r}: unknown type {etype!r}")
        rows.append({
            "id": None if body.get("id") is None else str(body["id"]),
            "type": etype,
            "category": str(body.get("category") or EVENT_TYPES[etype].category.value),
            "occurred_at": _micros_of(body.get("occurred_at")),
            "section_id": body.get("section_id"),
            "section_distance_km": body.get("section_distance_km"),
            "country": body.get("country") or "XX",
            "impact_level": body.get("impact_level"),
            "persons_total": total,
            "minors": minors,
            "nationality": nationality,
            "quantity_kg": kg,
            "violence": bool(details.get("shots_fired")) or killed > 0 or injured > 0
            or etype == "armed_incident",
            "killed": killed,
            "injured": injured,
            "detection": details.get("detection"),
            "direction": details.get("direction"),
            "status": body.get("status"),
        })
        if per_nationality and len(by_nat) > 1:
            row = rows.pop()
            rows += [{**row, "nationality": nat, "persons_total": n, "minors": m}
                     for nat, (n, m) in by_nat.items()]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if frame["occurred_at"].isna().any():
        raise ValueError("every event needs occurred_at")
    frame["occurred_at"] = frame["occurred_at"].astype(np.int64)
    for name in ("persons_total", "minors", "killed", "injured"):
        frame[name] = frame[name].astype(np.int64)
    frame["quantity_kg"] = frame["quantity_kg"].astype(np.float64)
    frame["section_distance_km"] = frame["section_distance_km"].astype(np.float64)
    frame["violence"] = frame["violence"].astype(bool)
    return frame


# ----------------------------------------------------------------------------- encoding

IntArray = npt.NDArray[np.integer[Any]]
NumArray = npt.NDArray[Any]


@dataclass(frozen=True, eq=False)
class EncodedEvents:
    """The events table as integer codes and numeric arrays (one element per event).

    ``section`` indexes :attr:`section_ids` (-1: inland or a section not in the
    list), ``type`` indexes :data:`TYPES`, ``month`` counts months since
    1970-01 (a ``pd.Period`` ordinal), ``level`` indexes :data:`LEVELS` (-1:
    unknown), ``detection`` indexes :data:`DETECTIONS` (-1: not given).
    ``seized`` lists (sorted) the events with a seized weight. Arrays may be
    views of the table's columns: never write to them.
    """

    section_ids: tuple[str, ...]
    section: IntArray
    type: IntArray
    month: I32
    level: IntArray
    persons: NumArray
    minors: NumArray | None
    kg: F64
    violence: Bool
    killed: NumArray | None
    injured: NumArray | None
    seized: I64
    detection: IntArray | None
    distance_km: F64 | None
    _windows: dict[tuple[int, int], I64] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.section.size)

    def window(self, last: int, months: int) -> I64:
        """Sorted indexes of the events on a section in the ``months`` ending with ``last``.

        Kept once computed: impact and detection read the same window.
        """
        key = (last, months)
        if key not in self._windows:
            keep = self.month > last - months
            keep &= self.month <= last
            keep &= self.section >= 0
            self._windows[key] = np.flatnonzero(keep)
        return self._windows[key]

    def persons_at(self, index: npt.NDArray[np.intp] | I64) -> F64:
        """Persons plus minors (a child counts twice in the impact) of the events at ``index``."""
        out: F64 = self.persons[index].astype(np.float64)
        if self.minors is not None:
            out += self.minors[index]
        return out

    def casualties_at(self, index: npt.NDArray[np.intp] | I64) -> F64:
        """Killed plus injured of the events at ``index``."""
        out = np.zeros(index.size)
        for part in (self.killed, self.injured):
            if part is not None:
                out += part[index]
        return out

    def special_at(self, index: npt.NDArray[np.intp] | I64) -> Bool:
        """Which events at ``index`` have violence, casualties or a seized weight."""
        out: Bool = self.kg[index] > 0
        out |= self.violence[index]
        for part in (self.killed, self.injured):
            if part is not None:
                out |= part[index] > 0
        return out

    def crossings_at(self, index: npt.NDArray[np.intp] | I64) -> I64:
        """The events at ``index`` that are border crossings (as indexes)."""
        out: I64 = np.asarray(index)[_CROSSING_TABLE[self.type[index]]]
        return out

    def at_line_at(self, index: npt.NDArray[np.intp] | I64) -> I8:
        """1 = detected at the line, 0 = inland or after the fact, -1 = unknown.

        ``detection`` decides when it says bcp_check, surveillance or patrol (line)
        or inland; otherwise the event counts as at the line when it lies within
        :data:`LINE_KM` of its section, inland when farther or on no section.
        """
        out = np.full(index.size, -1, dtype=np.int8)
        if self.distance_km is not None:
            dist = self.distance_km[index]
            out[dist <= LINE_KM] = 1
            out[dist > LINE_KM] = 0
        out[self.section[index] < 0] = 0
        if self.detection is not None:
            decided = _DETECTION_AT_LINE[self.detection[index]]
            out = np.where(decided >= 0, decided, out).astype(np.int8)
        return out


#: Place of detection codes (``details.detection``).
DETECTIONS: tuple[str, ...] = ("bcp_check", "surveillance", "patrol", "inland", "other")
# At the line (1), inland (0) or undecided (-1) per detection code; the last entry is for -1.
_DETECTION_AT_LINE = np.array(
    [1 if d in AT_LINE else 0 if d == "inland" else -1 for d in DETECTIONS] + [-1],
    dtype=np.int8)
_CROSSING_TABLE = np.array([t in CROSSING_TYPES for t in TYPES], dtype=bool)


def _codes(values: pd.Series, vocabulary: Sequence[str]) -> tuple[IntArray, list[str]]:
    """Index of each value in ``vocabulary`` (-1 for null or not in it), and those not in it."""
    lookup = {v: i for i, v in enumerate(vocabulary)}
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        categories = values.cat.categories
        if len(categories) <= len(vocabulary) and list(categories) == list(
                vocabulary[: len(categories)]):
            return codes, []  # the categories are the vocabulary (or its head): codes as they are
        uniques = list(categories)
    else:
        codes, unique_index = pd.factorize(values, use_na_sentinel=True)
        uniques = list(unique_index)
    table = np.array([lookup.get(str(u), -1) for u in uniques] + [-1], dtype=np.int32)
    out: IntArray = table[codes]  # code -1 (null) picks the trailing -1
    unknown = [str(u) for u in uniques if str(u) not in lookup]
    return out, unknown


def micros(values: pd.Series) -> I64:
    """``occurred_at`` as int64 µs since the epoch, UTC, from ints or (aware/naive) datetimes."""
    if pd.api.types.is_integer_dtype(values.dtype):
        out: I64 = values.to_numpy(np.int64)
        return out
    ts = pd.to_datetime(values, utc=True)
    if ts.isna().any():
        raise ValueError("occurred_at has missing or unreadable values")
    return np.asarray(ts.dt.tz_localize(None).to_numpy("datetime64[us]").view(np.int64))


def months_of_micros(us: I64) -> I32:
    """Month ordinal (months since 1970-01) of each instant in µs since the epoch."""
    if us.size == 0:
        return np.zeros(0, dtype=np.int32)
    day = us // DAY_US
    lo, hi = int(day.min()), int(day.max())
    table = (np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]")
             .astype(np.int64).astype(np.int32))
    day -= lo
    out: I32 = table[day]
    return out


def _numeric(events: pd.DataFrame, name: str) -> NumArray | None:
    """A non-negative numeric column as a numpy array (null = 0); None when absent."""
    if name not in events:
        return None
    column = events[name]
    if pd.api.types.is_bool_dtype(column.dtype) or not pd.api.types.is_numeric_dtype(
            column.dtype):
        column = pd.to_numeric(column, errors="coerce")
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu":
        values: NumArray = column.to_numpy()
    else:
        values = column.to_numpy(np.float64, na_value=np.nan)
        if np.isnan(values).any():
            values = np.nan_to_num(values, nan=0.0)
    if values.size and values.min() < 0:
        raise ValueError(f"column {name!r} has negative values")
    return values


def encode(events: pd.DataFrame | EncodedEvents,
           section_ids: Sequence[str] | None = None) -> EncodedEvents:
    """Encode the events table once for all aggregates (see :data:`COLUMNS`).

    ``section_ids`` fixes the sections and their order; events of other
    sections count as not on a section. Without it the sections seen in the
    table are used, sorted. Raises ``ValueError`` naming the column when a
    required column is missing or a value cannot be read; an unknown event
    type is an error too.
    """
    if isinstance(events, EncodedEvents):
        if section_ids is None or tuple(section_ids) == events.section_ids:
            return events
        raise ValueError("events were encoded for other sections; encode them again")
    for name, (required, _) in COLUMNS.items():
        if required and name not in events:
            raise ValueError(f"the events table has no column {name!r}")
    n = len(events)
    if section_ids is None:
        seen = events["section_id"].dropna().astype(str).unique()
        section_ids = sorted(str(s) for s in seen)
    sections = tuple(section_ids)
    section, _ = _codes(events["section_id"], sections)
    type_codes, unknown_types = _codes(events["type"], TYPES)
    if unknown_types:
        raise ValueError(f"column 'type' has unknown event types: {sorted(unknown_types)[:5]}")
    if n and type_codes.min() < 0:
        raise ValueError("column 'type' has missing values")
    if "impact_level" in events:
        level, unknown_levels = _codes(events["impact_level"], LEVELS)
        if unknown_levels:
            raise ValueError(f"column 'impact_level' has unknown values: {unknown_levels[:5]}")
    else:
        level = np.full(n, -1, dtype=np.int8)
    persons = _numeric(events, "persons_total")
    kg = _numeric(events, "quantity_kg")
    kg_f: F64 = np.zeros(n) if kg is None else kg.astype(np.float64, copy=False)
    if "violence" in events:
        column = events["violence"]
        violence: Bool = (column.to_numpy() if column.dtype == np.bool_
                          else column.to_numpy(dtype=bool, na_value=False))
    else:
        violence = np.zeros(n, dtype=bool)
    killed, injured = _numeric(events, "killed"), _numeric(events, "injured")
    detection: IntArray | None = None
    if "detection" in events:
        detection, unknown_detection = _codes(events["detection"], DETECTIONS)
        if unknown_detection:
            raise ValueError(f"column 'detection' has unknown values: {unknown_detection[:5]}")
    distance: F64 | None = None
    if "section_distance_km" in events:
        distance = pd.to_numeric(events["section_distance_km"], errors="coerce").to_numpy(
            np.float64, na_value=np.nan)
    return EncodedEvents(
        section_ids=sections,
        section=section,
        type=type_codes,
        month=months_of_micros(micros(events["occurred_at"])),
        level=level,
        persons=np.zeros(n, dtype=np.int32) if persons is None else persons,
        minors=_numeric(events, "minors"),
        kg=kg_f,
        violence=violence,
        killed=killed,
        injured=injured,
        seized=np.flatnonzero(kg_f > 0),
        detection=detection,
        distance_km=distance,
    )
