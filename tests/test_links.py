"""Node identity, links and agreements through the CLI and the API, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import auth, make_settings
from federation_nodes import BATKEN_ISFARA
from sitcen.api.main import create_app
from sitcen.cli import main
from sitcen.exchange.identity import NodeIdentity
from sitcen.node import Node
from sitcen.users import Role


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
            "SITCEN_DATABASE_URL": database_url, "SITCEN_NODE_ID": "kg-blo-batken",
            "SITCEN_NODE_COUNTRY": "KG"}


def _run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_init_show_link_and_agree(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    out = _run(env, "init")
    key = next(line.split()[-1] for line in out.splitlines() if line.startswith("public key"))
    assert key.startswith("ed25519:")
    assert "already" in _run(env, "init", code=1)
    shown = _run(env, "node", "show")
    assert key in shown and "fingerprint" in shown
    partner = NodeIdentity.generate("tj-blo-isfara")
    path = tmp_path / "agreement.yaml"
    path.write_text(BATKEN_ISFARA, encoding="utf-8")
    assert "not linked" in _run(env, "agreement", "add", str(path), code=1)
    _run(env, "peer", "add", "tj-blo-isfara", "--url", "http://127.0.0.1:8081",
         "--public-key", partner.public_key_text, "--relation", "peer")
    assert "is valid" in _run(env, "agreement", "check", str(path))
    assert "now governs" in _run(env, "agreement", "add", str(path))
    assert "higher version" in _run(env, "agreement", "add", str(path), code=1)
    assert "batken-to-isfara\tv1" in _run(env, "agreement", "list")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BATKEN_ISFARA.replace("delay: none", "delay: sometimes"), encoding="utf-8")
    assert "line 14" in _run(env, "agreement", "check", str(bad), code=1)
    wrong_way = tmp_path / "up.yaml"
    wrong_way.write_text(BATKEN_ISFARA.replace("direction: peer", "direction: up")
                         .replace("version: 1", "version: 2"), encoding="utf-8")
    assert "direction must be peer" in _run(env, "agreement", "add", str(wrong_way), code=1)

    settings = make_settings(database_url, tmp_path, node_id="kg-blo-batken",
                             node_country="KG")
    node = Node.open(settings)
    try:
        from sitcen.store import schema
        from sitcen.store.journal import now_micros
        from sitcen.store.users import issue_token

        with node.engine.begin() as conn:
            conn.execute(schema.users.insert().values(
                username="liaison", full_name="Liaison", role="liaison", password_hash="x",
                disabled=False, created_at=now_micros()))
        headers = auth(issue_token(node.engine, "liaison", 1)[0])
        with TestClient(create_app(node)) as client:
            me = client.get("/api/v1/node", headers=headers).json()
            assert me["public_key"] == key and me["node_id"] == "kg-blo-batken"
            peers = client.get("/api/v1/peers", headers=headers).json()
            assert peers[0]["agreement_id"] == "batken-to-isfara"
            agreements = client.get("/api/v1/agreements", headers=headers).json()
            assert agreements[0]["terms"]["location_precision"] == "section"
            assert agreements[0]["document"] == BATKEN_ISFARA
    finally:
        node.engine.dispose()


def test_node_show_before_init_says_what_to_do(tmp_path: Path, database_url: str) -> None:
    assert "sitcen init" in _run(_env(tmp_path, database_url), "node", "show", code=1)


def test_api_node_before_init(client: TestClient,
                              as_role: Callable[[Role], dict[str, str]]) -> None:
    body = client.get("/api/v1/node", headers=as_role(Role.analyst)).json()
    assert body["public_key"] is None and body["node_id"] == "tj-test-centre"
