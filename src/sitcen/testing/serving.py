"""Ports, waiting on a condition, and servers run from a thread of this process.

:func:`free_port` and :func:`free_port_range` find loopback ports nothing listens
on; :func:`wait_until` waits on a condition (never a fixed sleep);
:func:`serve_in_thread` serves a node's app and :func:`serve_app_in_thread` any
ASGI app on loopback; :func:`receive_posts` is a webhook receiver of the outside
world. The other modules of :mod:`sitcen.testing` build on these.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import uvicorn

from sitcen.node import Node
from sitcen.settings import GRACEFUL_SHUTDOWN_S

T = TypeVar("T")


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
                                           log_level="warning",
                                           timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))
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
