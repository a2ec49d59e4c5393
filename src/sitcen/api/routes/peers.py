"""The links of this node: parent, children and peers."""


from fastapi import APIRouter

from sitcen.api.deps import CurrentNode, Reader
from sitcen.exchange.links import Peer, list_peers

router = APIRouter(prefix="/peers", tags=["federation"])


@router.get("", response_model=list[Peer])
def read_peers(node: CurrentNode, _user: Reader) -> list[Peer]:
    """Every node linked to this one, with its public key and exchange cursors."""
    return list_peers(node.engine)
