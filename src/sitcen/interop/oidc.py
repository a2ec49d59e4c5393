"""Logging in through the centre's directory: this node as an OpenID Connect relying party.

The authorisation code flow with PKCE (RFC 7636), ``state`` and ``nonce``
(OpenID Connect Core 1.0): the directory's discovery document and keys, read
and cached; the address the browser is sent to; the pending login the browser
carries there and back in a cookie this node signs; the code exchanged for an
ID token with the client secret; the token verified with PyJWT (signature
against the directory's published keys, ``iss``, ``aud``, ``exp``, ``iat``,
``nonce``; asymmetric algorithms only); and the person it names matched with a
user of this node (:func:`local_user`).

Knows no routes: ``api/routes/oidc.py`` sends the browser to and fro. Every
failure is a :class:`DirectoryRefusal` whose ``code`` the login screen shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt
import sqlalchemy as sa

from sitcen.settings import Settings
from sitcen.store import audit
from sitcen.store.audit import AuditAction
from sitcen.store.users import (
    StoredUser,
    UnknownUser,
    UserError,
    add_user,
    change_user,
    get_account,
)
from sitcen.users import USERNAME_PATTERN, Role

log = logging.getLogger("sitcen.oidc")

#: Algorithms an ID token may be signed with, by the key type that signs them. Never
#: ``none``, and never HS*: their "secret" would be whatever key the token names, and
#: an attacker would sign with the directory's public key.
ASYMMETRIC: Mapping[str, str] = {
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "PS384": "RSA",
    "PS512": "RSA", "ES256": "EC", "ES384": "EC", "ES512": "EC", "EdDSA": "OKP",
}
#: How long a browser may take between leaving for the directory and coming back.
PENDING_TTL_S = 600
#: Clock difference allowed between the directory and this node.
LEEWAY_S = 60
#: An ID token issued longer ago than this is refused, however long its ``exp``.
MAX_TOKEN_AGE_S = 600
#: How long the discovery document and the keys are kept before they are read again.
CACHE_S = 3600
#: Unknown key ids read the keys again, but not more often than this (key rotation).
REFETCH_KEYS_S = 30
TIMEOUT_S = 10.0
#: Who the audit trail names for a change the directory made at a login.
DIRECTORY_ACTOR = "directory"

#: What the login screen says for each refusal (codes of ``?login_error=``).
REFUSAL_CODES = ("oidc_off", "directory_unreachable", "directory_refused", "login_expired",
                 "wrong_state", "invalid_token", "unknown_user", "disabled_user", "no_role")


class DirectoryRefusal(Exception):
    """A directory login that cannot go on: ``code`` for the user, the message for the log."""

    def __init__(self, code: str, reason: str) -> None:
        if code not in REFUSAL_CODES:
            raise ValueError(f"no refusal code {code!r}: the login screen has no words for it")
        super().__init__(reason)
        self.code = code


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _cookie_key(secret: str) -> bytes:
    """The key pending logins are signed with: derived from the node's secret, so the same
    secret never signs two kinds of thing."""
    return hashlib.sha256(b"sitcen directory login\x00" + secret.encode()).digest()


@dataclass(frozen=True)
class PendingLogin:
    """What the browser carries to the directory and back: the values the answer must match."""

    state: str
    nonce: str
    verifier: str  # PKCE: only its hash goes to the directory, the verifier with the code
    redirect_uri: str

    @classmethod
    def begin(cls, redirect_uri: str) -> PendingLogin:
        """A new login with fresh random values."""
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                   secrets.token_urlsafe(48), redirect_uri)

    @property
    def challenge(self) -> str:
        """The PKCE S256 challenge of the verifier."""
        return _b64url(hashlib.sha256(self.verifier.encode()).digest())

    def seal(self, secret: str, now: float | None = None) -> str:
        """The pending login as a signed, expiring cookie value."""
        expires = int(now if now is not None else time.time()) + PENDING_TTL_S
        return jwt.encode({"state": self.state, "nonce": self.nonce, "verifier": self.verifier,
                           "redirect_uri": self.redirect_uri, "exp": expires},
                          _cookie_key(secret), algorithm="HS256")

    @classmethod
    def unseal(cls, sealed: str | None, secret: str) -> PendingLogin:
        """The pending login a cookie holds; refused when missing, forged or expired."""
        if not sealed:
            raise DirectoryRefusal("login_expired", "no pending directory login in this browser")
        try:
            values = jwt.decode(sealed, _cookie_key(secret), algorithms=["HS256"],
                                options={"require": ["exp"]})
            return cls(str(values["state"]), str(values["nonce"]), str(values["verifier"]),
                       str(values["redirect_uri"]))
        except (jwt.PyJWTError, KeyError) as exc:
            raise DirectoryRefusal("login_expired", f"pending login refused: {exc}") from exc

    def check_state(self, state: str | None) -> None:
        """Refuse an answer that does not carry this login's ``state``."""
        if not state or not hmac.compare_digest(state.encode(), self.state.encode()):
            raise DirectoryRefusal("wrong_state", "the directory's answer has another state")


