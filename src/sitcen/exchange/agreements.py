"""Sharing agreements: what one node grants another, as a declarative document.

An agreement is written in YAML or JSON (see ``docs/sharing.md``), validated
by the pydantic model :class:`Agreement` (unknown fields are errors) and
exported as JSON Schema by :func:`agreement_schema`. :func:`load_agreement`
names the line and column of every error. What an agreement *means* for a
record is decided in one place only: :func:`sitcen.exchange.sharing.share`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sitcen.events import CountryCode, EventPublic, EventTypeId
from sitcen.geo import BBox, check_bbox
from sitcen.indicator_list import Breakdown
from sitcen.store.journal import LOCAL_KINDS, RecordKind
from sitcen.taxonomy import EVENT_TYPES, HANDLING_ORDER, Category, Handling
from sitcen.times import UtcDatetime


class AgreementError(ValueError):
    """An agreement document that cannot be used; the message names line, column and field."""

    def __init__(self, message: str, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors: list[dict[str, Any]] = list(errors)


class Direction(StrEnum):
    """Where the receiving node stands relative to the sending one."""

    up = "up"  # to a parent (regional → national centre)
    down = "down"  # to a child (national → regional centre → post)
    peer = "peer"  # to a partner: another country, a hub, another agency


#: Kinds of record an agreement never names: a node's own drafts and templates and a
#: user's own records (they never leave), the journal's epochs (bookkeeping), daily
#: aggregates (made for a link by ``delay: daily_aggregates``) and retractions (they
#: follow the kinds they withdraw).
NEVER_SHARED: frozenset[RecordKind] = frozenset(
    {*(RecordKind(k) for k in LOCAL_KINDS), RecordKind.daily_aggregate, RecordKind.journal_epoch,
     RecordKind.retraction})

#: Record kinds an agreement may name (the journal's kinds but those above); the sharing
#: function knows rules for some only.
SHARED_KINDS: tuple[RecordKind, ...] = tuple(k for k in RecordKind if k not in NEVER_SHARED)


def _shared(kind: RecordKind) -> RecordKind:
    if kind in NEVER_SHARED:
        raise ValueError(f"{kind} records are not named by an agreement; it may name "
                         f"{', '.join(SHARED_KINDS)}")
    return kind


#: A record kind an agreement may name (documented as the enumeration of those kinds).
SharedKind = Annotated[RecordKind, AfterValidator(_shared),
                       WithJsonSchema({"type": "string", "enum": list(SHARED_KINDS)})]


#: Kinds of the directory and of the cooperation workflow that a default agreement down to
#: a child grants: the child gets the directory (without personal blocks), the requests
#: addressed to it, the joint operations in its area and what belongs to them.
COOPERATION_KINDS: tuple[RecordKind, ...] = (
    RecordKind.organisation, RecordKind.contact_point, RecordKind.request_for_information,
    RecordKind.request_response, RecordKind.attachment, RecordKind.thread_message,
    RecordKind.joint_operation, RecordKind.operation_report,
)


#: Kinds a default agreement up to a parent leaves out: the operations room's own
#: notes go only where an agreement names them.
ROOM_KINDS: frozenset[RecordKind] = frozenset({RecordKind.duty_log_entry, RecordKind.handover})


class Precision(StrEnum):
    """Location precision, finest first (see ``docs/sharing.md`` for the exact definitions)."""

    exact = "exact"
    section = "section"
    region = "region"
    country = "country"


PRECISION_ORDER: dict[Precision, int] = {p: i for i, p in enumerate(Precision)}


class PersonalData(StrEnum):
    """How much about persons may travel, least first."""

    none = "none"
    counts_only = "counts_only"
    full = "full"


PERSONAL_DATA_ORDER: dict[PersonalData, int] = {p: i for i, p in enumerate(PersonalData)}

#: Event fields that always travel: without them a receiver cannot identify,
#: order, classify or date a record, nor honour its TLP label.
MANDATORY_FIELDS: tuple[str, ...] = (
    "id", "origin", "version", "type", "category", "occurred_at", "handling",
)
#: Event fields no agreement can grant: the person who made a version is this node's
#: staff record (docs/security.md), never another node's business.
LOCAL_FIELDS: tuple[str, ...] = ("recorded_by",)
#: Top-level event fields that may travel (those of :class:`sitcen.events.EventPublic`).
EVENT_FIELDS: tuple[str, ...] = tuple(f for f in EventPublic.model_fields
                                      if f not in LOCAL_FIELDS)
#: Type-specific attributes that may be granted one by one as ``details.<name>``.
DETAIL_FIELDS: tuple[str, ...] = tuple(
    sorted({name for t in EVENT_TYPES.values() for name in t.details})
)
_GRANTABLE = tuple(f for f in EVENT_FIELDS if f not in MANDATORY_FIELDS) + tuple(
    f"details.{d}" for d in DETAIL_FIELDS
)
EventField = StrEnum("EventField", {f: f for f in MANDATORY_FIELDS + _GRANTABLE})  # type: ignore[misc]

_SECTION_PATTERN = r"^[A-Z]{2}-[A-Z]{2}-(\d{3}|\*)$"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


SectionPattern = Annotated[str, Field(pattern=_SECTION_PATTERN, examples=["KG-TJ-007", "KG-TJ-*"])]


class _Strict(BaseModel):
    # Frozen: an agreement is a document; parsed once, it is shared by every pass of a sender.
    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True,
                              frozen=True)


class DelayMinutes(_Strict):
    """Single records leave no earlier than ``minutes`` after the event occurred."""

    minutes: int = Field(ge=1, le=7 * 24 * 60)


class EventScope(_Strict):
    """Which events an agreement covers: by category or type, optionally within an area.

    An event is covered when its category is listed **or** its type is listed,
    and — if any area restriction is given — it lies in the area: in one of the
    ``countries`` **or** on one of the ``sections`` **or** inside the ``bbox``
    (the area is the union of what is listed).
    """

    categories: list[Category] = Field(default_factory=list)
    types: list[EventTypeId] = Field(default_factory=list)
    countries: list[CountryCode] = Field(
        default_factory=list,
        description="reporting country, or either country of the event's border section",
    )
    sections: list[SectionPattern] = Field(
        default_factory=list, description="section ids (KG-TJ-007) or whole borders (KG-TJ-*)"
    )
    bbox: BBox | None = Field(
        None, description="min_lon, min_lat, max_lon, max_lat (WGS84 degrees, inclusive)"
    )

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: BBox | None) -> BBox | None:
        return None if value is None else check_bbox(value)

    @property
    def has_area(self) -> bool:
        """Whether any area restriction is given."""
        return bool(self.countries or self.sections or self.bbox is not None)


@functools.lru_cache(maxsize=1024)
def _allowed_fields(fields: tuple[str, ...]) -> frozenset[str]:
    # Asked for every record shared: built once per set of granted fields.
    return frozenset(MANDATORY_FIELDS) | {str(f) for f in fields}


class Agreement(_Strict):
    """What ``from_node`` grants ``to_node``. Everything not granted stays home."""

    id: str = Field(pattern=_ID_PATTERN)
    version: int = Field(1, ge=1)
    from_node: str = Field(pattern=_ID_PATTERN)
    to_node: str = Field(pattern=_ID_PATTERN)
    direction: Direction
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    purpose: str = Field("", max_length=2000)
    kinds: list[SharedKind] = Field(default_factory=list, description="record kinds that leave")
    events: EventScope = Field(default_factory=EventScope)
    fields: list[EventField] = Field(
        default_factory=list,
        description="event fields granted; " + ", ".join(MANDATORY_FIELDS) + " always travel",
    )
    location_precision: Precision = Precision.country
    personal_data: PersonalData = PersonalData.none
    handling_ceiling: Handling = Handling.green
    delay: Literal["none", "daily_aggregates"] | DelayMinutes = "none"
    onward_sharing: bool = False
    indicator_breakdowns: list[Breakdown] = Field(
        default_factory=list,
        description="the breakdowns of monthly indicator records the partner sees; values by "
                    "any other breakdown reach it summed over that breakdown (none listed: "
                    "the totals only)")

    @model_validator(mode="after")
    def _coherent(self) -> Agreement:
        if self.from_node == self.to_node:
            raise ValueError("from_node and to_node must differ")
        if (self.valid_from is not None and self.valid_until is not None
                and self.valid_until <= self.valid_from):
            raise ValueError("valid_until must come after valid_from")
        if len(set(self.indicator_breakdowns)) != len(self.indicator_breakdowns):
            raise ValueError("indicator_breakdowns names a breakdown twice")
        if RecordKind.event in self.kinds and not (self.events.categories or self.events.types):
            raise ValueError("kinds names 'event' but events lists no category or type; "
                             "name them (all four categories for everything)")
        return self

    @property
    def allowed_fields(self) -> frozenset[str]:
        """Every field name that may travel, the mandatory ones included."""
        return _allowed_fields(tuple(self.fields))

    @property
    def delay_minutes(self) -> int:
        """The delay in minutes for single records (0 when none)."""
        return self.delay.minutes if isinstance(self.delay, DelayMinutes) else 0

    @property
    def ceiling_rank(self) -> int:
        """Rank of the handling ceiling in :data:`sitcen.taxonomy.HANDLING_ORDER`."""
        return HANDLING_ORDER[Handling(self.handling_ceiling)]


def agreement_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of an agreement document."""
    schema = Agreement.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sitcen sharing agreement"
    return schema


