"""The submission cycle of monthly indicators: deadline, reminders, the act of submitting.

A member's month is **submitted** by an explicit act (:func:`submit_month`):
a record of kind ``indicator_submission`` (one per country x month, subject
``TJ|2026-03``) naming the version and total of every indicator's record it
submits, written only when every indicator of the list is recorded and its
values pass the checks again. The deadline is a node setting (the
``indicator_deadline_day`` of the following month); a submission after it is
marked ``late``. A month submitted again (after a revision) is a new version
with a reason.

Reminders (:func:`remind`) go through the node's notifications to the people
who record indicators (the ``issue_reports`` permission): ``indicator_due``
from ``indicator_reminder_days`` before the deadline, ``indicator_overdue``
once it has passed. The first reminder opens the month (a submission record
with status ``open``) so that the notice is about a record, as every notice is.

The hub reads the submissions and records it receives through federation:
:func:`completeness_board` says, per country x month, submitted / late /
missing / due, and lists revisions with their reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa

from sitcen.indicator_list import INDICATORS, LIST_VERSION
from sitcen.operations.audience import Audience
from sitcen.operations.indicator_records import (
    KIND as RECORD_KIND,
)
from sitcen.operations.indicator_records import (
    Finding,
    IndicatorError,
    check_month_text,
    check_values,
    month_records,
    record_key,
    record_versions,
    values_of,
)
from sitcen.operations.notifications import notify_users
from sitcen.store import schema
from sitcen.store.journal import RecordKind
from sitcen.store.records import (
    HANDLING,
    StoredRecord,
    list_records,
    next_version,
    own_record_id,
    write_own,
)
from sitcen.times import iso
from sitcen.users import Permission

KIND = RecordKind.indicator_submission
#: How many past months reminders look back on (an older month missing is the board's news).
REMIND_MONTHS = 3


class Status(StrEnum):
    """Where a country's month stands."""

    submitted = "submitted"  # on time
    late = "late"  # submitted after the deadline
    missing = "missing"  # deadline passed, not submitted
    due = "due"  # not submitted, deadline still ahead


def submission_key(country: str, month: str) -> str:
    """The subject of a country's submission of a month."""
    return f"{country}|{month}"


def deadline_of(month: str, day: int) -> date:
    """The last day a month may be submitted on time: ``day`` of the following month."""
    following = pd.Period(check_month_text(month), freq="M") + 1
    return date(following.year, following.month, day)


def current_submission(engine: sa.Engine, country: str, month: str) -> StoredRecord | None:
    """The submission of a country's month this node holds (own or received), or None.

    A submitted one before a month only opened (several nodes of a country may hold
    an open month of it, received with everything else they pass up), the newest first.
    """
    found = list_records(engine, KIND, subject=submission_key(country, month), limit=50)
    submitted = [r for r in found if r.body.get("status") == "submitted"]
    chosen = submitted or found
    return chosen[0] if chosen else None


def own_submission(engine: sa.Engine, node_id: str, country: str,
                   month: str) -> StoredRecord | None:
    """This node's own submission record of a country's month, or None."""
    found = list_records(engine, KIND, subject=submission_key(country, month), origin=node_id,
                         limit=1)
    return found[0] if found else None


def _body(country: str, month: str, deadline: date, *, status: str,
          records: Sequence[StoredRecord] = (), now: datetime | None = None,
          by: str | None = None, reason: str | None = None) -> dict[str, Any]:
    submitted = now is not None and status == "submitted"
    return {
        "key": submission_key(country, month), "country": country, "month": month,
        "list_version": LIST_VERSION, "status": status, "deadline": deadline.isoformat(),
        "submitted_at": iso(now) if submitted and now is not None else None,
        "submitted_by": by if submitted else None,
        "late": bool(submitted and now is not None and now.astimezone(UTC).date() > deadline),
        "indicators": {str(r.body["indicator"]): {"version": r.version,
                                                   "total": r.body.get("total")}
                       for r in records},
        "reason": reason,
        # Shared with the hub by agreement, like the records it submits.
        "handling": HANDLING,
    }


