"""The audit trail: an append-only, hash-chained log of who did what on whose authority.

Each entry names the person (or ``cli``, or ``system``), the action, what it
was done to, and details (the purpose of a personal-data read, the address of
a login, the figures of an import). Entries are numbered without gaps, and
each carries the SHA-256 of its own content chained to the previous entry's
hash, so changing, removing or reordering an entry breaks the chain from that
point on: :func:`verify` (and ``sitcen audit verify``) finds it. An export is
the entries with their hashes as JSON lines, which an inspector verifies with
the same function without access to the node (:func:`verify_entries`).

The trail is local to the node, never replicated, and kept apart from the
journal: it records reads and refusals as well as changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros, write_transaction

#: The hash the first entry follows.
GENESIS = "0" * 64
#: Rows read at a time when verifying or exporting.
_PAGE = 10_000


class AuditAction(StrEnum):
    """What an audit entry records."""

    login = "login"
    login_failed = "login_failed"
    login_throttled = "login_throttled"
    logout = "logout"
    session_revoked = "session_revoked"
    password_changed = "password_changed"
    second_factor_set = "second_factor_set"
    second_factor_removed = "second_factor_removed"
    second_factor_reset = "second_factor_reset"
    user_created = "user_created"
    user_changed = "user_changed"
    user_deleted = "user_deleted"
    password_reset = "password_reset"
    login_unlocked = "login_unlocked"
    personal_data_read = "personal_data_read"
    export = "export"
    import_ = "import"
    agreement_added = "agreement_added"
    peer_added = "peer_added"
    peer_removed = "peer_removed"
    level_confirmed = "level_confirmed"
    purge = "purge"
    legal_hold = "legal_hold"
    legal_hold_released = "legal_hold_released"
    backup = "backup"
    restore = "restore"
    recover = "recover"


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the trail, as stored and as exported."""

    seq: int
    at: int
    actor: str
    action: str
    subject: str
    detail: str  # canonical JSON text, hashed as stored
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as an export line holds it."""
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "subject": self.subject, "detail": self.detail, "prev_hash": self.prev_hash,
                "hash": self.hash}


def entry_hash(prev_hash: str, seq: int, at: int, actor: str, action: str, subject: str,
               detail: str) -> str:
    """The SHA-256 (hex) chaining an entry's content to the one before it."""
    content = orjson.dumps([prev_hash, seq, at, actor, action, subject, detail])
    return hashlib.sha256(content).hexdigest()


def _canonical(detail: Mapping[str, Any] | None) -> str:
    return orjson.dumps(dict(detail or {}), option=orjson.OPT_SORT_KEYS).decode()


def record(engine: sa.Engine, actor: str, action: AuditAction, subject: str = "",
           detail: Mapping[str, Any] | None = None, *, now_us: int | None = None) -> int:
    """Append an entry; its number. Every app process of a node appends to one chain."""
    at = now_micros() if now_us is None else now_us
    text = _canonical(detail)
    t = schema.audit_log
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # One appender at a time across processes: the chain has no forks.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301002)"))
        last = conn.execute(sa.select(t.c.seq, t.c.hash).order_by(t.c.seq.desc())
                            .limit(1)).first()
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        digest = entry_hash(prev, seq, at, actor[:64], str(action), subject[:200], text)
        conn.execute(t.insert().values(seq=seq, at=at, actor=actor[:64], action=str(action),
                                       subject=subject[:200], detail=text, prev_hash=prev,
                                       hash=digest))
    return seq


def _rows(engine: sa.Engine, query: sa.Select[Any]) -> Iterator[AuditEntry]:
    t = schema.audit_log
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query.where(t.c.seq > after).order_by(t.c.seq)
                                .limit(_PAGE)).all()
        for r in rows:
            yield AuditEntry(r.seq, r.at, r.actor, r.action, r.subject, r.detail, r.prev_hash,
                             r.hash)
        if len(rows) < _PAGE:
            return
        after = rows[-1].seq


def entries(engine: sa.Engine, *, actor: str | None = None, action: str | None = None,
            since_us: int | None = None, until_us: int | None = None,
            after_seq: int = 0) -> Iterator[AuditEntry]:
    """Entries in order, filtered; read a page at a time."""
    t = schema.audit_log
    query = sa.select(t).where(t.c.seq > after_seq)
    if actor is not None:
        query = query.where(t.c.actor == actor)
    if action is not None:
        query = query.where(t.c.action == action)
    if since_us is not None:
        query = query.where(t.c.at >= since_us)
    if until_us is not None:
        query = query.where(t.c.at < until_us)
    return _rows(engine, query)


