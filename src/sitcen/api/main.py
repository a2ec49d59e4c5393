"""App assembly: one FastAPI app per node, routers under /api/v1, errors as answers.

Routers and dependencies raise (:mod:`sitcen.errors`); the handlers here turn
every refusal into the one shape of docs/api.md, ``{"detail": [{"loc", "msg",
"type"}]}``. For not-found, not-owner and version-conflict errors ``loc``
names the path parameter that names the record (``["path", "event_id"]``),
or is ``[]`` when none does. TAXII 2.1 routes answer TAXII error messages
instead, as that standard prescribes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from sitcen import __version__
from sitcen.api.compression import Compression
from sitcen.api.console import mount_console
from sitcen.api.guards import BodySizeLimit, RefuseNul, SecurityHeaders
from sitcen.api.idempotency import Idempotency
from sitcen.api.monitoring import RequestIds, RequestMetrics
from sitcen.api.routes import (
    agreements,
    alerts,
    assets,
    attachments,
    audit,
    auth,
    cameras,
    cap,
    capacity,
    directory,
    duty_log,
    event_actions,
    events,
    exchange,
    exports,
    features,
    fences,
    files,
    forecasts,
    geography,
    handovers,
    health,
    identity,
    imports,
    incidents,
    indicators,
    journal,
    levels,
    messages,
    metrics,
    notifications,
    oidc,
    operations,
    patrols,
    peers,
    queue,
    recommendations,
    report_drafts,
    report_templates,
    reports,
    requests,
    retention,
    risk,
    second_factor,
    sensor_health,
    sensors,
    situation,
    stats,
    stix,
    stream,
    subscriptions,
    tasks,
    taxii,
    taxonomy,
    uploads,
    users,
)
from sitcen.errors import (
    KIND_OF_STATUS,
    InvalidInput,
    RecordRefusal,
    Refused,
    error,
    error_body,
)
from sitcen.events import EventBatch
from sitcen.exchange.inbox import StoredReplayGuard
from sitcen.logs import log_to_stderr
from sitcen.node import Node
from sitcen.settings import get_settings

API_PREFIX = "/api/v1"

# Request bodies validated by their route from the raw bytes (see routes/events.py).
RAW_BODY_MODELS = (EventBatch,)


def _naming(request: Request, record_id: str) -> list[str | int]:
    """``["path", name]`` for the path parameter that names the record, else ``[]``."""
    for name, value in request.path_params.items():
        if str(value).lower() == record_id.lower():  # a UUID may come in capitals
            return ["path", name]
    return []


def _answer(request: Request, status_code: int, errors: list[dict[str, Any]],
            headers: Mapping[str, str] | None = None, **beside: Any) -> Response:
    """Every refusal leaves here: the one shape, or a TAXII error message on ``/taxii2/``."""
    if request.url.path.startswith(taxii.router.prefix):
        # TAXII 2.1 prescribes its own error message (section 3.6.1); 422 is its 400.
        reasons = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + str(e["msg"]) if e["loc"]
            else str(e["msg"]) for e in errors)
        return taxii.error_message(400 if status_code == 422 else status_code, reasons, headers)
    if status_code in (204, 304):
        return Response(status_code=status_code, headers=headers)
    return JSONResponse(jsonable_encoder(error_body(errors, **beside)), status_code=status_code,
                        headers=headers)


async def _invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    return _answer(request, exc.status, exc.errors, report=exc.report)


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Keep loc, msg and type; drop echoed input (it may be 10,000 events long).
    return _answer(request, status.HTTP_422_UNPROCESSABLE_CONTENT, list(exc.errors()))


async def _record_refusal(request: Request, exc: Exception) -> Response:
    """Not found (404), not the owner (422), a stale version (409): ``loc`` names the record."""
    assert isinstance(exc, RecordRefusal)
    loc = exc.loc if exc.loc is not None else _naming(request, exc.record_id)
    return _answer(request, exc.status, [error(loc, str(exc), exc.kind)])


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _answer(request, exc.status, [error(exc.loc, str(exc), exc.kind)], exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    """FastAPI's and Starlette's own refusals (401 from the guards, unknown path, method)."""
    assert isinstance(exc, StarletteHTTPException)
    code = exc.status_code
    errors = (list(exc.detail) if isinstance(exc.detail, list)
              else [error([], str(exc.detail), KIND_OF_STATUS.get(code, "error"))])
    return _answer(request, code, errors, exc.headers)


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


def freeze_start_up() -> None:
    """Take what start-up built (modules, the section index, the app) out of the collector's walks.

    Those objects live as long as the process, and a node imports the whole
    analysis stack: without this, every older-generation collection walks them
    again, which cost a fifth of a federation receiver's time on catch-up
    batches (benchmarks/federation.py). Called once by the serving process,
    after the app is built; frozen objects are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()


