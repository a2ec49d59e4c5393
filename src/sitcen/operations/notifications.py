"""Notifications: the records that tell a user of this node about another record.

Three record kinds addressed to one local user (:data:`sitcen.store.journal.USER_KINDS`),
besides the ``subscription`` of :mod:`sitcen.operations.subscriptions`; they are
written on the one write path like every record but never leave the node (the
sharing function and the inbox refuse them) and the live stream gives them to their
user only:

- ``notification`` — one record a user was told about, why, and a one-line
  summary (:mod:`sitcen.operations.phrases`); written once, never changed;
- ``notification_read`` — how far a user has read (one record per user);
- ``delivery`` — one message sent out of the node (see :mod:`sitcen.operations.delivery`).

Two ways in, one rule: a notification is written only for a user who may read the
record (:class:`~sitcen.operations.audience.Audience`).

- :class:`NotificationFollower` reads the journal from its own stored cursor and
  matches each new record against every subscription (:class:`JournalFollower` is
  the loop it shares with the other followers that tell users);
- :func:`notify_users` tells named users about a record directly (an assignment,
  a serious incident, a report waiting too long, a request past its deadline).

Both are idempotent: a notification's id is derived from its user, the record
version and the reason, so a pass repeated after a crash writes nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa

from sitcen.errors import NotFound
from sitcen.operations.audience import Audience, Held, held_page, load_held
from sitcen.operations.background import LeasedLoop
from sitcen.operations.phrases import summary_of
from sitcen.operations.subscriptions import (
    Subscription,
    SubscriptionIndex,
    facts_of,
    load_subscriptions,
)
from sitcen.store import schema
from sitcen.store.cursors import FollowerCursor, journal_head
from sitcen.store.journal import Record, RecordKind, follow_kinds, now_micros, write_records
from sitcen.store.records import (
    StoredRecord,
    get_record,
    next_version,
    own_record_id,
    record_row,
    write_own,
)
from sitcen.store.sql import select_in
from sitcen.times import from_micros, iso

log = logging.getLogger("sitcen.notifications")

#: The follower's cursor and lease names.
CURSOR = "notifications"
LEASE = "notifications"


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
            held = held_page(conn, wanted) if wanted else []
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
    "JournalFollower", "NotificationFollower", "addressed_to", "list_notifications",
    "mark_read", "notification_id", "notify_users", "read_until", "unread_count",
]