@dataclass
class AuditCheck:
    """What verifying a trail found."""

    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_rows(rows: Iterable[Sequence[Any]], check: AuditCheck, expected_seq: int,
                prev: str, progress: Callable[[int], None] | None) -> tuple[int, str]:
    """Walk (seq, at, actor, action, subject, detail, prev_hash, hash) tuples in order."""
    sha256, dumps, problems = hashlib.sha256, orjson.dumps, check.problems
    for seq, at, actor, action, subject, detail, prev_hash, digest in rows:
        if (seq != expected_seq or prev_hash != prev or sha256(dumps(
                [prev_hash, seq, at, actor, action, subject, detail])).hexdigest() != digest
                ) and len(problems) < 100:
            _name_problems(problems, seq, expected_seq, prev_hash, prev,
                               entry_hash(str(prev_hash), int(seq), int(at), str(actor),
                                          str(action), str(subject), str(detail)) == digest)
        prev, expected_seq = digest, seq + 1
        check.entries += 1
        if progress is not None and check.entries % 100_000 == 0:
            progress(check.entries)
    return expected_seq, prev


def _name_problems(problems: list[str], seq: int, expected_seq: int, prev_hash: str,
                   prev: str, content_ok: bool) -> None:
    if seq > expected_seq:
        problems.append(f"entry {expected_seq} is missing" if seq == expected_seq + 1 else
                        f"entries {expected_seq} to {seq - 1} are missing")
    elif seq < expected_seq:
        problems.append(f"entry {seq} comes after entry {expected_seq - 1} "
                        "(reordered or repeated)")
    if prev_hash != prev:
        problems.append(f"entry {seq} does not follow the entry before it "
                        "(one was removed, changed or reordered)")
    if not content_ok:
        problems.append(f"entry {seq} was changed after it was written")


_FIELDS = ("seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash")


def verify_entries(rows: Iterable[Mapping[str, Any] | AuditEntry], *,
                   progress: Callable[[int], None] | None = None) -> AuditCheck:
    """Check a trail (an export's entries, or entries read back) from its first entry.

    Finds entries changed after they were written (their hash no longer
    matches their content), removed (a gap in the numbers, or the next entry
    no longer follows its predecessor's hash) and reordered.
    """
    check = AuditCheck()

    def tuples() -> Iterator[tuple[Any, ...]]:
        for raw in rows:
            e = raw.as_dict() if isinstance(raw, AuditEntry) else raw
            yield tuple(e[k] for k in _FIELDS)

    _, check.head = _check_rows(tuples(), check, 1, GENESIS, progress)
    return check


def verify(engine: sa.Engine, *, progress: Callable[[int], None] | None = None) -> AuditCheck:
    """Check the node's whole trail (see :func:`verify_entries`), a page at a time."""
    t = schema.audit_log
    check = AuditCheck()
    expected_seq, prev, after = 1, GENESIS, 0
    columns = [t.c[name] for name in _FIELDS]
    while True:
        with engine.connect() as conn:
            page = conn.execute(sa.select(*columns).where(t.c.seq > after).order_by(t.c.seq)
                                .limit(_PAGE * 10)).all()
        expected_seq, prev = _check_rows(page, check, expected_seq, prev, progress)
        if len(page) < _PAGE * 10:
            break
        after = page[-1][0]
    check.head = prev
    return check


def head(engine: sa.Engine) -> tuple[int, str]:
    """The last entry's number and hash: (0, GENESIS) for an empty trail."""
    t = schema.audit_log
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


def check_anchors(engine: sa.Engine, anchors: Iterable[Mapping[str, Any]]) -> list[str]:
    """Problems found comparing the trail with anchors (``seq`` and ``hash`` of an entry
    as it was when anchored, e.g. copies peers hold): an entry missing or different."""
    t = schema.audit_log
    wanted = {int(a["seq"]): str(a["hash"]) for a in anchors}
    problems: list[str] = []
    seqs = sorted(wanted)
    for start in range(0, len(seqs), 1000):
        chunk = seqs[start:start + 1000]
        with engine.connect() as conn:
            found = {int(seq): str(digest) for seq, digest in conn.execute(
                sa.select(t.c.seq, t.c.hash).where(t.c.seq.in_(chunk)))}
        for seq in chunk:
            if seq not in found:
                problems.append(f"entry {seq} was anchored but is missing")
            elif found[seq] != wanted[seq]:
                problems.append(f"entry {seq} differs from its anchor: the trail up to it "
                                "was rewritten")
    return problems


def export_lines(engine: sa.Engine, **filters: Any) -> Iterator[bytes]:
    """The entries (with their hashes) as JSON lines, for an inspector."""
    for entry in entries(engine, **filters):
        yield orjson.dumps(entry.as_dict()) + b"\n"
