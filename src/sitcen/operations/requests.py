"""Requests for information and assistance between centres and agencies, and their answers.

A request is a ``request_for_information`` record of the node that asks,
addressed to one node (``to_node``), optionally to an agency or unit of it.
The addressee never changes it (docs/architecture.md, principle 1): it
reacts with ``request_response`` records of its own — acknowledge, ask back,
answer, forward, decline — addressed back to the originator, who may clarify
(a response of its own) and withdraw or close the request (a new version).

The originator decides whether the request may be forwarded to a third
party (``forward_allowed``) and whether the answer may be passed on
(``answer_onward``). A forward is a new request of the forwarding node that
names the first (``forwarded_from``); the sharing function lets it leave only
when the first request allows forwarding, and lets an answer marked
``onward: false`` leave only from its origin. A request is overdue when its
deadline has passed without an answer or a refusal; each side then tells its
own people once (:func:`notify_overdue`). Knows no HTTP.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL, CountryCode
from sitcen.exchange.sharing import PERSONAL_BLOCK
from sitcen.operations.audience import Audience, load_held
from sitcen.operations.directory import checked_node_id, organisation_node
from sitcen.operations.notifications import notify_users
from sitcen.operations.references import find_record, stricter_handling
from sitcen.store.journal import Record, RecordKind, new_ids, now_micros
from sitcen.store.records import (
    StoredRecord,
    get_record,
    list_records,
    next_version,
    record_row,
    write_own,
)
from sitcen.taxonomy import Handling
from sitcen.times import UtcDatetime
from sitcen.users import Permission


class Priority(StrEnum):
    """How soon an answer is needed."""

    urgent = "urgent"
    normal = "normal"
    routine = "routine"


#: Deadlines when none is given, after the time limits EU law sets for exchanges between
#: law-enforcement authorities (Council Framework Decision 2006/960/JHA, art. 4): urgent
#: requests within 8 hours, others within a week, those needing more work within 14 days.
DEFAULT_DEADLINE: dict[str, timedelta] = {
    Priority.urgent: timedelta(hours=8),
    Priority.normal: timedelta(days=7),
    Priority.routine: timedelta(days=14),
}


class RequestKind(StrEnum):
    information = "information"
    assistance = "assistance"


class ResponseAction(StrEnum):
    """What either side does about a request (each a response record of its node)."""

    acknowledge = "acknowledge"  # addressee: received, being handled
    ask = "ask"  # addressee: a question back
    answer = "answer"  # addressee: the answer (text, records, files)
    forward = "forward"  # addressee: passed to a third party (if allowed)
    decline = "decline"  # addressee: refused, with a reason
    clarify = "clarify"  # originator: answers a question back


ADDRESSEE_ACTIONS = frozenset({ResponseAction.acknowledge, ResponseAction.ask,
                               ResponseAction.answer, ResponseAction.forward,
                               ResponseAction.decline})


class RequestStatus(StrEnum):
    """Where a request stands, as both sides see it."""

    sent = "sent"
    acknowledged = "acknowledged"
    question = "question"  # asked back, waiting for the originator
    forwarded = "forwarded"
    answered = "answered"
    declined = "declined"
    withdrawn = "withdrawn"
    closed = "closed"


#: States in which the addressee still owes an answer (the deadline runs).
PENDING = frozenset({RequestStatus.sent, RequestStatus.acknowledged, RequestStatus.question,
                     RequestStatus.forwarded})

_Strict = ConfigDict(extra="forbid", use_enum_values=True)


class PersonRef(BaseModel):
    """A person the request asks about (personal data)."""

    model_config = _Strict

    full_name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    birth_date: str = Field("", pattern=r"^(\d{4}(-\d{2}(-\d{2})?)?)?$")
    nationality: CountryCode | None = None
    document_number: str = Field("", max_length=64, pattern=NO_NUL)
    note: str = Field("", max_length=500, pattern=NO_NUL)


class RequestBase(BaseModel):
    """A request as the asking side writes it."""

    model_config = _Strict

    to_node: str | None = Field(None, description="the addressee node (or give an organisation)")
    to_organisation_id: UUID | None = Field(
        None, description="an agency or unit of the directory; its node is the addressee")
    kind: RequestKind = RequestKind.information
    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    text: str = Field(min_length=1, max_length=8000, pattern=NO_NUL)
    events: list[UUID] = Field(default_factory=list, max_length=50,
                               description="events this node holds that the request is about")
    sections: list[str] = Field(default_factory=list, max_length=50,
                                description="border sections it is about")
    persons: list[PersonRef] = Field(default_factory=list, max_length=20,
                                     description="persons it asks about (personal data)")
    priority: Priority = Priority.normal
    due_at: UtcDatetime | None = Field(None, description="deadline; default by priority")
    handling: Handling = Handling.amber
    forward_allowed: bool = Field(False, description="the addressee may forward it")
    answer_onward: bool = Field(False, description="the answer may be passed on")

    @field_validator("to_node")
    @classmethod
    def _node(cls, value: str | None) -> str | None:
        return checked_node_id(value, "to_node")


class RequestCreate(RequestBase):
    """A new request."""


class ResponseCreate(BaseModel):
    """A response to a request: acknowledge, ask, answer, forward, decline or clarify."""

    model_config = _Strict

    action: ResponseAction
    text: str = Field("", max_length=8000, pattern=NO_NUL)
    events: list[UUID] = Field(default_factory=list, max_length=50,
                               description="records the answer points at")
    forward_to: str | None = Field(None, description="the third node (forward only)")
    forward_to_organisation_id: UUID | None = None
    onward: bool | None = Field(
        None, description="the answer may be passed on (default: what the request asked)")
    handling: Handling | None = Field(None, description="stricter than the request's, if given")


class RequestUpdate(BaseModel):
    """The originator withdraws or closes its request."""

    model_config = _Strict

    status: RequestStatus
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event_refs(engine: sa.Engine, ids: Sequence[UUID], loc: str) -> list[dict[str, Any]]:
    refs, errors = [], []
    for i, event_id in enumerate(ids):
        found = find_record(engine, str(event_id))
        if found is None or found.kind != "event":
            errors.append(error(("body", loc, i), f"no event {event_id} on this node",
                                "not_found"))
            continue
        refs.append({"id": found.id, "origin": found.origin,
                     "type": found.body.get("type"), "occurred_at": found.body.get("occurred_at"),
                     "section_id": found.body.get("section_id")})
    if errors:
        raise InvalidInput(errors)
    return refs


def _addressee(engine: sa.Engine, to_node: str | None, organisation_id: UUID | None,
               loc: tuple[str, str]) -> tuple[str, dict[str, Any] | None]:
    organisation = None
    if organisation_id is not None:
        try:
            node, body = organisation_node(engine, str(organisation_id))
        except NotFound:
            raise InvalidInput([error(("body", loc[1]), "no such agency or unit in the "
                                      "directory", "not_found")]) from None
        if to_node is not None and to_node != node:
            raise InvalidInput([error(("body", loc[0]), f"the organisation belongs to node "
                                      f"{node}, not {to_node}", "value_error")])
        to_node = node
        organisation = {"id": str(organisation_id), "name": body.get("name"),
                        "agency_type": body.get("agency_type"), "country": body.get("country")}
    if to_node is None:
        raise InvalidInput([error(("body", loc[0]), "name the addressee: a node or an "
                                  "organisation", "missing")])
    return to_node, organisation


def create_request(engine: sa.Engine, node_id: str, item: RequestCreate, *, by: str,
                   reachable: Iterable[str], now: datetime) -> StoredRecord:
    """Write a new request of this node, addressed to a linked node (or to this one)."""
    to_node, organisation = _addressee(engine, item.to_node, item.to_organisation_id,
                                       ("to_node", "to_organisation_id"))
    if to_node != node_id and to_node not in set(reachable):
        raise InvalidInput([error(("body", "to_node"), f"node {to_node} is not linked to this "
                                  "node; a request goes to a linked node", "not_linked")])
    due = item.due_at or now + DEFAULT_DEADLINE[item.priority]
    if due <= now:
        raise InvalidInput([error(("body", "due_at"), "the deadline has already passed",
                                  "value_error")])
    body: dict[str, Any] = {
        "to_node": to_node, "to_organisation": organisation, "kind": item.kind,
        "title": item.title, "text": item.text,
        "events": _event_refs(engine, item.events, "events"),
        "sections": list(dict.fromkeys(item.sections)),
        "priority": item.priority, "due_at": _iso(due), "handling": item.handling,
        "forward_allowed": item.forward_allowed, "answer_onward": item.answer_onward,
        "status": "open", "by": by, "sent_at": _iso(now),
    }
    if item.persons:
        body[PERSONAL_BLOCK] = {"persons": [p.model_dump(mode="json") for p in item.persons]}
    return write_own(engine, [_new(RecordKind.request_for_information, node_id, body)],
                     node_id)[0]


def _new(kind: str, node_id: str, body: Mapping[str, Any]) -> Record:
    return Record(kind, record_row(kind, new_ids(1)[0], node_id, 1, body,
                                   recorded_at=now_micros()))


def get_request(engine: sa.Engine, request_id: str) -> StoredRecord:
    """A request this node holds (:class:`~sitcen.errors.NotFound` if not)."""
    found = get_record(engine, request_id)
    if found is None or found.kind != RecordKind.request_for_information:
        raise NotFound("request", request_id, f"no request {request_id} on this node")
    return found


def responses_of(engine: sa.Engine, request_id: str) -> list[StoredRecord]:
    """Every response to a request this node holds, in the order they were written."""
    found = list_records(engine, RecordKind.request_response, subject=request_id)
    return sorted(found, key=lambda r: (str(r.body.get("at", "")), r.recorded_at))


def respond(engine: sa.Engine, node_id: str, request_id: str, item: ResponseCreate, *, by: str,
            reachable: Iterable[str], now: datetime) -> list[StoredRecord]:
    """Write a response of this node to a request (and, to forward, the forwarded request).

    The addressee acknowledges, asks, answers, forwards or declines; the
    originator clarifies. Forwarding needs the originator's consent.
    """
    request = get_request(engine, request_id)
    action = ResponseAction(item.action)
    body = request.body
    state = request_state(request, responses_of(engine, request_id), now)
    if state["status"] in (RequestStatus.withdrawn, RequestStatus.closed):
        raise InvalidInput([error(("body", "action"), f"the request is {state['status']}",
                                  "closed")])
    if action in ADDRESSEE_ACTIONS and body.get("to_node") != node_id:
        raise InvalidInput([error(("body", "action"), f"only the addressee "
                                  f"({body.get('to_node')}) may {action.value}", "not_addressee")])
    if action == ResponseAction.clarify and request.origin != node_id:
        raise InvalidInput([error(("body", "action"), "only the node that asked clarifies",
                                  "not_originator")])
    if action in (ResponseAction.ask, ResponseAction.decline, ResponseAction.clarify) and \
            not item.text.strip():
        raise InvalidInput([error(("body", "text"), "say what you ask, why you decline or "
                                  "what you clarify", "missing")])
    if action == ResponseAction.answer and not (item.text.strip() or item.events):
        raise InvalidInput([error(("body", "text"), "an answer needs a text or records",
                                  "missing")])
    handling = stricter_handling(str(body.get("handling")), str(item.handling or "CLEAR"))
    to_node = body.get("to_node") if action == ResponseAction.clarify else request.origin
    response: dict[str, Any] = {
        "request_id": request.id, "request_origin": request.origin, "to_node": to_node,
        "action": action.value, "text": item.text,
        "events": _event_refs(engine, item.events, "events"),
        "handling": handling, "by": by, "at": _iso(now),
    }
    if action == ResponseAction.answer:
        # The answer is the answering node's: its word on passing it on wins.
        response["onward"] = bool(body.get("answer_onward")) if item.onward is None \
            else item.onward
    records: list[Record] = []
    if action == ResponseAction.forward:
        if body.get("forward_allowed") is not True:
            raise InvalidInput([error(("body", "action"), "the originator did not allow this "
                                      "request to be forwarded", "forward_not_allowed")])
        third, organisation = _addressee(engine, item.forward_to, item.forward_to_organisation_id,
                                         ("forward_to", "forward_to_organisation_id"))
        if third in (node_id, request.origin) or third not in set(reachable):
            raise InvalidInput([error(("body", "forward_to"), f"forward to a third node linked "
                                      f"to this one, not {third}", "not_linked")])
        forwarded = {
            **{k: v for k, v in body.items() if k not in ("to_node", "to_organisation", "by",
                                                          "sent_at", "status")},
            "to_node": third, "to_organisation": organisation, "status": "open", "by": by,
            "sent_at": _iso(now),
            "forwarded_from": {"id": request.id, "origin": request.origin,
                               "title": body.get("title")},
        }
        if item.text.strip():
            forwarded["text"] = f"{item.text.strip()}\n\n---\n{body.get('text', '')}"
        new_request = _new(RecordKind.request_for_information, node_id, forwarded)
        records.append(new_request)
        response["forward"] = {"to_node": third, "request_id": new_request.id}
    records.append(_new(RecordKind.request_response, node_id, response))
    return write_own(engine, records, node_id)


def update_request(engine: sa.Engine, node_id: str, request_id: str, item: RequestUpdate, *,
                   by: str, now: datetime) -> StoredRecord:
    """The originator withdraws or closes its request (a new version of it)."""
    request = get_request(engine, request_id)
    if item.status not in (RequestStatus.withdrawn, RequestStatus.closed):
        raise InvalidInput([error(("body", "status"), "a request can only be withdrawn or "
                                  "closed", "value_error")])
    if request.origin != node_id:
        raise InvalidInput([error(("body", "status"), f"only {request.origin}, which sent "
                                  "the request, withdraws or closes it", "not_originator")])
    body = {**request.body, "status": str(item.status), "status_by": by,
            "status_at": _iso(now)}
    record = next_version(engine, RecordKind.request_for_information, request_id, body,
                          node_id, item.base_version, request)
    return write_own(engine, [record], node_id)[0]


# ----------------------------------------------------------------------------- state


def _parse(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def request_state(request: StoredRecord, responses: Sequence[StoredRecord],
                  now: datetime) -> dict[str, Any]:
    """Where a request stands: its status, when it was acknowledged and answered, whether
    it is overdue, who handles it. Pure: from the request, its responses and ``now``."""
    body = request.body
    sent = _parse(body.get("sent_at")) or request.recorded_at
    due = _parse(body.get("due_at"))
    first: dict[str, datetime] = {}
    status = RequestStatus.sent
    handler = None
    for response in responses:
        action = response.body.get("action")
        at = _parse(response.body.get("at")) or response.recorded_at
        first.setdefault(str(action), at)
        if action == ResponseAction.acknowledge:
            handler = handler or response.body.get("by")
            if status == RequestStatus.sent:
                status = RequestStatus.acknowledged
        elif action == ResponseAction.ask:
            if status not in (RequestStatus.answered, RequestStatus.declined):
                status = RequestStatus.question
        elif action == ResponseAction.clarify:
            if status == RequestStatus.question:
                status = RequestStatus.acknowledged
        elif action == ResponseAction.forward:
            if status not in (RequestStatus.answered, RequestStatus.declined):
                status = RequestStatus.forwarded
        elif action == ResponseAction.answer:
            status = RequestStatus.answered
        elif action == ResponseAction.decline and status != RequestStatus.answered:
            status = RequestStatus.declined
    if body.get("status") in (RequestStatus.withdrawn, RequestStatus.closed):
        status = RequestStatus(body["status"])
    answered = first.get(ResponseAction.answer)
    settled = answered or first.get(ResponseAction.decline)
    overdue = due is not None and status in PENDING and now > due
    return {
        "status": status.value,
        "overdue": overdue,
        "sent_at": _iso(sent),
        "due_at": _iso(due) if due else None,
        "acknowledged_at": _iso(first[ResponseAction.acknowledge])
        if ResponseAction.acknowledge in first else None,
        "answered_at": _iso(answered) if answered else None,
        "settled_at": _iso(settled) if settled else None,
        "answered_in_time": None if answered is None or due is None else answered <= due,
        "handler": handler,
        "responses": len(responses),
    }


def public_request(request: StoredRecord, responses: Sequence[StoredRecord], now: datetime,
                   *, personal: bool) -> dict[str, Any]:
    """A request as the API shows it: the record, its state, and (for need-to-know) persons."""
    data = request.to_dict()
    if not personal and PERSONAL_BLOCK in request.body:
        body = {k: v for k, v in request.body.items() if k != PERSONAL_BLOCK}
        body["personal_withheld"] = True
        data["body"] = body
    data["state"] = request_state(request, responses, now)
    return data


@dataclass(frozen=True)
class Box:
    """Which requests to list: ``in`` (addressed to this node) or ``out`` (sent by it)."""

    direction: str
    user: str | None = None
    status: str | None = None
    overdue: bool | None = None


def list_requests(engine: sa.Engine, node_id: str, box: Box, now: datetime, *,
                  personal: bool, limit: int = 500) -> list[dict[str, Any]]:
    """A node's inbox or outbox (or one user's), newest first, each with its state."""
    if box.direction == "in":
        found = list_records(engine, RecordKind.request_for_information, subject=node_id,
                             limit=100_000)
        found = [r for r in found if r.origin != node_id or r.body.get("to_node") == node_id]
    else:
        found = list_records(engine, RecordKind.request_for_information, origin=node_id,
                             limit=100_000)
    responses: dict[str, list[StoredRecord]] = {}
    for response in list_records(engine, RecordKind.request_response, limit=1_000_000):
        responses.setdefault(str(response.subject), []).append(response)
    out = []
    for request in found:
        mine = sorted(responses.get(request.id, []),
                      key=lambda r: (str(r.body.get("at", "")), r.recorded_at))
        item = public_request(request, mine, now, personal=personal)
        item["direction"] = box.direction
        state = item["state"]
        if box.user is not None:
            if box.direction == "out" and request.body.get("by") != box.user:
                continue
            if box.direction == "in" and box.user not in {r.body.get("by") for r in mine
                                                          if r.origin == node_id}:
                continue
        if box.status is not None and state["status"] != box.status:
            continue
        if box.overdue is not None and state["overdue"] != box.overdue:
            continue
        out.append(item)
    out.sort(key=lambda r: r["state"]["sent_at"], reverse=True)
    return out[:limit]


def _hours(a: str | None, b: str | None) -> float | None:
    start, end = _parse(a), _parse(b)
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median_h": None, "p90_h": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median_h": round(statistics.median(ordered), 2), "p90_h": p90}


def answer_statistics(items: Iterable[Mapping[str, Any]], *, by: str) -> list[dict[str, Any]]:
    """Answer-time figures of requests (as :func:`list_requests` gives them), per group.

    ``by`` is ``counterpart`` (the other node), ``priority`` or ``all``. Each
    group: how many were sent, answered, declined, still pending, overdue;
    how many answered within the deadline; hours to acknowledge and to
    answer (median and 90th percentile).
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        body, state = item["body"], item["state"]
        if by == "counterpart":
            key = str(body.get("to_node")) if item.get("direction") == "out" \
                else str(item["origin"])
        elif by == "priority":
            key = str(body.get("priority"))
        else:
            key = "all"
        groups.setdefault(key, []).append({"body": body, "state": state})
    rows = []
    for key, members in sorted(groups.items()):
        states = [m["state"] for m in members]
        to_ack = [h for s in states if (h := _hours(s["sent_at"], s["acknowledged_at"]))
                  is not None]
        to_answer = [h for s in states if (h := _hours(s["sent_at"], s["answered_at"]))
                     is not None]
        rows.append({
            "group": key,
            "requests": len(states),
            "answered": sum(s["status"] in ("answered", "closed") and s["answered_at"] is not None
                            for s in states),
            "declined": sum(s["status"] == "declined" for s in states),
            "pending": sum(s["status"] in {p.value for p in PENDING} for s in states),
            "overdue": sum(bool(s["overdue"]) for s in states),
            "answered_in_time": sum(s["answered_in_time"] is True for s in states),
            "acknowledge": _summary(to_ack),
            "answer": _summary(to_answer),
        })
    return rows


