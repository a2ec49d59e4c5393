"""The sharing function: what a peer may see of a record under an agreement, or nothing.

:func:`share` is the only place that decides what leaves a node (docs/architecture.md,
principle 3). It is pure: no clock (``now`` is a parameter), no I/O, and it
never mutates its input. :func:`retraction` says when a record shared before
has fallen out of scope; :func:`aggregate` builds the daily counts that
``delay: daily_aggregates`` agreements send instead of single records.

Every shared record carries a :class:`Sharing` block, the restrictions that
travel with it across every hop: whether it may be passed on, the highest
handling any hop allows, the chain of nodes it came through, and the coarsest
location precision and personal-data level granted so far. A relay applies
the strictest of what it received and its own agreement.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import orjson
import shapely

from sitcen.exchange.agreements import (
    PERSONAL_DATA_ORDER,
    PRECISION_ORDER,
    Agreement,
    DelayMinutes,
    EventScope,
    PersonalData,
    Precision,
)
from sitcen.geo import BorderSection
from sitcen.indicator_list import Breakdown
from sitcen.sealing import redact
from sitcen.store.journal import LOCAL_KINDS, RecordKind
from sitcen.taxonomy import EVENT_TYPES, HANDLING_ORDER, Handling, Status
from sitcen.times import moment_or_none

#: Largest precision radius a shared location states (the limit of
#: :class:`sitcen.events.Location`); a coarser radius reads "100 km or more".
MAX_PRECISION_M = 100_000.0
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQUATOR = 111.320



def _copy(body: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON body (bodies are JSON: a round trip is ~20x faster than deepcopy)."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(body))
    return copied

@dataclass(frozen=True)
class SectionInfo:
    """What section precision needs of a border section: its midpoint and length."""

    id: str
    lon: float
    lat: float
    length_km: float

    @property
    def precision_m(self) -> float:
        """Half the section's length, in metres: the radius stated at section precision."""
        return min(self.length_km * 500.0, MAX_PRECISION_M)


def section_info(section: BorderSection) -> SectionInfo:
    """The midpoint (half way along the line) and length of a border section."""
    point = shapely.line_interpolate_point(section.geometry, 0.5, normalized=True)
    return SectionInfo(section.id, float(point.x), float(point.y), section.length_km)


def section_infos(sections: Iterable[BorderSection]) -> dict[str, SectionInfo]:
    """:func:`section_info` of each section, keyed by id (pass it to :func:`share`)."""
    return {s.id: section_info(s) for s in sections}


@dataclass(frozen=True)
class Sharing:
    """Restrictions and provenance that travel with a shared record."""

    onward: bool = True
    ceiling: Handling = Handling.red
    chain: tuple[str, ...] = ()
    precision: Precision = Precision.exact
    personal_data: PersonalData = PersonalData.full

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, e.g. ``{"onward": false, "ceiling": "AMBER", "chain": [...], ...}``."""
        return {
            "onward": self.onward,
            "ceiling": str(Handling(self.ceiling)),
            "chain": list(self.chain),
            "precision": str(Precision(self.precision)),
            "personal_data": str(PersonalData(self.personal_data)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sharing:
        """Parse the JSON form; missing keys take the *strictest* value, unknown values fail."""
        chain = data.get("chain", ())
        if not isinstance(chain, list | tuple) or not all(isinstance(n, str) for n in chain):
            raise ValueError("sharing.chain must be a list of node ids")
        onward = data.get("onward", False)
        if not isinstance(onward, bool):
            raise ValueError("sharing.onward must be true or false")
        return cls(
            onward=onward,
            ceiling=Handling(data.get("ceiling", Handling.clear)),
            chain=tuple(chain),
            precision=Precision(data.get("precision", Precision.country)),
            personal_data=PersonalData(data.get("personal_data", PersonalData.none)),
        )


@dataclass(frozen=True)
class SharedRecord:
    """A record as a node holds it for sharing: identity, body and received restrictions.

    ``about`` is needed for a ``personal_data`` record only: the event it
    belongs to, as this node holds it; personal data leaves only with an event
    that may leave too.
    """

    kind: str
    origin: str
    id: str
    version: int
    body: dict[str, Any]
    sharing: Sharing = field(default_factory=Sharing)
    about: SharedRecord | None = None

    def to_dict(self, *, copy: bool = True) -> dict[str, Any]:
        """The JSON form sent to a peer (``about`` is not part of it).

        ``copy=False`` hands over the record's own body instead of a copy, for a
        caller that serialises it at once and keeps no reference to the record.
        """
        return {"kind": self.kind, "origin": self.origin, "id": self.id,
                "version": self.version, "body": _copy(self.body) if copy else self.body,
                "sharing": self.sharing.to_dict()}


@dataclass(frozen=True)
class Retraction:
    """Notice to a peer that a record it holds is no longer shared with it."""

    kind: str
    origin: str
    id: str
    version: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form sent to a peer."""
        return {"kind": self.kind, "origin": self.origin, "id": self.id,
                "version": self.version, "retract": True, "reason": self.reason}


