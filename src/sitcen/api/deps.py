"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sitcen.api.node import Node
from sitcen.store.users import StoredUser, user_for_token
from sitcen.users import Permission, allows

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def get_node(request: Request) -> Node:
    """The node this app serves."""
    node: Node = request.app.state.node
    return node


CurrentNode = Annotated[Node, Depends(get_node)]


def get_current_user(
    node: CurrentNode,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StoredUser:
    """The user behind the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in first: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(node.engine, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "token unknown or expired; log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[StoredUser, Depends(get_current_user)]


def require(permission: Permission) -> Any:
    """A dependency that lets only users whose role carries ``permission`` through."""

    def check(user: CurrentUser) -> StoredUser:
        if not allows(user.role, permission):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {user.role.value} may not {permission.value.replace('_', ' ')}",
            )
        return user

    return Depends(check)


Reader = Annotated[StoredUser, require(Permission.read_picture)]
Reporting = Annotated[StoredUser, require(Permission.report_events)]
Admin = Annotated[StoredUser, require(Permission.manage_users)]
PersonalDataReader = Annotated[StoredUser, require(Permission.read_personal_data)]
