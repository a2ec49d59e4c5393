"""Real parts for tests, benchmarks and scripts: ports, waiting, servers, clusters, node processes.

One copy of each, importable from the test suite, ``benchmarks/`` and
``scripts/`` alike (datasette's ``fixtures.py`` habit):

- :func:`free_port`, :func:`free_port_range` and :func:`wait_until` (wait on a
  condition, never a fixed sleep);
- :func:`serve_in_thread`: a node's app on a free loopback port in this process;
- :func:`receive_posts`: a webhook receiver of the outside world on a free loopback port;
- :func:`mock_issuer`: an OpenID Connect directory (:class:`MockIssuer`) to log in through;
- :func:`chromium` (Debian's, through Playwright), :func:`console_missing`,
  :func:`emulate_link` and :func:`fill_report_form`: the console in a real browser;
- :func:`seizure_report`: a valid report to send;
- :class:`PostgresCluster`: a throwaway PostgreSQL server started with
  ``initdb``/``pg_ctl`` in a temporary directory (as the ``postgres`` user when run as root);
- :func:`start_server` and :func:`stop_process`: any ``sitcen`` command that serves
  (``serve``, ``demo``), up once it answers its health check;
- :class:`NodeProcess`: one ``sitcen serve`` process with its own environment;
- :func:`load_schema_fixture` and :func:`schema_shape`: a database of an earlier schema
  (tests/data/schemas/, scripts/make_schema_fixture.py) and what a database's schema is.

Nothing here is used by a running node, and nothing here needs pytest.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from sitcen.node import Node

T = TypeVar("T")

#: PostgreSQL settings of a throwaway cluster for tests: durability off, it is thrown away.
FAST_UNSAFE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
               "max_connections": "200"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_range(size: int, *, attempts: int = 50) -> int:
    """The first of ``size`` consecutive free TCP ports on 127.0.0.1, below 32768.

    Below the kernel's ephemeral range, so no outgoing connection or port-0
    bind of another test takes one of them meanwhile (for a program that is
    given a base port, like the federated demo).
    """
    for _ in range(attempts):
        # Not the seeded module-level generator: test processes seeded alike would collide.
        base = random.SystemRandom().randrange(20_000, 32_768 - size)
        try:
            for port in range(base, base + size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {size} consecutive free ports found")


def wait_until(condition: Callable[[], T | None], *, timeout_s: float = 30.0,
               interval_s: float = 0.05, what: str = "the condition") -> T:
    """Call ``condition`` until it returns something truthy, and return that.

    Raises :class:`TimeoutError` naming ``what`` after ``timeout_s``. The
    interval is a polling period, not a guess at how long something takes.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} did not hold within {timeout_s:g} s")
        time.sleep(interval_s)


@dataclass(frozen=True)
class Link:
    """A network link as Chromium's DevTools protocol emulates it."""

    down_kbit_s: float
    up_kbit_s: float
    latency_ms: float


#: Debian's Chromium, which the browser tests and benchmarks drive through Playwright.
CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium tries to reach update and sync servers, which a closed network
# refuses slowly.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def console_missing() -> str | None:
    """Why the console cannot be tried in a browser here (Chromium or the built console is
    missing), or None."""
    from sitcen.api.console import console_dir

    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make system-deps installs Debian's chromium)"
    if not (console_dir() / "index.html").is_file():
        return "the console is not built (make console)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright (which must be installed) and
    closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright gives every launch a fresh, temporary user-data directory.
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True)
        yield launched
        launched.close()


def fill_report_form(page: Any) -> None:
    """Open the console's report form on ``page`` and fill it as a post reports a heroin
    seizure at the Panj, ready to send."""
    page.click(".report-button")
    page.select_option("#report-type", "drug_smuggling")
    page.fill("#report-lon", "68.6")
    page.fill("#report-lat", "37.22")
    page.select_option("#detail-substance", "heroin")
    page.fill("#detail-quantity", "4.5")
    page.select_option("#detail-unit", "kg")
    page.fill("#report-description", "Two couriers stopped at the river crossing")