# ---------------------------------------------------------------------------
# Scope: may the record leave at all?


def _handling_rank(body: Mapping[str, Any]) -> int:
    try:
        return HANDLING_ORDER[Handling(str(body.get("handling")))]
    except ValueError:  # no or an unknown label: treat as the most restricted
        return HANDLING_ORDER[Handling.red]


def _section_matches(section_id: str, patterns: Iterable[str]) -> bool:
    return any(section_id == p or (p.endswith("*") and section_id.startswith(p[:-1]))
               for p in patterns)


def in_area(body: Mapping[str, Any], scope: EventScope) -> bool:
    """Whether an event lies in the scope's area (always true when no area is given)."""
    if not scope.has_area:
        return True
    section_id = body.get("section_id")
    if scope.countries:
        countries = set(scope.countries)
        if body.get("country") in countries:
            return True
        if isinstance(section_id, str) and set(section_id.split("-")[:2]) & countries:
            return True
    if scope.sections and isinstance(section_id, str) and _section_matches(
            section_id, scope.sections):
        return True
    location = body.get("location")
    if scope.bbox is not None and isinstance(location, Mapping):
        lon, lat = location.get("lon"), location.get("lat")
        if isinstance(lon, int | float) and isinstance(lat, int | float):
            min_lon, min_lat, max_lon, max_lat = scope.bbox
            return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat
    return False


def _event_out_of_scope(body: Mapping[str, Any], agreement: Agreement) -> str | None:
    if body.get("status") == Status.rejected:
        return "rejected"
    scope = agreement.events
    etype = body.get("type")
    category = EVENT_TYPES[etype].category if etype in EVENT_TYPES else None
    if category is None or body.get("category") != category:
        return "unknown type or category"
    if category not in scope.categories and etype not in scope.types:
        return f"type {etype} not granted"
    if not in_area(body, scope):
        return "out of area"
    return None


#: The body field of a record that holds its personal data (a contact's name and
#: phones, the persons a request asks about); it leaves only at ``personal_data: full``.
PERSONAL_BLOCK = "personal"

#: The attachment field that marks a camera's snapshot: personal data, whatever it shows.
CAMERA_SNAPSHOT = "camera_snapshot"
#: The asset field of a camera's stream address: the closed network's, it never leaves.
CAMERA_BLOCK = "camera"

#: The kind of the records that carry an agreement's daily counts (made by the
#: sending node for one link; see :mod:`sitcen.exchange.aggregates`).
DAILY_AGGREGATE = "daily_aggregate"


def _handling_out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    rank = _handling_rank(record.body)
    if rank > agreement.ceiling_rank:
        return f"handling above the ceiling {agreement.handling_ceiling}"
    if rank > HANDLING_ORDER[Handling(record.sharing.ceiling)]:
        return f"handling above the received ceiling {record.sharing.ceiling}"
    return None


def _about_event_out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    """For a record about an event: out of scope unless the event itself may go."""
    about = record.about
    if about is None or about.kind != RecordKind.event or about.id != record.body.get(
            "event_id"):
        return "the event it is about is not known"
    reason = _out_of_scope(about, agreement)
    return None if reason is None else f"its event: {reason}"


#: Kinds addressed to one node (their ``to_node``): they go only towards it.
ADDRESSED_KINDS = frozenset({RecordKind.request_for_information, RecordKind.request_response})

