"""Users and login tokens in the node's database (local to the node, never replicated)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sitcen.store import schema
from sitcen.store.journal import now_micros
from sitcen.users import MIN_PASSWORD_LENGTH, USERNAME_PATTERN, Role

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class StoredUser:
    username: str
    full_name: str
    role: Role
    disabled: bool


def add_user(
    engine: sa.Engine, username: str, password: str, role: Role, full_name: str = ""
) -> StoredUser:
    """Create a user with an argon2 hash of the password."""
    if not USERNAME_PATTERN.match(username):
        raise UserError("username must be 2-64 lowercase letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(schema.users.c.username).where(schema.users.c.username == username)
        ).first()
        if exists:
            raise UserError(f"user {username} exists already")
        conn.execute(
            schema.users.insert().values(
                username=username, full_name=full_name or username, role=role.value,
                password_hash=_hasher.hash(password), disabled=False, created_at=now_micros(),
            )
        )
    return StoredUser(username, full_name or username, role, False)


def list_users(engine: sa.Engine) -> list[StoredUser]:
    """Every user of the node."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.users).order_by(schema.users.c.username)).all()
    return [StoredUser(r.username, r.full_name, Role(r.role), r.disabled) for r in rows]


def authenticate(engine: sa.Engine, username: str, password: str) -> StoredUser | None:
    """The user if the password is right and the user is active, else None."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(schema.users).where(schema.users.c.username == username)
        ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return StoredUser(row.username, row.full_name, Role(row.role), row.disabled)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(engine: sa.Engine, username: str, ttl_hours: int) -> tuple[str, int]:
    """A new random bearer token (only its hash is stored) and its expiry."""
    token = secrets.token_urlsafe(32)
    now = now_micros()
    expires = now + ttl_hours * 3600 * 1_000_000
    with engine.begin() as conn:
        conn.execute(schema.tokens.delete().where(schema.tokens.c.expires_at < now))
        conn.execute(
            schema.tokens.insert().values(
                token_hash=_digest(token), username=username, created_at=now, expires_at=expires
            )
        )
    return token, expires


def user_for_token(engine: sa.Engine, token: str) -> StoredUser | None:
    """The active user a valid, unexpired token belongs to."""
    u, t = schema.users, schema.tokens
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(u)
            .join(t, t.c.username == u.c.username)
            .where(t.c.token_hash == _digest(token), t.c.expires_at > now_micros())
        ).first()
    if row is None or row.disabled:
        return None
    return StoredUser(row.username, row.full_name, Role(row.role), row.disabled)


def revoke_token(engine: sa.Engine, token: str) -> None:
    """Forget a token (logout)."""
    with engine.begin() as conn:
        conn.execute(schema.tokens.delete().where(schema.tokens.c.token_hash == _digest(token)))
