"""OGC API - Features (Part 1, core, GeoJSON): the node's layers for QGIS, GDAL and partners.

Mounted at ``/api/v1/ogc``. Four collections: ``sections`` (border sections),
``crossing-points``, ``events`` and ``assets`` (the latest position of each own or
received asset, from the ``asset_position`` records). Events are read with the events API's own
query (:func:`sitcen.store.queries.query_events`), so the same rules decide
what a user sees; their properties are the flat event table of
:mod:`sitcen.interop.spreadsheets`, the same columns as the CSV and XLSX exports.

Every request needs the API's bearer token. Parameters follow the standard:
``bbox`` (WGS84 longitude/latitude), ``datetime`` (an instant, a date, or an
interval with ``..`` or nothing for an open end), ``limit`` (1 to 10,000) and
the ``next`` link, whose ``cursor`` parameter is opaque. The ``events``
collection also filters on its properties ``type``, ``category``,
``impact_level``, ``status``, ``handling``, ``section_id``, ``country`` and
``origin`` (comma-separated values). Unknown parameters and bad values get a
400 that names them. Collections without time (sections, crossing points)
ignore ``datetime``; for assets it applies to the position's time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from shapely.geometry import box, shape

from sitcen.api.deps import CurrentNode, Reader
from sitcen.geo import load_crossing_points
from sitcen.interop.spreadsheets import event_feature
from sitcen.node import Node
from sitcen.store.events import get_event
from sitcen.store.journal import RecordKind
from sitcen.store.queries import (
    BadCursorError,
    EventFilter,
    count_matching,
    event_extent,
    query_events,
)
from sitcen.store.records import StoredRecord, list_records
from sitcen.store.sections import section_feature
from sitcen.taxonomy import EVENT_TYPES, Category, Handling, ImpactLevel, Status
from sitcen.times import from_micros, iso, parse_moment, to_micros

router = APIRouter(prefix="/ogc", tags=["ogc"])

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000

# Property filters of the events collection: parameter → its allowed values (None: any).
EVENT_FILTERS: dict[str, frozenset[str] | None] = {
    "type": frozenset(EVENT_TYPES),
    "category": frozenset(c.value for c in Category),
    "impact_level": frozenset(v.value for v in ImpactLevel),
    "status": frozenset(v.value for v in Status),
    "handling": frozenset(v.value for v in Handling),
    "section_id": None,
    "country": None,
    "origin": None,
}
_ITEM_PARAMETERS = frozenset({"bbox", "bbox-crs", "datetime", "limit", "cursor", "f"})


@dataclass(frozen=True)
class Collection:
    """One feature collection: its id, what people call it, whether it has time."""

    id: str
    title: str
    description: str
    temporal: bool = False


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection("sections", "Border sections",
               "Sections of the land borders the node watches (lines, WGS84)."),
    Collection("crossing-points", "Border crossing points",
               "Main border crossing points (approximate positions)."),
    Collection("events", "Events",
               "Reported events, newest first; time is occurred_at.", temporal=True),
    Collection("assets", "Own assets",
               "Latest positions of patrols, vehicles, sensors, cameras and aircraft "
               "(the operational layer); time is the position's time.", temporal=True),
)}
#: The most asset positions the assets collection lists.
MAX_ASSETS = 10_000


def _bad(parameter: str, reason: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, f"parameter {parameter}: {reason}")


def _json(content: Any, media_type: str = JSON) -> Response:
    return Response(orjson.dumps(content), media_type=media_type)


def _url(request: Request, name: str, **params: str) -> str:
    return str(request.url_for(name, **params))


def _collection(collection_id: str) -> Collection:
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no collection {collection_id!r}; collections are "
                            + ", ".join(COLLECTIONS)) from None


# --- parameters ---------------------------------------------------------------------------------


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` (or the six-number form with heights) in WGS84."""
    try:
        numbers = [float(p) for p in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or any(n != n or n in (float("inf"), float("-inf"))
                                         for n in numbers):
        raise _bad("bbox", "four numbers minLon,minLat,maxLon,maxLat (WGS84 degrees)")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180
            and -90 <= min_lat <= max_lat <= 90):
        raise _bad("bbox", "corners out of range (longitude -180..180, latitude -90..90) "
                   "or latitudes in the wrong order")
    if min_lon > max_lon:
        raise _bad("bbox", "boxes crossing the antimeridian are not supported")
    return min_lon, min_lat, max_lon, max_lat


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T?$")  # GDAL sends a bare date as 2024-01-31T


