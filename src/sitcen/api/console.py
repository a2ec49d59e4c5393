"""The operator console: its page at ``/`` and its built assets under ``/console/assets``.

The front end is built from ``frontend/`` (``make console``) into the package
directory ``sitcen/console``; Vite names every asset by a hash of its content,
so the assets may be cached for a year while the page itself is never cached.
A content security policy keeps the page from reaching any other address.

The console is also an installable web app (docs/field.md): its service worker
``/console/sw.js`` keeps the page and its assets for offline use and may control
the page at ``/`` (``Service-Worker-Allowed``); the web app manifest and its icons
sit beside it. These few files keep their names from build to build, so the
browser asks the node each time whether they changed.
"""


import mimetypes
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# MapLibre's worker is an ES module (.mjs); browsers run a module worker only when it
# is served as JavaScript, and Python 3.11 does not know the extension.
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")

IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
    "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
NOT_BUILT = (
    "The console of this node has not been built. Run `make console` (npm ci and "
    "npm run build in frontend/) and restart; the API works meanwhile under /api/v1.\n"
)


def console_dir() -> Path:
    """Where the built console lives inside the installed package."""
    return Path(str(resources.files("sitcen") / "console"))


class HashedAssets(StaticFiles):
    """Static files whose names carry a content hash: cached for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


#: The files of the built console beside its page whose names carry no hash.
APP_FILES = frozenset({"sw.js", "manifest.webmanifest", "icon.svg", "icon-192.png",
                       "icon-512.png", "icon-maskable-512.png", "apple-touch-icon.png"})


def app_file(directory: Path, name: str) -> Response:
    """One of :data:`APP_FILES`, checked with the browser on every use (``no-cache``)."""
    path = directory / name
    if name not in APP_FILES or not path.is_file():
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if name == "sw.js":
        # The worker sits under /console/ but serves the page at "/"; its own policy is
        # the page's (a worker's fetches follow the CSP it was served with).
        headers["Service-Worker-Allowed"] = "/"
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), media_type=media_type, headers=headers)


def mount_console(app: FastAPI) -> None:
    """Serve the console page at ``/``, its assets under ``/console/assets`` and its
    service worker, manifest and icons under ``/console``."""
    directory = console_dir()
    if (directory / "assets").is_dir():
        app.mount("/console/assets", HashedAssets(directory=directory / "assets"),
                  name="console-assets")

    @app.get("/console/{name}", include_in_schema=False, response_model=None)
    def read_console_file(name: str) -> Response:
        return app_file(directory, name)

    @app.get("/", include_in_schema=False, response_model=None)
    def read_console() -> Response:
        index = directory / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=503)
        return HTMLResponse(index.read_bytes(), headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        })
