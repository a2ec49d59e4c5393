"""OGC API - Features at ``/api/v1/ogc``: the routes; the standard's logic is in interop/ogc.py.

Every request needs the API's bearer token. Each route checks its query
parameters and answers with what :mod:`sitcen.interop.ogc` builds, given the
node's layers and this request's URLs; a bad parameter is a 400 naming it.
"""


from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from sitcen.api.deps import CurrentNode, Reader
from sitcen.interop import ogc
from sitcen.node import Node

router = APIRouter(prefix="/ogc", tags=["ogc"])


def _answer(content: Any, media_type: str = ogc.JSON) -> Response:
    return Response(orjson.dumps(content), media_type=media_type)


def _layers(node: Node) -> ogc.Layers:
    return ogc.Layers(node.engine, node.sections)


def _url_for(request: Request) -> ogc.UrlFor:
    return lambda name, **params: str(request.url_for(name, **params))


@router.get("", response_model=dict[str, Any])
def read_landing_page(request: Request, _user: Reader) -> Response:
    """OGC API Features landing page: links to the API definition, conformance and collections."""
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    return _answer(ogc.landing_page(_url_for(request)))


@router.get("/conformance", response_model=dict[str, Any])
def read_conformance(request: Request, _user: Reader) -> Response:
    """The OGC conformance classes this API implements."""
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    return _answer(ogc.conformance())


@router.get("/collections", response_model=dict[str, Any])
def read_collections(request: Request, node: CurrentNode, _user: Reader) -> Response:
    """The feature collections: border sections, crossing points and events."""
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    return _answer(ogc.collections(_layers(node), _url_for(request)))


@router.get("/collections/{collection_id}", response_model=dict[str, Any])
def read_collection(collection_id: str, request: Request, node: CurrentNode,
                    _user: Reader) -> Response:
    """One feature collection: its extent and a link to its items."""
    found = ogc.collection(collection_id)
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    return _answer(ogc.describe(_layers(node), found, _url_for(request)))


@router.get("/collections/{collection_id}/items", response_model=dict[str, Any])
def read_items(
    collection_id: str,
    request: Request,
    node: CurrentNode,
    _user: Reader,
    # Declared for the API's document and its length limits; ogc.items reads them by the
    # standard's rules from the query string, together with the events' property filters.
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
    found = ogc.collection(collection_id)
    page = ogc.items(_layers(node), found, request.query_params, _url_for(request),
                     self_url=str(request.url),
                     next_url=lambda after: str(request.url.include_query_params(cursor=after)))
    return _answer(page, ogc.GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", response_model=dict[str, Any])
def read_item(
    collection_id: str,
    feature_id: Annotated[str, Path(max_length=100)],
    request: Request,
    node: CurrentNode,
    _user: Reader,
) -> Response:
    """One feature as GeoJSON."""
    found = ogc.collection(collection_id)
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    feature = ogc.item(_layers(node), found, feature_id, _url_for(request),
                       self_url=str(request.url))
    return _answer(feature, ogc.GEOJSON)


@router.get("/api", response_model=dict[str, Any])
def read_api_definition(request: Request, _user: Reader) -> Response:
    """The OpenAPI definition of the OGC API (paths relative to its landing page)."""
    ogc.check_parameters(request.query_params, ogc.FORMAT_ONLY)
    return _answer(ogc.api_definition(str(request.url_for("read_landing_page"))), ogc.OPENAPI)
