"""The peer listener: a second HTTPS port on which linked nodes must present a client certificate.

With ``SITCEN_PEER_MTLS`` on, ``sitcen serve`` listens on ``SITCEN_PEER_PORT``
besides its main port. There the TLS handshake fails unless the client presents
a certificate signed by a CA of ``SITCEN_PEER_TLS_CA``; only the exchange
routes and the health check answer; and every request carries the verified
certificate in the ASGI ``tls`` extension of its scope, which uvicorn does not
fill itself (:class:`CertifiedConnection` does, on this listener only). The
exchange routes read it with :func:`client_certificate`. Browsers and API
clients keep the main port, where no certificate is asked for.

The listener runs in the serving process (a thread with its own event loop),
whatever the number of worker processes of the main port.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import orjson
import uvicorn
from cryptography import x509
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from sitcen.errors import refusal
from sitcen.exchange.tls import peer_listener_tls
from sitcen.settings import GRACEFUL_SHUTDOWN_S, Settings

#: The paths the peer listener answers: what linked nodes call, and the health check.
PEER_PATHS = ("/api/v1/exchange/", "/api/v1/health")

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}

log = logging.getLogger("sitcen.exchange")


class PeerListenerError(RuntimeError):
    """The peer listener cannot start; the message names the setting."""


def client_certificate(scope: Scope) -> str | None:
    """The verified TLS client certificate (PEM) the request came with, or None."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return str(chain[0]) if chain and tls.get("client_cert_error") is None else None


def _tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any] | None:
    """The ASGI ``tls`` extension of a connection, or None when it has no client certificate."""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return {"server_cert": None, "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)],
            "client_cert_name": cert.subject.rfc4514_string(), "client_cert_error": None,
            "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""), "cipher_suite": None}


class CertifiedConnection(H11Protocol):
    """uvicorn's HTTP/1.1 connection, with the client certificate the handshake verified in
    every request's ``scope["extensions"]["tls"]``.

    asyncio calls ``connection_made`` once the handshake is done, so the
    certificate is known before the first request is read.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        tls = _tls_extension(ssl_object) if ssl_object is not None else None
        if tls is None:  # not possible with a certificate required; never serve it anyway
            transport.close()
            return
        app = self.app

        async def with_certificate(scope: Scope, receive: Receive, send: Send) -> None:
            scope["extensions"] = {**scope.get("extensions", {}), "tls": tls}
            await app(scope, receive, send)

        self.app = with_certificate


def exchange_only(app: ASGIApp) -> ASGIApp:
    """``app`` answering only :data:`PEER_PATHS`; anything else is 404 in the one shape."""
    body = orjson.dumps(refusal(404, "the peer port answers only the exchange routes; the "
                                     "console and the API are on the node's main port"))

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PEER_PATHS):
            await app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return gate


class PeerListener:
    """The peer port of a node, served from a thread of this process."""

    def __init__(self, app: ASGIApp, settings: Settings, host: str,
                 log_level: str = "info") -> None:
        context = peer_listener_tls(settings)
        self.port = settings.peer_port
        self.socket = _bind(host, self.port)
        self.config = uvicorn.Config(exchange_only(app), http=CertifiedConnection,
                                     ssl_context_factory=_given(context), log_level=log_level,
                                     timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        self.server = uvicorn.Server(self.config)
        self._thread = threading.Thread(target=self.server.run, args=([self.socket],),
                                        name=f"peer-listener-{self.port}", daemon=True)

    def start(self) -> PeerListener:
        """Start serving; return once the listener accepts connections."""
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise PeerListenerError(f"SITCEN_PEER_PORT {self.port}: the listener "
                                        "stopped as it started (see the log above)")
            self._thread.join(timeout=0.05)
        log.info("peer port %d: the exchange routes, to linked nodes with a client "
                 "certificate of SITCEN_PEER_TLS_CA", self.port)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self._thread.join(timeout=30)
        self.socket.close()


def _given(context: ssl.SSLContext) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]],
                                                ssl.SSLContext]:
    """A uvicorn ``ssl_context_factory`` answering ``context``."""
    return lambda _config, _default: context


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to the peer port, or a refusal naming the setting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PeerListenerError(f"SITCEN_PEER_PORT {port}: cannot listen on {host} "
                                f"({exc.strerror})") from exc
    return sock
