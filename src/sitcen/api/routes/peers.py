"""The links of this node: parent, children and peers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.exchange.links import Relation, list_peers

router = APIRouter(prefix="/peers", tags=["federation"])


class PeerPublic(BaseModel):
    """A linked node, its key and where the exchange with it stands."""

    node_id: str
    name: str
    url: str
    public_key: str
    relation: Relation
    agreement_id: str | None
    acked_seq: int
    received_seq: int


@router.get("", response_model=list[PeerPublic])
def read_peers(node: CurrentNode, _user: Reader) -> list[PeerPublic]:
    """Every node linked to this one, with its public key and exchange cursors."""
    return [PeerPublic(**vars(p)) for p in list_peers(node.engine)]
