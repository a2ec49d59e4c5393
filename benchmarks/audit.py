"""Audit trail: verifying a long chain, and what one entry costs beside a raw insert.

1. Build a SQLite node database whose trail holds N entries (default 10 million),
   chained with ``store.audit.entry_hash`` (the node's own function), written in
   chunks of 50,000 rows.
2. Time ``store.audit.verify`` over the whole chain (every hash recomputed).
3. Append ``--appends`` entries one by one through ``store.audit.record`` (one
   transaction each, as a login or a personal-data read writes them), beside the
   same number of one-row INSERT transactions into a plain SQLite table of the
   same shape on the same disk: the ratio is the chain's cost per entry.

Batch ingest writes no audit entry (each version names its person instead), so
the trail does not slow ingest; this script measures the trail's own costs.

Last stdout line: ``{"entries": N, "verify_s": ..., "verify_per_s": ...,
"append_per_s": ..., "raw_append_per_s": ..., "append_ratio": ...}``.

    python benchmarks/audit.py [--entries 10000000] [--appends 2000] [--smoke]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, log, parse_args

from sitcen.store import audit, schema
from sitcen.store.audit import GENESIS, AuditAction, entry_hash
from sitcen.store.engine import open_engine

CHUNK = 50_000
ACTIONS = [str(a) for a in AuditAction]


def build(url: str, n: int) -> float:
    """Write a chain of n entries; the seconds it took."""
    engine = open_engine(url)
    t0 = time.perf_counter()
    prev, at = GENESIS, 1_780_000_000_000_000
    try:
        for lo in range(0, n, CHUNK):
            rows = []
            for seq in range(lo + 1, min(n, lo + CHUNK) + 1):
                actor = f"user-{seq % 97}"
                action = ACTIONS[seq % len(ACTIONS)]
                subject = f"subject-{seq % 1009}"
                detail = f'{{"n":{seq}}}'
                digest = entry_hash(prev, seq, at + seq, actor, action, subject, detail)
                rows.append({"seq": seq, "at": at + seq, "actor": actor, "action": action,
                             "subject": subject, "detail": detail, "prev_hash": prev,
                             "hash": digest})
                prev = digest
            with engine.begin() as conn:
                conn.execute(schema.audit_log.insert(), rows)
            if (lo // CHUNK) % 20 == 0:
                log(f"  {min(n, lo + CHUNK):,}/{n:,} entries ({time.perf_counter() - t0:.0f} s)")
    finally:
        engine.dispose()
    return time.perf_counter() - t0


def time_verify(url: str) -> tuple[float, int]:
    engine = open_engine(url)
    try:
        t0 = time.perf_counter()
        check = audit.verify(engine, progress=lambda done: log(f"  verified {done:,}")
                             if done % 2_000_000 == 0 else None)
        seconds = time.perf_counter() - t0
    finally:
        engine.dispose()
    if not check.ok:
        raise SystemExit(f"the built chain does not verify: {check.problems[:3]}")
    return seconds, check.entries


def time_appends(url: str, n: int) -> float:
    engine = open_engine(url)
    try:
        t0 = time.perf_counter()
        for i in range(n):
            audit.record(engine, "bench-duty", AuditAction.personal_data_read, f"event-{i}",
                         {"purpose": "benchmark"})
        return time.perf_counter() - t0
    finally:
        engine.dispose()


def time_raw_appends(path: Path, n: int) -> float:
    """The same number of one-row INSERT transactions, plain sqlite3, same pragmas as the node
    (WAL, synchronous=NORMAL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, at INTEGER, actor TEXT, "
                 "action TEXT, subject TEXT, detail TEXT, prev_hash TEXT, hash TEXT)")
    try:
        t0 = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (i + 1, i, "bench-duty", "personal_data_read", f"event-{i}",
                          '{"purpose":"benchmark"}', "0" * 64, "f" * 64))
            conn.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--appends", type=int, default=2_000)
    args = parse_args(parser, argv, {"entries": 20_000, "appends": 50})
    with tempfile.TemporaryDirectory(prefix="sitcen-audit-") as tmp:
        url = f"sqlite:///{tmp}/node.db"
        log(f"building a chain of {args.entries:,} entries")
        built_s = build(url, args.entries)
        log(f"built in {built_s:.0f} s; verifying")
        verify_s, verified = time_verify(url)
        log(f"verified {verified:,} entries in {verify_s:.1f} s; {args.appends} appends")
        append_s = time_appends(url, args.appends)
        raw_s = time_raw_appends(Path(tmp) / "raw.db", args.appends)
    result = {
        "entries": verified,
        "verify_s": round(verify_s, 2),
        "verify_per_s": round(verified / verify_s),
        "append_per_s": round(args.appends / append_s),
        "raw_append_per_s": round(args.appends / raw_s),
        "append_ratio": round(append_s / raw_s, 2),
        "build_s": round(built_s, 1),
    }
    log(f"audit: {result}")
    emit(result)


if __name__ == "__main__":
    main()
