"""Monthly indicators of the risk analysis network: the common list and a member's months.

docs/network.md. A node records its own country (``node_country``); records of
other members reach it through federation and are read the same way.
"""


import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sitcen import i18n
from sitcen.analysis.network import joint_analysis, joint_annex
from sitcen.api.deps import CurrentNode, Reader, require
from sitcen.api.records import record_header
from sitcen.errors import (
    ImportRefusal,
    InvalidInput,
    NotFound,
    error,
)
from sitcen.indicator_list import INDICATORS, LIST_VERSION
from sitcen.interop.indicator_template import (
    LANGUAGES,
    IndicatorImportReport,
    import_template,
    template_xlsx,
)
from sitcen.interop.spreadsheets import XLSX_MEDIA_TYPE, refusing_unreadable_files
from sitcen.operations.indicator_records import (
    BREAKDOWNS,
    MONTH_PATTERN,
    MONTH_RE,
    IndicatorError,
    IndicatorValue,
    MonthWrite,
    Source,
    current_record,
    derive_month,
    month_records,
    record_versions,
    values_of,
    write_months,
)
from sitcen.operations.indicator_submissions import (
    completeness_board,
    hub_tables,
    submit_month,
)
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.users import Permission

router = APIRouter(prefix="/indicators", tags=["indicators"])

#: Entering, importing and deriving a month is the analysts' and duty officers' work.
IndicatorKeeper = Annotated[StoredUser, require(Permission.issue_reports)]
Month = Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM")]
IndicatorId = Annotated[str, Path(max_length=64, description="an indicator of the common list")]
Country = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$",
                                      description="ISO 3166-1 alpha-2; default: the node's")]
#: The most months one board shows.
MAX_BOARD_MONTHS = 120
_COUNTRY = re.compile(r"^[A-Z]{2}$")
Lang = Annotated[str, Query(pattern="^(en|ru)$", description="the template's language")]


class IndicatorPublic(BaseModel):
    """One indicator of the common list, labelled."""

    id: str
    label: str
    unit: str
    unit_label: str
    breakdowns: list[str]
    derived_from: dict[str, Any] | None = Field(
        description="the event types and details it is counted from; null: entered only")
    eu_counterpart: str


class IndicatorList(BaseModel):
    """The common indicator list."""

    version: int
    indicators: list[IndicatorPublic]


class ValueIn(BaseModel):
    """One value of a month: its breakdown (none for the total) and the figure."""

    model_config = ConfigDict(extra="forbid")

    place: str | None = Field(None, min_length=1, max_length=64)
    nationality: str | None = Field(None, min_length=2, max_length=2)
    document_kind: str | None = Field(None, min_length=1, max_length=32)
    substance: str | None = Field(None, min_length=1, max_length=32)
    value: float = Field(ge=0, le=1e9)
    source: Source = Field(Source.entered, description="entered unless kept from derivation")


class IndicatorMonthUpdate(BaseModel):
    """A month's values on one indicator, as entered (a new version when one exists)."""

    model_config = ConfigDict(extra="forbid")

    values: list[ValueIn] = Field(max_length=5000)
    reason: str | None = Field(None, max_length=2000,
                               description="why the month is revised (required for a revision)")
    confirm: bool = Field(False, description="accept a total outside the forecast's interval")
    base_version: int | None = Field(None, ge=1, description="409 if it is no longer current")


class IndicatorRecordPublic(BaseModel):
    """A country's month on one indicator, with where each value came from."""

    model_config = ConfigDict(extra="allow")

    id: str
    origin: str
    version: int
    recorded_at: str
    country: str
    month: str
    indicator: str
    list_version: int
    unit: str
    total: float
    values: list[dict[str, Any]]
    reason: str | None
    confirmed: list[str]
    notes: list[str]


class IndicatorMonth(BaseModel):
    """A country's month: every indicator recorded so far."""

    country: str
    month: str
    records: list[IndicatorRecordPublic]
    missing: list[str] = Field(description="indicators of the list not recorded for the month")