def seizure_report(occurred_at: str, /, **overrides: Any) -> dict[str, Any]:
    """A valid drug-seizure report (the API's body) on the Tajik-Afghan border near Nizhny
    Panj, at ``occurred_at`` (ISO 8601) unless ``overrides`` say otherwise."""
    body: dict[str, Any] = {
        "type": "drug_smuggling",
        "occurred_at": occurred_at,
        "location": {"lon": 68.60, "lat": 37.22, "precision_m": 50},
        "impact_level": "medium",
        "confidence": {"source_reliability": "B", "information_credibility": 2},
        "handling": "AMBER",
        "details": {"substance": "heroin", "quantity": 12.5, "unit": "kg", "direction": "entry"},
        "persons": [{"nationality": "AF", "sex": "male", "age_group": "adult", "count": 2}],
        "transport": "boat",
        "modus_operandi": ["river_crossing"],
        "reaction": ["apprehended", "seized"],
        "description": "Два курьера задержаны при переправе через Пяндж",
    }
    body.update(overrides)
    return body


#: A post's poor link (issue 16): 100 kbit/s down, 50 kbit/s up, 600 ms round trip.
POOR_LINK = Link(down_kbit_s=100, up_kbit_s=50, latency_ms=600)


def emulate_link(page: Any, link: Link = POOR_LINK) -> Any:
    """Throttle a Playwright page of Chromium to ``link`` (its whole browser context's
    requests, the page's own and its workers'); the CDP session, to detach later."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": link.latency_ms,
        # Bytes per second, as the protocol takes them.
        "downloadThroughput": link.down_kbit_s * 1000 / 8,
        "uploadThroughput": link.up_kbit_s * 1000 / 8})
    return session


@dataclass
class ServedNode:
    """A node's app served by uvicorn from a thread of this process."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve_in_thread(node: Node, *, timeout_s: float = 20.0) -> ServedNode:
    """Serve ``node`` on a free loopback port from a daemon thread, once it accepts requests."""
    from sitcen.api.main import create_app

    return serve_app_in_thread(create_app(node), timeout_s=timeout_s, what="the node's server")


def serve_app_in_thread(app: Any, *, port: int | None = None, timeout_s: float = 20.0,
                        what: str = "the server") -> ServedNode:
    """Serve an ASGI app on a loopback port (a free one unless given) from a daemon thread,
    once it accepts requests."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError(f"{what}'s thread ended before it started")
        return bool(server.started)

    wait_until(started, timeout_s=timeout_s, what=f"{what}'s start")
    return ServedNode(f"http://127.0.0.1:{port}", server, thread)


def receive_posts(answer: Callable[[str, dict[str, str], bytes], int]) -> ThreadingHTTPServer:
    """An HTTP server on a free loopback port, serving from a daemon thread, that answers
    every POST with the status ``answer(path, headers, body)`` returns.

    The outside edge a node sends to (a webhook receiver), faked; stop it with
    ``shutdown()`` and ``server_close()``.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(answer(self.path, dict(self.headers), body))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass  # no line on stderr per request

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, name="post-receiver", daemon=True).start()
    return server


# ----------------------------------------------------------------------------- a directory


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


# ----------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class Broker:
    """A Mosquitto broker serving on localhost."""

    host: str
    port: int


def mosquitto_missing() -> str | None:
    """Why no Mosquitto broker can be started here, or None."""
    if (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()) and \
            shutil.which("mosquitto_passwd"):
        return None
    return "mosquitto (Debian packages mosquitto, mosquitto-clients) is not installed"


@contextlib.contextmanager
def mosquitto(users: Mapping[str, str]) -> Iterator[Broker]:
    """A throwaway Mosquitto (Debian's) on a free port, with these users and no anonymous
    access; stopped and removed afterwards."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    root = Path(tempfile.mkdtemp(prefix="sitcen-mqtt-"))
    passwords = root / "passwd"
    passwords.touch()
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                       capture_output=True)
    port = free_port()
    config = root / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                      f"password_file {passwords}\npersistence false\n"
                      "max_queued_messages 100000\n"
                      + ("user root\n" if os.geteuid() == 0 else ""), encoding="utf-8")
    log = (root / "log").open("wb")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
    try:

        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError("mosquitto did not start: "
                                   + (root / "log").read_text(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, what="mosquitto listening")
        yield Broker("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def postgres_bin_dir() -> None:
    """Put Debian's versioned PostgreSQL bin directory on PATH when ``initdb`` is not there."""
    if shutil.which("initdb"):
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        os.environ["PATH"] = f"{found[-1].parent}{os.pathsep}{os.environ['PATH']}"


