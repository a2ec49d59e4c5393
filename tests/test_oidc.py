"""Logging in through the centre's directory (OpenID Connect), end to end.

A real node served on loopback and a mock directory (``sitcen.testing.mock_issuer``)
with a real RSA key; an httpx client plays the browser and follows the redirects
from the node to the directory and back. Only the directory is faked: every
refusal below is a token or an answer the node must see through.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import TEST_PASSWORD, add_users, make_settings
from sitcen.cli import main
from sitcen.interop.oidc import PENDING_TTL_S, REFUSAL_CODES, DirectoryRefusal, PendingLogin
from sitcen.node import Node
from sitcen.settings import Settings
from sitcen.store import audit
from sitcen.store.users import authenticate, change_user, get_account
from sitcen.testing import MockIssuer, ServedNode, free_port, mock_issuer, serve_in_thread
from sitcen.users import Role

START = "/api/v1/auth/oidc/start"
CALLBACK = "/api/v1/auth/oidc/callback"

ServeNode = Callable[..., ServedNode]


@pytest.fixture
def issuer() -> Iterator[MockIssuer]:
    with mock_issuer() as directory:
        directory.person = {"sub": "d-1001", "preferred_username": "Duty-Officer",
                            "name": "Dilnoza Duty", "groups": ["sitcen-duty"]}
        yield directory


@pytest.fixture
def serve_node(engine: sa.Engine, database_url: str, tmp_path: Path, password_hash: str
               ) -> Iterator[ServeNode]:
    """Serve a node with the settings given (users duty-officer, analyst and a disabled
    former-officer exist); stopped afterwards."""
    started: list[ServedNode] = []
    add_users(engine, password_hash, {"duty-officer": (Role.duty_officer, "Duty officer"),
                                      "analyst": (Role.analyst, "Analyst"),
                                      "former-officer": (Role.operator, "Former officer"),
                                      "admin": (Role.admin, "Admin")})
    change_user(engine, "former-officer", disabled=True)

    def serve(**settings: Any) -> ServedNode:
        node = Node.open(make_settings(database_url, tmp_path, **settings), engine=engine)
        started.append(serve_in_thread(node))
        return started[-1]

    yield serve
    for served in started:
        served.stop()


def browser(served: ServedNode) -> httpx.Client:
    """A client that keeps cookies and follows redirects, as a browser does."""
    return httpx.Client(base_url=served.url, follow_redirects=True, timeout=30)


def login_error(response: httpx.Response) -> str | None:
    """The code the login screen is sent with, or None when the browser landed logged in."""
    assert response.url.path == "/", response.url
    return parse_qs(response.url.query.decode()).get("login_error", [None])[0]


def test_a_directory_login_opens_the_same_console_session(
        issuer: MockIssuer, serve_node: ServeNode, engine: sa.Engine) -> None:
    served = serve_node(**issuer.settings())
    with browser(served) as client:
        methods = client.get("/api/v1/auth/methods").json()
        assert methods == {"password": True, "directory": True,
                           "directory_name": "Test directory"}
        landed = client.get(START)
        hops = [r.url.path for r in landed.history]
        assert hops == [START, "/authorize", CALLBACK], hops
        assert login_error(landed) is None
        assert "sitcen_oidc" not in client.cookies  # the pending login is spent
        me = client.get("/api/v1/auth/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "duty-officer"
        assert client.get("/api/v1/auth/sessions").json()[0]["kind"] == "session"
        # The code is good once: the same answer again is refused.
        replay = client.get(landed.history[-1].url)
        assert login_error(replay) == "login_expired"
    (entry,) = [e for e in audit.entries(engine, action="login")]
    assert entry.actor == "duty-officer"
    assert '"method":"oidc"' in entry.detail and '"kind":"session"' in entry.detail


# Authlib, under the provider, warns of its own deprecations while it serves.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_login_through_a_third_party_provider(serve_node: ServeNode) -> None:
    """The same flow against another implementation than ours: oidc-provider-mock (Authlib's
    OpenID Connect server), whose login form the person fills in with their subject."""
    with warnings.catch_warnings():
        import authlib.deprecate  # its import puts an "always" filter first; ours goes before

        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        import oidc_provider_mock
    person = oidc_provider_mock.User(sub="u-17", claims={"preferred_username": "Analyst"})
    with oidc_provider_mock.run_server_in_thread(require_nonce=True,
                                                 user_claims=[person]) as provider:
        served = serve_node(oidc_issuer=f"http://localhost:{provider.server_port}",
                            oidc_client_id="sitcen-node", oidc_client_secret="any-secret-1")
        with browser(served) as client:
            form = client.get(START)
            assert form.url.path == "/oauth2/authorize", form.url
            landed = client.post(str(form.url), data={"sub": "u-17"})
            assert login_error(landed) is None
            assert client.get("/api/v1/auth/me").json()["username"] == "analyst"


def test_another_state_is_refused(issuer: MockIssuer, serve_node: ServeNode) -> None:
    served = serve_node(**issuer.settings())
    with browser(served) as client:
        to_directory = client.get(START, follow_redirects=False)
        assert to_directory.status_code == 303
        back = client.get(to_directory.headers["location"], follow_redirects=False)
        answer = urlsplit(back.headers["location"])
        query = parse_qs(answer.query)
        forged = client.get(CALLBACK, params={"code": query["code"][0], "state": "forged"})
        assert login_error(forged) == "wrong_state"
        assert client.get("/api/v1/auth/me").status_code == 401


def test_an_answer_without_a_pending_login_is_refused(
        issuer: MockIssuer, serve_node: ServeNode) -> None:
    served = serve_node(**issuer.settings())
    with browser(served) as client:
        to_directory = client.get(START, follow_redirects=False)
        back = client.get(to_directory.headers["location"], follow_redirects=False)
    # Another browser (no pending cookie) brings the code back: a login it did not start.
    with browser(served) as other:
        assert login_error(other.get(back.headers["location"])) == "login_expired"
        assert other.get("/api/v1/auth/me").status_code == 401


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now() -> int:
    return int(time.time())


def _advertise_and_use(algorithm: str) -> Callable[[MockIssuer], None]:
    def change(directory: MockIssuer) -> None:
        directory.algorithm = algorithm
        directory.advertised = ["RS256", algorithm.split("-")[0]]
    return change


#: What the directory is made to do wrong, and the reason the node's log gives.
TOKEN_REFUSALS: dict[str, tuple[Callable[[MockIssuer], None], str]] = {
    "wrong nonce": (lambda i: i.token_changes.update(nonce="another-nonce"), "another nonce"),
    "no nonce": (lambda i: i.token_changes.update(nonce=None), "another nonce"),
    "expired": (lambda i: i.token_changes.update(exp=_now() - 120, iat=_now() - 420),
                "Signature has expired"),
    "issued long ago": (lambda i: i.token_changes.update(iat=_now() - 3600),
                        "issued too long ago"),
    "issued in the future": (lambda i: i.token_changes.update(iat=_now() + 3600),
                             "not yet valid (iat)"),
    "no expiry": (lambda i: i.token_changes.update(exp=None), 'the "exp" claim'),
    "signed by another key": (lambda i: setattr(i, "sign_with", _other_key()),
                              "Signature verification failed"),
    "wrong audience": (lambda i: i.token_changes.update(aud="another-client"),
                       "Audience doesn't match"),
    "several audiences, not authorised": (
        lambda i: i.token_changes.update(aud=["sitcen-node", "another-client"]), "azp not us"),
    "wrong issuer": (lambda i: i.token_changes.update(iss="https://elsewhere.example"),
                     "Invalid issuer"),
    "alg none": (lambda i: setattr(i, "algorithm", "none"), "algorithm 'none' not accepted"),
    "alg none, advertised": (_advertise_and_use("none"), "algorithm 'none' not accepted"),
    "HS256 keyed with the public key": (_advertise_and_use("HS256-public"),
                                        "algorithm 'HS256' not accepted"),
}


@pytest.mark.parametrize("case", TOKEN_REFUSALS)
def test_a_token_the_node_cannot_trust_is_refused(
        case: str, issuer: MockIssuer, serve_node: ServeNode, engine: sa.Engine,
        caplog: pytest.LogCaptureFixture) -> None:
    served = serve_node(**issuer.settings())
    change, reason = TOKEN_REFUSALS[case]
    change(issuer)
    with browser(served) as client:
        assert login_error(client.get(START)) == "invalid_token", case
        assert client.get("/api/v1/auth/me").status_code == 401
    assert reason in caplog.text, caplog.text
    assert not list(audit.entries(engine, action="login"))
    (failed,) = audit.entries(engine, action="login_failed")
    assert '"reason":"invalid_token"' in failed.detail and '"method":"oidc"' in failed.detail


@pytest.mark.parametrize(("username", "code"), [("someone-else", "unknown_user"),
                                                ("former-officer", "disabled_user"),
                                                ("not a username!", "unknown_user")])
def test_only_existing_enabled_users_log_in(
        username: str, code: str, issuer: MockIssuer, serve_node: ServeNode,
        engine: sa.Engine) -> None:
    served = serve_node(**issuer.settings())
    issuer.person["preferred_username"] = username
    with browser(served) as client:
        assert login_error(client.get(START)) == code
        assert client.get("/api/v1/auth/me").status_code == 401
    (failed,) = audit.entries(engine, action="login_failed")
    assert f'"reason":"{code}"' in failed.detail


def test_the_username_claim_is_a_setting(issuer: MockIssuer, serve_node: ServeNode) -> None:
    served = serve_node(**issuer.settings(), oidc_username_claim="employee_id")
    issuer.person["employee_id"] = "analyst"
    with browser(served) as client:
        assert login_error(client.get(START)) is None
        assert client.get("/api/v1/auth/me").json()["username"] == "analyst"


def test_users_are_created_only_when_asked_with_the_mapped_role(
        issuer: MockIssuer, serve_node: ServeNode, engine: sa.Engine) -> None:
    served = serve_node(**issuer.settings(), oidc_create_users=True, oidc_role_claim="groups",
                        oidc_roles={"sitcen-analysts": "analyst", "sitcen-duty": "duty_officer"})
    issuer.person.update(preferred_username="new-officer", groups=["staff", "sitcen-duty"])
    with browser(served) as client:
        assert login_error(client.get(START)) is None
        me = client.get("/api/v1/auth/me").json()
        assert (me["username"], me["role"], me["full_name"]) == (
            "new-officer", "duty_officer", "Dilnoza Duty")
    # Created without a password: only the directory logs them in.
    assert authenticate(engine, "new-officer", TEST_PASSWORD) is None
    (created,) = audit.entries(engine, action="user_created")
    assert created.actor == "directory" and created.subject == "new-officer"
    # Nobody is created without a role the directory maps.
    issuer.person.update(preferred_username="visitor", groups=["staff"])
    with browser(served) as client:
        assert login_error(client.get(START)) == "no_role"


def test_the_directory_sets_the_role_of_an_existing_user(
        issuer: MockIssuer, serve_node: ServeNode, engine: sa.Engine) -> None:
    served = serve_node(**issuer.settings(), oidc_role_claim="groups",
                        oidc_roles={"sitcen-analysts": "analyst"})
    issuer.person.update(preferred_username="duty-officer", groups=["sitcen-analysts"])
    with browser(served) as client:
        assert login_error(client.get(START)) is None
    assert get_account(engine, "duty-officer").user.role == Role.analyst
    # A group that maps to nothing leaves the role as the administrators set it.
    issuer.person.update(preferred_username="analyst", groups=["staff"])
    with browser(served) as client:
        assert login_error(client.get(START)) is None
    assert get_account(engine, "analyst").user.role == Role.analyst
    # The last administrator is not demoted by a group.
    issuer.person.update(preferred_username="admin", groups=["sitcen-analysts"])
    with browser(served) as client:
        assert login_error(client.get(START)) is None
        assert client.get("/api/v1/auth/me").json()["role"] == "admin"


def test_a_directory_that_refuses_or_is_down_ends_on_the_login_screen(
        issuer: MockIssuer, serve_node: ServeNode) -> None:
    issuer.refuse = True
    served = serve_node(**issuer.settings())
    with browser(served) as client:
        assert login_error(client.get(START)) == "directory_refused"
    down = serve_node(**{**issuer.settings(), "oidc_issuer": f"http://127.0.0.1:{free_port()}"})
    with browser(down) as client:
        assert login_error(client.get(START)) == "directory_unreachable"


def test_without_a_directory_only_passwords(serve_node: ServeNode) -> None:
    served = serve_node()
    with browser(served) as client:
        assert client.get("/api/v1/auth/methods").json()["directory"] is False
        assert login_error(client.get(START)) == "oidc_off"
        assert login_error(client.get(CALLBACK, params={"code": "x", "state": "y"})) == "oidc_off"


def test_refusal_codes_are_labelled_for_the_login_screen() -> None:
    from sitcen.i18n import catalogue

    for language in ("en", "ru"):
        labels = catalogue(language)
        missing = [c for c in REFUSAL_CODES if f"ui.console.login_error.{c}" not in labels]
        assert not missing, (language, missing)


@pytest.mark.parametrize(("change", "message"), [
    ({"oidc_client_secret": ""}, "oidc_client_id and oidc_client_secret"),
    ({"oidc_issuer": "http://directory.example"}, "https://"),
    ({"oidc_roles": {"g": "analyst"}}, "oidc_role_claim"),
    ({"oidc_create_users": True}, "oidc_roles"),
    ({"oidc_scopes": "profile"}, "openid"),
])
def test_directory_settings_are_checked(change: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"environment": "test", "oidc_issuer": "https://id.example/realm",
                              "oidc_client_id": "sitcen", "oidc_client_secret": "s3cret-value"}
    assert Settings(**values).oidc_issuer
    with pytest.raises(ValueError, match=message):
        Settings(**{**values, **change})


def test_the_client_secret_is_masked(tmp_path: Path) -> None:
    env = {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(tmp_path),
           "SITCEN_OIDC_ISSUER": "https://id.example/realm", "SITCEN_OIDC_CLIENT_ID": "sitcen",
           "SITCEN_OIDC_CLIENT_SECRET": "very-secret-client-value"}
    shown = CliRunner().invoke(main, ["settings"], env=env, catch_exceptions=False).output
    assert "SITCEN_OIDC_CLIENT_SECRET=********" in shown
    assert "very-secret-client-value" not in shown


def test_the_pending_login_cookie_is_signed_and_expires() -> None:
    pending = PendingLogin.begin("https://node.example/api/v1/auth/oidc/callback")
    sealed = pending.seal("node-secret-one")
    assert PendingLogin.unseal(sealed, "node-secret-one") == pending
    assert pending.verifier not in pending.challenge and len(pending.challenge) == 43
    header, body, signature = sealed.split(".")
    forged = ".".join([header, body, signature[::-1]])
    too_old = pending.seal("node-secret-one", now=time.time() - PENDING_TTL_S - 1)
    for cookie, secret in ((sealed, "node-secret-two"), (forged, "node-secret-one"),
                           (too_old, "node-secret-one"), ("", "node-secret-one")):
        with pytest.raises(DirectoryRefusal) as refused:
            PendingLogin.unseal(cookie, secret)
        assert refused.value.code == "login_expired"
