"""Users and login tokens in the node's database (local to the node, never replicated)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sitcen.events import Author
from sitcen.store import schema
from sitcen.store.journal import now_micros
from sitcen.users import USERNAME_PATTERN, Role, password_problem

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """What a password is verified against when the user does not exist, so that the answer
    takes as long as for a user who does. Made at the first login, not at import: hashing
    costs about 0.2 s, which every process (and every test worker) paid at start-up."""
    return _hasher.hash("not-a-real-password-0")


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


class UnknownUser(LookupError):
    """No user of this name on this node."""


#: Hex digits of a token's hash that name it in the list of sessions.
SESSION_ID_LENGTH = 16


@dataclass(frozen=True)
class StoredUser:
    username: str
    full_name: str
    role: Role
    disabled: bool


@dataclass(frozen=True)
class Account:
    """A user with what an administrator manages: since when, and open sessions."""

    user: StoredUser
    created_at: int
    sessions: int


@dataclass(frozen=True)
class StoredSession:
    """An unexpired token of a user (its hash's prefix as id, never the token)."""

    id: str
    username: str
    kind: str
    address: str | None
    created_at: int
    expires_at: int


#: The password hash of a user who has no password (created by a directory login): not an
#: argon2 hash, so no password verifies against it until an administrator sets one.
NO_PASSWORD = "!no-password"  # nosec B105


def add_user(
    engine: sa.Engine, username: str, password: str | None, role: Role, full_name: str = ""
) -> StoredUser:
    """Create a user with an argon2 hash of the password (``None``: no password)."""
    if not USERNAME_PATTERN.match(username):
        raise UserError("username must be 2-64 lowercase letters, digits, '.', '_' or '-'")
    problem = None if password is None else password_problem(password, username)
    if problem:
        raise UserError(problem)
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(schema.users.c.username).where(schema.users.c.username == username)
        ).first()
        if exists:
            raise UserError(f"user {username} exists already")
        conn.execute(
            schema.users.insert().values(
                username=username, full_name=full_name or username, role=role.value,
                password_hash=NO_PASSWORD if password is None else _hasher.hash(password),
                disabled=False, created_at=now_micros(),
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
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return StoredUser(row.username, row.full_name, Role(row.role), row.disabled)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(engine: sa.Engine, username: str, ttl_hours: int, *, kind: str = "bearer",
                address: str | None = None) -> tuple[str, int]:
    """A new random token (only its hash is stored) and its expiry.

    ``kind`` is "bearer" (a program's) or "session" (the console's cookie);
    with ``address`` the user can tell their sessions apart.
    """
    token = secrets.token_urlsafe(32)
    now = now_micros()
    expires = now + ttl_hours * 3600 * 1_000_000
    with engine.begin() as conn:
        conn.execute(schema.tokens.delete().where(schema.tokens.c.expires_at < now))
        conn.execute(
            schema.tokens.insert().values(
                token_hash=_digest(token), username=username, created_at=now,
                expires_at=expires, kind=kind, address=(address or None) and address[:64],
            )
        )
    return token, expires


#: The kind of a token that serves only to set up a second factor (its prefix).
ENROL_KIND = "enrol-"


def token_owner(engine: sa.Engine, token: str) -> tuple[StoredUser, str] | None:
    """The active user a valid, unexpired token belongs to, with the token's kind."""
    u, t = schema.users, schema.tokens
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(u, t.c.kind)
            .join(t, t.c.username == u.c.username)
            .where(t.c.token_hash == _digest(token), t.c.expires_at > now_micros())
        ).first()
    if row is None or row.disabled:
        return None
    return StoredUser(row.username, row.full_name, Role(row.role), row.disabled), \
        row.kind or "bearer"


def user_for_token(engine: sa.Engine, token: str) -> StoredUser | None:
    """The active user a valid, unexpired token belongs to (not a token that serves only
    to set up a second factor)."""
    owner = token_owner(engine, token)
    if owner is None or owner[1].startswith(ENROL_KIND):
        return None
    return owner[0]


def complete_enrolment(engine: sa.Engine, token: str) -> None:
    """Make a token that served to set up a second factor a full one of its kind."""
    t = schema.tokens
    with engine.begin() as conn:
        kind = conn.execute(sa.select(t.c.kind).where(t.c.token_hash == _digest(token))).scalar()
        if kind and kind.startswith(ENROL_KIND):
            conn.execute(t.update().where(t.c.token_hash == _digest(token))
                         .values(kind=kind.removeprefix(ENROL_KIND)))


def session_id_of(token: str) -> str:
    """The id a token is listed and revoked by: a prefix of its hash, never the token."""
    return _digest(token)[:SESSION_ID_LENGTH]


def revoke_token(engine: sa.Engine, token: str) -> None:
    """Forget a token (logout)."""
    with engine.begin() as conn:
        conn.execute(schema.tokens.delete().where(schema.tokens.c.token_hash == _digest(token)))


# --------------------------------------------------------------------------- accounts


def _user_row(conn: sa.Connection, username: str, *, lock: bool = True) -> sa.Row[Any]:
    query = sa.select(schema.users).where(schema.users.c.username == username)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise UnknownUser(f"no user {username} on this node")
    return row


def _other_active_admins(conn: sa.Connection, username: str) -> int:
    u = schema.users
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(u).where(
            u.c.role == Role.admin.value, u.c.disabled.is_(False), u.c.username != username)
    ).scalar_one())


