"""nginx in front of a real node (issue 20): the shipped deploy/nginx/sitcen.conf, with only
its ports, its upstream's port and its certificate paths changed, ends TLS for a
``sitcen serve`` process on loopback.

Through it: the console and its assets, a login in Chromium whose cookie session acts (the
node's origin check sees the browser's scheme, host and port), the live stream passing each
event on at once, HTTP sent to HTTPS, the client's own address reaching the node (a forged
X-Forwarded-For does not), and nginx's own refusals in the node's error shape.

nginx runs as the current user with its prefix, configuration, pid file and temporary
directories under the test's tmp; it is Debian's package, which ``make system-deps``
installs. Without it the module skips (and fails under CI=true).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import TEST_PASSWORD, report
from sitcen.api.guards import MAX_BODY_BYTES
from sitcen.settings import Settings
from sitcen.testing import NodeProcess, certificates, free_port, stop_process, wait_until

pytestmark = [pytest.mark.xdist_group("processes"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "deploy" / "nginx" / "sitcen.conf"
PASSWORD = TEST_PASSWORD  # the browser helpers log in with it
#: The client's own loopback address, other than nginx's and the node's (127.0.0.1), so
#: the test can tell which address the node took for the client's.
CLIENT_ADDRESS = "127.0.0.2"


def nginx_binary() -> str:
    """Debian's nginx (on PATH, or in /usr/sbin, which a non-root PATH may lack)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = "nginx is not installed (make system-deps installs Debian's nginx)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    return found


def site_config(https_port: int, http_port: int, node_port: int, cert: Path, key: Path) -> str:
    """The shipped sample with the test's ports, node and certificate; nothing else changed.

    Each text replaced must be in the sample exactly once, so a sample that drifts from
    what is replaced here fails loudly instead of being tested half-changed.
    """
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("server 127.0.0.1:8080;", f"server 127.0.0.1:{node_port};"),
                     ("/etc/ssl/sitcen/fullchain.pem", str(cert)),
                     ("/etc/ssl/sitcen/privkey.pem", str(key))):
        assert text.count(old) == 1, f"{SAMPLE.name} should hold {old!r} once"
        text = text.replace(old, new)
    return text


def main_config(prefix: Path, site: Path) -> str:
    """An nginx.conf of the test's own: in the foreground, every file under ``prefix``, and
    the site included in its http block as Debian's nginx.conf includes sites-enabled/."""
    # Run as root, nginx would hand its workers to "nobody", who cannot write the test's
    # temporary directories; they stay the current user's.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {name}_temp_path {prefix / name};"
                     for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'} info;\n"
            "events {\n    worker_connections 256;\n}\n"
            f"http {{\n    access_log {prefix / 'access.log'};\n{temp}\n"
            f"    include {site};\n}}\n")


