"""Notifications: who hears about which record, and the records that tell them.

Four record kinds addressed to one local user (:data:`sitcen.store.journal.USER_KINDS`);
they are written on the one write path like every record but never leave the node
(the sharing function and the inbox refuse them) and the live stream gives them to
their user only:

- ``subscription`` — what a user follows (record kinds, sections, an area, event
  types, impact levels, alert severities) and how it reaches them (the console
  always; an e-mail address, a webhook, a daily digest);
- ``notification`` — one record a user was told about, why, and a one-line
  summary (:mod:`sitcen.operations.phrases`); written once, never changed;
- ``notification_read`` — how far a user has read (one record per user);
- ``delivery`` — one message sent out of the node (see :mod:`sitcen.operations.delivery`).

Two ways in, one rule: a notification is written only for a user who may read the
record (:class:`Audience`: role, personal data, and for a liaison officer who speaks
for a partner node, exactly what the sharing function grants that node).

- :class:`NotificationFollower` reads the journal from its own stored cursor and
  matches each new record against every subscription;
- :func:`notify_users` tells named users about a record directly (an assignment,
  a serious incident, a report waiting too long, a request past its deadline).

Both are idempotent: a notification's id is derived from its user, the record
version and the reason, so a pass repeated after a crash writes nothing twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

import orjson
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
from sitcen.exchange.agreements import Agreement
from sitcen.exchange.links import governing, list_peers
from sitcen.exchange.sharing import SharedRecord, Sharing, share
from sitcen.i18n import SUPPORTED
from sitcen.operations.background import LeasedLoop
from sitcen.operations.phrases import Phrase, summary_of
from sitcen.store import schema
from sitcen.store.cursors import FollowerCursor, journal_head
from sitcen.store.journal import (
    KINDS,
    USER_KINDS,
    JournalEntry,
    Record,
    RecordKind,
    follow_kinds,
    now_micros,
    record_bodies,
    write_records,
)
from sitcen.store.records import (
    StoredRecord,
    get_record,
    list_records,
    next_version,
    own_record_id,
    record_row,
    write_own,
)
from sitcen.store.sql import select_in
from sitcen.store.users import StoredUser, list_users
from sitcen.taxonomy import Handling
from sitcen.times import from_micros, iso
from sitcen.users import Permission, allows

log = logging.getLogger("sitcen.notifications")

#: The follower's cursor and lease names.
CURSOR = "notifications"
LEASE = "notifications"


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


# ----------------------------------------------------------------------------- who may read


@dataclass(frozen=True)
class Held:
    """A record version as this node holds it, with what deciding who may read it needs."""

    kind: str
    id: str
    origin: str
    version: int
    body: dict[str, Any]
    sharing: Sharing | None = None
    event: dict[str, Any] | None = None  # for an action: the event it is about

    @property
    def handling(self) -> str:
        """The record's handling label (none reads as RED)."""
        value = self.body.get("handling")
        return str(value) if value in {h.value for h in Handling} else Handling.red.value


