"""Retention: how long each kind of record is kept, the purge, legal holds, and the proof.

A node's policy (a YAML file, ``SITCEN_RETENTION_FILE``) lists rules: a record
kind, the handling labels a rule is limited to (none: all), and the days a
record is kept. A record's age is counted from when it happened (an event's
``occurred_at``; for its personal data, the event's) or, for other kinds, from
when it was recorded. The first rule that fits a record decides; a kind no
rule names is kept for ever, and without a policy nothing is purged.
Personal data must not outlive the events it belongs to: a policy that would
keep it longer is refused.

The purge removes only this node's own records. Each goes the way a
withdrawal goes (:func:`sitcen.store.journal.retract_records`): the record and
its history (an event with its personal data) are deleted here, a tombstone
keeps a late copy out, and the journal notes a retraction, which every linked
node that received the record is sent and applies in turn. Records other
nodes own are theirs to purge; their retractions arrive the same way.

A legal hold (an event, a border section, or a whole kind) keeps what it
covers whatever its age, until it is released. Each purge writes a proof to
the audit trail: what was removed by which rule, when, as counts and a digest
of the ids (never the content), signed with the node's key when it has one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sitcen.exchange.identity import NodeIdentity, b64url
from sitcen.operations.background import LeasedLoop
from sitcen.store import audit, schema
from sitcen.store.audit import AuditAction
from sitcen.store.cursors import move_cursor, read_cursor
from sitcen.store.journal import KINDS, Withdrawal, now_micros, retract_records, write_transaction
from sitcen.taxonomy import Handling
from sitcen.times import iso, to_micros

#: Records removed per transaction.
CHUNK = 500
#: Kinds a rule may name: every kind the journal keeps rows of.
PURGEABLE: frozenset[str] = frozenset(KINDS)
HOLD_SCOPES = ("event", "section", "kind")


class RetentionError(ValueError):
    """A policy or a hold that cannot be used; the message says why."""


class RetentionRule(BaseModel):
    """Keep records of ``kind`` (with one of ``handling``, if given) for ``days``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="a record kind: event, personal_data, alert, ...")
    handling: list[Handling] = Field(default_factory=list,
                                     description="TLP labels the rule is limited to")
    days: int = Field(ge=1, le=36_500)

    @model_validator(mode="after")
    def _known_kind(self) -> RetentionRule:
        if self.kind not in PURGEABLE:
            raise ValueError(f"kind {self.kind!r} is not a record kind; use one of "
                             + ", ".join(sorted(PURGEABLE)))
        return self

    def fits(self, kind: str, handling: str | None) -> bool:
        return kind == self.kind and (not self.handling or handling in self.handling)


class RetentionPolicy(BaseModel):
    """The rules, first fit wins."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RetentionRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _personal_data_shortest(self) -> RetentionPolicy:
        events = [r.days for r in self.rules if r.kind == "event"]
        personal = [r.days for r in self.rules if r.kind == "personal_data"]
        if events and not personal:
            raise ValueError("events have a retention period but personal data has none: "
                             "add a personal_data rule no longer than the events'")
        if events and personal and max(personal) > min(events):
            raise ValueError(f"personal data kept {max(personal)} days would outlive events "
                             f"kept {min(events)} days: keep personal data shortest")
        return self

    def rule_for(self, kind: str, handling: str | None) -> tuple[int, RetentionRule] | None:
        """The first rule that fits, with its place in the list (for the proof)."""
        for index, rule in enumerate(self.rules):
            if rule.fits(kind, handling):
                return index, rule
        return None

    def kinds(self) -> set[str]:
        return {r.kind for r in self.rules}


def load_policy(path: Path) -> RetentionPolicy:
    """A policy file (YAML or JSON); raises :class:`RetentionError` naming what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RetentionError(f"{path}: {exc}") from exc
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                             for e in exc.errors())
        raise RetentionError(f"{path}: {problems}") from exc


# --------------------------------------------------------------------------- legal holds


@dataclass(frozen=True)
class Hold:
    """A legal hold: what it covers, why, by whom, and whether it was released."""

    id: str
    scope: str
    value: str
    reason: str
    held_by: str
    held_at: int
    released_by: str | None = None
    released_at: int | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


