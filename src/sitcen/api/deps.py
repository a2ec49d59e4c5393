"""Typed dependencies shared by the routers."""


from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Header, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sitcen.errors import Refused
from sitcen.i18n import SUPPORTED, negotiate, supported
from sitcen.node import Node
from sitcen.store.users import ENROL_KIND, StoredUser, token_owner
from sitcen.users import Permission, allows

_bearer = HTTPBearer(auto_error=False, description="token from POST /api/v1/auth/login")


def get_node(request: Request) -> Node:
    """The node this app serves."""
    node: Node = request.app.state.node
    return node


CurrentNode = Annotated[Node, Depends(get_node)]


#: The cookie the console's session travels in (the same tokens as bearer ones).
SESSION_COOKIE = "sitcen_session"
#: A header only our own pages send; a cross-site form cannot set it.
CONSOLE_HEADER = "x-sitcen-console"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Credentials:
    """The token a request authenticates with, and whether it came in the session cookie."""

    token: str
    by_cookie: bool


def same_origin(request: Request) -> bool:
    """Whether a request comes from a page of this node (Origin, else Referer, else our header).

    Browsers add Origin to every cross-site POST; when a privacy setting strips
    both Origin and Referer, only a page of ours that sets the console header
    gets through.
    """
    host = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value:
            # Scheme too: a page served over plain http on the same host and port may
            # not act with the cookie of the HTTPS console.
            parts = urlsplit(value)
            return parts.netloc == host and parts.scheme == request.url.scheme
    return request.headers.get(CONSOLE_HEADER) == "1"


def get_credentials(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Credentials:
    """The bearer token, else the session cookie (same-origin only for unsafe methods)."""
    if credentials is not None:
        if credentials.scheme.lower() != "bearer":
            raise Refused("log in first: send Authorization: Bearer <token>",
                          status=status.HTTP_401_UNAUTHORIZED, headers=_CHALLENGE)
        return Credentials(credentials.credentials, by_cookie=False)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Refused("log in first: send Authorization: Bearer <token>",
                      status=status.HTTP_401_UNAUTHORIZED, headers=_CHALLENGE)
    if request.method in _UNSAFE_METHODS and not same_origin(request):
        raise Refused("cross-site request refused: the session cookie works only from "
                      "this node's own pages")
    return Credentials(cookie, by_cookie=True)


CurrentCredentials = Annotated[Credentials, Depends(get_credentials)]


def _owner(node: Node, credentials: Credentials) -> tuple[StoredUser, str]:
    owner = token_owner(node.engine, credentials.token)
    if owner is None:
        raise Refused("token unknown or expired; log in again",
                      status=status.HTTP_401_UNAUTHORIZED, headers=_CHALLENGE)
    return owner


def get_enrolling_user(node: CurrentNode, credentials: CurrentCredentials) -> StoredUser:
    """The user behind the token, also a token that serves only to set up a second factor;
    401 without a valid one."""
    return _owner(node, credentials)[0]


def get_current_user(node: CurrentNode, credentials: CurrentCredentials) -> StoredUser:
    """The user behind the bearer token or session cookie; 401 without a valid one, 403
    with a token that serves only to set up the second factor the user's role needs."""
    user, kind = _owner(node, credentials)
    if kind.startswith(ENROL_KIND):
        raise Refused("your role logs in with a second factor: set one up first "
                      "(POST /api/v1/auth/second-factor)", kind="second_factor_needed")
    return user


CurrentUser = Annotated[StoredUser, Depends(get_current_user)]
#: The user, also while their token serves only to set up a second factor.
EnrollingUser = Annotated[StoredUser, Depends(get_enrolling_user)]


def require(permission: Permission) -> Any:
    """A dependency that lets only users whose role carries ``permission`` through."""

    def check(user: CurrentUser) -> StoredUser:
        if not allows(user.role, permission):
            raise Refused(f"role {user.role.value} may not {permission.value.replace('_', ' ')}")
        return user

    return Depends(check)


Reader = Annotated[StoredUser, require(Permission.read_picture)]
Reporting = Annotated[StoredUser, require(Permission.report_events)]
Admin = Annotated[StoredUser, require(Permission.manage_users)]
StatusChanger = Annotated[StoredUser, require(Permission.change_status)]
PersonalDataReader = Annotated[StoredUser, require(Permission.read_personal_data)]
ReportIssuer = Annotated[StoredUser, require(Permission.issue_reports)]
TemplateKeeper = Annotated[StoredUser, require(Permission.manage_report_templates)]
DirectoryKeeper = Annotated[StoredUser, require(Permission.manage_directory)]
RequestHandler = Annotated[StoredUser, require(Permission.handle_requests)]
Coordinator = Annotated[StoredUser, require(Permission.coordinate_operations)]

def reader_language(
    lang: Annotated[str | None, Query(description=f"one of {', '.join(SUPPORTED)}")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> str:
    """The language to answer in: ``?lang=`` when the node has it, else Accept-Language's."""
    return supported(lang) or negotiate(accept_language)


ReaderLanguage = Annotated[str, Depends(reader_language)]

#: ``?base_version=``: the version a change was made from (409 when no longer current).
BaseVersion = Annotated[int | None, Query(ge=1)]


def sees_personal(user: StoredUser) -> bool:
    """Whether a user may read the personal block of a record (names, phones, persons asked
    about): need-to-know roles, and those who handle requests."""
    return allows(user.role, Permission.read_personal_data) or allows(
        user.role, Permission.handle_requests)
