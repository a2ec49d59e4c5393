"""Is the node up, and what is it."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel

from sitcen import __version__
from sitcen.api.deps import CurrentNode
from sitcen.store.migrations import applied

router = APIRouter(tags=["health"])


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
