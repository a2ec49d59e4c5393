"""Importing historic events from spreadsheets, with a report of every problem.

A CSV file or an XLSX sheet (read by :mod:`sitcen.interop.spreadsheets`) is matched to
event fields: by a :class:`ColumnMapping` the user gives, and otherwise by its
headers, in English or Russian (the field names, their labels in the
translation catalogues, and a few common words such as "Дата" or "Долгота").
Values may be codes or their English or Russian labels. Every row is checked
by the rules a report sent to the API obeys, and each problem is reported as
(row, column, value, reason).

Nothing is written while the report holds a problem, unless only the valid
rows are asked for. Every row is checked before the first is written; the
valid ones then go through :func:`sitcen.store.events.report_events`, the one
write path, in batches.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

import pycountry
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, field_validator

from sitcen import i18n
from sitcen.errors import ImportProblem, ImportReport
from sitcen.events import COUNTRY_CODES, Author, EventCreate, check_report
from sitcen.geo import load_countries
from sitcen.interop.spreadsheets import (
    COLUMNS,
    DETAIL_FIELDS,
    MAX_ROWS,
    Cell,
    FileTooLargeError,
    Table,
    blank,
    cell_text,
    open_table,
)
from sitcen.store.events import Reporter, report_events
from sitcen.taxonomy import ENUMS, EVENT_TYPES, Status
from sitcen.times import read_moment, zone

#: Events written per call of the write path.
BATCH_SIZE = 5_000

#: Fields an imported file may fill: the imported columns, and ``nationality``
#: for files that give a plain head count in ``persons``.
IMPORT_FIELDS: tuple[str, ...] = (*(c.name for c in COLUMNS if c.imported), "nationality")
_COMPUTED = frozenset(c.name.replace("_", " ") for c in COLUMNS if not c.imported)
_REQUIRED = ("type", "occurred_at", "lon", "lat")
_LIST_SEPARATORS = re.compile(r"[;,\n]+")


class MappingError(ValueError):
    """A column mapping that cannot be used; the message names the entry."""


# --- the column mapping ---------------------------------------------------------------------


class ColumnMapping(BaseModel):
    """How a file's columns and values map to event fields (a YAML or JSON document).

    ``columns`` names the file's column for a field (the rest are recognised
    by their headers); ``values`` translates a field's values (say
    ``Наркотики`` to ``drug_smuggling``); ``defaults`` fills a field for rows
    where the file has no value (a detail only for the event types that have
    it); ``timezone`` applies to times written without one (``UTC`` when not
    given).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    timezone: str | None = None
    date_format: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)

    @field_validator("columns", "values", "defaults")
    @classmethod
    def _known_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if name not in IMPORT_FIELDS:
                raise ValueError(f"{name!r} is not a field that can be imported; fields are "
                                 + ", ".join(IMPORT_FIELDS))
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timezone(value)
        return value


def load_mapping(text: str, *, source: str = "mapping") -> ColumnMapping:
    """A mapping from YAML or JSON text; :class:`MappingError` says what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{source}: not YAML or JSON: {exc}") from exc
    return mapping_from_dict(data or {}, source=source)


def mapping_from_dict(data: Any, *, source: str = "mapping") -> ColumnMapping:
    """A mapping from its parsed form."""
    if not isinstance(data, dict):
        raise MappingError(f"{source}: must be a mapping of keys (columns, values, defaults, ...)")
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"{source}: {reasons}") from exc


def parse_timezone(name: str) -> tzinfo:
    """``UTC``, an offset such as ``+05:00``, or an IANA zone such as ``Asia/Dushanbe``."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if offset:
        sign = 1 if offset.group(1) == "+" else -1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        if minutes >= 24 * 60:
            raise ValueError(f"time zone offset {name!r} out of range")
        return timezone(sign * timedelta(minutes=minutes))
    try:
        return zone(name)
    except ValueError as exc:
        raise ValueError(f"unknown time zone {name!r}; use UTC, +05:00 or a name such as "
                         "Asia/Dushanbe") from exc


# --- recognising headers and values ---------------------------------------------------------


