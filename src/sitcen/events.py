"""Event reports: the request and response models and the rules a report must obey.

Structural rules (types, ranges, enumerations) are pydantic's; rules that need
the clock, the taxonomy's per-type attribute lists or the node's identity live
in :func:`check_report` and :func:`check_update`, which return errors in the
same shape as pydantic's (:func:`sitcen.errors.error`) so that every 422 reads
alike. No database, no HTTP.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    model_serializer,
)

from sitcen.errors import NotOwnerError, error
from sitcen.taxonomy import (
    EVENT_TYPES,
    STATUS_TRANSITIONS,
    UNITS_FOR,
    AgeGroup,
    AircraftKind,
    Category,
    Detection,
    Direction,
    DocumentFraud,
    DocumentKind,
    ExciseGoods,
    Handling,
    Hazard,
    ImpactLevel,
    ModusOperandi,
    Reaction,
    Sex,
    SourceReliability,
    Stage,
    Status,
    SubjectRole,
    Substance,
    Transport,
    Unit,
    VehicleKind,
    WeaponKind,
)
from sitcen.times import BirthDay, UtcDatetime

# ISO 3166-1 alpha-2 codes, plus XX for "unknown" and XS for "stateless".
COUNTRY_CODES: frozenset[str] = frozenset(
    {c.alpha_2 for c in pycountry.countries} | {"XX", "XS"}
)

EventTypeId = StrEnum("EventTypeId", {t: t for t in EVENT_TYPES})  # type: ignore[misc]

MAX_BATCH = 10_000


def _known_country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError(f"unknown country code {code!r}; use ISO 3166-1 alpha-2, XX if unknown")
    return code


# Text without NUL characters: PostgreSQL text cannot hold them, and no human
# writes them. Checked in Rust by pydantic, so it costs nothing on ingest.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

CountryCode = Annotated[
    str,
    Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$", examples=["TJ"]),
    AfterValidator(_known_country),
]


class Strict(BaseModel):
    """Base of every input model: unknown fields are errors, not silently dropped."""

    # Validated enumerations are kept as their plain string values: comparisons
    # with the StrEnum members still hold, and serialising stays in Rust (an
    # enum member costs a Python attribute lookup per field on the ingest path).
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Location(Strict):
    """A WGS84 point with an optional precision."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="longitude, degrees")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="latitude, degrees")
    precision_m: float | None = Field(
        None, ge=0, le=100_000, allow_inf_nan=False, description="radius of uncertainty, metres"
    )


class Confidence(Strict):
    """6x6 grading: reliability of the source (A-F) and credibility of the information (1-6)."""

    source_reliability: SourceReliability = SourceReliability.F
    information_credibility: int = Field(6, ge=1, le=6)


class PersonCount(Strict):
    """A count of persons of one nationality, sex and age group (not personal data)."""

    nationality: CountryCode
    sex: Sex = Sex.unknown
    age_group: AgeGroup = AgeGroup.unknown
    count: int = Field(ge=1, le=100_000)


class Details(Strict):
    """Type-specific attributes; which apply depends on the event type."""

    stage: Stage | None = None
    direction: Direction | None = None
    detection: Detection | None = None
    substance: Substance | None = None
    weapon_kind: WeaponKind | None = None
    goods: ExciseGoods | None = None
    quantity: float | None = Field(None, ge=0, le=1e9, allow_inf_nan=False)
    unit: Unit | None = None
    document_kind: DocumentKind | None = None
    fraud_kind: DocumentFraud | None = None
    vehicle_kind: VehicleKind | None = None
    hazard: Hazard | None = None
    aircraft_kind: AircraftKind | None = None
    disease: Text | None = Field(None, min_length=1, max_length=200)
    cases: int | None = Field(None, ge=0, le=10_000_000)
    killed: int | None = Field(None, ge=0, le=100_000)
    injured: int | None = Field(None, ge=0, le=100_000)
    shots_fired: bool | None = None

    @model_serializer(mode="wrap")
    def _only_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Attributes that do not apply to the type are absent, not null.
        return {k: v for k, v in handler(self).items() if v is not None}


class Subject(Strict):
    """Personal data about one person: stored apart from the event, read only by need-to-know."""

    role: SubjectRole
    full_name: Text | None = Field(None, min_length=1, max_length=300)
    birth_date: BirthDay | None = None
    nationality: CountryCode | None = None
    document_kind: DocumentKind | None = None
    document_number: Text | None = Field(None, min_length=1, max_length=64)


class EventBase(Strict):
    """Fields an operator reports."""

    type: EventTypeId = Field(description="event type from the taxonomy")
    occurred_at: UtcDatetime
    location: Location
    impact_level: ImpactLevel = ImpactLevel.low
    confidence: Confidence = Field(default_factory=Confidence)
    handling: Handling = Handling.amber
    details: Details = Field(default_factory=Details)
    persons: list[PersonCount] = Field(default_factory=list, max_length=500)
    transport: Transport | None = None
    modus_operandi: list[ModusOperandi] = Field(default_factory=list, max_length=12)
    reaction: list[Reaction] = Field(default_factory=list, max_length=12)
    description: Text = Field("", max_length=8000, description="free text; no personal data")
    country: CountryCode | None = Field(
        None, description="reporting country; defaults to the node's country"
    )
    follow_up_of: uuid.UUID | None = Field(None, description="id of the first report")


class EventCreate(EventBase):
    """A new single-event report."""

    reported_at: UtcDatetime | None = Field(
        None, description="when the report was made; defaults to now (set it for imports)"
    )
    status: Status = Status.reported
    subjects: list[Subject] = Field(default_factory=list, max_length=200)


