"""The federated demo: thirteen nodes of five countries on loopback, fed by the scenario.

Five national coordination centres, two regional centres, four border posts,
a regional information hub and the risk analysis network's hub, each a
`sitcen serve` process with its own SQLite database and key pair, linked
upward by default agreements and sideways by written ones:

- a Kyrgyz and a Tajik border liaison office (Batken, Isfara) share
  unauthorised crossings near their common border in real time, at section
  precision, not to be passed on;
- the Kyrgyz and Tajik national centres share crossings, armed incidents and
  drug seizures on the Kyrgyz-Tajik border;
- every national centre gives the regional hub daily counts of drug
  seizures per country (no single record), with person counts;
- every national centre sends its monthly indicator records and submissions
  to the risk analysis network's hub, which shows its completeness board and
  its joint analysis of the last month, and passes the others' totals back
  (scripts/demo_network.py).

Posts report synthetic events of their own country (sitcen.demo.scenario): the
last three days first (so the hub has closed days to count), then a new one
every few seconds. `make demo-federation` runs this; Ctrl-C stops every node.
With ``--check`` it stops after ``--duration`` seconds and verifies that
every record went exactly where the agreements say (exit status 1 if not).

    python scripts/demo_federation.py [--dir .demo-federation] [--base-port 8101]
                                      [--every 2.0] [--duration SECONDS] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import demo_network
import httpx

PASSWORD = "demo-password-1"
#: How long the demo waits for something its nodes do by themselves (a node starting, a
#: record crossing a link) before calling it a problem. Generous: on a loaded machine
#: thirteen nodes share two cores, and nothing here waits longer than it has to.
PATIENCE_S = 600.0


@dataclass
class Member:
    """One node of the demo."""

    name: str
    title: str
    country: str
    parent: str | None = None
    port: int = 0
    key: str = ""
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


MEMBERS = [
    Member("kz-ncc", "Kazakhstan national coordination centre", "KZ"),
    Member("kg-ncc", "Kyrgyzstan national coordination centre", "KG"),
    Member("tj-ncc", "Tajikistan national coordination centre", "TJ"),
    Member("tm-ncc", "Turkmenistan national coordination centre", "TM"),
    Member("uz-ncc", "Uzbekistan national coordination centre", "UZ"),
    Member("kg-osh-rc", "Osh regional centre (KG)", "KG", parent="kg-ncc"),
    Member("tj-khatlon-rc", "Khatlon regional centre (TJ)", "TJ", parent="tj-ncc"),
    Member("kg-batken-post", "Batken border liaison office (KG)", "KG", parent="kg-osh-rc"),
    Member("kg-karamyk-post", "Karamyk border post (KG)", "KG", parent="kg-osh-rc"),
    Member("tj-isfara-post", "Isfara border liaison office (TJ)", "TJ", parent="tj-ncc"),
    Member("tj-panj-post", "Panji Poyon border post (TJ)", "TJ", parent="tj-khatlon-rc"),
    Member("ca-hub", "Regional information hub", "KZ"),
    Member(demo_network.HUB, "Risk analysis network hub", "KZ"),
]

BLO = """\
id: {src}-to-{dst}
version: 1
from_node: {src}
to_node: {dst}
direction: peer
purpose: Border liaison offices exchange crossings near the Kyrgyz-Tajik border.
kinds: [event]
events:
  categories: [unauthorised_crossing]
  sections: [KG-TJ-*]
fields: [location, section_id, status, impact_level, persons, details, reaction]
location_precision: section
personal_data: counts_only
handling_ceiling: AMBER
delay: none
onward_sharing: false
"""

NCC_PAIR = """\
id: {src}-to-{dst}
version: 1
from_node: {src}
to_node: {dst}
direction: peer
purpose: National centres share what happens on the Kyrgyz-Tajik border, answer each other's
  requests and run joint operations there.
kinds: [event, request_for_information, request_response, attachment, thread_message,
        joint_operation, operation_report, organisation, contact_point]
events:
  categories: [unauthorised_crossing]
  types: [armed_incident, drug_smuggling]
  sections: [KG-TJ-*]
