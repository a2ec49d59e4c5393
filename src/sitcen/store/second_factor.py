"""A second factor for logging in: time-based one-time codes (TOTP, RFC 6238).

A user enrols by taking a new secret into an authenticator app (the QR code the
console shows) and proving it with one code; from then on a login needs the
password and the app's current code. A code is accepted once: the time step it
belongs to is remembered, so a code seen over a shoulder cannot be used again.

The secret is stored sealed (AES-GCM) with a key drawn from the node's
``secret_key``, bound to the username, so a copy of the database alone does not
give the secrets away. A new ``secret_key`` makes the stored secrets unreadable:
those users are told to have their second factor reset (docs/security.md).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sitcen.store import schema
from sitcen.store.journal import now_micros

#: Seconds a code is valid for, and the steps either side still accepted (clock drift).
STEP_S = 30
DRIFT_STEPS = 1
DIGITS = 6
_NONCE_BYTES = 12


class SecondFactorError(ValueError):
    """The second factor cannot be set up, used or removed as asked; the message says why."""


@dataclass(frozen=True)
class Enrolment:
    """A new secret waiting for its first code: what the authenticator app takes."""

    secret: str
    uri: str


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"sitcen second factor v1").derive(secret_key.encode())


def _seal(secret_key: str, username: str, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), username.encode())
    return base64.b64encode(nonce + sealed).decode()


def _unseal(secret_key: str, username: str, sealed: str) -> str:
    raw = base64.b64decode(sealed)
    try:
        opened = AESGCM(_key(secret_key)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                                  username.encode())
    except InvalidTag as exc:
        raise SecondFactorError(
            "the stored second factor cannot be read with this node's secret key (was the "
            "key changed?): an administrator must reset it") from exc
    return opened.decode()


def _row(conn: sa.Connection, username: str) -> sa.Row[Any, Any, Any] | None:
    f = schema.second_factors
    return conn.execute(sa.select(f.c.sealed_secret, f.c.confirmed, f.c.last_step)
                        .where(f.c.username == username)).first()


def is_enrolled(engine: sa.Engine, username: str) -> bool:
    """Whether the user's logins need a code (a confirmed second factor)."""
    with engine.connect() as conn:
        row = _row(conn, username)
    return bool(row and row.confirmed)


def enrolled_users(engine: sa.Engine) -> set[str]:
    """Every user with a confirmed second factor (for the list of accounts)."""
    f = schema.second_factors
    with engine.connect() as conn:
        return set(conn.execute(sa.select(f.c.username).where(f.c.confirmed)).scalars())


def begin(engine: sa.Engine, secret_key: str, username: str, issuer: str) -> Enrolment:
    """A new secret for the user, waiting for :func:`confirm`. Refused while a confirmed
    one exists: that one is removed first (with a code from it)."""
    secret = pyotp.random_base32()
    f = schema.second_factors
    with engine.begin() as conn:
        row = _row(conn, username)
        if row is not None and row.confirmed:
            raise SecondFactorError("a second factor is set up already: remove it first")
        conn.execute(f.delete().where(f.c.username == username))
        conn.execute(f.insert().values(username=username,
                                       sealed_secret=_seal(secret_key, username, secret),
                                       confirmed=False, last_step=0, created_at=now_micros()))
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=username, issuer_name=issuer)
    return Enrolment(secret, uri)


def _matching_step(secret: str, code: str, after: int, at: float) -> int | None:
    """The time step near ``at`` whose code this is, if it is later than ``after``."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now_step = int(at // STEP_S)
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def _use(engine: sa.Engine, secret_key: str, username: str, code: str, *,
         confirmed: bool, at: float | None) -> bool:
    f = schema.second_factors
    with engine.begin() as conn:
        row = _row(conn, username)
        if row is None or row.confirmed != confirmed:
            return False
        step = _matching_step(_unseal(secret_key, username, row.sealed_secret), code,
                              row.last_step, time.time() if at is None else at)
        if step is None:
            return False
        # Only one request may spend a step: the update holds only while it is newer.
        spent = conn.execute(f.update()
                             .where(f.c.username == username, f.c.last_step < step)
                             .values(last_step=step, confirmed=True))
        return bool(spent.rowcount)


def confirm(engine: sa.Engine, secret_key: str, username: str, code: str, *,
            at: float | None = None) -> bool:
    """Confirm a pending enrolment with the app's first code; False if the code is wrong
    (or nothing is pending)."""
    return _use(engine, secret_key, username, code, confirmed=False, at=at)


def verify(engine: sa.Engine, secret_key: str, username: str, code: str, *,
           at: float | None = None) -> bool:
    """Whether this is the user's current code, not used before (it is then spent)."""
    return _use(engine, secret_key, username, code, confirmed=True, at=at)


def remove(engine: sa.Engine, username: str) -> bool:
    """Remove the user's second factor (set up or pending); whether there was one."""
    f = schema.second_factors
    with engine.begin() as conn:
        return bool(conn.execute(f.delete().where(f.c.username == username)).rowcount)
