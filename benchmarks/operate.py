"""Operating a node: an online backup of a large SQLite node while ingest goes on, and its restore.

1. The node database of N scenario events (default 10 million) that ``query.py`` builds
   and keeps (the same file, reused when it exists), copied to a scratch directory.
2. ``sitcen serve`` on the copy; one client posts batches of 1,000 events through the
   API without pause. Ingest is measured over a window before the backup.
3. ``sitcen backup`` (its own process, as an administrator runs it, at its default low
   priority) while the client goes
   on: the backup's seconds, and the ingest rate while it ran. The slowdown is
   ``1 - rate during / rate before``.
4. The server stopped, ``sitcen restore`` of that backup into a new data directory: its
   seconds (checksums checked, the file copied in, migrations checked, a new journal
   epoch begun).

Last stdout line: ``{"events": N, "database_gb": ..., "backup_s": ...,
"ingest_per_s_before": ..., "ingest_per_s_during": ..., "ingest_slowdown": ...,
"restore_s": ...}``.

The backup's seconds are its own (from its manifest), without the start of the Python
process that runs it (``backup_command_s`` has the whole command).

    python benchmarks/operate.py [--events 10000000] [--window 30] [--max-rate MB/S] [--smoke]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import DATA_DIR, NODE_ID, api_server, emit, log, parse_args, temp_dir
from ingest import scenario_payloads, serialise
from query import sqlite_data

from sitcen.cli.backup import LOW_PRIORITY_RATE
from sitcen.testing import clean_environment


class Ingest:
    """A client posting batches without pause; the end time and size of every batch."""

    def __init__(self, base_url: str, headers: dict[str, str], bodies: Sequence[bytes]) -> None:
        self.base_url, self.headers, self.bodies = base_url, headers, bodies
        self.done: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {**self.headers, "Content-Type": "application/json"}
        with httpx.Client(base_url=self.base_url, timeout=600) as client:
            i = 0
            while not self.stop.is_set():
                answer = client.post("/api/v1/events/batch", content=self.bodies[i % len(
                    self.bodies)], headers=headers)
                if answer.status_code != 201:
                    self.error = f"{answer.status_code} {answer.text[:500]}"
                    return
                self.done.append((time.perf_counter(), int(answer.json()["written"])))
                i += 1

    def rate(self, start: float, end: float) -> float:
        """Events per second written by batches that ended between ``start`` and ``end``."""
        events = sum(n for t, n in self.done if start < t <= end)
        return events / (end - start) if end > start else 0.0

    def wait_for_batches(self, count: int) -> None:
        """Wait until ``count`` batches more than now have been written."""
        target = len(self.done) + count
        while len(self.done) < target:
            if self.error or not self.thread.is_alive():
                raise SystemExit(f"ingest stopped: {self.error}")
            time.sleep(0.05)


def backup_in_process_of_its_own(env: dict[str, str], target: Path,
                                 options: Sequence[str] = ()) -> tuple[float, float]:
    """Run ``sitcen backup`` as an administrator would, beside the serving node; the
    seconds the backup itself took (from its manifest: without starting Python) and the
    seconds of the whole command."""
    from sitcen.store.backup import read_manifest

    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sitcen.cli", "backup", *options, str(target)],
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"sitcen backup failed: {done.stdout}{done.stderr}")
    log(f"sitcen backup: {done.stdout.strip()} (the command took {seconds:.1f} s)")
    return read_manifest(target).seconds, seconds


#: Room asked beyond the copies: the node's own writes outside the log.
SPARE_BYTES = 2 * 10**9


def _check_room(source: Path, work: Path) -> None:
    """Refuse at once, saying why, when the disk cannot hold what the run writes.

    A 10 M-event node is 15 GB. The served copy and the backup live at the same
    time (the restore comes after the served copy is deleted), and the node's
    write-ahead log grows while the backup holds its snapshot: the ingest meanwhile
    writes whole index pages, over 10 GB of log in five minutes on such a node.
    Found out half-way, a full disk costs the copy and the time already spent.
    """
    needed = 3 * source.stat().st_size + SPARE_BYTES
    free = shutil.disk_usage(work).free
    if free < needed:
        raise SystemExit(f"operate needs {needed / 1e9:.1f} GB free in {work} (the served "
                         f"copy of {source.name}, its backup and the log the ingest writes "
                         f"meanwhile), has {free / 1e9:.1f} GB: free some space or point "
                         f"TMPDIR at a larger disk")


def restore_seconds(backup: Path, directory: Path) -> float:
    """Restore the backup into a new SQLite file as ``sitcen restore`` does (checksums, the
    file copied in, migrations checked, a new epoch begun); its seconds."""
    from sitcen.store.backup import restore
    from sitcen.store.engine import open_engine
    from sitcen.store.epochs import begin_epoch

    url = f"sqlite:///{directory / 'sitcen.db'}"
    t0 = time.perf_counter()
    manifest = restore(backup, url, node_id=NODE_ID, progress=log)
    engine = open_engine(url)
    try:
        begin_epoch(engine, NODE_ID, manifest.to_dict())
    finally:
        engine.dispose()
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--window", type=float, default=30.0,
                        help="seconds of ingest measured before the backup")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-rate", type=float, default=None, metavar="MB/S",
                        help="passed to sitcen backup (default: the command's own)")
    args = parse_args(parser, argv, smoke={"events": 20_000, "window": 3.0})

    source = sqlite_data(args.events, args.seed, DATA_DIR)
    payloads = scenario_payloads(20_000, args.seed + 1)
    bodies = serialise(payloads, 1_000)
    with temp_dir() as work:
        _check_room(source, work)
        node_dir = work / "node"
        node_dir.mkdir()
        database = node_dir / "sitcen.db"
        t0 = time.perf_counter()
        shutil.copyfile(source, database)
        size_gb = database.stat().st_size / 1e9
        log(f"copied {size_gb:.2f} GB to {database} in {time.perf_counter() - t0:.0f} s")
        url = f"sqlite:///{database}"
        # The backup command's environment: the node's settings, as its administrator has them.
        env = clean_environment(SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(node_dir),
                                SITCEN_DATABASE_URL=url, SITCEN_NODE_ID=NODE_ID,
                                SITCEN_NODE_COUNTRY="TJ")
        with api_server(url, node_dir) as server:
            ingest = Ingest(server.base_url, server.headers, bodies)
            ingest.thread.start()
            ingest.wait_for_batches(3)  # warmed up
            start = time.perf_counter()
            time.sleep(args.window)  # a measuring window: ingest runs meanwhile
            before = ingest.rate(start, time.perf_counter())
            options = [] if args.max_rate is None else ["--max-rate", f"{args.max_rate:g}"]
            backup_s, command_s = backup_in_process_of_its_own(env, work / "backup", options)
            end = time.perf_counter()
            during = ingest.rate(end - backup_s, end)
            ingest.stop.set()
            ingest.thread.join(timeout=600)
            if ingest.error:
                raise SystemExit(f"ingest failed: {ingest.error}")
        log(f"ingest {before:,.0f} events/s before the backup, {during:,.0f} during it")
        # The served copy is done with: the disk holds the cached file, the backup and the
        # restore (three copies of a 15 GB file, not four).
        shutil.rmtree(node_dir)
        restore_s = restore_seconds(work / "backup", work / "restored")
        log(f"restore: {restore_s:.1f} s")
    emit({"events": args.events, "database_gb": round(size_gb, 2),
          "backup_s": round(backup_s, 2), "ingest_per_s_before": round(before),
          "ingest_per_s_during": round(during),
          "ingest_slowdown": round(1 - during / before, 3) if before else None,
          "backup_command_s": round(command_s, 2),
          "backup_max_rate_mb_s": LOW_PRIORITY_RATE if args.max_rate is None else args.max_rate,
          "restore_s": round(restore_s, 2), "window_s": args.window, "smoke": args.smoke})


if __name__ == "__main__":
    main()
