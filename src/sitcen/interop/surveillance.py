"""Green-border surveillance: what the sensor subscriber does beyond recording detections.

For each detection the subscriber records, :class:`Surveillance` notes the
sensor as alive (:mod:`sitcen.interop.sensor_health`), moves the fence and
cable segments the sensor watches (:mod:`sitcen.operations.fences`), and
hands the detection to the node's correlation (:mod:`sitcen.operations.incidents`),
which proposes one event per incident instead of one per burst or per
sensor. A patrol's report on a segment (:func:`segment_report`) goes the
same way. docs/surveillance.md tells the whole story.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from sitcen.analysis.correlation import DETECTION, SEGMENT, CorrelationRules, Evidence, Incident
from sitcen.errors import InvalidInput
from sitcen.events import EventCreate
from sitcen.interop.sensor_health import (
    HealthMonitor,
    HealthWatch,
    parse_health,
)
from sitcen.operations.fences import (
    BREACH_KINDS,
    SegmentReport,
    StateRefused,
    change_state,
    get_segment,
    note_breach_event,
    report_refused,
    segments_watched_by,
)
from sitcen.operations.incidents import IncidentDesk, desk_for
from sitcen.settings import Settings
from sitcen.store.events import Reporter, report_events
from sitcen.store.records import StoredRecord, get_record
from sitcen.times import moment_or_none

log = logging.getLogger("sitcen.sensors")

#: What an incident made only of segment reports (a breach found, no detection) is reported as.
BREACH_EVENT_TYPE = "damaged_border_sign"


class RuleSource(Protocol):
    def rule(self, kind: str) -> Any: ...


class NodeLike(Protocol):
    settings: Settings
    engine: sa.Engine

    @property
    def reporter(self) -> Reporter: ...


def rules_from(settings: Settings) -> CorrelationRules:
    """The node's correlation rules: its distance, and the burst window and count."""
    return CorrelationRules(max_km=settings.correlation_km,
                            window=timedelta(minutes=settings.sensor_burst_minutes),
                            propose_count=settings.sensor_burst_count)


def propose_incident(engine: sa.Engine, reporter: Reporter, incident: Incident,
                     mapping: RuleSource) -> str:
    """Report the event an incident suggests (status ``reported``); its id."""
    pieces = sorted(incident.evidence, key=lambda e: e.at)
    detections = [e for e in pieces if e.kind == DETECTION]
    kinds = [e.detail for e in detections if e.detail]
    sections = sorted({e.section_id for e in pieces if e.section_id})
    segments = sorted({e.segment_id for e in pieces if e.segment_id})
    breached = sorted({e.segment_id for e in pieces if e.breach and e.segment_id})
    if kinds:
        rule = mapping.rule(max(set(kinds), key=kinds.count))
        etype, details = rule.type, rule.details
    else:
        etype, details = BREACH_EVENT_TYPE, {}
    parts = [f"Incident on {', '.join(sections) or 'no section'}:"]
    if detections:
        parts.append(f"{len(detections)} detections ({', '.join(sorted(set(kinds)))}) by "
                     f"{', '.join(sorted({d.source for d in detections}))}")
    if segments:
        parts.append(f"fence segments {', '.join(segments)}"
                     + (f" (breached: {', '.join(breached)})" if breached else ""))
    parts.append(f"from {pieces[0].at:%Y-%m-%d %H:%M:%S} to {pieces[-1].at:%H:%M:%S} UTC.")
    parts.append("Evidence: " + ", ".join(e.key for e in pieces))
    item = EventCreate.model_validate({
        "type": etype, "occurred_at": min(pieces[0].at, datetime.now(UTC)),
        "location": {"lon": pieces[-1].lon, "lat": pieces[-1].lat}, "details": details,
        "status": "reported", "description": " ".join(parts)[:8000],
        "confidence": {"source_reliability": "C", "information_credibility": 3},
    })
    return report_events(engine, reporter, [item])[0].id


