"""An OpenID Connect directory on loopback (:class:`MockIssuer`) to log in through.

:func:`mock_issuer` serves one from a thread of this process; a test changes its
fields to make it misbehave (wrong keys, algorithms, claims, a refusal).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from sitcen.testing.serving import ServedNode, free_port, serve_app_in_thread


@dataclass
class MockIssuer:
    """A small OpenID Connect directory on a loopback port, for tests: discovery, its keys,
    an authorisation endpoint that logs ``person`` in at once, and a token endpoint that
    checks the client secret and PKCE and issues ID tokens signed with a real RSA key.

    What a test changes to make it misbehave: ``token_changes`` (claims put into the next
    ID tokens, or taken out when ``None``), ``sign_with`` (another private key, under the
    same key id), ``algorithm`` (``"none"``, or ``"HS256-public"``: HMAC keyed with the
    public key), ``advertised`` (the algorithms discovery names) and ``refuse`` (the
    authorisation endpoint answers ``access_denied``).
    """

    url: str
    client_id: str
    client_secret: str
    key: Any  # cryptography's RSAPrivateKey
    kid: str = "test-key-1"
    person: dict[str, Any] = field(default_factory=dict)
    token_changes: dict[str, Any] = field(default_factory=dict)
    sign_with: Any = None
    algorithm: str = "RS256"
    advertised: list[str] = field(default_factory=lambda: ["RS256"])
    refuse: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    served: ServedNode | None = None

    def settings(self) -> dict[str, Any]:
        """The node's settings that point at this directory."""
        return {"oidc_issuer": self.url, "oidc_client_id": self.client_id,
                "oidc_client_secret": self.client_secret, "oidc_name": "Test directory"}

    def id_token(self, claims: Mapping[str, Any]) -> str:
        """``claims`` with the changes asked for, signed as the directory is told to."""
        import base64
        import hashlib
        import hmac

        import jwt
        from cryptography.hazmat.primitives import serialization

        payload = {k: v for k, v in {**claims, **self.token_changes}.items() if v is not None}
        if self.algorithm == "RS256":
            return jwt.encode(payload, self.sign_with or self.key, algorithm="RS256",
                              headers={"kid": self.kid})

        def part(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = {"alg": "none" if self.algorithm == "none" else "HS256", "kid": self.kid}
        signing_input = (part(json.dumps(header).encode()) + "." +
                         part(json.dumps(payload).encode()))
        if self.algorithm == "none":
            return signing_input + "."
        public_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + part(mac)

    def stop(self) -> None:
        """Stop serving."""
        if self.served is not None:
            self.served.stop()


def _issuer_app(issuer: MockIssuer) -> Any:
    """The HTTP side of :class:`MockIssuer`."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlencode

    import jwt

    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {"issuer": issuer.url, "authorization_endpoint": issuer.url + "/authorize",
                "token_endpoint": issuer.url + "/token", "jwks_uri": issuer.url + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": issuer.advertised,
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"]}

    @app.get("/jwks")
    def keys() -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}

    @app.get("/authorize")
    def authorize(client_id: str, redirect_uri: str, state: str, nonce: str,
                  code_challenge: str, code_challenge_method: str, response_type: str,
                  scope: str) -> RedirectResponse:
        if issuer.refuse:
            return RedirectResponse(redirect_uri + "?" + urlencode(
                {"error": "access_denied", "state": state}), status_code=302)
        assert client_id == issuer.client_id and response_type == "code", client_id
        assert code_challenge_method == "S256" and "openid" in scope.split()
        code = secrets.token_urlsafe(16)
        issuer.codes[code] = {"nonce": nonce, "challenge": code_challenge,
                              "redirect_uri": redirect_uri, "person": dict(issuer.person)}
        return RedirectResponse(redirect_uri + "?" + urlencode({"code": code, "state": state}),
                                status_code=302)

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        basic = base64.b64encode(f"{issuer.client_id}:{issuer.client_secret}".encode())
        if request.headers.get("authorization") != "Basic " + basic.decode():
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant = issuer.codes.pop(form.get("code", ""), None)  # a code is good once
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
        if (grant is None or form.get("grant_type") != "authorization_code"
                or grant["redirect_uri"] != form.get("redirect_uri")
                or grant["challenge"] != challenge):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {"iss": issuer.url, "aud": issuer.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **grant["person"]}
        return JSONResponse({"id_token": issuer.id_token(claims), "access_token": "unused",
                             "token_type": "Bearer", "expires_in": 300})

    return app


@contextlib.contextmanager
def mock_issuer(client_id: str = "sitcen-node",
                client_secret: str = "directory-client-secret") -> Iterator[MockIssuer]:
    """A :class:`MockIssuer` served on a free loopback port; stopped afterwards."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    port = free_port()
    issuer = MockIssuer(f"http://127.0.0.1:{port}", client_id, client_secret,
                        rsa.generate_private_key(public_exponent=65537, key_size=2048))
    issuer.served = serve_app_in_thread(_issuer_app(issuer), port=port, what="the directory")
    try:
        yield issuer
    finally:
        issuer.stop()