class EventUpdate(EventBase):
    """A new version of an event, sent by its origin node; replaces the reported fields."""

    status: Status
    base_version: StrictInt | None = Field(
        None, ge=1, description="the version this change was made on; 409 if it is stale"
    )


class EventBatch(Strict):
    """Up to 10,000 reports written all together or not at all."""

    events: list[EventCreate] = Field(min_length=1, max_length=MAX_BATCH)


class Author(BaseModel):
    """The person who made a version, as they were named at the time (own events only:
    it never travels to another node)."""

    username: str
    full_name: str


#: Statuses a duty officer has decided on: the content of such an event changes only
#: through a version made by someone who may change the status (docs/security.md).
DECIDED = frozenset({Status.validated, Status.closed, Status.rejected})


class SectionRef(BaseModel):
    """Where an event lies relative to the border sections."""

    section_id: str | None
    distance_km: float


class EventPublic(BaseModel):
    """An event as the API returns it.

    The node's own events have every field. Events received from other nodes
    carry only what their sharing agreement grants (id, origin, version, type,
    category, occurred_at and handling always), plus ``provenance`` (the nodes
    they came through) and ``sharing`` (the restrictions they travel with).
    """

    id: uuid.UUID
    origin: str
    version: int
    category: Category
    type: str
    occurred_at: datetime
    handling: Handling
    reported_at: datetime | None = None
    recorded_at: datetime | None = None
    location: Location | None = None
    section_id: str | None = None
    section_distance_km: float | None = None
    country: str | None = None
    impact_level: ImpactLevel | None = None
    confidence: Confidence | None = None
    status: Status | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    persons: list[PersonCount] = Field(default_factory=list)
    transport: Transport | None = None
    modus_operandi: list[ModusOperandi] = Field(default_factory=list)
    reaction: list[Reaction] = Field(default_factory=list)
    description: str = ""
    follow_up_of: uuid.UUID | None = None
    has_personal_data: bool = False
    recorded_by: Author | None = Field(
        None, description="who made this version (this node's own events only)")
    provenance: list[str] | None = None
    sharing: dict[str, Any] | None = None


def _check_common(
    item: EventBase, prefix: tuple[str | int, ...], now: datetime, skew: timedelta
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    etype = EVENT_TYPES[str(item.type)]
    if item.occurred_at > now + skew:
        errors.append(error((*prefix, "occurred_at"),
                            f"lies in the future (more than {int(skew.total_seconds())} s ahead "
                            "of the node's clock)", "future_time"))
    details = item.details
    given = {k for k in details.model_fields_set if getattr(details, k) is not None}
    for name in sorted(given):
        if name not in etype.details:
            errors.append(error((*prefix, "details", name),
                                f"does not apply to type {etype.id}", "not_applicable"))
    for name in etype.required:
        if name not in given:
            errors.append(error((*prefix, "details", name),
                                f"is required for type {etype.id}", "missing"))
    quantity, unit = item.details.quantity, item.details.unit
    if quantity is not None and unit is None:
        errors.append(error((*prefix, "details", "unit"), "a quantity needs a unit", "missing"))
    if unit is not None and quantity is None:
        errors.append(error((*prefix, "details", "quantity"), "a unit needs a quantity",
                            "missing"))
    allowed_units = UNITS_FOR.get(etype.id)
    if unit is not None and allowed_units is not None and unit not in allowed_units:
        names = ", ".join(sorted(u.value for u in allowed_units))
        errors.append(error((*prefix, "details", "unit"),
                            f"unit {unit} does not fit {etype.id}; use one of {names}",
                            "enum"))
    if item.persons and not etype.persons:
        errors.append(error((*prefix, "persons"), f"does not apply to type {etype.id}",
                            "not_applicable"))
    return errors


def check_report(
    item: EventCreate, index: int | None, now: datetime, skew: timedelta
) -> list[dict[str, Any]]:
    """Rules of a new report beyond its structure; ``index`` is its place in a batch."""
    prefix: tuple[str | int, ...] = ("body", "events", index) if index is not None else ("body",)
    errors = _check_common(item, prefix, now, skew)
    if item.reported_at is not None:
        if item.reported_at > now + skew:
            errors.append(error((*prefix, "reported_at"), "lies in the future", "future_time"))
        if item.reported_at < item.occurred_at:
            errors.append(error((*prefix, "reported_at"), "is earlier than occurred_at",
                                "order"))
    if item.status not in (Status.reported, Status.validated):
        errors.append(error((*prefix, "status"),
                            "a new report is 'reported' (or 'validated' by a duty officer)",
                            "enum"))
    return errors


def check_update(
    item: EventUpdate, current: EventPublic, node_id: str, now: datetime, skew: timedelta
) -> list[dict[str, Any]]:
    """Rules of a new version: status moves forward, the category stays.

    Only the origin changes a record: another node's event raises
    :class:`NotOwnerError` before any other rule is checked.
    """
    if current.origin != node_id:
        raise NotOwnerError(str(current.id), current.origin,
                            f"event {current.id} belongs to node {current.origin}; only its "
                            "origin may change it (react with a record of your own instead)")
    errors = _check_common(item, ("body",), now, skew)
    status = current.status or Status.reported
    if item.status not in STATUS_TRANSITIONS[status]:
        errors.append(error(("body", "status"),
                            f"cannot go from {status} to {item.status}",
                            "transition"))
    if str(item.type) != current.type and EVENT_TYPES[str(item.type)].category != current.category:
        errors.append(error(("body", "type"),
                            "a new version may refine the type within its category only; "
                            "report a new event that follows up on this one", "category_change"))
    return errors