def postgres_binaries_missing() -> list[str]:
    """The PostgreSQL server programs not found on PATH (after :func:`postgres_bin_dir`)."""
    postgres_bin_dir()
    return [b for b in ("initdb", "pg_ctl", "postgres") if shutil.which(b) is None]


class PostgresCluster:
    """A throwaway PostgreSQL server on a free loopback port, in its own directory."""

    def __init__(self, root: Path | None = None, settings: Mapping[str, str] | None = None,
                 ) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="sitcen-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = dict(FAST_UNSAFE if settings is None else settings)
        self._as_postgres = os.geteuid() == 0
        self._counter = itertools.count()

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PostgresCluster:
        """initdb and start; returns itself."""
        postgres_bin_dir()
        self.root.chmod(0o755)
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        sync = ["--no-sync"] if self.settings.get("fsync") == "off" else []
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  *sync, "--locale=C")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {k}={v}" for k, v in self.settings.items())
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "start")
        return self

    def stop(self, *, remove: bool = True) -> None:
        """Stop at once (the data is thrown away) and remove the directory."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> str:
        """The settings it runs with, for a benchmark's log."""
        return ", ".join(f"{k}={v}" for k, v in self.settings.items()) or "defaults"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """The URL of a new, empty database."""
        name = f"{prefix}{os.getpid()}_{next(self._counter)}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)


@contextlib.contextmanager
def postgres_cluster(settings: Mapping[str, str] | None = None) -> Iterator[PostgresCluster]:
    """A started throwaway cluster, stopped and removed afterwards."""
    cluster = PostgresCluster(settings=settings).start()
    try:
        yield cluster
    finally:
        cluster.stop()


# ----------------------------------------------------------------------------- node processes


#: How long a server process may take to answer its first health check: a bound for a
#: broken start, not a guess at a normal one (on a machine shared by several test runs,
#: starting Python with pandas and FastAPI has taken over a minute).
START_TIMEOUT_S = 180.0


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without its ``SITCEN_*`` variables, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITCEN_")}
    env.update(settings)
    return env


