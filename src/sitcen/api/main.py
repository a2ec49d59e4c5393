"""App assembly: one FastAPI app per node, routers under /api/v1, errors as answers."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from sitcen import __version__
from sitcen.api.console import mount_console
from sitcen.api.guards import BodySizeLimit, RefuseNul
from sitcen.api.routes import (
    agreements,
    alerts,
    assets,
    attachments,
    auth,
    cap,
    capacity,
    directory,
    event_actions,
    events,
    exchange,
    exports,
    features,
    files,
    forecasts,
    geography,
    health,
    identity,
    imports,
    journal,
    levels,
    messages,
    notifications,
    operations,
    peers,
    recommendations,
    requests,
    risk,
    sensors,
    stats,
    stix,
    stream,
    subscriptions,
    taxii,
    taxonomy,
    users,
)
from sitcen.errors import (
    InvalidInput,
    NotFound,
    NotOwnerError,
    Refused,
    VersionConflictError,
    refusal,
)
from sitcen.events import EventBatch
from sitcen.exchange.inbox import StoredReplayGuard
from sitcen.node import Node
from sitcen.settings import get_settings

API_PREFIX = "/api/v1"

# Request bodies validated by their route from the raw bytes (see routes/events.py).
RAW_BODY_MODELS = (EventBatch,)


async def _invalid_input(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return JSONResponse({"detail": exc.errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Keep loc, msg and type; drop echoed input (it may be 10,000 events long).
    errors: list[dict[str, Any]] = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse(
        {"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _not_owner(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotOwnerError)
    return JSONResponse(
        {"detail": [{"loc": ["body", "origin"], "msg": str(exc), "type": "not_owner"}]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    loc = exc.loc
    if not loc:  # the parameter that carried the id, when the router did not say
        for where, params in (("path", request.path_params), ("query", request.query_params)):
            name = next((k for k, v in params.items() if str(v).lower() == exc.id.lower()), None)
            if name is not None:
                loc = [where, name]
                break
    return JSONResponse(refusal(status.HTTP_404_NOT_FOUND, str(exc), loc),
                        status_code=status.HTTP_404_NOT_FOUND)


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refused)
    return JSONResponse(refusal(exc.status, str(exc), exc.loc, exc.kind),
                        status_code=exc.status)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)


def _docstrings_as_summaries(router: APIRouter) -> None:
    """Use each route's one-line docstring as its OpenAPI summary."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.summary is None and route.description:
            route.summary = route.description.strip().splitlines()[0].rstrip(".")


def tune_garbage_collector() -> None:
    """Collect the young generation less often.

    A 10,000-event batch allocates a few hundred thousand small objects, all
    alive until the batch is written; with the default threshold (700) the
    collector walks them again and again and parsing takes 2-3x longer
    (benchmarks/ingest.py). Reference counting still frees everything at once.
    """
    gc.set_threshold(50_000, 20, 20)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, with the models of routes that parse their bodies themselves."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, summary=app.summary,
                               routes=app.routes)
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for model in RAW_BODY_MODELS:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas[model.__name__] = schema
            app.openapi_schema = spec
        return app.openapi_schema

    return build


def create_app(node: Node) -> FastAPI:
    """The HTTP app of a node."""
    tune_garbage_collector()
    app = FastAPI(
        title="sitcen",
        version=__version__,
        summary="Situation-centre node for integrated border management",
        docs_url=None,  # Swagger UI loads scripts from the internet; nodes run offline.
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.node = node
    app.state.replay_guard = StoredReplayGuard(node.engine)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RefuseNul)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(NotOwnerError, _not_owner)
    app.add_exception_handler(VersionConflictError, _conflict)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Refused, _refused)
    for module in (health, auth, users, events, geography, taxonomy, journal, stream,
                   identity, peers, agreements, exchange,
                   event_actions, assets, stats,
                   risk, capacity, recommendations, levels, alerts, forecasts,
                   features, imports, exports, stix, cap, sensors,
                   directory, requests, attachments, files, operations, messages,
                   subscriptions, notifications):
        _docstrings_as_summaries(module.router)
        app.include_router(module.router, prefix=API_PREFIX)
    # TAXII 2.1 puts discovery at /taxii2/ on the server root, not under the API.
    _docstrings_as_summaries(taxii.router)
    app.include_router(taxii.router)

    mount_console(app)

    return app


def log_to_stderr() -> None:
    """Show the node's own messages (batches received, refused, links failing) on stderr."""
    logger = logging.getLogger("sitcen")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def app_from_environment() -> FastAPI:
    """The app of the node the ``SITCEN_*`` environment describes (uvicorn worker factory)."""
    log_to_stderr()
    return create_app(Node.open(get_settings()))