# ----------------------------------------------------------------------------- overdue


def overdue_audience(request: StoredRecord, responses: Sequence[StoredRecord],
                     node_id: str) -> list[str]:
    """Who at ``node_id`` is told that a request is overdue, before anyone's rights are checked.

    At the addressee: the users of this node who have handled it (acknowledged,
    asked back, forwarded it). At the originator: the user who sent it, and those
    who clarified it. Both when a node asked itself. Empty when nobody has: then
    every user who handles requests is told (:func:`notify_overdue`).
    """
    named: list[str] = []
    if request.body.get("to_node") == node_id:
        named += [str(r.body["by"]) for r in responses
                  if r.origin == node_id and r.body.get("action") in ADDRESSEE_ACTIONS
                  and r.body.get("by")]
    if request.origin == node_id:
        named += [str(request.body["by"])] if request.body.get("by") else []
        named += [str(r.body["by"]) for r in responses
                  if r.origin == node_id and r.body.get("action") == ResponseAction.clarify
                  and r.body.get("by")]
    return list(dict.fromkeys(named))


def notify_overdue(engine: sa.Engine, node_id: str, now: datetime, *,
                   audience: Audience) -> dict[str, list[str]]:
    """Tell this node's people of each request overdue at ``now``; the users told, per request.

    Looks at the inbox and the outbox alike, so the addressee's and the
    originator's node each tell their own side. The people are those of
    :func:`overdue_audience` who may read the request, or, when none of them
    may, every active user of this node who handles requests (a partner's
    liaison officer excepted). Each is told once per version of the request
    (``reason``: ``overdue``), however often this runs.
    """
    told: dict[str, list[str]] = {}
    seen: set[str] = set()
    for direction in ("in", "out"):
        for item in list_requests(engine, node_id, Box(direction, overdue=True), now,
                                  personal=False, limit=100_000):
            if item["id"] in seen:
                continue
            seen.add(item["id"])
            request = get_request(engine, item["id"])
            held = load_held(engine, RecordKind.request_for_information, request.id)
            if held is None:
                continue
            named = [u for u in overdue_audience(request, responses_of(engine, request.id),
                                                 node_id)
                     if audience.view(u, held) is not None]
            users = named or audience.people_with(Permission.handle_requests)
            done = notify_users(engine, node_id, users,
                                kind=RecordKind.request_for_information, record_id=request.id,
                                reason="overdue", audience=audience)
            if done:
                told[request.id] = done
    return told
