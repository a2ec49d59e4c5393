"""Issued reports: the library (own and received), one report in HTML, PDF or DOCX, withdrawal."""


from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sitcen.api.deps import CurrentNode, Reader, ReportIssuer
from sitcen.api.records import found_record
from sitcen.events import NO_NUL
from sitcen.exchange.links import list_peers
from sitcen.node import Node
from sitcen.reports.library import (
    NodeFacts,
    ReportError,
    library,
    reopen_for_correction,
    verify_report,
    withdraw_report,
)
from sitcen.reports.render import MEDIA_TYPES, render
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, record_history

router = APIRouter(prefix="/reports", tags=["reports"])

Format = Annotated[str, Path(pattern="^(html|pdf|docx)$", description="html, pdf or docx")]


class ReportSummary(BaseModel):
    """An issued report as the library lists it (without its content)."""

    model_config = ConfigDict(extra="allow")

    id: str
    origin: str
    version: int
    recorded_at: str
    product: str
    status: str
    title: str
    language: str
    period: dict[str, Any]
    handling: str
    issued_by: str | None
    signature_valid: bool | None
    withheld: list[str]


class ReportLibrary(BaseModel):
    """Issued reports this node holds, newest first."""

    reports: list[ReportSummary]


class ReportDetail(ReportSummary):
    """One issued report with its content, signature and version history."""

    content: dict[str, Any]
    signature: dict[str, Any] | None
    versions: list[dict[str, Any]]


class Withdrawal(BaseModel):
    """Why an issued report is withdrawn."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)


def facts_of(node: Node) -> NodeFacts:
    """What the report functions need to know of this node."""
    return NodeFacts.of(node)


def refusal(exc: ReportError) -> HTTPException:
    """A report error in the one error shape, at its status."""
    return HTTPException(exc.status, [{"loc": ["body", exc.field], "msg": str(exc),
                                       "type": "report"}])


def signer_key(node: Node, origin: str) -> str | None:
    """The public key a report of ``origin`` must be signed with, if this node knows it."""
    if origin == node.settings.node_id:
        return None if node.identity is None else node.identity.public_key_text
    for peer in list_peers(node.engine):
        if peer.node_id == origin:
            return peer.public_key
    return None


def signature_valid(node: Node, record: StoredRecord) -> bool | None:
    """True or False when the signer's key is known here; None when it is not."""
    key = signer_key(node, record.origin)
    if key is None:
        return None
    return verify_report(record.body, key, record_id=record.id)


def summary(node: Node, record: StoredRecord) -> dict[str, Any]:
    body = record.body
    signature = body.get("signature") or {}
    return {"id": record.id, "origin": record.origin, "version": record.version,
            "recorded_at": record.to_dict()["recorded_at"], "product": body.get("product"),
            "status": body.get("status"), "title": body.get("title", ""),
            "language": body.get("language", ""), "period": body.get("period", {}),
            "handling": body.get("handling", ""), "issued_by": signature.get("name"),
            "signature_valid": signature_valid(node, record),
            "withheld": list(body.get("withheld") or ())}


def document_response(data: bytes, fmt: str, filename: str) -> Response:
    """A rendered report or draft: HTML shown inline, PDF and DOCX as a download."""
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'"})


def _report(node: Node, report_id: str) -> StoredRecord:
    return found_record(node, RecordKind.report, report_id)


@router.get("", response_model=ReportLibrary)
def read_reports(node: CurrentNode, _user: Reader,
                 product: Annotated[str | None, Query(max_length=16)] = None) -> dict[str, Any]:
    """The reports library: issued reports of this node and those received, newest first."""
    return {"reports": [summary(node, r) for r in library(node.engine, product=product)]}


@router.get("/{report_id}", response_model=ReportDetail)
def read_report(report_id: str, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """One issued report: content, signature (checked) and every version."""
    record = _report(node, report_id)
    versions = [{"version": v["version"], "recorded_at": v["recorded_at"],
                 "status": v["body"].get("status"),
                 "signed_by": (v["body"].get("signature") or {}).get("name")}
                for v in record_history(node.engine, report_id)]
    return {**summary(node, record), "content": record.body.get("content", {}),
            "signature": record.body.get("signature"), "versions": versions}


@router.get("/{report_id}/document.{fmt}")
async def read_report_document(report_id: str, fmt: Format, node: CurrentNode,
                               _user: Reader) -> Response:
    """An issued report as HTML, PDF or DOCX, rendered from its record on this node."""
    record = _report(node, report_id)
    verified = signature_valid(node, record)
    data = await run_in_threadpool(render, record.body["content"], fmt,
                                   {**record.body, "version": record.version}, verified)
    name = f"{record.body.get('product')}-{record.body.get('period', {}).get('label', '')}"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    return document_response(data, fmt, f"{safe}-v{record.version}.{fmt}")


@router.post("/{report_id}/withdraw", response_model=ReportSummary)
def withdraw_issued_report(report_id: str, item: Withdrawal, node: CurrentNode,
                           user: ReportIssuer) -> dict[str, Any]:
    """Withdraw an issued report: a new version, and linked nodes drop their copies."""
    _report(node, report_id)
    try:
        record = withdraw_report(node.engine, facts_of(node), report_id, user, item.reason)
    except ReportError as exc:
        raise refusal(exc) from None
    return summary(node, record)


@router.post("/{report_id}/correction", status_code=status.HTTP_201_CREATED)
def create_correction(report_id: str, node: CurrentNode, user: ReportIssuer) -> dict[str, Any]:
    """Reopen an issued report's draft: issuing it again writes the report's next version."""
    _report(node, report_id)
    try:
        draft = reopen_for_correction(node.engine, node.settings.node_id, report_id,
                                      user.username)
    except ReportError as exc:
        raise refusal(exc) from None
    return {"draft_id": draft.id, "version": draft.version}