class DerivedMonth(BaseModel):
    """What the node's events give for a month, and what was written."""

    country: str
    month: str
    dry_run: bool
    derived: list[dict[str, Any]]
    records: list[IndicatorRecordPublic]


def _public(record: StoredRecord) -> dict[str, Any]:
    return {**record.body, **record_header(record)}


def _country(node: CurrentNode, country: str | None) -> str:
    return country or node.settings.node_country


def _refused(exc: IndicatorError, where: str = "body") -> InvalidInput:
    """The findings as errors: at the value concerned in a body; at the parameter that
    lets the month through (``reason``, ``confirm``) when the values came from events."""
    errors = []
    for finding in exc.findings:
        indicator, _, column = finding.column.rpartition(":")
        kind = "needs_confirmation" if finding.confirm else "value_error"
        if where == "body" and finding.index is not None:
            loc: tuple[str | int, ...] = ("body", "values", finding.index, column)
        elif column == "reason":
            loc = (where, "reason")
        elif finding.confirm:
            loc = (where, "confirm")
        else:
            loc = (where,)
        errors.append(error(loc, f"{indicator}: {finding.reason}" if indicator
                            else finding.reason, kind))
    return InvalidInput(errors)


@router.get("/list", response_model=IndicatorList)
def read_indicator_list(
    _user: Reader,
    lang: Annotated[str, Query(max_length=16, description="labels' language")] = "en",
) -> dict[str, Any]:
    """The common indicator list: units, breakdowns, derivation from events, labels."""
    chosen = i18n.supported(lang) or "en"
    return {"version": LIST_VERSION, "indicators": [
        {**item.to_dict(), "label": i18n.label(f"indicator.{item.id}", chosen),
         "unit_label": i18n.label(f"indicator_unit.{item.unit.value}", chosen)}
        for item in INDICATORS.values()]}


@router.get("/template", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                             "description": "the workbook to fill in"}})
def read_indicator_template(
    node: CurrentNode, _user: Reader,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
    lang: Lang = "ru", country: Country = None,
) -> Response:
    """The XLSX template of a month in Russian or English, with the values already held."""
    chosen = _country(node, country)
    held = {r.body["indicator"]: values_of(r)
            for r in month_records(node.engine, node.settings.node_id, chosen, month)}
    data = template_xlsx(chosen, month, lang if lang in LANGUAGES else "ru", held)
    name = f"indicators-{chosen}-{month}-{lang}.xlsx"
    return Response(data, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


_FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the filled-in template (XLSX), or the same table as CSV",
        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                    for media in (XLSX_MEDIA_TYPE, "text/csv")},
    }
}


@router.post("/import", openapi_extra=_FILE_BODY, response_model=IndicatorImportReport,
             responses={201: {"description": "imported; the report"},
                        413: {"description": "the file is too large"},
                        422: {"model": ImportRefusal[IndicatorImportReport],
                              "description": "problems in the file; nothing imported"}})
async def import_indicator_template(
    request: Request, node: CurrentNode, user: IndicatorKeeper,
    reason: Annotated[str | None, Query(max_length=2000,
                                        description="why months already held are revised")]
    = None,
    confirm: Annotated[bool, Query(description="accept totals outside the forecast's "
                                               "interval")] = False,
    dry_run: Annotated[bool, Query(description="only check; write nothing")] = False,
) -> Response:
    """Import a filled-in indicator template, all or nothing; the report names each problem."""
    data = await request.body()
    with refusing_unreadable_files():
        report = await run_in_threadpool(
            import_template, node.engine, node.settings.node_id, node.settings.node_country,
            data, author=user.username, reason=reason, confirm=confirm, dry_run=dry_run)
    body = report.to_dict()
    if not report.ok:
        raise InvalidInput([error(("body",), f"{report.problem_count} problems in the file; "
                                  "nothing written", "import_refused")], report=body)
    code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


