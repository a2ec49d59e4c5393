"""The audit trail (issue 15): what is written, and that verify finds every changed, removed
or reordered entry, in SQLite and in PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import TEST_PASSWORD, auth, report
from sitcen.cli import main
from sitcen.node import Node
from sitcen.store import audit, schema
from sitcen.store.audit import AuditAction, verify, verify_entries
from sitcen.users import Role


def _trail(node: Node, n: int = 5) -> None:
    for i in range(n):
        audit.record(node.engine, f"user-{i}", AuditAction.login, f"s{i}", {"i": i})


def _actions(client: TestClient, admin: dict[str, str], **query: Any) -> list[str]:
    page = client.get("/api/v1/audit", params={"limit": 1000, **query}, headers=admin).json()
    return [e["action"] for e in page["entries"]]


def test_a_whole_chain_verifies(node: Node) -> None:
    _trail(node)
    check = verify(node.engine)
    assert check.ok and check.entries == 5
    last = list(audit.entries(node.engine))[-1]
    assert check.head == last.hash


def test_verify_finds_a_changed_entry(node: Node) -> None:
    _trail(node)
    t = schema.audit_log
    with node.engine.begin() as conn:
        conn.execute(t.update().where(t.c.seq == 3).values(detail='{"i":99}'))
    check = verify(node.engine)
    assert check.problems == ["entry 3 was changed after it was written"]


def test_verify_finds_a_changed_entry_whose_hash_was_recomputed(node: Node) -> None:
    _trail(node)
    t = schema.audit_log
    with node.engine.begin() as conn:
        row = conn.execute(sa.select(t).where(t.c.seq == 2)).one()
        forged = audit.entry_hash(row.prev_hash, 2, row.at, "someone-else", row.action,
                                  row.subject, row.detail)
        conn.execute(t.update().where(t.c.seq == 2).values(actor="someone-else", hash=forged))
    check = verify(node.engine)
    assert not check.ok
    assert any("entry 3 does not follow" in p for p in check.problems)


def test_verify_finds_a_removed_entry(node: Node) -> None:
    _trail(node)
    t = schema.audit_log
    with node.engine.begin() as conn:
        conn.execute(t.delete().where(t.c.seq == 4))
    check = verify(node.engine)
    assert "entry 4 is missing" in check.problems
    assert any("entry 5 does not follow" in p for p in check.problems)


def test_verify_finds_reordered_entries(node: Node) -> None:
    _trail(node)
    rows = [e.as_dict() for e in audit.entries(node.engine)]
    rows[1], rows[2] = rows[2], rows[1]
    check = verify_entries(rows)
    assert not check.ok
    assert any("reordered" in p or "does not follow" in p for p in check.problems)


def test_the_api_writes_who_did_what(client: TestClient, tokens: dict[Role, str]) -> None:
    admin, duty = auth(tokens[Role.admin]), auth(tokens[Role.duty_officer])
    client.post("/api/v1/auth/login", json={"username": "analyst", "password": "wrong-one"})
    client.post("/api/v1/auth/login", json={"username": "analyst", "password": TEST_PASSWORD})
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "aigerim", "password": "long-enough-pw", "role": "operator"})
    assert created.status_code == 201
    client.patch("/api/v1/users/aigerim", json={"disabled": True}, headers=admin)
    event_id = client.post("/api/v1/events", headers=duty, json=report(
        subjects=[{"role": "suspect", "full_name": "Иванов И."}])).json()["id"]
    client.get("/api/v1/exports/events?format=csv", headers=duty)
    actions = _actions(client, admin)
    assert actions == ["login_failed", "login", "user_created", "user_changed", "export"]
    entries = client.get("/api/v1/audit", params={"action": "user_changed"},
                         headers=admin).json()["entries"]
    assert entries[0]["actor"] == "admin" and entries[0]["subject"] == "aigerim"
    assert orjson.loads(entries[0]["detail"]) == {"disabled": True}
    # Reading personal data needs a purpose, and the purpose is kept.
    url = f"/api/v1/events/{event_id}/personal-data"
    assert client.get(url, headers=duty).status_code == 422
    read = client.get(url, params={"purpose": "validation of the report"}, headers=duty)
    assert read.status_code == 200
    entry = client.get("/api/v1/audit", params={"action": "personal_data_read"},
                       headers=admin).json()["entries"][0]
    assert (entry["actor"], entry["subject"]) == ("duty-officer", event_id)
    assert orjson.loads(entry["detail"]) == {"purpose": "validation of the report"}
    verified = client.get("/api/v1/audit/verify", headers=admin).json()
    assert verified["ok"] is True and verified["entries"] == 6
    # Only an administrator reads the trail.
    assert client.get("/api/v1/audit", headers=duty).status_code == 403


def test_a_throttled_login_is_written_once_per_block(client: TestClient,
                                                     tokens: dict[Role, str]) -> None:
    for i in range(9):
        client.post("/api/v1/auth/login", json={"username": "liaison", "password": f"no-{i}"})
    actions = _actions(client, auth(tokens[Role.admin]), actor="liaison")
    assert actions == ["login_failed"] * 5 + ["login_throttled"]


def test_paging_through_the_trail(client: TestClient, tokens: dict[Role, str],
                                  node: Node) -> None:
    _trail(node, 7)
    admin = auth(tokens[Role.admin])
    first = client.get("/api/v1/audit", params={"limit": 3}, headers=admin).json()
    assert [e["seq"] for e in first["entries"]] == [1, 2, 3] and first["next_after"] == 3
    rest = client.get("/api/v1/audit", params={"limit": 10, "after_seq": 3},
                      headers=admin).json()
    assert [e["seq"] for e in rest["entries"]] == [4, 5, 6, 7] and rest["next_after"] is None
    mine = client.get("/api/v1/audit", params={"actor": "user-2"}, headers=admin).json()
    assert [e["seq"] for e in mine["entries"]] == [3]


def test_the_audit_commands(tmp_path: Path, node: Node, tokens: dict[Role, str],
                            sitcen_command: Callable[..., str]) -> None:
    run = sitcen_command
    run("user", "disable", "liaison")
    run("user", "enable", "liaison")
    listed = run("audit", "list")
    assert "\tuser_changed\tliaison\t" in listed and "cli" in listed
    assert "the chain is whole" in run("audit", "verify")
    export = tmp_path / "audit.jsonl"
    assert "2 entries written" in run("audit", "export", "--output", str(export))
    assert "the chain is whole" in run("audit", "verify", "--file", str(export))
    lines = export.read_bytes().splitlines()
    tampered = orjson.loads(lines[0])
    tampered["subject"] = "operator"
    export.write_bytes(orjson.dumps(tampered) + b"\n" + lines[1] + b"\n")
    out = run("audit", "verify", "--file", str(export), code=1)
    assert "PROBLEM: entry 1 was changed" in out
    t = schema.audit_log
    with node.engine.begin() as conn:
        conn.execute(t.delete().where(t.c.seq == 1))
    assert "PROBLEM: entry 1 is missing" in run("audit", "verify", code=1)


@pytest.mark.parametrize("junk", [b"not json\n", b'{"seq": 1}\n'])
def test_verify_refuses_a_file_that_is_not_an_export(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(junk)
    result = CliRunner().invoke(main, ["audit", "verify", "--file", str(path)],
                                env={"SITCEN_ENVIRONMENT": "test",
                                     "SITCEN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "not an audit export" in result.output
