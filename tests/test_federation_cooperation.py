"""Cooperation over real nodes on loopback: a Kyrgyz post, the Kyrgyz and the Tajik national
centres. Requests and answers cross the border as records; forwarding needs the originator's
consent (the API refuses it, and the sharing function withholds a forward written anyway);
an overdue request is flagged on both sides and each side's people are told, by a clock the
test moves; a mention of a user of the other node is told there when the message arrives;
a photo's GPS tags do not travel under a section-precision agreement; a joint operation
over two countries is reported and merged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import add_role_users, iso
from federation_nodes import LinkedNode, LinkedNodes, push_once
from sitcen.exchange.links import Relation, add_agreement
from sitcen.exchange.sender import LinkSender
from sitcen.operations.watch import CooperationWatch
from sitcen.store.files import get_file, put_file, sha256_of
from sitcen.store.journal import RecordKind
from sitcen.store.records import get_record, list_records, write_record
from sitcen.testing import wait_until
from sitcen.users import Role
from test_attachments import GPS_LAT, GPS_LON, has_gps, jpeg_with_gps

pytestmark = pytest.mark.xdist_group("processes")

KINDS = ("[event, request_for_information, request_response, attachment, thread_message, "
         "joint_operation, operation_report, organisation, contact_point]")
PEER = """\
id: {src}-to-{dst}
from_node: {src}
to_node: {dst}
direction: peer
purpose: The national centres answer each other's requests on the Kyrgyz-Tajik border.
kinds: {kinds}
events:
  categories: [unauthorised_crossing, cross_border_crime]
  sections: [KG-TJ-*]
fields: [location, section_id, status]
location_precision: section
personal_data: counts_only
handling_ceiling: AMBER
onward_sharing: false
"""

# A link down to a child carries nothing until an agreement names the child's area.
DOWN = """\
id: kg-ncc-to-kg-batken-post
from_node: kg-ncc
to_node: kg-batken-post
direction: down
kinds: [event, request_for_information, request_response, attachment, thread_message]
events:
  categories: [unauthorised_crossing, cross_border_crime, crisis, other]
  countries: [KG]