#: Kinds that belong to another record, and the body field naming it: they leave only
#: where that record may go, or back to a node that already holds it.
BELONGING_KINDS: dict[str, str] = {
    RecordKind.attachment: "record_id",
    RecordKind.thread_message: "record_id",
    RecordKind.operation_report: "operation_id",
}

_PLACE_FIELDS = ("section_id", "country", "location")


def _holds(peer: str, record: SharedRecord) -> bool:
    """Whether ``peer`` already holds ``record``: its origin, a node it came through, its
    addressee, or a node taking part in it (a joint operation's participants)."""
    if peer == record.origin or peer in record.sharing.chain:
        return True
    if record.body.get("to_node") == peer:
        return True
    participants = record.body.get("participants")
    return isinstance(participants, list) and any(
        isinstance(p, Mapping) and p.get("node") == peer for p in participants)


def _belongs_out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    """For an attachment, a message or a daily report: out of scope unless what it belongs
    to may go to the peer, or the peer holds that already (it can only learn the reaction)."""
    about = record.about
    if about is None or about.id != record.body.get(BELONGING_KINDS[record.kind]):
        return "the record it belongs to is not known"
    if _holds(agreement.to_node, about):
        return None
    reason = _out_of_scope(about, agreement)
    return None if reason is None else f"the record it belongs to: {reason}"


def _forward_out_of_scope(record: SharedRecord) -> str | None:
    """A request that forwards another node's request leaves only with that originator's consent."""
    forwarded = record.body.get("forwarded_from")
    if forwarded is None:
        return None
    about = record.about
    if (about is None or about.kind != RecordKind.request_for_information
            or not isinstance(forwarded, Mapping) or about.id != forwarded.get("id")):
        return "the request it forwards is not known"
    if about.body.get("forward_allowed") is not True:
        return "the originator of the forwarded request does not allow forwarding"
    return None


def _operation_in_area(body: Mapping[str, Any], scope: EventScope) -> bool:
    """A joint operation is in the area when one of its sections or countries is."""
    if not scope.has_area:
        return True
    sections = body.get("sections") or []
    countries = body.get("countries") or []
    return any(in_area({"section_id": s}, scope) for s in sections if isinstance(s, str)) or any(
        in_area({"country": c}, scope) for c in countries if isinstance(c, str))


def _other_out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    """Alerts, section levels, capacities, recommendations, actions, positions, and the
    records of cooperation (directory, requests and responses, attachments, messages,
    joint operations and their daily reports).

    Each carries its own handling label (none reads as RED) and, when it is
    about a place, a ``section_id``/``country``/``location`` that must lie in
    the agreement's area; an action on an event goes only with its event; an
    addressed record only towards its addressee; a record that belongs to
    another only where that one may go or is already held.
    """
    reason = _handling_out_of_scope(record, agreement)
    if reason is not None:
        return reason
    if record.kind == RecordKind.event_action:
        return _about_event_out_of_scope(record, agreement)
    if record.kind in ADDRESSED_KINDS:
        if record.body.get("to_node") != agreement.to_node:
            return "addressed to another node"
        return _forward_out_of_scope(record)
    if record.kind == RecordKind.attachment and record.body.get(CAMERA_SNAPSHOT) is True:
        # A camera's picture may show a face: personal data (docs/cameras-drones.md).
        if agreement.personal_data != PersonalData.full:
            return "a camera snapshot is personal data, not granted"
        if record.sharing.personal_data != PersonalData.full:
            return "a camera snapshot is personal data, restricted by an earlier hop"
    if record.kind in BELONGING_KINDS:
        reason = _belongs_out_of_scope(record, agreement)
        if reason is not None:
            return reason
        placed = any(record.body.get(f) is not None for f in _PLACE_FIELDS)
        return None if not placed or in_area(record.body, agreement.events) else "out of area"
    if record.kind == RecordKind.joint_operation:
        return None if _operation_in_area(record.body, agreement.events) else "out of area"
    if record.kind in (RecordKind.organisation, RecordKind.contact_point):
        return None  # the directory is about who to call, not about a place
    if record.kind == RecordKind.task and agreement.direction != "up":
        # Down or across, a task goes only to the post it was given to.
        unit = record.body.get("unit")
        if not isinstance(unit, Mapping) or unit.get("node") != agreement.to_node:
            return "a task of another unit"
    if record.kind == RecordKind.task_response and agreement.direction != "up" and \
            record.body.get("task_origin") != agreement.to_node:
        return "answers a task of another node"
    if not in_area(record.body, agreement.events):
        return "out of area"
    return None


