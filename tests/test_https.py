"""The node serves HTTPS itself when given a certificate (issue 15): HSTS, Secure cookies,
and nothing in plain HTTP on that port."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from sitcen.settings import Settings
from sitcen.testing import NodeProcess, certificates

PASSWORD = "https-password-7"


def test_a_node_with_a_certificate_speaks_https_only(tmp_path: Path) -> None:
    files = certificates(tmp_path / "tls")
    node = NodeProcess("kg-https-test", f"sqlite:///{tmp_path}/node.db", tmp_path / "data",
                       country="KG", log_path=tmp_path / "node.log", ca=files["ca.pem"],
                       env={"SITCEN_TLS_CERT": str(files["server.pem"]),
                            "SITCEN_TLS_KEY": str(files["server.key"])})
    node.cli("user", "add", "duty", "--role", "duty_officer", "--password", PASSWORD)
    node.start()
    try:
        assert node.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(files["ca.pem"]))
        with httpx.Client(base_url=node.url, verify=trusted) as client:
            health = client.get("/api/v1/health")
            assert health.status_code == 200
            assert health.headers["Strict-Transport-Security"] == "max-age=31536000"
            session = client.post("/api/v1/auth/session",
                                  json={"username": "duty", "password": PASSWORD})
            assert session.status_code == 200
            cookie = session.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
            # The console's own page, over HTTPS, may act with the cookie.
            me = client.post("/api/v1/auth/logout",
                             headers={"Origin": node.url})
            assert me.status_code == 204
        # An unverified certificate is refused by a careful client, plain HTTP gets nothing.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{node.url}/api/v1/health", timeout=5)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{node.port}/api/v1/health", timeout=5)
    finally:
        node.stop()


def test_a_certificate_needs_its_key(tmp_path: Path) -> None:
    files = certificates(tmp_path)
    with pytest.raises(ValidationError, match="tls_cert and tls_key go together"):
        Settings(tls_cert=files["server.pem"])
    with pytest.raises(ValidationError, match="no file"):
        Settings(tls_cert=tmp_path / "missing.pem", tls_key=files["server.key"])
