"""Accounts of the node's users: disable, enable, delete, new password, sessions, unlock,
second factor reset.

The ``user`` group itself (add, list) is in :mod:`sitcen.cli.admin`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from sitcen.cli.admin import user
from sitcen.cli.common import _audit, _database

if TYPE_CHECKING:
    import sqlalchemy as sa

T = TypeVar("T")


def _on_account(change: Callable[[sa.Engine], T], action: str, username: str,
                detail: dict[str, object] | None = None) -> T:
    """Run a store function on one user's account and write its audit entry; its refusals
    become the command's error."""
    from sitcen.store.users import UnknownUser, UserError

    try:
        with _database() as engine:
            done = change(engine)
            _audit(engine, action, username, detail)
            return done
    except UnknownUser as exc:
        raise click.ClickException(str(exc)) from exc
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


def _set_disabled(username: str, disabled: bool) -> None:
    from sitcen.store.users import change_user

    _on_account(lambda engine: change_user(engine, username, disabled=disabled),
                "user_changed", username, {"disabled": disabled})


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable a user: every session ends at once and logins are refused."""
    _set_disabled(username, True)
    click.echo(f"user {username} disabled; every session of theirs has ended")


@user.command("enable")
@click.argument("username")
def user_enable(username: str) -> None:
    """Let a disabled user log in again."""
    _set_disabled(username, False)
    click.echo(f"user {username} enabled")


@user.command("delete")
@click.argument("username")
@click.confirmation_option(prompt="Delete the user? (records they wrote keep their name)")
def user_delete(username: str) -> None:
    """Delete a user and end their sessions (prefer disable while records name them)."""
    from sitcen.store.users import delete_user

    _on_account(lambda engine: delete_user(engine, username), "user_deleted", username)
    click.echo(f"user {username} deleted")


@user.command("password")
@click.argument("username")
@click.password_option(help="the new password (asked for when not given)")
def user_password(username: str, password: str) -> None:
    """Give a user a new password: every session of theirs ends, a login lock is lifted."""
    from sitcen.store import throttle
    from sitcen.store.users import set_password

    def reset(engine: sa.Engine) -> int:
        ended = set_password(engine, username, password)
        throttle.clear(engine, username)
        return ended

    ended = _on_account(reset, "password_reset", username)
    click.echo(f"password of {username} changed; {ended} session(s) ended")


@user.command("sessions")
@click.argument("username", required=False)
def user_sessions(username: str | None) -> None:
    """List open sessions and tokens (of one user, or of everyone), newest first."""
    from sitcen.store.users import list_sessions
    from sitcen.times import from_micros, iso

    with _database() as engine:
        sessions = list_sessions(engine, username)
    for s in sessions:
        click.echo(f"{s.id}\t{s.username}\t{s.kind}\t{s.address or '-'}\t"
                   f"{iso(from_micros(s.created_at), 'seconds')}\t"
                   f"until {iso(from_micros(s.expires_at), 'seconds')}")
    if not sessions:
        click.echo("no open sessions")


@user.command("revoke")
@click.argument("username")
@click.argument("session_id", required=False)
def user_revoke(username: str, session_id: str | None) -> None:
    """End one session of a user (by the id `user sessions` shows), or all of them."""
    from sitcen.store.users import get_account, revoke_sessions

    def revoke(engine: sa.Engine) -> int:
        get_account(engine, username)
        ended = revoke_sessions(engine, username, session_id)
        if session_id is not None and not ended:
            raise click.ClickException(f"{username} has no session {session_id}")
        return ended

    ended = _on_account(revoke, "session_revoked", session_id or "*", {"of": username})
    click.echo(f"{ended} session(s) of {username} ended")


@user.command("unlock")
@click.argument("username")
def user_unlock(username: str) -> None:
    """Lift the login lock that wrong passwords put on an account."""
    from sitcen.store import throttle
    from sitcen.store.users import get_account

    def unlock(engine: sa.Engine) -> None:
        get_account(engine, username)
        throttle.clear(engine, username)

    _on_account(unlock, "login_unlocked", username)
    click.echo(f"logins of {username} unlocked")


@user.command("second-factor-reset")
@click.argument("username")
def user_second_factor_reset(username: str) -> None:
    """Remove a user's second factor (a lost phone): their next login sets a new one up
    if their role demands it."""
    from sitcen.store import second_factor
    from sitcen.store.users import UserError, get_account

    def reset(engine: sa.Engine) -> None:
        get_account(engine, username)
        if not second_factor.remove(engine, username):
            raise UserError(f"{username} has no second factor")

    _on_account(reset, "second_factor_reset", username)
    click.echo(f"second factor of {username} removed")
