"""Alerts of early warning and the cluster scan: list them, acknowledge them."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import CurrentNode, Reader, require
from sitcen.events import NO_NUL
from sitcen.store.alerts import acknowledge_alert, list_alerts
from sitcen.store.records import StoredRecord
from sitcen.store.users import StoredUser
from sitcen.users import Permission

router = APIRouter(prefix="/alerts", tags=["alerts"])

# Acknowledging is part of watching the picture: the duty officer's permission.
Watcher = Annotated[StoredUser, require(Permission.change_status)]


class AlertStatus(StrEnum):
    """Whether a duty officer has taken an alert in hand."""

    open = "open"
    acknowledged = "acknowledged"


class AlertPublic(BaseModel):
    """An alert as the node holds it: one per episode, a new version as it grows."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    origin: str
    version: int
    recorded_at: str
    section_id: str | None
    severity: str
    status: AlertStatus
    first_day: str
    last_day: str
    explanation: str
    event_ids: list[str]


class AlertList(BaseModel):
    """Alerts, latest first."""

    alerts: list[AlertPublic]


class Acknowledgement(BaseModel):
    """A duty officer taking an alert in hand."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=4000, pattern=NO_NUL, description="what is being done")
    base_version: int | None = Field(None, ge=1, description="409 when no longer current")


def _public(record: StoredRecord) -> dict[str, Any]:
    return {"event_ids": [], "explanation": "", **record.body, "id": record.id,
            "origin": record.origin, "version": record.version,
            "recorded_at": record.to_dict()["recorded_at"]}


@router.get("", response_model=AlertList)
def read_alerts(
    node: CurrentNode, _user: Reader,
    status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
    section_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[date | None, Query(description="still alarming on or after this day")]
    = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Alerts by status, section and day, latest first."""
    found = list_alerts(node.engine, status=None if status_ is None else status_.value,
                        section_id=section_id, since=since, limit=limit)
    return {"alerts": [_public(r) for r in found]}


@router.post("/{alert_id}/acknowledge", response_model=AlertPublic)
def acknowledge(alert_id: uuid.UUID, node: CurrentNode, user: Watcher,
                item: Acknowledgement | None = None) -> dict[str, Any]:
    """Acknowledge an alert (a new version of it, status acknowledged)."""
    item = item or Acknowledgement()
    record = acknowledge_alert(node.engine, node.settings.node_id, str(alert_id),
                               by=user.username, note=item.note, base_version=item.base_version)
    return _public(record)
