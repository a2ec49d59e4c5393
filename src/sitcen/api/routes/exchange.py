"""Node-to-node exchange: signed batches in, authenticated by signature (and by a TLS client
certificate when the node requires mutual TLS of its links), not by login."""


import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode
from sitcen.api.peer_listener import client_certificate
from sitcen.errors import Refused
from sitcen.exchange.envelope import EnvelopeError, ReplayGuard
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.inbox import answer_pull, receive
from sitcen.exchange.recovery import answer_recovery
from sitcen.exchange.sharing import section_infos
from sitcen.exchange.tls import certificate_names
from sitcen.settings import Settings

router = APIRouter(prefix="/exchange", tags=["federation"])
log = logging.getLogger("sitcen.exchange")

# HTTP status for each refusal reason; the error's type names the reason.
STATUS_OF = {
    "too_large": status.HTTP_413_CONTENT_TOO_LARGE,
    "unknown_sender": status.HTTP_403_FORBIDDEN,
    "bad_signature": status.HTTP_403_FORBIDDEN,
    "wrong_certificate": status.HTTP_403_FORBIDDEN,
    "wrong_receiver": status.HTTP_421_MISDIRECTED_REQUEST,
    "replayed": status.HTTP_409_CONFLICT,
    "stale": status.HTTP_409_CONFLICT,
}


def _not_initialised() -> Refused:
    return Refused("this node has no key pair yet (sitcen init)",
                   status=status.HTTP_409_CONFLICT, kind="not_initialised")


@dataclass(frozen=True)
class Sealed:
    """What a linked node sent sealed, with this node's key pair and replay guard to check it,
    and the names of the TLS client certificate it came with (None: it came without one)."""

    identity: NodeIdentity
    data: bytes
    guard: ReplayGuard
    certified: frozenset[str] | None


def _certified(request: Request, settings: Settings) -> frozenset[str] | None:
    """The node ids the request's client certificate names; refused without one when this
    node requires mutual TLS of its links (docs/security.md)."""
    pem = client_certificate(request.scope)
    if pem is not None:
        return certificate_names(pem)
    if settings.peer_mtls == "required":
        raise Refused(f"this node takes batches and pulls only on its peer port "
                      f"{settings.peer_port}, over TLS with a client certificate of a CA it "
                      "trusts (SITCEN_PEER_MTLS=required)", kind="client_certificate_required")
    return None


async def sealed_input(request: Request, node: CurrentNode) -> Sealed:
    """The body of a linked node's request; refused while this node has no key pair, and
    without a client certificate when mutual TLS is required."""
    if node.identity is None:
        raise _not_initialised()
    certified = _certified(request, node.settings)
    guard: ReplayGuard = request.app.state.replay_guard
    return Sealed(node.identity, await request.body(), guard, certified)


SealedInput = Annotated[Sealed, Depends(sealed_input)]


def _refusal(what: str, exc: EnvelopeError, size: int) -> Refused:
    """The refusal of a batch or pull; its ``type`` is the envelope's reason."""
    log.warning("refused a %s (%s) claimed by %s, %d bytes: %s", what, exc.reason, exc.sender,
                size, exc)
    return Refused(str(exc), kind=exc.reason,
                   status=STATUS_OF.get(exc.reason, status.HTTP_422_UNPROCESSABLE_CONTENT))


@router.post("/batches", responses={200: {"description": "applied"},
                                     422: {"description": "refused, with the reason"}})
async def receive_batch(sent: SealedInput, node: CurrentNode) -> JSONResponse:
    """Receive a sealed batch from a linked node; applied whole and exactly once, or refused."""
    try:
        receipt = await run_in_threadpool(receive, node.engine, node.settings.node_id, sent.data,
                                          guard=sent.guard, now=datetime.now(UTC),
                                          certified=sent.certified)
    except EnvelopeError as exc:
        raise _refusal("batch", exc, len(sent.data)) from None
    return JSONResponse({"batch_id": receipt.batch_id, "sender": receipt.sender,
                         "last_seq": receipt.last_seq, "applied": receipt.applied,
                         "already_held": receipt.skipped})


@router.post("/pull", responses={200: {"description": "a sealed batch for the caller"},
                                  422: {"description": "refused, with the reason"}})
async def answer_pull_request(sent: SealedInput, node: CurrentNode) -> Response:
    """Answer a linked node's signed pull: the next sealed batch for it after its cursor."""
    try:
        sealed = await run_in_threadpool(answer_pull, node.engine, sent.identity, sent.data,
                                         guard=sent.guard, now=datetime.now(UTC),
                                         sections=section_infos(node.sections.sections),
                                         certified=sent.certified)
    except EnvelopeError as exc:
        raise _refusal("pull", exc, len(sent.data)) from None
    return Response(sealed, media_type="application/json")


@router.post("/recover", responses={200: {"description": "a sealed batch for the caller"},
                                     422: {"description": "refused, with the reason"}})
async def answer_recovery_request(sent: SealedInput, node: CurrentNode) -> Response:
    """Answer a linked node restored from a backup: the copies held here of its own records
    journaled since the time it names, one page at a time (docs/backup.md)."""
    try:
        sealed = await run_in_threadpool(answer_recovery, node.engine, sent.identity, sent.data,
                                         guard=sent.guard, now=datetime.now(UTC),
                                         certified=sent.certified)
    except EnvelopeError as exc:
        raise _refusal("recovery request", exc, len(sent.data)) from None
    return Response(sealed, media_type="application/json")