def _keep_an_admin(conn: sa.Connection, row: sa.Row[Any], what: str) -> None:
    if row.role == Role.admin.value and not row.disabled and not _other_active_admins(
            conn, row.username):
        raise UserError(f"cannot {what} {row.username}: it is the node's last active "
                        "administrator (add or enable another first)")


def _revoke_all(conn: sa.Connection, username: str, keep: str | None = None) -> int:
    t = schema.tokens
    query = t.delete().where(t.c.username == username)
    if keep is not None:
        query = query.where(t.c.token_hash != _digest(keep))
    return int(conn.execute(query).rowcount or 0)


def get_account(engine: sa.Engine, username: str) -> Account:
    """One user with their open sessions; raises :class:`UnknownUser`."""
    accounts = [a for a in list_accounts(engine) if a.user.username == username]
    if not accounts:
        raise UnknownUser(f"no user {username} on this node")
    return accounts[0]


def list_accounts(engine: sa.Engine) -> list[Account]:
    """Every user of the node with the number of sessions each has open."""
    u, t = schema.users, schema.tokens
    open_ = (sa.select(t.c.username, sa.func.count().label("n"))
             .where(t.c.expires_at > now_micros()).group_by(t.c.username).subquery())
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(u, open_.c.n).outerjoin(open_, open_.c.username == u.c.username)
            .order_by(u.c.username)
        ).all()
    return [Account(StoredUser(r.username, r.full_name, Role(r.role), r.disabled),
                    r.created_at, int(r.n or 0)) for r in rows]


def change_user(engine: sa.Engine, username: str, *, disabled: bool | None = None,
                role: Role | None = None, full_name: str | None = None) -> Account:
    """Disable or enable a user, change their role or name.

    Disabling revokes every token of the user at once, so an open console or
    program is refused from its next request. The node's last active
    administrator can be neither disabled nor demoted.
    """
    with engine.begin() as conn:
        row = _user_row(conn, username)
        if disabled or (role is not None and role != Role.admin):
            _keep_an_admin(conn, row, "disable" if disabled else "demote")
        values: dict[str, Any] = {}
        if disabled is not None:
            values["disabled"] = disabled
        if role is not None:
            values["role"] = role.value
        if full_name is not None:
            values["full_name"] = full_name or username
        if values:
            conn.execute(schema.users.update().where(schema.users.c.username == username)
                         .values(**values))
        if disabled:
            _revoke_all(conn, username)
    return get_account(engine, username)


def delete_user(engine: sa.Engine, username: str) -> None:
    """Remove a user and their tokens. What they wrote keeps their name; the name can be
    given to a new user only with care, so prefer disabling where records name them."""
    with engine.begin() as conn:
        row = _user_row(conn, username)
        _keep_an_admin(conn, row, "delete")
        _revoke_all(conn, username)
        conn.execute(schema.second_factors.delete()
                     .where(schema.second_factors.c.username == username))
        conn.execute(schema.users.delete().where(schema.users.c.username == username))


def set_password(engine: sa.Engine, username: str, password: str, *,
                 keep_token: str | None = None) -> int:
    """A new password for a user (checked against the policy); the number of their other
    sessions revoked. ``keep_token`` is the session a user changing their own keeps."""
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)
    hashed = _hasher.hash(password)
    with engine.begin() as conn:
        _user_row(conn, username)
        conn.execute(schema.users.update().where(schema.users.c.username == username)
                     .values(password_hash=hashed))
        return _revoke_all(conn, username, keep=keep_token)


def check_password(engine: sa.Engine, username: str, password: str) -> bool:
    """Whether this is the user's password now (for a user changing their own)."""
    with engine.connect() as conn:
        row = _user_row(conn, username, lock=False)
    try:
        return bool(_hasher.verify(row.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def list_sessions(engine: sa.Engine, username: str | None = None) -> list[StoredSession]:
    """Unexpired tokens, newest first; of one user, or of everyone."""
    t = schema.tokens
    query = sa.select(t).where(t.c.expires_at > now_micros())
    if username is not None:
        query = query.where(t.c.username == username)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.created_at.desc())).all()
    return [StoredSession(r.token_hash[:SESSION_ID_LENGTH], r.username, r.kind or "bearer",
                          r.address, r.created_at, r.expires_at) for r in rows]


def revoke_sessions(engine: sa.Engine, username: str, session_id: str | None = None) -> int:
    """Revoke one session of a user (by its id) or all of them; how many were revoked."""
    t = schema.tokens
    query = t.delete().where(t.c.username == username)
    if session_id is not None:
        if len(session_id) != SESSION_ID_LENGTH or not all(
                c in "0123456789abcdef" for c in session_id):
            return 0
        query = query.where(t.c.token_hash.startswith(session_id, autoescape=True))
    with engine.begin() as conn:
        return int(conn.execute(query).rowcount or 0)


def author_of(engine: sa.Engine, username: str) -> Author:
    """A person as versions name them: username and their name now (the username alone
    when no such user exists here, e.g. a TAK callsign)."""
    with engine.connect() as conn:
        name = conn.execute(sa.select(schema.users.c.full_name)
                            .where(schema.users.c.username == username)).scalar()
    return Author(username=username, full_name=str(name or username))


def author(user: StoredUser) -> Author:
    """The person behind a request, as versions name them."""
    return Author(username=user.username, full_name=user.full_name)