fields: [location, section_id, status, impact_level, confidence, persons, details,
         transport, modus_operandi, reaction]
location_precision: exact
personal_data: counts_only
handling_ceiling: AMBER
delay: none
onward_sharing: false
"""

HUB = """\
id: {src}-to-ca-hub
version: 1
from_node: {src}
to_node: ca-hub
direction: peer
purpose: Daily counts of drug seizures for the regional picture of the Northern Route.
kinds: [event]
events:
  types: [drug_smuggling]
fields: [persons]
location_precision: country
personal_data: counts_only
handling_ceiling: AMBER
delay: daily_aggregates
onward_sharing: false
"""


def log(message: str) -> None:
    print(message, flush=True)


def open_node(member: Member) -> Any:
    from sitcen.node import Node
    from sitcen.settings import Settings

    return Node.open(Settings(environment="demo", data_dir=member.env["SITCEN_DATA_DIR"],
                              node_id=member.name, node_country=member.country))


def build(root: Path, base_port: int) -> dict[str, Member]:
    """Make every node: data dir, key pair, users, links and agreements.

    Done in this process with the functions behind `sitcen init`, `sitcen user
    add`, `sitcen peer add` and `sitcen agreement add` (the same checks, without
    starting Python a hundred times).
    """
    from sitcen.exchange.identity import init_identity
    from sitcen.exchange.links import Relation, add_agreement, add_peer
    from sitcen.store.users import add_user
    from sitcen.testing import clean_environment
    from sitcen.users import Role

    members = {m.name: m for m in MEMBERS}
    nodes = {}
    for i, m in enumerate(MEMBERS):
        m.port = base_port + i
        m.env = clean_environment(SITCEN_ENVIRONMENT="demo", SITCEN_DATA_DIR=str(root / m.name),
                                  SITCEN_NODE_ID=m.name, SITCEN_NODE_NAME=m.title,
                                  SITCEN_NODE_COUNTRY=m.country)
        m.key = init_identity(root / m.name / "identity", m.name).public_key_text
        nodes[m.name] = open_node(m)
        for user, role in (("operator", Role.operator), ("duty", Role.duty_officer),
                           ("analyst", Role.analyst), ("liaison", Role.liaison)):
            add_user(nodes[m.name].engine, user, PASSWORD, role)

    def link(a: str, b: str, relation: Relation) -> None:
        add_peer(nodes[a].engine, b, url=members[b].url, public_key=members[b].key,
                 relation=relation, name=members[b].title, own_node_id=a)

    def agree(member: str, document: str) -> None:
        add_agreement(nodes[member].engine, document, own_node_id=member)

    for m in MEMBERS:
        if m.parent:
            link(m.name, m.parent, Relation.parent)
            link(m.parent, m.name, Relation.child)
    pairs = [("kg-batken-post", "tj-isfara-post", BLO), ("kg-ncc", "tj-ncc", NCC_PAIR)]
    for a, b, template in pairs:
        link(a, b, Relation.peer)
        link(b, a, Relation.peer)
        agree(a, template.format(src=a, dst=b))
        agree(b, template.format(src=b, dst=a))
    for ncc in ("kz-ncc", "kg-ncc", "tj-ncc", "tm-ncc", "uz-ncc"):
        link(ncc, "ca-hub", Relation.peer)
        link("ca-hub", ncc, Relation.peer)
        agree(ncc, HUB.format(src=ncc))
        link(ncc, demo_network.HUB, Relation.peer)
        link(demo_network.HUB, ncc, Relation.peer)
    for member, _partner, document in demo_network.agreements():
        agree(member, document)
    today = datetime.now(UTC).date()
    for ncc in demo_network.NCCS:
        demo_network.seed(nodes[ncc].engine, ncc, members[ncc].country, today)
    for node in nodes.values():
        node.engine.dispose()
    return members


def start(members: list[Member], root: Path) -> None:
    """Start every node at once, then wait until each answers (or says why it cannot)."""
    for member in members:
        with (root / member.name / "serve.log").open("a") as out:
            member.process = subprocess.Popen(
                [sys.executable, "-m", "sitcen.cli", "serve", "--port", str(member.port)],
                env=member.env, stdout=out, stderr=subprocess.STDOUT)

    def up(member: Member) -> bool:
        assert member.process is not None
        if member.process.poll() is not None:  # a port taken, a bad setting: its log says why
            raise SystemExit(f"{member.name} exited at start; see "
                             f"{root / member.name / 'serve.log'}")
        try:
            return httpx.get(f"{member.url}/api/v1/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    for member in members:
        try:
            _wait(f"{member.name} starting", functools.partial(up, member))
        except TimeoutError as exc:
            raise SystemExit(f"{exc}; see {root / member.name / 'serve.log'}") from None


def _login(client: httpx.Client, member: Member, user: str = "operator") -> dict[str, str]:
    answer = client.post(f"{member.url}/api/v1/auth/login",
                         json={"username": user, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def _events_of(post: Member, *, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """The synthetic live feed's reports in the post's country, on a clock simulated from
    ``now``."""
    from sitcen.demo.scenario import live_events

    return (e for e in live_events(600.0, seed=seed, now=now) if e.get("country") == post.country)


def backfill(posts: list[Member], per_post: int = 40) -> None:
    """The last three days of each post, reported late, so the hub has closed days to count."""
    now = datetime.now(UTC)
    with httpx.Client(timeout=60) as client:
        for i, post in enumerate(posts):
            stream = _events_of(post, seed=900 + i, now=now - timedelta(days=3))
            events = []
            for k in range(per_post):
                event = next(stream)
                event.pop("reported_at", None)
                event["occurred_at"] = (now - timedelta(days=3) + timedelta(
                    days=3 * k / per_post)).isoformat()
                events.append(event)
            if post.name == "kg-batken-post":
                events.append(crossing_near_isfara(now - timedelta(hours=2)))
            answer = client.post(f"{post.url}/api/v1/events/batch", json={"events": events},
                                 headers=_login(client, post))
            if answer.status_code != 201:
                log(f"backfill of {post.name} refused: {answer.text[:300]}")


def crossing_near_isfara(at: datetime) -> dict[str, Any]:
    """What the Batken BLO saw last night on the Kyrgyz-Tajik border, for its Isfara peer.

    The scenario draws events over the whole country, so it may give the Batken post no
    crossing on this border in a short run; the liaison story needs one.
    """
    return {
        "type": "green_border_crossing", "occurred_at": at.isoformat(),
        "location": {"lon": 70.80, "lat": 39.95, "precision_m": 100},
        "impact_level": "medium", "handling": "AMBER",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "details": {"stage": "actual", "direction": "entry"},
        "persons": [{"nationality": "TJ", "sex": "male", "age_group": "adult", "count": 2}],
        "description": "Two men crossed on foot towards Kyzyl-Bel",
    }


def feed(posts: list[Member], every_s: float, stop: threading.Event) -> None:
    """Each post reports synthetic events of its own country, as operators would."""
    streams = {post.name: _events_of(post, seed=100 + i, now=datetime.now(UTC))
               for i, post in enumerate(posts)}
    with httpx.Client(timeout=30) as client:
        tokens = {post.name: _login(client, post) for post in posts}
        while not stop.wait(every_s):
            for post in posts:
                event = next(streams[post.name])
                # Reported now, a few minutes after it happened.
                event.pop("reported_at", None)
                event["occurred_at"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
                try:
                    client.post(f"{post.url}/api/v1/events", json=event,
                                headers=tokens[post.name])
                except httpx.HTTPError as exc:
                    log(f"feed to {post.name} failed: {exc}")


def _wait(what: str, condition: Any, timeout_s: float = PATIENCE_S) -> Any:
    """Poll ``condition`` until it returns something truthy (the demo's nodes are live);
    :class:`TimeoutError` naming ``what`` when it does not within ``timeout_s``."""
    from sitcen.testing import wait_until

    return wait_until(condition, timeout_s=timeout_s, interval_s=0.2, what=what)


def _call(client: httpx.Client, method: str, url: str, headers: dict[str, str],
          **kwargs: Any) -> Any:
    """One API call of the demo's people; a refusal stops the story with the node's answer."""
    answer = client.request(method, url, headers=headers, **kwargs)
    if answer.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def cooperate(members: dict[str, Member], failures: list[str]) -> None:
    """A live request across the Kyrgyz-Tajik border and a joint operation of both centres.

    The Tajik centre asks the Kyrgyz one about couriers near Isfara and mentions the Kyrgyz
    liaison officer in the request's thread; the Kyrgyz liaison officer acknowledges and
    answers when it arrives. The Kyrgyz centre coordinates a joint operation on two
    Kyrgyz-Tajik sections; both centres report the day, and the Kyrgyz centre merges the
    two reports once the Tajik one has arrived. What goes wrong is added to ``failures``.
    """
    try:
        _cooperate(members)
    except Exception as exc:  # the demo goes on; --check reports it
        log(f"cooperation stopped: {exc}")
        failures.append(f"the cooperation story stopped: {exc}")


def _cooperate(members: dict[str, Member]) -> None:
    kg, tj = members["kg-ncc"], members["tj-ncc"]
    with httpx.Client(timeout=60) as client:
        h_kg, h_tj = _login(client, kg, "duty"), _login(client, tj, "liaison")
        h_tj_duty, h_kg_liaison = _login(client, tj, "duty"), _login(client, kg, "liaison")
        for member, headers, country, name in ((kg, h_kg, "KG", "Batken border liaison office"),
                                               (tj, h_tj_duty, "TJ",
                                                "Isfara border liaison office")):
            directory = f"{member.url}/api/v1/directory"
            agency = _call(client, "POST", f"{directory}/organisations", headers, json={
                "name": f"Border service ({country})", "agency_type": "border_guard",
                "country": country})
            other = "TJ" if country == "KG" else "KG"
            office = _call(client, "POST", f"{directory}/organisations", headers, json={
                "name": name, "agency_type": "border_guard", "unit_kind": "border_liaison_office",
                "parent_id": agency["id"], "country": country,
                "counterpart": {"name": "Isfara" if country == "KG" else "Batken",
                                "country": other}})
            _call(client, "POST", f"{directory}/contacts", headers, json={
                "organisation_id": office["id"], "role": "Duty officer",
                "radio_callsign": f"{name.split()[0].upper()}-1", "languages": ["ru"],
                "phones": ["+996 3622 5 00 00" if country == "KG" else "+992 3435 2 11 11"]})
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        day = start.date().isoformat()
        period = {"starts_at": start.isoformat(),
                  "ends_at": (start + timedelta(days=7)).isoformat()}
        operation = _call(client, "POST", f"{kg.url}/api/v1/operations", h_kg, json={
            "name": "Batken-Isfara joint patrols", "sections": ["KG-TJ-007", "KG-TJ-008"],
            "countries": ["KG", "TJ"], **period,
            "participants": [{"node": "kg-ncc", "name": "Border Service (KG)", "country": "KG"},
                             {"node": "tj-ncc", "name": "Border Troops (TJ)", "country": "TJ"}],
            "resources": [
                {"id": "kg-uaz-2", "kind": "asset", "name": "UAZ patrol vehicle",
                 "node": "kg-ncc", "home_unit": "Batken detachment", **period},
                {"id": "tj-team-3", "kind": "team", "name": "Mobile team 3", "people": 6,
                 "node": "tj-ncc", "home_unit": "Isfara detachment", **period}],
            "objectives": [{"id": "o1", "text": "20 joint patrols", "indicator": "patrols",
                            "target": 20}]})
        request = _call(client, "POST", f"{tj.url}/api/v1/requests", h_tj, json={
            "to_node": "kg-ncc", "title": "Couriers near Isfara", "priority": "urgent",
            "text": "Two men crossed near Isfara on foot last night. Known to you?"})
        _call(client, "POST", f"{tj.url}/api/v1/messages", h_tj, json={
            "record_id": request["id"],
            "text": "@liaison@kg-ncc urgent: they may cross back tonight"})
        log(f"request {request['id'][:8]} sent by tj-ncc to kg-ncc; joint operation "
            f"{operation['id'][:8]} planned by kg-ncc")
        _wait("the request reaching kg-ncc", lambda: client.get(
            f"{kg.url}/api/v1/requests/{request['id']}", headers=h_kg).status_code == 200)
        for action, text in (("acknowledge", ""), ("answer", "Both known: couriers of the "
                                                             "Batken group, seen twice in May.")):
            _call(client, "POST", f"{kg.url}/api/v1/requests/{request['id']}/responses",
                  h_kg_liaison, json={"action": action, "text": text})
        log("kg-ncc answered the request")
        _wait("the operation reaching tj-ncc", lambda: client.get(
            f"{tj.url}/api/v1/operations/{operation['id']}", headers=h_tj).status_code == 200)
        for member, headers, counts in ((tj, h_tj_duty, {"patrols": 3}),
                                        (kg, h_kg, {"patrols": 4, "vehicles_checked": 12})):
            _call(client, "POST", f"{member.url}/api/v1/operations/{operation['id']}/reports",
                  headers, json={"day": day, "counts": counts,
                                 "remarks": "Joint patrol at Kyzyl-Bel"})
        _wait("tj-ncc's daily report reaching kg-ncc", lambda: len(_call(
            client, "GET", f"{kg.url}/api/v1/operations/{operation['id']}/reports", h_kg)) >= 2)
        _call(client, "POST", f"{kg.url}/api/v1/operations/{operation['id']}/merged", h_kg,
              json={"day": day})
        log("kg-ncc merged the day's reports of the joint operation")


def check_cooperation(members: dict[str, Member]) -> tuple[list[str], str]:
    """Did the request cross and come back answered, the mention reach the Kyrgyz liaison
    officer, and the operation get merged? The problems, and a line saying what was found."""
    problems = []
    kg, tj = members["kg-ncc"], members["tj-ncc"]
    with httpx.Client(timeout=60) as client:
        out = _call(client, "GET", f"{tj.url}/api/v1/requests?box=out",
                    _login(client, tj, "liaison"))["items"]
        answered = [r for r in out if r["state"]["status"] == "answered"]
        if not answered:
            problems.append("the Tajik centre's request was not answered across the border")
        told = [n for n in _call(client, "GET", f"{kg.url}/api/v1/notifications",
                                 _login(client, kg, "liaison"))["notifications"]
                if n["reason"] == "mentioned"]
        if not told:
            problems.append("the Kyrgyz liaison officer was not told of the mention")
        operations = _call(client, "GET", f"{tj.url}/api/v1/operations",
                           _login(client, tj, "analyst"))
        if not operations:
            problems.append("the joint operation did not reach the Tajik centre")
        merged = []
        h_kg = _login(client, kg, "analyst")
        for op in operations:
            reports = _call(client, "GET", f"{kg.url}/api/v1/operations/{op['id']}/reports",
                            h_kg)
            merged += [r for r in reports if r["body"]["scope"] == "merged"
                       and len(r["body"]["sources"]) == 2]
        if not merged:
            problems.append("no merged daily report of both centres at the coordinating node")
    return problems, (f"check cooperation: {len(answered)} request answered across KG-TJ, "
                      f"{len(told)} mention told at kg-ncc, {len(operations)} joint operation "
                      f"at tj-ncc, {len(merged)} merged daily report")


def _all(client: httpx.Client, member: Member, path: str, key: str) -> list[dict[str, Any]]:
    """Every item of a paged list endpoint."""
    headers = _login(client, member, "analyst")
    items: list[dict[str, Any]] = []
    url: str | None = f"{member.url}{path}"
    while url:
        page = client.get(url, headers=headers).json()
        items += page[key]
        cursor = page.get("next_cursor")
        url = f"{member.url}{path}&cursor={cursor}" if cursor else None
    return items


def show_network(members: dict[str, Member]) -> tuple[list[str], str]:
    """Print the network hub's completeness board and joint analysis once every member's
    last month has reached it; what :func:`demo_network.check` finds."""
    hub, today = members[demo_network.HUB], datetime.now(UTC).date()
    last = demo_network.last_month(today)
    with httpx.Client(timeout=120) as client:
        headers = _login(client, hub, "analyst")

        def arrived() -> tuple[dict[str, Any], dict[str, Any]] | None:
            board, analysis = demo_network.fetch(client, hub.url, headers, today)
            received = board.get("summary", {}).get(last, {}).get("received")
            revised = any(c["revised"] for c in board.get("cells", []))
            return (board, analysis) if received == len(demo_network.NCCS) and revised \
                else None

        board, analysis = _wait("the network hub's board", arrived)
        tj = members["tj-ncc"]
        tj_headers = _login(client, tj, "analyst")
        member_view = _wait("the Tajik centre's view of Uzbekistan's month", functools.partial(
            demo_network.member_view, client, tj.url, tj_headers, today))
    log("")
    log(f"risk analysis network: the hub's completeness board ({hub.url}, #/network)")
    for line in demo_network.board_lines(board):
        log(f"  {line}")
    for line in demo_network.analysis_lines(analysis):
        log(line)
    log(f"the Tajik centre sees Uzbekistan's crossings for {last} as "
        f"{member_view['values']} (withheld: {member_view['withheld_breakdowns']})")
    log(f"the hub's joint statistical annex of a quarter or a year: {hub.url}/#/reports "
        "(products annex_quarterly, annex_annual), or POST /api/v1/report-drafts")
    return demo_network.check(board, analysis, member_view, today)


def check(members: dict[str, Member]) -> tuple[list[str], str]:
    """What went where it should not, or did not arrive (empty when all is well), and a
    line saying what was found."""
    problems: list[str] = []
    with httpx.Client(timeout=60) as client:
        held = {name: _all(client, m, "/api/v1/events?limit=1000", "items")
                for name, m in members.items()}

        def origin_of(name: str) -> list[dict[str, Any]]:
            return [e for e in held[name] if e["origin"] == name]

        def expect(ok: bool, message: str) -> None:
            if not ok:
                problems.append(message)

        for m in members.values():  # upward: everything reaches every centre above
            above = m.parent
            while above:
                got = {e["id"] for e in held[above] if e["origin"] == m.name}
                missing = {e["id"] for e in origin_of(m.name)} - got
                expect(not missing, f"{len(missing)} of {m.name}'s records missing at {above}")
                above = members[above].parent
        isfara = [e for e in held["tj-isfara-post"] if e["origin"] != "tj-isfara-post"]
        expect(bool(isfara), "the Isfara BLO received nothing from Batken")
        for e in isfara:
            expect(e["origin"] == "kg-batken-post" and e["category"] == "unauthorised_crossing"
                   and str(e.get("section_id", "")).startswith("KG-TJ-")
                   and "description" not in e,
                   f"the Isfara BLO holds {e['origin']}'s {e['type']} it should not")
        for name, partner in (("tj-ncc", "KG"), ("kg-ncc", "TJ")):
            for e in held[name]:
                if e["origin"].startswith(partner.lower()):
                    expect(str(e.get("section_id", "")).startswith("KG-TJ-")
                           and e["sharing"]["onward"] is False,
                           f"{name} holds a {partner} record outside the agreement")
        for name in ("kz-ncc", "tm-ncc", "uz-ncc"):
            foreign = [e for e in held[name] if not e["origin"].startswith(name[:2])]
            expect(not foreign, f"{name} holds {len(foreign)} records of other countries")
        expect(not held["ca-hub"], f"the hub holds {len(held['ca-hub'])} single records")
    hub = open_node(members["ca-hub"])
    try:
        from sitcen.store.records import list_records

        counts = list_records(hub.engine, "daily_aggregate")
    finally:
        hub.engine.dispose()
    senders = {r.origin for r in counts}
    expect(bool(counts), "the hub received no daily counts")
    expect(senders <= {"kz-ncc", "kg-ncc", "tj-ncc", "tm-ncc", "uz-ncc"},
           f"daily counts from {senders}")
    seizures = sum(row["events"] for r in counts for row in r.body["rows"])
    return problems, (f"check: {sum(len(v) for v in held.values())} event copies on {len(members)} "
                      f"nodes, {len(isfara)} at the Isfara BLO from Batken, {len(counts)} daily "
                      f"count records ({seizures} seizures) at the hub from {sorted(senders)}")


def settled(members: dict[str, Member], timeout_s: float = PATIENCE_S
            ) -> tuple[list[str], list[str]]:
    """The checks, once nothing is missing any more or ``timeout_s`` has passed.

    After the feed stops, its last records are still on their way up and across, so a
    check that finds something missing looks again; something that went where it should
    not stays there, and is reported when the time is up. The problems and the lines.
    """
    from sitcen.testing import wait_until

    found: list[tuple[list[str], str]] = []

    def all_well() -> bool:
        found[:] = [check(members), check_cooperation(members)]
        return not any(problems for problems, _line in found)

    with contextlib.suppress(TimeoutError):
        wait_until(all_well, timeout_s=timeout_s, interval_s=1.0, what="every record in place")
    return [p for problems, _line in found for p in problems], [line for _p, line in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=Path(".demo-federation"))
    parser.add_argument("--base-port", type=int, default=8101)
    parser.add_argument("--every", type=float, default=2.0,
                        help="seconds between two reports at each post")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="stop after this many seconds (0: run until Ctrl-C)")
    parser.add_argument("--check", action="store_true",
                        help="after --duration, verify where every record went (exit 1 if "
                             "anything is missing or leaked)")
    args = parser.parse_args()
    root = args.dir.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"building {len(MEMBERS)} nodes in {root} (with three years of monthly indicators "
        "at each national centre) ...")
    members = build(root, args.base_port)
    stop = threading.Event()
    failed = False
    failures: list[str] = []
    try:
        start(list(members.values()), root)
        posts = [m for m in members.values() if m.name.endswith("-post")]
        backfill(posts)
        threading.Thread(target=feed, args=(posts, args.every, stop), daemon=True).start()
        cooperation = threading.Thread(target=cooperate, args=(members, failures), daemon=True)
        cooperation.start()
        log("")
        log("sitcen federated demo: every node runs on loopback")
        for m in members.values():
            up = f" (reports to {m.parent})" if m.parent else ""
            log(f"  {m.url:24} {m.name:16} {m.title}{up}")
        log("")
        log(f"users on every node: operator, duty, analyst, liaison — password {PASSWORD}")
        log("look at: GET /api/v1/stream (live), /api/v1/events, /api/v1/peers, "
            "/api/v1/agreements, /api/v1/node")
        log("cooperation: the Tajik centre's request to the Kyrgyz centre and the joint "
            "operation Batken-Isfara: #/requests and #/operations in the console of "
            "kg-ncc and tj-ncc")
        log("e.g. the Isfara BLO sees Batken's crossings near the border; the hub gets "
            "daily counts of drug seizures (GET /api/v1/journal?kind=daily_aggregate). "
            "Ctrl-C stops everything.")
        network = show_network(members)
        if args.duration:
            time.sleep(args.duration)
        else:
            signal.pause()
        if args.check:
            stop.set()
            cooperation.join(timeout=PATIENCE_S)  # it ends by itself: told, or it failed
            if cooperation.is_alive():
                failures.append("the cooperation story did not end")
            problems, lines = settled(members)
            network_problems, network_line = network
            problems += network_problems
            lines.append(network_line)
            for line in lines:
                log(line)
            for problem in failures + problems:
                log(f"PROBLEM: {problem}")
            failed = bool(failures or problems)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for member in members.values():
            if member.process is not None and member.process.poll() is None:
                member.process.send_signal(signal.SIGINT)
        for member in members.values():
            if member.process is not None:
                try:
                    member.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    member.process.kill()
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
