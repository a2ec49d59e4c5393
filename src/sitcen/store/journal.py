"""The one write path and the journal (docs/architecture.md, principles 1 and 2).

Every change of every record goes through :func:`write_records`: it stores
the record's new version and appends one journal entry per record in the
same transaction. Readers (live stream, federation, analysis, audit) follow
the journal with :func:`read_journal` from a cursor they keep themselves.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from sitcen import metrics
from sitcen.errors import NotOwnerError, VersionConflictError
from sitcen.store import schema
from sitcen.store.engine import SQLITE_WRITE
from sitcen.store.sql import among, select_in


@dataclass(frozen=True)
class Record:
    """One version of one record, ready to store.

    ``row`` holds the columns of the kind's table, including ``id``,
    ``origin``, ``version`` and ``body`` (the record's JSON text).
    """

    kind: str
    row: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def origin(self) -> str:
        return str(self.row["origin"])

    @property
    def version(self) -> int:
        return int(self.row["version"])


@dataclass(frozen=True)
class Kind:
    """Where records of one kind live: the current versions and, optionally, older ones."""

    table: sa.Table
    history: sa.Table | None


class RecordKind(StrEnum):
    """Kinds of record a node stores and journals."""

    event = "event"
    personal_data = "personal_data"
    event_action = "event_action"
    alert = "alert"
    section_assessment = "section_assessment"
    capacity = "capacity"
    recommendation = "recommendation"
    asset_position = "asset_position"
    request_for_information = "request_for_information"
    daily_aggregate = "daily_aggregate"
    sensor_detection = "sensor_detection"
    # A sensor's silence, fault, tamper or low battery, from start to end, and a fence or
    # cable segment with its state (docs/surveillance.md).
    sensor_fault = "sensor_fault"
    fence_segment = "fence_segment"
    # Issued situation reports and analytical products (shared under agreements), and
    # the node's own drafts and report templates (never leave the node).
    report = "report"
    report_draft = "report_draft"
    report_template = "report_template"
    organisation = "organisation"
    contact_point = "contact_point"
    request_response = "request_response"
    attachment = "attachment"
    thread_message = "thread_message"
    joint_operation = "joint_operation"
    operation_report = "operation_report"
    # The shift's work: tasks and the posts' answers, the duty log, handovers.
    task = "task"
    task_response = "task_response"
    duty_log_entry = "duty_log_entry"
    handover = "handover"
    # A post's patrol plan for a day and a duty officer's change to one of its assignments.
    patrol_plan = "patrol_plan"
    patrol_adjustment = "patrol_adjustment"
    # A member's monthly figures on one indicator of the common list (docs/network.md).
    indicator_record = "indicator_record"
    # A member's act of submitting a month (or the month open, once reminders start).
    indicator_submission = "indicator_submission"
    # The head of the node's audit trail, so that peers hold a copy (docs/security.md).
    audit_anchor = "audit_anchor"
    # A user's own: what they follow, what they were told, what was sent to them.
    subscription = "subscription"
    notification = "notification"
    notification_read = "notification_read"
    delivery = "delivery"
    # Not a record: the journal's note that a received record was withdrawn.
    retraction = "retraction"
    # Not a record: the journal's note that the node was restored from a backup and its
    # positions jumped to a new epoch (store/epochs.py).
    journal_epoch = "journal_epoch"


#: The kinds kept in the shared ``records`` table, and the body field each is
#: listed by (its ``subject``).
SUBJECT_FIELDS: dict[str, str] = {
    RecordKind.event_action: "event_id",
    RecordKind.alert: "section_id",
    RecordKind.section_assessment: "section_id",
    RecordKind.capacity: "section_id",
    RecordKind.recommendation: "section_id",
    RecordKind.asset_position: "asset_id",
    RecordKind.request_for_information: "to_node",
    RecordKind.daily_aggregate: "to_node",
    RecordKind.sensor_detection: "section_id",
    RecordKind.sensor_fault: "sensor_id",
    RecordKind.fence_segment: "segment_id",
    RecordKind.report: "product",
    RecordKind.report_draft: "product",
    RecordKind.report_template: "template_id",
    # Cooperation (docs/cooperation.md): an agency or unit by the node it belongs to, a
    # point of contact by its organisation, a response by its request, an attachment or
    # a message by the record it belongs to, an operation by its coordinating node, a
    # daily report by its operation.
    RecordKind.organisation: "node",
    RecordKind.contact_point: "organisation_id",
    RecordKind.request_response: "request_id",
    RecordKind.attachment: "record_id",
    RecordKind.thread_message: "record_id",
    RecordKind.joint_operation: "coordinator",
    RecordKind.operation_report: "operation_id",
    RecordKind.task: "unit_id",
    RecordKind.task_response: "task_id",
    RecordKind.duty_log_entry: "author",
    RecordKind.handover: "from_officer",
    RecordKind.patrol_plan: "post_id",
    RecordKind.patrol_adjustment: "plan_id",
    RecordKind.indicator_record: "key",
    RecordKind.indicator_submission: "key",
    RecordKind.audit_anchor: "node_id",
    RecordKind.subscription: "username",
    RecordKind.notification: "username",
    RecordKind.notification_read: "username",
    RecordKind.delivery: "username",
}

#: Kinds addressed to one local user (their ``subject`` is the username): a user's
#: subscriptions, notifications, read marker and delivery log. They never leave the
#: node (the sharing function and the inbox refuse them) and reach only that user.
USER_KINDS: frozenset[str] = frozenset({
    RecordKind.subscription, RecordKind.notification, RecordKind.notification_read,
    RecordKind.delivery,
})

#: A post's patrol plans and the adjustments to them: for the node's own people who report
#: and patrol (operators, duty officers), never for a partner's liaison (docs/patrols.md).
PLAN_KINDS: frozenset[str] = frozenset({RecordKind.patrol_plan, RecordKind.patrol_adjustment})

#: Kinds that never leave their node: a linked node neither sends nor receives them
#: (a user's own records, the node's report drafts and templates, and its patrol plans:
#: a randomised plan protects only while nobody outside can read the day's draw).
LOCAL_KINDS: frozenset[str] = USER_KINDS | frozenset({RecordKind.report_draft,
                                                    RecordKind.report_template}) | PLAN_KINDS

KINDS: dict[str, Kind] = {
    "event": Kind(schema.events, schema.event_versions),
    "personal_data": Kind(schema.personal_data, None),
    **{str(kind): Kind(schema.records, schema.record_versions) for kind in SUBJECT_FIELDS},
}


@dataclass(frozen=True)
class JournalEntry:
    """A change as the journal tells it."""

    seq: int
    origin: str
    record_id: str
    version: int
    kind: str
    recorded_at: int


# SQLite has one writer at a time: writers of one process queue here, and
# processes queue on the file lock (BEGIN IMMEDIATE, then busy_timeout).
_sqlite_write_lock = threading.Lock()


def new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, made in one go for a batch.

    Same format and randomness as ``str(uuid.uuid4())`` at a quarter of the cost.
    """
    raw = os.urandom(16 * n).hex()
    ids = []
    for i in range(0, 32 * n, 32):
        h = raw[i : i + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return ids


# Callables run after every committed write in this process (e.g. to wake a
# sender); the store does not know who they are.
_listeners: list[Callable[[], None]] = []


def add_write_listener(listener: Callable[[], None]) -> None:
    """Call ``listener`` (cheaply, without arguments) after each committed journal write."""
    _listeners.append(listener)


def remove_write_listener(listener: Callable[[], None]) -> None:
    """Stop calling ``listener``."""
    with contextlib.suppress(ValueError):
        _listeners.remove(listener)


def _notify() -> None:
    for listener in list(_listeners):
        listener()


def now_micros() -> int:
    """The current time in integer microseconds since the epoch."""
    return time.time_ns() // 1000


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: on SQLite it queues with this process's other writers
    and takes the file's write lock at BEGIN, instead of meeting them in SQLite's busy loop.

    For the small bookkeeping writes beside the journal (cursors, leases, batch ids).
    """
    if engine.dialect.name == "sqlite":
        with _sqlite_write_lock, engine.connect() as conn:
            conn.execution_options(**{SQLITE_WRITE: True})
            with conn.begin():
                yield conn
    else:
        with engine.begin() as conn:
            yield conn


def write_records(engine: sa.Engine, records: Sequence[Record], *, node_id: str) -> int:
    """Store new versions of records owned by this node and journal them, all or nothing.

    Version 1 inserts; version n+1 requires version n to be stored and moves
    it to the kind's history. Returns the journal sequence number of the last
    entry written. Raises :class:`NotOwnerError` or
    :class:`VersionConflictError` and writes nothing if any record breaks
    the rules.
    """
    for record in records:
        if record.origin != node_id:
            raise NotOwnerError(record.id, record.origin)
    if engine.dialect.name == "sqlite":
        with _sqlite_write_lock, engine.connect() as conn:
            conn.execution_options(**{SQLITE_WRITE: True})
            with conn.begin():
                last = _write(conn, records)
    else:
        with engine.begin() as conn:
            last = _write(conn, records)
    _notify()
    metrics.count_written((r.kind for r in records), received=False)
    return last


def apply_records(engine: sa.Engine, records: Sequence[Record]) -> list[bool]:
    """Apply record versions received from other nodes: exactly-once effect, in any order.

    Idempotent by (origin, id, version): a version at or below the stored one
    is skipped (a duplicate or a late, older delivery), a newer one replaces
    the stored one (older versions go to history), an unknown record is
    inserted whatever its version. Applied versions are journaled like local
    writes, so they flow on to streams and peers. A record whose id is stored
    under another origin is refused (:class:`NotOwnerError`) and nothing is
    applied. Returns, per record, whether it was applied.
    """
    if engine.dialect.name == "sqlite":
        with _sqlite_write_lock, engine.connect() as conn:
            conn.execution_options(**{SQLITE_WRITE: True})
            with conn.begin():
                applied = _apply(conn, records)
    else:
        with engine.begin() as conn:
            applied = _apply(conn, records)
    if any(applied):
        _notify()
        metrics.count_written((r.kind for r, done in zip(records, applied, strict=True) if done),
                              received=True)
    return applied


def _apply(conn: sa.Connection, records: Sequence[Record]) -> list[bool]:
    _lock_journal(conn)
    recorded_at = now_micros()
    applied = [False] * len(records)
    newest: dict[tuple[str, str], int] = {}  # (kind, id) -> index of its newest version
    for i, record in enumerate(records):
        key = (record.kind, record.id)
        if key not in newest or records[newest[key]].version < record.version:
            newest[key] = i
    by_kind: dict[str, list[int]] = {}
    for (kind_name, _), i in newest.items():
        by_kind.setdefault(kind_name, []).append(i)
    retracted = _retracted_versions(conn, [records[i].id for i in newest.values()])
    for kind_name, indexes in by_kind.items():
        kind = KINDS[kind_name]
        table = kind.table
        # A version the origin's side already retracted stays out, however late it comes.
        indexes = [i for i in indexes if records[i].version > retracted.get(records[i].id, 0)]
        ids = [records[i].id for i in indexes]
        query = sa.select(table.c.id, table.c.origin, table.c.version)
        stored = {row.id: (row.origin, row.version)
                  for row in select_in(conn, query, table.c.id, ids)}
        fresh = []
        for i in indexes:
            record = records[i]
            have = stored.get(record.id)
            if have is None:
                fresh.append(record.row)
                applied[i] = True
            elif have[0] != record.origin:
                raise NotOwnerError(record.id, have[0])
            elif record.version > have[1]:
                _replace(conn, kind, record, recorded_at, strict=False)
                applied[i] = True
        if fresh:
            _insert(conn, table, fresh)
    done = [r for r, ok in zip(records, applied, strict=True) if ok]
    if done:
        _journal(conn, done, recorded_at)
    return applied


def _retracted_versions(conn: sa.Connection, ids: Sequence[str]) -> dict[str, int]:
    t = schema.retractions
    return {row.id: row.version
            for row in select_in(conn, sa.select(t.c.id, t.c.version), t.c.id, ids)}


@dataclass(frozen=True)
class Withdrawal:
    """A record another node withdrew from this one (a retraction as received)."""

    kind: str
    origin: str
    id: str
    version: int
    reason: str
    provenance: list[str]


def retract_records(engine: sa.Engine, withdrawals: Sequence[Withdrawal]) -> list[bool]:
    """Remove records their origin's side withdrew, leaving tombstones; all or nothing.

    A held record at or below the withdrawn version is deleted with its
    history (an event with its personal data) and the journal notes the
    retraction, so streams and relays pass it on. A record not held (never
    received, or already newer) only gets its tombstone, which keeps a late
    delivery of a withdrawn version out. Returns, per withdrawal, whether a
    held record was removed.
    """
    if engine.dialect.name == "sqlite":
        with _sqlite_write_lock, engine.connect() as conn:
            conn.execution_options(**{SQLITE_WRITE: True})
            with conn.begin():
                removed = _retract(conn, withdrawals)
    else:
        with engine.begin() as conn:
            removed = _retract(conn, withdrawals)
    if any(removed):
        _notify()
    return removed


def _retract(conn: sa.Connection, withdrawals: Sequence[Withdrawal]) -> list[bool]:
    _lock_journal(conn)
    recorded_at = now_micros()
    removed = []
    tombstones = schema.retractions
    journaled = []
    for w in withdrawals:
        kind = KINDS.get(w.kind)
        held = None
        if kind is not None:
            held = conn.execute(sa.select(kind.table.c.origin, kind.table.c.version)
                                .where(kind.table.c.id == w.id)).first()
        if held is not None and held.origin != w.origin:
            raise NotOwnerError(w.id, held.origin)
        gone = held is not None and held.version <= w.version
        if gone and kind is not None:
            conn.execute(kind.table.delete().where(kind.table.c.id == w.id))
            if kind.history is not None:
                conn.execute(kind.history.delete().where(kind.history.c.id == w.id))
            if w.kind == RecordKind.event:
                conn.execute(schema.personal_data.delete()
                             .where(schema.personal_data.c.event_id == w.id))
            journaled.append(Record(RecordKind.retraction, {"id": w.id, "origin": w.origin,
                                                            "version": w.version}))
        previous = conn.execute(sa.select(tombstones.c.version)
                                .where(tombstones.c.id == w.id)).scalar()
        row = {"origin": w.origin, "version": w.version, "kind": w.kind, "reason": w.reason,
               "provenance": json.dumps(w.provenance), "recorded_at": recorded_at}
        if previous is None:
            conn.execute(tombstones.insert().values(id=w.id, **row))
        elif previous < w.version:
            conn.execute(tombstones.update().where(tombstones.c.id == w.id).values(**row))
        removed.append(gone)
    if journaled:
        _journal(conn, journaled, recorded_at)
    return removed


def _lock_journal(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Serialise journal writers so that sequence order is commit order: a
        # reader at cursor N never later finds an entry below N appearing.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301002)"))


def _journal(conn: sa.Connection, records: Sequence[Record], recorded_at: int) -> None:
    _insert(conn, schema.journal, [
        {"origin": r.origin, "record_id": r.id, "version": r.version, "kind": r.kind,
         "recorded_at": recorded_at}
        for r in records
    ])


def _write(conn: sa.Connection, records: Sequence[Record]) -> int:
    _lock_journal(conn)
    recorded_at = now_micros()
    by_kind: dict[str, list[Record]] = {}
    for record in records:
        by_kind.setdefault(record.kind, []).append(record)
    for kind_name, group in by_kind.items():
        kind = KINDS[kind_name]
        fresh = [r.row for r in group if r.version == 1]
        if fresh:
            try:
                _insert(conn, kind.table, fresh)
            except sa.exc.IntegrityError as exc:
                raise VersionConflictError("(one of the batch)", 1, 1) from exc
        newer = [r for r in group if r.version > 1]
        if len(newer) < 8:
            for record in newer:
                _replace(conn, kind, record, recorded_at)
        else:
            _replace_many(conn, kind, newer)
    _journal(conn, records, recorded_at)
    return last_position(conn)


def _insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, straight through the driver's executemany.

    SQLAlchemy's per-row parameter processing doubles the cost of a 10,000-row
    batch and our values need no conversion (text, integers, floats).
    """
    conn.exec_driver_sql(_insert_sql(table.name, conn.dialect.name, tuple(rows[0])), rows)


@functools.cache
def _insert_sql(table: str, dialect: str, names: tuple[str, ...]) -> str:
    """A plain INSERT of the named columns with parameters in the driver's own style."""
    style = ":{}" if dialect == "sqlite" else "%({})s"
    columns = ", ".join(names)
    values = ", ".join(style.format(n) for n in names)
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"


def _replace(conn: sa.Connection, kind: Kind, record: Record, recorded_at: int, *,
             strict: bool = True) -> None:
    """Make ``record`` the current version; ``strict`` demands it follow the stored one."""
    table = kind.table
    query = sa.select(table.c.version, table.c.body, table.c.recorded_at).where(
        table.c.id == record.id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    stored = conn.execute(query).first()
    if stored is None or (strict and stored.version != record.version - 1):
        raise VersionConflictError(record.id, stored.version if stored else None, record.version)
    if kind.history is not None:
        conn.execute(
            kind.history.insert().values(
                id=record.id, version=stored.version, recorded_at=stored.recorded_at,
                body=stored.body,
            )
        )
    values = {k: v for k, v in record.row.items() if k != "id"}
    conn.execute(table.update().where(table.c.id == record.id).values(**values))


def _replace_many(conn: sa.Connection, kind: Kind, records: Sequence[Record]) -> None:
    """:func:`_replace` (strict) for many records at once, in three statements.

    Several versions of one record in the batch (a device's positions within one
    flush) must follow one another in the batch's order and the stored version:
    the stored version and every one of the batch but the last go to history in
    one insert, the last becomes current in one update. A flood from a few
    devices is then written at the cost of one version per device, and every
    version is still kept (docs/tak.md, "A flood from a few devices").
    """
    table = kind.table
    chains: dict[str, list[Record]] = {}
    for record in records:
        chains.setdefault(record.id, []).append(record)
    # The ids in one bound parameter: an IN list of a parameter per id cost more to build
    # than the rows it read (cProfile of the TAK store writer's groups of positions).
    query = sa.select(table.c.id, table.c.version, table.c.body, table.c.recorded_at).where(
        among(conn.dialect, table.c.id, list(chains)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    stored: dict[str, Any] = {row.id: row for row in conn.execute(query)}
    for record_id, chain in chains.items():
        have = stored.get(record_id)
        follows = None if have is None else have.version
        for record in chain:
            if follows is None or record.version != follows + 1:
                raise VersionConflictError(record_id, follows, record.version)
            follows = record.version
    if kind.history is not None:
        rows: list[dict[str, Any]] = []
        for record_id, chain in chains.items():
            have = stored[record_id]
            rows.append({"id": record_id, "version": have.version,
                         "recorded_at": have.recorded_at, "body": have.body})
            rows.extend({"id": r.id, "version": r.version, "recorded_at": r.row["recorded_at"],
                         "body": r.row["body"]} for r in chain[:-1])
        _insert(conn, kind.history, rows)
    latest = [chain[-1].row for chain in chains.values()]
    names = tuple(k for k in latest[0] if k != "id")
    conn.exec_driver_sql(_update_sql(table.name, conn.dialect.name, names), latest)


@functools.cache
def _update_sql(table: str, dialect: str, names: tuple[str, ...]) -> str:
    """A plain UPDATE by id of the named columns, in the driver's parameter style."""
    style = ":{}" if dialect == "sqlite" else "%({})s"
    columns = ", ".join(f"{n} = {style.format(n)}" for n in names)
    return f"UPDATE {table} SET {columns} WHERE id = {style.format('id')}"


def last_position(conn: sa.Connection) -> int:
    """The position of the newest journal entry (0 for an empty journal)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.journal.c.seq), 0)))
               .scalar_one())


def read_journal(
    conn: sa.Connection, after: int = 0, limit: int = 1000, kinds: Sequence[str] | None = None,
    upto: int | None = None,
) -> list[JournalEntry]:
    """Journal entries with a sequence number above ``after`` (and not above ``upto``)."""
    j = schema.journal
    # The columns in JournalEntry's order: rows become entries positionally (readers
    # take thousands a second; going through each row's mapping cost more than the query).
    query = (sa.select(j.c.seq, j.c.origin, j.c.record_id, j.c.version, j.c.kind,
                       j.c.recorded_at)
             .where(j.c.seq > after).order_by(j.c.seq).limit(limit))
    if upto is not None:
        query = query.where(j.c.seq <= upto)
    if kinds:
        query = query.where(j.c.kind.in_(list(kinds)))
    return [JournalEntry(*row) for row in conn.execute(query).all()]


def follow_kinds(conn: sa.Connection, after: int, kinds: Sequence[str], limit: int = 1000
                 ) -> tuple[list[JournalEntry], int]:
    """The next entries of some kinds after a follower's cursor, and where it may move to.

    The journal has no index on kind, so a read for a few kinds walks every entry after the
    cursor. A follower that moved only to the last entry it wanted would walk the same
    stretch of other kinds at every poll (a catch-up of 60,000 events made the notification
    deliverer walk all of them again each time). The position returned is the head read
    before the entries when fewer than ``limit`` matched: entries commit in sequence order
    (:func:`_lock_journal`), so none at or below that head can appear later.
    """
    head = last_position(conn)
    entries = read_journal(conn, after=after, limit=limit, kinds=kinds, upto=head)
    return entries, (entries[-1].seq if len(entries) == limit else max(head, after))


def record_bodies(conn: sa.Connection,
                  entries: Sequence[JournalEntry]) -> dict[tuple[str, int], str]:
    """The JSON bodies of the versions many journal entries speak of, in a few queries.

    Keyed by (record id, version); versions no longer held are absent. The
    live stream reads thousands of entries a second through this.
    """
    found: dict[tuple[str, int], str] = {}
    by_kind: dict[str, list[JournalEntry]] = {}
    for e in entries:
        if e.kind in KINDS:
            by_kind.setdefault(e.kind, []).append(e)
    for kind_name, group in by_kind.items():
        kind = KINDS[kind_name]
        table = kind.table
        query = sa.select(table.c.id, table.c.version, table.c.body)
        for row in select_in(conn, query, table.c.id, {e.record_id for e in group}):
            found[(row.id, row.version)] = str(row.body)
        if kind.history is None:
            continue
        h = kind.history
        older = sorted({(e.record_id, e.version) for e in group} - found.keys())
        for start in range(0, len(older), 200):
            chunk = older[start:start + 200]
            params = tuple(x for pair in chunk for x in pair)
            rows = conn.exec_driver_sql(_versions_sql(h.name, conn.dialect.name, len(chunk)),
                                        params)
            for row_id, version, body in rows:
                found[(row_id, version)] = str(body)
    return found


@functools.cache
def _versions_sql(table: str, dialect: str, n: int) -> str:
    """SELECT of ``n`` (id, version) pairs of a history table.

    An OR of pairs, which SQLite answers from the primary key (a row-value IN
    list would scan the whole table); written by hand, as SQLAlchemy would
    compile a new 200-term expression for every page.
    """
    mark = "?" if dialect == "sqlite" else "%s"
    pairs = " OR ".join([f"(id = {mark} AND version = {mark})"] * n)
    return f"SELECT id, version, body FROM {table} WHERE {pairs}"


def record_body(conn: sa.Connection, entry: JournalEntry) -> str | None:
    """The JSON body of the version a journal entry speaks of (None if unknown)."""
    kind = KINDS.get(entry.kind)
    if kind is None:
        return None
    table = kind.table
    row = conn.execute(
        sa.select(table.c.version, table.c.body).where(table.c.id == entry.record_id)
    ).first()
    if row is not None and row.version == entry.version:
        return str(row.body)
    if kind.history is None:
        return None
    old = conn.execute(
        sa.select(kind.history.c.body).where(
            kind.history.c.id == entry.record_id, kind.history.c.version == entry.version
        )
    ).scalar()
    return None if old is None else str(old)
