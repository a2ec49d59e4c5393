"""This node's identity, as partners need it to link to it."""


from fastapi import APIRouter
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader

router = APIRouter(prefix="/node", tags=["federation"])


class NodePublic(BaseModel):
    """Who this node is; the public key and fingerprint are exchanged out of band."""

    node_id: str
    name: str
    country: str
    public_key: str | None
    fingerprint: str | None


@router.get("", response_model=NodePublic)
def read_node(node: CurrentNode, _user: Reader) -> NodePublic:
    """This node's id, name, country, public key and fingerprint (null before `sitcen init`)."""
    s, identity = node.settings, node.identity
    return NodePublic(
        node_id=s.node_id, name=s.node_name, country=s.node_country,
        public_key=identity.public_key_text if identity else None,
        fingerprint=identity.fingerprint if identity else None,
    )
