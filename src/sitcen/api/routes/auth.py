"""Login, logout and who am I."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status

from sitcen.api.deps import CurrentNode, CurrentUser
from sitcen.events import from_micros
from sitcen.store.users import authenticate, issue_token, revoke_token
from sitcen.users import LoginRequest, LoginResponse, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


def public_user(node_id: str, username: str, full_name: str, role: str) -> UserPublic:
    """The public view of a user of this node."""
    return UserPublic(username=username, full_name=full_name, role=role, node_id=node_id)


@router.post("/login", response_model=LoginResponse)
def login(credentials: LoginRequest, node: CurrentNode) -> LoginResponse:
    """Exchange a username and password for a bearer token."""
    user = authenticate(node.engine, credentials.username, credentials.password)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    token, expires = issue_token(node.engine, user.username, node.settings.token_ttl_hours)
    return LoginResponse(
        access_token=token,
        expires_at=from_micros(expires).isoformat().replace("+00:00", "Z"),
        user=public_user(node.settings.node_id, user.username, user.full_name, user.role),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, node: CurrentNode, _user: CurrentUser) -> None:
    """Revoke the token this request was made with."""
    token = request.headers["authorization"].split(" ", 1)[1].strip()
    revoke_token(node.engine, token)


@router.get("/me", response_model=UserPublic)
def read_me(node: CurrentNode, user: CurrentUser) -> UserPublic:
    """The user behind the token."""
    return public_user(node.settings.node_id, user.username, user.full_name, user.role)
