"""Login, logout and who am I: bearer tokens for programs, a session cookie for the console."""


from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from sitcen.api.deps import (
    SESSION_COOKIE,
    CurrentCredentials,
    CurrentNode,
    CurrentUser,
    EnrollingUser,
)
from sitcen.errors import InvalidInput, NotFound, Refused, error
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.store import audit, second_factor
from sitcen.store.audit import AuditAction
from sitcen.store.throttle import clear as clear_failures
from sitcen.store.throttle import record_failure, wait_seconds
from sitcen.store.users import (
    ENROL_KIND,
    StoredSession,
    StoredUser,
    UserError,
    authenticate,
    check_password,
    issue_token,
    list_sessions,
    revoke_sessions,
    revoke_token,
    session_id_of,
    set_password,
)
from sitcen.times import from_micros, iso
from sitcen.users import LoginRequest, LoginResponse, SessionPublic, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])

#: The throttled answer of the login routes, for the OpenAPI document.
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many wrong passwords: wait the seconds Retry-After gives"},
}


class SessionResponse(BaseModel):
    """Who the session cookie belongs to, and until when it is valid."""

    expires_at: str
    user: UserPublic
    second_factor_setup: bool = Field(
        False, description="true: the user's role logs in with a second factor and they have "
                           "none yet; the session serves only to set one up "
                           "(POST /auth/second-factor)")


def public_user(node_id: str, username: str, full_name: str, role: str) -> UserPublic:
    """The public view of a user of this node."""
    return UserPublic(username=username, full_name=full_name, role=role, node_id=node_id)


def client_address(request: Request) -> str | None:
    """The address the request came from: behind a proxy of SITCEN_TRUSTED_PROXIES, the
    client's as the proxy's X-Forwarded-For gives it; behind another, the proxy's."""
    return request.client.host if request.client else None


def _too_many(wait: int) -> Refused:
    return Refused(f"too many wrong passwords: try again in {wait} s",
                   status=status.HTTP_429_TOO_MANY_REQUESTS, kind="throttled",
                   headers={"Retry-After": str(wait)})


def _check_password(node: Node, credentials: LoginRequest, address: str | None) -> StoredUser:
    """The user whose password this is, unless logins for the account or from the address
    are throttled (429 with Retry-After; the password is then not even tried)."""
    wait = wait_seconds(node.engine, credentials.username, address)
    if wait:
        raise _too_many(wait)
    user = authenticate(node.engine, credentials.username, credentials.password)
    if user is None:
        blocked = record_failure(node.engine, credentials.username, address)
        # The failure that starts a block is the one worth an entry of its own; the
        # attempts refused during the block are not tried and not written.
        audit.record(node.engine, credentials.username,
                     AuditAction.login_throttled if blocked else AuditAction.login_failed,
                     credentials.username, {"address": address, "blocked_s": blocked})
        if blocked:
            raise _too_many(blocked)
        raise Refused("wrong username or password", status=status.HTTP_401_UNAUTHORIZED)
    if second_factor.is_enrolled(node.engine, user.username):
        _check_code(node, user, credentials.code, address)
    clear_failures(node.engine, credentials.username)
    return user


def _check_code(node: Node, user: StoredUser, code: str | None, address: str | None) -> None:
    """The second step of a login with a second factor: the authenticator app's code.
    A wrong code counts as a wrong password does (the throttle keeps guessing slow)."""
    if not code:
        raise Refused("this account logs in with a code from its authenticator app as well: "
                      "send it as code", status=status.HTTP_401_UNAUTHORIZED,
                      kind="second_factor_required")
    try:
        right = second_factor.verify(node.engine, node.settings.secret_key.get_secret_value(),
                                     user.username, code)
    except second_factor.SecondFactorError as exc:
        raise Refused(str(exc), status=status.HTTP_401_UNAUTHORIZED,
                      kind="second_factor_unreadable") from exc
    if right:
        return
    blocked = record_failure(node.engine, user.username, address)
    audit.record(node.engine, user.username,
                 AuditAction.login_throttled if blocked else AuditAction.login_failed,
                 user.username, {"address": address, "blocked_s": blocked, "code": "wrong"})
    if blocked:
        raise _too_many(blocked)
    raise Refused("wrong code, or a code used already: wait for the next one",
                  status=status.HTTP_401_UNAUTHORIZED, kind="wrong_code")


