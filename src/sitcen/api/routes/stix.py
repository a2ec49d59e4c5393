"""STIX 2.1 bundles from partners: import incidents as event reports; the extension schema."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.interop.stix import (
    STIX_MEDIA_TYPE,
    StixError,
    bundle,
    extension_definition,
    import_bundle,
    project_identity,
)

router = APIRouter(prefix="/stix", tags=["stix"])


class ImportReport(BaseModel):
    """What became of each object of an imported bundle."""

    dry_run: bool
    imported: int
    skipped: int
    objects: list[dict[str, Any]]


@router.get("/extension-definition")
def read_extension_definition(_user: Reader) -> Response:
    """The border-event extension definition (and the identity that defines it) as a bundle."""
    return Response(orjson.dumps(bundle([project_identity(), extension_definition()])),
                    media_type=STIX_MEDIA_TYPE)


@router.post("/bundles", response_model=ImportReport)
async def import_stix_bundle(
    request: Request, node: CurrentNode, _user: Reporting,
    dry_run: Annotated[bool, Query(description="check and report, write nothing")] = False,
) -> dict[str, Any]:
    """Import a partner's STIX 2.1 bundle: incidents with the border-event extension."""
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"the body is not JSON: {exc}") from None
    try:
        outcomes = await run_in_threadpool(import_bundle, node.engine, node.reporter, data,
                                           dry_run=dry_run)
    except StixError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"not a STIX 2.1 bundle: {exc}") from None
    done = ("would_import" if dry_run else "imported")
    return {"dry_run": dry_run,
            "imported": sum(1 for o in outcomes if o.outcome == done),
            "skipped": sum(1 for o in outcomes if o.outcome == "skipped"),
            "objects": [o.to_dict() for o in outcomes]}
