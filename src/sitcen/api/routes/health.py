"""Is the node up, and what is it; is the process alive; is the node ready to serve."""


import logging

import sqlalchemy as sa
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sitcen import __version__
from sitcen.api.deps import CurrentNode
from sitcen.node import Node
from sitcen.store import schema
from sitcen.store.migrations import MIGRATIONS, applied

router = APIRouter(tags=["health"])

log = logging.getLogger("sitcen.api")


class Health(BaseModel):
    """Node identity and database state."""

    status: str
    version: str
    node_id: str
    node_name: str
    country: str
    database: str
    migrations: list[str]
    sections: int


@router.get("/health", response_model=Health)
def read_health(node: CurrentNode) -> Health:
    """Liveness, identity and schema state of the node (no login needed)."""
    with node.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        names = applied(conn)
    s = node.settings
    return Health(
        status="ok", version=__version__, node_id=s.node_id, node_name=s.node_name,
        country=s.node_country, database=node.engine.dialect.name, migrations=names,
        sections=len(node.sections),
    )


class Liveness(BaseModel):
    """The process answers."""

    status: str


@router.get("/health/live", response_model=Liveness)
def read_liveness() -> Liveness:
    """Whether the process answers at all, without touching the database (no login needed)."""
    return Liveness(status="ok")


class Check(BaseModel):
    """One condition of readiness."""

    name: str
    ok: bool
    detail: str


class Readiness(BaseModel):
    """Whether the node can serve, and each condition checked."""

    ready: bool
    checks: list[Check]


def readiness(node: Node) -> Readiness:
    """Database reachable, every migration applied, the node's identity present."""
    checks: list[Check] = []
    try:
        with node.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            checks.append(Check(name="database", ok=True, detail=node.engine.dialect.name))
            names = set(conn.execute(sa.select(schema.schema_migrations.c.name)).scalars())
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness: database: %s", exc.__class__.__name__)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        checks.append(Check(name="database", ok=False, detail=f"unreachable: {reason}"))
        checks.append(Check(name="migrations", ok=False, detail="not known: no database"))
    else:
        missing = [name for name, _ in MIGRATIONS if name not in names]
        checks.append(Check(name="migrations", ok=not missing,
                            detail=f"not applied: {', '.join(missing)}" if missing
                            else f"{len(MIGRATIONS)} applied"))
    identity = node.identity
    if identity is None:
        checks.append(Check(name="identity", ok=False,
                            detail="no signing key: run `sitcen init`"))
    elif identity.node_id != node.settings.node_id:
        checks.append(Check(name="identity", ok=False,
                            detail=f"the signing key is of {identity.node_id}, not of "
                                   f"{node.settings.node_id}"))
    else:
        checks.append(Check(name="identity", ok=True, detail=identity.node_id))
    return Readiness(ready=all(c.ok for c in checks), checks=checks)


@router.get("/health/ready", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "not ready: the failing "
                                                                "checks say why"}})
def read_readiness(node: CurrentNode) -> JSONResponse:
    """Whether the node is ready to serve: database, migrations, identity (503 when not)."""
    answer = readiness(node)
    return JSONResponse(answer.model_dump(),
                        status_code=status.HTTP_200_OK if answer.ready
                        else status.HTTP_503_SERVICE_UNAVAILABLE)