# ---------------------------------------------------------------------------
# Loading with line numbers


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps timestamps as text, so pydantic (not YAML) judges them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_duplicates(node: yaml.Node, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            name = key.value
            if name in seen:
                raise AgreementError(
                    f"{source}: line {key.start_mark.line + 1}, column {key.start_mark.column + 1}"
                    f": {name}: given twice (first on line {seen[name]})"
                )
            seen[name] = key.start_mark.line + 1
            _check_duplicates(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicates(item, source)


def _mark_of(root: yaml.Node | None, loc: Iterable[int | str]) -> tuple[int, int] | None:
    """1-based (line, column) of the node a pydantic error location points at."""
    if root is None:
        return None
    node = root
    mark = node.start_mark
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    mark, node = key.start_mark, value
                    break
            # A key not found is a missing field or a union/validator tag: stay on the parent.
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            node = node.value[part]
            mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


def _field_name(loc: Iterable[int | str]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif "[" in part or part[:1].isupper() or part.startswith(("function-", "literal")):
            continue  # pydantic's names for union members and validators
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(document)"


_Model = TypeVar("_Model", bound=BaseModel)


def validate_document(text: str, model: type[_Model], *, source: str) -> _Model:
    """Parse a YAML or JSON document and validate it with a pydantic ``model``.

    Raises :class:`AgreementError` whose message names, for every problem,
    ``<source>: line L, column C: <field>: <reason>`` (report templates use
    this too).
    """
    root: yaml.Node | None
    data: Any
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                _check_duplicates(root, source)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        try:  # JSON that YAML refuses (rare escapes): no line marks then
            data, root = json.loads(text), None
        except ValueError:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line 1"
            problem = getattr(exc, "problem", None) or str(exc)
            context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
            if context and start is not None:
                problem += f" ({context} on line {start.line + 1})"
            raise AgreementError(f"{source}: {where}: not valid YAML or JSON: {problem}") from exc
    if not isinstance(data, dict):
        raise AgreementError(f"{source}: line 1, column 1: the document is a mapping of fields")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = []
        lines: list[str] = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            mark = _mark_of(root, loc)
            where = f"line {mark[0]}, column {mark[1]}" if mark else "line ?"
            name = _field_name(loc)
            msg = str(err["msg"])
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            lines.append(f"{source}: {where}: {name}: {msg}")
            errors.append({"line": mark[0] if mark else None,
                           "column": mark[1] if mark else None,
                           "field": name, "msg": msg, "type": err["type"]})
        raise AgreementError("\n".join(lines), errors) from None


def load_agreement(text: str, *, source: str = "<agreement>") -> Agreement:
    """Parse and validate an agreement written in YAML or JSON.

    Raises :class:`AgreementError` whose message names, for every problem,
    ``<source>: line L, column C: <field>: <reason>``.
    """
    return validate_document(text, Agreement, source=source)


# ---------------------------------------------------------------------------
# Defaults


def default_agreement(
    from_node: str,
    to_node: str,
    direction: Direction | str,
    *,
    countries: Sequence[str] = (),
    sections: Sequence[str] = (),
) -> Agreement:
    """The agreement that applies when none was written for a link.

    - ``up`` to a parent: everything (every kind but the duty log and handovers,
      every field, exact locations, full personal data, ceiling RED, no delay,
      onward sharing allowed, every indicator breakdown);
    - ``peer``: nothing (no kind) until an agreement names what travels;
    - ``down`` to a child: alerts, section impact levels, issued reports and
      events (with the actions taken on them) in the child's area (``countries``
      and/or ``sections``, required), the tasks given to the child, the directory,
      requests addressed to the child and joint operations in its area
      (:data:`COOPERATION_KINDS`), exact locations, no personal data, ceiling
      AMBER, no onward sharing.
    """
    direction = Direction(direction)
    base: dict[str, Any] = {
        "id": f"default-{direction}-{from_node}-{to_node}"[:128],
        "from_node": from_node,
        "to_node": to_node,
        "direction": direction,
        "purpose": f"default for a link {direction}",
    }
    if direction is Direction.up:
        return Agreement.model_validate({
            **base,
            "kinds": [k for k in SHARED_KINDS if k not in ROOM_KINDS],
            "events": {"categories": list(Category)},
            "fields": list(_GRANTABLE),
            "location_precision": Precision.exact,
            "personal_data": PersonalData.full,
            "handling_ceiling": Handling.red,
            "onward_sharing": True,
            "indicator_breakdowns": list(Breakdown),
        })
    if direction is Direction.down:
        if not countries and not sections:
            raise AgreementError("a default agreement down to a child needs the child's area: "
                                 "countries and/or sections")
        return Agreement.model_validate({
            **base,
            "kinds": [RecordKind.event, RecordKind.event_action, RecordKind.alert,
                      RecordKind.section_assessment, RecordKind.report, RecordKind.task,
                      *COOPERATION_KINDS],
            "events": {"categories": list(Category), "countries": list(countries),
                       "sections": list(sections)},
            "fields": [f for f in _GRANTABLE if f != "has_personal_data"],
            "location_precision": Precision.exact,
            "personal_data": PersonalData.none,
            "handling_ceiling": Handling.amber,
            "onward_sharing": False,
        })
    return Agreement.model_validate({**base, "kinds": []})