def _open(node: Node, user: StoredUser, kind: str, address: str | None,
          method: str = "password") -> tuple[str, int, bool]:
    """A new token of ``kind`` for a user who has just logged in (``method``: how they proved
    who they are): after a password, one that serves only to set up a second factor when
    the user's role needs one and they have none (True then). A directory login is the
    directory's to secure (docs/security.md)."""
    setup = (method == "password" and user.role.value in node.settings.second_factor_roles
             and not second_factor.is_enrolled(node.engine, user.username))
    token, expires = issue_token(node.engine, user.username, node.settings.token_ttl_hours,
                                 kind=ENROL_KIND + kind if setup else kind, address=address)
    audit.record(node.engine, user.username, AuditAction.login, session_id_of(token),
                 {"kind": kind, "address": address, "method": method,
                  "second_factor_setup": setup})
    return token, expires, setup


@router.post("/login", response_model=LoginResponse, responses=THROTTLED)
def login(credentials: LoginRequest, node: CurrentNode, request: Request) -> LoginResponse:
    """Exchange a username and password for a bearer token.

    After five wrong passwords for an account (or twenty from one address)
    each further one blocks logins for 1, 2, 4 ... seconds, up to 15 minutes:
    429 with ``Retry-After``.
    """
    address = client_address(request)
    user = _check_password(node, credentials, address)
    token, expires, setup = _open(node, user, "bearer", address)
    return LoginResponse(
        access_token=token,
        expires_at=iso(from_micros(expires)),
        user=public_user(node.settings.node_id, user.username, user.full_name, user.role),
        second_factor_setup=setup,
    )


@router.post("/session", response_model=SessionResponse, responses=THROTTLED)
def create_session(credentials: LoginRequest, node: CurrentNode, request: Request,
                   response: Response) -> SessionResponse:
    """Log in to the console: the token goes into an HttpOnly, SameSite=Strict cookie
    (throttled as ``/auth/login`` is)."""
    user = _check_password(node, credentials, client_address(request))
    expires, setup = open_console_session(node, user, request, response, "password")
    return SessionResponse(
        expires_at=iso(from_micros(expires)),
        user=public_user(node.settings.node_id, user.username, user.full_name, user.role),
        second_factor_setup=setup,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(node: CurrentNode, credentials: CurrentCredentials, user: EnrollingUser,
           response: Response) -> None:
    """Revoke the token (bearer or session cookie) this request was made with."""
    revoke_token(node.engine, credentials.token)
    audit.record(node.engine, user.username, AuditAction.logout,
                 session_id_of(credentials.token))
    if credentials.by_cookie:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/me", response_model=UserPublic)
def read_me(node: CurrentNode, user: CurrentUser) -> UserPublic:
    """The user behind the token."""
    return public_user(node.settings.node_id, user.username, user.full_name, user.role)


def session_public(session: StoredSession, current: str | None = None) -> SessionPublic:
    """The public view of a session; ``current`` is the token of the request asking."""
    return SessionPublic(
        id=session.id, username=session.username, kind=session.kind, address=session.address,
        created_at=iso(from_micros(session.created_at)),
        expires_at=iso(from_micros(session.expires_at)),
        current=current is not None and session_id_of(current) == session.id,
    )


@router.get("/sessions", response_model=list[SessionPublic])
def read_my_sessions(node: CurrentNode, user: CurrentUser,
                     credentials: CurrentCredentials) -> list[SessionPublic]:
    """My open sessions and tokens, newest first (the one asking is marked current)."""
    return [session_public(s, credentials.token)
            for s in list_sessions(node.engine, user.username)]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_my_session(session_id: str, node: CurrentNode, user: CurrentUser) -> None:
    """End one of my sessions (a lost phone, a console left open elsewhere)."""
    if not revoke_sessions(node.engine, user.username, session_id):
        raise NotFound("session", session_id)
    audit.record(node.engine, user.username, AuditAction.session_revoked, session_id,
                 {"of": user.username})


class PasswordChange(BaseModel):
    """A user's new password, with the current one as proof."""

    current_password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)
    new_password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_my_password(change: PasswordChange, node: CurrentNode, user: CurrentUser,
                       credentials: CurrentCredentials) -> None:
    """Change my password: every other session of mine ends, this one stays."""
    if not check_password(node.engine, user.username, change.current_password):
        raise InvalidInput([error(("body", "current_password"), "is not your password",
                                  "wrong_password")])
    try:
        set_password(node.engine, user.username, change.new_password,
                     keep_token=credentials.token)
    except UserError as exc:
        raise InvalidInput([error(("body", "new_password"), str(exc), "weak_password")]) \
            from exc
    audit.record(node.engine, user.username, AuditAction.password_changed, user.username)


def open_console_session(node: Node, user: StoredUser, request: Request, response: Response,
                         method: str) -> tuple[int, bool]:
    """Give ``response`` the console's session cookie for ``user`` and record the login
    (``method``: how they proved who they are); the session's expiry, in microseconds, and
    whether it serves only to set up a second factor."""
    token, expires, setup = _open(node, user, "session", client_address(request), method)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=node.settings.token_ttl_hours * 3600, path="/",
        httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )
    return expires, setup
