"""The sitcen command line, driven in-process with a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitcen.cli import main
from sitcen.exchange.identity import NodeIdentity

SUBCOMMANDS = ["demo", "migrate", "peer", "sections", "seed", "serve", "settings", "user"]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
            "SITCEN_DATABASE_URL": database_url, "SITCEN_NODE_ID": "kg-osh-centre",
            "SITCEN_NODE_COUNTRY": "KG"}


def run(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_every_subcommand() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    for name in SUBCOMMANDS:
        assert f"  {name} " in output


def test_migrate_and_settings(env: dict[str, str]) -> None:
    assert "0001_initial" in run(env, "migrate")
    shown = run(env, "settings")
    assert "SITCEN_NODE_ID=kg-osh-centre" in shown
    assert "SITCEN_SECRET_KEY=********" in shown


def test_production_refuses_placeholder_secret(env: dict[str, str]) -> None:
    env = {**env, "SITCEN_ENVIRONMENT": "production", "SITCEN_SECRET_KEY": "changeme"}
    result = CliRunner().invoke(main, ["migrate"], env=env)
    assert result.exit_code == 1
    assert "SITCEN_SECRET_KEY" in result.output


def test_user_add_and_list(env: dict[str, str]) -> None:
    out = run(env, "user", "add", "aigerim", "--role", "duty_officer", "--full-name",
              "Айгерим Садыкова", input="long-password-1\nlong-password-1\n")
    assert "added" in out
    listing = run(env, "user", "list")
    assert "aigerim\tduty_officer\tАйгерим Садыкова" in listing
    again = CliRunner().invoke(main, ["user", "add", "aigerim", "--role", "analyst",
                                      "--password", "long-password-1"], env=env)
    assert again.exit_code == 1
    assert "exists already" in again.output


def test_sections_import_list_reset(env: dict[str, str], tmp_path: Path) -> None:
    assert "KG-TJ-007" in run(env, "sections", "list")
    custom = {"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "geometry": {"type": "LineString", "coordinates": [[70.5, 39.9], [71.0, 40.0]]},
         "properties": {"id": "KG-TJ-001", "name": "Batken"}}]}
    path = tmp_path / "custom.geojson"
    path.write_text(json.dumps(custom), encoding="utf-8")
    assert "1 sections imported" in run(env, "sections", "import", str(path))
    assert run(env, "sections", "list").count("\n") == 1
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    bad = CliRunner().invoke(main, ["sections", "import", str(path)], env=env)
    assert bad.exit_code == 1
    assert "feature 0" in bad.output
    run(env, "sections", "reset")
    assert run(env, "sections", "list").count("\n") > 100


KEY = NodeIdentity.generate("tj-national-centre").public_key_text


def test_peer_add_list_remove(env: dict[str, str]) -> None:
    out = run(env, "peer", "add", "tj-national-centre", "--url", "https://tj-nc.example:8080/",
              "--public-key", KEY, "--relation", "parent", "--name", "ГПК ТЖ")
    assert "linked tj-national-centre as parent" in out
    run(env, "peer", "add", "tj-kulma-post", "--url", "http://10.1.2.3:8080",
        "--public-key", KEY, "--relation", "child")
    listing = run(env, "peer", "list")
    assert "tj-national-centre\tparent\thttps://tj-nc.example:8080\t" + KEY in listing
    assert "tj-kulma-post\tchild" in listing
    for args, words in [
        (["kg-other", "--url", "http://x:1", "--public-key", KEY, "--relation", "parent"],
         "has a parent already"),
        (["kg-osh-centre", "--url", "http://x:1", "--public-key", KEY, "--relation", "peer"],
         "cannot link to itself"),
        (["kg-b", "--url", "ftp://x", "--public-key", KEY, "--relation", "peer"], "url"),
        (["kg-c", "--url", "http://x:1", "--public-key", "ed25519:" + "B" * 43,
          "--relation", "peer"], "public key"),
        (["kg-d", "--url", "http://x:1", "--public-key", "rsa:abc", "--relation", "peer"],
         "public key"),
        (["tj-kulma-post", "--url", "http://x:1", "--public-key", KEY, "--relation", "peer"],
         "linked already"),
    ]:
        result = CliRunner().invoke(main, ["peer", "add", *args], env=env)
        assert result.exit_code == 1, result.output
        assert words in result.output
    assert "unlinked" in run(env, "peer", "remove", "tj-kulma-post")
    assert "tj-kulma-post" not in run(env, "peer", "list")


def test_report_generate_issue_list_render_and_template(env: dict[str, str],
                                                        tmp_path: Path) -> None:
    run(env, "init")
    run(env, "user", "add", "duty", "--role", "duty_officer", "--full-name", "Duty officer",
        input="a-long-password\na-long-password\n")
    out = tmp_path / "daily.docx"
    made = run(env, "report", "generate", "daily", "--day", "2026-01-05", "--language", "en",
               "--issue-as", "duty", "-o", str(out))
    assert "issued report" in made and "signed for duty" in made
    assert out.read_bytes().startswith(b"PK")
    listed = run(env, "report", "list")
    assert "issued" in listed and "2026-01-05" in listed and "duty" in listed
    report_id = listed.split()[0]
    html = tmp_path / "daily.html"
    run(env, "report", "render", report_id, str(html))
    assert "Daily situation report" in html.read_text(encoding="utf-8")
    broken = tmp_path / "t.yaml"
    broken.write_text("id: x\nlanguage: fr\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["report", "template", str(broken), "--check"], env=env)
    assert refused.exit_code == 1
    assert "t.yaml: line 2, column 1: language" in refused.output
