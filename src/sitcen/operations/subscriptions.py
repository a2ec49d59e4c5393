"""Subscriptions: what a user of this node follows, and which records match it.

A ``subscription`` record (one of :data:`sitcen.store.journal.USER_KINDS`: it never
leaves the node) names record kinds, sections, an area, event types, impact levels
and alert severities, and how news reaches its user (the console always; an e-mail
address, a webhook, a daily digest). :func:`facts_of` reads what a record can be
filtered by, :class:`Subscription` decides whether it matches, and
:class:`SubscriptionIndex` finds the few subscriptions worth asking. The follower
that writes the notifications is in :mod:`sitcen.operations.notifications`; the
deliveries by e-mail and webhook in :mod:`sitcen.operations.delivery`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from sitcen.errors import NotFound
from sitcen.events import NO_NUL, EventTypeId
from sitcen.i18n import SUPPORTED
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, get_record, list_records, next_version, write_own

#: Record kinds a user may follow (never personal data, nor another user's own).
WATCHED_KINDS: tuple[RecordKind, ...] = (
    RecordKind.event, RecordKind.event_action, RecordKind.alert, RecordKind.section_assessment,
    RecordKind.capacity, RecordKind.recommendation, RecordKind.asset_position,
    RecordKind.request_for_information, RecordKind.sensor_detection,
)


def _watched(kind: RecordKind) -> RecordKind:
    if kind not in WATCHED_KINDS:
        raise ValueError(f"{kind} records cannot be followed; one may follow "
                         f"{', '.join(WATCHED_KINDS)}")
    return kind


#: A record kind a user may follow (documented as the enumeration of those kinds).
WatchedKind = Annotated[RecordKind, AfterValidator(_watched),
                        WithJsonSchema({"type": "string", "enum": list(WATCHED_KINDS)})]


class Severity(StrEnum):
    """Alert severities (``sitcen.analysis.alerts.SEVERITIES``)."""

    low = "low"
    medium = "medium"
    high = "high"


class Level(StrEnum):
    """Impact levels of events and of border sections."""

    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"
    critical = "critical"


SectionPattern = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z]{2}-(\d{3}|\*)$",
                                      examples=["AF-TJ-004", "KG-TJ-*"])]
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,255}$",
                                    max_length=320)]


class SubscriptionBase(BaseModel):
    """What a user follows and how it reaches them.

    Every filter given must hold (a list matches any of its values). Event types and
    impact levels restrict events and what is about an event (actions on it); impact
    levels also restrict section levels; alert severities restrict alerts. A filter on
    an attribute a kind does not have does not restrict that kind.
    """

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL,
                      description="what the user calls it")
    kinds: list[WatchedKind] = Field(min_length=1, description="record kinds followed")
    sections: list[SectionPattern] = Field(
        default_factory=list, description="section ids (AF-TJ-004) or whole borders (KG-TJ-*)")
    area: Annotated[list[float], Field(min_length=4, max_length=4)] | None = Field(
        None, description="min_lon, min_lat, max_lon, max_lat (WGS84, inclusive)")
    event_types: list[EventTypeId] = Field(default_factory=list)
    impact_levels: list[Level] = Field(default_factory=list)
    alert_severities: list[Severity] = Field(default_factory=list)
    on_change: bool = Field(False, description="also when a followed record changes, "
                                               "not only when it is new")
    email: EmailAddress | None = Field(None, description="also by e-mail to this address")
    webhook_url: AnyHttpUrl | None = Field(
        None, description="also as a signed JSON POST to this URL")
    digest: bool = Field(False, description="e-mail once a day instead of at once")
    language: str = Field("en", description="language of e-mails and webhook summaries")
    active: bool = True

    @field_validator("area")
    @classmethod
    def _area(cls, value: list[float] | None) -> list[float] | None:
        if value is not None:
            min_lon, min_lat, max_lon, max_lat = value
            if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
                raise ValueError("area is min_lon, min_lat, max_lon, max_lat within WGS84 bounds")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED:
            raise ValueError(f"language must be one of {', '.join(SUPPORTED)}")
        return value


class SubscriptionCreate(SubscriptionBase):
    """A new subscription."""


class SubscriptionUpdate(SubscriptionBase):
    """A subscription as changed (the whole of it), with the version it was changed from."""

    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


# ----------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Facts:
    """What a subscription can filter a record by."""

    kind: str
    section_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    event_type: str | None = None
    impact_level: str | None = None
    severity: str | None = None
    by: str | None = None


def facts_of(kind: str, body: Mapping[str, Any],
             event: Mapping[str, Any] | None = None) -> Facts:
    """The facts of a record (``event``: the event an action is about, as held here)."""
    source = event if kind == RecordKind.event_action and event is not None else body
    location = source.get("location")
    lon = lat = None
    if isinstance(location, Mapping):
        x, y = location.get("lon"), location.get("lat")
        if isinstance(x, int | float) and isinstance(y, int | float):
            lon, lat = float(x), float(y)
    about_event = kind in (RecordKind.event, RecordKind.event_action)
    impact = source.get("impact_level") if about_event else None
    if kind == RecordKind.section_assessment:
        impact = body.get("level")
    section = source.get("section_id")
    by = body.get("by") or body.get("confirmed_by")
    return Facts(
        kind=kind, section_id=section if isinstance(section, str) else None, lon=lon, lat=lat,
        event_type=str(source.get("type")) if about_event and source.get("type") else None,
        impact_level=str(impact) if impact else None,
        severity=str(body.get("severity")) if kind == RecordKind.alert else None,
        by=str(by) if by else None)


def _section_matches(section_id: str, patterns: Iterable[str]) -> bool:
    return any(section_id == p or (p.endswith("*") and section_id.startswith(p[:-1]))
               for p in patterns)


@dataclass(frozen=True)
class Subscription:
    """A stored subscription, ready to match."""

    id: str
    version: int
    username: str
    kinds: frozenset[str]
    sections: tuple[str, ...]
    area: tuple[float, float, float, float] | None
    event_types: frozenset[str]
    impact_levels: frozenset[str]
    alert_severities: frozenset[str]
    on_change: bool
    email: str | None
    webhook_url: str | None
    digest: bool
    language: str
    active: bool
    key_version: int = 1

    @classmethod
    def from_record(cls, record: StoredRecord) -> Subscription:
        b = record.body
        area = b.get("area")
        return cls(
            id=record.id, version=record.version, username=str(b["username"]),
            kinds=frozenset(b.get("kinds") or ()), sections=tuple(b.get("sections") or ()),
            area=tuple(area) if area else None,
            event_types=frozenset(b.get("event_types") or ()),
            impact_levels=frozenset(b.get("impact_levels") or ()),
            alert_severities=frozenset(b.get("alert_severities") or ()),
            on_change=bool(b.get("on_change")), email=b.get("email"),
            webhook_url=b.get("webhook_url"), digest=bool(b.get("digest")),
            language=str(b.get("language") or "en"),
            active=bool(b.get("active", True)) and not b.get("deleted"),
            key_version=int(b.get("key_version") or 1))

    def matches(self, facts: Facts) -> bool:
        """Whether a record with these facts is one the user follows."""
        if not self.active or facts.kind not in self.kinds:
            return False
        if self.sections and (facts.section_id is None
                              or not _section_matches(facts.section_id, self.sections)):
            return False
        if self.area is not None:
            if facts.lon is None or facts.lat is None:
                return False
            min_lon, min_lat, max_lon, max_lat = self.area
            if not (min_lon <= facts.lon <= max_lon and min_lat <= facts.lat <= max_lat):
                return False
        about_event = facts.kind in (RecordKind.event, RecordKind.event_action)
        if self.event_types and about_event and facts.event_type not in self.event_types:
            return False
        if self.impact_levels and (about_event or facts.kind == RecordKind.section_assessment) \
                and facts.impact_level not in self.impact_levels:
            return False
        return not (self.alert_severities and facts.kind == RecordKind.alert
                    and facts.severity not in self.alert_severities)


class SubscriptionIndex:
    """Every active subscription, indexed by kind and exact section, for fast matching.

    A record is compared only with the subscriptions of its kind that name its
    section or name no single section, not with all of them.
    """

    def __init__(self, subscriptions: Iterable[Subscription]) -> None:
        self.by_section: dict[tuple[str, str], list[Subscription]] = {}
        self.rest: dict[str, list[Subscription]] = {}
        self.count = 0
        for sub in subscriptions:
            if not sub.active:
                continue
            self.count += 1
            exact = [s for s in sub.sections if not s.endswith("*")]
            for kind in sub.kinds:
                if sub.sections and len(exact) == len(sub.sections):
                    for section in exact:
                        self.by_section.setdefault((kind, section), []).append(sub)
                else:
                    self.rest.setdefault(kind, []).append(sub)

    @property
    def kinds(self) -> frozenset[str]:
        """Kinds some subscription follows."""
        return frozenset({k for k, _ in self.by_section} | set(self.rest))

    def matching(self, facts: Facts) -> list[Subscription]:
        """The subscriptions a record with these facts matches."""
        found = list(self.rest.get(facts.kind, ()))
        if facts.section_id is not None:
            found += self.by_section.get((facts.kind, facts.section_id), ())
        return [s for s in found if s.matches(facts)]


def load_subscriptions(engine: sa.Engine, username: str | None = None) -> list[StoredRecord]:
    """Subscription records (of one user, or all), deleted ones left out, newest first."""
    return [r for r in list_records(engine, RecordKind.subscription, subject=username,
                                    limit=1_000_000)
            if not r.body.get("deleted")]


# ----------------------------------------------------------------------------- a user's own


def own_subscription(engine: sa.Engine, username: str, record_id: str) -> StoredRecord:
    """The current version of a subscription of ``username`` (NotFound when it is not theirs
    or deleted: another user's subscriptions are not there for them)."""
    current = get_record(engine, record_id)
    if (current is None or current.kind != RecordKind.subscription
            or current.body.get("username") != username or current.body.get("deleted")):
        raise NotFound("subscription", record_id)
    return current


def subscribe(engine: sa.Engine, node_id: str, username: str, item: SubscriptionBase, *,
              record_id: str | None = None, base_version: int | None = None) -> StoredRecord:
    """Write a subscription of ``username`` (new, or the next version of one of theirs)."""
    body = {**item.model_dump(mode="json", exclude={"base_version"}), "username": username}
    if record_id is None:
        record_id = str(uuid.uuid4())
        current = None
    else:
        current = own_subscription(engine, username, record_id)
    body["key_version"] = int((current.body if current else {}).get("key_version", 1))
    record = next_version(engine, RecordKind.subscription, record_id, body, node_id,
                          base_version, current)
    return write_own(engine, [record], node_id)[0]


def unsubscribe(engine: sa.Engine, node_id: str, username: str, record_id: str) -> None:
    """Delete a subscription of ``username`` (a last version marked deleted)."""
    current = own_subscription(engine, username, record_id)
    body = {**current.body, "active": False, "deleted": True}
    write_own(engine, [next_version(engine, RecordKind.subscription, record_id, body, node_id,
                                    current=current)], node_id)
