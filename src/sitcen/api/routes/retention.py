"""Retention and legal holds (admin role): the policy in force, a purge now, the holds."""


from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from sitcen.api.deps import Admin, CurrentNode
from sitcen.errors import InvalidInput, NotFound, Refused, error
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.operations.retention import (
    HOLD_SCOPES,
    Hold,
    RetentionError,
    RetentionPolicy,
    add_hold,
    list_holds,
    load_policy,
    purge,
    release_hold,
)
from sitcen.store.cursors import read_cursor
from sitcen.times import from_micros, iso

router = APIRouter(tags=["retention"])


class RetentionState(BaseModel):
    """The policy in force (none: nothing is purged) and when the last purge ran."""

    policy: dict[str, Any] | None
    last_purge: str | None


class PurgeAnswer(BaseModel):
    """What a purge removed (or, dry, would remove), and its proof."""

    dry_run: bool
    counts: dict[str, int]
    held: int = Field(description="records past their time kept by a legal hold")
    proof: dict[str, Any]
    signature: str | None


class HoldCreate(BaseModel):
    """What a legal hold covers and why."""

    scope: str = Field(description=f"one of {', '.join(HOLD_SCOPES)}")
    value: str = Field(min_length=1, max_length=128, pattern=NO_NUL,
                       description="the event's id, the section's id or the kind")
    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL,
                        description="the case or order that requires it")


class HoldPublic(BaseModel):
    """A legal hold."""

    id: str
    scope: str
    value: str
    reason: str
    held_by: str
    held_at: str
    released_by: str | None
    released_at: str | None


def _public(hold: Hold) -> HoldPublic:
    return HoldPublic(id=hold.id, scope=hold.scope, value=hold.value, reason=hold.reason,
                      held_by=hold.held_by, held_at=iso(from_micros(hold.held_at)),
                      released_by=hold.released_by,
                      released_at=None if hold.released_at is None
                      else iso(from_micros(hold.released_at)))


def _policy(node: Node) -> RetentionPolicy | None:
    path = node.settings.retention_file
    if path is None:
        return None
    try:
        return load_policy(path)
    except RetentionError as exc:
        raise Refused(str(exc), status=status.HTTP_409_CONFLICT, kind="bad_policy") from exc


@router.get("/retention", response_model=RetentionState)
def read_retention(node: CurrentNode, _admin: Admin) -> RetentionState:
    """The retention policy in force and when the last purge ran."""
    from sitcen.operations.retention import LAST_PURGE

    policy = _policy(node)
    last = read_cursor(node.engine, LAST_PURGE)
    return RetentionState(policy=None if policy is None else policy.model_dump(mode="json"),
                          last_purge=None if last is None else iso(from_micros(last)))


@router.post("/retention/purge", response_model=PurgeAnswer)
def run_purge(node: CurrentNode, admin: Admin,
              dry_run: Annotated[bool, Query(description="say what would go")] = True,
              ) -> PurgeAnswer:
    """Purge now what the policy says is past its time (a dry run unless dry_run=false)."""
    policy = _policy(node)
    if policy is None:
        raise Refused("this node has no retention policy (SITCEN_RETENTION_FILE)",
                      status=status.HTTP_409_CONFLICT, kind="no_policy")
    report = purge(node.engine, node.settings.node_id, policy, now=datetime.now(UTC),
                   identity=node.identity, dry_run=dry_run, by=admin.username)
    return PurgeAnswer(dry_run=report.dry_run, counts=report.counts, held=report.held,
                       proof=report.proof, signature=report.signature)


@router.get("/legal-holds", response_model=list[HoldPublic])
def read_holds(node: CurrentNode, _admin: Admin,
               all: Annotated[bool, Query(description="released holds too")] = False,
               ) -> list[HoldPublic]:
    """The legal holds in force (or every one), oldest first."""
    return [_public(h) for h in list_holds(node.engine, active_only=not all)]


@router.post("/legal-holds", status_code=status.HTTP_201_CREATED, response_model=HoldPublic)
def create_hold(item: HoldCreate, node: CurrentNode, admin: Admin) -> HoldPublic:
    """Keep an event, a border section or a whole kind from the purge until released."""
    try:
        return _public(add_hold(node.engine, item.scope, item.value, item.reason,
                                admin.username))
    except RetentionError as exc:
        field = "scope" if "covers" in str(exc) else "value"
        raise InvalidInput([error(("body", field), str(exc))]) from exc


@router.delete("/legal-holds/{hold_id}", response_model=HoldPublic)
def end_hold(hold_id: Annotated[str, Path(max_length=64, pattern=NO_NUL)],
             node: CurrentNode, admin: Admin) -> HoldPublic:
    """Release a legal hold (what it covered is purged at the next pass if due)."""
    try:
        return _public(release_hold(node.engine, hold_id, admin.username))
    except RetentionError as exc:
        if "no legal hold" in str(exc):
            raise NotFound("legal hold", hold_id) from exc
        raise Refused(str(exc), status=status.HTTP_409_CONFLICT, kind="released") from exc
