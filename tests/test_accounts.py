"""Accounts: login throttling, disabling and deleting users, passwords, sessions, and the
security headers and checks around them (issue 15), on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import TEST_PASSWORD, auth
from sitcen.node import Node
from sitcen.store import throttle
from sitcen.store.throttle import ACCOUNT_RULE, ThrottleRule
from sitcen.users import Role, password_problem

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, username: str, password: str) -> int:
    return client.post(LOGIN, json={"username": username, "password": password}).status_code


# --------------------------------------------------------------------------- throttling


def test_the_delay_doubles_after_the_free_failures_up_to_a_ceiling() -> None:
    rule = ThrottleRule(free_failures=5, first_delay_s=1, max_delay_s=900)
    assert [rule.delay_s(n) for n in range(1, 10)] == [0, 0, 0, 0, 0, 1, 2, 4, 8]
    assert rule.delay_s(30) == 900
    assert rule.delay_s(10_000) == 900


def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_retry_after(
        client: TestClient, tokens: dict[Role, str]) -> None:
    answers = [client.post(LOGIN, json={"username": "operator", "password": f"guess-{i}"})
               for i in range(30)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}
    blocked = answers[5]
    assert int(blocked.headers["Retry-After"]) >= 1
    assert blocked.json()["detail"][0]["type"] == "throttled"
    # The right password during the block gets the same answer: guessing gains nothing.
    right = client.post(LOGIN, json={"username": "operator", "password": TEST_PASSWORD})
    assert right.status_code == 429
    assert "Retry-After" in right.headers
    # Another account from another address is not affected.
    assert login(client, "analyst", TEST_PASSWORD) == 200


def test_the_block_ends_with_its_time_and_a_success_clears_the_account(node: Node) -> None:
    engine, t0 = node.engine, 1_000_000_000_000_000
    for i in range(ACCOUNT_RULE.free_failures):
        assert throttle.record_failure(engine, "operator", None, now_us=t0 + i) == 0
    assert throttle.record_failure(engine, "operator", None, now_us=t0 + 10) == 1
    assert throttle.wait_seconds(engine, "operator", None, now_us=t0 + 10) == 1
    assert throttle.wait_seconds(engine, "operator", None, now_us=t0 + 1_000_011) == 0
    # The next failure after the block doubles it.
    assert throttle.record_failure(engine, "operator", None, now_us=t0 + 2_000_000) == 2
    throttle.clear(engine, "operator")
    assert throttle.wait_seconds(engine, "operator", None, now_us=t0 + 2_000_001) == 0
    assert throttle.record_failure(engine, "operator", None, now_us=t0 + 2_000_002) == 0


def test_failures_are_forgotten_after_an_hour(node: Node) -> None:
    engine, t0 = node.engine, 1_000_000_000_000_000
    for i in range(ACCOUNT_RULE.free_failures):
        throttle.record_failure(engine, "analyst", None, now_us=t0 + i)
    later = t0 + int((ACCOUNT_RULE.forget_after_s + 1) * 1_000_000)
    assert throttle.record_failure(engine, "analyst", None, now_us=later) == 0


def test_one_address_guessing_many_accounts_is_blocked(node: Node) -> None:
    engine, t0 = node.engine, 1_000_000_000_000_000
    delays = [throttle.record_failure(engine, f"name-{i}", "10.0.0.9", now_us=t0 + i)
              for i in range(21)]
    assert delays[:20] == [0] * 20 and delays[20] == 1
    assert throttle.wait_seconds(engine, "someone-else", "10.0.0.9", now_us=t0 + 30) == 1
    assert throttle.wait_seconds(engine, "someone-else", "10.0.0.10", now_us=t0 + 30) == 0


def test_an_administrator_unlocks_an_account(client: TestClient,
                                             tokens: dict[Role, str]) -> None:
    for i in range(6):
        login(client, "operator", f"guess-{i}")
    assert login(client, "operator", TEST_PASSWORD) == 429
    admin = auth(tokens[Role.admin])
    assert client.post("/api/v1/users/operator/unlock", headers=admin).status_code == 204
    assert login(client, "operator", TEST_PASSWORD) == 200
    assert client.post("/api/v1/users/nobody/unlock", headers=admin).status_code == 404


# --------------------------------------------------------------------------- accounts


def test_a_disabled_users_token_is_refused_at_the_next_request(
        client: TestClient, tokens: dict[Role, str]) -> None:
    operator, admin = auth(tokens[Role.operator]), auth(tokens[Role.admin])
    assert client.get("/api/v1/auth/me", headers=operator).status_code == 200
    changed = client.patch("/api/v1/users/operator", json={"disabled": True}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["disabled"] is True and changed.json()["sessions"] == 0
    assert client.get("/api/v1/auth/me", headers=operator).status_code == 401
    assert login(client, "operator", TEST_PASSWORD) == 401
    enabled = client.patch("/api/v1/users/operator", json={"disabled": False}, headers=admin)
    assert enabled.json()["disabled"] is False
    assert login(client, "operator", TEST_PASSWORD) == 200


def test_the_last_administrator_cannot_be_disabled_demoted_or_deleted(
        client: TestClient, tokens: dict[Role, str]) -> None:
    admin = auth(tokens[Role.admin])
    for answer in (
        client.patch("/api/v1/users/admin", json={"disabled": True}, headers=admin),
        client.patch("/api/v1/users/admin", json={"role": "analyst"}, headers=admin),
        client.delete("/api/v1/users/admin", headers=admin),
    ):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["type"] == "last_admin"
    # With a second administrator the first may go.
    new = {"username": "second-admin", "password": "another-long-pw", "role": "admin"}
    assert client.post("/api/v1/users", json=new, headers=admin).status_code == 201
    demoted = client.patch("/api/v1/users/admin", json={"role": "analyst"}, headers=admin)
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "analyst"


def test_deleting_a_user_ends_their_sessions(client: TestClient,
                                             tokens: dict[Role, str]) -> None:
    admin, liaison = auth(tokens[Role.admin]), auth(tokens[Role.liaison])
    assert client.delete("/api/v1/users/liaison", headers=admin).status_code == 204
    assert client.get("/api/v1/auth/me", headers=liaison).status_code == 401
    assert client.get("/api/v1/users/liaison", headers=admin).status_code == 404
    assert client.delete("/api/v1/users/liaison", headers=admin).status_code == 404
    names = [u["username"] for u in client.get("/api/v1/users", headers=admin).json()]
    assert "liaison" not in names
    # Only an administrator manages accounts.
    duty = auth(tokens[Role.duty_officer])
    assert client.delete("/api/v1/users/operator", headers=duty).status_code == 403


def test_an_administrator_resets_a_password(client: TestClient,
                                            tokens: dict[Role, str]) -> None:
    admin, analyst = auth(tokens[Role.admin]), auth(tokens[Role.analyst])
    weak = client.post("/api/v1/users/analyst/password", json={"password": "1234567890"},
                       headers=admin)
    assert weak.status_code == 422
    assert weak.json()["detail"][0]["loc"] == ["body", "password"]
    ok = client.post("/api/v1/users/analyst/password", json={"password": "new-analyst-pw-7"},
                     headers=admin)
    assert ok.status_code == 204
    assert client.get("/api/v1/auth/me", headers=analyst).status_code == 401
    assert login(client, "analyst", TEST_PASSWORD) == 401
    assert login(client, "analyst", "new-analyst-pw-7") == 200


def test_a_user_changes_their_own_password_and_keeps_this_session(
        client: TestClient, tokens: dict[Role, str]) -> None:
    this = auth(tokens[Role.duty_officer])
    other = client.post(LOGIN, json={"username": "duty-officer", "password": TEST_PASSWORD})
    other_headers = auth(other.json()["access_token"])
    wrong = client.post("/api/v1/auth/password", headers=this,
                        json={"current_password": "not-mine-at-all", "new_password": "x"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "current_password"]
    same_as_name = client.post("/api/v1/auth/password", headers=this, json={
        "current_password": TEST_PASSWORD, "new_password": "Duty-Officer123"})
    assert same_as_name.status_code == 422
    assert "username" in same_as_name.json()["detail"][0]["msg"]
    changed = client.post("/api/v1/auth/password", headers=this, json={
        "current_password": TEST_PASSWORD, "new_password": "a-better-password-9"})
    assert changed.status_code == 204
    assert client.get("/api/v1/auth/me", headers=this).status_code == 200
    assert client.get("/api/v1/auth/me", headers=other_headers).status_code == 401


def test_sessions_are_listed_and_revoked_one_by_one(client: TestClient,
                                                    tokens: dict[Role, str]) -> None:
    mine = auth(tokens[Role.analyst])
    phone = client.post(LOGIN, json={"username": "analyst", "password": TEST_PASSWORD})
    phone_headers = auth(phone.json()["access_token"])
    listed = client.get("/api/v1/auth/sessions", headers=mine).json()
    assert len(listed) == 2
    assert sum(s["current"] for s in listed) == 1
    newest = listed[0]
    assert newest["kind"] == "bearer" and newest["address"] == "testclient"
    assert newest["current"] is False  # the phone's, made after the fixture's token
    assert phone.json()["access_token"] not in str(listed)
    assert client.delete(f"/api/v1/auth/sessions/{newest['id']}", headers=mine).status_code \
        == 204
    assert client.get("/api/v1/auth/me", headers=phone_headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=mine).status_code == 200
    assert client.delete("/api/v1/auth/sessions/0123456789abcdef",
                         headers=mine).status_code == 404
    # An administrator sees and ends them too.
    admin = auth(tokens[Role.admin])
    seen = client.get("/api/v1/users/analyst/sessions", headers=admin).json()
    assert [s["id"] for s in seen] == [listed[1]["id"]]
    ended = client.delete("/api/v1/users/analyst/sessions", headers=admin)
    assert ended.json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", headers=mine).status_code == 401


def test_a_console_session_is_listed_as_one(client: TestClient,
                                           tokens: dict[Role, str]) -> None:
    answer = client.post("/api/v1/auth/session", json={"username": "operator",
                                                        "password": TEST_PASSWORD})
    assert answer.status_code == 200
    listed = client.get("/api/v1/users/operator/sessions",
                        headers=auth(tokens[Role.admin])).json()
    assert {s["kind"] for s in listed} == {"bearer", "session"}


@pytest.mark.parametrize(("password", "username", "problem"), [
    ("short-1", "aigerim", "at least 10 characters"),
    ("aaaaabbbbb", "aigerim", "different characters"),
    ("aigerim2026", "aigerim", "not be the username"),
    ("Aigerim!!", "aigerim", "at least 10"),
    ("0987654321", "aigerim", "keyboard"),
    ("qwertyuiop", "aigerim", "keyboard"),
    ("абвгдежзийкл", "aigerim", None),
    ("aigerim-kara-su", "aigerim", None),
    ("correct-horse-battery", "operator", None),
])
def test_password_policy(password: str, username: str, problem: str | None) -> None:
    found = password_problem(password, username)
    assert (found is None) if problem is None else (found is not None and problem in found)


# --------------------------------------------------------------------------- around them


def test_security_headers_on_every_answer(client: TestClient,
                                          tokens: dict[Role, str]) -> None:
    for answer in (client.get("/api/v1/health"),
                   client.get("/api/v1/events", headers=auth(tokens[Role.operator])),
                   client.post(LOGIN, json={"username": "operator", "password": TEST_PASSWORD}),
                   client.get("/api/v1/nowhere")):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in answer.headers  # plain http here
    https = TestClient(client.app, base_url="https://testserver")
    assert https.get("/api/v1/health").headers["Strict-Transport-Security"].startswith(
        "max-age=")


def test_the_taxonomy_needs_a_token_but_the_login_screens_labels_do_not(
        client: TestClient, tokens: dict[Role, str]) -> None:
    assert client.get("/api/v1/taxonomy").status_code == 401
    assert client.get("/api/v1/taxonomy",
                      headers=auth(tokens[Role.operator])).status_code == 200
    assert client.get("/api/v1/taxonomy/labels?lang=ru").status_code == 200


def test_the_cookie_works_only_from_a_page_of_the_same_scheme(
        client: TestClient, tokens: dict[Role, str]) -> None:
    client.post("/api/v1/auth/session", json={"username": "operator",
                                               "password": TEST_PASSWORD})
    same = client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
    assert same.status_code == 204
    client.post("/api/v1/auth/session", json={"username": "operator",
                                               "password": TEST_PASSWORD})
    other_scheme = client.post("/api/v1/auth/logout",
                               headers={"Origin": "https://testserver"})
    assert other_scheme.status_code == 403


# --------------------------------------------------------------------------- the commands


def test_the_user_commands(node: Node, tokens: dict[Role, str],
                           sitcen_command: Callable[..., str]) -> None:
    def run(*args: str, code: int = 0) -> str:
        return str(sitcen_command("user", *args, code=code))

    listed = run("sessions", "operator")
    session_id = listed.split("\t")[0]
    assert "\toperator\tbearer\t" in listed
    assert "1 session(s) of operator ended" in run("revoke", "operator", session_id)
    assert "no session" in run("revoke", "operator", session_id, code=1)
    assert "disabled" in run("disable", "analyst")
    assert "(disabled)" in run("list")
    assert "enabled" in run("enable", "analyst")
    assert "last active administrator" in run("disable", "admin", code=1)
    assert "no user ghost" in run("disable", "ghost", code=1)
    for _ in range(6):
        throttle.record_failure(node.engine, "liaison", None)
    assert throttle.wait_seconds(node.engine, "liaison", None) > 0
    assert "unlocked" in run("unlock", "liaison")
    assert throttle.wait_seconds(node.engine, "liaison", None) == 0
    assert "1 session(s) ended" in run("password", "liaison", "--password", "liaison-new-pw-3")
    assert "deleted" in run("delete", "liaison", "--yes")
    with node.engine.connect() as conn:
        users = conn.execute(sa.text("SELECT username FROM users")).scalars().all()
    assert "liaison" not in users
