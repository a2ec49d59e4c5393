"""Online backups of a node's database and their restore (docs/backup.md).

A backup is a directory: the database (``sitcen.db``, a page copy made with SQLite's
online backup API, or ``sitcen.pgdump``, ``pg_dump``'s custom format taken in one
snapshot), the node's identity directory when asked for, and ``manifest.json`` naming
the node, the journal position and epoch the copy holds, the schema it has and the
SHA-256 of every file. Both are taken while the node serves: SQLite's copy reads one
consistent state while writers go on (WAL), ``pg_dump`` reads an exported snapshot in
which the manifest's position was read too.

A restore checks the manifest and the checksums, refuses another node's backup unless
told, and a backup from a newer schema than this code knows; what the restored node
must then do before it serves is in :mod:`sitcen.store.epochs`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404: pg_dump and pg_restore, with argument lists
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sitcen import __version__
from sitcen.store import migrations, schema
from sitcen.store.epochs import current_epoch
from sitcen.store.journal import last_position
from sitcen.store.migrations import applied, schema_version

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "sitcen.db"
PG_FILE = "sitcen.pgdump"
IDENTITY_DIR = "identity"

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup that cannot be made, read or restored; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it as ``manifest.json``."""

    format: int
    node_id: str
    backend: str
    created_at: str
    journal_position: int
    epoch: int
    schema_version: str
    migrations: list[str]
    sitcen_version: str
    #: Every file of the backup (relative path -> SHA-256), the database first.
    files: dict[str, str]
    database_file: str
    database_bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON data."""
        return asdict(self)


def _sha256(path: Path) -> str:
    """The file's SHA-256, read without keeping it in the page cache (a backup is read once;
    the serving node's pages should stay)."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            done += len(block)
            if hasattr(os, "posix_fadvise") and done % (64 << 20) == 0:
                os.posix_fadvise(f.fileno(), 0, done, os.POSIX_FADV_DONTNEED)
    return digest.hexdigest()


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program (PATH, else Debian's versioned directory)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if versions:
        return str(versions[-1])
    raise BackupError(f"{name} not found: install PostgreSQL's client programs "
                      "(Debian: apt-get install postgresql-client)")


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for a SQLAlchemy URL, the password in the environment
    (never on a command line that others can list)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(engine: sa.Engine) -> Path:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(path)


def _state(conn: sa.Connection) -> tuple[int, int, list[str]]:
    return last_position(conn), current_epoch(conn), applied(conn)


def backup(engine: sa.Engine, node_id: str, target: Path, *, identity_dir: Path | None = None,
           progress: Progress | None = None, max_rate: float | None = None) -> Manifest:
    """Back up the node's database into the new directory ``target`` while it serves.

    ``identity_dir``: also copy the node's identity (its private key: keep the backup as
    safe as the node). ``max_rate``: bytes a second the copy of a SQLite file may read
    at most (None: no limit), so a large copy leaves the disk to the serving node. Returns
    the manifest, also written as ``target/manifest.json``.
    """
    say = progress or (lambda _text: None)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} exists and is not empty; name a new directory")
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    started = time.monotonic()
    backend = engine.dialect.name
    if backend == "sqlite":
        database_file = SQLITE_FILE
        position, epoch, done = _backup_sqlite(_sqlite_path(engine), target / SQLITE_FILE, say,
                                                   max_rate)
    elif backend == "postgresql":
        database_file = PG_FILE
        position, epoch, done = _backup_postgresql(engine, target / PG_FILE, say)
    else:
        raise BackupError(f"no backup for a {backend} database")
    files = {database_file: _sha256(target / database_file)}
    if identity_dir is not None and identity_dir.is_dir():
        copied = target / IDENTITY_DIR
        shutil.copytree(identity_dir, copied)
        for path in sorted(copied.iterdir()):
            files[f"{IDENTITY_DIR}/{path.name}"] = _sha256(path)
    manifest = Manifest(
        format=FORMAT, node_id=node_id, backend=backend,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        journal_position=position, epoch=epoch, schema_version=schema_version(),
        migrations=done, sitcen_version=__version__, files=files,
        database_file=database_file, database_bytes=(target / database_file).stat().st_size,
        seconds=round(time.monotonic() - started, 3))
    (target / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    say(f"backup of {node_id} at journal position {position} written to {target}")
    return manifest


class WriteBehind:
    """Keeps a large copy from crowding out the serving node while it is written: every
    ``every`` seconds the file's written pages are flushed to disk and dropped from the
    page cache. Left alone, gigabytes of the copy's dirty pages make the kernel throttle
    every writer on the machine (the node's write-ahead log too) and push the node's own
    pages out of memory. Linux only (``posix_fadvise``); elsewhere it does nothing."""

    def __init__(self, path: Path, every: float = 0.5) -> None:
        self.path, self.every = path, every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sitcen-write-behind",
                                        daemon=True)

    def start(self) -> None:
        if hasattr(os, "posix_fadvise"):
            self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.every):
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