@dataclass
class Proxy:
    """nginx running from ``prefix``: HTTPS on ``https_port``, plain HTTP on ``http_port``."""

    prefix: Path
    https_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The HTTPS address browsers use."""
        return f"https://127.0.0.1:{self.https_port}"

    def log(self) -> str:
        """The end of nginx's error log (for failure messages)."""
        path = self.prefix / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop nginx (SIGINT ends it at once, as Ctrl+C would)."""
        stop_process(self.process)


def start_nginx(prefix: Path, node_port: int, tls: dict[str, Path]) -> Proxy:
    """nginx with the sample's site in front of the node on ``node_port``, once it answers."""
    binary = nginx_binary()
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    https_port, http_port = free_port(), free_port()
    site = prefix / "sitcen.conf"
    site.write_text(site_config(https_port, http_port, node_port, tls["server.pem"],
                                tls["server.key"]), encoding="utf-8")
    conf = prefix / "nginx.conf"
    conf.write_text(main_config(prefix, site), encoding="utf-8")
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-e",
                                str(prefix / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    proxy = Proxy(prefix, https_port, http_port, process)

    def answering() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with code {process.returncode}:\n{proxy.log()}")
        try:
            return httpx.get(f"http://127.0.0.1:{http_port}/", timeout=2).status_code == 301
        except httpx.HTTPError:
            return False

    try:
        wait_until(answering, timeout_s=20, what=f"nginx answering on port {http_port}")
    except TimeoutError:
        proxy.stop()
        raise
    return proxy


@dataclass
class Site:
    """The node and nginx in front of it, and the CA that signed nginx's certificate."""

    node: NodeProcess
    proxy: Proxy
    ca: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTPS client of the proxy that trusts the test's CA, connecting from
        CLIENT_ADDRESS."""
        transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS,
                                        verify=ssl.create_default_context(cafile=str(self.ca)))
        return httpx.Client(base_url=self.proxy.url, transport=transport, timeout=15, **kwargs)

    def token(self) -> str:
        """A bearer token of the duty officer, obtained through the proxy."""
        with self.client() as client:
            answer = client.post("/api/v1/auth/login",
                                 json={"username": "duty", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    nginx_binary()
    root = tmp_path_factory.mktemp("proxy")
    tls = certificates(root / "tls")
    node = NodeProcess("tj-proxy-test", f"sqlite:///{root}/node.db", root / "data",
                       log_path=root / "node.log")
    node.cli("user", "add", "duty", "--role", "duty_officer", "--password", PASSWORD)
    node.start()
    try:
        proxy = start_nginx(root / "nginx", node.port, tls)
        try:
            yield Site(node, proxy, tls["ca.pem"])
        finally:
            proxy.stop()
    finally:
        node.stop()


def _hsts(response: httpx.Response) -> list[str]:
    return response.headers.get_list("strict-transport-security")


def test_the_console_and_its_assets_come_over_https(site: Site) -> None:
    with site.client() as client:
        page = client.get("/")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        # One HSTS header: nginx's, the node's copy hidden.
        assert _hsts(page) == ["max-age=31536000"]
        assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', page.text)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
        for path in assets:
            asset = client.get(path)
            assert asset.status_code == 200, path
            assert len(asset.content) > 0
        health = client.get("/api/v1/health")
        assert health.status_code == 200
        assert _hsts(health) == ["max-age=31536000"]


def test_plain_http_is_sent_to_https(site: Site) -> None:
    answer = httpx.get(f"http://127.0.0.1:{site.proxy.http_port}/api/v1/events?limit=5")
    assert answer.status_code == 301
    # The sample redirects to the standard HTTPS port of the same host name.
    assert answer.headers["location"] == "https://127.0.0.1/api/v1/events?limit=5"


def test_the_node_sees_https_and_the_clients_own_address(site: Site) -> None:
    with site.client() as client:
        # A forged X-Forwarded-For is replaced by the address nginx saw.
        login = client.post("/api/v1/auth/session",
                            json={"username": "duty", "password": PASSWORD},
                            headers={"X-Forwarded-For": "203.0.113.9"})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        sessions = client.get("/api/v1/auth/sessions").json()
        assert {s["address"] for s in sessions} == {CLIENT_ADDRESS}
        # The cookie acts from a page of this scheme, host and port, and from no other.
        for origin, allowed in ((site.proxy.url, True),
                                (f"http://127.0.0.1:{site.proxy.https_port}", False),
                                ("https://127.0.0.1", False)):
            answer = client.post("/api/v1/events", json=report(), headers={"Origin": origin})
            assert (answer.status_code == 201) is allowed, (origin, answer.text)


def _frames(response: httpx.Response) -> Iterator[dict[str, str]]:
    """The stream's frames as they arrive (a frame: its fields by name)."""
    frame: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if frame:
                yield frame
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            frame[name] = value


def test_the_live_stream_passes_each_event_on_at_once(site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.token()}"}
    with site.client() as client, client.stream("GET", "/api/v1/stream",
                                                headers=headers) as response:
        assert response.status_code == 200
        frames = _frames(response)
        # The node's first frame is a few bytes; a buffering proxy would hold it back
        # (the client's read timeout, 15 s, would end the test).
        assert next(frames) == {"retry": "2000"}
        reported = client.post("/api/v1/events", json=report(), headers=headers)
        assert reported.status_code == 201, reported.text
        event_id = reported.json()["id"]
        deadline = time.monotonic() + 10
        for frame in frames:
            if frame.get("event") == "event" and \
                    orjson.loads(frame["data"])["record_id"] == event_id:
                break
            assert time.monotonic() < deadline, "the event did not come through the proxy"


def _declared_only(site: Site, path: str, headers: dict[str, str]
                   ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """The answer (status, headers, body) to a POST whose body is declared but not sent:
    nginx judges the declared length."""
    context = ssl.create_default_context(cafile=str(site.ca))
    connection = http.client.HTTPSConnection("127.0.0.1", site.proxy.https_port,
                                             context=context, timeout=15)
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


def test_nginx_refuses_large_bodies_in_the_nodes_shape(site: Site) -> None:
    token = {"Authorization": f"Bearer {site.token()}"}
    cases = (("/api/v1/attachments?record_id=0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f&name=a.pdf",
              10 * 1024 * 1024 + 1, "10 MiB"),
             ("/api/v1/events/batch", 64 * 1024 * 1024 + 1, "67108864 bytes"))
    for path, size, limit in cases:
        status, headers, raw = _declared_only(
            site, path, {**token, "Content-Length": str(size),
                         "Content-Type": "application/octet-stream"})
        assert status == 413
        assert headers["content-type"] == "application/json"
        assert headers.get_all("strict-transport-security") == ["max-age=31536000"]
        body = orjson.loads(raw)
        assert body["detail"][0]["type"] == "too_large" and limit in body["detail"][0]["msg"]
    # Up to the limit, the body reaches the node, which judges the file itself.
    with site.client() as client:
        event_id = client.post("/api/v1/events", json=report(), headers=token).json()["id"]
        pdf = b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024) + b"\n%%EOF\n"
        uploaded = client.post(f"/api/v1/attachments?record_id={event_id}&name=a.pdf",
                               content=pdf, headers={**token, "Content-Type": "application/pdf"})
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["body"]["size"] == len(pdf)


def test_the_samples_limits_are_the_nodes() -> None:
    # nginx refuses before the node would: the two must move together.
    text = SAMPLE.read_text(encoding="utf-8")
    limits = re.findall(r"client_max_body_size (\d+)m;", text)
    assert limits == [str(MAX_BODY_BYTES // 2**20),
                      f"{Settings.model_fields['file_max_mb'].default:g}"]
    assert f"larger than {MAX_BODY_BYTES} bytes" in text


def test_a_node_that_does_not_answer_is_a_json_502(tmp_path: Path) -> None:
    tls = certificates(tmp_path / "tls")
    proxy = start_nginx(tmp_path / "nginx", free_port(), tls)  # nothing listens there
    try:
        verify = ssl.create_default_context(cafile=str(tls["ca.pem"]))
        answer = httpx.get(f"{proxy.url}/api/v1/health", verify=verify)
        assert answer.status_code == 502
        assert answer.json()["detail"][0]["type"] == "unavailable"
        assert _hsts(answer) == ["max-age=31536000"]
    finally:
        proxy.stop()


def test_the_console_logs_in_and_follows_the_stream_through_the_proxy(site: Site) -> None:
    from console_browser import expect, log_in_to_map, new_context, require_console
    from sitcen.testing import chromium

    require_console()
    with chromium() as browser:
        # The test's CA is not the browser's; the certificate itself is checked above.
        context = new_context(browser, ignore_https_errors=True)
        page = log_in_to_map(context, site.proxy.url + "/", "duty")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["sitcen_session"]["secure"] and cookies["sitcen_session"]["httpOnly"]
        expect(page.locator(".live.on")).to_be_visible()
        # Reported by another client, it reaches the console over the live stream.
        headers = {"Authorization": f"Bearer {site.token()}"}
        with site.client() as client:
            answer = client.post("/api/v1/events", json=report(), headers=headers)
        assert answer.status_code == 201, answer.text
        expect(page.locator(f'.event-row[data-event-id="{answer.json()["id"]}"]')
               ).to_be_visible()
        # Logging out is a POST with the cookie: it passes the node's origin check only if
        # the node sees the page's own scheme, host and port, and the cookie goes.
        page.click(".topbar button:has-text('Log out')")
        expect(page.locator("#login-username")).to_be_visible()
        assert "sitcen_session" not in {c["name"] for c in context.cookies()}
        context.close()