class Audience:
    """Who may read which record at this node, and what of it.

    The API's rules: every role reads the picture; personal data only the roles
    with need-to-know; and a liaison officer who speaks for a partner node
    (``SITCEN_PARTNER_USERS``) only what the sharing function grants that node,
    in the form it grants it. A disabled user reads nothing, and another user's
    own records (subscriptions, notifications) are nobody else's.
    """

    REFRESH_S = 30.0

    def __init__(self, engine: sa.Engine, node_id: str,
                 partner_users: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.node_id = node_id
        self.partner_users = dict(partner_users or {})
        self._users: dict[str, StoredUser] = {}
        self._agreements: dict[str, Agreement | None] = {}
        self._loaded = 0.0

    def refresh(self) -> None:
        """Read the users and the partners' agreements again."""
        self._users = {u.username: u for u in list_users(self.engine)}
        peers = {p.node_id: p for p in list_peers(self.engine)} if self.partner_users else {}
        self._agreements = {}
        for partner in set(self.partner_users.values()):
            peer = peers.get(partner)
            self._agreements[partner] = (None if peer is None
                                         else governing(self.engine, self.node_id, peer))
        self._loaded = now_micros() / 1e6

    def users(self) -> dict[str, StoredUser]:
        """Every user of the node, by name (re-read every half minute)."""
        if now_micros() / 1e6 - self._loaded > self.REFRESH_S:
            self.refresh()
        return self._users

    def view(self, username: str, record: Held, *, now: datetime | None = None
             ) -> dict[str, Any] | None:
        """What ``username`` may see of ``record``, or None when they may not read it."""
        user = self.users().get(username)
        if user is None or user.disabled or not allows(user.role, Permission.read_picture):
            return None
        if record.kind in USER_KINDS:
            return record.body if record.body.get("username") == username else None
        if record.kind == RecordKind.personal_data and not allows(
                user.role, Permission.read_personal_data):
            return None
        partner = self.partner_users.get(username)
        if partner is None:
            return record.body
        agreement = self._agreements.get(partner)
        if agreement is None:
            return None  # speaks for a node this one has no link with: nothing
        about = None
        if record.event is not None:
            about = SharedRecord(RecordKind.event, str(record.event.get("origin")),
                                 str(record.event.get("id")), int(record.event.get("version", 1)),
                                 record.event)
        shared = share(SharedRecord(record.kind, record.origin, record.id, record.version,
                                    record.body, sharing=record.sharing or Sharing(),
                                    about=about),
                       agreement, now=now or datetime.now(UTC))
        return None if shared is None else shared.body

    def people_with(self, permission: Permission) -> list[str]:
        """Active users whose role carries ``permission`` (partners' officers left out)."""
        return sorted(u.username for u in self.users().values()
                      if not u.disabled and allows(u.role, permission)
                      and u.username not in self.partner_users)


# ----------------------------------------------------------------------------- writing


def notification_id(node_id: str, username: str, record: Held, key: str) -> str:
    """The id of the notification of ``username`` about a record for ``key``.

    Subscriptions put the record's version in the key (each new version may be
    news); a direct notice's caller decides what makes it new.
    """
    ident = f"{record.kind}|{record.id}"
    return own_record_id(node_id, RecordKind.notification, f"{username}|{ident}|{key}")


def _notification(node_id: str, username: str, record: Held, view: Mapping[str, Any], *,
                  reason: str, key: str, subscriptions: Sequence[str] = (), text: str = "",
                  by: str | None = None, now: int) -> Record:
    event_view = record.event
    summary = summary_of(record.kind, view, event_view, origin=record.origin)
    section = view.get("section_id") or (event_view or {}).get("section_id")
    body = {
        "username": username, "reason": reason,
        "about": {"kind": record.kind, "id": record.id, "origin": record.origin,
                  "version": record.version},
        "subscriptions": list(subscriptions), "summary": summary, "text": text[:2000],
        "by": by, "section_id": section if isinstance(section, str) else None,
        "serious": reason in SERIOUS_REASONS, "handling": record.handling,
        "created_at": iso(from_micros(now)),
    }
    row = record_row(RecordKind.notification, notification_id(node_id, username, record, key),
                     node_id, 1, body, recorded_at=now)
    return Record(RecordKind.notification, row)


#: Reasons that make a toast stay until dismissed, and colour it.
SERIOUS_REASONS = frozenset({"serious_incident", "overdue", "late_report"})


def _write_new(engine: sa.Engine, node_id: str, records: Sequence[Record]) -> list[Record]:
    """Write the notifications not already stored (a repeated pass writes nothing twice)."""
    if not records:
        return []
    ids = [r.id for r in records]
    held: set[str] = set()
    with engine.connect() as conn:
        held.update(row.id for row in select_in(conn, sa.select(schema.records.c.id),
                                                schema.records.c.id, ids))
    fresh: dict[str, Record] = {}
    for r in records:
        if r.id not in held:
            fresh.setdefault(r.id, r)
    if fresh:
        write_records(engine, list(fresh.values()), node_id=node_id)
    return list(fresh.values())


def load_held(engine: sa.Engine, kind: str, record_id: str) -> Held | None:
    """The current version of a record as :class:`Audience` judges it, or None."""
    if kind == RecordKind.event:
        with engine.connect() as conn:
            row = conn.execute(sa.select(schema.events.c.origin, schema.events.c.version,
                                         schema.events.c.body, schema.events.c.sharing)
                               .where(schema.events.c.id == record_id)).first()
        if row is None:
            return None
        body = orjson.loads(row.body)
        body.pop("provenance", None)
        body.pop("sharing", None)
        return Held(kind, record_id, row.origin, row.version, body, _sharing(row.sharing))
    if kind not in KINDS or kind == RecordKind.personal_data:
        return None
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.records)
                           .where(schema.records.c.id == record_id)).first()
    if row is None or row.kind != kind:
        return None
    body = orjson.loads(row.body)
    event = None
    if kind == RecordKind.event_action and isinstance(body.get("event_id"), str):
        about = load_held(engine, RecordKind.event, body["event_id"])
        event = about.body if about is not None else None
    return Held(kind, record_id, row.origin, row.version, body, _sharing(row.sharing), event)