def _report_out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    """An issued report leaves when issued (not withdrawn), under the ceilings, in the area.

    Its area is the reporting centre's ``country``; what it says about finer
    places and about persons is withheld in :func:`share`, not here.
    """
    if record.body.get("status") != "issued":
        return f"report {record.body.get('status', 'not issued')}"
    reason = _handling_out_of_scope(record, agreement)
    if reason is not None:
        return reason
    scope = agreement.events
    if scope.has_area and not (scope.countries and record.body.get("country") in
                               scope.countries):
        return "out of area"
    return None


#: Sealed parts of a report withheld at each location precision and personal-data level.
REPORT_WITHHELD_BY_PRECISION: dict[Precision, frozenset[str]] = {
    Precision.exact: frozenset(),
    Precision.section: frozenset({"location"}),
    Precision.region: frozenset({"location", "section"}),
    Precision.country: frozenset({"location", "section"}),
}
REPORT_WITHHELD_BY_PERSONAL_DATA: dict[PersonalData, frozenset[str]] = {
    PersonalData.full: frozenset(),
    PersonalData.counts_only: frozenset({"personal"}),
    PersonalData.none: frozenset({"personal", "persons"}),
}


def _report_view(body: Mapping[str, Any], precision: Precision,
                 personal: PersonalData) -> dict[str, Any]:
    """The report as the peer may see it: the sealed parts the agreement does not grant withheld.

    The signature covers the digest, which withholding does not change
    (:mod:`sitcen.sealing`), so the peer can still check it.
    """
    withhold = (REPORT_WITHHELD_BY_PRECISION[precision]
                | REPORT_WITHHELD_BY_PERSONAL_DATA[personal])
    out = _copy(body)
    if withhold:
        out["content"] = redact(out.get("content"), withhold.__contains__)
    out["withheld"] = sorted(set(out.get("withheld") or ()) | withhold)
    return out


#: Kinds that never leave the node, whatever an agreement says: a user's
#: subscriptions, notifications, read marker and delivery log; report drafts and templates.
LOCAL_ONLY_KINDS: frozenset[str] = LOCAL_KINDS


def _out_of_scope(record: SharedRecord, agreement: Agreement) -> str | None:
    """Why a record may not be shared under an agreement (ignoring time), or None."""
    if record.kind in LOCAL_ONLY_KINDS:
        return f"kind {record.kind} never leaves the node"
    if record.kind == DAILY_AGGREGATE:
        if agreement.delay != "daily_aggregates":
            return "the agreement does not send daily aggregates"
        if record.origin != agreement.from_node or record.body.get("to_node") != \
                agreement.to_node:
            return "aggregates made for another link"
        return None
    if record.kind not in agreement.kinds:
        return f"kind {record.kind} not granted"
    if record.origin != agreement.from_node and (
            not record.sharing.onward or record.body.get("onward") is False):
        # The link's restriction, or the writer's own word in the record (an answer
        # that may not be passed on).
        return "the originator does not allow onward sharing"
    if agreement.delay == "daily_aggregates":
        return "daily aggregates only"
    if record.kind == RecordKind.event:
        return (_handling_out_of_scope(record, agreement)
                or _event_out_of_scope(record.body, agreement))
    if record.kind == RecordKind.report:
        return _report_out_of_scope(record, agreement)
    if record.kind == RecordKind.personal_data:
        if agreement.personal_data != PersonalData.full:
            return "personal data not granted"
        if record.sharing.personal_data != PersonalData.full:
            return "personal data restricted by an earlier hop"
        return _about_event_out_of_scope(record, agreement)
    return _other_out_of_scope(record, agreement)


def _too_early(record: SharedRecord, agreement: Agreement, now: datetime) -> bool:
    if agreement.valid_from is not None and now < agreement.valid_from:
        return True
    if agreement.valid_until is not None and now >= agreement.valid_until:
        return True
    if isinstance(agreement.delay, DelayMinutes):
        body = record.about.body if record.about is not None else record.body
        occurred = moment_or_none(body.get("occurred_at"))
        return occurred is None or now < occurred + timedelta(minutes=agreement.delay.minutes)
    return False


