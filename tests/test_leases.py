"""Leases on both backends: one holder at a time, expiry, release, racing processes."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from sitcen.store.journal import now_micros
from sitcen.store.leases import acquire, holder_of, release


def test_one_holder_until_expiry_or_release(engine: sa.Engine) -> None:
    assert acquire(engine, "send:kg-nc", "proc-a", ttl_s=30)
    assert not acquire(engine, "send:kg-nc", "proc-b", ttl_s=30)
    assert acquire(engine, "send:kg-nc", "proc-a", ttl_s=30)  # renewal
    assert holder_of(engine, "send:kg-nc") == "proc-a"
    assert acquire(engine, "send:tj-nc", "proc-b", ttl_s=30)  # another job is free
    release(engine, "send:kg-nc", "proc-b")  # not the holder: no effect
    assert holder_of(engine, "send:kg-nc") == "proc-a"
    release(engine, "send:kg-nc", "proc-a")
    assert holder_of(engine, "send:kg-nc") is None
    start = now_micros()
    assert acquire(engine, "send:kg-nc", "proc-b", ttl_s=0.2, now=start)
    assert holder_of(engine, "send:kg-nc", now=start + 199_999) == "proc-b"
    assert not acquire(engine, "send:kg-nc", "proc-a", ttl_s=30, now=start + 199_999)
    later = start + 200_000  # the lease runs out
    assert holder_of(engine, "send:kg-nc", now=later) is None
    assert acquire(engine, "send:kg-nc", "proc-a", ttl_s=30, now=later)  # expired: taken over
    assert holder_of(engine, "send:kg-nc", now=later) == "proc-a"


_RACER = """
import sys
from sitcen.store.engine import open_engine
from sitcen.store.leases import acquire
engine = open_engine(sys.argv[1])
print(sum(acquire(engine, f"job-{i}", sys.argv[2], ttl_s=60) for i in range(60)))
"""


def test_racing_processes_never_share_a_lease(engine: sa.Engine, database_url: str) -> None:
    racers = [subprocess.Popen([sys.executable, "-c", _RACER, database_url, f"proc-{k}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for k in range(3)]
    won = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        won.append(int(out.strip()))
    assert sum(won) == 60  # every job has exactly one holder
