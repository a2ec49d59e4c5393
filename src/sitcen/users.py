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


def allows(role: Role, permission: Permission) -> bool:
    """Whether a role carries a permission."""
    return permission in PERMISSIONS[role]


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    username: str
    full_name: str
    role: Role
    node_id: str


class LoginRequest(BaseModel):
    """Credentials for a login."""

    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)


class LoginResponse(BaseModel):
    """A bearer token and who it belongs to."""

    access_token: str
    token_type: str = "bearer"
    expires_at: str
    user: UserPublic
