"""People who use a node, their roles, and what each role may do."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field

from sitcen.events import NO_NUL


class Role(StrEnum):
    """Roles of docs/domain.md: who reports, watches, analyses, liaises and administers."""

    operator = "operator"
    duty_officer = "duty_officer"
    analyst = "analyst"
    liaison = "liaison"
    admin = "admin"


class Permission(StrEnum):
    read_picture = "read_picture"
    report_events = "report_events"
    change_status = "change_status"
    read_personal_data = "read_personal_data"
    manage_users = "manage_users"
    manage_geography = "manage_geography"
    assess_vulnerability = "assess_vulnerability"
    set_impact_level = "set_impact_level"
    issue_reports = "issue_reports"
    manage_report_templates = "manage_report_templates"
    task_units = "task_units"
    # Cooperation (docs/cooperation.md)
    manage_directory = "manage_directory"  # enter agencies, units, points of contact
    handle_requests = "handle_requests"  # ask, acknowledge, answer, forward, decline
    coordinate_operations = "coordinate_operations"  # plan, merge reports, evaluate


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.operator: frozenset({Permission.read_picture, Permission.report_events}),
    Role.duty_officer: frozenset(
        {Permission.read_picture, Permission.report_events, Permission.change_status,
         Permission.read_personal_data, Permission.set_impact_level, Permission.issue_reports,
         Permission.task_units, Permission.manage_directory, Permission.handle_requests,
         Permission.coordinate_operations}
    ),
    Role.analyst: frozenset({Permission.read_picture, Permission.read_personal_data,
                             Permission.assess_vulnerability, Permission.issue_reports,
                             Permission.manage_report_templates, Permission.handle_requests}),
    # A liaison officer answers requests for information: it sees the persons they name.
    Role.liaison: frozenset({Permission.read_picture, Permission.handle_requests}),
    Role.admin: frozenset(Permission),
}

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
MIN_DISTINCT_CHARACTERS = 5
# Runs a password must not be a piece of (rows of a Latin and a Russian keyboard, the
# alphabet, digits), whichever way round.
_RUNS = ("0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyz",
         "qwertyuiopasdfghjklzxcvbnm", "йцукенгшщзхъфывапролджэячсмитьбю",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (one sentence for the user), or None when it is good.

    At least ten characters, five of them different; not the username (with
    digits or marks after it); not a run of a keyboard row, the alphabet or
    the digits.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"password must use at least {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = password.lower()
    if lowered.rstrip("0123456789!?._-") == username.lower():
        return "password must not be the username"
    if any(lowered in run or lowered in run[::-1] for run in _RUNS):
        return "password must not be a row of the keyboard, the alphabet or the digits"
    return None


def allows(role: Role, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    return permission in PERMISSIONS[role]


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    username: str
    full_name: str
    role: Role
    node_id: str


class UserAccount(UserPublic):
    """A user as an administrator sees it: whether the account is disabled, since when it
    exists, and how many sessions (unexpired tokens) it has open."""

    disabled: bool
    created_at: str
    sessions: int
    second_factor: bool = Field(description="logs in with a code from an authenticator app")


class SessionPublic(BaseModel):
    """One open session or bearer token of a user: never the token itself."""

    id: str = Field(description="a prefix of the token's hash; revoke the session by it")
    username: str
    kind: str = Field(description="bearer (a program's token) or session (the console)")
    address: str | None = Field(description="the client address it was issued to")
    created_at: str
    expires_at: str
    current: bool = Field(description="the session this request was made with")


class LoginRequest(BaseModel):
    """Credentials for a login."""

    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)
    code: str | None = Field(None, pattern=r"^[0-9]{6}$",
                             description="the authenticator app's code, for an account with "
                                         "a second factor")


class LoginResponse(BaseModel):
    """A bearer token and who it belongs to."""

    access_token: str
    token_type: str = "bearer"
    expires_at: str
    user: UserPublic
    second_factor_setup: bool = Field(
        False, description="true: the user's role logs in with a second factor and they have "
                           "none yet; the token serves only to set one up "
                           "(POST /auth/second-factor)")
