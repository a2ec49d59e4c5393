"""TAXII 2.1 server: discovery at ``/taxii2/``, one API root, one collection per agreement.

Read only. Every request authenticates with a user's token: ``Authorization:
Bearer <token>`` (or ``Token <token>``, as taxii2-client's ``TokenAuth`` sends
it) or HTTP Basic with the user name and the token as the password. A
``liaison`` user named in ``SITCEN_PARTNER_USERS`` sees the collection of the
agreement granted to that partner; an admin sees every collection; other
users see none. What a collection holds is decided by
:func:`sitcen.exchange.sharing.share` alone (see :mod:`sitcen.interop.taxii`).
Errors are TAXII error messages (:func:`error_message`), not the API's error shape.
"""


import base64
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.routing import APIRoute

from sitcen.api.deps import CurrentNode
from sitcen.exchange.links import list_peers
from sitcen.exchange.partners import may_read
from sitcen.exchange.sharing import section_infos
from sitcen.interop.stix import STIX_MEDIA_TYPE, timestamp
from sitcen.interop.taxii import (
    Collection,
    Item,
    Source,
    collections,
    find_item,
    read_page,
)
from sitcen.interop.taxii import versions_of as record_versions
from sitcen.store.users import StoredUser, user_for_token
from sitcen.times import parse_moment, to_micros
from sitcen.users import Permission, allows

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: The largest request a client may send (the server is read only).
MAX_CONTENT_LENGTH = 1_048_576


def error_message(status_code: int, description: str,
                  headers: Mapping[str, str] | None = None) -> Response:
    """A TAXII 2.1 error message (``application/taxii+json``), as the standard prescribes.

    ``api/main.py`` answers every refusal on ``/taxii2/`` with this instead of
    the API's error shape.
    """
    titles = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
              405: "Method not allowed", 406: "Not acceptable", 413: "Too large"}
    body = {"title": titles.get(status_code, "Error"), "description": description,
            "http_status": str(status_code)}
    return Response(orjson.dumps(body), status_code=status_code, media_type=TAXII_MEDIA_TYPE,
                    headers=dict(headers or {}))


class TaxiiRoute(APIRoute):
    """A route that answers only clients accepting ``application/taxii+json`` (else 406)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def taxii_handler(request: Request) -> Response:
            accept = request.headers.get("accept", "")
            if accept and not any(kind in accept for kind in (
                    "application/taxii+json", "*/*", "application/*")):
                return error_message(406, f"this server answers {TAXII_MEDIA_TYPE}, not {accept}")
            return await handler(request)

        return taxii_handler


router = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=TaxiiRoute)

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="sitcen TAXII", Bearer'}


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers=_CHALLENGE)


def taxii_user(request: Request, node: CurrentNode) -> StoredUser:
    """The user behind a Bearer/Token header or Basic (user name, token); 401 otherwise."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    username: str | None = None
    if scheme.lower() in ("bearer", "token"):
        token = value.strip()
    elif scheme.lower() == "basic":
        try:
            username, sep, token = base64.b64decode(value.strip(), validate=True).decode(
                "utf-8").partition(":")
        except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
            raise _unauthorized("Basic credentials are not base64 of user:token") from None
        if not sep:
            raise _unauthorized("Basic credentials are not base64 of user:token")
    else:
        raise _unauthorized("send Authorization: Bearer <token>, or Basic with your user "
                            "name and token (POST /api/v1/auth/login gives one)")
    user = user_for_token(node.engine, token) if token else None
    if user is None or (username is not None and user.username != username):
        raise _unauthorized("token unknown or expired, or not this user's; log in again")
    if not allows(user.role, Permission.read_picture):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role.value} may not read")
    return user


TaxiiUser = Annotated[StoredUser, Depends(taxii_user)]


def _taxii(content: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), media_type=TAXII_MEDIA_TYPE, headers=headers)


def _api_root(request: Request) -> str:
    return str(request.url_for("read_api_root"))


def _source(node: CurrentNode) -> Source:
    names = {p.node_id: p.name for p in list_peers(node.engine)}
    names[node.settings.node_id] = node.settings.node_name
    return Source(node.engine, node.settings.node_id, names,
                  section_infos(node.sections.sections))


