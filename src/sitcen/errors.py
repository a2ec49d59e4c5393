"""Why an input or a request was refused: the error family every layer raises, and its one shape.

The store, the import and the edges raise these; only ``api/main.py`` turns
them into HTTP answers, all of one shape (docs/api.md, "Errors")::

    {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}

with, where an import produced a report, the report beside it under its own
key (``{"detail": [...], "report": {...}}``). ``loc`` is a path as FastAPI
writes it (``["body", "events", 3, "occurred_at"]``, ``["query", "bbox"]``,
``["path", "event_id"]``), or ``[]`` when the request as a whole is refused.
No database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


class ErrorItem(BaseModel):
    """One reason an input was refused, shaped like FastAPI's validation errors."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every 4xx answer of the API: the reasons, each naming where and why."""

    detail: list[ErrorItem]


def error(loc: Iterable[str | int], msg: str, kind: str = "value_error") -> dict[str, Any]:
    """One error entry: where (as a path), why, and a machine-readable kind."""
    return {"loc": list(loc), "msg": msg, "type": kind}


@dataclass
class InvalidInput(Exception):
    """Input that passed parsing but breaks a rule; carries every error found (422).

    ``report`` is an import's report, answered beside the errors when there is one.
    """

    errors: list[dict[str, Any]]
    report: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in self.errors)


class NotFound(Exception):
    """The record a request names does not exist here (404).

    ``kind`` is what was looked for in the users' words ("event", "section",
    "alert"), ``id`` the identifier given. ``loc`` says where the request
    carried it (``["body", "record_id"]``); without one, the API names the path
    or query parameter whose value is ``id``.
    """

    def __init__(self, kind: str, id: str, msg: str | None = None, *,
                 loc: Iterable[str | int] = ()) -> None:
        super().__init__(msg or f"no {kind} {id}")
        self.kind = kind
        self.id = str(id)
        self.loc = list(loc)


class NotOwnerError(Exception):
    """A node tried to change a record another node owns (422, type ``not_owner``)."""

    def __init__(self, record_id: str, origin: str, msg: str | None = None) -> None:
        super().__init__(msg or f"record {record_id} belongs to node {origin}")
        self.record_id = record_id
        self.origin = origin


class VersionConflictError(Exception):
    """The version written does not follow the stored one: a concurrent or stale change (409)."""

    def __init__(self, record_id: str, stored: int | None, written: int,
                 msg: str | None = None) -> None:
        super().__init__(
            msg or f"record {record_id}: stored version {stored}, cannot write version {written}"
        )
        self.record_id = record_id
        self.stored = stored
        self.written = written


class Refused(Exception):
    """A request this user or client may not make (403 unless ``status`` says otherwise).

    For refusals that are not about one field's value: a role without the
    permission, a request from another site, a file too large (413).
    """

    def __init__(self, msg: str, *, status: int = 403, kind: str = "forbidden",
                 loc: Iterable[str | int] = ()) -> None:
        super().__init__(msg)
        self.status = status
        self.kind = kind
        self.loc = list(loc)


#: The ``type`` of an error answered for a status that carries no field errors of its own.
KIND_OF_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "version_conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "value_error",
    429: "too_many_requests",
}


def error_body(errors: Iterable[Mapping[str, Any]],
               **beside: Any) -> dict[str, Any]:
    """The one shape of a refusal: ``{"detail": [...]}`` and, e.g., ``report=`` beside it."""
    detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in errors]
    return {"detail": detail, **{k: v for k, v in beside.items() if v is not None}}


def refusal(status: int, msg: str, loc: Iterable[str | int] = (),
            kind: str | None = None) -> dict[str, Any]:
    """The body of a refusal that has one reason (a 401, 403, 404, 409, ...)."""
    return error_body([error(loc, msg, kind or KIND_OF_STATUS.get(status, "error"))])
