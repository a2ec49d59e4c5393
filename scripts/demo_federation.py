"""The federated demo: twelve nodes of five countries on loopback, fed by the scenario.

Five national coordination centres, two regional centres, four border posts
and a regional information hub, each a `sitcen serve` process with its own
SQLite database and key pair, linked upward by default agreements and
sideways by written ones:

- a Kyrgyz and a Tajik border liaison office (Batken, Isfara) share
  unauthorised crossings near their common border in real time, at section
  precision, not to be passed on;
- the Kyrgyz and Tajik national centres share crossings, armed incidents and
  drug seizures on the Kyrgyz-Tajik border;
- every national centre gives the regional hub its drug seizures an hour
  late, at region precision, with person counts only.

Posts report synthetic events of their own country (sitcen.scenario) every
few seconds. `make demo-federation` runs this; Ctrl-C stops every node.

    python scripts/demo_federation.py [--dir .demo-federation] [--base-port 8101]
                                      [--every 2.0] [--duration SECONDS]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

PASSWORD = "demo-password-1"


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
purpose: National centres share what happens on the Kyrgyz-Tajik border.
kinds: [event]
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
purpose: Drug seizures for the regional picture of the Northern Route.
kinds: [event]
events:
  types: [drug_smuggling]
fields: [location, details, persons]
location_precision: region
personal_data: counts_only
handling_ceiling: GREEN
delay: {{minutes: 60}}
onward_sharing: true
"""


def log(message: str) -> None:
    print(message, flush=True)


def cli(member: Member, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "sitcen.cli", *args], env=member.env,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode:
        raise SystemExit(f"{member.name}: sitcen {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def link(a: Member, b: Member, relation: str) -> None:
    cli(a, "peer", "add", b.name, "--url", b.url, "--public-key", b.key, "--relation",
        relation, "--name", b.title)


def agree(member: Member, document: str, root: Path) -> None:
    path = root / member.name / f"agreement-{abs(hash(document))}.yaml"
    path.write_text(document, encoding="utf-8")
    cli(member, "agreement", "add", str(path))


def build(root: Path, base_port: int) -> dict[str, Member]:
    """Make every node: data dir, key pair, users, links and agreements."""
    members = {m.name: m for m in MEMBERS}
    for i, m in enumerate(MEMBERS):
        m.port = base_port + i
        m.env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
        m.env.update(SITCEN_ENVIRONMENT="demo", SITCEN_DATA_DIR=str(root / m.name),
                     SITCEN_NODE_ID=m.name, SITCEN_NODE_NAME=m.title,
                     SITCEN_NODE_COUNTRY=m.country)
        out = cli(m, "init")
        m.key = next(line.split()[-1] for line in out.splitlines()
                     if line.startswith("public key"))
        for user, role in (("operator", "operator"), ("duty", "duty_officer"),
                           ("analyst", "analyst"), ("liaison", "liaison")):
            cli(m, "user", "add", user, "--role", role, "--password", PASSWORD)
    for m in MEMBERS:
        if m.parent:
            link(m, members[m.parent], "parent")
            link(members[m.parent], m, "child")
    pairs = [("kg-batken-post", "tj-isfara-post", BLO), ("kg-ncc", "tj-ncc", NCC_PAIR)]
    for a, b, template in pairs:
        link(members[a], members[b], "peer")
        link(members[b], members[a], "peer")
        agree(members[a], template.format(src=a, dst=b), root)
        agree(members[b], template.format(src=b, dst=a), root)
    hub = members["ca-hub"]
    for ncc in ("kz-ncc", "kg-ncc", "tj-ncc", "tm-ncc", "uz-ncc"):
        link(members[ncc], hub, "peer")
        link(hub, members[ncc], "peer")
        agree(members[ncc], HUB.format(src=ncc), root)
    return members


def start(member: Member, root: Path) -> None:
    with (root / member.name / "serve.log").open("a") as out:
        member.process = subprocess.Popen(
            [sys.executable, "-m", "sitcen.cli", "serve", "--port", str(member.port)],
            env=member.env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{member.url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{member.name} did not start; see {root / member.name / 'serve.log'}")


def feed(posts: list[Member], every_s: float, stop: threading.Event) -> None:
    """Each post reports synthetic events of its own country, as operators would."""
    from sitcen.scenario import live_events

    streams = {
        post.name: (e for e in live_events(600.0, seed=100 + i, now=datetime.now(UTC))
                    if e.get("country") == post.country)
        for i, post in enumerate(posts)
    }
    with httpx.Client(timeout=30) as client:
        tokens = {}
        for post in posts:
            answer = client.post(f"{post.url}/api/v1/auth/login",
                                 json={"username": "operator", "password": PASSWORD}).json()
            tokens[post.name] = {"Authorization": f"Bearer {answer['access_token']}"}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=Path(".demo-federation"))
    parser.add_argument("--base-port", type=int, default=8101)
    parser.add_argument("--every", type=float, default=2.0,
                        help="seconds between two reports at each post")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="stop after this many seconds (0: run until Ctrl-C)")
    args = parser.parse_args()
    root = args.dir.resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"building 12 nodes in {root} ...")
    members = build(root, args.base_port)
    stop = threading.Event()
    try:
        for member in members.values():
            start(member, root)
        posts = [m for m in members.values() if m.name.endswith("-post")]
        threading.Thread(target=feed, args=(posts, args.every, stop), daemon=True).start()
        log("")
        log("sitcen federated demo: every node runs on loopback")
        for m in members.values():
            up = f" (reports to {m.parent})" if m.parent else ""
            log(f"  {m.url:24} {m.name:16} {m.title}{up}")
        log("")
        log(f"users on every node: operator, duty, analyst, liaison — password {PASSWORD}")
        log("look at: GET /api/v1/stream (live), /api/v1/events, /api/v1/peers, "
            "/api/v1/agreements, /api/v1/node")
        log("e.g. the Isfara BLO sees Batken's crossings near the border, the hub sees "
            "drug seizures an hour late at region precision. Ctrl-C stops everything.")
        if args.duration:
            time.sleep(args.duration)
        else:
            signal.pause()
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


if __name__ == "__main__":
    main()
