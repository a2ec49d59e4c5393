"""Report templates: which sections and parts a centre's products show, header, logo, language."""


from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from sitcen.api.deps import CurrentNode, ReportIssuer, TemplateKeeper
from sitcen.reports.library import save_template, templates
from sitcen.reports.templates import TemplateError

router = APIRouter(prefix="/report-templates", tags=["reports"])

MAX_TEMPLATE_BYTES = 600_000


@router.get("")
def read_report_templates(node: CurrentNode, _user: ReportIssuer) -> dict[str, Any]:
    """The node's report templates."""
    return {"templates": [t.model_dump(mode="json") | {"logo": bool(t.logo)}
                          for t in templates(node.engine).values()]}


@router.put("", status_code=status.HTTP_201_CREATED, openapi_extra={
    "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}},
                                "application/json": {"schema": {"type": "object"}}},
                    "required": True}})
async def update_report_template(request: Request, node: CurrentNode,
                                 user: TemplateKeeper) -> dict[str, Any]:
    """Add or replace a report template (YAML or JSON); errors name line, column and field."""
    raw = await request.body()
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            [{"loc": ["body"], "msg": f"a template is at most "
                              f"{MAX_TEMPLATE_BYTES} bytes", "type": "too_large"}])
    try:
        text = raw.decode("utf-8")
        record = save_template(node.engine, node.settings.node_id, text, by=user.username,
                               source="template")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body"], "msg": "the template is not UTF-8 text",
                              "type": "encoding"}]) from None
    except TemplateError as exc:
        detail = [{"loc": ["body", *str(e["field"]).split(".")],
                   "msg": f"line {e['line']}, column {e['column']}: {e['msg']}",
                   "type": e["type"]}
                  for e in exc.errors] or [{"loc": ["body"], "msg": str(exc),
                                            "type": "template"}]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    return {"id": record.subject, "version": record.version}
