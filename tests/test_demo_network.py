"""The risk analysis network of `make demo-federation` in one process (scripts/demo_network.py):
the demo's agreements and seeding on five national centres and the network's hub, served on
loopback and linked; once their records have crossed, the demo's own check finds the hub's
board at 5 of 5 with Turkmenistan late and Kazakhstan's revision, the alert on the planted
surge, and a member seeing only the totals its agreement grants. The thirteen processes of
the whole demo run in tests/test_demo_federation.py (slow)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx

from conftest import add_users, auth
from federation_nodes import LinkedNodes, push_once
from sitcen.exchange.links import Relation, add_agreement
from sitcen.users import Role


def _demo_network() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "scripts" / "demo_network.py"
    spec = importlib.util.spec_from_file_location("demo_network", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_networks_seeding_passes_its_check(
        database_url: str, another_database: Callable[[str], str], tmp_path: Path,
        password_hash: str) -> None:
    demo = _demo_network()
    today = datetime.now(UTC).date()
    with LinkedNodes(tmp_path) as nodes:
        hub = nodes.start(demo.HUB, database_url, node_country="KZ")
        for ncc in demo.NCCS:
            nodes.start(ncc, another_database(ncc))
            nodes.link_both(ncc, demo.HUB, Relation.peer)
        for member, _partner, document in demo.agreements():
            add_agreement(nodes[member].node.engine, document, own_node_id=member)
        for ncc in demo.NCCS:
            node = nodes[ncc].node
            demo.seed(node.engine, ncc, node.settings.node_country, today)
            push_once(nodes[ncc].new_sender())
        push_once(hub.new_sender())  # the others' totals back to each member

        tj = nodes["tj-ncc"]
        headers = {name: auth(add_users(linked.node.engine, password_hash,
                                        {"analyst": (Role.analyst, "Analyst")})["analyst"])
                   for name, linked in (("hub", hub), ("tj", tj))}
        with httpx.Client(timeout=120) as client:
            board, analysis = demo.fetch(client, hub.url, headers["hub"], today)
            seen = demo.member_view(client, tj.url, headers["tj"], today)
    assert seen is not None, "the hub passed Uzbekistan's month on to the Tajik centre"
    problems, line = demo.check(board, analysis, seen, today)
    assert problems == [], line
    assert line.startswith(f"check network: 5 of 5 months at the hub for {demo.last_month(today)}")
    assert seen["withheld_breakdowns"] == ["nationality", "place"]  # totals only for Tajikistan
    lines = demo.board_lines(board) + demo.analysis_lines(analysis)
    assert any("ALERT route AF -> AF-TJ-001 -> TJ up" in x for x in lines), lines
    # Only the revised version crossed (seeded before the link): the total before is the
    # one Kazakhstan submitted, which its submission names.
    kz = next(c for c in board["cells"] if c["country"] == "KZ" and c["month"] == seen["month"])
    (revision,) = kz["revisions"]
    assert kz["totals"]["refusals_of_entry"] == revision["total"] == 41
    assert isinstance(revision["total_before"], int | float) and revision["version"] == 2