def waiting(record: SharedRecord, agreement: Agreement, now: datetime) -> bool:
    """Whether ``record`` is in scope but held back for now by the agreement's delay.

    A sender keeps such a record (and what follows it on the link) for later
    instead of passing over it, so that "an hour late" does not become "never".
    """
    if not isinstance(agreement.delay, DelayMinutes):
        return False
    return _out_of_scope(record, agreement) is None and _too_early(record, agreement, now)


# ---------------------------------------------------------------------------
# Transformation: what of the record the peer sees


def _cell_centre(lon: float, lat: float) -> tuple[float, float]:
    # Cells are [n, n+1) degrees; the last cell is closed so 180 and 90 stay valid.
    return (min(math.floor(lon), 179) + 0.5, min(math.floor(lat), 89) + 0.5)


def region_precision_m(lat: float) -> float:
    """Half the diagonal of the 1° cell centred at ``lat``, in metres (its circumradius)."""
    half_ew = _KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)) / 2
    half_ns = _KM_PER_DEG_LAT / 2
    return math.ceil(math.hypot(half_ew, half_ns) * 1000.0)


def _degrade(
    body: dict[str, Any],
    have: Precision,
    want: Precision,
    sections: Mapping[str, SectionInfo] | None,
) -> None:
    """Coarsen the location of ``body`` in place from precision ``have`` to ``want``."""
    if PRECISION_ORDER[want] <= PRECISION_ORDER[have]:
        return
    body.pop("section_distance_km", None)
    location = body.get("location")
    if want == Precision.country:
        body.pop("location", None)
        body.pop("section_id", None)
        return
    if want == Precision.section:
        section_id = body.get("section_id")
        info = sections.get(section_id) if sections and isinstance(section_id, str) else None
        if info is None:  # inland, or a section we cannot place: no coordinates at all
            body.pop("location", None)
        elif location is not None:
            body["location"] = {"lon": info.lon, "lat": info.lat, "precision_m": info.precision_m}
        return
    # region: the centre of the 1° grid cell; the section id would be finer, so it goes
    body.pop("section_id", None)
    lon = location.get("lon") if isinstance(location, Mapping) else None
    lat = location.get("lat") if isinstance(location, Mapping) else None
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        body.pop("location", None)
        return
    c_lon, c_lat = _cell_centre(float(lon), float(lat))
    radius = region_precision_m(c_lat)
    if have != Precision.exact:  # the point itself was only known within a radius
        radius += float(location.get("precision_m") or 0.0)  # type: ignore[union-attr]
    body["location"] = {"lon": c_lon, "lat": c_lat,
                        "precision_m": min(radius, MAX_PRECISION_M)}


#: Exact shapes a record may carry beside its location, by block: a coarsened place must
#: not travel with them, since each gives the point away (a footprint is drawn around it).
EXACT_SHAPES: dict[str, tuple[str, ...]] = {
    "drone": ("footprint",),  # the sensor's ground footprint around the drone
    "flight": ("mission_area",),  # where the flight operates
    CAMERA_BLOCK: ("field_of_view",),  # the camera's view, from its mast
}


def _drop_shapes(body: dict[str, Any]) -> None:
    """Take the exact shapes out of a body whose place was coarsened (:data:`EXACT_SHAPES`)."""
    for block, fields in EXACT_SHAPES.items():
        inner = body.get(block)
        if isinstance(inner, dict):
            for name in fields:
                inner.pop(name, None)


def _filter_fields(body: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k in allowed and k != "details"}
    details = body.get("details")
    if isinstance(details, Mapping):
        if "details" in allowed:
            out["details"] = dict(details)
        else:
            granted = {k: v for k, v in details.items() if f"details.{k}" in allowed}
            if granted:
                out["details"] = granted
    return out


