"""The node's metrics for Prometheus, for a scraper that holds the metrics token."""


import hmac
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from sitcen import metrics
from sitcen.api.deps import CurrentNode
from sitcen.api.monitoring import NodeGauges
from sitcen.errors import Refused

router = APIRouter(tags=["monitoring"])

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text exposition format 0.0.4",
          "content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}},
    401: {"description": "no metrics token, or another one"},
    404: {"description": "metrics are off (no SITCEN_METRICS_TOKEN)"}})
def read_metrics(node: CurrentNode,
                 authorization: Annotated[str | None, Header()] = None) -> Response:
    """Counters and gauges of the node in Prometheus' text format (metrics token needed)."""
    token = node.settings.metrics_token.get_secret_value()
    if not token:
        raise Refused("metrics are off: this node has no SITCEN_METRICS_TOKEN", status=404,
                      kind="not_found")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise Refused("the metrics token is missing or wrong", status=401,
                      kind="unauthorized", headers=_CHALLENGE)
    return Response(metrics.exposition(NodeGauges(node)), media_type=metrics.CONTENT_TYPE)