def add_hold(engine: sa.Engine, scope: str, value: str, reason: str, by: str) -> Hold:
    """Hold an event (its id), a border section (its id) or a kind from the purge."""
    if scope not in HOLD_SCOPES:
        raise RetentionError(f"a hold covers one of {', '.join(HOLD_SCOPES)}, not {scope!r}")
    if scope == "kind" and value not in PURGEABLE:
        raise RetentionError(f"{value!r} is not a record kind")
    if not value.strip() or not reason.strip():
        raise RetentionError("a hold needs what it covers and the reason (a case, an order)")
    hold = Hold(str(uuid.uuid4()), scope, value.strip(), reason.strip(), by, now_micros())
    with write_transaction(engine) as conn:
        conn.execute(schema.legal_holds.insert().values(
            id=hold.id, scope=scope, value=hold.value, reason=hold.reason, held_by=by,
            held_at=hold.held_at))
    audit.record(engine, by, AuditAction.legal_hold, f"{scope}:{hold.value}",
                 {"hold": hold.id, "reason": hold.reason})
    return hold


def release_hold(engine: sa.Engine, hold_id: str, by: str) -> Hold:
    """End a hold; what it covered is purged at the next pass when its time is past."""
    t = schema.legal_holds
    with write_transaction(engine) as conn:
        row = conn.execute(sa.select(t).where(t.c.id == hold_id)).first()
        if row is None:
            raise RetentionError(f"no legal hold {hold_id}")
        if row.released_at is not None:
            raise RetentionError(f"legal hold {hold_id} was released already")
        conn.execute(t.update().where(t.c.id == hold_id)
                     .values(released_by=by, released_at=now_micros()))
    audit.record(engine, by, AuditAction.legal_hold_released, f"{row.scope}:{row.value}",
                 {"hold": hold_id})
    return _holds(engine, hold_id)[0]


def _holds(engine: sa.Engine, hold_id: str | None = None) -> list[Hold]:
    t = schema.legal_holds
    query = sa.select(t).order_by(t.c.held_at)
    if hold_id is not None:
        query = query.where(t.c.id == hold_id)
    with engine.connect() as conn:
        return [Hold(r.id, r.scope, r.value, r.reason, r.held_by, r.held_at, r.released_by,
                     r.released_at) for r in conn.execute(query)]


def list_holds(engine: sa.Engine, *, active_only: bool = False) -> list[Hold]:
    """Every legal hold, oldest first (or only those in force)."""
    return [h for h in _holds(engine) if h.active or not active_only]


# --------------------------------------------------------------------------- the purge


@dataclass(frozen=True)
class Expired:
    """A record past its rule's time: what it is and which rule says so."""

    kind: str
    id: str
    version: int
    rule: int


@dataclass
class PurgeReport:
    """What a purge removed (or, dry, would remove), with its proof."""

    counts: dict[str, int] = field(default_factory=dict)
    held: int = 0
    dry_run: bool = False
    proof: dict[str, Any] = field(default_factory=dict)
    signature: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _covered(holds: Sequence[Hold], kind: str, record_id: str, event_id: str | None,
             section: str | None) -> bool:
    for h in holds:
        if (h.scope == "kind" and h.value == kind) or (
                h.scope == "event" and h.value in (record_id, event_id)) or (
                h.scope == "section" and section is not None and h.value == section):
            return True
    return False


def _oldest_cutoff(policy: RetentionPolicy, kind: str, now: datetime) -> int:
    """Nothing newer than the kind's shortest period can be due by any of its rules."""
    shortest = min(r.days for r in policy.rules if r.kind == kind)
    return to_micros(now - timedelta(days=shortest))


def expired(engine: sa.Engine, node_id: str, policy: RetentionPolicy, now: datetime,
            holds: Sequence[Hold] = ()) -> tuple[list[Expired], int]:
    """This node's records past their rule's time, and how many a legal hold kept."""
    found: list[Expired] = []
    kept = 0
    e, p, r = schema.events, schema.personal_data, schema.records
    with engine.connect() as conn:
        for kind in sorted(policy.kinds()):
            # Only what is older than the kind's shortest period can be due at all.
            cutoff = _oldest_cutoff(policy, kind, now)
            if kind == "event":
                rows: Iterable[Any] = conn.execute(
                    sa.select(e.c.id, e.c.version, e.c.handling, e.c.occurred_at.label("at"),
                              e.c.section_id, e.c.id.label("event_id"))
                    .where(e.c.origin == node_id, e.c.occurred_at < cutoff))
            elif kind == "personal_data":
                rows = conn.execute(
                    sa.select(p.c.id, p.c.version, e.c.handling, e.c.occurred_at.label("at"),
                              e.c.section_id, p.c.event_id)
                    .join(e, e.c.id == p.c.event_id)
                    .where(p.c.origin == node_id, e.c.occurred_at < cutoff))
            else:
                rows = [_record_row(row) for row in conn.execute(
                    sa.select(r.c.id, r.c.version, r.c.body, r.c.recorded_at.label("at"),
                              r.c.subject)
                    .where(r.c.kind == kind, r.c.origin == node_id, r.c.recorded_at < cutoff))]
            for row in rows:
                fitting = policy.rule_for(kind, row.handling)
                if fitting is None:
                    continue
                index, rule = fitting
                if row.at >= to_micros(now - timedelta(days=rule.days)):
                    continue
                if _covered(holds, kind, row.id, row.event_id, row.section_id):
                    kept += 1
                    continue
                found.append(Expired(kind, row.id, row.version, index))
    return found, kept


