"""Scheduled products: the daily situation report drafted (and, if so set, issued) each day.

At ``SITCEN_REPORT_DAILY_AT`` (default 00:30) in the centre's time zone the
node drafts the daily report of the day before with the default template,
and does the same for every template with its own ``schedule``. A draft's id
follows from its product, template and period, so several processes of one
node (or a restart) never make it twice. When an officer is named
(``SITCEN_REPORT_ISSUE_AS`` or the template's ``issue_as``) the draft is
issued and signed for them at once; otherwise it waits in the library for
commentary.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sitcen.errors import VersionConflictError
from sitcen.reports.building import period_for
from sitcen.reports.library import (
    NodeFacts,
    ReportError,
    draft_record_id,
    issue_draft,
    make_draft,
    templates,
)
from sitcen.reports.templates import ReportTemplate, default_template
from sitcen.store.leases import acquire
from sitcen.store.records import StoredRecord, get_record
from sitcen.store.users import list_users

log = logging.getLogger("sitcen.reports")
LEASE = "reports:schedule"


def _due(template: ReportTemplate, at: str, facts: NodeFacts, now: datetime
         ) -> tuple[str, datetime] | None:
    """The day whose daily report is due at ``now`` (its start), or None before the hour."""
    zone = template.zone(facts.country)
    local = now.astimezone(zone)
    hour, minute = (int(x) for x in at.split(":"))
    if (local.hour, local.minute) < (hour, minute):
        return None
    day = local.date() - timedelta(days=1)
    return day.isoformat(), period_for("daily", day, zone).start


def run_schedule(engine: sa.Engine, facts: NodeFacts, *, now: datetime, daily_at: str,
                 language: str = "ru", issue_as: str = "") -> list[StoredRecord]:
    """One pass: draft (and issue, when an officer is named) each daily report that is due."""
    plans: list[tuple[ReportTemplate | None, str, str]] = []
    if daily_at:
        plans.append((None, daily_at, issue_as))
    for own in templates(engine).values():
        if own.schedule and own.product in (None, "daily"):
            plans.append((own, own.schedule, own.issue_as or ""))
    written = []
    officers = {u.username: u for u in list_users(engine) if not u.disabled}
    for template, at, officer_name in plans:
        effective = template or default_template("daily", language)
        due = _due(effective, at, facts, now)
        if due is None:
            continue
        day, start = due
        record_id = draft_record_id(facts.node_id, "daily", effective.id, start.isoformat())
        if get_record(engine, record_id) is not None:
            continue
        try:
            draft = make_draft(engine, facts, product="daily",
                               day=datetime.fromisoformat(day).date(), by="schedule",
                               template_id=None if template is None else template.id,
                               language=language if template is None else None, now=now,
                               scheduled=True)
        except VersionConflictError:
            continue  # another process of the node made it a moment ago
        written.append(draft)
        officer = officers.get(officer_name)
        if officer_name and officer is None:
            log.warning("scheduled report %s left as a draft: no active user %r", draft.id,
                        officer_name)
        elif officer is not None:
            try:
                written.append(issue_draft(engine, facts, draft.id, officer, now=now))
            except ReportError as exc:
                log.warning("scheduled report %s left as a draft: %s", draft.id, exc)
    return written


@dataclass
class ReportScheduler:
    """Runs :func:`run_schedule` every minute in a daemon thread, one process at a time."""

    engine: sa.Engine
    facts: NodeFacts
    daily_at: str
    language: str = "ru"
    issue_as: str = ""
    every_s: float = 60.0
    holder: str = field(default_factory=lambda: f"reports-{id(object())}")
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> ReportScheduler:
        threading.Thread(target=self._run, name="report-schedule", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if acquire(self.engine, LEASE, self.holder, 3 * self.every_s):
                    run_schedule(self.engine, self.facts, now=datetime.now(UTC),
                                 daily_at=self.daily_at, language=self.language,
                                 issue_as=self.issue_as)
            except Exception:  # the schedule must never take the server down
                log.exception("scheduled reports: pass failed")
            self._stop.wait(self.every_s)
