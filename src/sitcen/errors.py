"""Why an input or a request was refused: the error family every layer raises, and its one shape.

It also holds the one report of an import (:class:`ImportReport`), whose
problems (:class:`ImportProblem`) name a row, a column, the value found and
the reason, for events, capacity inventories, indicators and STIX bundles alike.

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
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field, computed_field


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


class FieldError(ValueError):
    """A request refused for a reason its sender can fix; ``field`` names the input at fault.

    The domain layers raise subclasses of it; a router answers it as a 422 whose ``loc``
    ends with ``field``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class InvalidInput(Exception):
    """Input that passed parsing but breaks a rule; carries every error found (422).

    ``report`` is an import's report, answered beside the errors when there is one.
    """

    status: ClassVar[int] = 422

    errors: list[dict[str, Any]]
    report: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in self.errors)


class BadRequest(InvalidInput):
    """Input refused with 400 rather than 422, where a standard or the transport asks for it.

    OGC API Features answers a bad query parameter with 400; a body that is
    not even JSON is a bad request too.
    """

    status: ClassVar[int] = 400


class RecordRefusal(Exception):
    """A request refused because of the record it names: answered with ``status`` and ``kind``.

    ``record_id`` is the id as the request gave it; the API names the path
    parameter that carried it in ``loc`` (``[]`` when none did), unless ``loc``
    says where the request carried it (``["body", "record_id"]``, ``["query",
    "record_id"]``).
    """

    status: ClassVar[int]
    kind: ClassVar[str]

    def __init__(self, record_id: str, msg: str, *,
                 loc: Iterable[str | int] | None = None) -> None:
        super().__init__(msg)
        self.record_id = str(record_id)
        self.loc = None if loc is None else list(loc)


class NotFound(RecordRefusal):
    """The record a request names does not exist here (404).

    ``what`` is what was looked for in the users' words ("event", "section",
    "alert"), ``record_id`` the identifier given.
    """

    status = 404
    kind = "not_found"

    def __init__(self, what: str, record_id: str, msg: str | None = None, *,
                 loc: Iterable[str | int] | None = None) -> None:
        super().__init__(record_id, msg or f"no {what} {record_id}", loc=loc)
        self.what = what


class NotOwnerError(RecordRefusal):
    """A node tried to change a record another node owns (422, type ``not_owner``)."""

    status = 422
    kind = "not_owner"

    def __init__(self, record_id: str, origin: str, msg: str | None = None) -> None:
        super().__init__(record_id, msg or f"record {record_id} belongs to node {origin}; only "
                         "its origin may change it")
        self.origin = origin


class VersionConflictError(RecordRefusal):
    """The version written does not follow the stored one: a concurrent or stale change (409)."""

    status = 409
    kind = "version_conflict"

    def __init__(self, record_id: str, stored: int | None, written: int,
                 msg: str | None = None) -> None:
        super().__init__(record_id, msg or f"record {record_id}: stored version {stored}, "
                         f"cannot write version {written}")
        self.stored = stored
        self.written = written


class Refused(Exception):
    """A request this user or client may not make (403 unless ``status`` says otherwise).

    For refusals that are not about one field's value: no or a bad token
    (401, with the ``WWW-Authenticate`` challenge in ``headers``), a role
    without the permission, a request from another site, a file too large
    (413), a batch a linked node may not send. ``kind`` is the error's ``type``.
    """

    def __init__(self, msg: str, *, status: int = 403, kind: str | None = None,
                 loc: Iterable[str | int] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.kind = kind or KIND_OF_STATUS.get(status, "refused")
        self.loc = list(loc)
        self.headers = dict(headers) if headers else None


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


# --- the report of an import ------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """Why one cell, row or object of an imported file was not accepted.

    ``row`` is the line as a text editor or a spreadsheet counts it (the
    header is row 1; for a STIX bundle, the object's place in it); ``column``
    the column concerned ("" when the whole row is); ``value`` the text found.
    """

    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.reason} (found {self.value!r})"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form in a report."""
        return asdict(self)


class ImportReport(BaseModel):
    """What an import found and did: the base of every import's report (and its API model).

    Each kind of import adds its own counts (events valid and imported,
    inventories written, objects skipped). A report keeps the first
    :attr:`MAX_PROBLEMS` problems and counts them all.
    """

    MAX_PROBLEMS: ClassVar[int] = 10_000

    dry_run: bool = Field(False, description="only checked; nothing was written")
    rows: int = Field(0, description="rows (or objects) read")
    problem_count: int = Field(0, description="every problem found, also beyond those listed")
    problems: list[ImportProblem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="how the file was read")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """Whether the import found no problem."""
        return self.problem_count == 0

    def add(self, problem: ImportProblem) -> None:
        """Count a problem; keep it unless the report already lists :attr:`MAX_PROBLEMS`."""
        self.problem_count += 1
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(problem)

    def add_all(self, problems: Iterable[ImportProblem]) -> None:
        """Count and keep each of ``problems`` (:meth:`add`)."""
        for problem in problems:
            self.add(problem)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the API answers with."""
        return self.model_dump(mode="json")


ReportT = TypeVar("ReportT", bound=ImportReport)


class ImportRefusal(ErrorBody, Generic[ReportT]):
    """An import refused (422): the reason, and beside it the report naming every problem."""

    report: ReportT