@dataclass(frozen=True)
class _Row:
    id: str
    version: int
    handling: str | None
    at: int
    section_id: str | None
    event_id: str | None


def _record_row(row: Any) -> _Row:
    body = orjson.loads(row.body)
    return _Row(row.id, row.version, body.get("handling"), row.at,
                body.get("section_id") or row.subject, body.get("event_id"))


def _proof(node_id: str, policy: RetentionPolicy, removed: Sequence[Expired],
           now: datetime) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for item in removed:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    listing = "\n".join(sorted(f"{x.kind}:{x.id}:{x.version}" for x in removed))
    return {
        "node": node_id,
        "at": iso(now),
        "counts": counts,
        "ids_sha256": hashlib.sha256(listing.encode()).hexdigest(),
        "rules": [rule.model_dump(mode="json") for rule in policy.rules],
        "by_rule": {str(i): sum(1 for x in removed if x.rule == i)
                    for i in sorted({x.rule for x in removed})},
    }


def purge(engine: sa.Engine, node_id: str, policy: RetentionPolicy, *, now: datetime,
          identity: NodeIdentity | None = None, dry_run: bool = False,
          by: str = "system") -> PurgeReport:
    """Remove this node's records past their time (not those under a legal hold), tell the
    linked nodes that hold them, and write the signed proof to the audit trail.

    With ``dry_run`` nothing is removed or written; the report says what would go.
    """
    holds = list_holds(engine, active_only=True)
    due, kept = expired(engine, node_id, policy, now, holds)
    report = PurgeReport(held=kept, dry_run=dry_run)
    for item in due:
        report.counts[item.kind] = report.counts.get(item.kind, 0) + 1
    report.proof = _proof(node_id, policy, due, now)
    if dry_run or not due:
        return report
    # Personal data first: an event's removal takes its personal data with it.
    ordered = sorted(due, key=lambda x: x.kind != "personal_data")
    for start in range(0, len(ordered), CHUNK):
        retract_records(engine, [
            Withdrawal(x.kind, node_id, x.id, x.version,
                       f"retention: rule {x.rule + 1} ({x.kind}, "
                       f"{policy.rules[x.rule].days} days)", [])
            for x in ordered[start:start + CHUNK]])
    if identity is not None:
        canonical = orjson.dumps(report.proof, option=orjson.OPT_SORT_KEYS)
        report.signature = b64url(identity.sign(canonical))
    audit.record(engine, by, AuditAction.purge, "retention",
                 {**report.proof, "signature": report.signature,
                  "key": identity.public_key_text if identity else None})
    return report


# --------------------------------------------------------------------------- the schedule

#: Where the keeper notes when it last purged (microseconds), shared by every process.
LAST_PURGE = "retention:last_purge_us"
DAY_US = 86_400 * 1_000_000


@dataclass
class RetentionKeeper(LeasedLoop):
    """Purges once a day, in the one process that holds its lease."""

    LEASE: ClassVar[str] = "retention"
    engine: sa.Engine
    node_id: str
    policy: RetentionPolicy
    identity: NodeIdentity | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    poll_s: float = 600.0
    holder: str = field(default_factory=lambda: f"retention:{uuid.uuid4()}")

    def work(self, moment: float) -> bool:
        now = self.clock()
        last = read_cursor(self.engine, LAST_PURGE)
        if last is not None and to_micros(now) - last < DAY_US:
            return False
        purge(self.engine, self.node_id, self.policy, now=now, identity=self.identity)
        move_cursor(self.engine, LAST_PURGE, to_micros(now))
        return False