def _moment(text: str, *, end: bool) -> int:
    """Microseconds of one end of an interval; a date covers its whole (UTC) day."""
    day = _DATE.match(text)
    try:
        if day:
            start = datetime(int(day[1]), int(day[2]), int(day[3]), tzinfo=UTC)
            return to_micros(start + timedelta(days=1) if end else start)
        value = parse_moment(text, bound=True)
    except OverflowError:  # the day after 9999-12-31
        raise _bad("datetime", f"{text!r} lies at the end of the calendar") from None
    except ValueError as exc:
        raise _bad("datetime", str(exc)) from None
    micros = to_micros(value)
    return micros + 1 if end else micros  # interval ends are inclusive


def parse_datetime(text: str) -> tuple[int | None, int | None]:
    """The ``datetime`` parameter as (since inclusive, until exclusive) microseconds.

    An instant selects that instant, a date its day; ``start/end`` is a closed
    interval and either end may be open (``..`` or empty).
    """
    parts = text.split("/")
    if len(parts) == 1:
        if text in ("", ".."):
            raise _bad("datetime", "an instant, a date or an interval start/end")
        return _moment(text, end=False), _moment(text, end=True)
    if len(parts) != 2:
        raise _bad("datetime", "an interval has one '/' (start/end, '..' for an open end)")
    since = None if parts[0] in ("", "..") else _moment(parts[0], end=False)
    until = None if parts[1] in ("", "..") else _moment(parts[1], end=True)
    if since is not None and until is not None and since >= until:
        raise _bad("datetime", "the interval ends before it starts")
    return since, until


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise _bad("limit", f"a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _values(name: str, text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    allowed = EVENT_FILTERS[name]
    for value in values:
        if allowed is not None and value not in allowed:
            raise _bad(name, f"unknown value {value!r}")
        if len(value) > 64:
            raise _bad(name, "values are at most 64 characters long")
    return values


def _check_parameters(request: Request, allowed: Sequence[str] | frozenset[str]) -> None:
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise _bad(unknown[0], "not a parameter of this resource; parameters are "
                   + ", ".join(sorted(allowed)))
    fmt = request.query_params.get("f")
    if fmt is not None and fmt not in ("json", "geojson", JSON, GEOJSON):
        raise _bad("f", "only json (GeoJSON for features) is served")
    crs = request.query_params.get("bbox-crs")
    if crs is not None and crs != CRS84:
        raise _bad("bbox-crs", f"only {CRS84} is supported")


# --- the resources --------------------------------------------------------------------------


@router.get("", response_model=dict[str, Any])
def read_landing_page(request: Request, _user: Reader) -> Response:
    """OGC API Features landing page: links to the API definition, conformance and collections."""
    _check_parameters(request, ("f",))
    return _json({
        "title": "sitcen node",
        "description": "Border sections, crossing points and events of this situation centre "
                       "(OGC API - Features, GeoJSON).",
        "links": [
            {"rel": "self", "type": JSON, "title": "this document",
             "href": _url(request, "read_landing_page")},
            {"rel": "service-desc", "type": OPENAPI, "title": "the API definition",
             "href": _url(request, "read_api_definition")},
            {"rel": "conformance", "type": JSON, "title": "conformance classes",
             "href": _url(request, "read_conformance")},
            {"rel": "data", "type": JSON, "title": "the feature collections",
             "href": _url(request, "read_collections")},
        ],
    })


@router.get("/conformance", response_model=dict[str, Any])
def read_conformance(request: Request, _user: Reader) -> Response:
    """The OGC conformance classes this API implements."""
    _check_parameters(request, ("f",))
    return _json({"conformsTo": list(CONFORMANCE)})


def _spatial(bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    return {"bbox": [list(bbox or (-180.0, -90.0, 180.0, 90.0))], "crs": CRS84}


def _extent(node: Node, collection: Collection) -> dict[str, Any]:
    if collection.id == "sections":
        bounds = [s.bbox for s in node.sections.sections]
    elif collection.id != "events":
        bounds = [shape(f["geometry"]).bounds for f in _listed_features(node, collection.id)
                  if f["geometry"] is not None]
    else:
        with node.engine.connect() as conn:
            found = event_extent(conn)
        interval = [None if us is None else iso(from_micros(us))
                    for us in (found.first, found.last)]
        return {"spatial": _spatial(found.bbox),
                "temporal": {"interval": [interval], "trs": GREGORIAN}}
    bbox = (min(b[0] for b in bounds), min(b[1] for b in bounds),
            max(b[2] for b in bounds), max(b[3] for b in bounds)) if bounds else None
    return {"spatial": _spatial(bbox)}


def _describe(request: Request, node: Node, collection: Collection) -> dict[str, Any]:
    href = _url(request, "read_collection", collection_id=collection.id)
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": _extent(node, collection),
        "links": [
            {"rel": "self", "type": JSON, "title": "this collection", "href": href},
            {"rel": "items", "type": GEOJSON, "title": f"{collection.title} (GeoJSON)",
             "href": _url(request, "read_items", collection_id=collection.id)},
        ],
    }


@router.get("/collections", response_model=dict[str, Any])
def read_collections(request: Request, node: CurrentNode, _user: Reader) -> Response:
    """The feature collections: border sections, crossing points and events."""
    _check_parameters(request, ("f",))
    return _json({
        "links": [{"rel": "self", "type": JSON, "title": "this document",
                   "href": _url(request, "read_collections")}],
        "collections": [_describe(request, node, c) for c in COLLECTIONS.values()],
    })


@router.get("/collections/{collection_id}", response_model=dict[str, Any])
def read_collection(collection_id: str, request: Request, node: CurrentNode,
                    _user: Reader) -> Response:
    """One feature collection: its extent and a link to its items."""
    collection = _collection(collection_id)
    _check_parameters(request, ("f",))
    return _json(_describe(request, node, collection))


def _asset_feature(record: StoredRecord) -> dict[str, Any]:
    body = record.body
    location = body.get("location") or {}
    lon, lat = location.get("lon"), location.get("lat")
    return {
        "type": "Feature", "id": record.id,
        "geometry": (None if lon is None or lat is None
                     else {"type": "Point", "coordinates": [lon, lat]}),
        "properties": {
            "id": record.id, "origin": record.origin, "version": record.version,
            "asset_id": body.get("asset_id", record.subject), "kind": body.get("kind"),
            "name": body.get("name"), "status": body.get("status"), "at": body.get("at"),
            "section_id": body.get("section_id"), "handling": body.get("handling", "RED"),
            "precision_m": location.get("precision_m"),
        },
    }


def _at(feature: dict[str, Any]) -> int | None:
    try:
        return to_micros(datetime.fromisoformat(feature["properties"]["at"]).astimezone(UTC))
    except (TypeError, ValueError):
        return None


def _listed_features(node: Node, collection_id: str) -> list[dict[str, Any]]:
    """The features of a collection that is not queried page by page from the store."""
    if collection_id == "sections":
        return [section_feature(s) for s in node.sections.sections]
    if collection_id == "assets":
        records = list_records(node.engine, RecordKind.asset_position, limit=MAX_ASSETS)
        return [_asset_feature(r) for r in records]
    return [
        {"type": "Feature", "id": p.id,
         "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"id": p.id, "name": p.name, "name_ru": p.name_ru,
                        "countries": list(p.countries), "kind": p.kind, "status": p.status,
                        "precision_m": p.precision_m}}
        for p in load_crossing_points()
    ]


