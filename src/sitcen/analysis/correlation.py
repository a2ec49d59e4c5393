"""Correlation: which detections, segment reports and patrol reports are one incident.

Pieces of :class:`Evidence` arrive one at a time (a sensor detection, a fence
segment changing state, a patrol's report). :class:`Correlator` puts each in
an open :class:`Incident` when one of its rules holds, else opens a new one,
and says why (:class:`Grouping`: the rule, the distance and the time gap to
the piece it was matched with). The rules, tried in this order:

``same_segment``
    the piece concerns a fence or cable segment that a piece of the incident
    concerns, within the time window;
``near``
    it lies within ``max_km`` of a piece of the incident, within the window;
``same_section``
    a sensor detection on the border section of a detection of the incident,
    within the window (the burst rule of docs/sensors.md).

An incident stays open while pieces keep coming less than the window apart.
It is worth proposing to the duty officer (:meth:`Correlator.ready`) once it
holds ``propose_count`` detections or any breach. A piece the duty officer
took out of an incident (:meth:`Correlator.detach`) never joins it again.
Pure: no database, no HTTP, no clock but the pieces' own times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

from sitcen.geo import geodesic_length_km

#: Evidence kinds.
DETECTION = "sensor_detection"
SEGMENT = "fence_segment"
REPORT = "event"


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: what it is, where and when."""

    kind: str
    id: str
    source: str  # the sensor, the segment or the reporting patrol
    at: datetime
    lon: float
    lat: float
    section_id: str | None = None
    segment_id: str | None = None
    breach: bool = False
    version: int = 1
    detail: str = ""  # what a detection saw (person, vehicle, cut, ...)

    @property
    def key(self) -> str:
        """Unique per piece: a segment's state changes are versions of one record."""
        return f"{self.id}@{self.version}" if self.kind == SEGMENT else self.id


@dataclass(frozen=True)
class Grouping:
    """Why a piece joined an incident."""

    rule: str
    matched: str  # the key of the piece it was matched with
    distance_km: float
    gap_s: float

    def explain(self) -> str:
        what = {"same_segment": "the same fence segment",
                "near": "a place nearby",
                "same_section": "the same border section"}[self.rule]
        return (f"rule {self.rule}: {what} as {self.matched}, {self.distance_km:.2f} km away, "
                f"{self.gap_s:.0f} s apart")


@dataclass
class Incident:
    """Pieces of evidence about one happening; ``event_id`` once it is proposed."""

    number: int
    evidence: list[Evidence] = field(default_factory=list)
    groupings: dict[str, Grouping] = field(default_factory=dict)
    event_id: str | None = None

    @property
    def last_at(self) -> datetime:
        return max(e.at for e in self.evidence)

    @property
    def detections(self) -> int:
        return sum(1 for e in self.evidence if e.kind == DETECTION)


@dataclass(frozen=True)
class CorrelationRules:
    """How close in space and time pieces must be, and when an incident is proposed."""

    max_km: float = 2.0
    window: timedelta = timedelta(minutes=10)
    propose_count: int = 3

    def __post_init__(self) -> None:
        if self.max_km < 0 or self.window <= timedelta(0) or self.propose_count < 1:
            raise ValueError("CorrelationRules: max_km >= 0, window > 0 and propose_count >= 1")


def distance_km(a: Evidence, b: Evidence) -> float:
    """Ellipsoidal distance between two pieces."""
    return geodesic_length_km([a.lon, b.lon], [a.lat, b.lat])


class Correlator:
    """Groups evidence into incidents as it arrives (see the module docstring)."""

    def __init__(self, rules: CorrelationRules | None = None) -> None:
        self.rules = rules or CorrelationRules()
        self._open: list[Incident] = []
        self._numbers = count(1)
        self._detached: set[tuple[str, int]] = set()  # (piece key, incident number)
        self._latest: datetime | None = None

    @property
    def open_incidents(self) -> list[Incident]:
        return list(self._open)

    def observe(self, piece: Evidence) -> tuple[Incident, Grouping | None]:
        """The incident ``piece`` now belongs to and why (None: it opened the incident)."""
        self._latest = piece.at if self._latest is None else max(self._latest, piece.at)
        self._open = [i for i in self._open
                      if i.evidence and self._latest - i.last_at <= self.rules.window]
        best: tuple[int, float, Incident, Grouping] | None = None
        for incident in self._open:
            if (piece.key, incident.number) in self._detached:
                continue
            found = self._match(piece, incident)
            if found is None:
                continue
            rank = ("same_segment", "near", "same_section").index(found.rule)
            if best is None or (rank, found.distance_km) < (best[0], best[1]):
                best = (rank, found.distance_km, incident, found)
        if best is None:
            incident = Incident(next(self._numbers), [piece])
            self._open.append(incident)
            return incident, None
        incident, grouping = best[2], best[3]
        incident.evidence.append(piece)
        incident.groupings[piece.key] = grouping
        return incident, grouping

    def _match(self, piece: Evidence, incident: Incident) -> Grouping | None:
        found: Grouping | None = None
        for other in incident.evidence:
            gap = abs((piece.at - other.at).total_seconds())
            if gap > self.rules.window.total_seconds():
                continue
            km = distance_km(piece, other)
            if piece.segment_id is not None and piece.segment_id == other.segment_id:
                rule = "same_segment"
            elif km <= self.rules.max_km:
                rule = "near"
            elif (piece.kind == other.kind == DETECTION and piece.section_id is not None
                  and piece.section_id == other.section_id):
                rule = "same_section"
            else:
                continue
            candidate = Grouping(rule, other.key, km, gap)
            order = ("same_segment", "near", "same_section")
            if found is None or (order.index(rule), km) < (order.index(found.rule),
                                                          found.distance_km):
                found = candidate
        return found

    def ready(self, incident: Incident) -> bool:
        """True when an incident not yet proposed should be: enough detections, or a breach."""
        return incident.event_id is None and (
            incident.detections >= self.rules.propose_count
            or any(e.breach for e in incident.evidence))

    def detach(self, key: str, event_id: str) -> None:
        """The duty officer took a piece out of the incident of ``event_id``: drop it there
        and never put it back."""
        for incident in self._open:
            if incident.event_id == event_id:
                incident.evidence = [e for e in incident.evidence if e.key != key]
                incident.groupings.pop(key, None)
                self._detached.add((key, incident.number))