class Pacer:
    """Holds a copy to ``max_rate`` bytes a second (None: as fast as it goes) and says how
    far it has come every tenth of the way. Called after each step of the copy."""

    def __init__(self, page_size: int, max_rate: float | None, say: Progress, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.page_size, self.max_rate, self.say = page_size, max_rate, say
        self.clock, self.sleep = clock, sleep
        self.started = clock()
        self._told = 0

    def pages_per_step(self) -> int:
        """About a quarter of a second's worth at the rate (or 64 MiB), in pages."""
        budget = self.max_rate / 4 if self.max_rate else 64 * 2**20
        return max(1, int(budget // self.page_size))

    def __call__(self, _status: int, remaining: int, total: int) -> None:
        done = total - remaining
        tenth = done * 10 // total if total else 10
        if tenth > self._told:
            self._told = tenth
            elapsed = self.clock() - self.started
            self.say(f"copied {tenth * 10} % ({done * self.page_size / 1e6:,.0f} MB) "
                     f"in {elapsed:.0f} s")
        if self.max_rate:
            due = self.started + done * self.page_size / self.max_rate
            self.sleep(max(0.0, due - self.clock()))


def _backup_sqlite(source: Path, copy: Path, say: Progress,
                   max_rate: float | None = None) -> tuple[int, int, list[str]]:
    rate = f", at most {max_rate / 1e6:.0f} MB/s" if max_rate else ""
    say(f"copying {source} ({source.stat().st_size / 1e6:.1f} MB) with SQLite's backup "
        f"API{rate}")
    partial = copy.with_suffix(".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    dst = sqlite3.connect(partial)
    behind = WriteBehind(partial)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        # The partial file is thrown away unless the copy ends, and is flushed to disk once
        # at the end: no rollback journal, no flush at every step.
        dst.execute("PRAGMA journal_mode=OFF")
        dst.execute("PRAGMA synchronous=OFF")
        # The copy goes step by step inside one read transaction of its own: the steps all
        # read the snapshot that transaction began with, while the node's writers go on in
        # the write-ahead log. (Steps without it start over after every write of another
        # connection, which under steady ingest never ends.) Between steps the copy can
        # wait, which is what keeps it to its rate.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        pacer = Pacer(src.execute("PRAGMA page_size").fetchone()[0], max_rate, say)
        behind.start()
        src.backup(dst, pages=pacer.pages_per_step(), progress=pacer)
        src.execute("COMMIT")
    finally:
        behind.stop()
        dst.close()
        src.close()
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.rename(copy)
    engine = sa.create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as conn:
            return _state(conn)
    finally:
        engine.dispose()


def _backup_postgresql(engine: sa.Engine, copy: Path, say: Progress
                       ) -> tuple[int, int, list[str]]:
    dsn, env = _libpq(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the very snapshot the position was read in: the manifest says
            # exactly what the dump holds.
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            state = _state(conn)
            say(f"dumping with pg_dump (snapshot {snapshot})")
            done = subprocess.run(  # nosec B603: an argument list, no shell
                [pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
                 "--no-owner", "--no-privileges", f"--file={copy}", dsn],
                env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:2000]}")
    return state


def read_manifest(source: Path) -> Manifest:
    """The manifest of the backup in ``source``, checked for shape (not for checksums)."""
    try:
        data = json.loads((source / MANIFEST).read_text())
        manifest = Manifest(**data)
    except FileNotFoundError:
        raise BackupError(f"{source} holds no {MANIFEST}: not a sitcen backup") from None
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{source / MANIFEST} is not a backup manifest: {exc}") from None
    if manifest.format != FORMAT:
        raise BackupError(f"backup format {manifest.format} is not known to this sitcen "
                          f"(it reads format {FORMAT})")
    return manifest


def verify(source: Path) -> Manifest:
    """The manifest, after checking every file of the backup against its checksum."""
    manifest = read_manifest(source)
    for name, expected in manifest.files.items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if _sha256(path) != expected:
            raise BackupError(f"{path} does not match its checksum in the manifest: the backup "
                              "is damaged")
    return manifest


def restore(source: Path, database_url: str, *, node_id: str, other_node: bool = False,
            replace: bool = False, progress: Progress | None = None) -> Manifest:
    """Put the backup in ``source`` in place as the database at ``database_url``.

    Refuses a damaged backup, another node's (unless ``other_node``), one from a newer
    schema than this code's, and a database that holds data (unless ``replace``: a
    SQLite file is kept beside as ``.before-restore``, a PostgreSQL database's tables
    are dropped). The caller then opens the database (migrations bring an older
    schema up to date) and begins a new epoch.
    """
    say = progress or (lambda _text: None)
    manifest = verify(source)
    if manifest.node_id != node_id and not other_node:
        raise BackupError(f"the backup is of node {manifest.node_id!r}, this is {node_id!r}; "
                          "restore another node's backup only on purpose (--other-node)")
    newer = migrations.unknown(manifest.migrations)  # former names are known
    if newer:
        raise BackupError(f"the backup has a newer schema than this sitcen knows "
                          f"({', '.join(newer)}); restore it with sitcen "
                          f"{manifest.sitcen_version} or newer")
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if manifest.backend != "sqlite":
            raise BackupError("a PostgreSQL backup restores into PostgreSQL")
        _restore_sqlite(source / manifest.database_file, Path(str(url.database)), replace, say)
    elif url.get_backend_name() == "postgresql":
        if manifest.backend != "postgresql":
            raise BackupError("a SQLite backup restores into SQLite")
        _restore_postgresql(source / manifest.database_file, url, replace, say)
    else:
        raise BackupError(f"no restore into a {url.get_backend_name()} database")
    say(f"restored {manifest.node_id} at journal position {manifest.journal_position} "
        f"(backup of {manifest.created_at})")
    return manifest


def _restore_sqlite(copy: Path, path: Path, replace: bool, say: Progress) -> None:
    if path.exists() and path.stat().st_size > 0:
        if not replace:
            raise BackupError(f"{path} exists; stop the node and restore with --replace "
                              "(the current file is kept beside it)")
        kept = path.with_name(f"{path.name}.before-restore")
        say(f"keeping the current database as {kept}")
        os.replace(path, kept)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, kept.with_name(kept.name + suffix))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".restoring")
    shutil.copyfile(copy, partial)
    os.replace(partial, path)


def _restore_postgresql(dump: Path, url: sa.URL, replace: bool, say: Progress) -> None:
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            tables = sa.inspect(conn).get_table_names()
            if tables and not replace:
                raise BackupError(f"database {url.database} holds {len(tables)} tables; stop "
                                  "the node and restore with --replace, or into an empty "
                                  "database")
            if tables:
                say(f"dropping the {len(tables)} tables of {url.database}")
                schema.metadata.drop_all(conn)
                for name in sa.inspect(conn).get_table_names():
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    finally:
        engine.dispose()
    dsn, env = _libpq(url)
    say("restoring with pg_restore")
    done = subprocess.run(  # nosec B603: an argument list, no shell
        [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={dsn}", str(dump)], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:2000]}")
