"""Mutual TLS between nodes (issue 15): real node processes, real certificates, real handshakes.

A post (tj-panj-post) pushes to its regional centre (tj-kulob-rc), which requires mutual
TLS of its links: batches and pulls only on its peer port, from a client certificate of
the federation's CA that names the sender. The centre's console and API stay on its main
port without any client certificate.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import make_settings, report
from sitcen.api.main import create_app
from sitcen.exchange.envelope import Batch, seal
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.tls import CLOSED_AFTER_HANDSHAKE, handshake_failure
from sitcen.node import Node
from sitcen.settings import Settings
from sitcen.testing import NodeProcess, certificates, free_port, wait_until

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]

POST, CENTRE, OTHER_POST = "tj-panj-post", "tj-kulob-rc", "tj-shuro-post"
PASSWORD = "operator-pass-1"


@dataclass
class Link:
    """The post and the centre, not yet started, with the certificates of the test."""

    post: NodeProcess
    centre: NodeProcess
    pki: dict[str, Path]  # the federation's CA, the server's and the nodes' certificates
    rogue: dict[str, Path]  # another CA, with a certificate that names the post

    @property
    def peer_url(self) -> str:
        """The centre's peer port, as the post knows it."""
        return f"https://127.0.0.1:{self.centre.env['SITCEN_PEER_PORT']}"

    def client(self, cert: str | None = None, pki: dict[str, Path] | None = None,
               base_url: str = "") -> httpx.Client:
        """A client trusting the federation's CA, presenting ``cert`` of ``pki`` if given."""
        context = ssl.create_default_context(cafile=str(self.pki["ca.pem"]))
        if cert is not None:
            files = pki or self.pki
            context.load_cert_chain(files[f"{cert}.pem"], files[f"{cert}.key"])
        return httpx.Client(base_url=base_url or self.peer_url, verify=context, timeout=30)

    def pull_request(self) -> bytes:
        """A pull of the post's, sealed with its key: signed, fresh, never seen before."""
        identity = NodeIdentity.load(self.post.data_dir / "identity")
        return seal(Batch.new(sender=POST, receiver=CENTRE, first_seq=0, last_seq=0,
                              records=[]), identity)


def _public_key(node: NodeProcess) -> str:
    return NodeIdentity.load(node.data_dir / "identity").public_key_text


@pytest.fixture
def link(tmp_path: Path) -> Iterator[Link]:
    pki = certificates(tmp_path / "pki", clients=[POST, OTHER_POST])
    rogue = certificates(tmp_path / "rogue", clients=[POST])
    centre = NodeProcess(CENTRE, f"sqlite:///{tmp_path}/centre.db", tmp_path / CENTRE,
                         workers=2, log_path=tmp_path / "centre.log", ca=pki["ca.pem"],
                         env={"SITCEN_TLS_CERT": str(pki["server.pem"]),
                              "SITCEN_TLS_KEY": str(pki["server.key"]),
                              "SITCEN_PEER_MTLS": "required",
                              "SITCEN_PEER_PORT": str(free_port()),
                              "SITCEN_PEER_TLS_CA": str(pki["ca.pem"])})
    # The post trusts the federation's CA for the centre's certificate; its own client
    # certificate is given by each test.
    post = NodeProcess(POST, f"sqlite:///{tmp_path}/post.db", tmp_path / POST,
                       log_path=tmp_path / "post.log",
                       env={"SITCEN_PEER_TLS_CA": str(pki["ca.pem"])})
    linked = Link(post, centre, pki, rogue)
    for node in (post, centre):
        node.cli("init")
        node.cli("user", "add", "op", "--role", "operator", "--password", PASSWORD)
    post.cli("peer", "add", CENTRE, "--url", linked.peer_url, "--relation", "parent",
             "--public-key", _public_key(centre))
    centre.cli("peer", "add", POST, "--url", post.url, "--relation", "child",
               "--public-key", _public_key(post))
    yield linked
    post.stop()
    centre.stop()