def _sharing(text: str | None) -> Sharing | None:
    return None if text is None else Sharing.from_dict(orjson.loads(text))


def notify_users(engine: sa.Engine, node_id: str, usernames: Iterable[str], *, kind: str,
                 record_id: str, reason: str, text: str = "", by: str | None = None,
                 key: str | None = None, audience: Audience | None = None,
                 partner_users: Mapping[str, str] | None = None) -> list[str]:
    """Tell named users of this node about a record directly; the users notified.

    For a module that knows who must hear of something (an alert assigned to an
    officer, a serious incident for the duty officers, a request past its deadline):
    ``reason`` says why (a short code such as ``assigned``, shown in the console),
    ``text`` adds a sentence, ``by`` who caused it. A user who may not read the
    record is skipped, silently: they learn nothing of it. Calling again for the
    same users, record and ``key`` writes nothing new, so a caller may retry
    freely; the default key is the reason and the record's current version (a
    new version may be told again), a caller's own key says what is new. Pass an
    :class:`Audience` when calling often; otherwise one is made from ``partner_users``.
    """
    record = load_held(engine, kind, record_id)
    if record is None:
        raise NotFound(kind, record_id)
    audience = audience or Audience(engine, node_id, partner_users)
    now = now_micros()
    records = []
    for username in dict.fromkeys(usernames):
        view = audience.view(username, record)
        if view is None:
            continue
        records.append(_notification(node_id, username, record, view, reason=reason,
                                     key=key or f"{reason}@{record.version}", text=text, by=by,
                                     now=now))
    written = _write_new(engine, node_id, records)
    return [str(r.row["subject"]) for r in written]


# ----------------------------------------------------------------------------- the follower


def _held_page(conn: sa.Connection, entries: Sequence[JournalEntry]) -> list[Held]:
    """The record versions a page of journal entries wrote (those still held)."""
    bodies = record_bodies(conn, entries)
    shares: dict[str, Sharing | None] = {}
    ids = [e.record_id for e in entries]
    for table in (schema.events, schema.records):
        for row in select_in(conn, sa.select(table.c.id, table.c.sharing), table.c.id, ids):
            shares[row.id] = _sharing(row.sharing)
    held = []
    for e in entries:
        text = bodies.get((e.record_id, e.version))
        if text is None:
            continue
        body = orjson.loads(text)
        body.pop("provenance", None)
        body.pop("sharing", None)
        held.append(Held(e.kind, e.record_id, e.origin, e.version, body, shares.get(e.record_id)))
    events_wanted = {str(h.body["event_id"]) for h in held
                     if h.kind == RecordKind.event_action and isinstance(h.body.get("event_id"),
                                                                         str)}
    events: dict[str, dict[str, Any]] = {}
    for row in select_in(conn, sa.select(schema.events.c.id, schema.events.c.body),
                         schema.events.c.id, events_wanted):
        body = orjson.loads(row.body)
        body.pop("provenance", None)
        body.pop("sharing", None)
        events[row.id] = body
    return [Held(h.kind, h.id, h.origin, h.version, h.body, h.sharing,
                 events.get(str(h.body.get("event_id"))))
            if h.kind == RecordKind.event_action else h for h in held]


