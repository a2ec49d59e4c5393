"""Incidents: the evidence grouped into a proposed event, and undoing a grouping.

When :class:`~sitcen.analysis.correlation.Correlator` puts a piece of
evidence into an incident that has an event, the node writes an
``event_action`` record of action ``group`` on that event: the piece (kind,
id, source, place, time), the rule, the distance and the time gap, and the
explanation in words. The duty officer undoes one with an action ``ungroup``
naming the grouping. The incident's evidence (:func:`evidence_of`) is the
groupings not undone, each with every attachment of its record (a camera's
snapshot of a detection, a patrol's photo of an event), whatever attached it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from sitcen.analysis.correlation import (
    CorrelationRules,
    Correlator,
    Evidence,
    Grouping,
    Incident,
)
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.operations.attachments import attachments_of, public_attachment
from sitcen.store.events import get_event
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, get_record, list_records, write_record
from sitcen.times import iso

GROUPED_BY = "sitcen-correlation"


def _now() -> str:
    return iso(datetime.now(UTC))


def group(engine: sa.Engine, node_id: str, event_id: str, piece: Evidence,
          grouping: Grouping | None) -> StoredRecord:
    """Record that ``piece`` belongs to the incident of ``event_id`` (``grouping`` None: the
    piece the incident started from)."""
    event = get_event(engine, event_id)
    if event is None:
        raise NotFound("event", event_id)
    body: dict[str, Any] = {
        "event_id": event_id, "event_origin": event.origin, "event_version": event.version,
        "action": "group", "by": GROUPED_BY, "at": _now(), "handling": str(event.handling),
        "evidence": {"kind": piece.kind, "id": piece.id, "version": piece.version,
                     "source": piece.source, "at": iso(piece.at),
                     "segment_id": piece.segment_id},
        # The piece's place at the top of the body, where the sharing function coarsens a
        # record's place to what an agreement grants.
        "location": {"lon": piece.lon, "lat": piece.lat}, "section_id": piece.section_id,
        "rule": None if grouping is None else grouping.rule,
        "matched": None if grouping is None else grouping.matched,
        "distance_km": None if grouping is None else round(grouping.distance_km, 3),
        "gap_s": None if grouping is None else round(grouping.gap_s, 1),
        "text": "first piece of the incident" if grouping is None else grouping.explain(),
    }
    return write_record(engine, RecordKind.event_action, body, node_id=node_id)


def ungroup(engine: sa.Engine, node_id: str, event_id: str, grouping_id: str, *, by: str,
            text: str) -> StoredRecord:
    """Take the piece of a grouping out of the incident (an ``ungroup`` action)."""
    grouping = get_record(engine, grouping_id)
    if (grouping is None or grouping.kind != RecordKind.event_action
            or grouping.body.get("action") != "group"
            or grouping.body.get("event_id") != event_id):
        raise InvalidInput([error(("body", "grouping_id"),
                                  "no grouping of this incident has this id", "not_found")])
    actions = list_records(engine, RecordKind.event_action, subject=event_id, limit=10_000)
    for action in actions:
        if action.body.get("action") == "ungroup" and action.body.get("grouping_id") == \
                grouping_id:
            raise InvalidInput([error(("body", "grouping_id"),
                                      f"this grouping was undone by {action.body.get('by')} "
                                      f"at {action.body.get('at')}", "conflict")])
    body = {**{k: grouping.body.get(k) for k in ("event_id", "event_origin", "event_version",
                                                 "handling", "evidence", "section_id")},
            "action": "ungroup", "grouping_id": grouping_id, "by": by, "at": _now(),
            "text": text}
    record = write_record(engine, RecordKind.event_action, body, node_id=node_id)
    desk = _DESKS.get(engine, {}).get(node_id)
    if desk is not None:
        evidence = grouping.body["evidence"]
        key = (f"{evidence['id']}@{evidence['version']}" if evidence["kind"] == "fence_segment"
               else evidence["id"])
        desk.correlator.detach(key, event_id)
    return record


def evidence_of(engine: sa.Engine, event_id: str) -> list[dict[str, Any]]:
    """The incident's evidence, oldest first: each grouping not undone, explained, with the
    attachments of its record."""
    actions = list(reversed(list_records(engine, RecordKind.event_action, subject=event_id,
                                         limit=10_000)))
    undone = {a.body.get("grouping_id") for a in actions if a.body.get("action") == "ungroup"}
    out = []
    for action in actions:
        if action.body.get("action") != "group" or action.id in undone:
            continue
        evidence = action.body["evidence"]
        out.append({
            "grouping_id": action.id, "kind": evidence["kind"], "id": evidence["id"],
            "version": evidence.get("version", 1), "source": evidence.get("source"),
            "at": evidence.get("at"), "location": action.body.get("location"),
            "section_id": action.body.get("section_id"), "segment_id": evidence.get("segment_id"),
            "rule": action.body.get("rule"), "distance_km": action.body.get("distance_km"),
            "gap_s": action.body.get("gap_s"), "explanation": action.body.get("text"),
            "attachments": [dict(public_attachment(a))
                            for a in attachments_of(engine, evidence["id"])],
        })
    return out


class IncidentDesk:
    """The node's running correlation: evidence in, groupings and proposals out."""

    def __init__(self, engine: sa.Engine, node_id: str, rules: CorrelationRules) -> None:
        self.engine = engine
        self.node_id = node_id
        self.correlator = Correlator(rules)
        self._lock = threading.Lock()

    def observe(self, piece: Evidence, propose: Callable[[Incident], str | None]
                ) -> tuple[Incident, str | None]:
        """Correlate a piece; record its grouping when its incident has an event, and
        propose the incident (``propose`` reports the event, its id) once it is ready.
        Returns the incident and the id of the event proposed now, if any."""
        with self._lock:
            incident, grouping = self.correlator.observe(piece)
            if incident.event_id is not None:
                group(self.engine, self.node_id, incident.event_id, piece, grouping)
                return incident, None
            if not self.correlator.ready(incident):
                return incident, None
            event_id = propose(incident)
            if event_id is None:
                return incident, None
            incident.event_id = event_id
            for earlier in incident.evidence:
                group(self.engine, self.node_id, event_id, earlier,
                      incident.groupings.get(earlier.key))
            return incident, event_id


_DESKS: weakref.WeakKeyDictionary[sa.Engine, dict[str, IncidentDesk]] = \
    weakref.WeakKeyDictionary()
_DESKS_LOCK = threading.Lock()


def desk_for(engine: sa.Engine, node_id: str, rules: CorrelationRules) -> IncidentDesk:
    """The one desk of a node's database in this process (the subscriber's detections and
    the officers' segment reports go to the same incidents)."""
    with _DESKS_LOCK:
        desks = _DESKS.setdefault(engine, {})
        if node_id not in desks:
            desks[node_id] = IncidentDesk(engine, node_id, rules)
        return desks[node_id]