def start_server(args: Sequence[str], env: Mapping[str, str], port: int, *,
                 log_path: Path | None = None, timeout_s: float = START_TIMEOUT_S,
                 ca: Path | None = None, program: Sequence[str] | None = None,
                 cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Run ``sitcen <args> --port <port>`` and return it once it answers its health check.

    ``program`` is the command that runs sitcen (by default this Python's
    ``-m sitcen.cli``; another environment's ``bin/sitcen``, say), run in ``cwd``
    (by default this process's). Its output is appended to ``log_path`` (or
    dropped). Raises :class:`RuntimeError` with the end of the log when it exits
    first, and :class:`TimeoutError` (after stopping it) when it does not answer
    in time.
    """
    command = [*(program or (sys.executable, "-m", "sitcen.cli")), *args, "--port", str(port)]
    out = log_path.open("ab") if log_path else subprocess.DEVNULL
    try:
        process = subprocess.Popen(command, env=dict(env), cwd=cwd, stdout=out,
                                   stderr=subprocess.STDOUT)
    finally:
        if not isinstance(out, int):
            out.close()
    # With ``ca`` the node serves HTTPS with a certificate that CA signed.
    url = f"{'https' if ca else 'http'}://127.0.0.1:{port}/api/v1/health"

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"sitcen {args[0]} exited with code {process.returncode}"
                               + (f":\n{log_path.read_text(errors='replace')[-4000:]}"
                                  if log_path else ""))
        with contextlib.suppress(httpx.HTTPError):
            verify = ssl.create_default_context(cafile=str(ca)) if ca else True
            return httpx.get(url, timeout=2, verify=verify).status_code == 200
        return False

    try:
        wait_until(healthy, timeout_s=timeout_s, interval_s=0.1,
                   what=f"sitcen {args[0]} answering on port {port}")
    except TimeoutError:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """Stop a server as Ctrl+C would, and kill it if it does not end in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class NodeProcess:
    """One ``sitcen serve`` process with its own environment (data dir, database, node id).

    ``env`` adds ``SITCEN_*`` settings to those given here; the rest of the
    environment is this process's, without its ``SITCEN_*`` variables.
    """

    node_id: str
    database_url: str
    data_dir: Path
    country: str = "TJ"
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    #: The CA that signed the node's certificate (SITCEN_TLS_CERT in ``env``): HTTPS.
    ca: Path | None = None

    @property
    def url(self) -> str:
        """The node's base URL."""
        return f"{'https' if self.ca else 'http'}://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The environment the node's commands run with."""
        env = clean_environment(
            SITCEN_ENVIRONMENT="test", SITCEN_DATA_DIR=str(self.data_dir),
            SITCEN_DATABASE_URL=self.database_url, SITCEN_NODE_ID=self.node_id,
            SITCEN_NODE_COUNTRY=self.country,
            # No scheduled daily report unless asked: journals hold what a test sent.
            SITCEN_REPORT_DAILY_AT="")
        env.update(self.env)
        return env

    def cli(self, *args: str, timeout_s: float = 120.0) -> str:
        """Run ``sitcen <args>`` for this node; its output (raises when it fails)."""
        done = subprocess.run([sys.executable, "-m", "sitcen.cli", *args],
                              env=self.environment(), capture_output=True, text=True,
                              timeout=timeout_s)
        if done.returncode != 0:
            raise RuntimeError(f"sitcen {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, timeout_s: float = START_TIMEOUT_S) -> NodeProcess:
        """Start serving and wait until the node answers its health check."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = start_server(["serve", "--workers", str(self.workers)],
                                    self.environment(), self.port, log_path=self.log_path,
                                    timeout_s=timeout_s, ca=self.ca)
        return self

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop as Ctrl+C would, and kill it if it does not end in time."""
        if self.process is not None:
            stop_process(self.process, timeout_s)
        self.process = None

    def kill9(self) -> None:
        """Kill it as a power cut would (SIGKILL)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None


def certificates(directory: Path, clients: Sequence[str] = ()) -> dict[str, Path]:
    """A throwaway CA (``ca.pem``), a server certificate for 127.0.0.1 (``server.pem``,
    ``server.key``) and a client certificate per name in ``clients`` (``<name>.pem``,
    ``<name>.key``) in ``directory``; the files by name."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def write(name: str, cert: x509.Certificate, private: ec.EllipticCurvePrivateKey) -> None:
        (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (directory / f"{name}.key").write_bytes(private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def build(cn: str, issuer: x509.Name, public: Any, signer: ec.EllipticCurvePrivateKey,
              ca: bool, san: list[x509.GeneralName] | None = None) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                   .issuer_name(issuer).public_key(public).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(signer, hashes.SHA256())

    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sitcen test CA")])
    write("ca", build("sitcen test CA", ca_name, ca_key.public_key(), ca_key, True), ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    write("server", build("127.0.0.1", ca_name, server_key.public_key(), ca_key, False,
                          [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), server_key)
    for name in clients:
        client_key = ec.generate_private_key(ec.SECP256R1())
        write(name, build(name, ca_name, client_key.public_key(), ca_key, False), client_key)
    return {p.name: p for p in directory.iterdir() if p.suffix in (".pem", ".key")}


#: Operations the authorisation walk does not call: the live stream answers forever, and
#: logging out would end the session the walk uses.
#: The stream never ends, logout ends the walk's session, and the metrics answer to the
#: metrics token, not to a user's role (docs/monitoring.md).
_NOT_WALKED = {("GET", "/api/v1/stream"), ("POST", "/api/v1/auth/logout"),
               ("GET", "/api/v1/metrics")}
_UNKNOWN_ID = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"


def authorisation_matrix() -> dict[str, list[str]]:
    """Which roles pass each operation's permission check, found by calling it.

    A fresh node on a temporary SQLite file with one user per role; every
    operation of its OpenAPI document (but the stream and logout) is called by
    each role with an unknown id in the path and an empty JSON object as its
    body: a role is refused when the answer is 403, and passes otherwise (the
    answer may still be 404 or 422, which come after the check). Returns
    ``{"METHOD /path": [roles that pass]}``. docs/security.md's table is
    written from this, and ``tests/test_docs.py`` fails when the node and the
    table disagree, so a permission changes only with its documentation.
    """
    import re

    from fastapi.testclient import TestClient

    from sitcen.api.main import create_app
    from sitcen.settings import Settings
    from sitcen.store import schema
    from sitcen.store.journal import now_micros
    from sitcen.store.users import _hasher, issue_token
    from sitcen.users import Role

    matrix: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="sitcen-authz-") as tmp:
        node = Node.open(Settings(environment="test", data_dir=Path(tmp)))
        try:
            password_hash = _hasher.hash("authorisation-walk-1")
            with node.engine.begin() as conn:
                conn.execute(schema.users.insert(), [
                    {"username": f"walk-{role.value.replace('_', '-')}", "full_name": role.value,
                     "role": role.value, "password_hash": password_hash, "disabled": False,
                     "created_at": now_micros()} for role in Role])
            headers = {role: {"Authorization": "Bearer " + issue_token(
                node.engine, f"walk-{role.value.replace('_', '-')}", 1)[0]} for role in Role}
            with TestClient(create_app(node), raise_server_exceptions=False) as client:
                paths = client.get("/openapi.json").json()["paths"]
                for path, methods in paths.items():
                    for method in methods:
                        if (method.upper(), path) in _NOT_WALKED:
                            continue
                        url = re.sub(r"\{[^}]+\}", _UNKNOWN_ID, path)
                        passing = []
                        with_body = method in ("post", "put", "patch")
                        body: dict[str, Any] | None = {} if with_body else None
                        for role in Role:
                            answer = client.request(method.upper(), url, headers=headers[role],
                                                    json=body)
                            if answer.status_code == 401:
                                raise RuntimeError(f"{method.upper()} {path} ended the walk's "
                                                   f"session of {role.value}")
                            if answer.status_code != 403:
                                passing.append(role.value)
                        matrix[f"{method.upper()} {path}"] = passing
        finally:
            node.engine.dispose()
    return matrix


def schema_fixture_statements(path: Path, dialect: str) -> Iterator[str]:
    """The statements of a schema fixture for a backend (``sqlite``, ``postgresql``): those
    of its own ``-- dialect:`` sections and of the shared ones, in order."""
    import re

    section, statement = "all", list[str]()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not statement and line.startswith("--"):
            marker = re.fullmatch(r"-- dialect: (\w+)", line)
            section = marker.group(1) if marker else section
            continue
        if section not in ("all", dialect):
            continue
        statement.append(line)
        if line.endswith(";"):
            yield "\n".join(statement)
            statement = []
    if statement:
        raise ValueError(f"{path.name}: unterminated statement")


def load_schema_fixture(engine: sa.Engine, path: Path) -> None:
    """Load a schema fixture into the empty database of ``engine`` (not migrated)."""
    with engine.begin() as conn:
        for statement in schema_fixture_statements(path, engine.dialect.name):
            conn.exec_driver_sql(statement)


SchemaShape = dict[str, dict[str, Any]]


def schema_shape(engine: sa.Engine) -> SchemaShape:
    """What the node's code depends on, as the database reports it (``sa.inspect``): per
    table its columns (type, nullable), primary key and indexes (columns, unique, partial
    predicate)."""
    import re

    def predicate(index: Any) -> str | None:
        options = index.get("dialect_options", {})
        where = options.get("postgresql_where") or options.get("sqlite_where")
        return None if where is None else re.sub(r"[()\s]", "", str(where)).lower()

    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = inspector.get_multi_columns()
        keys = inspector.get_multi_pk_constraint()
        indexes = inspector.get_multi_indexes()
    return {
        table: {
            "columns": {c["name"]: (str(c["type"].compile(engine.dialect)), c["nullable"])
                        for c in table_columns},
            "primary_key": keys[(schema, table)]["constrained_columns"],
            "indexes": {ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"]),
                                     predicate(ix))
                        for ix in indexes[(schema, table)]},
        }
        for (schema, table), table_columns in columns.items()
    }
