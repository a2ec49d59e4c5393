"""Drafts, issue and the library: a product becomes a signed ``report`` record.

- A **draft** (``report_draft`` record, never leaves the node) holds the
  generated content; analysts add and edit commentary and text, each change a
  new version (``base_version`` guards against overwriting a colleague).
- **Issuing** signs the content's digest with the node's Ed25519 key on
  behalf of the logged-in officer (name, username, role, time in the signed
  statement) and writes a ``report`` record: versioned (a correction is the
  next version of the same record, signed again), journaled, streamed and
  shared under agreements (:func:`sitcen.exchange.sharing.share` withholds the
  sealed parts an agreement does not grant; the signature still verifies).
- **Withdrawing** writes a version with status ``withdrawn``: linked nodes
  that hold it receive a retraction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from sitcen.errors import FieldError
from sitcen.exchange.identity import (
    IdentityError,
    NodeIdentity,
    b64url,
    b64url_decode,
    parse_public_key,
    verify,
)
from sitcen.reports.building import ProductError, centre_for, period_for
from sitcen.reports.products import build_product
from sitcen.reports.templates import (
    ReportTemplate,
    TemplateError,
    default_template,
    load_template,
    template_from_dict,
)
from sitcen.sealing import canonical, digest
from sitcen.settings import INDICATOR_DEADLINE_DAY, INDICATOR_MEMBERS
from sitcen.store.journal import RecordKind
from sitcen.store.records import (
    StoredRecord,
    get_record,
    list_records,
    next_version,
    own_record_id,
    write_own,
)
from sitcen.store.users import StoredUser

SIGNATURE_CONTEXT = b"sitcen report signature v1\n"
MAX_COMMENTARY = 20_000


class ReportError(FieldError):
    """A refused report operation; ``field`` names what is wrong, ``status`` the HTTP answer."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(field, message)
        self.status = status


@dataclass(frozen=True)
class NodeFacts:
    """What a product needs to know about the node issuing it."""

    node_id: str
    name: str
    country: str
    sections: tuple[Any, ...]
    identity: NodeIdentity | None
    #: The network's members and deadline day (the joint annex of a hub, docs/network.md).
    indicator_members: tuple[str, ...] = INDICATOR_MEMBERS
    indicator_deadline_day: int = INDICATOR_DEADLINE_DAY

    @classmethod
    def of(cls, node: Any) -> NodeFacts:
        """The facts of an open :class:`sitcen.node.Node`, from its settings."""
        s = node.settings
        return cls(s.node_id, s.node_name, s.node_country, tuple(node.sections.sections),
                   node.identity, tuple(s.indicator_members), s.indicator_deadline_day)


# ----------------------------------------------------------------------------- signatures


def statement(content: Mapping[str, Any], *, by: str, name: str, role: str, node: str,
              signed_at: str, record_id: str, version: int) -> dict[str, Any]:
    """What an officer signs: the content's digest and who, where, when, which record version."""
    return {"digest": digest(content), "by": by, "name": name, "role": role, "node": node,
            "signed_at": signed_at, "record_id": record_id, "version": version}


def sign(content: Mapping[str, Any], identity: NodeIdentity, officer: StoredUser, *,
         record_id: str, version: int, now: datetime) -> dict[str, Any]:
    """The signature block of a report issued by ``officer`` on this node."""
    said = statement(content, by=officer.username, name=officer.full_name or officer.username,
                     role=officer.role.value, node=identity.node_id,
                     signed_at=now.astimezone(UTC).isoformat(timespec="seconds"),
                     record_id=record_id, version=version)
    value = identity.sign(SIGNATURE_CONTEXT + canonical(said))
    return {**said, "key": identity.public_key_text, "value": b64url(value)}


def verify_report(body: Mapping[str, Any], public_key: str, *, record_id: str) -> bool:
    """Whether an issued report's signature holds for this content, record and version.

    Withheld parts do not matter (their digests stand in); a changed figure,
    text or commentary, or a signature copied onto another record, does.
    """
    signature = body.get("signature")
    content = body.get("content")
    if not isinstance(signature, Mapping) or not isinstance(content, Mapping):
        return False
    try:
        said = statement(content, by=str(signature["by"]), name=str(signature["name"]),
                         role=str(signature["role"]), node=str(signature["node"]),
                         signed_at=str(signature["signed_at"]), record_id=record_id,
                         version=int(signature["version"]))
        if said["digest"] != signature.get("digest"):
            return False
        key = parse_public_key(public_key)
        raw = b64url_decode(str(signature["value"]))
    except (KeyError, TypeError, ValueError, IdentityError):
        return False
    return verify(key, SIGNATURE_CONTEXT + canonical(said), raw)


