"""Real ``sitcen`` processes: any serving command, a node with its own environment, TLS files.

:func:`start_server` runs ``sitcen serve`` or ``sitcen demo`` and returns once it
answers its health check, :func:`stop_process` stops it as Ctrl+C would;
:class:`NodeProcess` is one node's ``serve`` process and its commands;
:func:`certificates` writes a throwaway CA and the certificates a node serving
HTTPS (and its clients) needs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sitcen.testing.serving import free_port, wait_until

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
