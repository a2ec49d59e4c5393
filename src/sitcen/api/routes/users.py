"""User administration (admin role)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from sitcen.api.deps import Admin, CurrentNode
from sitcen.api.routes.auth import public_user
from sitcen.errors import InvalidInput, error
from sitcen.events import NO_NUL
from sitcen.store.users import UserError, add_user, list_users
from sitcen.users import Role, UserPublic

router = APIRouter(prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    """A new user of this node."""

    username: str = Field(min_length=2, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)
    role: Role
    full_name: str = Field("", max_length=300, pattern=NO_NUL)


@router.get("", response_model=list[UserPublic])
def read_users(node: CurrentNode, _admin: Admin) -> list[UserPublic]:
    """Every user of the node."""
    return [public_user(node.settings.node_id, u.username, u.full_name, u.role)
            for u in list_users(node.engine)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(new: UserCreate, node: CurrentNode, _admin: Admin) -> UserPublic:
    """Create a user."""
    try:
        user = add_user(node.engine, new.username, new.password, new.role, new.full_name)
    except UserError as exc:
        field = "password" if "password" in str(exc) else "username"
        raise InvalidInput([error(("body", field), str(exc))]) from exc
    return public_user(node.settings.node_id, user.username, user.full_name, user.role)