def _listed_page(node: Node, collection_id: str, bbox: tuple[float, float, float, float] | None,
                 since: int | None, until: int | None, limit: int,
                 cursor: str | None) -> tuple[list[dict[str, Any]], int, str | None]:
    if cursor is not None and not (cursor.isdigit() and len(cursor) < 10):
        raise _bad("cursor", "not a cursor this API gave out")
    offset = int(cursor or 0)
    features = _listed_features(node, collection_id)
    if bbox is not None:
        area = box(*bbox)
        features = [f for f in features
                    if f["geometry"] is not None and shape(f["geometry"]).intersects(area)]
    if COLLECTIONS[collection_id].temporal and (since is not None or until is not None):
        features = [f for f in features if (at := _at(f)) is not None
                    and (since is None or at >= since) and (until is None or at < until)]
    page = features[offset:offset + limit]
    more = offset + limit < len(features)
    return page, len(features), str(offset + limit) if more else None


def _event_filter(request: Request, bbox: tuple[float, float, float, float] | None,
                  since: int | None, until: int | None) -> EventFilter:
    given = {name: _values(name, request.query_params[name])
             for name in EVENT_FILTERS if name in request.query_params}
    countries = given.get("country", [])
    for code in countries:
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise _bad("country", f"{code!r} is not a two-letter ISO code")
    return EventFilter(
        since=since, until=until, bbox=bbox,
        section_ids=given.get("section_id", []), countries=countries,
        categories=given.get("category", []), types=given.get("type", []),
        impact_levels=given.get("impact_level", []), statuses=given.get("status", []),
        handlings=given.get("handling", []), origins=given.get("origin", []),
    )


