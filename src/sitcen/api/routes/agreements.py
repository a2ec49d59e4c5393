"""The sharing agreements this node grants."""


from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from sitcen.api.deps import CurrentNode, Reader
from sitcen.exchange.links import list_agreements

router = APIRouter(prefix="/agreements", tags=["federation"])


class AgreementPublic(BaseModel):
    """An agreement as signed (the document) and as understood (the parsed terms)."""

    id: str
    version: int
    document: str
    terms: dict[str, Any]


@router.get("", response_model=list[AgreementPublic])
def read_agreements(node: CurrentNode, _user: Reader) -> list[AgreementPublic]:
    """Every agreement this node grants, with its document and parsed terms."""
    return [AgreementPublic(id=a.id, version=a.version, document=a.document,
                            terms=a.agreement.model_dump(mode="json"))
            for a in list_agreements(node.engine)]