def _login(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"username": "op", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _events_held(client: httpx.Client, headers: dict[str, str]) -> set[str]:
    page = client.get("/api/v1/journal?limit=5000", headers=headers).json()
    return {e["record_id"] for e in page["entries"] if e["kind"] == "event"}


def _report_on(post: NodeProcess, count: int) -> set[str]:
    with httpx.Client(base_url=post.url, timeout=60) as client:
        answer = client.post("/api/v1/events/batch", headers=_login(client),
                             json={"events": [report() for _ in range(count)]})
    assert answer.status_code == 201, answer.text
    return {e["id"] for e in answer.json()["events"]}


def _logged(node: NodeProcess, pattern: str) -> str | None:
    assert node.log_path is not None
    found = re.search(pattern, node.log_path.read_text(errors="replace"))
    return found.group(0) if found else None


def test_a_push_with_the_posts_certificate_arrives_and_without_one_nothing_does(
        link: Link) -> None:
    link.centre.start()
    link.post.start()  # no client certificate yet
    sent = _report_on(link.post, 3)
    # The post's sender meets the refused handshake and says so in its log.
    line = wait_until(lambda: _logged(link.post, r"link to tj-kulob-rc: https://\S+: "
                                                 r"[^\n]*\(retry in"),
                      what="the post logging the refused handshake")
    assert CLOSED_AFTER_HANDSHAKE in line and link.peer_url in line
    with httpx.Client(base_url=link.centre.url, verify=ssl.create_default_context(
            cafile=str(link.pki["ca.pem"])), timeout=30) as console:
        # The centre's API answers on its main port without a client certificate...
        headers = _login(console)
        assert _events_held(console, headers) == set()  # ... and nothing arrived
        assert console.get("/").status_code == 200  # nor does its console need one

        # Given its certificate, the same post's reports arrive.
        link.post.stop()
        link.post.env.update(SITCEN_PEER_TLS_CERT=str(link.pki[f"{POST}.pem"]),
                             SITCEN_PEER_TLS_KEY=str(link.pki[f"{POST}.key"]))
        link.post.start()
        sent |= _report_on(link.post, 2)
        wait_until(lambda: _events_held(console, headers) == sent, timeout_s=60,
                   what="the post's five reports on the centre")


def test_the_exchange_refuses_what_came_without_the_senders_certificate(link: Link) -> None:
    link.centre.start()
    # Right certificate, signed pull: answered on the peer port.
    with link.client(POST) as client:
        answered = client.post("/api/v1/exchange/pull", content=link.pull_request())
        assert answered.status_code == 200, answered.text
        # The peer port serves nothing but the exchange (and the health check).
        assert client.get("/api/v1/health").status_code == 200
        other = client.get("/api/v1/events")
        assert other.status_code == 404 and "main port" in other.json()["detail"][0]["msg"]
    # Another partner's certificate from the same CA cannot carry the post's batches.
    with link.client(OTHER_POST) as client:
        refused = client.post("/api/v1/exchange/pull", content=link.pull_request())
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["type"] == "wrong_certificate"
    assert f"names {OTHER_POST}, not the sender {POST}" in refused.json()["detail"][0]["msg"]
    # A centre whose certificate no CA of the post's bundle signed is named as such.
    with pytest.raises(httpx.ConnectError) as untrusted, httpx.Client(
            verify=ssl.create_default_context(cafile=str(link.rogue["ca.pem"]))) as client:
        client.get(f"{link.peer_url}/api/v1/health")
    assert "SITCEN_PEER_TLS_CA" in (handshake_failure(untrusted.value, link.peer_url) or "")
    # No certificate, or one of another CA: the handshake fails, no request is read.
    for client in (link.client(), link.client(POST, link.rogue)):
        with client, pytest.raises(httpx.HTTPError) as failed:
            client.post("/api/v1/exchange/batches", content=link.pull_request())
        assert handshake_failure(failed.value, link.peer_url) == CLOSED_AFTER_HANDSHAKE
    # The main port answers browsers and API clients, and refuses the exchange.
    with link.client(base_url=link.centre.url) as client:
        for path in ("/api/v1/exchange/batches", "/api/v1/exchange/pull"):
            main = client.post(path, content=link.pull_request())
            assert main.status_code == 403, main.text
            error = main.json()["detail"][0]
            assert error["type"] == "client_certificate_required"
            assert f"peer port {link.centre.env['SITCEN_PEER_PORT']}" in error["msg"]


@pytest.mark.parametrize(("mode", "refusal"), [("optional", "unknown_sender"),
                                               ("required", "client_certificate_required")])
def test_optional_mutual_tls_still_takes_batches_on_the_main_port(
        tmp_path: Path, mode: str, refusal: str) -> None:
    """While partners move over (optional), a batch without a certificate is still checked
    as before; once required, it is refused before its signature is read."""
    files = certificates(tmp_path / "pki")
    settings = make_settings(f"sqlite:///{tmp_path}/node.db", tmp_path / "data",
                             node_id=CENTRE, node_country="TJ", peer_mtls=mode,
                             peer_port=free_port(), peer_tls_ca=files["ca.pem"],
                             tls_cert=files["server.pem"], tls_key=files["server.key"])
    NodeIdentity.generate(CENTRE).save(settings.identity_dir)
    stranger = NodeIdentity.generate(POST)
    with TestClient(create_app(Node.open(settings))) as client:
        answer = client.post("/api/v1/exchange/batches", content=seal(Batch.new(
            sender=POST, receiver=CENTRE, first_seq=0, last_seq=0, records=[]), stranger))
    assert answer.status_code == 403
    assert answer.json()["detail"][0]["type"] == refusal


def test_settings_of_mutual_tls_are_checked_at_start_up(tmp_path: Path) -> None:
    files = certificates(tmp_path, clients=[POST])
    with pytest.raises(ValidationError, match="SITCEN_PEER_TLS_CERT and SITCEN_PEER_TLS_KEY go "
                                              "together"):
        Settings(peer_tls_cert=files[f"{POST}.pem"])
    with pytest.raises(ValidationError, match="SITCEN_PEER_TLS_CA: no file"):
        Settings(peer_tls_ca=tmp_path / "missing.pem")
    with pytest.raises(ValidationError, match="SITCEN_PEER_MTLS=required needs "
                                              "SITCEN_PEER_PORT, SITCEN_PEER_TLS_CA, "
                                              "SITCEN_TLS_CERT and SITCEN_TLS_KEY"):
        Settings(peer_mtls="required")
    with pytest.raises(ValidationError, match="SITCEN_PEER_MTLS=optional needs SITCEN_PEER_TLS_CA"):
        Settings(peer_mtls="optional", peer_port=8444, tls_cert=files["server.pem"],
                 tls_key=files["server.key"])
    Settings(environment="test", peer_mtls="required", peer_port=8444, peer_tls_ca=files["ca.pem"],
             tls_cert=files["server.pem"], tls_key=files["server.key"],
             peer_tls_cert=files[f"{POST}.pem"], peer_tls_key=files[f"{POST}.key"])
