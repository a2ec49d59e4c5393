"""Confirmed impact levels of border sections (``section_assessment`` records).

One record per section and node, with the proposed level, the reasons, who
confirmed it, the reactions the level requires and how far their checklist has
been worked through (each tick a new version); versions are the level history.
Confirming a level starts a fresh checklist. Reading "the" level of a section
prefers the node's own and falls back to the newest received (a post shows the
level its national centre set).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
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
    current_by_subject,
    get_record,
    next_version,
    own_record_id,
    versions_of,
    write_own,
)
from sitcen.taxonomy import SectionImpactLevel
from sitcen.times import iso


def level_record_id(node_id: str, section_id: str) -> str:
    """The id of this node's record of a section's confirmed impact level."""
    return own_record_id(node_id, RecordKind.section_assessment, section_id)


def confirm_level(engine: sa.Engine, node_id: str, section_id: str, *, level: str,
                  proposed_level: str | None, reasons: Sequence[str],
                  reactions: Sequence[str], confirmed_by: str, justification: str = "",
                  base_version: int | None = None) -> StoredRecord:
    """Confirm (or override) the proposed impact level of a section; the next version.

    Overriding (a level other than the proposed one) needs a justification;
    without a proposal every level counts as an override.
    """
    valid = [v.value for v in SectionImpactLevel]
    if level not in valid:
        raise AssessmentError("level", f"level must be one of {', '.join(valid)}")
    overridden = level != proposed_level
    justification = justification.strip()
    if overridden and not justification:
        what = (f"the proposed level is {proposed_level}" if proposed_level
                else "there is no proposed level")
        raise AssessmentError("justification",
                              f"{what}: setting {level} needs a justification")
    body = {"section_id": section_id, "level": level, "proposed_level": proposed_level,
            "reasons": list(reasons), "confirmed_by": confirmed_by, "overridden": overridden,
            "justification": justification, "reactions": list(reactions),
            "handling": HANDLING}
    record = next_version(engine, RecordKind.section_assessment,
                          level_record_id(node_id, section_id), body, node_id, base_version)
    return write_own(engine, [record], node_id)[0]


def current_levels(engine: sa.Engine, node_id: str) -> dict[str, StoredRecord]:
    """The confirmed impact level of every section that has one (own, else received)."""
    return current_by_subject(engine, RecordKind.section_assessment, node_id)


def current_level(engine: sa.Engine, node_id: str, section_id: str) -> StoredRecord | None:
    """The confirmed impact level of a section, or None."""
    return current_by_subject(engine, RecordKind.section_assessment, node_id,
                               section_id).get(section_id)


def level_history(engine: sa.Engine, node_id: str, section_id: str) -> list[dict[str, Any]]:
    """Every confirmation of a section's level, oldest first.

    A tick of the reaction checklist is a version of the level record too, but
    not a confirmation: versions that changed only the checklist are left out.
    """
    decided = ("level", "justification", "confirmed_by", "proposed_level")
    history: list[dict[str, Any]] = []
    for version in versions_of(engine, current_level(engine, node_id, section_id)):
        if history and all(version.get(k) == history[-1].get(k) for k in decided):
            continue
        history.append(version)
    return history


def tick_reaction(engine: sa.Engine, node_id: str, section_id: str, *, item: int, done: bool,
                  by: str, note: str = "", base_version: int | None = None) -> StoredRecord:
    """Tick (or untick) item ``item`` of the reaction checklist of this node's level.

    :class:`NotFound` when this node has confirmed no level for the section;
    :class:`AssessmentError` on ``item`` when the checklist has no such item.
    """
    record_id = level_record_id(node_id, section_id)
    current = get_record(engine, record_id)
    if current is None:
        raise NotFound("level", section_id, f"this node has confirmed no level for {section_id}")
    reactions = list(current.body.get("reactions") or [])
    if not 0 <= item < len(reactions):
        raise AssessmentError("item", f"the checklist of level {current.body.get('level')} has "
                                      f"items 0 to {len(reactions) - 1}")
    checklist = dict(current.body.get("checklist") or {})
    checklist[str(item)] = {"done": done, "by": by, "note": note,
                            "at": iso(datetime.now(UTC))}
    body = {**current.body, "checklist": checklist}
    record = next_version(engine, RecordKind.section_assessment, record_id, body, node_id,
                          base_version, current)
    return write_own(engine, [record], node_id)[0]
