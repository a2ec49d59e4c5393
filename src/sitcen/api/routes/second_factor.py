"""A user's own second factor: set it up with an authenticator app, or remove it.

A user whose role needs one (``second_factor_roles``) and has none gets, at
login, a token that serves only these routes (and who am I, log out); the
confirming code turns it into a full one. An administrator resets a lost one
(``DELETE /users/{username}/second-factor``).
"""


import segno
from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from sitcen.api.deps import CurrentCredentials, CurrentNode, EnrollingUser
from sitcen.errors import InvalidInput, Refused, error
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.store import audit, second_factor
from sitcen.store.audit import AuditAction
from sitcen.store.users import StoredUser, check_password, complete_enrolment

router = APIRouter(prefix="/auth/second-factor", tags=["auth"])

_CODE = r"^[0-9]{6}$"


class SecondFactorState(BaseModel):
    """Whether the user logs in with a code, and whether their role demands it."""

    enrolled: bool
    required: bool


class SecondFactorStart(BaseModel):
    """The password again, before a new secret is handed out."""

    password: str = Field(min_length=1, max_length=256, pattern=NO_NUL)


class SecondFactorSetup(BaseModel):
    """A new secret for the authenticator app: scan the QR code or type the secret."""

    secret: str = Field(description="base32; for apps that cannot scan")
    uri: str = Field(description="otpauth:// URI, the QR code's content")
    qr_svg: str = Field(description="the QR code as an SVG data URI")
    digits: int
    period_s: int


class SecondFactorCode(BaseModel):
    """A code the authenticator app shows now."""

    code: str = Field(pattern=_CODE)


def _secret_key(node: Node) -> str:
    return node.settings.secret_key.get_secret_value()


def _state(node: Node, user: StoredUser) -> SecondFactorState:
    return SecondFactorState(enrolled=second_factor.is_enrolled(node.engine, user.username),
                             required=user.role.value in node.settings.second_factor_roles)


@router.get("", response_model=SecondFactorState)
def read_second_factor(node: CurrentNode, user: EnrollingUser) -> SecondFactorState:
    """Whether I log in with a code, and whether my role demands one."""
    return _state(node, user)


@router.post("", response_model=SecondFactorSetup)
def start_second_factor(start: SecondFactorStart, node: CurrentNode,
                        user: EnrollingUser) -> SecondFactorSetup:
    """Begin setting up a second factor: a new secret, active once a code from it is
    confirmed (``/confirm``). Refused while one is set up: remove it first."""
    if not check_password(node.engine, user.username, start.password):
        raise InvalidInput([error(("body", "password"), "is not your password",
                                  "wrong_password")])
    try:
        enrolment = second_factor.begin(node.engine, _secret_key(node), user.username,
                                        issuer=f"sitcen {node.settings.node_name}")
    except second_factor.SecondFactorError as exc:
        raise Refused(str(exc), status=status.HTTP_409_CONFLICT, kind="conflict") from exc
    qr = segno.make_qr(enrolment.uri, error="m")
    return SecondFactorSetup(secret=enrolment.secret, uri=enrolment.uri,
                             qr_svg=qr.svg_data_uri(scale=5, border=2),
                             digits=second_factor.DIGITS, period_s=second_factor.STEP_S)


@router.post("/confirm", status_code=status.HTTP_204_NO_CONTENT)
def confirm_second_factor(body: SecondFactorCode, node: CurrentNode, user: EnrollingUser,
                          credentials: CurrentCredentials) -> None:
    """Confirm the new second factor with the app's code: from now on logins need a code.
    A token that served only to set it up becomes a full one."""
    if not second_factor.confirm(node.engine, _secret_key(node), user.username, body.code):
        raise InvalidInput([error(("body", "code"), "is not the code the app shows now (is "
                                  "the phone's clock right?), or nothing is being set up",
                                  "wrong_code")])
    complete_enrolment(node.engine, credentials.token)
    audit.record(node.engine, user.username, AuditAction.second_factor_set, user.username)


@router.post("/remove", status_code=status.HTTP_204_NO_CONTENT)
def remove_second_factor(body: SecondFactorCode, node: CurrentNode,
                         user: EnrollingUser) -> None:
    """Remove my second factor, proven with a current code (a lost phone: an administrator
    resets it). If my role demands one, my next login sets a new one up."""
    try:
        right = second_factor.verify(node.engine, _secret_key(node), user.username, body.code)
    except second_factor.SecondFactorError as exc:
        raise Refused(str(exc), status=status.HTTP_409_CONFLICT, kind="conflict") from exc
    if not right:
        raise InvalidInput([error(("body", "code"), "is not your current code",
                                  "wrong_code")])
    second_factor.remove(node.engine, user.username)
    audit.record(node.engine, user.username, AuditAction.second_factor_removed, user.username)
