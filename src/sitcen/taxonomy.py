"""The event taxonomy: categories, types, their attributes and every enumeration.

Aligned with the EUROSUR events layer (unauthorised border crossings,
cross-border crime, crisis situations, other events) and with what Central
Asian border services actually meet. This module holds codes only; the
human-readable labels live in the translation catalogues (``sitcen/locales``)
so that adding a language never touches code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sitcen import indicator_list


class Category(StrEnum):
    """EUROSUR event categories."""

    unauthorised_crossing = "unauthorised_crossing"
    cross_border_crime = "cross_border_crime"
    crisis = "crisis"
    other = "other"


class ImpactLevel(StrEnum):
    """Event impact level, set by the originator, re-attributable by the owner."""

    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"


class SectionImpactLevel(StrEnum):
    """Impact level of a border section (after risk analysis and VA)."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Handling(StrEnum):
    """Traffic Light Protocol 2.0 labels, least to most restricted."""

    clear = "CLEAR"
    green = "GREEN"
    amber = "AMBER"
    amber_strict = "AMBER+STRICT"
    red = "RED"


class Status(StrEnum):
    """Life cycle of an event report."""

    reported = "reported"
    validated = "validated"
    closed = "closed"
    rejected = "rejected"


# Which status may follow which. Closed and rejected are final: a report that
# turns out to matter again is reported anew and links to the old one.
STATUS_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.reported: frozenset({Status.reported, Status.validated, Status.closed, Status.rejected}),
    Status.validated: frozenset({Status.validated, Status.closed, Status.rejected}),
    Status.closed: frozenset({Status.closed}),
    Status.rejected: frozenset({Status.rejected}),
}