def _collection(node: CurrentNode, user: StoredUser, collection_id: str) -> Collection:
    for found in collections(node.engine, node.settings.node_id):
        if found.id == collection_id and may_read(user, found.agreement,
                                                  node.settings.partner_users):
            return found
    raise HTTPException(status.HTTP_404_NOT_FOUND,
                        f"no collection {collection_id} that this user may read")


def _date_header(items: list[Item]) -> dict[str, str]:
    if not items:
        return {}
    return {"X-TAXII-Date-Added-First": timestamp(items[0].date_added),
            "X-TAXII-Date-Added-Last": timestamp(items[-1].date_added)}


def _parse_added_after(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return to_micros(parse_moment(value, bound=True))
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"added_after: {value!r} is not a timestamp such as "
                            "2026-05-01T10:00:00.000Z") from None


def _parse_next(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 19:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"next: {value!r} is not a cursor this server gave")
    return int(value)


def _split(values: str | None) -> set[str] | None:
    return None if values is None else {v.strip() for v in values.split(",") if v.strip()}


def _keep(types: set[str] | None, ids: set[str] | None) -> Callable[[dict[str, Any]], bool]:
    """The ``match[type]`` and ``match[id]`` filters as a predicate on objects."""

    def keep(obj: dict[str, Any]) -> bool:
        return (types is None or obj["type"] in types) and (ids is None or obj["id"] in ids)

    return keep


def _page_objects(items: Iterable[Item]) -> list[tuple[Item, dict[str, Any]]]:
    return [(item, obj) for item in items for obj in item.page_objects]


def _check_version(value: str | None) -> None:
    if value not in (None, "last"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "match[version]: this collection lists the last version of each "
                            "object; ask /objects/{id}/versions/ for the others")


def _check_spec(value: str | None) -> None:
    if value is not None and "2.1" not in value.split(","):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            "match[spec_version]: this server holds STIX 2.1 only")


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="objects per page")]
AddedAfter = Annotated[str | None, Query(description="only records added after this time")]
Next = Annotated[str | None, Query(description="the `next` of the previous page")]
MatchId = Annotated[str | None, Query(alias="match[id]")]
MatchType = Annotated[str | None, Query(alias="match[type]")]
MatchVersion = Annotated[str | None, Query(alias="match[version]")]
MatchSpec = Annotated[str | None, Query(alias="match[spec_version]")]


@dataclass(frozen=True)
class PageQuery:
    """What a page of a collection's objects or manifest is asked with."""

    added_after: str | None
    limit: int
    next_: str | None
    match_id: str | None
    match_type: str | None
    match_version: str | None
    match_spec: str | None


def page_query(added_after: AddedAfter = None, limit: Limit = DEFAULT_LIMIT,
               next_: Annotated[str | None, Query(alias="next")] = None,
               match_id: MatchId = None, match_type: MatchType = None,
               match_version: MatchVersion = None, match_spec: MatchSpec = None) -> PageQuery:
    """The query parameters of the objects and manifest endpoints."""
    return PageQuery(added_after, limit, next_, match_id, match_type, match_version, match_spec)


Paging = Annotated[PageQuery, Depends(page_query)]


@router.get("/")
def read_discovery(request: Request, node: CurrentNode, _user: TaxiiUser) -> Response:
    """TAXII discovery: this node's one API root."""
    root = _api_root(request)
    return _taxii({"title": f"sitcen node {node.settings.node_name}",
                   "description": "Records this node shares with partners, per agreement",
                   "default": root, "api_roots": [root]})


