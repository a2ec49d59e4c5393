"""TLS between nodes: what a link presents and trusts, whom a certificate names, and why a
handshake failed.

The link sender (push and pull) presents this node's client certificate
(``SITCEN_PEER_TLS_CERT``) to peers reached over HTTPS and checks their
certificates against ``SITCEN_PEER_TLS_CA``; the receiving side reads the node
ids a partner's certificate names with :func:`certificate_names`. Knows no
routes and no server.
"""

from __future__ import annotations

import ssl

import httpx
from cryptography import x509
from cryptography.x509.oid import NameOID

from sitcen.settings import Settings


class PeerTLSError(ValueError):
    """A certificate, key or CA file of the links cannot be used; the message names the setting."""


def link_tls(settings: Settings) -> ssl.SSLContext | bool:
    """What the link sender verifies peers' HTTPS with, holding the client certificate it
    presents; ``True`` (the system's CAs, no certificate) when neither is set."""
    if settings.peer_tls_ca is None and settings.peer_tls_cert is None:
        return True
    try:
        context = ssl.create_default_context(
            cafile=str(settings.peer_tls_ca) if settings.peer_tls_ca else None)
    except ssl.SSLError as exc:
        raise PeerTLSError(f"SITCEN_PEER_TLS_CA: not a PEM CA bundle ({exc})") from exc
    if settings.peer_tls_cert is not None and settings.peer_tls_key is not None:
        try:
            context.load_cert_chain(settings.peer_tls_cert, settings.peer_tls_key)
        except ssl.SSLError as exc:
            raise PeerTLSError("SITCEN_PEER_TLS_CERT and SITCEN_PEER_TLS_KEY: not a PEM "
                               f"certificate and its private key ({exc})") from exc
    return context


def peer_listener_tls(settings: Settings) -> ssl.SSLContext:
    """The TLS of the peer listener: the node's certificate (``SITCEN_TLS_CERT``), and a client
    certificate signed by a CA of ``SITCEN_PEER_TLS_CA`` required of every connection."""
    if settings.tls_cert is None or settings.tls_key is None or settings.peer_tls_ca is None:
        raise PeerTLSError("the peer listener needs SITCEN_TLS_CERT, SITCEN_TLS_KEY and "
                           "SITCEN_PEER_TLS_CA")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except ssl.SSLError as exc:
        raise PeerTLSError("SITCEN_TLS_CERT and SITCEN_TLS_KEY: not a PEM certificate and its "
                           f"private key ({exc})") from exc
    try:
        context.load_verify_locations(cafile=str(settings.peer_tls_ca))
    except ssl.SSLError as exc:
        raise PeerTLSError(f"SITCEN_PEER_TLS_CA: not a PEM CA bundle ({exc})") from exc
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def certificate_names(pem: str) -> frozenset[str]:
    """The names a certificate gives its holder: its common names and DNS names.

    A node's certificate names the node by its id, in either place.
    """
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    names = {str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return frozenset(names)
    return frozenset(names | set(alternative.value.get_values_for_type(x509.DNSName)))


# OpenSSL's reasons for the failures an administrator meets, in their words.
_REASONS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the peer requires a client certificate and this "
                                         "node has none (SITCEN_PEER_TLS_CERT, _KEY)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the peer ended the handshake; it may require a client "
                                     "certificate (SITCEN_PEER_TLS_CERT, _KEY)",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer does not trust the CA of this node's client "
                              "certificate (SITCEN_PEER_TLS_CERT)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer refused this node's client certificate "
                                   "(SITCEN_PEER_TLS_CERT)",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the peer says this node's client certificate has "
                                       "expired (SITCEN_PEER_TLS_CERT)",
    "WRONG_VERSION_NUMBER": "the peer does not speak TLS on that port (is its URL http://?)",
}


#: What a client sees when a peer requiring a client certificate refuses it over TLS 1.3:
#: the client's side of the handshake ended, then the connection closes without an answer
#: (asyncio does not send the server's alert), as it would if the peer had died; so the
#: sender can only say what it means if mutual TLS is the cause.
CLOSED_AFTER_HANDSHAKE = (
    "the peer closed the connection without answering; if it requires mutual TLS, it did "
    "not accept this node's client certificate (SITCEN_PEER_TLS_CERT missing, expired, or "
    "not signed by a CA the peer trusts)")


def handshake_failure(exc: httpx.HTTPError, url: str) -> str | None:
    """Why a TLS handshake with ``url`` failed, for an administrator; None when ``exc`` was no
    TLS failure.

    Follows the chain of causes (httpx wraps the ``ssl`` error it met).
    """
    if url.startswith("https:") and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return CLOSED_AFTER_HANDSHAKE
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return (f"the TLS handshake failed: the peer's certificate was not accepted "
                    f"({seen.verify_message}); it must be signed by a CA of SITCEN_PEER_TLS_CA "
                    "and name the address in the peer's URL")
        if isinstance(seen, ssl.SSLError):
            reason = seen.reason or ""
            return f"the TLS handshake failed: {_REASONS.get(reason, reason or str(seen))}"
        seen = seen.__cause__ or seen.__context__
    return None
