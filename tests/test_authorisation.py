"""The authorisation matrix (issue 15): every operation of the OpenAPI document called as
every role. docs/security.md's table is written from the same walk and tests/test_docs.py
holds it to the node; these are the rules that must never move."""

from __future__ import annotations

import pytest

from sitcen.testing import authorisation_matrix
from sitcen.users import Role

EVERY_ROLE = [r.value for r in Role]


@pytest.fixture(scope="module")
def matrix() -> dict[str, list[str]]:
    return authorisation_matrix()


def test_the_walk_reaches_every_operation(matrix: dict[str, list[str]]) -> None:
    assert len(matrix) > 150
    assert all(Role.admin.value in passing for passing in matrix.values()), [
        op for op, passing in matrix.items() if Role.admin.value not in passing]


def test_accounts_audit_and_retention_are_for_administrators(
        matrix: dict[str, list[str]]) -> None:
    admin_only = {op: passing for op, passing in matrix.items()
                  if op.split(" ", 1)[1].startswith(("/api/v1/users", "/api/v1/audit",
                                                      "/api/v1/retention",
                                                      "/api/v1/legal-holds"))}
    assert len(admin_only) >= 15
    assert {tuple(p) for p in admin_only.values()} == {(Role.admin.value,)}


def test_personal_data_is_for_need_to_know_roles(matrix: dict[str, list[str]]) -> None:
    assert matrix["GET /api/v1/events/{event_id}/personal-data"] == [
        Role.duty_officer.value, Role.analyst.value, Role.admin.value]


def test_every_role_reads_the_picture(matrix: dict[str, list[str]]) -> None:
    for op in ("GET /api/v1/events", "GET /api/v1/events/{event_id}", "GET /api/v1/situation",
               "GET /api/v1/taxonomy", "GET /api/v1/auth/sessions"):
        assert matrix[op] == EVERY_ROLE, op


def test_only_reporting_roles_write_events(matrix: dict[str, list[str]]) -> None:
    writers = [Role.operator.value, Role.duty_officer.value, Role.admin.value]
    for op in ("POST /api/v1/events", "POST /api/v1/events/batch",
               "PUT /api/v1/events/{event_id}", "POST /api/v1/imports/events"):
        assert matrix[op] == writers, op
