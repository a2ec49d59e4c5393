"""User administration (admin role): accounts, passwords, sessions and login locks."""


from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from sitcen.api.deps import Admin, CurrentCredentials, CurrentNode
from sitcen.api.routes.auth import session_public
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.store import audit, second_factor, throttle
from sitcen.store.audit import AuditAction
from sitcen.store.users import (
    Account,
    UnknownUser,
    UserError,
    add_user,
    change_user,
    delete_user,
    get_account,
    list_accounts,
    list_sessions,
    revoke_sessions,
    set_password,
)
from sitcen.times import from_micros, iso
from sitcen.users import Role, SessionPublic, UserAccount, UserPublic

router = APIRouter(prefix="/users", tags=["users"])

Username = Annotated[str, Path(min_length=2, max_length=64, pattern=NO_NUL)]


class UserCreate(BaseModel):
    """A new user of this node."""

    username: str = Field(min_length=2, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)
    role: Role
    full_name: str = Field("", max_length=300, pattern=NO_NUL)


class UserChange(BaseModel):
    """What an administrator changes of a user; fields left out stay as they are."""

    disabled: bool | None = Field(
        None, description="true ends every session of the user at once; false lets them in")
    role: Role | None = None
    full_name: str | None = Field(None, max_length=300, pattern=NO_NUL)


class PasswordReset(BaseModel):
    """A new password an administrator gives a user (it ends all their sessions)."""

    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)


class Revoked(BaseModel):
    """How many sessions were ended."""

    revoked: int


def account_public(node: Node, account: Account, enrolled: set[str] | None = None) -> UserAccount:
    """The administrator's view of a user (``enrolled``: the users with a second factor,
    when known already)."""
    u = account.user
    has_factor = u.username in enrolled if enrolled is not None \
        else second_factor.is_enrolled(node.engine, u.username)
    return UserAccount(username=u.username, full_name=u.full_name, role=u.role,
                       node_id=node.settings.node_id, disabled=u.disabled,
                       created_at=iso(from_micros(account.created_at)),
                       sessions=account.sessions, second_factor=has_factor)


def _account(node: Node, username: str) -> Account:
    try:
        return get_account(node.engine, username)
    except UnknownUser as exc:
        raise NotFound("user", username) from exc


@router.get("", response_model=list[UserAccount])
def read_users(node: CurrentNode, _admin: Admin) -> list[UserAccount]:
    """Every user of the node, with whether it is disabled and its open sessions."""
    enrolled = second_factor.enrolled_users(node.engine)
    return [account_public(node, a, enrolled) for a in list_accounts(node.engine)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(new: UserCreate, node: CurrentNode, admin: Admin) -> UserPublic:
    """Create a user (the password policy of docs/security.md applies)."""
    try:
        user = add_user(node.engine, new.username, new.password, new.role, new.full_name)
    except UserError as exc:
        field = "password" if "password" in str(exc) else "username"
        raise InvalidInput([error(("body", field), str(exc))]) from exc
    audit.record(node.engine, admin.username, AuditAction.user_created, user.username,
                 {"role": user.role, "full_name": user.full_name})
    return UserPublic(username=user.username, full_name=user.full_name, role=user.role,
                      node_id=node.settings.node_id)


@router.get("/{username}", response_model=UserAccount)
def read_user(username: Username, node: CurrentNode, _admin: Admin) -> UserAccount:
    """One user."""
    return account_public(node, _account(node, username))


@router.patch("/{username}", response_model=UserAccount)
def update_user(username: Username, change: UserChange, node: CurrentNode,
                admin: Admin) -> UserAccount:
    """Disable or re-enable a user, change their role or name.

    Disabling ends every session of the user: their next request is refused.
    The node's last active administrator can be neither disabled nor demoted.
    """
    _account(node, username)
    try:
        account = change_user(node.engine, username, disabled=change.disabled, role=change.role,
                              full_name=change.full_name)
    except UserError as exc:
        field = "disabled" if change.disabled else "role"
        raise InvalidInput([error(("body", field), str(exc), "last_admin")]) from exc
    audit.record(node.engine, admin.username, AuditAction.user_changed, username,
                 change.model_dump(mode="json", exclude_none=True))
    return account_public(node, account)


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT)
def remove_user(username: Username, node: CurrentNode, admin: Admin) -> None:
    """Delete a user and end their sessions (records they wrote keep their name)."""
    _account(node, username)
    try:
        delete_user(node.engine, username)
    except UserError as exc:
        raise InvalidInput([error(("path", "username"), str(exc), "last_admin")]) from exc
    audit.record(node.engine, admin.username, AuditAction.user_deleted, username)


@router.post("/{username}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(username: Username, reset: PasswordReset, node: CurrentNode,
                   admin: Admin) -> None:
    """Give a user a new password: their sessions end and a login lock is lifted."""
    _account(node, username)
    try:
        set_password(node.engine, username, reset.password)
    except UserError as exc:
        raise InvalidInput([error(("body", "password"), str(exc), "weak_password")]) from exc
    throttle.clear(node.engine, username)
    audit.record(node.engine, admin.username, AuditAction.password_reset, username)


@router.post("/{username}/unlock", status_code=status.HTTP_204_NO_CONTENT)
def unlock_user(username: Username, node: CurrentNode, admin: Admin) -> None:
    """Lift the login lock that wrong passwords put on the account."""
    _account(node, username)
    throttle.clear(node.engine, username)
    audit.record(node.engine, admin.username, AuditAction.login_unlocked, username)


@router.get("/{username}/sessions", response_model=list[SessionPublic])
def read_sessions(username: Username, node: CurrentNode, _admin: Admin,
                  credentials: CurrentCredentials) -> list[SessionPublic]:
    """A user's open sessions and tokens, newest first."""
    _account(node, username)
    return [session_public(s, credentials.token) for s in list_sessions(node.engine, username)]


@router.delete("/{username}/sessions", response_model=Revoked)
def revoke_all_sessions(username: Username, node: CurrentNode, admin: Admin) -> Revoked:
    """End every session of a user (the account stays enabled)."""
    _account(node, username)
    revoked = revoke_sessions(node.engine, username)
    audit.record(node.engine, admin.username, AuditAction.session_revoked, "*",
                 {"of": username, "revoked": revoked})
    return Revoked(revoked=revoked)


@router.delete("/{username}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_one_session(username: Username, session_id: str, node: CurrentNode,
                       admin: Admin) -> None:
    """End one session of a user."""
    _account(node, username)
    if not revoke_sessions(node.engine, username, session_id):
        raise NotFound("session", session_id)
    audit.record(node.engine, admin.username, AuditAction.session_revoked, session_id,
                 {"of": username})


@router.delete("/{username}/second-factor", status_code=status.HTTP_204_NO_CONTENT)
def reset_second_factor(username: Username, node: CurrentNode, admin: Admin) -> None:
    """Remove a user's second factor (a lost or replaced phone): they log in with the
    password alone, or, if their role demands a code, set a new one up at the next login."""
    _account(node, username)
    if not second_factor.remove(node.engine, username):
        raise NotFound("second factor of user", username)
    audit.record(node.engine, admin.username, AuditAction.second_factor_reset, username)
