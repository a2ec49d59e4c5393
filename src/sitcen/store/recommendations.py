"""Recommendations of vulnerability assessments (``recommendation`` records).

What an assessment asks to be done, with owner, deadline and status; the
record's versions are its status history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from sitcen.errors import NotFound
from sitcen.store.journal import (
    RecordKind,
)
from sitcen.store.records import (
    HANDLING,
    AssessmentError,
    StoredRecord,
    get_record,
    list_records,
    next_version,
    versions_of,
    write_own,
)

RECOMMENDATION_STATUSES = ("open", "in_progress", "done", "cancelled")


#: Which status may follow which: done and cancelled are final (a recommendation
#: that must be taken up again is made anew).
RECOMMENDATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "open": frozenset({"open", "in_progress", "done", "cancelled"}),
    "in_progress": frozenset({"in_progress", "open", "done", "cancelled"}),
    "done": frozenset({"done"}),
    "cancelled": frozenset({"cancelled"}),
}


OPEN_STATUSES = frozenset({"open", "in_progress"})


def is_overdue(body: Mapping[str, Any], today: date) -> bool:
    """Whether a recommendation is still open or in progress after its deadline."""
    return body.get("status") in OPEN_STATUSES and date.fromisoformat(body["deadline"]) < today


def add_recommendation(engine: sa.Engine, node_id: str, *, section_id: str, text: str,
                       owner: str, deadline: date, created_by: str,
                       status: str = "open") -> StoredRecord:
    """Record a recommendation of a vulnerability assessment."""
    if status not in RECOMMENDATION_STATUSES:
        raise AssessmentError(
            "status", f"status must be one of {', '.join(RECOMMENDATION_STATUSES)}")
    body = {"section_id": section_id, "text": text, "owner": owner,
            "deadline": deadline.isoformat(), "status": status, "created_by": created_by,
            "updated_by": created_by, "note": "", "handling": HANDLING}
    record = next_version(engine, RecordKind.recommendation, str(uuid.uuid4()), body, node_id)
    return write_own(engine, [record], node_id)[0]


def update_recommendation(engine: sa.Engine, node_id: str, record_id: str, *,
                          updated_by: str, status: str | None = None, owner: str | None = None,
                          deadline: date | None = None, note: str | None = None,
                          base_version: int | None = None) -> StoredRecord:
    """Write the next version of a recommendation: new status, owner, deadline or note.

    Raises :class:`NotFound` for an unknown one, :class:`AssessmentError` for a
    status that may not follow the current one.
    """
    current = get_record(engine, record_id)
    if current is None or current.kind != RecordKind.recommendation:
        raise NotFound("recommendation", record_id)
    body = dict(current.body)
    if status is not None:
        if status not in RECOMMENDATION_STATUSES:
            raise AssessmentError(
                "status", f"status must be one of {', '.join(RECOMMENDATION_STATUSES)}")
        if status not in RECOMMENDATION_TRANSITIONS[body["status"]]:
            raise AssessmentError(
                "status", f"a recommendation that is {body['status']} cannot become {status}")
        body["status"] = status
    if owner is not None:
        body["owner"] = owner
    if deadline is not None:
        body["deadline"] = deadline.isoformat()
    body["note"] = "" if note is None else note
    body["updated_by"] = updated_by
    record = next_version(engine, RecordKind.recommendation, record_id, body, node_id,
                          base_version, current)
    return write_own(engine, [record], node_id)[0]


def list_recommendations(engine: sa.Engine, *, section_id: str | None = None,
                         status: str | None = None,
                         overdue_on: date | None = None) -> list[StoredRecord]:
    """Recommendations, earliest deadline first; ``overdue_on`` keeps those overdue that day."""
    found = list_records(engine, RecordKind.recommendation, subject=section_id, limit=100_000)
    if status is not None:
        found = [r for r in found if r.body.get("status") == status]
    if overdue_on is not None:
        found = [r for r in found if is_overdue(r.body, overdue_on)]
    return sorted(found, key=lambda r: (r.body.get("deadline", ""), r.id))


def recommendation_history(engine: sa.Engine, record_id: str) -> list[dict[str, Any]]:
    """Every version of a recommendation (its status history), oldest first."""
    return versions_of(engine, get_record(engine, record_id))