class SourceReliability(StrEnum):
    """Admiralty grading of the source: A completely reliable … F cannot be judged."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Stage(StrEnum):
    attempted = "attempted"
    actual = "actual"


class Direction(StrEnum):
    entry = "entry"
    exit = "exit"


class Detection(StrEnum):
    """Where or how an unauthorised crossing was detected."""

    bcp_check = "bcp_check"
    surveillance = "surveillance"
    patrol = "patrol"
    inland = "inland"
    other = "other"


class Sex(StrEnum):
    male = "male"
    female = "female"
    unknown = "unknown"


class AgeGroup(StrEnum):
    minor = "minor"
    adult = "adult"
    unknown = "unknown"


class Substance(StrEnum):
    heroin = "heroin"
    opium = "opium"
    hashish = "hashish"
    cannabis = "cannabis"
    methamphetamine = "methamphetamine"
    amphetamine = "amphetamine"
    cocaine = "cocaine"
    synthetic_other = "synthetic_other"
    precursor = "precursor"
    psychotropic_medicine = "psychotropic_medicine"
    other = "other"


class Unit(StrEnum):
    g = "g"
    kg = "kg"
    l = "l"  # noqa: E741 - litre is spelled "l" in every catalogue
    tablets = "tablets"
    pieces = "pieces"
    rounds = "rounds"
    packs = "packs"


class WeaponKind(StrEnum):
    firearm = "firearm"
    ammunition = "ammunition"
    explosive = "explosive"
    cold_weapon = "cold_weapon"
    other = "other"


class ExciseGoods(StrEnum):
    tobacco = "tobacco"
    alcohol = "alcohol"
    fuel = "fuel"
    other = "other"


class DocumentFraud(StrEnum):
    forged = "forged"
    counterfeit = "counterfeit"
    impostor = "impostor"
    fraudulently_obtained = "fraudulently_obtained"
    other = "other"


class DocumentKind(StrEnum):
    passport = "passport"
    id_card = "id_card"
    visa = "visa"
    residence_permit = "residence_permit"
    vehicle_document = "vehicle_document"
    other = "other"


class VehicleKind(StrEnum):
    car = "car"
    truck = "truck"
    motorcycle = "motorcycle"
    other = "other"


class Hazard(StrEnum):
    flood = "flood"
    earthquake = "earthquake"
    mudflow = "mudflow"
    landslide = "landslide"
    avalanche = "avalanche"
    wildfire = "wildfire"
    other = "other"


class AircraftKind(StrEnum):
    drone = "drone"
    aircraft = "aircraft"
    helicopter = "helicopter"
    balloon = "balloon"
    unknown = "unknown"


class Transport(StrEnum):
    """Means of transport used in the event."""

    on_foot = "on_foot"
    car = "car"
    truck = "truck"
    bus = "bus"
    train = "train"
    motorcycle = "motorcycle"
    boat = "boat"
    aircraft = "aircraft"
    drone = "drone"
    animal = "animal"
    other = "other"


class ModusOperandi(StrEnum):
    """How a crossing or a smuggling was done."""

    green_border_on_foot = "green_border_on_foot"
    river_crossing = "river_crossing"
    mountain_path = "mountain_path"
    concealment_in_vehicle = "concealment_in_vehicle"
    concealment_in_cargo = "concealment_in_cargo"
    concealment_on_body = "concealment_on_body"
    body_packing = "body_packing"
    false_documents = "false_documents"
    throw_over = "throw_over"
    drone_drop = "drone_drop"
    corruption = "corruption"
    other = "other"


class Reaction(StrEnum):
    """How the authorities reacted (every EUROSUR report says it)."""

    none_yet = "none_yet"
    monitoring = "monitoring"
    patrol_dispatched = "patrol_dispatched"
    apprehended = "apprehended"
    seized = "seized"
    turned_back = "turned_back"
    rescued = "rescued"
    handed_to_police = "handed_to_police"
    neighbour_notified = "neighbour_notified"
    investigation_opened = "investigation_opened"
    other = "other"


class SubjectRole(StrEnum):
    """Role of a person named in the personal-data part of a report."""

    suspect = "suspect"
    courier = "courier"
    victim = "victim"
    migrant = "migrant"
    witness = "witness"
    missing = "missing"
    other = "other"


@dataclass(frozen=True)
class EventType:
    """One event type: its category and the detail attributes it accepts."""

    id: str
    category: Category
    details: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    persons: bool = True


_UBC_DETAILS = ("stage", "direction", "detection")
_QUANTITY = ("quantity", "unit")

EVENT_TYPES: dict[str, EventType] = {
    t.id: t
    for t in (
        # Unauthorised border crossings
        EventType("green_border_crossing", Category.unauthorised_crossing, _UBC_DETAILS,
                  ("stage", "direction")),
        EventType("river_crossing", Category.unauthorised_crossing, _UBC_DETAILS,
                  ("stage", "direction")),
        EventType("clandestine_at_bcp", Category.unauthorised_crossing, _UBC_DETAILS,
                  ("stage", "direction")),
        # Cross-border crime
        EventType("drug_smuggling", Category.cross_border_crime,
                  ("substance", *_QUANTITY, "direction"), ("substance",)),
        EventType("weapons_smuggling", Category.cross_border_crime,
                  ("weapon_kind", *_QUANTITY, "direction"), ("weapon_kind",)),
        EventType("excise_goods_smuggling", Category.cross_border_crime,
                  ("goods", *_QUANTITY, "direction"), ("goods",)),
        EventType("migrant_smuggling", Category.cross_border_crime,
                  ("stage", "direction", "detection")),
        EventType("human_trafficking", Category.cross_border_crime, ("direction",)),
        EventType("document_fraud", Category.cross_border_crime,
                  ("document_kind", "fraud_kind", "direction"), ("document_kind", "fraud_kind")),
        EventType("stolen_vehicle", Category.cross_border_crime,
                  ("vehicle_kind", "direction"), ("vehicle_kind",)),
        # Crisis situations
        EventType("natural_disaster", Category.crisis, ("hazard", "killed", "injured"),
                  ("hazard",), persons=False),
        EventType("armed_incident", Category.crisis, ("shots_fired", "killed", "injured")),
        EventType("epidemic", Category.crisis, ("disease", "cases"), ("disease",),
                  persons=False),
        # Other events
        EventType("suspicious_person", Category.other, ("direction",)),
        EventType("suspicious_vehicle", Category.other, ("vehicle_kind", "direction")),
        EventType("suspicious_aircraft", Category.other, ("aircraft_kind", "direction"),
                  ("aircraft_kind",), persons=False),
        EventType("damaged_border_sign", Category.other, (), (), persons=False),
        EventType("lost_person", Category.other, ()),
        # Border checks and irregular stay: reported mostly as monthly indicators
        # (docs/network.md), but a single case may matter on its own.
        EventType("refusal_of_entry", Category.other, ("direction",)),
        EventType("illegal_stay", Category.other, ("direction", "detection")),
        EventType("asylum_at_border", Category.other, ("direction",)),
    )
}

# Units that make sense per thing measured; a quantity always needs a unit.
UNITS_FOR: dict[str, frozenset[Unit]] = {
    "drug_smuggling": frozenset({Unit.g, Unit.kg, Unit.l, Unit.tablets, Unit.pieces}),
    "weapons_smuggling": frozenset({Unit.pieces, Unit.rounds, Unit.kg}),
    "excise_goods_smuggling": frozenset({Unit.pieces, Unit.packs, Unit.l, Unit.kg}),
}

# Enumerations exposed by the taxonomy endpoint, keyed by the attribute that
# uses them; the catalogue key of a value is ``enum.<name>.<value>``.
ENUMS: dict[str, type[StrEnum]] = {
    "impact_level": ImpactLevel,
    "section_impact_level": SectionImpactLevel,
    "handling": Handling,
    "status": Status,
    "source_reliability": SourceReliability,
    "stage": Stage,
    "direction": Direction,
    "detection": Detection,
    "sex": Sex,
    "age_group": AgeGroup,
    "substance": Substance,
    "unit": Unit,
    "weapon_kind": WeaponKind,
    "goods": ExciseGoods,
    "fraud_kind": DocumentFraud,
    "document_kind": DocumentKind,
    "vehicle_kind": VehicleKind,
    "hazard": Hazard,
    "aircraft_kind": AircraftKind,
    "transport": Transport,
    "modus_operandi": ModusOperandi,
    "reaction": Reaction,
    "subject_role": SubjectRole,
}

# Information credibility 1 (confirmed) … 6 (cannot be judged).
CREDIBILITY_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)

HANDLING_ORDER: dict[Handling, int] = {h: i for i, h in enumerate(Handling)}
IMPACT_ORDER: dict[ImpactLevel, int] = {v: i for i, v in enumerate(ImpactLevel)}


# Attribute names the catalogues label (event body fields and details).
_ALL_FIELDS: frozenset[str] = frozenset(
    {
        "type", "category", "occurred_at", "reported_at", "location", "lon", "lat",
        "precision_m", "section_id", "country", "impact_level", "confidence",
        "source_reliability", "information_credibility", "handling", "status",
        "transport", "modus_operandi", "reaction", "description", "persons",
        "nationality", "sex", "age_group", "count", "follow_up_of", "details",
        "quantity", "unit", "stage", "direction", "detection", "substance",
        "weapon_kind", "goods", "document_kind", "fraud_kind", "vehicle_kind",
        "hazard", "killed", "injured", "shots_fired", "disease", "cases",
        "aircraft_kind", "subjects", "full_name", "birth_date", "document_number",
        "role",
    }
)


def category_of(type_id: str) -> Category:
    """The category an event type belongs to."""
    return EVENT_TYPES[type_id].category


def types_in(category: Category) -> list[str]:
    """Event types of a category, in taxonomy order."""
    return [t.id for t in EVENT_TYPES.values() if t.category == category]


def catalogue_keys() -> list[str]:
    """Every key the translation catalogues must label."""
    keys = [f"category.{c.value}" for c in Category]
    keys += [f"type.{t}" for t in EVENT_TYPES]
    keys += [f"field.{name}" for name in sorted(_ALL_FIELDS)]
    for name, enum in ENUMS.items():
        keys += [f"enum.{name}.{v.value}" for v in enum]
    keys += [f"enum.information_credibility.{g}" for g in CREDIBILITY_GRADES]
    keys += indicator_list.catalogue_keys()
    return keys
