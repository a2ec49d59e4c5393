"""Requests for information and assistance: inbox, outbox, responses, answer-time figures."""


import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from sitcen.api.deps import CurrentNode, Reader, RequestHandler, sees_personal
from sitcen.exchange.links import list_peers
from sitcen.node import Node
from sitcen.operations.attachments import attachments_of, public_attachment
from sitcen.operations.requests import (
    Box,
    RequestCreate,
    RequestStatus,
    RequestUpdate,
    ResponseCreate,
    answer_statistics,
    create_request,
    get_request,
    list_requests,
    public_request,
    respond,
    responses_of,
    update_request,
)
from sitcen.operations.threads import thread_of

router = APIRouter(prefix="/requests", tags=["requests"])


class Direction(StrEnum):
    """Which box: requests addressed to this node, or sent by it."""

    incoming = "in"
    outgoing = "out"


class GroupBy(StrEnum):
    counterpart = "counterpart"
    priority = "priority"
    all = "all"


def _linked(node: Node) -> list[str]:
    return [p.node_id for p in list_peers(node.engine)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_request_for_information(item: RequestCreate, node: CurrentNode,
                                   user: RequestHandler) -> dict[str, Any]:
    """Send a request for information or assistance to a linked node, agency or unit"""
    now = datetime.now(UTC)
    record = create_request(node.engine, node.settings.node_id, item, by=user.username,
                            reachable=_linked(node), now=now)
    return public_request(record, [], now, personal=True)


@router.get("")
def read_requests(node: CurrentNode, user: Reader,
                  box: Annotated[Direction, Query(description="in: addressed to this node; "
                                                  "out: sent by it")] = Direction.incoming,
                  mine: bool = False, status_: Annotated[RequestStatus | None,
                                                         Query(alias="status")] = None,
                  overdue: bool | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    """The node's inbox or outbox of requests (or the user's own), newest first, with state"""
    selection = Box(box.value, user.username if mine else None,
                    None if status_ is None else status_.value, overdue)
    items = list_requests(node.engine, node.settings.node_id, selection, datetime.now(UTC),
                          personal=sees_personal(user), limit=limit)
    return {"box": box.value, "items": items,
            "overdue": sum(1 for i in items if i["state"]["overdue"])}


@router.get("/stats")
def read_request_statistics(node: CurrentNode, user: Reader,
                            box: Direction = Direction.incoming,
                            by: GroupBy = GroupBy.counterpart) -> dict[str, Any]:
    """Answer-time figures: requests answered, declined, overdue, in time; hours to answer"""
    items = list_requests(node.engine, node.settings.node_id, Box(box.value), datetime.now(UTC),
                          personal=False, limit=1_000_000)
    return {"box": box.value, "by": by.value, "groups": answer_statistics(items, by=by.value),
            "total": answer_statistics(items, by="all")}


@router.get("/{request_id}")
def read_request(request_id: uuid.UUID, node: CurrentNode, user: Reader) -> dict[str, Any]:
    """One request with its state, responses, attached files and discussion thread"""
    request = get_request(node.engine, str(request_id))
    responses = responses_of(node.engine, request.id)
    item = public_request(request, responses, datetime.now(UTC), personal=sees_personal(user))
    item["responses"] = [r.to_dict() for r in responses]
    files = {request.id: attachments_of(node.engine, request.id)}
    for response in responses:
        files[response.id] = attachments_of(node.engine, response.id)
    item["attachments"] = {k: [public_attachment(a) for a in v] for k, v in files.items() if v}
    item["thread"] = [m.to_dict() for m in thread_of(node.engine, request.id)]
    return item


@router.patch("/{request_id}")
def update_request_status(request_id: uuid.UUID, item: RequestUpdate, node: CurrentNode,
                          user: RequestHandler) -> dict[str, Any]:
    """Withdraw or close a request this node sent (a new version of it)"""
    now = datetime.now(UTC)
    record = update_request(node.engine, node.settings.node_id, str(request_id), item,
                            by=user.username, now=now)
    return public_request(record, responses_of(node.engine, record.id), now, personal=True)


@router.post("/{request_id}/responses", status_code=status.HTTP_201_CREATED)
def create_response(request_id: uuid.UUID, item: ResponseCreate, node: CurrentNode,
                    user: RequestHandler) -> list[dict[str, Any]]:
    """Acknowledge, ask back, answer, forward (if allowed), decline, or clarify a request"""
    written = respond(node.engine, node.settings.node_id, str(request_id), item,
                      by=user.username, reachable=_linked(node), now=datetime.now(UTC))
    return [r.to_dict() for r in written]


@router.get("/{request_id}/responses")
def read_responses(request_id: uuid.UUID, node: CurrentNode,
                   _user: Reader) -> list[dict[str, Any]]:
    """Every response to a request this node holds (both sides'), in order"""
    get_request(node.engine, str(request_id))
    return [r.to_dict() for r in responses_of(node.engine, str(request_id))]