def submit_month(engine: sa.Engine, node_id: str, country: str, month: str, *, author: str,
                 deadline_day: int, now: datetime, reason: str | None = None) -> StoredRecord:
    """Submit a country's month: every indicator recorded and passing the checks.

    IndicatorError names each indicator missing or failing; a month submitted
    before is submitted again only with a reason (after a revision).
    """
    check_month_text(month)
    held = {str(r.body.get("indicator")): r
            for r in month_records(engine, node_id, country, month) if r.origin == node_id}
    findings: list[Finding] = []
    for indicator_id, item in INDICATORS.items():
        record = held.get(indicator_id)
        if record is None:
            findings.append(Finding(None, indicator_id, f"{indicator_id} is not recorded for "
                                                        f"{month} (a zero is a value: enter it)"))
            continue
        findings += [Finding(f.index, f"{indicator_id}:{f.column}", f.reason)
                     for f in check_values(item, values_of(record))]
    record_id = own_record_id(node_id, KIND, submission_key(country, month))
    own = own_submission(engine, node_id, country, month)
    if own is not None and own.body.get("status") == "submitted" and not (
            reason and reason.strip()):
        findings.append(Finding(None, "reason", f"{month} was submitted (version "
                                                f"{own.version}): submitting again needs a "
                                                "reason"))
    if findings:
        raise IndicatorError(findings)
    body = _body(country, month, deadline_of(month, deadline_day), status="submitted",
                 records=[held[i] for i in INDICATORS], now=now, by=author,
                 reason=reason.strip() if reason and reason.strip() else None)
    if own is not None and own.body.get("late"):
        body["late"] = True  # a month once late stays late when submitted again
    written = write_own(engine, [next_version(engine, KIND, record_id, body, node_id,
                                              current=own)], node_id)
    return written[0]


# ----------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Reminders:
    """A country node's deadline and reminder settings."""

    country: str
    deadline_day: int = 15
    remind_days: int = 5


def months_to_remind(now: datetime, settings: Reminders) -> list[tuple[str, str]]:
    """The months (and reason) to remind of at ``now``: due soon, or overdue."""
    today = now.astimezone(UTC).date()
    this = pd.Period(today, freq="M")
    out = []
    for back in range(REMIND_MONTHS, 0, -1):
        month = str(this - back)
        deadline = deadline_of(month, settings.deadline_day)
        if today > deadline:
            out.append((month, "indicator_overdue"))
        elif today >= deadline - timedelta(days=settings.remind_days):
            out.append((month, "indicator_due"))
    return out


def remind(engine: sa.Engine, node_id: str, settings: Reminders, now: datetime, *,
           audience: Audience) -> dict[str, list[str]]:
    """Remind the people who record indicators of each month not yet submitted; who, per month.

    Each is told once per month and reason, however often this runs.
    """
    told: dict[str, list[str]] = {}
    people = audience.people_with(Permission.issue_reports)
    for month, reason in months_to_remind(now, settings):
        current = own_submission(engine, node_id, settings.country, month)
        if current is not None and current.body.get("status") == "submitted":
            continue
        if current is None:
            body = _body(settings.country, month, deadline_of(month, settings.deadline_day),
                         status="open")
            record_id = own_record_id(node_id, KIND, submission_key(settings.country, month))
            current = write_own(engine, [next_version(engine, KIND, record_id, body,
                                                      node_id)], node_id)[0]
        deadline = str(current.body.get("deadline"))
        done = notify_users(engine, node_id, people, kind=KIND, record_id=current.id,
                            reason=reason, key=f"{reason}|{month}", audience=audience,
                            text=f"{month}: deadline {deadline}")
        if done:
            told[month] = done
    return told


# ----------------------------------------------------------------------------- the board