@router.get("/collections/{collection_id}/items", response_model=dict[str, Any])
def read_items(
    collection_id: str,
    request: Request,
    node: CurrentNode,
    _user: Reader,
    bbox: Annotated[str | None, Query(max_length=200,
                                      description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
    when: Annotated[str | None, Query(
        alias="datetime", max_length=100,
        description="instant, date or interval (.. for an open end)")] = None,
    limit: Annotated[str | None, Query(max_length=10, description="1 to 10,000")] = None,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="from the next link")] = None,
) -> Response:
    """Features of a collection as GeoJSON, filtered by bbox, datetime and properties."""
    collection = _collection(collection_id)
    allowed = _ITEM_PARAMETERS | (frozenset(EVENT_FILTERS) if collection.id == "events"
                                  else frozenset())
    _check_parameters(request, allowed)
    box_ = parse_bbox(bbox) if bbox is not None else None
    since, until = parse_datetime(when) if when is not None else (None, None)
    size = _limit(limit)
    if collection.id == "events":
        filt = _event_filter(request, box_, since, until)
        with node.engine.connect() as conn:
            try:
                bodies, next_cursor = query_events(conn, filt, limit=size, cursor=cursor)
            except BadCursorError as exc:
                raise _bad("cursor", str(exc)) from exc
            matched = count_matching(conn, filt)
        features = [event_feature(orjson.loads(b)) for b in bodies]
    else:
        features, matched, next_cursor = _listed_page(node, collection.id, box_, since, until,
                                                      size, cursor)
    links = [
        {"rel": "self", "type": GEOJSON, "title": "this page", "href": str(request.url)},
        {"rel": "collection", "type": JSON, "title": collection.title,
         "href": _url(request, "read_collection", collection_id=collection.id)},
    ]
    if next_cursor is not None:
        links.append({"rel": "next", "type": GEOJSON, "title": "next page",
                      "href": str(request.url.include_query_params(cursor=next_cursor))})
    return _json({
        "type": "FeatureCollection",
        "timeStamp": iso(datetime.now(UTC).replace(microsecond=0)),
        "numberMatched": matched,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }, GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", response_model=dict[str, Any])
def read_item(
    collection_id: str,
    feature_id: Annotated[str, Path(max_length=100)],
    request: Request,
    node: CurrentNode,
    _user: Reader,
) -> Response:
    """One feature as GeoJSON."""
    collection = _collection(collection_id)
    _check_parameters(request, ("f",))
    feature: dict[str, Any] | None = None
    if collection.id == "events":
        try:
            event_id = str(uuid.UUID(feature_id))
        except ValueError:
            event_id = None
        event = get_event(node.engine, event_id) if event_id else None
        if event is not None:
            feature = event_feature(event.model_dump(mode="json"))
    else:
        feature = next((f for f in _listed_features(node, collection.id)
                        if f["id"] == feature_id), None)
    if feature is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no feature {feature_id!r} in collection {collection.id}")
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "title": "this feature", "href": str(request.url)},
        {"rel": "collection", "type": JSON, "title": collection.title,
         "href": _url(request, "read_collection", collection_id=collection.id)},
    ]
    return _json(feature, GEOJSON)