class Surveillance:
    """Health, fences and correlation for one node's sensor subscriber."""

    def __init__(self, node: NodeLike, mapping: RuleSource, *,
                 rules: CorrelationRules | None = None) -> None:
        s = node.settings
        self.node = node
        self.mapping = mapping
        self.desk: IncidentDesk = desk_for(node.engine, s.node_id, rules or rules_from(s))
        self.health = HealthMonitor(node.engine, s.node_id,
                                    default_interval_s=s.sensor_heartbeat_s,
                                    battery_low_pct=s.sensor_battery_low_pct)
        self._watch: HealthWatch | None = None

    def start(self) -> None:
        """Watch every registered sensor for silence from now on."""
        self.health.load()
        self._watch = HealthWatch(self.health).start()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def health_message(self, payload: bytes) -> None:
        """A heartbeat, battery, tamper or fault message (:class:`HealthError` if unusable)."""
        self.health.message(parse_health(payload))

    def detection(self, record: StoredRecord) -> str | None:
        """A recorded detection: alive, segments moved, correlated. The id of the event
        proposed because of it, if any."""
        b = record.body
        self.health.heard(b["sensor_id"])
        at = moment_or_none(b.get("detected_at")) or datetime.now(UTC)
        node_id = self.node.settings.node_id
        cause = "cut" if b.get("kind") in BREACH_KINDS else "detection"
        segment_id = None
        breach = False
        for segment in segments_watched_by(self.node.engine, node_id, b["sensor_id"]):
            segment_id = segment.body["segment_id"]
            changed = change_state(self.node.engine, node_id, segment, cause, at=at,
                                   by=b["sensor_id"],
                                   source={"kind": DETECTION, "id": record.id})
            breach = breach or (changed is not None and changed.body["state"] == "breached")
        if b.get("section_id") is None and segment_id is None:
            return None  # inland sensors make observations, not incidents
        location = b.get("location") or {}
        piece = Evidence(DETECTION, record.id, b["sensor_id"], at, float(location["lon"]),
                         float(location["lat"]), b.get("section_id"), segment_id, breach,
                         detail=str(b.get("kind") or ""))
        return self.observe(piece)

    def observe(self, piece: Evidence) -> str | None:
        """Correlate a piece; the event proposed now, if any (a breach notes it)."""
        def propose(incident: Incident) -> str | None:
            try:
                return propose_incident(self.node.engine, self.node.reporter, incident,
                                        self.mapping)
            except InvalidInput as exc:
                log.warning("incident %d: proposal refused: %s", incident.number, exc.errors)
                return None

        incident, event_id = self.desk.observe(piece, propose)
        if incident.event_id is not None:
            self._note_breaches(incident)
        if event_id is not None:
            log.info("incident of %d pieces proposed as event %s (%s)", len(incident.evidence),
                     event_id, Counter(e.kind for e in incident.evidence))
        return event_id

    def _note_breaches(self, incident: Incident) -> None:
        assert incident.event_id is not None
        for piece in incident.evidence:
            if not piece.breach or piece.kind not in (SEGMENT, DETECTION):
                continue
            segment = (None if piece.segment_id is None else
                       get_segment(self.node.engine, self.node.settings.node_id,
                                   piece.segment_id))
            if segment is not None and segment.body.get("state") == "breached" \
                    and segment.body.get("breach_event_id") is None:
                note_breach_event(self.node.engine, self.node.settings.node_id, segment,
                                  incident.event_id)


def segment_report(surveillance: Surveillance, segment: StoredRecord, report: SegmentReport,
                   *, by: str) -> tuple[StoredRecord, str | None]:
    """A patrol's report on a segment: its new state, and the correlation it feeds.
    Returns the segment as it now is and the event proposed because of it, if any."""
    node = surveillance.node
    at = report.at or datetime.now(UTC)
    try:
        changed = change_state(node.engine, node.settings.node_id, segment, report.state, at=at,
                               by=by, source={"kind": "patrol_report", "by": by,
                                              "text": report.text})
    except StateRefused as exc:
        raise report_refused(exc) from None
    if changed is None:
        return segment, None
    b = changed.body
    piece = Evidence(SEGMENT, changed.id, b["segment_id"], at, float(b["location"]["lon"]),
                     float(b["location"]["lat"]), b.get("section_id"), b["segment_id"],
                     b["state"] == "breached", version=changed.version)
    event_id = surveillance.observe(piece)
    return get_record(node.engine, changed.id) or changed, event_id
