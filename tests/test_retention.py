"""Retention (issue 15): the policy, the purge with its signed proof, legal holds, and a
purge that reaches the linked node holding the data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from conftest import auth, iso, make_settings, report
from federation_nodes import LinkedNodes, push_once
from sitcen.api.main import create_app
from sitcen.events import EventCreate
from sitcen.exchange.identity import NodeIdentity, b64url_decode
from sitcen.node import Node
from sitcen.operations.retention import (
    RetentionError,
    RetentionKeeper,
    RetentionPolicy,
    add_hold,
    list_holds,
    load_policy,
    purge,
    release_hold,
)
from sitcen.store import schema
from sitcen.store.audit import entries
from sitcen.store.events import report_events
from sitcen.store.journal import now_micros
from sitcen.store.users import issue_token
from sitcen.users import Role

NOW = datetime.now(UTC)
POLICY = RetentionPolicy.model_validate({"rules": [
    {"kind": "personal_data", "days": 90},
    {"kind": "event", "handling": ["RED"], "days": 120},
    {"kind": "event", "days": 365},
]})
SUSPECT = [{"role": "suspect", "full_name": "Иванов И.", "document_number": "AB1234567"}]


def _report(node: Node, days_ago: int, **change: Any) -> str:
    item = EventCreate.model_validate(report(
        occurred_at=iso(NOW - timedelta(days=days_ago)), reported_at=iso(NOW), **change))
    return report_events(node.engine, node.reporter, [item])[0].id


def _ids(node: Node, table: sa.Table) -> set[str]:
    with node.engine.connect() as conn:
        return set(conn.execute(sa.select(table.c.id)).scalars())


def _personal_events(node: Node) -> set[str]:
    with node.engine.connect() as conn:
        return set(conn.execute(sa.select(schema.personal_data.c.event_id)).scalars())


@pytest.mark.parametrize(("rules", "problem"), [
    ([{"kind": "event", "days": 365}], "personal data has none"),
    ([{"kind": "event", "days": 30}, {"kind": "personal_data", "days": 90}], "outlive"),
    ([{"kind": "gossip", "days": 3}], "not a record kind"),
    ([{"kind": "alert", "days": 0}], "greater than or equal to 1"),
])
def test_a_policy_that_cannot_be_kept_is_refused(tmp_path: Path, rules: list[Any],
                                                 problem: str) -> None:
    path = tmp_path / "retention.yaml"
    path.write_text(orjson.dumps({"rules": rules}).decode())
    with pytest.raises(RetentionError, match=problem):
        load_policy(path)


def test_the_purge_removes_what_is_past_its_time_and_proves_it(node: Node) -> None:
    old = _report(node, 400, subjects=SUSPECT)
    middle = _report(node, 200, subjects=SUSPECT)  # kept; its persons are past 90 days
    fresh = _report(node, 10, subjects=SUSPECT)
    red = _report(node, 150, handling="RED")
    identity = NodeIdentity.generate(node.settings.node_id)

    dry = purge(node.engine, node.settings.node_id, POLICY, now=NOW, dry_run=True)
    assert dry.counts == {"event": 2, "personal_data": 2}
    assert _ids(node, schema.events) >= {old, middle, fresh, red}

    done = purge(node.engine, node.settings.node_id, POLICY, now=NOW, identity=identity)
    assert done.counts == {"event": 2, "personal_data": 2}
    assert _ids(node, schema.events) & {old, middle, fresh, red} == {middle, fresh}
    assert _personal_events(node) == {fresh}
    with node.engine.connect() as conn:
        tombstones = set(conn.execute(sa.select(schema.retractions.c.id)).scalars())
    assert {old, red} <= tombstones

    (entry,) = [e for e in entries(node.engine) if e.action == "purge"]
    proof = orjson.loads(entry.detail)
    assert proof["counts"] == {"event": 2, "personal_data": 2}
    assert "Иванов" not in entry.detail and old not in entry.detail  # never the content
    signed = {k: v for k, v in proof.items() if k not in ("signature", "key")}
    public: Ed25519PublicKey = identity.public_key
    public.verify(b64url_decode(proof["signature"]),
                  orjson.dumps(signed, option=orjson.OPT_SORT_KEYS))
    # Nothing is due any more.
    assert purge(node.engine, node.settings.node_id, POLICY, now=NOW).total == 0


def test_legal_holds_keep_what_they_cover_until_released(node: Node) -> None:
    held_event = _report(node, 400)
    on_section = _report(node, 400, location={"lon": 70.85, "lat": 39.98})
    other = _report(node, 400)
    with node.engine.connect() as conn:
        section = conn.execute(sa.select(schema.events.c.section_id)
                               .where(schema.events.c.id == on_section)).scalar_one()
    by_event = add_hold(node.engine, "event", held_event, "case 14/2026", "duty")
    add_hold(node.engine, "section", section, "prosecutor's order 7", "duty")
    with pytest.raises(RetentionError, match="not a record kind"):
        add_hold(node.engine, "kind", "gossip", "x", "duty")
    report_ = purge(node.engine, node.settings.node_id, POLICY, now=NOW)
    assert report_.counts == {"event": 1} and report_.held == 2
    assert _ids(node, schema.events) & {held_event, on_section, other} == {
        held_event, on_section}
    release_hold(node.engine, by_event.id, "duty")
    assert [h.value for h in list_holds(node.engine, active_only=True)] == [section]
    assert purge(node.engine, node.settings.node_id, POLICY, now=NOW).counts == {"event": 1}
    assert held_event not in _ids(node, schema.events)
    actions = [e.action for e in entries(node.engine)]
    assert actions.count("legal_hold") == 2 and "legal_hold_released" in actions


def test_a_purge_reaches_the_partner_that_holds_the_personal_data(
        tmp_path: Path, another_database: Callable[[str], str]) -> None:
    with LinkedNodes(tmp_path) as nodes:
        post, centre = nodes.start_post_and_centre(another_database)
        old = _report(post.node, 200, subjects=SUSPECT)
        sender = post.new_sender()
        push_once(sender)
        # The regional centre, the post's parent, holds the persons (everything goes up).
        assert _personal_events(centre.node) == {old}
        done = purge(post.node.engine, "tj-panj-post", POLICY, now=NOW,
                     identity=post.identity)
        assert done.counts == {"personal_data": 1}
        push_once(sender)
        assert _personal_events(centre.node) == set()
        assert old in _ids(centre.node, schema.events)  # the event itself is kept


def test_the_keeper_purges_once_a_day(node: Node) -> None:
    old = _report(node, 400)
    clock = [NOW]
    keeper = RetentionKeeper(node.engine, node.settings.node_id, POLICY,
                             clock=lambda: clock[0])
    keeper.work(0.0)
    assert old not in _ids(node, schema.events)
    again = _report(node, 400)
    clock[0] = NOW + timedelta(hours=23)
    keeper.work(0.0)
    assert again in _ids(node, schema.events)  # not a day yet
    clock[0] = NOW + timedelta(hours=25)
    keeper.work(0.0)
    assert again not in _ids(node, schema.events)


def test_the_retention_and_hold_commands(tmp_path: Path, node: Node,
                                         sitcen_command: Callable[..., str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "retention.yaml"
    policy.write_text("rules:\n  - kind: personal_data\n    days: 90\n"
                      "  - kind: event\n    days: 365\n", encoding="utf-8")
    assert "rule 2: event kept 365 days" in sitcen_command("retention", "check", str(policy))
    old = _report(node, 400)
    kept = _report(node, 400)
    assert "hold" in sitcen_command("hold", "add", "--event", kept, "--reason", "case 3")
    assert "name exactly one" in sitcen_command("hold", "add", "--reason", "x", code=1)
    assert "no retention policy" in sitcen_command("retention", "run", code=1)
    monkeypatch.setenv("SITCEN_RETENTION_FILE", str(policy))
    assert "would remove 1 event; 1 kept by legal holds" in sitcen_command(
        "retention", "run", "--dry-run")
    assert "removed 1 event" in sitcen_command("retention", "run")
    assert _ids(node, schema.events) & {old, kept} == {kept}
    hold_id = sitcen_command("hold", "list").split("\t")[0]
    assert "released" in sitcen_command("hold", "release", hold_id)
    assert "no legal holds" in sitcen_command("hold", "list")


def test_the_retention_api(database_url: str, tmp_path: Path, password_hash: str) -> None:
    policy = tmp_path / "retention.yaml"
    policy.write_text("rules:\n  - kind: personal_data\n    days: 90\n"
                      "  - kind: event\n    days: 365\n", encoding="utf-8")
    node = Node.open(make_settings(database_url, tmp_path, retention_file=policy))
    with node.engine.begin() as conn:
        conn.execute(schema.users.insert(), [
            {"username": name, "full_name": name, "role": role, "password_hash": password_hash,
             "disabled": False, "created_at": now_micros()}
            for name, role in (("chief", "admin"), ("duty", "duty_officer"))])
    admin = auth(issue_token(node.engine, "chief", 1)[0])
    duty = auth(issue_token(node.engine, "duty", 1)[0])
    old, kept = _report(node, 400), _report(node, 400)
    with TestClient(create_app(node)) as client:
        state = client.get("/api/v1/retention", headers=admin).json()
        assert [r["kind"] for r in state["policy"]["rules"]] == ["personal_data", "event"]
        assert state["last_purge"] is None
        assert client.get("/api/v1/retention", headers=duty).status_code == 403
        bad = client.post("/api/v1/legal-holds", headers=admin,
                          json={"scope": "planet", "value": "x", "reason": "y"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "scope"]
        hold = client.post("/api/v1/legal-holds", headers=admin, json={
            "scope": "event", "value": kept, "reason": "case 9"}).json()
        assert [h["id"] for h in client.get("/api/v1/legal-holds", headers=admin).json()] == [
            hold["id"]]
        dry = client.post("/api/v1/retention/purge", headers=admin).json()
        assert (dry["dry_run"], dry["counts"], dry["held"]) == (True, {"event": 1}, 1)
        done = client.post("/api/v1/retention/purge?dry_run=false", headers=admin).json()
        assert done["counts"] == {"event": 1} and done["proof"]["ids_sha256"]
        assert _ids(node, schema.events) & {old, kept} == {kept}
        released = client.delete(f"/api/v1/legal-holds/{hold['id']}", headers=admin)
        assert released.json()["released_by"] == "chief"
        assert client.delete(f"/api/v1/legal-holds/{hold['id']}",
                             headers=admin).status_code == 409
        assert client.delete("/api/v1/legal-holds/nothing", headers=admin).status_code == 404
    node.engine.dispose()


def test_purging_without_a_policy_is_refused(client: TestClient,
                                             tokens: dict[Role, str]) -> None:
    answer = client.post("/api/v1/retention/purge", headers=auth(tokens[Role.admin]))
    assert answer.status_code == 409 and answer.json()["detail"][0]["type"] == "no_policy"
    assert client.get("/api/v1/retention",
                      headers=auth(tokens[Role.admin])).json()["policy"] is None
