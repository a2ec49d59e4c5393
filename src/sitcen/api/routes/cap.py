"""CAP 1.2: alerts and section impact levels as an Atom feed and as messages on demand.

Readers of the picture get every alert and confirmed level the node holds, as
from ``/alerts`` and ``/levels``. A ``liaison`` user named in
``SITCEN_PARTNER_USERS`` speaks for a partner node: they get only what
:func:`sitcen.exchange.sharing.share` lets that partner see under the
agreement this node grants it (nothing when the node has no link to it).
"""


import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from sitcen.api.deps import CurrentNode, Reader
from sitcen.errors import NotFound, Refused
from sitcen.exchange.agreements import Agreement
from sitcen.exchange.outbox import held_records
from sitcen.exchange.partners import audience_of
from sitcen.exchange.sharing import SharedRecord, section_infos, share
from sitcen.geo import BorderSection
from sitcen.interop.cap import (
    ATOM_MEDIA_TYPE,
    CAP_MEDIA_TYPE,
    CapRecord,
    FeedEntry,
    atom_feed,
    cap_message,
    to_xml,
)
from sitcen.node import Node
from sitcen.store.alerts import list_alerts
from sitcen.store.journal import JournalEntry
from sitcen.store.levels import current_levels
from sitcen.store.records import StoredRecord, get_record, record_history
from sitcen.store.users import StoredUser
from sitcen.times import to_micros

router = APIRouter(prefix="/cap", tags=["cap"])

_KINDS = ("alert", "section_assessment")
_FEED_NAMESPACE = uuid.UUID("1f6b0d3c-7e2a-4c95-b8d1-4a3e9c7f2b60")


class _Audience:
    """Who reads: the node's own users (everything), or a partner (what share() allows)."""

    def __init__(self, node: Node, user: StoredUser) -> None:
        self.node = node
        audience = audience_of(node.engine, node.settings.node_id, user.username,
                               node.settings.partner_users)
        if audience.unlinked:
            raise Refused(f"{user.username} speaks for {audience.partner}, which this node has "
                          "no link to: nothing is shared with it")
        self.agreement: Agreement | None = audience.agreement
        if self.agreement is not None:
            self.sections = section_infos(node.sections.sections)

    def held(self, record: StoredRecord) -> tuple[SharedRecord, list[str]] | None:
        """The record as the sharing function takes it, with the nodes it came through."""
        entry = JournalEntry(0, record.origin, record.id, record.version, record.kind,
                             to_micros(record.recorded_at))
        with self.node.engine.connect() as conn:
            found = held_records(conn, [entry], self.node.settings.node_id)
        return (found[0][1], found[0][2]) if found else None

    def view(self, record: StoredRecord, body: dict[str, Any] | None = None,
             version: int | None = None) -> dict[str, Any] | None:
        """The body this audience may see of (a version of) a record, or None."""
        if self.agreement is None:
            return dict(body if body is not None else record.body)
        held = self.held(record)
        if held is None or self.agreement.to_node in held[1]:
            return None
        shared, _ = held
        if body is not None and version is not None:
            shared = SharedRecord(shared.kind, shared.origin, shared.id, version, dict(body),
                                  shared.sharing)
        out = share(shared, self.agreement, now=datetime.now(UTC), sections=self.sections)
        return None if out is None else out.body


def _section(node: Node, body: dict[str, Any]) -> BorderSection | None:
    section_id = body.get("section_id")
    if not isinstance(section_id, str):
        return None
    try:
        return node.sections.section(section_id)
    except KeyError:
        return None


def _versions(audience: _Audience, record: StoredRecord) -> list[CapRecord]:
    """Every version of a record this audience may see, oldest first."""
    if audience.view(record) is None:
        return []  # a record out of scope now is withdrawn with its history
    seen: list[CapRecord] = []
    for v in record_history(audience.node.engine, record.id):
        body = audience.view(record, v["body"], v["version"])
        if body is None:
            continue
        seen.append(CapRecord(record.kind, record.id, record.origin, v["version"], body,
                              v["recorded_at"], tuple((c.version, c.sent) for c in seen)))
    return seen


def _title(record: CapRecord) -> str:
    body = record.body
    area = body.get("section_id") or "inland"
    if record.kind == "alert":
        return f"{str(body.get('severity', '')).capitalize()} early-warning alert: {area}"
    return f"Impact level {body.get('level')}: {area}"


def _xml(content: bytes, media_type: str) -> Response:
    return Response(content, media_type=f"{media_type}; charset=utf-8")


@router.get("/alerts.atom", response_class=Response,
            responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}})
def read_cap_feed(
    request: Request, node: CurrentNode, user: Reader,
    limit: Annotated[int, Query(ge=1, le=1000, description="messages, newest first")] = 200,
) -> Response:
    """Atom feed of the latest CAP message of each alert and section impact level."""
    audience = _Audience(node, user)
    records = [*list_alerts(node.engine, limit=limit),
               *current_levels(node.engine, node.settings.node_id).values()]
    records.sort(key=lambda r: (r.recorded_at, r.id), reverse=True)
    entries = []
    for record in records:
        body = audience.view(record)
        if body is None:
            continue
        cap = CapRecord(record.kind, record.id, record.origin, record.version, body,
                        record.recorded_at)
        url = str(request.url_for("read_cap_message", record_id=record.id))
        entries.append(FeedEntry(cap, _title(cap), f"{url}?version={record.version}"))
        if len(entries) == limit:
            break
    updated = entries[0].record.sent if entries else datetime(2000, 1, 1, tzinfo=UTC)
    reader = audience.agreement.to_node if audience.agreement else node.settings.node_id
    feed_id = f"urn:uuid:{uuid.uuid5(_FEED_NAMESPACE, f'{node.settings.node_id}/{reader}')}"
    return _xml(atom_feed(entries, feed_id=feed_id,
                          title=f"sitcen {node.settings.node_name}: alerts and section "
                                "impact levels",
                          self_url=str(request.url), updated=updated), ATOM_MEDIA_TYPE)


@router.get("/alerts/{record_id}.xml", response_class=Response,
            responses={200: {"content": {CAP_MEDIA_TYPE: {}}}})
def read_cap_message(
    record_id: uuid.UUID, node: CurrentNode, user: Reader,
    version: Annotated[int | None, Query(ge=1, description="default: the current one")] = None,
) -> Response:
    """One alert or section impact level as a CAP 1.2 message (a version of it)."""
    audience = _Audience(node, user)
    record = get_record(node.engine, str(record_id))
    missing = NotFound("alert or section impact level", str(record_id),
                       f"no alert or section impact level {record_id}"
                       + ("" if version is None else f" version {version}"))
    if record is None or record.kind not in _KINDS:
        raise missing
    versions = _versions(audience, record)
    chosen = [v for v in versions if version is None or v.version == version]
    if not chosen:
        raise missing
    message = chosen[-1]
    return _xml(to_xml(cap_message(message, section=_section(node, message.body),
                                   sender_name=node.settings.node_name)), CAP_MEDIA_TYPE)
