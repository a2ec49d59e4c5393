"""Report drafts: generate a product from the node's data, add commentary, preview, issue."""


from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader, ReportIssuer
from sitcen.api.records import found_record
from sitcen.api.routes.reports import document_response, facts_of, refusal, summary
from sitcen.errors import VersionConflictError
from sitcen.events import NO_NUL
from sitcen.node import Node
from sitcen.reports.library import ReportError, edit_draft, issue_draft, library, make_draft
from sitcen.reports.render import render
from sitcen.reports.templates import Product
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord
from sitcen.times import WorkDay

router = APIRouter(prefix="/report-drafts", tags=["reports"])

Format = Annotated[str, Path(pattern="^(html|pdf|docx)$", description="html, pdf or docx")]


class DraftCreate(BaseModel):
    """What to generate: the product, the day its period covers, template, language, area."""

    model_config = ConfigDict(extra="forbid")

    product: Product
    day: WorkDay | None = Field(None, description="a day of the period (default: yesterday for "
                                              "daily, today otherwise; tactical: first day)")
    template_id: str | None = Field(None, max_length=64)
    language: str | None = Field(None, max_length=8, description="a catalogue language")
    area: list[Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z]{2}-(\d{3}|\*)$")]] = Field(
        default_factory=list, max_length=100,
        description="tactical: the sections (or borders, AF-TJ-*) of the area")
    days: int = Field(7, ge=1, le=90, description="tactical: days ahead")


class DraftEdit(BaseModel):
    """Commentary per block, and rewritten generated texts, by block number."""

    model_config = ConfigDict(extra="forbid")

    commentary: dict[int, Annotated[str, Field(max_length=20_000, pattern=NO_NUL)]] = Field(
        default_factory=dict)
    texts: dict[int, Annotated[str, Field(max_length=20_000, pattern=NO_NUL)]] = Field(
        default_factory=dict)
    base_version: StrictInt | None = Field(None, ge=1, description="409 when no longer current")


class IssueRequest(BaseModel):
    """Issue the draft as it stands (``base_version``: the version the officer read)."""

    model_config = ConfigDict(extra="forbid")

    base_version: StrictInt | None = Field(None, ge=1)


class DraftPublic(BaseModel):
    """A draft with its generated content."""

    model_config = ConfigDict(extra="allow")

    id: str
    version: int
    recorded_at: str
    product: str
    status: str
    title: str
    language: str
    period: dict[str, Any]
    template_id: str
    created_by: str
    edited_by: str
    issued_report_id: str | None
    content: dict[str, Any]


class DraftList(BaseModel):
    """This node's drafts, newest first (without their content)."""

    drafts: list[dict[str, Any]]


def _public(record: StoredRecord, *, content: bool = True) -> dict[str, Any]:
    body = dict(record.body)
    if not content:
        body.pop("content", None)
    return {"id": record.id, "version": record.version,
            "recorded_at": record.to_dict()["recorded_at"], **body}


def _draft(node: Node, draft_id: str) -> StoredRecord:
    return found_record(node, RecordKind.report_draft, draft_id, "draft")


@router.get("", response_model=DraftList)
def read_report_drafts(node: CurrentNode, _user: ReportIssuer) -> dict[str, Any]:
    """This node's report drafts, newest first."""
    return {"drafts": [_public(r, content=False)
                       for r in library(node.engine, kind=RecordKind.report_draft)]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DraftPublic)
async def create_report_draft(item: DraftCreate, node: CurrentNode,
                              user: ReportIssuer) -> dict[str, Any]:
    """Generate a product from the node's own data as a draft (figures, map, charts, text)."""
    today = datetime.now(UTC).date()
    day = item.day or (today - timedelta(days=1) if item.product == "daily" else today)
    try:
        record = await run_in_threadpool(
            lambda: make_draft(node.engine, facts_of(node), product=item.product, day=day,
                               by=user.username, template_id=item.template_id,
                               language=item.language, area=list(item.area), days=item.days))
    except ReportError as exc:
        raise refusal(exc) from None
    return _public(record)


@router.get("/{draft_id}", response_model=DraftPublic)
def read_report_draft(draft_id: str, node: CurrentNode, _user: ReportIssuer) -> dict[str, Any]:
    """One draft with its content."""
    return _public(_draft(node, draft_id))


@router.patch("/{draft_id}", response_model=DraftPublic)
def update_report_draft(draft_id: str, item: DraftEdit, node: CurrentNode,
                        user: ReportIssuer) -> dict[str, Any]:
    """Add or edit commentary and generated text before issue (a new version of the draft)."""
    _draft(node, draft_id)
    try:
        record = edit_draft(node.engine, node.settings.node_id, draft_id, by=user.username,
                            commentary=item.commentary, texts=item.texts,
                            base_version=item.base_version)
    except ReportError as exc:
        raise refusal(exc) from None
    except VersionConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            [{"loc": ["body", "base_version"], "msg": str(exc),
                              "type": "conflict"}]) from None
    return _public(record)


@router.get("/{draft_id}/document.{fmt}")
async def read_report_draft_document(draft_id: str, fmt: Format, node: CurrentNode,
                                     _user: Reader) -> Response:
    """A draft rendered as HTML, PDF or DOCX (marked as not issued)."""
    record = _draft(node, draft_id)
    data = await run_in_threadpool(render, record.body["content"], fmt, None, None)
    return document_response(data, fmt, f"draft-{record.body['product']}.{fmt}")


@router.post("/{draft_id}/issue", status_code=status.HTTP_201_CREATED)
def create_issued_report(draft_id: str, item: IssueRequest, node: CurrentNode,
                         user: ReportIssuer) -> dict[str, Any]:
    """Issue a draft: signed by the officer, stored as a report record, shared by agreement."""
    _draft(node, draft_id)
    try:
        record = issue_draft(node.engine, facts_of(node), draft_id, user,
                             base_version=item.base_version)
    except ReportError as exc:
        raise refusal(exc) from None
    return summary(node, record)
