"""OGC API - Features (Part 1, core, GeoJSON): the node's layers for QGIS, GDAL and partners.

What the standard asks, without the HTTP: the collections and their
extents, the query parameters read by its rules, pages of features with
their links, one feature, the conformance classes and the API definition.
The routes in ``api/routes/features.py`` (mounted at ``/api/v1/ogc``) hand
in the query parameters and a function that makes the URL of a resource
(:data:`UrlFor`), and answer with what these functions return.

Four collections: ``sections`` (border sections), ``crossing-points``,
``events`` and ``assets`` (the latest position of each own or received
asset, from the ``asset_position`` records). Events are read with the events
API's own query (:func:`sitcen.store.queries.query_events`), so the same rules
decide what a user sees; their properties are the flat event table of
:mod:`sitcen.interop.spreadsheets`, the same columns as the CSV and XLSX
exports.

Parameters follow the standard: ``bbox`` (WGS84 longitude/latitude, the
rules of :func:`sitcen.geo.parse_bbox`, heights allowed and ignored),
``datetime`` (an instant, a date, or an interval with ``..`` or nothing for an
open end), ``limit`` (1 to 10,000) and the ``next`` link, whose ``cursor``
parameter is opaque. The ``events`` collection also filters on its
properties ``type``, ``category``, ``impact_level``, ``status``, ``handling``,
``section_id``, ``country`` and ``origin`` (comma-separated values). Unknown
parameters and bad values raise :class:`~sitcen.errors.BadRequest` (400, as
the standard asks) naming them. Collections without time (sections, crossing
points) ignore ``datetime``; for assets it applies to the position's time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from shapely.geometry import box, shape

from sitcen.errors import BadRequest, NotFound, error
from sitcen.geo import BBox, SectionIndex, load_crossing_points, parse_bbox
from sitcen.interop.spreadsheets import event_feature
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
from sitcen.times import from_micros, iso, moment_or_none, parse_moment, to_micros

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
#: The most asset positions the assets collection lists.
MAX_ASSETS = 10_000

#: Property filters of the events collection: parameter → its allowed values (None: any).
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
#: Parameters of every items request (the events collection adds :data:`EVENT_FILTERS`).
ITEM_PARAMETERS = frozenset({"bbox", "bbox-crs", "datetime", "limit", "cursor", "f"})
#: The only parameter of the other resources.
FORMAT_ONLY = frozenset({"f"})

#: Makes the URL of a route by its name and path parameters (``request.url_for``).
UrlFor = Callable[..., str]


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


@dataclass(frozen=True)
class Layers:
    """What the collections are read from: the node's database and border sections."""

    engine: sa.Engine
    sections: SectionIndex


def collection(collection_id: str) -> Collection:
    """The collection with this id; :class:`~sitcen.errors.NotFound` names the others."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound("collection", collection_id, f"no collection {collection_id!r}; "
                       "collections are " + ", ".join(COLLECTIONS)) from None


# --- parameters ---------------------------------------------------------------------------------


def _bad(parameter: str, reason: str) -> BadRequest:
    """A bad query parameter: 400, as OGC API Features asks, in the API's error shape."""
    return BadRequest([error(("query", parameter), reason, "parameter")])


def check_parameters(params: Mapping[str, str], allowed: Sequence[str] | frozenset[str]) -> None:
    """Refuse a parameter the resource does not take, a format or CRS it does not serve."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _bad(unknown[0], "not a parameter of this resource; parameters are "
                   + ", ".join(sorted(allowed)))
    fmt = params.get("f")
    if fmt is not None and fmt not in ("json", "geojson", JSON, GEOJSON):
        raise _bad("f", "only json (GeoJSON for features) is served")
    crs = params.get("bbox-crs")
    if crs is not None and crs != CRS84:
        raise _bad("bbox-crs", f"only {CRS84} is supported")


def read_bbox(text: str) -> BBox:
    """The ``bbox`` parameter: four numbers, or the standard's six with heights (ignored)."""
    try:
        return parse_bbox(text, heights=True)
    except ValueError as exc:
        raise _bad("bbox", str(exc)) from None


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


def read_datetime(text: str) -> tuple[int | None, int | None]:
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


def read_limit(text: str | None) -> int:
    """The ``limit`` parameter: 1 to :data:`MAX_LIMIT`, :data:`DEFAULT_LIMIT` when absent."""
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


def event_filter(params: Mapping[str, str], bbox: BBox | None, since: int | None,
                 until: int | None) -> EventFilter:
    """The events query of an items request: the window, the box and the property filters."""
    given = {name: _values(name, params[name]) for name in EVENT_FILTERS if name in params}
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


# --- features -----------------------------------------------------------------------------------


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
    moment = moment_or_none(feature["properties"].get("at"))
    return None if moment is None else to_micros(moment.astimezone(UTC))


def listed_features(layers: Layers, collection_id: str) -> list[dict[str, Any]]:
    """The features of a collection that is not queried page by page from the store."""
    if collection_id == "sections":
        return [section_feature(s) for s in layers.sections.sections]
    if collection_id == "assets":
        records = list_records(layers.engine, RecordKind.asset_position, limit=MAX_ASSETS)
        return [_asset_feature(r) for r in records]
    return [
        {"type": "Feature", "id": p.id,
         "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"id": p.id, "name": p.name, "name_ru": p.name_ru,
                        "countries": list(p.countries), "kind": p.kind, "status": p.status,
                        "precision_m": p.precision_m}}
        for p in load_crossing_points()
    ]


def _listed_page(layers: Layers, collection_id: str, bbox: BBox | None, since: int | None,
                 until: int | None, limit: int,
                 cursor: str | None) -> tuple[list[dict[str, Any]], int, str | None]:
    if cursor is not None and not (cursor.isdigit() and len(cursor) < 10):
        raise _bad("cursor", "not a cursor this API gave out")
    offset = int(cursor or 0)
    features = listed_features(layers, collection_id)
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