def _revisions(engine: sa.Engine, record: StoredRecord, submitted_at: str | None,
               submitted: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record's revisions; ``submitted``: the submission's version and total of each
    indicator, the total before when only the revised version reached this node."""
    if record.version < 2:
        return []
    versions = record_versions(engine, record)
    if len(versions) < 2:  # only the revised version reached this node
        named = submitted.get(str(record.body.get("indicator"))) or {}
        before = named.get("total") if named.get("version") == record.version - 1 else None
        versions = [{"version": record.version - 1, "total": before},
                    {"version": record.version, "recorded_at": record.recorded_at,
                     "reason": record.body.get("reason"), "total": record.body.get("total")}]
    out = []
    for before, after in pairwise(versions):
        recorded = iso(after["recorded_at"]) if isinstance(after["recorded_at"], datetime) \
            else str(after["recorded_at"])
        out.append({"indicator": record.body.get("indicator"), "version": after["version"],
                    "reason": after.get("reason"), "recorded_at": recorded,
                    "total_before": before.get("total"), "total": after.get("total"),
                    "after_submission": submitted_at is not None and recorded > submitted_at})
    return out


def board_cell(engine: sa.Engine, country: str, month: str, *, today: date,
               deadline_day: int) -> dict[str, Any]:
    """One country's month on the completeness board."""
    submission = current_submission(engine, country, month)
    body: Mapping[str, Any] = submission.body if submission is not None else {}
    submitted = body.get("status") == "submitted"
    deadline = date.fromisoformat(str(body["deadline"])) if body.get("deadline") \
        else deadline_of(month, deadline_day)
    if submitted:
        status = Status.late if body.get("late") else Status.submitted
    else:
        status = Status.missing if today > deadline else Status.due
    keys = [record_key(country, month, i) for i in INDICATORS]
    records = list_records(engine, RECORD_KIND, subjects=keys, limit=10 * len(keys))
    chosen: dict[str, StoredRecord] = {}
    for record in records:  # the member's own record before a copy relayed by another node
        indicator_id = str(record.body.get("indicator"))
        if indicator_id not in chosen or record.version > chosen[indicator_id].version:
            chosen[indicator_id] = record
    submitted_at = body.get("submitted_at") if submitted else None
    revisions = [r for record in chosen.values()
                 for r in _revisions(engine, record, submitted_at,
                                     body.get("indicators") or {} if submitted else {})]
    return {
        "country": country, "month": month, "status": status.value,
        "deadline": deadline.isoformat(), "submitted_at": submitted_at,
        "submitted_by": body.get("submitted_by") if submitted else None,
        "submission_version": submission.version if submission is not None else None,
        "indicators": len(chosen), "of": len(INDICATORS),
        "totals": {i: chosen[i].body.get("total") for i in INDICATORS if i in chosen},
        "revisions": sorted(revisions, key=lambda r: (r["recorded_at"], r["indicator"])),
        "revised": bool(revisions),
    }


def completeness_board(engine: sa.Engine, countries: Sequence[str], months: Sequence[str], *,
                       today: date, deadline_day: int) -> dict[str, Any]:
    """Per country x month: submitted / late / missing / due, indicators held, revisions."""
    cells = [board_cell(engine, c, m, today=today, deadline_day=deadline_day)
             for m in months for c in countries]
    summary = {m: {s.value: sum(1 for c in cells if c["month"] == m and c["status"] == s)
                   for s in Status} for m in months}
    for m in months:
        summary[m]["received"] = summary[m]["submitted"] + summary[m]["late"]
        summary[m]["expected"] = len(countries)
    return {"countries": list(countries), "months": list(months), "cells": cells,
            "summary": summary}




# ----------------------------------------------------------------------------- the hub's tables


TOTAL_COLUMNS = ["country", "month", "indicator", "total"]
CELL_COLUMNS = ["country", "month", "indicator", "place", "nationality", "value"]


def _finest(values: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The values of the record's finest breakdown by place and nationality (the others
    are sums of it)."""
    def depth(value: Mapping[str, Any]) -> int:
        return sum(value.get(n) is not None for n in ("place", "nationality"))
    deepest = max((depth(v) for v in values), default=0)
    return [v for v in values if depth(v) == deepest and deepest > 0]


def hub_tables(engine: sa.Engine, countries: Sequence[str] | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``totals`` and ``cells`` tables of :mod:`sitcen.analysis.network` from the
    indicator records this node holds (current versions; ``countries``: only theirs)."""
    wanted = set(countries) if countries else None
    totals: list[tuple[Any, ...]] = []
    cells: list[tuple[Any, ...]] = []
    r = schema.records
    query = sa.select(r.c.body).where(r.c.kind == RECORD_KIND)
    with engine.connect() as conn:
        for row in conn.execute(query):
            body = orjson.loads(row.body)
            country, month, indicator = body.get("country"), body.get("month"), body.get(
                "indicator")
            if wanted is not None and country not in wanted:
                continue
            totals.append((country, month, indicator, float(body.get("total") or 0.0)))
            cells += [(country, month, indicator, v.get("place"), v.get("nationality"),
                       float(v.get("value") or 0.0))
                      for v in _finest(body.get("values") or ())]
    return (pd.DataFrame(totals, columns=TOTAL_COLUMNS),
            pd.DataFrame(cells, columns=CELL_COLUMNS))
