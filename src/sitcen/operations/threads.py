"""Discussion threads on any record: messages of the writer's node, with mentions.

A message is a ``thread_message`` record of the node its writer works on,
pointing at the record discussed (an event, an alert, a request, a joint
operation...). It travels where that record may go, and back to the nodes
that already hold it, so both sides of a request or every participant of an
operation read one thread. ``@username`` mentions a user of the writer's
node, ``@username@node-id`` one of another node. A mentioned user is told
(:func:`notify_mentions`) by their own node, when the message is written there
or when it arrives there, and only if they may read the message. Knows no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from sitcen.errors import InvalidInput, error
from sitcen.events import NO_NUL
from sitcen.operations.audience import Audience
from sitcen.operations.notifications import notify_users
from sitcen.operations.references import HeldRecord
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, list_records, write_record

#: Kinds of record a thread may be opened on.
DISCUSSABLE = (RecordKind.event, RecordKind.alert, RecordKind.request_for_information,
               RecordKind.request_response, RecordKind.joint_operation,
               RecordKind.operation_report, RecordKind.section_assessment)

_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{1,63}?)(?:@([a-z0-9][a-z0-9-]{1,62}))?"
                      r"(?=$|[^\w.@-]|[.](?:$|\s))")


class MessageCreate(BaseModel):
    """A message in the thread of a record."""

    model_config = ConfigDict(extra="forbid")

    record_id: UUID
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    reply_to: UUID | None = None


def mentions_in(text: str, own_node: str) -> list[dict[str, str]]:
    """The users a text mentions, as ``{"user", "node"}``, in order, each once."""
    found: list[dict[str, str]] = []
    for match in _MENTION.finditer(text):
        mention = {"user": match.group(1), "node": match.group(2) or own_node}
        if mention not in found:
            found.append(mention)
    return found


def post_message(engine: sa.Engine, node_id: str, record: HeldRecord, item: MessageCreate, *,
                 by: str) -> StoredRecord:
    """Write a message of this node in the thread of ``record``."""
    if record.kind not in DISCUSSABLE:
        raise InvalidInput([error(("body", "record_id"), f"a {record.kind} has no thread",
                                  "wrong_kind")])
    if not item.text.strip():
        raise InvalidInput([error(("body", "text"), "write something", "missing")])
    body: dict[str, Any] = {
        "record_id": record.id, "record_kind": record.kind, "record_origin": record.origin,
        "text": item.text, "mentions": mentions_in(item.text, node_id),
        "reply_to": None if item.reply_to is None else str(item.reply_to),
        "handling": record.handling, "by": by,
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return write_record(engine, RecordKind.thread_message, body, node_id=node_id)


def thread_of(engine: sa.Engine, record_id: str) -> list[StoredRecord]:
    """The messages on a record this node holds (its own and received), oldest first."""
    found = list_records(engine, RecordKind.thread_message, subject=record_id, limit=10_000)
    return sorted(found, key=lambda m: (str(m.body.get("at", "")), m.recorded_at))


def mentioned_here(body: Mapping[str, Any], origin: str, node_id: str) -> list[str]:
    """The users of ``node_id`` a message (of node ``origin``) mentions, writer left out."""
    writer = body.get("by") if origin == node_id else None
    named = [m.get("user") for m in body.get("mentions") or ()
             if isinstance(m, Mapping) and m.get("node") == node_id]
    return [u for u in dict.fromkeys(named) if isinstance(u, str) and u != writer]


def notify_mentions(engine: sa.Engine, node_id: str, messages: Iterable[StoredRecord], *,
                    audience: Audience) -> dict[str, list[str]]:
    """Tell the users of this node whom messages mention; the users told, per message.

    A message of this node tells the users it names without a node; one that
    arrived from another node tells those it names as ``@user@<this node>``. A
    user who may not read the message, or who does not exist here, is not told;
    nobody is told twice about the same message (``reason``: ``mentioned``).
    """
    told: dict[str, list[str]] = {}
    for message in messages:
        users = mentioned_here(message.body, message.origin, node_id)
        if not users:
            continue
        writer = f"{message.body.get('by') or '?'}@{message.origin}"
        done = notify_users(engine, node_id, users, kind=RecordKind.thread_message,
                            record_id=message.id, reason="mentioned",
                            text=str(message.body.get("text") or ""), by=writer,
                            audience=audience)
        if done:
            told[message.id] = done
    return told