def _event_view(
    body: Mapping[str, Any],
    received: Sharing,
    agreement: Agreement,
    sections: Mapping[str, SectionInfo] | None,
) -> tuple[dict[str, Any], Precision, PersonalData]:
    out = _copy(dict(body))
    precision = max(Precision(received.precision), Precision(agreement.location_precision),
                    key=PRECISION_ORDER.__getitem__)
    personal = min(PersonalData(received.personal_data), PersonalData(agreement.personal_data),
                   key=PERSONAL_DATA_ORDER.__getitem__)
    _degrade(out, Precision(received.precision), precision, sections)
    if personal != PersonalData.full:
        out.pop("has_personal_data", None)
    if personal == PersonalData.none:
        out.pop("persons", None)
    return _filter_fields(out, agreement.allowed_fields), precision, personal


#: The breakdowns a monthly indicator value may carry (docs/network.md), in stored order.
INDICATOR_BREAKDOWNS: tuple[str, ...] = tuple(b.value for b in Breakdown)


def _shape(value: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in INDICATOR_BREAKDOWNS if value.get(name) is not None)


def indicator_view(body: Mapping[str, Any], granted: Iterable[str]) -> dict[str, Any]:
    """A monthly indicator record with only the ``granted`` breakdowns (agreement field
    ``indicator_breakdowns``).

    A value broken down by anything not granted is not sent as it is: the values
    of its breakdown are summed over what is withheld (by place and nationality,
    with only nationality granted: by nationality). A breakdown the record states
    itself is preferred to one summed from a finer breakdown; the total is always
    there. A summed value's source is that of its parts, or of the parts that
    give most of it when they differ. ``withheld_breakdowns`` lists what was
    summed away.
    """
    allowed = set(granted)
    out = _copy(body)
    values = [v for v in body.get("values") or () if isinstance(v, Mapping)]
    shapes = list(dict.fromkeys(_shape(v) for v in values))
    # Whole shapes first (their values are kept as stated), then the finest to sum from.
    shapes.sort(key=lambda s: (not set(s) <= allowed, -len(s), s))
    kept: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for shape in shapes:
        target = tuple(n for n in shape if n in allowed)
        if target in kept:
            continue
        sums: dict[tuple[Any, ...], dict[str, float]] = {}
        for value in values:
            if _shape(value) == shape:
                cell = tuple(value[n] for n in target)
                by_source = sums.setdefault(cell, {})
                source = str(value.get("source"))
                by_source[source] = by_source.get(source, 0.0) + float(value.get("value") or 0.0)
        kept[target] = [_summed(dict(zip(target, cell, strict=True)), by_source)
                        for cell, by_source in sorted(sums.items())]
    out["values"] = [v for target in sorted(kept, key=lambda t: (len(t), t))
                     for v in kept[target]]
    withheld = {n for s in shapes for n in s} - allowed
    out["withheld_breakdowns"] = sorted(withheld | set(body.get("withheld_breakdowns") or ()))
    return out


def _summed(cell: dict[str, Any], by_source: Mapping[str, float]) -> dict[str, Any]:
    total = round(sum(by_source.values()), 6)
    source = max(sorted(by_source), key=by_source.__getitem__)
    return {**cell, "value": int(total) if float(total).is_integer() else total,
            "source": source}


