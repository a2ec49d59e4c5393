"""The validation chain across real nodes over HTTP: post → regional centre → national centre.

The post reports and validates nothing; the regional centre validates at level
``regional``, the national centre at ``national``. Records move only by the
federation's signed batches (each node's LinkSender), and each node's queue
keeper derives its queue from what it holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import add_role_users, iso, report
from federation_nodes import LinkedNode, LinkedNodes, push_once
from sitcen.exchange.links import Relation, add_agreement
from sitcen.exchange.sender import LinkSender
from sitcen.operations.notifications import list_notifications
from sitcen.operations.queue import QueueKeeper, chain_of
from sitcen.times import to_micros
from sitcen.users import Role

pytestmark = pytest.mark.xdist_group("chain")

LEVELS = ["regional", "national"]
NODES = (("kg-osh-post", ""), ("kg-osh-rc", "regional"), ("kg-ncc", "national"))

DOWN = """\
id: {sender}-to-{receiver}
from_node: {sender}
to_node: {receiver}
direction: down
kinds: [event, event_action, task]
events:
  categories: [unauthorised_crossing, cross_border_crime, crisis, other]
  countries: [KG, TJ]
fields: [location, section_id, status, impact_level, reported_at, details]
location_precision: exact
handling_ceiling: AMBER
"""


@dataclass
class Running(LinkedNode):
    keeper: QueueKeeper
    sender: LinkSender
    tokens: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def push(self) -> None:
        push_once(self.sender)

    def follow(self) -> None:
        while self.keeper.follow_once():
            pass

    def queue(self, **params: Any) -> dict[str, Any]:
        answer = httpx.get(f"{self.served.url}/api/v1/queue", params=params,
                           headers=self.headers(Role.duty_officer), timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def act(self, event_id: str, action: str, **extra: Any) -> httpx.Response:
        return httpx.post(f"{self.served.url}/api/v1/events/{event_id}/actions",
                          json={"action": action, **extra},
                          headers=self.headers(Role.duty_officer), timeout=30)


@pytest.fixture
def chain(another_database: Callable[[str], str], tmp_path: Path, password_hash: str
          ) -> Iterator[dict[str, Running]]:
    running: dict[str, Running] = {}
    with LinkedNodes(tmp_path) as nodes:
        for name, level in NODES:
            linked = nodes.start(name, another_database(name), chain_levels=LEVELS,
                                 chain_level=level)
            node = linked.node
            tokens = add_role_users(node.engine, password_hash)
            keeper = QueueKeeper(node.engine, chain_of(node.settings))
            # One sender per node: it holds each link's lease across pushes.
            running[name] = Running(node, linked.identity, linked.served, keeper,
                                    linked.new_sender(), tokens)
        for child, parent in itertools.pairwise(name for name, _ in NODES):
            nodes.link_both(child, parent, Relation.parent)
            add_agreement(nodes[parent].node.engine, DOWN.format(sender=parent, receiver=child),
                          own_node_id=parent)
        for r in running.values():
            r.keeper.follow_once()  # first pass: cursor at the head
        yield running


def _report(post: Running, **changes: Any) -> tuple[str, dict[str, Any]]:
    body = report(location={"lon": 72.8, "lat": 40.5}, **changes)  # near Osh
    answer = httpx.post(f"{post.served.url}/api/v1/events", json=body,
                        headers=post.headers(Role.operator), timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"]), body


def _ids(page: dict[str, Any]) -> list[str]:
    return [str(i["event_id"]) for i in page["items"]]


def _us(text: str) -> int:
    return to_micros(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _travel(chain: dict[str, Running]) -> None:
    """Every node sends what it has and every keeper catches up, up then down."""
    for name in ("kg-osh-post", "kg-osh-rc", "kg-ncc", "kg-osh-rc"):
        chain[name].push()
    for r in chain.values():
        r.follow()


def test_validated_at_the_regional_centre_it_waits_at_the_national_one(
        chain: dict[str, Running]) -> None:
    post, regional, national = (chain[n] for n, _ in NODES)
    reported = datetime.now(UTC) - timedelta(minutes=25)
    event_id, _ = _report(post, reported_at=iso(reported),
                          occurred_at=iso(reported - timedelta(minutes=5)))
    _travel(chain)
    assert _ids(regional.queue()) == [event_id]
    assert national.queue()["items"] == []
    (below,) = national.queue(view="below")["items"]
    assert (below["event_id"], below["level"]) == (event_id, "regional")
    assert post.queue()["items"] == [] and post.queue()["level"] is None

    validated = regional.act(event_id, "validate")
    assert validated.status_code == 201, validated.text
    regional_at = validated.json()["body"]["at"]
    assert regional.queue()["items"] == []
    _travel(chain)
    (waiting,) = national.queue()["items"]
    assert (waiting["event_id"], waiting["level"]) == (event_id, "national")
    assert waiting["entered_at"] == regional_at  # it entered when the regional centre acted

    done = national.act(event_id, "validate")
    assert done.status_code == 201, done.text
    national_at = done.json()["body"]["at"]
    stats = httpx.get(f"{national.served.url}/api/v1/queue/statistics",
                      headers=national.headers(Role.analyst), timeout=30).json()
    times = {(g["level"], g["node"]): g["median_s"] for g in stats["by_level_node"]}
    assert times == {
        ("regional", "kg-osh-rc"): round((_us(regional_at) - to_micros(reported)) / 1e6, 3),
        ("national", "kg-ncc"): round((_us(national_at) - _us(regional_at)) / 1e6, 3)}
    # The regional centre measures its own stay the same way.
    (own,) = httpx.get(f"{regional.served.url}/api/v1/queue/statistics",
                       headers=regional.headers(Role.analyst), timeout=30).json()["by_level"]
    assert own["median_s"] == times[("regional", "kg-osh-rc")]


def test_a_serious_incident_reaches_every_level_at_once(chain: dict[str, Running]) -> None:
    post, regional, national = (chain[n] for n, _ in NODES)
    event_id, _ = _report(post, type="armed_incident",
                             details={"shots_fired": True, "injured": 1},
                             persons=[], transport=None, modus_operandi=[], reaction=[])
    _travel(chain)
    entered = set()
    for centre in (regional, national):
        (item,) = centre.queue()["items"]
        assert (item["event_id"], item["serious"]) == (event_id, True)
        entered.add(item["entered_at"])
        told = {(n.body["reason"], n.body["about"]["id"])
                for n in list_notifications(centre.node.engine, "duty-officer")}
        assert ("serious_incident", event_id) in told
    reported_at = httpx.get(f"{post.served.url}/api/v1/events/{event_id}",
                            headers=post.headers(Role.operator), timeout=30).json()["reported_at"]
    # Both from the time it was reported, not one after the other.
    assert {_us(e) for e in entered} == {_us(reported_at)}
    # The national centre acts first; the regional one still has it to act on.
    assert national.act(event_id, "validate").status_code == 201
    _travel(chain)
    assert _ids(regional.queue()) == [event_id]
    assert regional.act(event_id, "validate").status_code == 201


def test_a_returned_report_reaches_the_reporter_and_comes_back(chain: dict[str, Running]
                                                               ) -> None:
    post, regional = chain["kg-osh-post"], chain["kg-osh-rc"]
    event_id, body = _report(post)
    _travel(chain)
    returned = regional.act(event_id, "return_for_correction",
                            text="nationality of the second courier missing")
    assert returned.status_code == 201, returned.text
    assert regional.queue()["items"] == []
    _travel(chain)
    (back,) = post.queue(view="returned")["items"]
    assert (back["event_id"], back["level"], back["acted_by"], back["acted_node"]) == (
        event_id, "regional", "duty-officer", "kg-osh-rc")
    assert back["note"] == "nationality of the second courier missing"
    told = [n.body for n in list_notifications(post.node.engine, "operator")]
    assert [(n["reason"], n["about"]["kind"], n["summary"]["params"]["text"]) for n in told] == [
        ("returned", "event_action", "nationality of the second courier missing")]
    # A second return of the same stay is refused with who did it.
    again = regional.act(event_id, "return_for_correction", text="again")
    assert again.status_code == 409 and "duty-officer" in again.json()["detail"][0]["msg"]

    corrected = {**body, "persons": [{"nationality": "AF", "count": 1},
                                     {"nationality": "TJ", "count": 1}],
                 "status": "reported", "base_version": 1}
    put = httpx.put(f"{post.served.url}/api/v1/events/{event_id}", json=corrected,
                    headers=post.headers(Role.operator), timeout=30)
    assert put.status_code == 200, put.text
    _travel(chain)
    assert post.queue(view="returned")["items"] == []
    (again_waiting,) = regional.queue()["items"]
    assert (again_waiting["event_id"], again_waiting["round"]) == (event_id, 1)
    assert regional.act(event_id, "validate").status_code == 201


def test_a_post_answers_the_task_it_was_given(chain: dict[str, Running]) -> None:
    post, regional = chain["kg-osh-post"], chain["kg-osh-rc"]
    duty, operator = regional.headers(Role.duty_officer), post.headers(Role.operator)
    units = httpx.get(f"{regional.served.url}/api/v1/tasks/units", headers=duty,
                      timeout=30).json()["units"]
    assert ("post", "kg-osh-post") in {(u["kind"], u["id"]) for u in units}
    given = httpx.post(f"{regional.served.url}/api/v1/tasks", json={
        "unit_kind": "post", "unit_id": "kg-osh-post", "priority": "immediate",
        "instructions": "Send a group to the ford",
        "target": {"kind": "point", "location": {"lon": 72.8, "lat": 40.5}}},
        headers=duty, timeout=30)
    assert given.status_code == 201, given.text
    task_id = given.json()["id"]
    _travel(chain)
    (held,) = httpx.get(f"{post.served.url}/api/v1/tasks", headers=operator,
                        timeout=30).json()["tasks"]
    assert (held["id"], held["mine"], held["status"]) == (task_id, False, "assigned")
    for status_ in ("acknowledged", "en_route"):
        moved = httpx.post(f"{post.served.url}/api/v1/tasks/{task_id}/status",
                           json={"status": status_}, headers=operator, timeout=30)
        assert moved.status_code == 200, moved.text
    cancel = httpx.post(f"{post.served.url}/api/v1/tasks/{task_id}/status",
                        json={"status": "cancelled"}, headers=post.headers(Role.duty_officer),
                        timeout=30)
    assert cancel.status_code == 422  # only the node that gave the task cancels it
    _travel(chain)
    seen = httpx.get(f"{regional.served.url}/api/v1/tasks/{task_id}", headers=duty,
                     timeout=30).json()
    assert seen["status"] == "en_route" and seen["version"] == 1  # the task itself unchanged
    assert [(h["status"], h["by"]) for h in seen["history"]][1:] == [
        ("acknowledged", "operator@kg-osh-post"), ("en_route", "operator@kg-osh-post")]
