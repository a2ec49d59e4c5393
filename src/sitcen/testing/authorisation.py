"""Which roles pass each operation's permission check, found by calling every one of them.

:func:`authorisation_matrix` feeds docs/security.md's table (scripts/gen_docs.py)
and the test that keeps that table true.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sitcen.node import Node

#: Operations the authorisation walk does not call: the stream never ends, logout ends
#: the walk's session, and the metrics answer to the metrics token, not to a user's
#: role (docs/monitoring.md).
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