@dataclass(frozen=True)
class DirectoryIdentity:
    """The person an ID token names, as this node reads them."""

    username: str
    full_name: str
    groups: tuple[str, ...]
    subject: str


@dataclass
class _Cached:
    value: Any = None
    read_at: float = field(default=-1e18)


class Directory:
    """The centre's directory as this node knows it: where it is, and what it published.

    One per app; its cache is shared by the app's threads.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self._lock = threading.Lock()
        self._metadata = _Cached()
        self._keys = _Cached()

    # ------------------------------------------------------------------ reading the directory

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = httpx.get(url, timeout=TIMEOUT_S, headers={"Accept": "application/json"})
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DirectoryRefusal("directory_unreachable", f"{what} at {url}: {exc}") from exc
        if not isinstance(body, dict):
            raise DirectoryRefusal("directory_unreachable", f"{what} at {url} is not an object")
        return body

    def metadata(self) -> dict[str, Any]:
        """The discovery document (``/.well-known/openid-configuration``), cached."""
        with self._lock:
            if time.monotonic() - self._metadata.read_at < CACHE_S:
                return dict(self._metadata.value)
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "discovery document")
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer asked.
        if document.get("issuer") != self.issuer:
            raise DirectoryRefusal("directory_unreachable",
                                   f"discovery document names issuer {document.get('issuer')!r}")
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                   if not isinstance(document.get(k), str)]
        if missing:
            raise DirectoryRefusal("directory_unreachable",
                                   f"discovery document lacks {', '.join(missing)}")
        with self._lock:
            self._metadata = _Cached(document, time.monotonic())
        return dict(document)

    def _signing_keys(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            age = time.monotonic() - self._keys.read_at
            if age < CACHE_S and not (fresh and age >= REFETCH_KEYS_S):
                return list(self._keys.value)
        keys = self._get_json(self.metadata()["jwks_uri"], "signing keys").get("keys")
        if not isinstance(keys, list):
            raise DirectoryRefusal("directory_unreachable", "the key set has no keys")
        usable = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        with self._lock:
            self._keys = _Cached(usable, time.monotonic())
        return usable

    def algorithms(self) -> list[str]:
        """The algorithms this directory's ID tokens may use: what it says it signs with,
        of the asymmetric ones (RS256 when it says nothing, as the standard's default)."""
        named = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [a for a in named if isinstance(a, str) and a in ASYMMETRIC]

    def _key_for(self, kid: Any, alg: str) -> jwt.PyJWK:
        """The published key a token's header names, fit for its algorithm."""
        def fitting(keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
            return [k for k in keys if k.get("kty") == ASYMMETRIC[alg]
                    and k.get("alg", alg) == alg and (kid is None or k.get("kid") == kid)]

        candidates = fitting(self._signing_keys())
        if not candidates:  # a key rotated in since the keys were read
            candidates = fitting(self._signing_keys(fresh=True))
        if len(candidates) != 1:
            raise DirectoryRefusal("invalid_token", f"no single published {alg} key "
                                                    f"with kid {kid!r}")
        try:
            return jwt.PyJWK(candidates[0], algorithm=alg)
        except jwt.PyJWTError as exc:
            raise DirectoryRefusal("invalid_token", f"published key unusable: {exc}") from exc

    # ------------------------------------------------------------------ the flow

    def authorization_url(self, pending: PendingLogin) -> str:
        """Where to send the browser to log in at the directory."""
        endpoint = str(self.metadata()["authorization_endpoint"])
        query = urlencode({
            "response_type": "code", "client_id": self.settings.oidc_client_id,
            "redirect_uri": pending.redirect_uri, "scope": self.settings.oidc_scopes,
            "state": pending.state, "nonce": pending.nonce,
            "code_challenge": pending.challenge, "code_challenge_method": "S256",
        })
        return endpoint + ("&" if "?" in endpoint else "?") + query

    def redeem(self, code: str, pending: PendingLogin) -> dict[str, Any]:
        """Exchange the code for an ID token at the token endpoint; the token's verified claims."""
        document = self.metadata()
        client_id = self.settings.oidc_client_id
        secret = self.settings.oidc_client_secret.get_secret_value()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": pending.redirect_uri, "code_verifier": pending.verifier}
        headers = {"Accept": "application/json"}
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            # RFC 6749, 2.3.1: the id and secret are form-encoded before they are joined.
            pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": client_id, "client_secret": secret}
        try:
            answer = httpx.post(document["token_endpoint"], data=form, headers=headers,
                                timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            raise DirectoryRefusal("directory_unreachable", f"token endpoint: {exc}") from exc
        if 400 <= answer.status_code < 500:
            raise DirectoryRefusal("directory_refused",
                                   f"token endpoint refused the code: {answer.text[:200]}")
        try:
            answer.raise_for_status()
            id_token = answer.json()["id_token"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise DirectoryRefusal("directory_unreachable",
                                   f"token endpoint answered no ID token: {exc}") from exc
        return self.verify(str(id_token), pending.nonce)

    def verify(self, id_token: str, nonce: str, now: float | None = None) -> dict[str, Any]:
        """The claims of an ID token this directory signed for this node, for this login."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise DirectoryRefusal("invalid_token", f"not a token: {exc}") from exc
        alg = header.get("alg")
        if alg not in self.algorithms():
            raise DirectoryRefusal("invalid_token", f"algorithm {alg!r} not accepted")
        key = self._key_for(header.get("kid"), str(alg))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key, algorithms=[str(alg)], audience=self.settings.oidc_client_id,
                issuer=self.issuer, leeway=LEEWAY_S,
                options={"require": ["iss", "aud", "exp", "iat", "sub"],
                         "enforce_minimum_key_length": True})
        except jwt.PyJWTError as exc:
            raise DirectoryRefusal("invalid_token", f"ID token refused: {exc}") from exc
        checked = time.time() if now is None else now
        if not isinstance(claims["iat"], int | float) or claims["iat"] < (
                checked - MAX_TOKEN_AGE_S - LEEWAY_S):
            raise DirectoryRefusal("invalid_token", "ID token issued too long ago")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # Core 1.0, 3.1.3.7: with other audiences beside us, we must be the authorised party.
        if len(audiences) > 1 and claims.get("azp") != self.settings.oidc_client_id:
            raise DirectoryRefusal("invalid_token", "ID token for several audiences, azp not us")
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise DirectoryRefusal("invalid_token", "ID token carries another nonce")
        return claims

    def identity(self, claims: Mapping[str, Any]) -> DirectoryIdentity:
        """The person the verified claims name, with the settings' claims."""
        s = self.settings
        value = claims.get(s.oidc_username_claim)
        if not isinstance(value, str) or not USERNAME_PATTERN.match(value.lower()):
            raise DirectoryRefusal("unknown_user", f"claim {s.oidc_username_claim} is "
                                                   f"{value!r}: not a username of this node")
        raw = claims.get(s.oidc_role_claim) if s.oidc_role_claim else None
        groups = (raw,) if isinstance(raw, str) else tuple(
            str(g) for g in raw) if isinstance(raw, list) else ()
        name = claims.get("name")
        return DirectoryIdentity(value.lower(), name if isinstance(name, str) else "",
                                 groups, str(claims["sub"]))


def directory_role(settings: Settings, groups: Sequence[str]) -> Role | None:
    """The role the directory gives: the first entry of ``oidc_roles`` the groups hold."""
    return next((role for value, role in settings.oidc_roles.items() if value in groups), None)


def local_user(engine: sa.Engine, settings: Settings, person: DirectoryIdentity) -> StoredUser:
    """The enabled user of this node the directory's person is: created at the first login
    when the settings say so, and given the role the directory maps them to."""
    role = directory_role(settings, person.groups)
    try:
        user = get_account(engine, person.username).user
    except UnknownUser:
        if not settings.oidc_create_users:
            raise DirectoryRefusal("unknown_user",
                                   f"no user {person.username} on this node") from None
        if role is None:
            raise DirectoryRefusal("no_role", f"{person.username}: no role maps from "
                                              f"{settings.oidc_role_claim}") from None
        user = add_user(engine, person.username, None, role, person.full_name)
        audit.record(engine, DIRECTORY_ACTOR, AuditAction.user_created, user.username,
                     {"role": role.value, "method": "oidc", "subject": person.subject})
        return user
    if user.disabled:
        raise DirectoryRefusal("disabled_user", f"user {user.username} is disabled")
    if role is not None and role != user.role:
        try:
            user = change_user(engine, user.username, role=role).user
        except UserError as exc:  # the node's last administrator stays one
            log.warning("directory role %s for %s not applied: %s", role, user.username, exc)
            return user
        audit.record(engine, DIRECTORY_ACTOR, AuditAction.user_changed, user.username,
                     {"role": role.value, "method": "oidc"})
    return user