class JournalFollower(LeasedLoop):
    """A background loop that follows the journal from its cursor ``CURSOR`` and tells users.

    Besides what :class:`LeasedLoop` asks, a subclass sets ``CURSOR``, provides
    ``partner_users`` and ``_audience`` (None until first used), names the node whose
    users it tells in :meth:`own_node`, and implements :meth:`follow_once`.
    """

    CURSOR: ClassVar[str]
    partner_users: Mapping[str, str]
    _audience: Audience | None
    _cursor: FollowerCursor | None

    def own_node(self) -> str:
        """The id of the node whose users this loop tells."""
        raise NotImplementedError

    def follow_once(self) -> int:
        """One page of the journal after the cursor; how much it did."""
        raise NotImplementedError

    @property
    def audience(self) -> Audience:
        """Who may read what here (users re-read every half minute)."""
        if self._audience is None:
            self._audience = Audience(self.engine, self.own_node(), self.partner_users)
        return self._audience

    @property
    def cursor(self) -> FollowerCursor:
        """Where this loop has got to in the journal (:class:`FollowerCursor`)."""
        if self._cursor is None:
            self._cursor = FollowerCursor(self.engine, self.CURSOR)
        return self._cursor

    def renewed(self, gained: bool) -> None:
        if gained:
            self.cursor.forget()  # another process may have followed meanwhile

    def stopped(self) -> None:
        self.cursor.save()

    def catch_up(self, max_pages: int = 1000) -> int:
        """Follow until the cursor reaches the journal's head; the sum of the pages' counts."""
        total = 0
        for _ in range(max_pages):
            before = self.cursor.read()
            total += self.follow_once()
            if self.cursor.read() == before:
                break
        self.cursor.save()
        return total


@dataclass
class NotificationFollower(JournalFollower):
    """Matches every new record against the subscriptions and writes the notifications.

    Follows the journal from its own stored cursor (``cursors`` table, name
    ``notifications``); the first run starts at the journal's head (no one is
    told about the past). Runs in one app process of the node at a time (a
    lease); :meth:`follow_once` does one page and is what tests call.
    """

    LEASE: ClassVar[str] = LEASE
    CURSOR: ClassVar[str] = CURSOR
    engine: sa.Engine
    node_id: str
    partner_users: Mapping[str, str] = field(default_factory=dict)
    page: int = 2000
    poll_s: float = 0.2
    holder: str = field(default_factory=lambda: f"notifications:{uuid.uuid4()}")
    _index: SubscriptionIndex | None = field(default=None, repr=False)
    _audience: Audience | None = field(default=None, repr=False)
    _cursor: FollowerCursor | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def own_node(self) -> str:
        return self.node_id

    def reload(self) -> None:
        """Read the subscriptions (and the users) again."""
        subs = [Subscription.from_record(r) for r in load_subscriptions(self.engine)]
        self._index = SubscriptionIndex(subs)
        self.audience.refresh()

    def follow_once(self) -> int:
        """Process one page of the journal after the cursor; the notifications written."""
        cursor = self.cursor.read()
        if cursor is None:
            cursor = journal_head(self.engine)
            self.cursor.move(cursor, save=True)
        if self._index is None:
            self.reload()
        index = self._index
        assert index is not None
        with self.engine.connect() as conn:
            entries, position = follow_kinds(
                conn, cursor, sorted({*index.kinds, RecordKind.subscription}), self.page)
            changed = next((i for i, e in enumerate(entries)
                            if e.kind == RecordKind.subscription), None)
            if changed is not None:
                # The subscriptions changed: the records after the change are read again,
                # with the kinds the new subscriptions ask for.
                entries = entries[:changed + 1]
                position = entries[-1].seq
            wanted = [e for e in entries if e.kind in index.kinds]
            held = _held_page(conn, wanted) if wanted else []
        written = len(_write_new(self.engine, self.node_id, self._match(index, held))
                      ) if held else 0
        if changed is not None:
            self.reload()
        self.cursor.move(position, save=bool(entries))
        return written

    def _match(self, index: SubscriptionIndex, held: Sequence[Held]) -> list[Record]:
        now = now_micros()
        records = []
        for record in held:
            facts = facts_of(record.kind, record.body, record.event)
            by_user: dict[str, list[Subscription]] = {}
            for sub in index.matching(facts):
                if record.version > 1 and not sub.on_change:
                    continue
                if facts.by is not None and facts.by == sub.username:
                    continue  # one's own action is no news to oneself
                by_user.setdefault(sub.username, []).append(sub)
            for username, subs in by_user.items():
                view = self.audience.view(username, record)
                if view is None:
                    continue
                records.append(_notification(
                    self.node_id, username, record, view, reason="subscription",
                    key=f"subscription@{record.version}",
                    subscriptions=[s.id for s in subs], now=now))
        return records

    def work(self, moment: float) -> bool:
        """One page (the background loop's pass); whether it was full."""
        return bool(self.follow_once())


