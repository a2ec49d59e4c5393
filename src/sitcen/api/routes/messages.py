"""Discussion threads: messages on any record (event, alert, request, operation), mentions."""


import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from sitcen.api.deps import CurrentNode, Reader
from sitcen.operations.references import require_record
from sitcen.operations.threads import MessageCreate, post_message, thread_of

router = APIRouter(prefix="/messages", tags=["threads"])


@router.get("")
def read_messages(node: CurrentNode, _user: Reader,
                  record_id: Annotated[uuid.UUID, Query()]) -> list[dict[str, Any]]:
    """The thread of a record: every message this node holds on it, oldest first"""
    return [m.to_dict() for m in thread_of(node.engine, str(record_id))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_message(item: MessageCreate, node: CurrentNode, user: Reader) -> dict[str, Any]:
    """Write in the thread of a record; @user or @user@node mentions someone"""
    record = require_record(node.engine, str(item.record_id), loc=("body", "record_id"))
    return post_message(node.engine, node.settings.node_id, record, item,
                        by=user.username).to_dict()