def share(
    record: SharedRecord,
    agreement: Agreement,
    *,
    now: datetime,
    sections: Mapping[str, SectionInfo] | None = None,
) -> SharedRecord | None:
    """What ``agreement.to_node`` may see of ``record`` now, or None if nothing.

    ``sections`` (from :func:`section_infos`) places records at section
    precision; without it such records lose their coordinates. The input is
    never changed; the result carries the updated :class:`Sharing` block.
    """
    if _out_of_scope(record, agreement) is not None or _too_early(record, agreement, now):
        return None
    received = record.sharing
    precision = max(Precision(received.precision), Precision(agreement.location_precision),
                    key=PRECISION_ORDER.__getitem__)
    if record.kind == RecordKind.event:
        body, precision, personal = _event_view(record.body, received, agreement, sections)
    elif record.kind == RecordKind.personal_data:  # only at full level, whole (_out_of_scope)
        body = _copy(record.body)
        personal = PersonalData.full
    elif record.kind == RecordKind.report:
        personal = min(PersonalData(received.personal_data),
                       PersonalData(agreement.personal_data), key=PERSONAL_DATA_ORDER.__getitem__)
        body = _report_view(record.body, precision, personal)
    elif record.kind == RecordKind.indicator_record:
        # Figures, not persons: only how finely they are broken down is an agreement's word.
        personal = min(PersonalData(received.personal_data),
                       PersonalData(agreement.personal_data), key=PERSONAL_DATA_ORDER.__getitem__)
        body = indicator_view(record.body, agreement.indicator_breakdowns)
    else:  # other kinds travel whole, their place coarsened like an event's
        body = _copy(record.body)
        _degrade(body, Precision(received.precision), precision, sections)
        if PRECISION_ORDER[precision] > PRECISION_ORDER[Precision(received.precision)]:
            _drop_shapes(body)
        personal = min(PersonalData(received.personal_data),
                       PersonalData(agreement.personal_data), key=PERSONAL_DATA_ORDER.__getitem__)
        camera = body.get(CAMERA_BLOCK)
        if record.kind == RecordKind.asset_position and isinstance(camera, dict):
            camera.pop("stream_url", None)
        if personal != PersonalData.full and PERSONAL_BLOCK in body:
            # Names, phones, birth dates: only where personal data is granted in full.
            del body[PERSONAL_BLOCK]
            body["personal_withheld"] = True
    ceiling = min(Handling(received.ceiling), Handling(agreement.handling_ceiling),
                  key=HANDLING_ORDER.__getitem__)
    sharing = Sharing(
        onward=received.onward and agreement.onward_sharing,
        ceiling=ceiling,
        chain=(*received.chain, agreement.from_node),
        precision=precision,
        personal_data=personal,
    )
    return replace(record, body=body, sharing=sharing, about=None)


def retraction(
    record: SharedRecord, agreement: Agreement
) -> Retraction | None:
    """For a new version of a record the peer holds: a retraction if it fell out of scope.

    Out of scope means :func:`share` would refuse it for a reason other than
    time: handling raised above a ceiling, status rejected, moved out of the
    area, type changed to one not granted, onward sharing withdrawn.
    A delay never retracts.
    """
    reason = _out_of_scope(record, agreement)
    if reason is None:
        return None
    return Retraction(record.kind, record.origin, record.id, record.version, reason)


def aggregate(
    records: Iterable[SharedRecord],
    agreement: Agreement,
    day: date,
    *,
    tz: tzinfo = UTC,
) -> list[dict[str, Any]]:
    """Daily counts of the events an agreement covers, for ``delay: daily_aggregates``.

    One row per (day, area, category, type): ``area`` is the border section
    when the agreement grants section precision or finer and the event lies on
    a section, otherwise the reporting country. ``events`` counts the events;
    ``persons`` sums their person counts when the agreement grants persons at
    least as counts. The day runs 00:00-24:00 in ``tz``. Rejected events,
    events above the ceilings or out of scope, and records that may not travel
    onward are left out, as :func:`share` would leave them out.
    """
    as_single = agreement.model_copy(update={"delay": "none"})
    by_section = PRECISION_ORDER[Precision(agreement.location_precision)] <= PRECISION_ORDER[
        Precision.section]
    with_persons = ("persons" in agreement.allowed_fields
                    and agreement.personal_data != PersonalData.none)
    events: Counter[tuple[str, str, str, str]] = Counter()
    persons: Counter[tuple[str, str, str, str]] = Counter()
    for record in records:
        if record.kind != RecordKind.event or _out_of_scope(record, as_single) is not None:
            continue
        body = record.body
        occurred = moment_or_none(body.get("occurred_at"))
        if occurred is None or occurred.astimezone(tz).date() != day:
            continue
        section_id = body.get("section_id")
        if by_section and isinstance(section_id, str) and record.sharing.precision in (
                Precision.exact, Precision.section):
            key = ("section", section_id, str(body["category"]), str(body["type"]))
        else:
            key = ("country", str(body.get("country") or "XX"), str(body["category"]),
                   str(body["type"]))
        events[key] += 1
        if with_persons and record.sharing.personal_data != PersonalData.none:
            persons[key] += sum(int(p.get("count", 0)) for p in body.get("persons") or ())
    rows = []
    for key in sorted(events):
        area_kind, area, category, etype = key
        row: dict[str, Any] = {"day": day.isoformat(), "area_kind": area_kind, "area": area,
                               "category": category, "type": etype, "events": events[key]}
        if with_persons:
            row["persons"] = persons[key]
        rows.append(row)
    return rows
