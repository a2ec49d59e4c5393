"""Notifications out of the node: e-mail through its SMTP server, signed webhooks, digests.

:class:`Deliverer` follows the journal from its own cursor (``deliveries``): each
new notification goes out through the channels of the subscriptions it came
from (a direct notice, through every channel of the user's subscriptions), one
message per channel and pass, sent at once. Every message is a ``delivery``
record of the user (local-only, like the notifications) whose versions are its
attempts: ``delivered``, ``retrying`` with the next attempt's time (backoff
doubling from ``retry_base_s`` to ``retry_max_s``), or ``failed`` after
``max_attempts``; they are the delivery log. A delivery's id is derived from
its channel, subscription and first notification: a pass done again after a
crash sends what it had not recorded again under the same id (the receiver
drops a repeat by ``X-Sitcen-Delivery``) and writes nothing twice.

**Webhooks** are ``POST``\\ s of JSON (``{"delivery", "node", "attempt",
"notifications": [...]}``) with ``X-Sitcen-Delivery`` (the delivery's id: the same
on every retry, for the receiver to drop a repeat) and ``X-Sitcen-Signature:
t=<unix time>,v1=<hex>``, the HMAC-SHA256 of ``<t>.<body>`` under the
subscription's key (:func:`webhook_key`; its owner reads it from the API). A
2xx answer is delivered; anything else, or no answer, is retried.

**E-mail** goes through ``SITCEN_SMTP_HOST`` (STARTTLS and login when set). A
subscription with ``digest`` gets one e-mail a day at ``SITCEN_DIGEST_TIME``
instead, listing the day's notifications.

Nothing leaves that the user may not read (the notification was written only
for such a user), and above ``SITCEN_NOTIFY_EXTERNAL_HANDLING`` a message says
only that something changed and to open the console.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import smtplib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, ClassVar

import httpx
import orjson
import sqlalchemy as sa

from sitcen.operations.background import LeasedLoop
from sitcen.operations.phrases import render
from sitcen.operations.subscriptions import Subscription, load_subscriptions
from sitcen.settings import Settings
from sitcen.store import schema
from sitcen.store.cursors import FollowerCursor, journal_head
from sitcen.store.journal import (
    Record,
    RecordKind,
    follow_kinds,
    now_micros,
    write_records,
)
from sitcen.store.records import (
    StoredRecord,
    get_record,
    list_records,
    next_version,
    own_record_id,
    record_row,
)
from sitcen.taxonomy import HANDLING_ORDER, Handling
from sitcen.times import from_micros, iso, zone

log = logging.getLogger("sitcen.delivery")

CURSOR = "deliveries"
LEASE = "deliveries"
#: Domain label of webhook keys, so that no other use of the node's secret yields them.
WEBHOOK_KEY_CONTEXT = b"sitcen-webhook-key-v1\x00"
SIGNATURE_HEADER = "X-Sitcen-Signature"
DELIVERY_HEADER = "X-Sitcen-Delivery"
FINAL = frozenset({"delivered", "failed"})


def webhook_key(secret: str, subscription_id: str, key_version: int = 1) -> str:
    """The key a subscription's webhooks are signed with (derived, never stored)."""
    mac = hmac.new(secret.encode(), WEBHOOK_KEY_CONTEXT
                   + f"{subscription_id}\x00{key_version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signature(key: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sitcen-Signature`` value of a body sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(key.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class DeliveryConfig:
    """What the deliverer needs of the node's settings."""

    node_id: str
    secret: str
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "sitcen@localhost"
    console_url: str = ""
    external_handling: str = Handling.amber.value
    digest_time: str = "07:00"
    digest_tz: str = "Asia/Almaty"

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        """The delivery part of the node's settings."""
        return cls(node_id=settings.node_id, secret=settings.secret_key.get_secret_value(),
                   smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                   smtp_starttls=settings.smtp_starttls, smtp_username=settings.smtp_username,
                   smtp_password=settings.smtp_password.get_secret_value(),
                   smtp_from=settings.smtp_from, console_url=settings.console_url,
                   external_handling=str(settings.notify_external_handling),
                   digest_time=settings.digest_time, digest_tz=settings.digest_tz)


@dataclass(frozen=True)
class Target:
    """Where one message goes: a channel, an address, and the subscription it is for."""

    channel: str  # "email" or "webhook"
    to: str
    subscription: Subscription


def _targets(subscriptions: Iterable[Subscription]) -> list[Target]:
    found: dict[tuple[str, str], Target] = {}
    for sub in subscriptions:
        if not sub.active:
            continue
        if sub.webhook_url:
            found.setdefault(("webhook", sub.webhook_url), Target("webhook", sub.webhook_url, sub))
        if sub.email and not sub.digest:
            found.setdefault(("email", sub.email), Target("email", sub.email, sub))
    return list(found.values())


class Deliverer(LeasedLoop):
    """Sends notifications out of the node and keeps the delivery log."""

    LEASE: ClassVar[str] = LEASE

    def __init__(self, engine: sa.Engine, config: DeliveryConfig, *, retry_base_s: float = 2.0,
                 retry_max_s: float = 300.0, max_attempts: int = 10, timeout_s: float = 10.0,
                 poll_s: float = 0.2) -> None:
        super().__init__()
        self.engine = engine
        self.config = config
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.http = httpx.Client(timeout=timeout_s)
        # Messages of one pass go out side by side: a slow receiver delays only its own.
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="delivery")
        self.holder = f"deliveries:{uuid.uuid4()}"
        self._due: dict[str, float] = {}  # delivery id -> when to try (time.time())
        self._loaded = False
        self._digested = float("-inf")  # monotonic s
        self.cursor = FollowerCursor(engine, CURSOR)

    # -- making deliveries

    def follow_once(self, page: int = 2000) -> int:
        """Make the deliveries of one page of new notifications; how many were made."""
        cursor = self.cursor.read()
        if cursor is None:
            self.cursor.move(journal_head(self.engine), save=True)
            return 0
        with self.engine.connect() as conn:
            entries, position = follow_kinds(conn, cursor, [RecordKind.notification], page)
        notifications = _records(self.engine, [e.record_id for e in entries if e.version == 1])
        made = self._make(notifications) if notifications else 0
        self.cursor.move(position, save=bool(entries))
        return made

    def _make(self, notifications: Sequence[StoredRecord]) -> int:
        subs_by_user: dict[str, list[Subscription]] = {}
        for record in load_subscriptions(self.engine):
            sub = Subscription.from_record(record)
            subs_by_user.setdefault(sub.username, []).append(sub)
        groups: dict[tuple[str, str, str], tuple[Target, list[StoredRecord]]] = {}
        for note in notifications:
            username = str(note.body.get("username"))
            mine = subs_by_user.get(username, [])
            named = set(note.body.get("subscriptions") or [])
            chosen = [s for s in mine if s.id in named] if named else mine
            for target in _targets(chosen):
                key = (target.channel, target.to, username)
                groups.setdefault(key, (target, []))[1].append(note)
        now = now_micros()
        fresh: list[tuple[str, dict[str, Any], list[StoredRecord]]] = []
        for (_channel, _to, username), (target, notes) in groups.items():
            delivery_id = own_record_id(self.config.node_id, RecordKind.delivery,
                                        f"{target.channel}|{target.subscription.id}|{notes[0].id}")
            body = {"username": username, "channel": target.channel, "to": target.to,
                    "subscription_id": target.subscription.id,
                    "key_version": target.subscription.key_version,
                    "language": target.subscription.language, "kind": "immediate",
                    "notifications": [n.id for n in notes], "status": "pending",
                    "attempts": 0, "last_error": "", "created_at": iso(from_micros(now)),
                    "next_attempt_at": iso(from_micros(now)), "delivered_at": None}
            fresh.append((delivery_id, body, notes))
        held = _held_ids(self.engine, [d for d, _b, _n in fresh])
        fresh = [item for item in fresh if item[0] not in held]
        # The first attempt goes at once; what it came to is the delivery's first version,
        # written with the others of the pass in one transaction.
        outcomes = self._attempt_all(fresh)
        records = [Record(RecordKind.delivery, record_row(
            RecordKind.delivery, delivery_id, self.config.node_id, 1, body, recorded_at=now))
            for (delivery_id, _b, _n), body in zip(fresh, outcomes, strict=True)]
        if records:
            write_records(self.engine, records, node_id=self.config.node_id)
        self._schedule(zip([d for d, _b, _n in fresh], outcomes, strict=True))
        return len(records)

    def _schedule(self, outcomes: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        for delivery_id, body in outcomes:
            if body.get("status") in FINAL:
                self._due.pop(delivery_id, None)
            else:
                self._due[delivery_id] = _timestamp(body.get("next_attempt_at"))

    # -- sending

    def load_pending(self) -> int:
        """Queue every delivery not yet delivered or given up (after a restart)."""
        for record in list_records(self.engine, RecordKind.delivery, limit=1_000_000):
            if record.body.get("status") not in FINAL:
                self._due[record.id] = _timestamp(record.body.get("next_attempt_at"))
        self._loaded = True
        return len(self._due)

    def send_due(self, now: float | None = None) -> int:
        """Attempt every delivery whose time has come; how many were delivered."""
        if not self._loaded:
            self.load_pending()
        now = time.time() if now is None else now
        due = [d for d, at in sorted(self._due.items(), key=lambda x: x[1]) if at <= now]
        if not due:
            return 0
        current = [r for r in _records(self.engine, due) if r.body.get("status") not in FINAL]
        for gone in set(due) - {r.id for r in current}:
            self._due.pop(gone, None)
        notes = {n.id: n for n in _records(self.engine, sorted(
            {i for r in current for i in r.body.get("notifications") or []}))}
        items = [(r.id, dict(r.body), [notes[i] for i in r.body.get("notifications") or []
                                      if i in notes]) for r in current]
        outcomes = self._attempt_all(items)
        records = [next_version(self.engine, RecordKind.delivery, r.id, body,
                                self.config.node_id, current=r)
                   for r, body in zip(current, outcomes, strict=True)]
        if records:
            write_records(self.engine, records, node_id=self.config.node_id)
        self._schedule(zip([r.id for r in current], outcomes, strict=True))
        return sum(1 for body in outcomes if body.get("status") == "delivered")

    def _attempt_all(self, items: Sequence[tuple[str, dict[str, Any], list[StoredRecord]]]
                     ) -> list[dict[str, Any]]:
        """Try each delivery once, several at a time; the body each comes to."""
        if len(items) <= 1:
            return [self._attempt(*item) for item in items]
        futures = [self._pool.submit(self._attempt, *item) for item in items]
        return [f.result() for f in futures]

    def _attempt(self, delivery_id: str, body: dict[str, Any],
                 notes: Sequence[StoredRecord]) -> dict[str, Any]:
        """One try of a delivery: its body as it stands after (nothing is written here)."""
        body = dict(body)
        attempt = int(body.get("attempts", 0)) + 1
        try:
            if body["channel"] == "webhook":
                self._post(delivery_id, body, notes, attempt)
            else:
                self._mail(body, notes)
            error = None
        except Exception as exc:  # the receiver's failure is recorded, never raised
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = now_micros()
        body.update(attempts=attempt, last_attempt_at=iso(from_micros(now)))
        if error is None:
            body.update(status="delivered", delivered_at=iso(from_micros(now)), last_error="")
        elif attempt >= self.max_attempts:
            body.update(status="failed", last_error=error)
            log.warning("delivery %s to %s failed for good: %s", delivery_id, body["to"], error)
        else:
            wait = min(self.retry_max_s, self.retry_base_s * 2 ** (attempt - 1))
            body.update(status="retrying", last_error=error,
                        next_attempt_at=iso(from_micros(now + int(wait * 1e6))))
        return body

    def payload(self, delivery_id: str, body: Mapping[str, Any],
                notes: Sequence[StoredRecord], attempt: int) -> list[dict[str, Any]]:
        """The notifications of a delivery as they leave the node."""
        language = str(body.get("language") or "en")
        ceiling = HANDLING_ORDER[Handling(self.config.external_handling)]
        out = []
        for note in notes:
            b = note.body
            handling = str(b.get("handling") or Handling.red.value)
            try:
                above = HANDLING_ORDER[Handling(handling)] > ceiling
            except ValueError:
                above = True
            about = b.get("about") or {}
            item: dict[str, Any] = {
                "id": note.id, "reason": b.get("reason"), "created_at": b.get("created_at"),
                "serious": b.get("serious", False),
                "about": {"kind": about.get("kind"), "id": about.get("id")},
                "link": self._link(about)}
            if above:
                item["summary_text"] = render({"key": "ui.notify.withheld"}, language)
            else:
                item.update(summary=b.get("summary"), section_id=b.get("section_id"),
                            text=b.get("text", ""), by=b.get("by"),
                            summary_text=render(b.get("summary") or {}, language))
            out.append(item)
        return out

    def _link(self, about: Mapping[str, Any]) -> str | None:
        base = self.config.console_url.rstrip("/")
        if not base:
            return None
        if about.get("kind") == RecordKind.event:
            return f"{base}/#/map?selected={about.get('id')}"
        return f"{base}/#/notifications"

    def _post(self, delivery_id: str, body: Mapping[str, Any], notes: Sequence[StoredRecord],
              attempt: int) -> None:
        data = orjson.dumps({"delivery": delivery_id, "node": self.config.node_id,
                             "attempt": attempt, "notifications":
                             self.payload(delivery_id, body, notes, attempt)})
        key = webhook_key(self.config.secret, str(body["subscription_id"]),
                          int(body.get("key_version") or 1))
        stamp = int(time.time())
        response = self.http.post(str(body["to"]), content=data, headers={
            "Content-Type": "application/json", DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: signature(key, stamp, data)})
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"the receiver answered {response.status_code}")

    def _mail(self, body: Mapping[str, Any], notes: Sequence[StoredRecord]) -> None:
        config = self.config
        if not config.smtp_host:
            raise RuntimeError("no SMTP server configured (SITCEN_SMTP_HOST)")
        items = self.payload("", body, notes, 0)
        language = str(body.get("language") or "en")
        message = EmailMessage()
        message["From"] = config.smtp_from
        message["To"] = str(body["to"])
        if body.get("kind") == "digest":
            subject = render({"key": "ui.notify.digest_subject", "params": {
                "count": len(items), "node": config.node_id, "day": body.get("day", "")}},
                language)
        elif len(items) == 1:
            subject = f"[sitcen {config.node_id}] {items[0]['summary_text']}"
        else:
            subject = render({"key": "ui.notify.mail_subject", "params": {
                "count": len(items), "node": config.node_id}}, language)
        message["Subject"] = subject[:200]
        lines = []
        for item in items:
            line = f"- {item['summary_text']}"
            if item.get("text"):
                line += f" — {item['text']}"
            if item.get("link"):
                line += f"\n  {item['link']}"
            lines.append(line)
        message.set_content("\n".join(lines) + "\n")
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_username:
                smtp.login(config.smtp_username, config.smtp_password)
            smtp.send_message(message)

    # -- daily digests

    def digests(self, now: datetime | None = None) -> int:
        """Make today's digest e-mails once the digest time has passed; how many were made."""
        local = (now or datetime.now(UTC)).astimezone(zone(self.config.digest_tz))
        hour, minute = (int(p) for p in self.config.digest_time.split(":"))
        due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if local < due:
            return 0
        since = to_us(due - timedelta(days=1))
        until = to_us(due)
        made = []
        for record in load_subscriptions(self.engine):
            sub = Subscription.from_record(record)
            if not (sub.active and sub.digest and sub.email):
                continue
            delivery_id = own_record_id(self.config.node_id, RecordKind.delivery,
                                        f"digest|{sub.id}|{due.date().isoformat()}")
            if get_record(self.engine, delivery_id) is not None:
                continue
            notes = _notifications_of(self.engine, sub, since, until)
            if not notes:
                continue
            now_us = now_micros()
            body = {"username": sub.username, "channel": "email", "to": sub.email,
                    "subscription_id": sub.id, "key_version": 1, "language": sub.language,
                    "kind": "digest", "day": due.date().isoformat(),
                    "notifications": [n.id for n in notes], "status": "pending", "attempts": 0,
                    "last_error": "", "created_at": iso(from_micros(now_us)),
                    "next_attempt_at": iso(from_micros(now_us)), "delivered_at": None}
            made.append(Record(RecordKind.delivery, record_row(
                RecordKind.delivery, delivery_id, self.config.node_id, 1, body,
                recorded_at=now_us)))
        for fresh in _write_new(self.engine, self.config.node_id, made):
            self._due[fresh.id] = 0.0
        return len(made)

    def renewed(self, gained: bool) -> None:
        if gained:
            self.cursor.forget()  # another process may have followed meanwhile
            self.load_pending()

    def work(self, moment: float) -> bool:
        """The background loop's pass: new deliveries, those due, the digests once a minute."""
        made = self.follow_once()
        self.send_due()
        if moment - self._digested > 60.0:
            self.digests()
            self._digested = moment
        return bool(made)

    def wait_s(self) -> float:
        return self._next_wait()

    def stopped(self) -> None:
        self.cursor.save()
        self.close()

    def close(self) -> None:
        """Close the HTTP connections the webhooks used, and the senders' threads."""
        self._pool.shutdown(wait=True)
        self.http.close()

    def _next_wait(self) -> float:
        if not self._due:
            return self.poll_s
        return max(0.0, min(self.poll_s, min(self._due.values()) - time.time()))