# ----------------------------------------------------------------------------- a user's own


def subscribe(engine: sa.Engine, node_id: str, username: str, item: SubscriptionBase, *,
              record_id: str | None = None, base_version: int | None = None) -> StoredRecord:
    """Write a subscription of ``username`` (new, or the next version of one of theirs)."""
    body = {**item.model_dump(mode="json", exclude={"base_version"}), "username": username}
    if record_id is None:
        record_id = str(uuid.uuid4())
        current = None
    else:
        current = get_record(engine, record_id)
        if (current is None or current.kind != RecordKind.subscription
                or current.body.get("username") != username or current.body.get("deleted")):
            raise NotFound("subscription", record_id)
    body["key_version"] = int((current.body if current else {}).get("key_version", 1))
    record = next_version(engine, RecordKind.subscription, record_id, body, node_id,
                          base_version, current)
    return write_own(engine, [record], node_id)[0]


def unsubscribe(engine: sa.Engine, node_id: str, username: str, record_id: str) -> None:
    """Delete a subscription of ``username`` (a last version marked deleted)."""
    current = get_record(engine, record_id)
    if (current is None or current.kind != RecordKind.subscription
            or current.body.get("username") != username or current.body.get("deleted")):
        raise NotFound("subscription", record_id)
    body = {**current.body, "active": False, "deleted": True}
    write_own(engine, [next_version(engine, RecordKind.subscription, record_id, body, node_id,
                                    current=current)], node_id)


def addressed_to(body: str | None, username: str) -> bool:
    """Whether the stored JSON of a user's own record (a notification, ...) is ``username``'s."""
    return body is not None and orjson.loads(body).get("username") == username


def read_marker_id(node_id: str, username: str) -> str:
    """The id of the record saying how far ``username`` has read."""
    return own_record_id(node_id, RecordKind.notification_read, username)


def read_until(engine: sa.Engine, node_id: str, username: str) -> int:
    """Up to which time (µs) ``username`` has read their notifications (0: never)."""
    marker = get_record(engine, read_marker_id(node_id, username))
    if marker is None:
        return 0
    return int(marker.body.get("read_until_us", 0))


def mark_read(engine: sa.Engine, node_id: str, username: str, until_us: int | None = None
              ) -> int:
    """Mark every notification of ``username`` up to ``until_us`` (default now) as read."""
    until = now_micros() if until_us is None else until_us
    record_id = read_marker_id(node_id, username)
    current = get_record(engine, record_id)
    before = int(current.body.get("read_until_us", 0)) if current else 0
    if until <= before:
        return before
    body = {"username": username, "read_until_us": until,
            "read_until": iso(from_micros(until))}
    write_own(engine, [next_version(engine, RecordKind.notification_read, record_id, body,
                                    node_id, current=current)], node_id)
    return until


def list_notifications(engine: sa.Engine, username: str, *, limit: int = 50,
                       before_us: int | None = None) -> list[StoredRecord]:
    """A user's notifications, newest first (``before_us``: older than that, for paging)."""
    r = schema.records
    query = (sa.select(r).where(r.c.kind == RecordKind.notification, r.c.subject == username)
             .order_by(r.c.recorded_at.desc(), r.c.id).limit(limit))
    if before_us is not None:
        query = query.where(r.c.recorded_at < before_us)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [StoredRecord(kind=row.kind, id=row.id, origin=row.origin, version=row.version,
                         subject=row.subject, recorded_at=from_micros(row.recorded_at),
                         body=orjson.loads(row.body)) for row in rows]


def unread_count(engine: sa.Engine, node_id: str, username: str) -> int:
    """How many of a user's notifications are newer than what they have read."""
    r = schema.records
    since = read_until(engine, node_id, username)
    with engine.connect() as conn:
        return int(conn.execute(
            sa.select(sa.func.count()).select_from(r)
            .where(r.c.kind == RecordKind.notification, r.c.subject == username,
                   r.c.recorded_at > since)).scalar_one())


__all__ = [
    "Audience", "Facts", "Held", "JournalFollower", "NotificationFollower", "Phrase",
    "Subscription", "SubscriptionCreate", "SubscriptionIndex", "SubscriptionUpdate", "WatchedKind",
    "facts_of", "list_notifications", "load_held", "load_subscriptions", "mark_read",
    "notify_users", "read_until", "subscribe", "unread_count", "unsubscribe",
]
