"""Joint operations: the plan, deployed resources, daily reports, the merged day, evaluation."""


import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from sitcen.api.deps import BaseVersion, Coordinator, CurrentNode, Reader, Reporting
from sitcen.events import NO_NUL
from sitcen.operations.attachments import attachments_of, public_attachment
from sitcen.operations.joint import (
    OperationCreate,
    ReportCreate,
    draft_counts,
    evaluate,
    get_operation,
    list_operations,
    merge_day,
    merge_reports,
    operation_status,
    record_evaluation,
    reports_of,
    save_operation,
    submit_report,
)
from sitcen.operations.threads import thread_of
from sitcen.store.records import StoredRecord
from sitcen.times import WorkDay

router = APIRouter(prefix="/operations", tags=["operations"])


class MergeCreate(BaseModel):
    """The day whose participants' reports the coordinating centre merges."""

    model_config = ConfigDict(extra="forbid")

    day: WorkDay


class EvaluationCreate(BaseModel):
    """The coordinating centre's remarks with the end-of-operation evaluation."""

    model_config = ConfigDict(extra="forbid")

    remarks: str = Field("", max_length=8000, pattern=NO_NUL)


def _found(operation_id: uuid.UUID, engine: Any) -> StoredRecord:
    return get_operation(engine, str(operation_id))


def _public(record: StoredRecord) -> dict[str, Any]:
    item = record.to_dict()
    item["status"] = operation_status(record.body, datetime.now(UTC))
    return item


@router.get("")
def read_operations(node: CurrentNode, _user: Reader) -> list[dict[str, Any]]:
    """Every joint operation this node holds (coordinated here or received), latest first"""
    return list_operations(node.engine, datetime.now(UTC))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_operation(item: OperationCreate, node: CurrentNode,
                     user: Coordinator) -> dict[str, Any]:
    """Plan a joint operation coordinated by this node: area, period, participants, resources"""
    record = save_operation(node.engine, node.settings.node_id, item, by=user.username,
                            known_sections=(s.id for s in node.sections.sections))
    return _public(record)


@router.get("/{operation_id}")
def read_operation(operation_id: uuid.UUID, node: CurrentNode,
                   _user: Reader) -> dict[str, Any]:
    """One joint operation with its daily reports, attached plan documents and thread"""
    operation = _found(operation_id, node.engine)
    item = _public(operation)
    item["reports"] = [r.to_dict() for r in reports_of(node.engine, operation.id)]
    item["attachments"] = [dict(public_attachment(a))
                           for a in attachments_of(node.engine, operation.id)]
    item["thread"] = [m.to_dict() for m in thread_of(node.engine, operation.id)]
    return item


@router.put("/{operation_id}")
def update_operation(operation_id: uuid.UUID, item: OperationCreate, node: CurrentNode,
                     user: Coordinator,
                     base_version: BaseVersion = None) -> dict[str, Any]:
    """Change a joint operation this node coordinates (a new version of its plan)"""
    _found(operation_id, node.engine)
    record = save_operation(node.engine, node.settings.node_id, item, by=user.username,
                            known_sections=(s.id for s in node.sections.sections),
                            record_id=str(operation_id), base_version=base_version)
    return _public(record)


@router.post("/{operation_id}/reports", status_code=status.HTTP_201_CREATED)
def create_operation_report(operation_id: uuid.UUID, item: ReportCreate, node: CurrentNode,
                            user: Reporting) -> dict[str, Any]:
    """This participant's daily report: counts, incidents, resources used, remarks"""
    _found(operation_id, node.engine)
    return submit_report(node.engine, node.settings.node_id, str(operation_id), item,
                         by=user.username).to_dict()


@router.get("/{operation_id}/reports")
def read_operation_reports(operation_id: uuid.UUID, node: CurrentNode,
                           _user: Reader) -> list[dict[str, Any]]:
    """Every daily report on an operation this node holds, participants' and merged"""
    _found(operation_id, node.engine)
    return [r.to_dict() for r in reports_of(node.engine, str(operation_id))]


@router.get("/{operation_id}/reports/draft")
def read_report_draft(operation_id: uuid.UUID, day: WorkDay, node: CurrentNode,
                      _user: Reader) -> dict[str, Any]:
    """Counts and incidents this node's own events give for a day, to start its report"""
    operation = _found(operation_id, node.engine)
    return draft_counts(node.engine, node.settings.node_id, operation.body, day)


@router.get("/{operation_id}/merged")
def read_merged_report(operation_id: uuid.UUID, day: WorkDay, node: CurrentNode,
                       _user: Reader) -> dict[str, Any]:
    """A day's reports merged as they stand now, and the merged report kept, if any"""
    operation = _found(operation_id, node.engine)
    reports = reports_of(node.engine, operation.id)
    kept = [r.to_dict() for r in reports
            if r.body.get("scope") == "merged" and r.body.get("day") == day.isoformat()]
    return {"preview": merge_reports(operation.body, reports, day.isoformat()),
            "kept": kept[0] if kept else None}


@router.post("/{operation_id}/merged", status_code=status.HTTP_201_CREATED)
def create_merged_report(operation_id: uuid.UUID, item: MergeCreate, node: CurrentNode,
                         user: Coordinator) -> dict[str, Any]:
    """Merge a day's participants' reports into the coordinating node's report of the day"""
    _found(operation_id, node.engine)
    return merge_day(node.engine, node.settings.node_id, str(operation_id), item.day,
                     by=user.username).to_dict()


@router.get("/{operation_id}/evaluation")
def read_evaluation(operation_id: uuid.UUID, node: CurrentNode,
                    _user: Reader) -> dict[str, Any]:
    """Results so far against the objectives (or the evaluation kept at the end)"""
    operation = _found(operation_id, node.engine)
    kept = operation.body.get("evaluation")
    return {"kept": kept, "current": evaluate(operation.body,
                                              reports_of(node.engine, operation.id))}


@router.post("/{operation_id}/evaluation", status_code=status.HTTP_201_CREATED)
def create_evaluation(operation_id: uuid.UUID, item: EvaluationCreate, node: CurrentNode,
                      user: Coordinator) -> dict[str, Any]:
    """Close an ended operation with its evaluation against the objectives"""
    _found(operation_id, node.engine)
    return _public(record_evaluation(node.engine, node.settings.node_id, str(operation_id),
                                     remarks=item.remarks, by=user.username,
                                     now=datetime.now(UTC)))