def to_us(value: datetime) -> int:
    """An aware datetime as µs since the epoch."""
    return int(value.astimezone(UTC).timestamp() * 1_000_000)


def _timestamp(value: Any) -> float:
    """An ISO time as Unix seconds (0 when there is none: due at once)."""
    if not isinstance(value, str):
        return 0.0
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _held_ids(engine: sa.Engine, ids: Sequence[str]) -> set[str]:
    r = schema.records
    held: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            held.update(conn.execute(sa.select(r.c.id).where(r.c.id.in_(list(
                ids[start:start + 900])))).scalars())
    return held


def _records(engine: sa.Engine, ids: Sequence[str]) -> list[StoredRecord]:
    """Records by id, in the order given (those not held are left out)."""
    found: dict[str, StoredRecord] = {}
    r = schema.records
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            for row in conn.execute(sa.select(r).where(r.c.id.in_(list(ids[start:start + 900])))):
                found[row.id] = StoredRecord(
                    kind=row.kind, id=row.id, origin=row.origin, version=row.version,
                    subject=row.subject, recorded_at=from_micros(row.recorded_at),
                    body=orjson.loads(row.body))
    return [found[i] for i in ids if i in found]


def _notifications_of(engine: sa.Engine, sub: Subscription, since_us: int,
                      until_us: int) -> list[StoredRecord]:
    """A user's notifications of a day that a digest subscription covers."""
    r = schema.records
    with engine.connect() as conn:
        rows = conn.execute(sa.select(r).where(
            r.c.kind == RecordKind.notification, r.c.subject == sub.username,
            r.c.recorded_at >= since_us, r.c.recorded_at < until_us)
            .order_by(r.c.recorded_at)).all()
    out = []
    for row in rows:
        body = orjson.loads(row.body)
        named = body.get("subscriptions") or []
        if named and sub.id not in named:
            continue
        out.append(StoredRecord(kind=row.kind, id=row.id, origin=row.origin,
                                version=row.version, subject=row.subject,
                                recorded_at=from_micros(row.recorded_at), body=body))
    return out


def _write_new(engine: sa.Engine, node_id: str, records: Sequence[Record]) -> list[Record]:
    """Write the deliveries not already stored (a repeated pass writes nothing twice)."""
    if not records:
        return []
    r = schema.records
    with engine.connect() as conn:
        held = set(conn.execute(sa.select(r.c.id).where(r.c.id.in_([x.id for x in records])))
                   .scalars())
    fresh = [x for x in records if x.id not in held]
    if fresh:
        write_records(engine, fresh, node_id=node_id)
    return fresh


def delivery_log(engine: sa.Engine, username: str, *, subscription_id: str | None = None,
                 limit: int = 100) -> list[StoredRecord]:
    """A user's deliveries, newest first (of one subscription, when given)."""
    found = list_records(engine, RecordKind.delivery, subject=username, limit=10_000)
    if subscription_id is not None:
        found = [d for d in found if d.body.get("subscription_id") == subscription_id]
    return found[:limit]
