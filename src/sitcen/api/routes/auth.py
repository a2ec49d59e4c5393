"""Login, logout and who am I: bearer tokens for programs, a session cookie for the console."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from sitcen.api.deps import SESSION_COOKIE, CurrentCredentials, CurrentNode, CurrentUser
from sitcen.errors import Refused
from sitcen.node import Node
from sitcen.store.users import StoredUser, authenticate, issue_token, revoke_token
from sitcen.times import from_micros, iso
from sitcen.users import LoginRequest, LoginResponse, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


class SessionResponse(BaseModel):
    """Who the session cookie belongs to, and until when it is valid."""

    expires_at: str
    user: UserPublic


def public_user(node_id: str, username: str, full_name: str, role: str) -> UserPublic:
    """The public view of a user of this node."""
    return UserPublic(username=username, full_name=full_name, role=role, node_id=node_id)


def _check_password(node: Node, credentials: LoginRequest) -> StoredUser:
    user = authenticate(node.engine, credentials.username, credentials.password)
    if user is None:
        raise Refused("wrong username or password", status=status.HTTP_401_UNAUTHORIZED)
    return user


@router.post("/login", response_model=LoginResponse)
def login(credentials: LoginRequest, node: CurrentNode) -> LoginResponse:
    """Exchange a username and password for a bearer token."""
    user = _check_password(node, credentials)
    token, expires = issue_token(node.engine, user.username, node.settings.token_ttl_hours)
    return LoginResponse(
        access_token=token,
        expires_at=iso(from_micros(expires)),
        user=public_user(node.settings.node_id, user.username, user.full_name, user.role),
    )


@router.post("/session", response_model=SessionResponse)
def create_session(credentials: LoginRequest, node: CurrentNode, request: Request,
                   response: Response) -> SessionResponse:
    """Log in to the console: the token goes into an HttpOnly, SameSite=Strict cookie."""
    user = _check_password(node, credentials)
    ttl_hours = node.settings.token_ttl_hours
    token, expires = issue_token(node.engine, user.username, ttl_hours)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=ttl_hours * 3600, path="/", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )
    return SessionResponse(
        expires_at=iso(from_micros(expires)),
        user=public_user(node.settings.node_id, user.username, user.full_name, user.role),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(node: CurrentNode, credentials: CurrentCredentials, _user: CurrentUser,
           response: Response) -> None:
    """Revoke the token (bearer or session cookie) this request was made with."""
    revoke_token(node.engine, credentials.token)
    if credentials.by_cookie:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/me", response_model=UserPublic)
def read_me(node: CurrentNode, user: CurrentUser) -> UserPublic:
    """The user behind the token."""
    return public_user(node.settings.node_id, user.username, user.full_name, user.role)