# ----------------------------------------------------------------------------- templates


def templates(engine: sa.Engine) -> dict[str, ReportTemplate]:
    """The node's report templates by id."""
    return {str(r.subject): template_from_dict(r.body["template"])
            for r in list_records(engine, RecordKind.report_template, limit=1000)
            if r.subject}


def save_template(engine: sa.Engine, node_id: str, text: str, *, by: str,
                  source: str = "<template>") -> StoredRecord:
    """Validate a template (YAML or JSON) and store it; :class:`TemplateError` if broken."""
    template = load_template(text, source=source)
    body = {"template_id": template.id, "template": template.model_dump(mode="json"),
            "text": text, "updated_by": by}
    record = next_version(engine, RecordKind.report_template,
                          own_record_id(node_id, RecordKind.report_template, template.id),
                          body, node_id)
    return write_own(engine, [record], node_id)[0]


def template_named(engine: sa.Engine, template_id: str | None, product: str,
                   language: str | None) -> ReportTemplate:
    """The named template (the default one when none is named), in ``language`` if given."""
    if template_id:
        found = templates(engine).get(template_id)
        if found is None:
            raise ReportError("template_id", f"no report template {template_id!r}", 404)
        template = found
    else:
        template = default_template(product)
    if language:
        try:
            template = template.model_validate({**template.model_dump(), "language": language})
        except ValueError as exc:
            raise ReportError("language", str(exc).splitlines()[-1]) from None
    return template


# ----------------------------------------------------------------------------- drafts


def draft_record_id(node_id: str, product: str, template_id: str, period_start: str,
                    area: str = "") -> str:
    """The id of the scheduled draft of a product, template and period (one per node)."""
    return own_record_id(node_id, RecordKind.report_draft,
                         f"{product}|{template_id}|{period_start}|{area}")


def make_draft(engine: sa.Engine, facts: NodeFacts, *, product: str, day: date,
               by: str, template_id: str | None = None, language: str | None = None,
               area: list[str] | None = None, days: int = 7,
               now: datetime | None = None, scheduled: bool = False) -> StoredRecord:
    """Generate a product from the node's data and keep it as a draft."""
    try:
        template = template_named(engine, template_id, product, language)
        centre = centre_for(template, node_id=facts.node_id, node_name=facts.name,
                            node_country=facts.country, sections=facts.sections)
        period = period_for(product, day, centre.zone, days=days)
        content = build_product(engine, product, centre=centre, period=period,
                                template=template, now=now, area=area or [],
                                members=facts.indicator_members,
                                deadline_day=facts.indicator_deadline_day)
    except ProductError as exc:
        raise ReportError(exc.field, str(exc)) from None
    except TemplateError as exc:
        raise ReportError("template_id", str(exc)) from None
    body = {"product": product, "status": "draft", "handling": str(template.handling),
            "country": centre.country, "language": template.language,
            "title": content["title"], "period": content["period"],
            "template_id": template.id, "area": area or [], "content": content,
            "created_by": by, "edited_by": by, "issued_report_id": None,
            "scheduled": scheduled, "issue_as": template.issue_as if scheduled else None}
    record_id = (draft_record_id(facts.node_id, product, template.id, content["period"]["start"],
                                 ",".join(area or []))
                 if scheduled else str(uuid.uuid4()))
    record = next_version(engine, RecordKind.report_draft, record_id, body, facts.node_id)
    return write_own(engine, [record], facts.node_id)[0]


def _own_draft(engine: sa.Engine, node_id: str, draft_id: str) -> StoredRecord:
    draft = get_record(engine, draft_id)
    if draft is None or draft.kind != RecordKind.report_draft or draft.origin != node_id:
        raise ReportError("draft_id", f"no draft {draft_id}", 404)
    return draft