#: The one shape of every 4xx answer (docs/api.md), for the OpenAPI document.
_REFUSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {
        "type": "object", "required": ["loc", "msg", "type"],
        "properties": {"loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                    {"type": "integer"}]}},
                       "msg": {"type": "string"}, "type": {"type": "string"}}}}},
}
_REFUSALS = {
    "401": "no token, or an unknown or expired one",
    "403": "the role may not; a cross-site cookie request",
    "404": "no such record",
}


def _document_refusals(spec: dict[str, Any]) -> None:
    """Name the refusals every route can give: 401 and 403 where a token is needed, 404
    where the path names a record, each with the one refusal shape."""
    spec["components"]["schemas"]["Refusal"] = _REFUSAL_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
    for path, methods in spec.get("paths", {}).items():
        for operation in methods.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = (["401", "403"] if operation.get("security") else []) + (
                ["404"] if "{" in path else [])
            for code in codes:
                operation["responses"].setdefault(
                    code, {"description": _REFUSALS[code], "content": content})


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
            _document_refusals(spec)
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
    app.add_middleware(Idempotency)  # innermost: it reads the body through the size limit
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders)  # refusals above get the headers too
    # Outside Idempotency, which keeps answers as the routes gave them; inside the
    # metrics, which count what went on the wire.
    app.add_middleware(Compression)
    app.add_middleware(RequestMetrics)  # every answer counted, refusals of the guards too
    app.add_middleware(RequestIds)  # outermost: every log line of a request carries its id
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(RecordRefusal, _record_refusal)  # NotFound, NotOwner, VersionConflict
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    for module in (health, auth, second_factor, oidc, users, audit, events, geography,
                   taxonomy, journal, stream, identity, peers, agreements, exchange,
                   event_actions, assets, stats,
                   risk, capacity, recommendations, levels, alerts, forecasts,
                   features, imports, exports, stix, cap, sensors, sensor_health, fences,
                   incidents, cameras,
                   directory, requests, attachments, uploads, files, operations, messages,
                   subscriptions, notifications, queue, tasks, patrols, duty_log, handovers,
                   indicators,
                   reports, report_drafts, report_templates, situation, retention, metrics):
        _docstrings_as_summaries(module.router)
        app.include_router(module.router, prefix=API_PREFIX)
    # TAXII 2.1 puts discovery at /taxii2/ on the server root, not under the API.
    _docstrings_as_summaries(taxii.router)
    app.include_router(taxii.router)

    mount_console(app)

    return app


def app_from_environment() -> FastAPI:
    """The app of the node the ``SITCEN_*`` environment describes (uvicorn worker factory)."""
    settings = get_settings()
    if settings.metrics_dir is not None:
        # The parent pooled the node's metrics there (cli/serving.py): count into it too.
        from sitcen import metrics as pooled_metrics

        pooled_metrics.pool_in(settings.metrics_dir)
    log_to_stderr(settings.log_format)
    app = create_app(Node.open(settings))
    freeze_start_up()
    return app
