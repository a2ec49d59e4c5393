"""Logging in through the centre's directory (OpenID Connect), and which logins a node offers.

These routes answer a browser, not a program: every outcome is a redirect.
``/auth/oidc/start`` sends it to the directory with a pending login in a
signed cookie; the directory sends it back to ``/auth/oidc/callback``, which
opens the same console session as a password login and goes to the console,
or goes to the login screen with ``?login_error=<code>`` (codes in
:data:`sitcen.interop.oidc.REFUSAL_CODES`). None of them needs a token.
"""


import logging
import threading
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from sitcen.api.deps import CurrentNode
from sitcen.api.routes.auth import client_address, open_console_session
from sitcen.interop.oidc import (
    PENDING_TTL_S,
    Directory,
    DirectoryRefusal,
    PendingLogin,
    local_user,
)
from sitcen.node import Node
from sitcen.store import audit
from sitcen.store.audit import AuditAction

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger("sitcen.oidc")

#: The cookie the pending login travels in. SameSite=Lax, not Strict: it must come back
#: with the directory's redirect, a navigation from another site.
PENDING_COOKIE = "sitcen_oidc"
#: Where the browser lands: the console, which shows ``login_error`` on its login screen.
CONSOLE = "/"
_REDIRECTED: dict[int | str, dict[str, Any]] = {
    303: {"description": "to the directory, the console, or its login screen"}}
_directories_made = threading.Lock()


class LoginMethods(BaseModel):
    """How users log in to this node: what the login screen offers."""

    password: bool = Field(True, description="username and password (always)")
    directory: bool = Field(description="through the centre's directory (OpenID Connect)")
    directory_name: str = Field(description="the directory's name for its button; may be empty")


def directory_of(request: Request, node: Node) -> Directory:
    """The app's one :class:`Directory` (its cached discovery document and keys)."""
    with _directories_made:
        directory: Directory | None = getattr(request.app.state, "oidc_directory", None)
        if directory is None:
            directory = request.app.state.oidc_directory = Directory(node.settings)
    return directory


def _callback_path(request: Request) -> str:
    return request.url_for("finish_directory_login").path


def _redirect_uri(request: Request, node: Node) -> str:
    """The callback's address as the directory knows it: under ``console_url`` when that
    is set (behind a reverse proxy), else as this request reached the node."""
    if node.settings.console_url:
        return node.settings.console_url.rstrip("/") + _callback_path(request)
    return str(request.url_for("finish_directory_login"))


def _to_login_screen(code: str) -> RedirectResponse:
    return RedirectResponse(f"{CONSOLE}?login_error={code}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/methods", response_model=LoginMethods)
def read_login_methods(node: CurrentNode) -> LoginMethods:
    """How users may log in to this node (no login needed; the login screen asks)."""
    s = node.settings
    return LoginMethods(directory=bool(s.oidc_issuer), directory_name=s.oidc_name)


@router.get("/oidc/start", response_class=RedirectResponse,
            status_code=status.HTTP_303_SEE_OTHER, responses=_REDIRECTED)
def start_directory_login(node: CurrentNode, request: Request) -> RedirectResponse:
    """Go to the centre's directory to log in to the console (no login needed)."""
    if not node.settings.oidc_issuer:
        return _to_login_screen("oidc_off")
    pending = PendingLogin.begin(_redirect_uri(request, node))
    try:
        target = directory_of(request, node).authorization_url(pending)
    except DirectoryRefusal as refusal:
        log.warning("directory login not started: %s", refusal)
        return _to_login_screen(refusal.code)
    answer = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    answer.set_cookie(PENDING_COOKIE, pending.seal(node.settings.secret_key.get_secret_value()),
                      max_age=PENDING_TTL_S, path=_callback_path(request), httponly=True,
                      samesite="lax", secure=request.url.scheme == "https")
    return answer


@router.get("/oidc/callback", response_class=RedirectResponse,
            status_code=status.HTTP_303_SEE_OTHER, responses=_REDIRECTED)
def finish_directory_login(node: CurrentNode, request: Request, code: str | None = None,
                           state: str | None = None, error: str | None = None
                           ) -> RedirectResponse:
    """Come back from the directory: verify who logged in, open a console session."""
    secret = node.settings.secret_key.get_secret_value()
    claimed = ""
    try:
        if not node.settings.oidc_issuer:
            raise DirectoryRefusal("oidc_off", "no directory configured")
        pending = PendingLogin.unseal(request.cookies.get(PENDING_COOKIE), secret)
        pending.check_state(state)
        if error or not code:
            raise DirectoryRefusal("directory_refused", f"the directory answered {error!r}")
        directory = directory_of(request, node)
        # From here on the directory vouched for the answer (a code it issued for our
        # state), so refusals are worth the audit trail; before, anyone could fill it.
        person = directory.identity(directory.redeem(code, pending))
        claimed = person.username
        user = local_user(node.engine, node.settings, person)
    except DirectoryRefusal as refusal:
        log.log(logging.INFO if refusal.code == "oidc_off" else logging.WARNING,
                "directory login refused (%s): %s", refusal.code, refusal)
        if refusal.code in ("invalid_token", "unknown_user", "disabled_user", "no_role"):
            audit.record(node.engine, claimed or "directory", AuditAction.login_failed,
                         claimed, {"method": "oidc", "reason": refusal.code,
                                   "address": client_address(request)})
        answer = _to_login_screen(refusal.code)
    else:
        answer = RedirectResponse(CONSOLE, status_code=status.HTTP_303_SEE_OTHER)
        open_console_session(node, user, request, answer, "oidc")
    answer.delete_cookie(PENDING_COOKIE, path=_callback_path(request), httponly=True,
                         samesite="lax", secure=request.url.scheme == "https")
    return answer

