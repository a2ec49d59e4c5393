"""Who may read which record at this node, and the records as judged for it.

One rule for every way a user of this node is told of a record (a subscription's
notification, a direct notice, a mention, an overdue request): :class:`Audience`
grants what the API would (role, personal data, and for a liaison officer who
speaks for a partner node, exactly what the sharing function grants that node).
:class:`Held` is a record version as this node holds it, with what that judgement
needs; :func:`load_held` reads one record's current version and :func:`held_page`
the versions a page of journal entries wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.links import governing, list_peers
from sitcen.exchange.sharing import SharedRecord, Sharing, share
from sitcen.store import schema
from sitcen.store.journal import (
    KINDS,
    USER_KINDS,
    JournalEntry,
    RecordKind,
    now_micros,
    record_bodies,
)
from sitcen.store.sql import select_in
from sitcen.store.users import StoredUser, list_users
from sitcen.taxonomy import Handling
from sitcen.users import Permission, allows


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


def load_held(engine: sa.Engine, kind: str, record_id: str) -> Held | None:
    """The current version of a record as :class:`Audience` judges it, or None."""
    if kind == RecordKind.event:
        with engine.connect() as conn:
            row = conn.execute(sa.select(schema.events.c.origin, schema.events.c.version,
                                         schema.events.c.body, schema.events.c.sharing)
                               .where(schema.events.c.id == record_id)).first()
        if row is None:
            return None
        return Held(kind, record_id, row.origin, row.version, _event_body(row.body),
                    _sharing(row.sharing))
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


def _event_body(text: str | bytes) -> dict[str, Any]:
    """A stored body without what an event keeps beside its report (provenance, sharing)."""
    body: dict[str, Any] = orjson.loads(text)
    body.pop("provenance", None)
    body.pop("sharing", None)
    return body


def held_page(conn: sa.Connection, entries: Sequence[JournalEntry]) -> list[Held]:
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
        held.append(Held(e.kind, e.record_id, e.origin, e.version, _event_body(text),
                         shares.get(e.record_id)))
    events_wanted = {str(h.body["event_id"]) for h in held
                     if h.kind == RecordKind.event_action and isinstance(h.body.get("event_id"),
                                                                         str)}
    events: dict[str, dict[str, Any]] = {}
    for row in select_in(conn, sa.select(schema.events.c.id, schema.events.c.body),
                         schema.events.c.id, events_wanted):
        events[row.id] = _event_body(row.body)
    return [Held(h.kind, h.id, h.origin, h.version, h.body, h.sharing,
                 events.get(str(h.body.get("event_id"))))
            if h.kind == RecordKind.event_action else h for h in held]
