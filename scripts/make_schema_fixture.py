"""Make the databases of earlier schemas that tests/test_upgrades.py upgrades, with data.

A node's database is as old as the code that created it, and migration 0001 creates
the *current* ``schema.py`` shape, so a fresh database tells nothing about an old one.
Each fixture is therefore made by the code of an earlier commit of main, run as it was:

1. ``git archive <commit> src`` into a temporary directory;
2. in a subprocess with that ``src`` first on ``PYTHONPATH`` (this venv's libraries), the
   old code opens a fresh SQLite node (its own migrations create its own schema), adds
   users with its ``add_user``, and through its own API (an in-process client) logs in,
   reports events with personal data, writes new versions, validates one, reports a
   follow-up, and, where that version had them, links a peer and reports an asset
   position (a record), with an Idempotency-Key on the first report (kept from 0015); a
   failed login comes last (the throttle's table, 0010 and after);
3. the subprocess dumps the database as SQL text: the SQLite DDL exactly as the old code
   created it (``sqlite_master``); the PostgreSQL DDL compiled from the old ``schema.py``
   by SQLAlchemy's PostgreSQL dialect (what the old ``create_all`` ran there); then every
   row as portable ``INSERT`` statements (the border sections cut to those the data
   names, to keep the file small), and for PostgreSQL the journal's sequence moved past
   the rows, as it was.

File format: ``-- dialect: sqlite|postgresql|all`` lines open sections; each statement
ends with ``;`` at the end of a line. ``tests/test_upgrades.py`` loads the sections of
its backend. Run from the repository root::

    .venv/bin/python scripts/make_schema_fixture.py            # every point below
    .venv/bin/python scripts/make_schema_fixture.py 4e9850f    # one of them

``--verify-postgresql`` checks the PostgreSQL half instead: for each point it lets the old
code migrate a PostgreSQL database itself and compares it with the fixture loaded into
another (tables, columns, keys, indexes, migrations recorded).

Add a point to ``POINTS`` when a migration lands (docs/upgrades.md). Ids and times differ
from run to run; the shape and the kinds of data do not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "schemas"

# Every commit of main's first-parent history where the schema a new database gets
# changed: a migration landed, or (c2b7101) an index changed without one.
POINTS = [
    "70eee8c",  # 0001: the first schema (events NOT NULL, a full follow-up index)
    "c2b7101",  # 0001: the follow-up index made partial, no migration
    "18b0e63",  # 0002 under its first name: peers, agreements
    "487cd32",  # 0002: and leases
    "4e9850f",  # 0003: events may lack fields, provenance and sharing
    "8bac2ac",  # 0004: records, record versions, retractions
    "f7bf742",  # 0005: seen batches
    "1b79bcc",  # 0006: analysis results
    "e7d8f38",  # 0007: cursors
    "adab3b5",  # 0008: queue stays
    "e7b852d",  # 0009: files
    "b1a01ec",  # 0010: token kind and address, login failures
    "6ef6b29",  # 0011: audit log
    "5a27a8e",  # 0012: legal holds
    "79eaf68",  # 0013: second factors
    "78a3e97",  # 0014: journal epochs
    "6801139",  # 0015: idempotency keys
]

NODE_ID = "tj-panj-post"
PASSWORD = "correct-horse-battery-staple-42"
USERS = [("admin", "admin", "Node Administrator"), ("op.one", "operator", "Operator One"),
         ("duty.one", "duty_officer", "Duty Officer One")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("commits", nargs="*", help="commits of POINTS to remake (default all)")
    parser.add_argument("--verify-postgresql", action="store_true",
                        help="instead of making fixtures, check each one's PostgreSQL DDL "
                             "against a database the old code migrates itself")
    parser.add_argument("--write-with-old-code", nargs=2, metavar=("DIR", "OUT"),
                        help=argparse.SUPPRESS)  # the subprocess's half, run under old code
    args = parser.parse_args()
    if args.write_with_old_code:
        _write_with_old_code(Path(args.write_with_old_code[0]), Path(args.write_with_old_code[1]))
        return
    if args.verify_postgresql:
        sys.exit(verify_postgresql(args.commits or POINTS))
    OUT.mkdir(parents=True, exist_ok=True)
    for commit in args.commits or POINTS:
        path = make(commit)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")


def make(commit: str) -> Path:
    """Run the code of ``commit`` on a fresh database; write its dump into OUT."""
    with tempfile.TemporaryDirectory(prefix="sitcen-fixture-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(_old_source(commit, work))}
        dump = work / "dump.sql"
        env = {k: v for k, v in env.items() if not k.startswith("SITCEN_")}
        subprocess.run([sys.executable, __file__, "--write-with-old-code", str(work), str(dump)],
                       cwd=work, env=env, check=True)
        meta = json.loads((work / "meta.json").read_text())
        full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        subject = subprocess.run(["git", "log", "-1", "--format=%ad %s", "--date=short", commit],
                                 cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout.strip()
        header = [
            f"-- sitcen database as the code of commit {full} made it",
            f"-- ({subject[:100]})",
            f"-- migrations recorded: {', '.join(meta['migrations'])}",
            "-- made by scripts/make_schema_fixture.py; loaded by tests/test_upgrades.py",
            f"-- users' password: {PASSWORD}",
        ]
        name = f"{meta['migrations'][-1]}-{commit[:7]}.sql"
        path = OUT / name
        path.write_text("\n".join(header) + "\n" + dump.read_text(encoding="utf-8"),
                        encoding="utf-8")
        return path


def _old_source(commit: str, work: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(work, filter="data")
    return work / "src"


def verify_postgresql(commits: list[str]) -> int:
    """Compare, for each commit, a PostgreSQL database its own code migrated with its
    fixture loaded into another: the same tables, columns, keys, indexes and migrations."""
    import sqlalchemy as sa

    from sitcen.store.engine import open_engine
    from sitcen.testing import load_schema_fixture, postgres_cluster, schema_shape

    failed = 0
    with postgres_cluster() as cluster:
        for commit in commits:
            fixture = next(OUT.glob(f"*-{commit[:7]}.sql"))
            made = cluster.new_database()
            with tempfile.TemporaryDirectory(prefix="sitcen-fixture-") as tmp:
                env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
                env["PYTHONPATH"] = str(_old_source(commit, Path(tmp)))
                subprocess.run([sys.executable, "-c", "import sys\nfrom sitcen.store.engine "
                                "import open_engine\nopen_engine(sys.argv[1]).dispose()", made],
                               cwd=tmp, env=env, check=True)
            loaded = cluster.new_database()
            shapes, names = [], []
            for url, load in ((made, False), (loaded, True)):
                engine = open_engine(url, apply_migrations=False)
                if load:
                    load_schema_fixture(engine, fixture)
                shapes.append(schema_shape(engine))
                with engine.connect() as conn:
                    names.append(sorted(conn.execute(
                        sa.text("SELECT name FROM schema_migrations")).scalars()))
                engine.dispose()
            same = shapes[0] == shapes[1] and names[0] == names[1]
            failed += not same
            print(f"{fixture.name}: {'same' if same else 'DIFFERENT'} on PostgreSQL")
    return 1 if failed else 0


# --- the subprocess: everything below runs with the old commit's ``sitcen`` ----------------

def _write_with_old_code(work: Path, out: Path) -> None:
    import sitcen

    assert str(work) in str(sitcen.__file__), f"not the old code: {sitcen.__file__}"
    from fastapi.testclient import TestClient

    from sitcen.api.main import create_app
    from sitcen.settings import Settings
    from sitcen.store.users import add_user
    from sitcen.users import Role

    try:
        from sitcen.node import Node
    except ImportError:  # before the node moved out of the API package
        from sitcen.api.node import Node  # type: ignore[no-redef,import-not-found,unused-ignore]

    settings = Settings(environment="test", data_dir=work / "data", node_id=NODE_ID,
                        node_country="TJ", database_url=f"sqlite:///{work / 'node.db'}")
    node = Node.open(settings)
    for username, role, full_name in USERS:
        add_user(node.engine, username, PASSWORD, Role(role), full_name)
    with TestClient(create_app(node)) as client:
        def login(username: str) -> dict[str, str]:
            answer = client.post("/api/v1/auth/login",
                                 json={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        operator, duty = login("op.one"), login("duty.one")
        login("admin")

        def ok(answer: Any, status: int = 201) -> dict[str, Any]:
            assert answer.status_code == status, answer.text
            result: dict[str, Any] = answer.json()
            return result

        # Versions before 0015 ignore the Idempotency-Key; later ones keep the answer.
        keyed = {**operator, "Idempotency-Key": "fixture-report-1"}
        seizure = ok(client.post("/api/v1/events", headers=keyed, json=_report(
            subjects=[{"role": "suspect", "full_name": "Иванов Иван", "nationality": "AF",
                       "document_kind": "passport", "document_number": "AB1234567"}])))
        ok(client.post("/api/v1/events", headers=operator, json=_report(
            type="green_border_crossing", occurred_at="2026-11-20T02:10:00Z",
            location={"lon": 68.66, "lat": 37.2, "precision_m": 200},
            details={"direction": "exit", "stage": "attempted"}, transport="on_foot",
            impact_level="low",
            persons=[{"nationality": "TJ", "sex": "male", "age_group": "adult", "count": 3}],
            modus_operandi=[], reaction=["apprehended"], description="Three crossing at night",
            handling="GREEN")))
        url = f"/api/v1/events/{seizure['id']}"
        event = ok(client.get(url, headers=operator), 200)
        fields = ("type", "occurred_at", "location", "impact_level", "confidence", "handling",
                  "details", "persons", "transport", "modus_operandi", "reaction",
                  "description", "status")
        update = {k: event[k] for k in fields}
        update["details"] = {**event["details"], "quantity": 14.0}
        ok(client.put(url, headers=operator, json={**update, "base_version": 1}), 200)
        ok(client.put(url, headers=duty, json={**update, "status": "validated",
                                                "impact_level": "high"}), 200)
        ok(client.post("/api/v1/events", headers=operator, json=_report(
            follow_up_of=seizure["id"], occurred_at="2026-11-20T09:30:00Z",
            details={"substance": "heroin", "quantity": 3.0, "unit": "kg"},
            description="Second cache found upstream")))
        routes = set(client.app.openapi()["paths"])  # type: ignore[attr-defined]
        if "/api/v1/assets/positions" in routes:
            ok(client.post("/api/v1/assets/positions", headers=operator, json={
                "asset_id": "patrol-7", "kind": "patrol", "name": "Patrol 7",
                "location": {"lon": 68.62, "lat": 37.21}, "at": "2026-11-20T08:00:00Z"}))
        else:
            _record_by_store(node)
        _peer_by_store(node)
        # Last: a success would clear the throttle's keys (0010 and after).
        wrong = client.post("/api/v1/auth/login", json={"username": "duty.one",
                                                        "password": "not-the-password"})
        assert wrong.status_code == 401, wrong.text
    _dump(node.engine, out)
    from sitcen.store.migrations import applied

    with node.engine.connect() as conn:
        names = [n for n in applied(conn)]
    (work / "meta.json").write_text(json.dumps({"migrations": names}))


def _report(**overrides: Any) -> dict[str, Any]:
    # sitcen.testing.seizure_report's body at a fixed time, copied: this runs with an old
    # commit's sitcen, which may not have it.
    body: dict[str, Any] = {
        "type": "drug_smuggling", "occurred_at": "2026-11-20T03:40:00Z",
        "location": {"lon": 68.60, "lat": 37.22, "precision_m": 50},
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "handling": "AMBER",
        "details": {"substance": "heroin", "quantity": 12.5, "unit": "kg", "direction": "entry"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 2}],
        "transport": "boat", "modus_operandi": ["river_crossing"],
        "reaction": ["apprehended", "seized"],
        "description": "Два курьера задержаны при переправе через Пяндж",
    }
    body.update(overrides)
    return body


def _record_by_store(node: Any) -> None:
    # Versions with the records table but no route that writes one (0004, 0005): the
    # store's own write path, with the body the later route wrote.
    try:
        from sitcen.store.records import write_record
    except ImportError:
        return  # before records (0003 and earlier)
    write_record(node.engine, "asset_position", {
        "asset_id": "patrol-7", "kind": "patrol", "name": "Patrol 7", "status": "active",
        "location": {"lon": 68.62, "lat": 37.21}, "at": "2026-11-20T08:00:00Z",
        "section_id": None, "country": "TJ", "handling": "AMBER"}, node_id=NODE_ID)


def _peer_by_store(node: Any) -> None:
    import importlib

    for module in ("sitcen.exchange.links", "sitcen.store.peers"):
        try:
            add_peer = importlib.import_module(module).add_peer
        except (ImportError, AttributeError):
            continue
        relation = importlib.import_module(module).__dict__.get("Relation")
        kind: Any = relation("parent") if relation is not None else "parent"
        add_peer(node.engine, "tj-dushanbe-centre", url="https://centre.example:8443",
                 public_key="ed25519:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg", relation=kind,
                 name="Dushanbe centre", own_node_id=NODE_ID)
        return


def _dump(engine: Any, out: Path) -> None:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    from sitcen.store import schema

    lines = ["-- dialect: sqlite"]
    with engine.connect() as conn:
        for (sql,) in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                "'sqlite_%' ORDER BY rowid"):
            lines.append(sql.strip() + ";")
        lines.append("-- dialect: postgresql")
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call,unused-ignore]
        tables = schema.metadata.sorted_tables
        for table in tables:
            lines.append(str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip() + ";")
            for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
                lines.append(str(sa.schema.CreateIndex(index).compile(dialect=dialect)) + ";")
        lines.append("-- dialect: all")
        named = set(conn.execute(sa.select(schema.events.c.section_id)).scalars())
        for table in tables:
            query = sa.select(table).order_by(*table.primary_key.columns)
            if table.name == "border_sections":
                query = query.where(table.c.id.in_(sorted(s for s in named if s)))
            for row in conn.execute(query):
                names = ", ".join(row._fields)
                if not any(isinstance(value, bytes) for value in row):
                    values = ", ".join(_literal(value) for value in row)
                    lines.append(f"INSERT INTO {table.name} ({names}) VALUES ({values});")
                    continue
                # Bytes have no literal both backends read: one statement for each.
                for dialect_name in ("sqlite", "postgresql"):
                    values = ", ".join(_literal(value, dialect_name) for value in row)
                    lines += [f"-- dialect: {dialect_name}",
                              f"INSERT INTO {table.name} ({names}) VALUES ({values});"]
                lines.append("-- dialect: all")
        lines.append("-- dialect: postgresql")
        for table in tables:
            column = table.autoincrement_column
            if column is not None:
                lines.append(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"(SELECT COALESCE(MAX({column.name}), 0) + 1 FROM {table.name}), false);")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _literal(value: Any, dialect: str = "all") -> str:
    """A value as SQL both SQLite and PostgreSQL read the same (bytes: as ``dialect`` does)."""
    if isinstance(value, bytes) and dialect == "sqlite":
        return f"X'{value.hex()}'"
    if isinstance(value, bytes) and dialect == "postgresql":
        return f"'\\x{value.hex()}'::bytea"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # One statement per line: the loader splits at ";" ending a line.
        assert ";\n" not in value and "\n" not in value, value[:80]
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no portable literal for {type(value).__name__}")


if __name__ == "__main__":
    main()