def _month_span(first: str | None, last: str | None, today: date) -> list[str]:
    end = pd.Period(last, freq="M") if last else pd.Period(today, freq="M") - 1
    start = pd.Period(first, freq="M") if first else end - 11
    if start > end:
        raise InvalidInput([error(("query", "first"), "first comes after last", "value_error")])
    if (end - start).n >= MAX_BOARD_MONTHS:
        raise InvalidInput([error(("query", "first"), f"at most {MAX_BOARD_MONTHS} months",
                                  "value_error")])
    if not MONTH_RE.match(str(start)):  # the twelve months before an early ``last``
        raise InvalidInput([error(("query", "first"), f"the span would start at {start}, "
                                  "before the months indicators are kept for", "value_error")])
    return [str(m) for m in pd.period_range(start, end, freq="M")]


QueryMonth = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
Countries = Annotated[list[str] | None, Query(
    max_length=20, description="default: the node's indicator_members")]


def _members(node: CurrentNode, countries: list[str] | None) -> list[str]:
    chosen = countries or list(node.settings.indicator_members)
    for code in chosen:
        if not _COUNTRY.match(code):
            raise InvalidInput([error(("query", "country"), f"{code!r} is not an ISO 3166-1 "
                                      "alpha-2 code", "value_error")])
    return list(dict.fromkeys(chosen))


@router.get("/board", response_model=dict[str, Any])
def read_completeness_board(node: CurrentNode, _user: Reader, first: QueryMonth = None,
                            last: QueryMonth = None, country: Countries = None
                            ) -> dict[str, Any]:
    """The hub's completeness board: per country x month, submitted / late / missing / due,
    indicators held, revisions with their reasons (default: the twelve months before this)."""
    today = datetime.now(UTC).date()
    return completeness_board(node.engine, _members(node, country),
                              _month_span(first, last, today), today=today,
                              deadline_day=node.settings.indicator_deadline_day)


@router.get("/analysis", response_model=dict[str, Any])
def read_joint_analysis(
    node: CurrentNode, _user: Reader,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
    country: Countries = None,
) -> dict[str, Any]:
    """The joint analysis of a month on the series held: regional totals, the monthly alert,
    forecasts with intervals, displacement between routes."""
    totals, cells = hub_tables(node.engine, _members(node, country))
    if totals.empty:
        raise NotFound("indicator records", month, "no indicator records held")
    return joint_analysis(totals, cells, month)


@router.get("/annex", response_model=dict[str, Any])
def read_joint_annex(
    node: CurrentNode, _user: Reader,
    period: Annotated[str, Query(pattern=r"^(19|20|21)\d{2}(Q[1-4])?$",
                                 description="a year (2026) or a quarter (2026Q1)")],
    country: Countries = None,
) -> dict[str, Any]:
    """The joint statistical annex of a quarter or a year: totals per country and region,
    against the same period a year before."""
    totals, _cells = hub_tables(node.engine, _members(node, country))
    return joint_annex(totals, period)


class SubmitMonth(BaseModel):
    """Submitting a month (again, after a revision, with a reason)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000,
                               description="why a month submitted before is submitted again")


@router.post("/{month}/submit", response_model=dict[str, Any])
def submit_indicator_month(month: Month, item: SubmitMonth, node: CurrentNode,
                           user: IndicatorKeeper) -> dict[str, Any]:
    """Submit the node's country's month: every indicator recorded and checked."""
    try:
        record = submit_month(node.engine, node.settings.node_id, node.settings.node_country,
                              month, author=user.username,
                              deadline_day=node.settings.indicator_deadline_day,
                              now=datetime.now(UTC), reason=item.reason)
    except IndicatorError as exc:
        raise _refused(exc) from exc
    return _public(record)


@router.get("/{month}", response_model=IndicatorMonth)
def read_indicator_month(month: Month, node: CurrentNode, _user: Reader,
                         country: Country = None) -> dict[str, Any]:
    """A country's month: every indicator recorded, and those still missing."""
    chosen = _country(node, country)
    records = month_records(node.engine, node.settings.node_id, chosen, month)
    have = {r.body["indicator"] for r in records}
    return {"country": chosen, "month": month, "records": [_public(r) for r in records],
            "missing": [i for i in INDICATORS if i not in have]}


