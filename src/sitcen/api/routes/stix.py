"""STIX 2.1 bundles from partners: import incidents as event reports; the extension schema."""


from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader, Reporting
from sitcen.errors import BadRequest, InvalidInput, error
from sitcen.interop.stix import (
    STIX_MEDIA_TYPE,
    StixError,
    StixImportReport,
    bundle,
    extension_definition,
    import_bundle,
    import_report,
    project_identity,
)

router = APIRouter(prefix="/stix", tags=["stix"])


@router.get("/extension-definition")
def read_extension_definition(_user: Reader) -> Response:
    """The border-event extension definition (and the identity that defines it) as a bundle."""
    return Response(orjson.dumps(bundle([project_identity(), extension_definition()])),
                    media_type=STIX_MEDIA_TYPE)


@router.post("/bundles", response_model=StixImportReport)
async def import_stix_bundle(
    request: Request, node: CurrentNode, _user: Reporting,
    dry_run: Annotated[bool, Query(description="check and report, write nothing")] = False,
) -> dict[str, Any]:
    """Import a partner's STIX 2.1 bundle: incidents with the border-event extension."""
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest([error(("body",), f"the body is not JSON: {exc}", "json_invalid")]
                         ) from None
    try:
        outcomes = await run_in_threadpool(import_bundle, node.engine, node.reporter, data,
                                           dry_run=dry_run)
    except StixError as exc:
        raise InvalidInput([error(("body",), f"not a STIX 2.1 bundle: {exc}", "stix")]
                           ) from None
    return import_report(outcomes, dry_run=dry_run).to_dict()