def items(layers: Layers, found: Collection, params: Mapping[str, str], url_for: UrlFor,
          self_url: str, next_url: Callable[[str], str]) -> dict[str, Any]:
    """A page of a collection's features: the FeatureCollection with counts and links.

    ``params`` are the request's query parameters; ``next_url(cursor)`` is this
    request's URL with the cursor of the next page.
    """
    allowed = ITEM_PARAMETERS | (frozenset(EVENT_FILTERS) if found.id == "events"
                                 else frozenset())
    check_parameters(params, allowed)
    bbox = read_bbox(params["bbox"]) if "bbox" in params else None
    since, until = read_datetime(params["datetime"]) if "datetime" in params else (None, None)
    size = read_limit(params.get("limit"))
    cursor = params.get("cursor")
    if found.id == "events":
        filt = event_filter(params, bbox, since, until)
        with layers.engine.connect() as conn:
            try:
                bodies, next_cursor = query_events(conn, filt, limit=size, cursor=cursor)
            except BadCursorError as exc:
                raise _bad("cursor", str(exc)) from exc
            matched = count_matching(conn, filt)
        features = [event_feature(orjson.loads(b)) for b in bodies]
    else:
        features, matched, next_cursor = _listed_page(layers, found.id, bbox, since, until,
                                                      size, cursor)
    links = [
        {"rel": "self", "type": GEOJSON, "title": "this page", "href": self_url},
        {"rel": "collection", "type": JSON, "title": found.title,
         "href": url_for("read_collection", collection_id=found.id)},
    ]
    if next_cursor is not None:
        links.append({"rel": "next", "type": GEOJSON, "title": "next page",
                      "href": next_url(next_cursor)})
    return {
        "type": "FeatureCollection",
        "timeStamp": iso(datetime.now(UTC).replace(microsecond=0)),
        "numberMatched": matched,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }


def item(layers: Layers, found: Collection, feature_id: str, url_for: UrlFor,
         self_url: str) -> dict[str, Any]:
    """One feature with its links; :class:`~sitcen.errors.NotFound` when there is none."""
    feature: dict[str, Any] | None = None
    if found.id == "events":
        try:
            event_id = str(uuid.UUID(feature_id))
        except ValueError:
            event_id = None
        event = get_event(layers.engine, event_id) if event_id else None
        if event is not None:
            feature = event_feature(event.model_dump(mode="json"))
    else:
        feature = next((f for f in listed_features(layers, found.id)
                        if f["id"] == feature_id), None)
    if feature is None:
        raise NotFound("feature", feature_id,
                       f"no feature {feature_id!r} in collection {found.id}")
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "title": "this feature", "href": self_url},
        {"rel": "collection", "type": JSON, "title": found.title,
         "href": url_for("read_collection", collection_id=found.id)},
    ]
    return feature


# --- the other resources ------------------------------------------------------------------------


def landing_page(url_for: UrlFor) -> dict[str, Any]:
    """The landing page: links to the API definition, the conformance classes, the collections."""
    return {
        "title": "sitcen node",
        "description": "Border sections, crossing points and events of this situation centre "
                       "(OGC API - Features, GeoJSON).",
        "links": [
            {"rel": "self", "type": JSON, "title": "this document",
             "href": url_for("read_landing_page")},
            {"rel": "service-desc", "type": OPENAPI, "title": "the API definition",
             "href": url_for("read_api_definition")},
            {"rel": "conformance", "type": JSON, "title": "conformance classes",
             "href": url_for("read_conformance")},
            {"rel": "data", "type": JSON, "title": "the feature collections",
             "href": url_for("read_collections")},
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes this API implements."""
    return {"conformsTo": list(CONFORMANCE)}


def _spatial(bbox: BBox | None) -> dict[str, Any]:
    return {"bbox": [list(bbox or (-180.0, -90.0, 180.0, 90.0))], "crs": CRS84}


def _extent(layers: Layers, found: Collection) -> dict[str, Any]:
    if found.id == "sections":
        bounds = [s.bbox for s in layers.sections.sections]
    elif found.id != "events":
        bounds = [shape(f["geometry"]).bounds for f in listed_features(layers, found.id)
                  if f["geometry"] is not None]
    else:
        with layers.engine.connect() as conn:
            extent = event_extent(conn)
        interval = [None if us is None else iso(from_micros(us))
                    for us in (extent.first, extent.last)]
        return {"spatial": _spatial(extent.bbox),
                "temporal": {"interval": [interval], "trs": GREGORIAN}}
    bbox = (min(b[0] for b in bounds), min(b[1] for b in bounds),
            max(b[2] for b in bounds), max(b[3] for b in bounds)) if bounds else None
    return {"spatial": _spatial(bbox)}


def describe(layers: Layers, found: Collection, url_for: UrlFor) -> dict[str, Any]:
    """A collection as the standard describes it: extent, CRS and links to its items."""
    href = url_for("read_collection", collection_id=found.id)
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": _extent(layers, found),
        "links": [
            {"rel": "self", "type": JSON, "title": "this collection", "href": href},
            {"rel": "items", "type": GEOJSON, "title": f"{found.title} (GeoJSON)",
             "href": url_for("read_items", collection_id=found.id)},
        ],
    }


def collections(layers: Layers, url_for: UrlFor) -> dict[str, Any]:
    """Every collection, described."""
    return {
        "links": [{"rel": "self", "type": JSON, "title": "this document",
                   "href": url_for("read_collections")}],
        "collections": [describe(layers, c, url_for) for c in COLLECTIONS.values()],
    }


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