@router.get("/api/")
def read_api_root(node: CurrentNode, _user: TaxiiUser) -> Response:
    """TAXII API root information."""
    return _taxii({"title": f"sitcen {node.settings.node_id}",
                   "description": "One read-only collection per sharing agreement",
                   "versions": [TAXII_MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH})


@router.get("/api/collections/")
def read_collections(node: CurrentNode, user: TaxiiUser) -> Response:
    """The collections this user may read."""
    visible = [c.resource() for c in collections(node.engine, node.settings.node_id)
               if may_read(user, c.agreement, node.settings.partner_users)]
    return _taxii({"collections": visible} if visible else {})


@router.get("/api/collections/{collection_id}/")
def read_collection(collection_id: str, node: CurrentNode, user: TaxiiUser) -> Response:
    """One collection."""
    return _taxii(_collection(node, user, collection_id).resource())


@router.get("/api/collections/{collection_id}/objects/")
def read_objects(collection_id: str, node: CurrentNode, user: TaxiiUser,
                 query: Paging) -> Response:
    """STIX objects of the collection, oldest added first, a page at a time."""
    page, envelope, found = _paged(node, user, collection_id, query)
    if found:
        envelope["objects"] = [obj for _, obj in found]
    return _taxii(envelope, _date_header(page.items))


def _paged(node: CurrentNode, user: StoredUser, collection_id: str, query: PageQuery
           ) -> tuple[Any, dict[str, Any], list[tuple[Item, dict[str, Any]]]]:
    """One page of a collection as objects and manifest share it: the page, the envelope
    with ``more``/``next``, and the (item, STIX object) pairs on it."""
    collection = _collection(node, user, collection_id)
    _check_version(query.match_version)
    _check_spec(query.match_spec)
    page = read_page(_source(node), collection, now=datetime.now(UTC),
                     after_seq=_parse_next(query.next_),
                     added_after=_parse_added_after(query.added_after), limit=query.limit,
                     keep=_keep(_split(query.match_type), _split(query.match_id)))
    envelope: dict[str, Any] = {"more": page.more}
    if page.more:
        envelope["next"] = str(page.next_seq)
    return page, envelope, _page_objects(page.items)


@router.get("/api/collections/{collection_id}/manifest/")
def read_manifest(collection_id: str, node: CurrentNode, user: TaxiiUser,
                  query: Paging) -> Response:
    """What the collection holds: id, date added and version of each object."""
    page, envelope, found = _paged(node, user, collection_id, query)
    if found:
        envelope["objects"] = [
            {"id": obj["id"], "date_added": timestamp(item.date_added),
             "version": obj.get("modified", obj.get("created")), "media_type": STIX_MEDIA_TYPE}
            for item, obj in found]
    return _taxii(envelope, _date_header(page.items))


def _versions(node: CurrentNode, collection: Collection, object_id: str) -> list[
        tuple[Item, dict[str, Any]]]:
    source = _source(node)
    now = datetime.now(UTC)
    item = find_item(source, collection, object_id, now=now)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no object {object_id} in this collection")
    found = []
    for version in record_versions(source, collection, item, now=now):
        for obj in (*version.references, *version.objects):
            if obj["id"] == object_id:
                found.append((version, obj))
    if not found:  # a shared reference object (identity, marking): one version
        found = [(item, obj) for obj in (*item.references, *item.objects)
                 if obj["id"] == object_id][:1]
    return found


@router.get("/api/collections/{collection_id}/objects/{object_id}/")
def read_object(collection_id: str, object_id: str, node: CurrentNode, user: TaxiiUser,
                match_version: MatchVersion = None, match_spec: MatchSpec = None) -> Response:
    """One object: its last version, or ``match[version]`` first, all or a timestamp."""
    collection = _collection(node, user, collection_id)
    _check_spec(match_spec)
    found = _versions(node, collection, object_id)
    wanted = _split(match_version) or {"last"}
    chosen = []
    for i, (item, obj) in enumerate(found):
        version = obj.get("modified", obj.get("created"))
        if ("all" in wanted or version in wanted or ("first" in wanted and i == 0)
                or ("last" in wanted and i == len(found) - 1)):
            chosen.append((item, obj))
    envelope: dict[str, Any] = {"more": False}
    if chosen:
        envelope["objects"] = [obj for _, obj in chosen]
    return _taxii(envelope, _date_header([item for item, _ in chosen]))


@router.get("/api/collections/{collection_id}/objects/{object_id}/versions/")
def read_versions(collection_id: str, object_id: str, node: CurrentNode, user: TaxiiUser,
                  match_spec: MatchSpec = None) -> Response:
    """Every version of an object the agreement grants (its ``modified`` times)."""
    collection = _collection(node, user, collection_id)
    _check_spec(match_spec)
    found = _versions(node, collection, object_id)
    return _taxii({"more": False,
                   "versions": [obj.get("modified", obj.get("created")) for _, obj in found]},
                  _date_header([item for item, _ in found]))