def _known(indicator: str) -> str:
    if indicator not in INDICATORS:
        raise NotFound("indicator", indicator,
                       f"{indicator!r} is not an indicator of the common list")
    return indicator


@router.get("/{month}/{indicator}", response_model=IndicatorRecordPublic)
def read_indicator_record(month: Month, indicator: IndicatorId, node: CurrentNode,
                          _user: Reader, country: Country = None) -> dict[str, Any]:
    """A country's month on one indicator."""
    chosen = _country(node, country)
    record = current_record(node.engine, node.settings.node_id, chosen, month,
                            _known(indicator))
    if record is None:
        raise NotFound("indicator record", f"{chosen}|{month}|{indicator}",
                       f"no {indicator} recorded for {chosen} in {month}")
    return _public(record)


@router.get("/{month}/{indicator}/history", response_model=list[dict[str, Any]])
def read_indicator_history(month: Month, indicator: IndicatorId, node: CurrentNode,
                           _user: Reader, country: Country = None) -> list[dict[str, Any]]:
    """Every version of a country's month on one indicator, oldest first, with reasons."""
    chosen = _country(node, country)
    record = current_record(node.engine, node.settings.node_id, chosen, month,
                            _known(indicator))
    return [] if record is None else record_versions(node.engine, record)


@router.put("/{month}/{indicator}", response_model=IndicatorRecordPublic)
def update_indicator_record(month: Month, indicator: IndicatorId,
                            item: IndicatorMonthUpdate, node: CurrentNode,
                            user: IndicatorKeeper) -> dict[str, Any]:
    """Record the node's country's month on one indicator (a revision needs a reason)."""
    values = [IndicatorValue(v.value, v.source, **{b: getattr(v, b) for b in BREAKDOWNS})
              for v in item.values]
    try:
        (record,) = write_months(
            node.engine, node.settings.node_id, node.settings.node_country, month,
            [MonthWrite(_known(indicator), values)], author=user.username,
            reason=item.reason, confirmed=item.confirm, base_version=item.base_version)
    except IndicatorError as exc:
        raise _refused(exc) from exc
    return _public(record)


@router.post("/{month}/derive", response_model=DerivedMonth)
def derive_indicator_month(
    month: Month, node: CurrentNode, user: IndicatorKeeper,
    indicator: Annotated[list[str] | None, Query(max_length=50,
                                                 description="default: every derivable one")]
    = None,
    reason: Annotated[str | None, Query(max_length=2000,
                                        description="why months already held are revised")]
    = None,
    confirm: Annotated[bool, Query(description="accept totals outside the forecast's "
                                               "interval")] = False,
    dry_run: Annotated[bool, Query(description="only count; write nothing")] = False,
) -> dict[str, Any]:
    """Count a month's indicators from the node's events and, unless dry_run, record them."""
    for wanted in indicator or []:
        if wanted not in INDICATORS:
            raise InvalidInput([error(("query", "indicator"),
                                      f"{wanted!r} is not an indicator of the common list",
                                      "enum")])
    country = node.settings.node_country
    derived = derive_month(node.engine, country, month, indicator)
    shown = [{"indicator": d.indicator, "total": d.values[0].value,
              "values": [v.to_dict() for v in d.values], "notes": d.notes} for d in derived]
    records: list[StoredRecord] = []
    if not dry_run and derived:
        try:
            records = write_months(node.engine, node.settings.node_id, country, month,
                                   derived, author=user.username, reason=reason,
                                   confirmed=confirm)
        except IndicatorError as exc:
            raise _refused(exc, "query") from exc
    return {"country": country, "month": month, "dry_run": dry_run, "derived": shown,
            "records": [_public(r) for r in records]}