def edit_draft(engine: sa.Engine, node_id: str, draft_id: str, *, by: str,
               commentary: Mapping[int, str] | None = None,
               texts: Mapping[int, str] | None = None,
               base_version: int | None = None) -> StoredRecord:
    """Add or change the commentary of blocks, or rewrite a generated text; a new version."""
    draft = _own_draft(engine, node_id, draft_id)
    if draft.body["status"] != "draft":
        raise ReportError("draft_id", "this draft was issued; make a new one to correct it")
    body = dict(draft.body)
    content = dict(body["content"])
    blocks = [dict(b) for b in content["blocks"]]
    for where, changes, key in (("commentary", commentary or {}, "commentary"),
                                ("texts", texts or {}, "text")):
        for index, value in changes.items():
            if not 0 <= index < len(blocks):
                raise ReportError(where, f"there is no block {index} (0 to {len(blocks) - 1})")
            if key == "text" and blocks[index]["kind"] != "text":
                raise ReportError(where, f"block {index} is a {blocks[index]['kind']}, "
                                         "not a text; add commentary to it instead")
            if len(value) > MAX_COMMENTARY:
                raise ReportError(where, f"at most {MAX_COMMENTARY} characters")
            blocks[index][key] = value
    content["blocks"] = blocks
    body.update(content=content, edited_by=by)
    record = next_version(engine, RecordKind.report_draft, draft_id, body, node_id,
                          base_version, draft)
    return write_own(engine, [record], node_id)[0]


def issue_draft(engine: sa.Engine, facts: NodeFacts, draft_id: str, officer: StoredUser, *,
                base_version: int | None = None, now: datetime | None = None) -> StoredRecord:
    """Sign a draft as ``officer`` and write it as a ``report`` record (or its next version)."""
    if facts.identity is None:
        raise ReportError("identity", "this node has no signing key yet: run `sitcen init`",
                          409)
    draft = _own_draft(engine, facts.node_id, draft_id)
    if base_version is not None and base_version != draft.version:
        raise ReportError("base_version", f"the draft changed meanwhile (version "
                                          f"{draft.version}); reload it", 409)
    if draft.body["status"] != "draft":
        raise ReportError("draft_id", "this draft is already issued")
    now = now or datetime.now(UTC)
    report_id = own_record_id(facts.node_id, RecordKind.report, draft_id)
    current = get_record(engine, report_id)
    version = 1 if current is None else current.version + 1
    content = draft.body["content"]
    body = {"product": draft.body["product"], "status": "issued",
            "handling": draft.body["handling"], "country": draft.body["country"],
            "language": draft.body["language"], "title": draft.body["title"],
            "period": draft.body["period"], "template_id": draft.body["template_id"],
            "content": content, "draft_id": draft_id,
            "signature": sign(content, facts.identity, officer, record_id=report_id,
                              version=version, now=now)}
    report = next_version(engine, RecordKind.report, report_id, body, facts.node_id,
                          current=current)
    closed = next_version(engine, RecordKind.report_draft, draft_id,
                          {**draft.body, "status": "issued", "issued_report_id": report_id},
                          facts.node_id, current=draft)
    written = write_own(engine, [report, closed], facts.node_id)
    return written[0]


def withdraw_report(engine: sa.Engine, facts: NodeFacts, report_id: str, officer: StoredUser,
                    reason: str) -> StoredRecord:
    """A version of an issued report marking it withdrawn (linked nodes drop their copies)."""
    current = get_record(engine, report_id)
    if current is None or current.kind != RecordKind.report:
        raise ReportError("report_id", f"no report {report_id}", 404)
    if current.origin != facts.node_id:
        raise ReportError("report_id", f"report {report_id} was issued by {current.origin}; "
                                       "only its centre may withdraw it", 403)
    if not reason.strip():
        raise ReportError("reason", "say why the report is withdrawn")
    body = {**current.body, "status": "withdrawn", "withdrawn_by": officer.username,
            "withdrawn_reason": reason.strip()}
    record = next_version(engine, RecordKind.report, report_id, body, facts.node_id,
                          current=current)
    return write_own(engine, [record], facts.node_id)[0]


def reopen_for_correction(engine: sa.Engine, node_id: str, report_id: str,
                          by: str) -> StoredRecord:
    """The report's draft opened again, so that a correction becomes its next version."""
    report = get_record(engine, report_id)
    if report is None or report.kind != RecordKind.report or report.origin != node_id:
        raise ReportError("report_id", f"no report {report_id} issued here", 404)
    draft = _own_draft(engine, node_id, str(report.body["draft_id"]))
    record = next_version(engine, RecordKind.report_draft, draft.id,
                          {**draft.body, "status": "draft", "edited_by": by,
                           "content": report.body["content"]}, node_id, current=draft)
    return write_own(engine, [record], node_id)[0]


def library(engine: sa.Engine, *, product: str | None = None,
            kind: str = RecordKind.report) -> list[StoredRecord]:
    """Issued reports (own and received) or drafts, newest first."""
    return list_records(engine, kind, subject=product, limit=500)