# --- the API definition -------------------------------------------------------------------------


def _parameter(name: str, description: str, schema: dict[str, Any],
               explode: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, "style": "form", "explode": explode}


def api_definition(server: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of this OGC API (what the ``service-desc`` link points to)."""
    json_response = {"200": {"description": "OK", "content": {JSON: {"schema": {
        "type": "object"}}}}}
    geojson_response = {"200": {"description": "GeoJSON", "content": {GEOJSON: {"schema": {
        "type": "object"}}}}, "400": {"description": "a bad parameter (named)"},
        "404": {"description": "no such collection or feature"}}
    collection_id = {"name": "collectionId", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": list(COLLECTIONS)}}
    common = [
        {"$ref": "#/components/parameters/bbox"},
        {"$ref": "#/components/parameters/datetime"},
        {"$ref": "#/components/parameters/limit"},
        _parameter("cursor", "opaque; taken from the next link", {"type": "string"}),
    ]
    event_filters = [
        _parameter(name, f"events whose {name} is one of these (comma-separated)",
                   {"type": "array", "items": {"type": "string", **(
                       {"enum": sorted(allowed)} if allowed is not None else {})}})
        for name, allowed in EVENT_FILTERS.items()
    ]

    def get(summary: str, responses: dict[str, Any],
            parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"get": {"summary": summary, "parameters": parameters or [],
                        "responses": responses}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "sitcen OGC API - Features", "version": "1.0.0"},
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": {
            "/": get("landing page", json_response),
            "/conformance": get("conformance classes", json_response),
            "/collections": get("feature collections", json_response),
            "/collections/{collectionId}": get("one collection", json_response,
                                               [collection_id]),
            "/collections/{collectionId}/items": get("features", geojson_response,
                                                     [collection_id, *common]),
            "/collections/events/items": get("events", geojson_response,
                                             [*common, *event_filters]),
            "/collections/{collectionId}/items/{featureId}": get(
                "one feature", geojson_response,
                [collection_id, {"name": "featureId", "in": "path", "required": True,
                                 "schema": {"type": "string"}}]),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "bbox": _parameter("bbox", "minLon,minLat,maxLon,maxLat in WGS84 degrees",
                                   {"type": "array", "minItems": 4, "maxItems": 6,
                                    "items": {"type": "number"}}),
                "datetime": _parameter("datetime", "an instant, a date or an interval "
                                       "start/end with .. for an open end",
                                       {"type": "string"}),
                "limit": _parameter("limit", "features per page",
                                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": DEFAULT_LIMIT}),
            },
        },
    }


@router.get("/api", response_model=dict[str, Any])
def read_api_definition(request: Request, _user: Reader) -> Response:
    """The OpenAPI definition of the OGC API (paths relative to its landing page)."""
    _check_parameters(request, ("f",))
    return _json(api_definition(_url(request, "read_landing_page")), OPENAPI)
