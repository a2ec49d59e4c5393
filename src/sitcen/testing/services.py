"""Third-party servers started for a test and thrown away: PostgreSQL and Mosquitto.

:class:`PostgresCluster` (and :func:`postgres_cluster`) runs ``initdb`` and
``pg_ctl`` in a temporary directory (as the ``postgres`` user when run as root),
durability off; :func:`mosquitto` runs Debian's MQTT broker with a password file.
Each listens on a free loopback port.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from sitcen.store.engine import open_engine
from sitcen.testing.serving import free_port, wait_until

#: PostgreSQL settings of a throwaway cluster for tests: durability off, it is thrown away.
FAST_UNSAFE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
               "max_connections": "200"}


@dataclass(frozen=True)
class Broker:
    """A Mosquitto broker serving on localhost."""

    host: str
    port: int


def mosquitto_missing() -> str | None:
    """Why no Mosquitto broker can be started here, or None."""
    if (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()) and \
            shutil.which("mosquitto_passwd"):
        return None
    return "mosquitto (Debian packages mosquitto, mosquitto-clients) is not installed"


@contextlib.contextmanager
def mosquitto(users: Mapping[str, str]) -> Iterator[Broker]:
    """A throwaway Mosquitto (Debian's) on a free port, with these users and no anonymous
    access; stopped and removed afterwards."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    root = Path(tempfile.mkdtemp(prefix="sitcen-mqtt-"))
    passwords = root / "passwd"
    passwords.touch()
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                       capture_output=True)
    port = free_port()
    config = root / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                      f"password_file {passwords}\npersistence false\n"
                      "max_queued_messages 100000\n"
                      + ("user root\n" if os.geteuid() == 0 else ""), encoding="utf-8")
    log = (root / "log").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    try:

        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError("mosquitto did not start: "
                                   + (root / "log").read_text(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, what="mosquitto listening")
        yield Broker("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def postgres_bin_dir() -> None:
    """Put Debian's versioned PostgreSQL bin directory on PATH when ``initdb`` is not there."""
    if shutil.which("initdb"):
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        os.environ["PATH"] = f"{found[-1].parent}{os.pathsep}{os.environ['PATH']}"


def postgres_binaries_missing() -> list[str]:
    """The PostgreSQL server programs not found on PATH (after :func:`postgres_bin_dir`)."""
    postgres_bin_dir()
    return [b for b in ("initdb", "pg_ctl", "postgres") if shutil.which(b) is None]


class PostgresCluster:
    """A throwaway PostgreSQL server on a free loopback port, in its own directory."""

    def __init__(self, root: Path | None = None, settings: Mapping[str, str] | None = None,
                 ) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="sitcen-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = dict(FAST_UNSAFE if settings is None else settings)
        self._as_postgres = os.geteuid() == 0
        self._counter = itertools.count()
        self._migrated: str | None = None  # a database at the latest schema, to copy

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PostgresCluster:
        """initdb and start; returns itself."""
        postgres_bin_dir()
        self.root.chmod(0o755)
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        sync = ["--no-sync"] if self.settings.get("fsync") == "off" else []
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  *sync, "--locale=C")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {k}={v}" for k, v in self.settings.items())
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")
        return self

    def stop(self, *, remove: bool = True) -> None:
        """Stop at once (the data is thrown away) and remove the directory."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> str:
        """The settings it runs with, for a benchmark's log."""
        return ", ".join(f"{k}={v}" for k, v in self.settings.items()) or "defaults"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t", *, migrated: bool = False) -> str:
        """The URL of a new database: empty, or already at the latest schema.

        A migrated one is a copy (``CREATE DATABASE ... TEMPLATE``) of a database this
        cluster migrated once, which is what a fresh node's database looks like after
        :func:`~sitcen.store.engine.open_engine`, at a fraction of the cost of migrating.
        """
        name = f"{prefix}{os.getpid()}_{next(self._counter)}"
        template = ""
        if migrated:
            if self._migrated is None:
                self._migrated = self.new_database("migrated")
                open_engine(self._migrated).dispose()  # no session may stay on a template
            template = f' TEMPLATE "{sa.make_url(self._migrated).database}"'
        self._admin(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database of this cluster, closing what is still connected to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(statement))
        finally:
            admin.dispose()


@contextlib.contextmanager
def postgres_cluster(settings: Mapping[str, str] | None = None) -> Iterator[PostgresCluster]:
    """A started throwaway cluster, stopped and removed afterwards."""
    cluster = PostgresCluster(settings=settings).start()
    try:
        yield cluster
    finally:
        cluster.stop()