fields: [location, section_id, status]
location_precision: exact
personal_data: none
handling_ceiling: AMBER
onward_sharing: false
"""


@dataclass
class Member(LinkedNode):
    tokens: dict[Role, str]
    sender: LinkSender
    watch: CooperationWatch

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def three(database_url: str, another_database: Callable[[str], str], tmp_path: Path,
          password_hash: str) -> Iterator[dict[str, Member]]:
    members: dict[str, Member] = {}
    with LinkedNodes(tmp_path) as nodes:
        for name in ("kg-batken-post", "kg-ncc", "tj-ncc"):
            linked = nodes.start(name, database_url if name == "kg-ncc" else another_database(name))
            tokens = add_role_users(linked.node.engine, password_hash)
            watch = CooperationWatch(linked.node.engine, name)
            watch.catch_up()  # its first pass starts at the journal's head, as at start-up
            members[name] = Member(linked.node, linked.identity, linked.served, tokens,
                                   linked.new_sender(), watch)
        nodes.link_both("kg-batken-post", "kg-ncc", Relation.parent)
        nodes.link_both("kg-ncc", "tj-ncc", Relation.peer)
        add_agreement(members["kg-ncc"].node.engine, DOWN, own_node_id="kg-ncc")
        for src, dst in (("kg-ncc", "tj-ncc"), ("tj-ncc", "kg-ncc")):
            add_agreement(members[src].node.engine, PEER.format(src=src, dst=dst, kinds=KINDS),
                          own_node_id=src)
        yield members


def push(members: dict[str, Member], *names: str) -> None:
    """Each named node sends what it has to every linked node, once."""
    for name in names:
        # One sender per node, as in `sitcen serve`: it holds the lease on its links.
        push_once(members[name].sender)


def call(member: Member, method: str, path: str, role: Role = Role.liaison,
         expect: int = 200, **kwargs: Any) -> Any:
    answer = httpx.request(method, f"{member.url}/api/v1/{path}", headers={
        **member.headers(role), **kwargs.pop("headers", {})}, timeout=30, **kwargs)
    assert answer.status_code == expect, answer.text
    return answer.json()


def told(member: Member, record_id: str, reason: str) -> list[str]:
    """The users of a node told about a record for a reason (each once: a list, not a set)."""
    return sorted(n.body["username"] for n in list_records(member.node.engine,
                                                           RecordKind.notification)
                  if n.body["about"]["id"] == record_id and n.body["reason"] == reason)


def ask(member: Member, **change: Any) -> dict[str, Any]:
    body = {"to_node": "kg-ncc", "title": "Couriers near Isfara",
            "text": "Do you hold reports on couriers crossing near Isfara this week?",
            "priority": "urgent", "handling": "AMBER",
            "persons": [{"full_name": "Karimov Aziz", "nationality": "TJ"}], **change}
    return dict(call(member, "POST", "requests", json=body, expect=201))


def test_a_request_crosses_the_border_and_is_answered_in_time(
        three: dict[str, Member]) -> None:
    tj, kg, post = three["tj-ncc"], three["kg-ncc"], three["kg-batken-post"]
    sent = ask(tj)
    photo = jpeg_with_gps()
    attached = call(tj, "POST", f"attachments?record_id={sent['id']}&name=courier.jpg",
                    content=photo, headers={"Content-Type": "image/jpeg"}, expect=201)
    assert attached["body"]["location"]["lon"] == pytest.approx(GPS_LON, abs=1e-3)
    asked = call(tj, "POST", "messages", expect=201, json={
        "record_id": sent["id"], "text": "@duty-officer@kg-ncc urgent, please"})
    push(three, "tj-ncc")
    # The mention is kg-ncc's to tell, when the message arrives there; once, even if the
    # message were followed again.
    assert tj.watch.follow_once() == 0 and kg.watch.follow_once() == 1
    assert told(kg, asked["id"], "mentioned") == ["duty-officer"]
    push(three, "tj-ncc")
    assert kg.watch.catch_up() == 0 and told(kg, asked["id"], "mentioned") == ["duty-officer"]

    inbox = call(kg, "GET", "requests?box=in")["items"]
    assert [r["id"] for r in inbox] == [sent["id"]]
    got = inbox[0]
    assert got["origin"] == "tj-ncc" and got["provenance"] == ["tj-ncc"]
    assert "personal" not in got["body"] and got["body"]["personal_withheld"] is True
    assert got["state"]["status"] == "sent" and got["state"]["overdue"] is False
    # The photo arrived without its GPS tags; its place only at section precision.
    (copy,) = call(kg, "GET", f"attachments?record_id={sent['id']}")
    assert copy["body"]["sha256"] == attached["body"]["sha256"]
    place = copy["body"]["location"]
    assert (place["lon"], place["lat"]) != pytest.approx((GPS_LON, GPS_LAT), abs=1e-3)
    assert place["precision_m"] > 1000 and copy["body"]["section_id"].startswith("KG-TJ-")
    served = httpx.get(f"{kg.url}{copy['url']}", headers=kg.headers(Role.operator))
    assert served.status_code == 200 and served.content == photo_without_gps(tj, attached)
    assert not has_gps(served.content)
    assert [m["body"]["mentions"] for m in call(kg, "GET", f"messages?record_id={sent['id']}")
            ] == [[{"user": "duty-officer", "node": "kg-ncc"}]]

    # Forwarding to the post without the originator's consent: refused by the API ...
    refused = call(kg, "POST", f"requests/{sent['id']}/responses", role=Role.duty_officer,
                   json={"action": "forward", "forward_to": "kg-batken-post"}, expect=422)
    assert refused["detail"][0]["type"] == "forward_not_allowed"
    # ... and a forward written past the API is withheld by the sharing function.
    write_record(kg.node.engine, RecordKind.request_for_information, {
        **{k: v for k, v in got["body"].items() if k != "personal_withheld"},
        "to_node": "kg-batken-post", "forwarded_from": {"id": sent["id"], "origin": "tj-ncc"}},
        node_id="kg-ncc")
    own = ask(kg, to_node="kg-batken-post", title="Anything at Batken?", persons=[])
    push(three, "kg-ncc")
    held = list_records(post.node.engine, RecordKind.request_for_information)
    assert [r.id for r in held] == [own["id"]]  # the link works; the forward stayed home

    for action, text in (("acknowledge", ""), ("answer", "Two couriers seen on 3 May; "
                                                         "report attached to event 42")):
        call(kg, "POST", f"requests/{sent['id']}/responses", role=Role.liaison,
             json={"action": action, "text": text}, expect=201)
    answered = call(kg, "POST", "messages", expect=201,
                    json={"record_id": sent["id"], "text": "Answered. @liaison@tj-ncc"})
    push(three, "kg-ncc")
    # kg-ncc has a "liaison" too, and wrote the message: only tj-ncc's is told.
    assert kg.watch.follow_once() == 0 and tj.watch.follow_once() == 1
    assert told(tj, answered["id"], "mentioned") == ["liaison"]
    assert told(kg, answered["id"], "mentioned") == []
    request = call(tj, "GET", f"requests/{sent['id']}")
    assert request["state"]["status"] == "answered"
    assert request["state"]["answered_in_time"] is True
    assert [r["body"]["action"] for r in request["responses"]] == ["acknowledge", "answer"]
    assert all(r["origin"] == "kg-ncc" for r in request["responses"])
    assert [m["origin"] for m in request["thread"]] == ["tj-ncc", "kg-ncc"]
    assert request["body"]["personal"]["persons"][0]["full_name"] == "Karimov Aziz"  # at home
    stats = call(tj, "GET", "requests/stats?box=out")
    assert stats["groups"][0]["group"] == "kg-ncc" and stats["groups"][0]["answered_in_time"] == 1


def test_a_received_file_is_kept_only_if_it_is_what_its_record_says(
        three: dict[str, Member], caplog: pytest.LogCaptureFixture) -> None:
    tj, kg = three["tj-ncc"], three["kg-ncc"]
    sent = ask(tj, persons=[])
    note = b"Isfara crossing log, 3 May: two men on foot at 02:10\n"
    honest = call(tj, "POST", f"attachments?record_id={sent['id']}&name=log.txt",
                  content=note, headers={"Content-Type": "text/plain"}, expect=201)
    # A PDF passed off as a photo, written past the API's checks (as a faulty or hostile
    # node might send it): its hash and size are right, its type is not.
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    put_file(tj.node.engine, pdf, "image/jpeg")
    forged = write_record(tj.node.engine, RecordKind.attachment, {
        **honest["body"], "sha256": sha256_of(pdf), "size": len(pdf), "media_type": "image/jpeg",
        "name": "courier.jpg", "original_sha256": sha256_of(pdf)}, node_id="tj-ncc")
    with caplog.at_level("WARNING", logger="sitcen"):
        push(three, "tj-ncc")
    held = {a["id"]: a for a in call(kg, "GET", f"attachments?record_id={sent['id']}")}
    assert set(held) == {honest["id"], forged.id}  # both records arrived ...
    assert get_file(kg.node.engine, honest["body"]["sha256"]) is not None
    assert get_file(kg.node.engine, sha256_of(pdf)) is None  # ... the forged bytes did not
    call(kg, "GET", held[forged.id]["url"][len("/api/v1/"):], expect=404)
    assert any("said to be image/jpeg is application/pdf" in r.getMessage()
               for r in caplog.records)


def photo_without_gps(member: Member, attached: dict[str, Any]) -> bytes:
    """The bytes the originator kept (already stripped), read from its own API."""
    answer = httpx.get(f"{member.url}{attached['url']}", headers=member.headers(Role.operator))
    assert answer.status_code == 200
    return answer.content


def test_forwarding_with_consent_reaches_the_third_node_and_overdue_is_flagged(
        three: dict[str, Member]) -> None:
    tj, kg, post = three["tj-ncc"], three["kg-ncc"], three["kg-batken-post"]
    allowed = ask(tj, forward_allowed=True, title="Vehicle 01 KG 123 ABC")
    soon = ask(tj, title="Who patrols KG-TJ-007 tonight?",
               due_at=iso(datetime.now(UTC) + timedelta(seconds=2)), persons=[])
    push(three, "tj-ncc")
    forwarded, _response = call(kg, "POST", f"requests/{allowed['id']}/responses",
                               role=Role.duty_officer, json={
                                   "action": "forward", "forward_to": "kg-batken-post",
                                   "text": "Please check your logs"}, expect=201)
    assert forwarded["body"]["forwarded_from"]["id"] == allowed["id"]
    push(three, "kg-ncc")
    (at_post,) = call(post, "GET", "requests?box=in")["items"]
    assert at_post["id"] == forwarded["id"] and at_post["origin"] == "kg-ncc"
    assert "Please check your logs" in at_post["body"]["text"]
    call(post, "POST", f"requests/{forwarded['id']}/responses", role=Role.duty_officer,
         json={"action": "answer", "text": "Crossed at Kyzyl-Bel on 2 May"}, expect=201)
    push(three, "kg-batken-post")
    answered = call(kg, "GET", f"requests/{forwarded['id']}")
    assert answered["state"]["status"] == "answered"
    original = call(tj, "GET", f"requests/{allowed['id']}")
    assert original["state"]["status"] == "forwarded"
    assert original["responses"][0]["body"]["forward"]["to_node"] == "kg-batken-post"
    # The post's answer is for kg-ncc: it does not cross to the Tajik centre.
    assert get_record(tj.node.engine, answered["responses"][0]["id"]) is None

    # Nobody answers the second request: once its deadline passes it is overdue, at the
    # originator's outbox and at the addressee's inbox alike.
    def overdue(member: Member, box: str) -> bool:
        items = call(member, "GET", f"requests?box={box}&overdue=true")["items"]
        return any(r["id"] == soon["id"] for r in items)

    wait_until(lambda: overdue(tj, "out") and overdue(kg, "in"), timeout_s=30,
               what="the request flagged overdue on both sides")
    assert call(kg, "GET", "requests/stats?box=in")["total"][0]["overdue"] == 1
    # Each side tells its own people, by its own clock (moved here, not waited for): the
    # liaison officer who sent it at tj-ncc; at kg-ncc nobody handled it yet, so every
    # request handler there. The operators are not told, and nobody twice.
    later = datetime.fromisoformat(soon["state"]["due_at"]) + timedelta(minutes=1)
    for _ in range(2):
        tj.watch.check_deadlines(later)
        kg.watch.check_deadlines(later)
    assert told(tj, soon["id"], "overdue") == ["liaison"]
    assert told(kg, soon["id"], "overdue") == ["admin", "analyst", "duty-officer", "liaison"]
    # The others are not due yet: the one forwarded to the post, at all three nodes.
    assert post.watch.check_deadlines(later) == 0
    assert told(kg, allowed["id"], "overdue") == told(kg, forwarded["id"], "overdue") == []


def test_a_joint_operation_over_two_countries(three: dict[str, Member]) -> None:
    tj, kg = three["tj-ncc"], three["kg-ncc"]
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day = start.date().isoformat()
    plan = {
        "name": "Batken-Isfara 2026", "sections": ["KG-TJ-007", "KG-TJ-008"],
        "countries": ["KG", "TJ"], "starts_at": iso(start),
        "ends_at": iso(start + timedelta(days=5)),
        "participants": [{"node": "kg-ncc", "name": "Border Service (KG)", "country": "KG"},
                         {"node": "tj-ncc", "name": "Border Troops (TJ)", "country": "TJ"}],
        "resources": [
            {"id": "kg-uaz-2", "kind": "asset", "name": "UAZ patrol vehicle", "node": "kg-ncc",
             "home_unit": "Batken detachment", "starts_at": iso(start),
             "ends_at": iso(start + timedelta(days=5))},
            {"id": "tj-team-3", "kind": "team", "name": "Mobile team 3", "node": "tj-ncc",
             "home_unit": "Isfara detachment", "people": 6, "starts_at": iso(start),
             "ends_at": iso(start + timedelta(days=5))}],
        "objectives": [{"id": "o1", "text": "20 joint patrols", "indicator": "patrols",
                        "target": 20}],
        "handling": "AMBER"}
    operation = call(kg, "POST", "operations", role=Role.duty_officer, json=plan, expect=201)
    push(three, "kg-ncc")
    at_tj = call(tj, "GET", f"operations/{operation['id']}")
    assert at_tj["origin"] == "kg-ncc" and len(at_tj["body"]["resources"]) == 2
    for member, counts in ((tj, {"patrols": 3, "persons_checked": 40}),
                           (kg, {"patrols": 4, "vehicles_checked": 12})):
        resource = "tj-team-3" if member is tj else "kg-uaz-2"
        call(member, "POST", f"operations/{operation['id']}/reports", role=Role.duty_officer,
             json={"day": day, "counts": counts, "resources_used": [resource],
                   "remarks": "Joint patrol at Kyzyl-Bel"}, expect=201)
    push(three, "tj-ncc")
    merged = call(kg, "POST", f"operations/{operation['id']}/merged", role=Role.duty_officer,
                  json={"day": day}, expect=201)
    assert merged["body"]["counts"] == {"patrols": 7, "persons_checked": 40,
                                        "vehicles_checked": 12}
    assert {s["origin"] for s in merged["body"]["sources"]} == {"kg-ncc", "tj-ncc"}
    assert merged["body"]["resources_used"] == ["kg-uaz-2", "tj-team-3"] or \
        sorted(merged["body"]["resources_used"]) == ["kg-uaz-2", "tj-team-3"]
    # Only the coordinator merges; the merged day goes back to the participant.
    call(tj, "POST", f"operations/{operation['id']}/merged", role=Role.duty_officer,
         json={"day": day}, expect=422)
    push(three, "kg-ncc")
    reports = call(tj, "GET", f"operations/{operation['id']}/reports")
    assert {(r["origin"], r["body"]["scope"]) for r in reports} == {
        ("tj-ncc", "participant"), ("kg-ncc", "participant"), ("kg-ncc", "merged")}
    assert call(kg, "GET", f"operations/{operation['id']}/evaluation")["current"][
        "objectives"][0]["achieved"] == 7
