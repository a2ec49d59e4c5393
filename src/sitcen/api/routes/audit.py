"""The audit trail (admin role): read it, and check that no entry was changed or removed."""


from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sitcen.api.deps import Admin, CurrentNode
from sitcen.errors import InvalidInput, error
from sitcen.events import NO_NUL
from sitcen.operations.audit_anchors import anchors_held
from sitcen.store import audit
from sitcen.times import from_micros, iso, to_micros, to_utc

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    """One entry of the trail with its place in the hash chain."""

    seq: int
    at: str
    actor: str = Field(description="username, 'cli' for a command on the server, or 'system'")
    action: audit.AuditAction
    subject: str = Field(description="what it was done to: a user, an event id, a section")
    detail: str = Field(description="canonical JSON, exactly as hashed")
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """A page of entries, oldest first, and where the next page starts."""

    entries: list[AuditEntryPublic]
    next_after: int | None = Field(description="pass as after_seq for the next page")


class AuditVerification(BaseModel):
    """What checking the whole chain found."""

    ok: bool
    entries: int
    head: str = Field(description="the hash of the last entry: note it to detect later "
                                  "removal of entries at the end")
    problems: list[str]
    anchors: int = Field(description="anchors of the trail compared with it")


def _bound(name: str, value: datetime | None) -> int | None:
    if value is None:
        return None
    try:
        return to_micros(to_utc(value))
    except ValueError as exc:
        raise InvalidInput([error(("query", name), str(exc), "datetime")]) from exc


@router.get("", response_model=AuditPage)
def read_audit(
    node: CurrentNode,
    _admin: Admin,
    actor: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    action: audit.AuditAction | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Entries of the audit trail, oldest first, filtered by person, action and time."""
    found: list[AuditEntryPublic] = []
    for entry in audit.entries(node.engine, actor=actor,
                               action=None if action is None else str(action),
                               since_us=_bound("since", since), until_us=_bound("until", until),
                               after_seq=after_seq):
        found.append(AuditEntryPublic(**{**entry.as_dict(), "at": iso(from_micros(entry.at))}))
        if len(found) > limit:
            break
    more = len(found) > limit
    found = found[:limit]
    return AuditPage(entries=found, next_after=found[-1].seq if more else None)


@router.get("/verify", response_model=AuditVerification)
def verify_audit(node: CurrentNode, _admin: Admin) -> AuditVerification:
    """Check the whole chain: every entry unchanged, none removed or reordered, and the
    node's own anchors still matching."""
    check = audit.verify(node.engine)
    anchors = anchors_held(node.engine, node.settings.node_id)
    check.problems.extend(audit.check_anchors(node.engine, anchors))
    return AuditVerification(ok=check.ok, entries=check.entries, head=check.head,
                             problems=check.problems, anchors=len(anchors))


class AuditAnchor(BaseModel):
    """The head of a node's trail as it was anchored."""

    origin: str
    seq: int
    hash: str
    anchored_at: str


@router.get("/anchors", response_model=list[AuditAnchor])
def read_anchors(node: CurrentNode, _admin: Admin,
                 origin: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
                 ) -> list[AuditAnchor]:
    """Anchors of a node's trail held here (default: this node's), oldest first: a peer's
    copies are what an inspector compares that node's trail with."""
    return [AuditAnchor.model_validate(a)
            for a in anchors_held(node.engine, origin or node.settings.node_id)]