def _norm(text: str) -> str:
    """Text as headers and values are compared: case, ё/е, brackets and punctuation ignored."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    text = re.sub(r"[\s_\-.:,;/–—]+", " ", text)
    return text.strip()


# Header words people use besides the field name and its catalogue labels.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "type": ("event type", "event_type", "тип", "тип события", "вид", "вид события"),
    "occurred_at": ("date", "datetime", "date time", "date and time", "time", "occurred",
                    "дата", "дата и время", "дата события", "время события", "дата время"),
    "reported_at": ("reported", "report date", "дата донесения"),
    "lon": ("lng", "long", "longitude", "x", "долгота"),
    "lat": ("latitude", "y", "широта"),
    "precision_m": ("precision", "точность"),
    "country": ("страна",),
    "persons": ("number of persons", "persons count", "лица", "количество лиц", "кол во лиц",
                "число лиц"),
    "nationality": ("гражданство",),
    "description": ("notes", "comment", "text", "описание", "фабула", "примечание"),
    "impact_level": ("impact", "уровень воздействия"),
    "handling": ("tlp",),
}


@cache
def _header_fields() -> dict[str, str]:
    """Normalised header text → field, from field names, both catalogues and synonyms."""
    found: dict[str, str] = {}
    for name in IMPORT_FIELDS:
        words = [name, *(_SYNONYMS.get(name, ()))]
        for lang in ("en", "ru"):
            label = i18n.catalogue(lang).get(f"field.{name}")
            if label:
                words.append(label)
        for word in words:
            found.setdefault(_norm(word), name)
    return found


@cache
def _choices(kind: str) -> dict[str, str]:
    """Normalised text → value for an enumeration, event types or countries."""
    found: dict[str, str] = {}
    if kind == "type":
        values = {t: f"type.{t}" for t in EVENT_TYPES}
    elif kind == "country":
        return _countries()
    else:
        values = {str(v.value): f"enum.{kind}.{v.value}" for v in ENUMS[kind]}
    for value in values:
        found[_norm(value)] = value
    for lang in ("en", "ru"):
        labels = i18n.catalogue(lang)
        for value, key in values.items():
            if key in labels:
                found.setdefault(_norm(labels[key]), value)
    return found


def _countries() -> dict[str, str]:
    found = {_norm(code): code for code in COUNTRY_CODES}
    for country in pycountry.countries:
        code = country.alpha_2
        found.setdefault(_norm(country.alpha_3), code)
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if name:
                found.setdefault(_norm(name), code)
    for shipped in load_countries().values():
        found.setdefault(_norm(shipped.name), shipped.iso2)
        found.setdefault(_norm(shipped.name_ru), shipped.iso2)
    return found


def _choice(kind: str, text: str) -> str:
    value = _choices(kind).get(_norm(text))
    if value is not None:
        return value
    if kind == "type":
        raise ValueError("unknown event type; give a type id (such as drug_smuggling) or its "
                         "English or Russian name (docs/data-model.md lists them)")
    if kind == "country":
        raise ValueError("unknown country; give an ISO 3166 code (TJ, AFG) or a country name")
    allowed = [str(v.value) for v in ENUMS[kind]]
    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    raise ValueError(f"unknown value; use one of {shown} (or its English or Russian name)")


_ENUM_FIELDS = frozenset(ENUMS) & frozenset(IMPORT_FIELDS)
_TIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y %H:%M", "%d.%m.%y")
_TRUE = frozenset({"true", "yes", "y", "1", "да", "д", "x", "+"})
_FALSE = frozenset({"false", "no", "n", "0", "нет", "н", "-"})


def _number(cell: Cell) -> float:
    if isinstance(cell, bool | datetime | date | time):
        raise ValueError("not a number")
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = str(cell).strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # a decimal comma, as Russian Excel writes
        try:
            value = float(text)
        except ValueError:
            raise ValueError("not a number") from None
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _whole(cell: Cell) -> int:
    value = _number(cell)
    if not value.is_integer():
        raise ValueError("not a whole number")
    return int(value)


def _boolean(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    text = _norm(cell_text(cell))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("not yes or no (true/false, да/нет, 1/0)")


@dataclass
class _Context:
    """What checking a row needs besides the row."""

    at: dict[str, int]
    header: list[str]
    mapping: ColumnMapping
    zone: tzinfo
    now: datetime
    skew: timedelta
    may_validate: bool
    value_maps: dict[str, dict[str, str]]
    naive_times: int = 0


def _moment(cell: Cell, ctx: _Context) -> datetime:
    if isinstance(cell, datetime):
        value = cell
    elif isinstance(cell, date):
        value = datetime.combine(cell, time())
    elif isinstance(cell, str):
        value = _parse_moment(cell.strip(), ctx.mapping.date_format)
    else:
        raise ValueError("a number, not a date; format the column as a date or write "
                         "ISO 8601 text (2024-05-01T14:30)")
    if value.tzinfo is None or value.utcoffset() is None:
        ctx.naive_times += 1
        value = value.replace(tzinfo=ctx.zone)
    return value


def _parse_moment(text: str, date_format: str | None) -> datetime:
    if date_format:  # the mapping's format, and only it: a file in one format is read as one
        try:
            return datetime.strptime(text, date_format)
        except ValueError:
            raise ValueError(f"does not match date_format {date_format!r}") from None
    try:
        return read_moment(text, _TIME_FORMATS)
    except ValueError:
        raise ValueError("not a date and time; write ISO 8601 (2024-05-01T14:30, Z or +05:00 "
                         "for the zone) or DD.MM.YYYY HH:MM, or set date_format in the "
                         "mapping") from None


def _persons(cell: Cell, nationality: str | None) -> list[dict[str, Any]]:
    """Person counts from a head count (with ``nationality``) or ``2 AF male adult; 1 TJ``."""
    head_count = (isinstance(cell, int | float) and not isinstance(cell, bool)) or (
        isinstance(cell, str) and cell.strip().isdigit())
    if head_count:
        count = _whole(cell)
        return [{"nationality": nationality or "XX", "count": count}] if count else []
    groups = []
    for part in _LIST_SEPARATORS.split(cell_text(cell)):
        tokens = part.split()
        if not tokens:
            continue
        if not tokens[0].isdigit() or len(tokens) > 4:
            raise ValueError("write a head count, or groups 'COUNT NATIONALITY [SEX AGE]' "
                             "separated by ';' or ',', e.g. '2 AF male adult; 1 TJ'")
        group: dict[str, Any] = {"count": int(tokens[0]),
                                 "nationality": (_choice("country", tokens[1]) if len(tokens) > 1
                                                 else nationality or "XX")}
        for token in tokens[2:]:
            for kind in ("sex", "age_group"):
                value = _choices(kind).get(_norm(token))
                if value is not None and kind not in group:
                    group[kind] = value
                    break
            else:
                raise ValueError(f"{token!r} is neither a sex nor an age group")
        groups.append(group)
    return groups


def _convert(name: str, cell: Cell, ctx: _Context) -> Any:
    """The value of field ``name`` from a cell, or ValueError with the reason."""
    if isinstance(cell, str) and name in ctx.value_maps:
        cell = ctx.value_maps[name].get(_norm(cell), cell)
    if name in ("occurred_at", "reported_at"):
        return _moment(cell, ctx)
    if name == "type":
        return _choice("type", cell_text(cell))
    if name in ("country", "nationality"):
        return _choice("country", cell_text(cell))
    if name in ("modus_operandi", "reaction"):
        return [_choice(name, part) for part in _LIST_SEPARATORS.split(cell_text(cell))
                if part.strip()]
    if name in _ENUM_FIELDS:
        return _choice(name, cell_text(cell))
    kind = next((c.kind for c in COLUMNS if c.name == name), "text")
    if kind == "number":
        return _number(cell)
    if kind == "integer":
        return _whole(cell)
    if kind == "boolean":
        return _boolean(cell)
    return cell if name == "persons" else cell_text(cell).strip()


_NESTED = {"lon": "location", "lat": "location", "precision_m": "location",
           "source_reliability": "confidence", "information_credibility": "confidence",
           **dict.fromkeys(DETAIL_FIELDS, "details")}


def _field_of(loc: Iterable[Any]) -> str:
    """The field a pydantic or rule error path points at."""
    parts = [p for p in loc if p != "body"]
    if len(parts) > 1 and parts[0] in ("location", "confidence", "details"):
        return str(parts[1])
    return str(parts[0]) if parts else ""


def _check_row(number: int, cells: list[Cell],
               ctx: _Context) -> tuple[EventCreate | None, list[ImportProblem]]:
    """One row as a report, or the problems that keep it out."""
    problems: list[ImportProblem] = []
    given: dict[str, tuple[str, Cell]] = {}
    for name, index in ctx.at.items():
        cell = cells[index] if index < len(cells) else None
        if not blank(cell):
            given[name] = (ctx.header[index], cell)
    defaulted = [name for name in ctx.mapping.defaults if name not in given]
    for name in defaulted:
        given[name] = (f"{name} (default)", ctx.mapping.defaults[name])
    extra = [c for c in cells[len(ctx.header):] if not blank(c)]
    if extra:
        problems.append(ImportProblem(number, "", "; ".join(cell_text(c) for c in extra),
                                   f"{len(cells)} values, but the header names "
                                   f"{len(ctx.header)} columns"))

    def where(name: str) -> tuple[str, str]:
        label, cell = given.get(name, (_column_label(name, ctx), None))
        return label, cell_text(cell)

    values: dict[str, Any] = {}
    for name, (label, cell) in given.items():
        try:
            values[name] = _convert(name, cell, ctx)
        except ValueError as exc:
            problems.append(ImportProblem(number, label, cell_text(cell), str(exc)))
    for name in _REQUIRED:
        if name not in given:
            problems.append(ImportProblem(number, *where(name), "empty; every event needs it"))
    if "type" in values:
        # A default fills a detail only for the types that have it.
        applies = EVENT_TYPES[values["type"]].details
        for name in defaulted:
            if name in DETAIL_FIELDS and name not in applies:
                values.pop(name, None)
    if "persons" in values:
        try:
            values["persons"] = _persons(values["persons"], values.get("nationality"))
        except ValueError as exc:
            problems.append(ImportProblem(number, *where("persons"), str(exc)))
    if problems:
        return None, problems

    payload: dict[str, Any] = {}
    for name, value in values.items():
        if name == "nationality":
            continue
        if name in _NESTED:
            payload.setdefault(_NESTED[name], {})[name] = value
        else:
            payload[name] = value
    try:
        item = EventCreate.model_validate(payload)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            problems.append(ImportProblem(number, *where(_field_of(e["loc"])), str(e["msg"])))
        return None, problems
    for rule in check_report(item, None, ctx.now, ctx.skew):
        problems.append(ImportProblem(number, *where(_field_of(rule["loc"])), rule["msg"]))
    if item.status == Status.validated and not ctx.may_validate:
        problems.append(ImportProblem(number, *where("status"),
                                   "only a duty officer may import events as validated"))
    return (None if problems else item), problems


def _column_label(name: str, ctx: _Context) -> str:
    index = ctx.at.get(name)
    return ctx.header[index] if index is not None else name


# --- import -----------------------------------------------------------------------------------


class EventImportReport(ImportReport):
    """What an import of events found and did."""

    valid_only: bool = Field(False, description="the valid rows were asked for, whatever else")
    valid: int = Field(0, description="rows that would make a valid report")
    imported: int = Field(0, description="events written")
    columns: dict[str, str] = Field(default_factory=dict,
                                    description="which column of the file holds which field")

    @property
    def refused(self) -> bool:
        """Whether problems kept every row out (no dry run, valid rows not asked for)."""
        return self.problem_count > 0 and not self.valid_only and not self.dry_run

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """One line for people."""
        text = f"{self.rows} rows read, {self.valid} valid, {self.problem_count} problems"
        if self.dry_run:
            return text + "; dry run, nothing imported"
        if self.refused:
            return text + "; nothing imported (fix the problems or import the valid rows only)"
        return text + f"; {self.imported} events imported"


def _match_columns(header: list[str], mapping: ColumnMapping,
                   report: EventImportReport) -> dict[str, int]:
    """Which column holds which field; header problems and notes go into the report."""
    at: dict[str, int] = {}
    stripped = [h.strip() for h in header]
    for name, wanted in mapping.columns.items():
        matches = [i for i, h in enumerate(stripped) if h == wanted.strip()] or [
            i for i, h in enumerate(stripped) if _norm(h) == _norm(wanted)]
        if len(matches) == 1:
            at[name] = matches[0]
        else:
            reason = ("no such column" if not matches else "several columns have this name")
            report.add(ImportProblem(1, wanted, wanted, f"{reason} (mapped to {name}); the "
                                  "file's columns are " + ", ".join(repr(h) for h in stripped)))
    claimed = set(at.values())
    seen: dict[str, int] = {}
    ignored: list[str] = []
    computed: list[str] = []
    for index, text in enumerate(stripped):
        if index in claimed or not text:
            continue
        found = _header_fields().get(_norm(text))
        if found is None or found in mapping.columns:
            (computed if _norm(text) in _COMPUTED else ignored).append(text)
        elif found in seen:
            report.add(ImportProblem(1, text, text, f"column {stripped[seen[found]]!r} also looks "
                                  f"like {found}; name one of them in the mapping"))
        else:
            seen[found] = index
            at[found] = index
    for name in _REQUIRED:
        if name not in at and name not in mapping.defaults:
            report.add(ImportProblem(1, name, "", f"no column for {name} found; name it in the "
                                  f"mapping (columns: {{{name}: <header>}})"))
    if computed:
        report.notes.append("columns the node sets itself were ignored: " + ", ".join(computed))
    if ignored:
        report.notes.append("columns not recognised and ignored: " + ", ".join(ignored))
    report.columns = {name: header[index] for name, index in sorted(at.items(),
                                                                      key=lambda kv: kv[1])}
    return at


def _checked_rows(table: Table,
                  ctx: _Context) -> Iterator[tuple[int, EventCreate | None, list[ImportProblem]]]:
    count = 0
    for number, cells in table.rows():
        if all(blank(c) for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileTooLargeError(f"more than {MAX_ROWS:,} rows; split the file")
        item, problems = _check_row(number, cells, ctx)
        yield number, item, problems


def import_events(
    engine: sa.Engine,
    reporter: Reporter,
    data: bytes,
    mapping: ColumnMapping | None = None,
    *,
    dry_run: bool = False,
    valid_only: bool = False,
    may_validate: bool = True,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
    by: Author | None = None,
) -> EventImportReport:
    """Check a CSV or XLSX file of events and, unless refused, write it.

    Every row is checked first. With problems and without ``valid_only``
    nothing is written; with ``valid_only`` the valid rows are. ``dry_run``
    only checks. Writing goes through the one write path in batches of
    :data:`BATCH_SIZE`; ``progress(written, to_write)`` is told after each.
    Raises :class:`SpreadsheetError` for a file that is no table at all.
    """
    mapping = mapping or ColumnMapping()
    report = EventImportReport(dry_run=dry_run, valid_only=valid_only)
    with open_table(data, encoding=mapping.encoding, delimiter=mapping.delimiter,
                    sheet=mapping.sheet) as table:
        report.notes += table.notes
        if not table.header:
            report.add(ImportProblem(1, "", "", "the file is empty: no header row"))
            return report
        at = _match_columns(table.header, mapping, report)
        if report.problem_count:
            return report
        ctx = _Context(
            at=at, header=table.header, mapping=mapping,
            zone=parse_timezone(mapping.timezone or "UTC"), now=now or datetime.now(UTC),
            skew=reporter.clock_skew, may_validate=may_validate,
            value_maps={name: {_norm(k): v for k, v in pairs.items()}
                        for name, pairs in mapping.values.items()},
        )
        for _, item, problems in _checked_rows(table, ctx):
            report.rows += 1
            report.valid += item is not None
            for problem in problems:
                report.add(problem)
        if ctx.naive_times:
            report.notes.append(f"{ctx.naive_times} times without a time zone were read as "
                                f"{mapping.timezone or 'UTC'}"
                                + ("" if mapping.timezone else " (set timezone in the mapping)"))
        if report.rows == 0:
            report.notes.append("no data rows under the header")
        if dry_run or report.refused or report.valid == 0:
            return report
        batch: list[EventCreate] = []
        for _, item, _ in _checked_rows(table, ctx):
            if item is not None:
                batch.append(item)
            if len(batch) == BATCH_SIZE:
                report.imported += _write(engine, reporter, batch, report, progress, by)
                batch = []
        if batch:
            report.imported += _write(engine, reporter, batch, report, progress, by)
    return report


def _write(engine: sa.Engine, reporter: Reporter, batch: list[EventCreate],
           report: EventImportReport, progress: Callable[[int, int], None] | None,
           by: Author | None) -> int:
    report_events(engine, reporter, batch, batch=True, by=by)
    if progress is not None:
        progress(report.imported + len(batch), report.valid)
    return len(batch)


