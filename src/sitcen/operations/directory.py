"""The directory: agencies, their units, 24/7 points of contact and border liaison office pairs.

An agency (border guard, customs, police, drug control, migration, army or
border troops, an international partner) and each of its units is an
``organisation`` record, listed by the node it belongs to; a point of contact
is a ``contact_point`` record of an organisation. Both are records of the
node that enters them and travel under agreements like any record. A
contact's name and personal phones sit in its ``personal`` block, which the
sharing function lets leave only where personal data is granted in full,
and which the API shows only to roles with need-to-know; the duty desk's
phones, radio callsign, languages and hours always travel with the record.

A border liaison office (BLO) names its counterpart across the border; two
offices naming each other are a confirmed pair. Knows no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from enum import StrEnum
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sitcen.errors import InvalidInput, NotFound, error
from sitcen.events import NO_NUL, CountryCode, Location
from sitcen.exchange.sharing import PERSONAL_BLOCK
from sitcen.settings import NODE_ID_PATTERN
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, get_record, list_records, write_record
from sitcen.taxonomy import Handling
from sitcen.times import ZoneName, zone


class AgencyType(StrEnum):
    """What an agency does (the types the five countries and their partners have)."""

    border_guard = "border_guard"
    customs = "customs"
    police = "police"
    drug_control = "drug_control"
    migration = "migration"
    army = "army"  # army or border troops
    international_partner = "international_partner"


class UnitKind(StrEnum):
    """What a unit of an agency is."""

    headquarters = "headquarters"
    situation_centre = "situation_centre"
    regional_office = "regional_office"
    border_post = "border_post"
    crossing_point = "crossing_point"
    border_liaison_office = "border_liaison_office"
    mobile_unit = "mobile_unit"
    other = "other"


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


_Strict = ConfigDict(extra="forbid", use_enum_values=True)
_PHONE = r"^\+?[0-9 ()./-]{3,32}$"
#: Languages a contact may speak (ISO 639-1): the region's, the neighbours' and English.
LANGUAGES = ("ru", "kk", "ky", "tg", "tk", "uz", "en", "fa", "ps", "zh", "tr", "de", "fr")


def checked_node_id(value: str | None, name: str) -> str | None:
    """``value`` when it is a node id or None; else the error naming the field ``name``."""
    if value is not None and not NODE_ID_PATTERN.match(value):
        raise ValueError(f"{name} must be a node id: 2-63 lowercase letters, digits or '-'")
    return value


class Counterpart(BaseModel):
    """The office across the border a border liaison office works with."""

    model_config = _Strict

    organisation_id: UUID | None = Field(
        None, description="the counterpart's organisation record, when this node holds it")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    country: CountryCode


class OrganisationBase(BaseModel):
    """An agency (no ``parent_id``) or one of its units."""

    model_config = _Strict

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL,
                      examples=["Border Service of the State Committee for National Security"])
    name_local: str = Field("", max_length=200, pattern=NO_NUL,
                            description="the name in Russian or the national language")
    short_name: str = Field("", max_length=40, pattern=NO_NUL, examples=["PS GKNB"])
    agency_type: AgencyType
    unit_kind: UnitKind | None = Field(None, description="set for a unit; none for an agency")
    parent_id: UUID | None = Field(None, description="the agency (or unit) this unit belongs to")
    country: CountryCode
    node: str | None = Field(None, description="the sitcen node it belongs to (default: this)")
    location: Location | None = None
    counterpart: Counterpart | None = Field(
        None, description="for a border liaison office: its counterpart across the border")
    notes: str = Field("", max_length=2000, pattern=NO_NUL)
    handling: Handling = Handling.green

    @field_validator("node")
    @classmethod
    def _node_id(cls, value: str | None) -> str | None:
        return checked_node_id(value, "node")


class OrganisationCreate(OrganisationBase):
    """An agency or unit as an administrator or duty officer enters it."""


class Hours(BaseModel):
    """When a point of contact answers, in its own time zone."""

    model_config = _Strict

    always: bool = Field(True, description="24/7")
    time_zone: ZoneName = Field("Asia/Almaty", examples=["Asia/Dushanbe"])
    days: list[Weekday] = Field(default_factory=lambda: list(Weekday))
    start: str = Field("00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("24:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")


class ContactPerson(BaseModel):
    """Who answers: personal data, shared only where personal data is granted in full."""

    model_config = _Strict

    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    phones: list[str] = Field(default_factory=list, max_length=5)
    email: str = Field("", max_length=200, pattern=NO_NUL)

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: list[str]) -> list[str]:
        return _check_phones(value)


def _check_phones(value: list[str]) -> list[str]:
    for phone in value:
        if not re.match(_PHONE, phone):
            raise ValueError(f"{phone!r} is not a phone number (digits, +, spaces, ( ) . / -)")
    return value


class ContactPointBase(BaseModel):
    """A 24/7 point of contact of an organisation: a duty desk, and who sits at it."""

    model_config = _Strict

    organisation_id: UUID
    role: str = Field(min_length=1, max_length=200, pattern=NO_NUL,
                      examples=["Duty officer, situation centre"])
    phones: list[str] = Field(default_factory=list, max_length=5,
                              description="the desk's phones (not personal)")
    radio_callsign: str = Field("", max_length=40, pattern=NO_NUL)
    email: str = Field("", max_length=200, pattern=NO_NUL, description="the desk's address")
    languages: list[str] = Field(default_factory=lambda: ["ru"], max_length=8)
    hours: Hours = Field(default_factory=Hours)
    person: ContactPerson | None = Field(
        None, description="who answers (personal data: leaves only under personal_data: full)")
    handling: Handling = Handling.green

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: list[str]) -> list[str]:
        return _check_phones(value)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r}; use one of {', '.join(LANGUAGES)}")
        return value


class ContactPointCreate(ContactPointBase):
    """A point of contact as entered."""


def _write(engine: sa.Engine, kind: str, body: dict[str, Any], node_id: str,
           record_id: str | None, base_version: int | None) -> StoredRecord:
    if record_id is not None:
        current = get_record(engine, record_id)
        if current is None or current.kind != kind:
            what = "organisation" if kind == RecordKind.organisation else "point of contact"
            raise NotFound(what, record_id, f"no {what} {record_id} here")
    return write_record(engine, kind, body, node_id=node_id, record_id=record_id,
                        base_version=base_version)


def save_organisation(engine: sa.Engine, node_id: str, item: OrganisationCreate, *, by: str,
                      record_id: str | None = None,
                      base_version: int | None = None) -> StoredRecord:
    """Write an agency or unit (a new record, or the next version of one this node owns)."""
    body = item.model_dump(mode="json")
    body["node"] = body["node"] or node_id
    if item.parent_id is not None:
        parent = get_record(engine, str(item.parent_id))
        if parent is None or parent.kind != RecordKind.organisation:
            raise InvalidInput([error(("body", "parent_id"), "no such agency or unit here",
                                      "not_found")])
    if item.unit_kind is None and item.parent_id is not None:
        raise InvalidInput([error(("body", "unit_kind"), "a unit (with a parent) needs its "
                                  "kind", "missing")])
    if item.counterpart is not None and item.unit_kind != UnitKind.border_liaison_office:
        raise InvalidInput([error(("body", "counterpart"), "only a border liaison office "
                                  "names a counterpart", "value_error")])
    body["by"] = by
    return _write(engine, RecordKind.organisation, body, node_id, record_id, base_version)


def save_contact_point(engine: sa.Engine, node_id: str, item: ContactPointCreate, *, by: str,
                       record_id: str | None = None,
                       base_version: int | None = None) -> StoredRecord:
    """Write a point of contact of an organisation this node holds."""
    organisation = get_record(engine, str(item.organisation_id))
    if organisation is None or organisation.kind != RecordKind.organisation:
        raise InvalidInput([error(("body", "organisation_id"), "no such agency or unit here",
                                  "not_found")])
    body = item.model_dump(mode="json", exclude={"person"})
    if item.person is not None:
        body[PERSONAL_BLOCK] = item.person.model_dump(mode="json")
    body["by"] = by
    return _write(engine, RecordKind.contact_point, body, node_id, record_id, base_version)


def without_personal(body: Mapping[str, Any]) -> dict[str, Any]:
    """A body as a reader without need-to-know sees it: the personal block withheld."""
    out = dict(body)
    if PERSONAL_BLOCK in out:
        del out[PERSONAL_BLOCK]
        out["personal_withheld"] = True
    return out


def on_duty(hours: Mapping[str, Any], at: datetime) -> bool:
    """Whether a point of contact answers at ``at`` (its hours, in its own zone)."""
    if hours.get("always", True):
        return True
    try:
        local = at.astimezone(zone(str(hours.get("time_zone", "UTC"))))
    except ValueError:
        return False
    day = list(Weekday)[local.weekday()].value
    if day not in hours.get("days", []):
        return False
    start = time.fromisoformat(str(hours.get("start", "00:00")))
    end_text = str(hours.get("end", "24:00"))
    now = local.time()
    return now >= start and (end_text == "24:00" or now < time.fromisoformat(end_text))


def _public(record: StoredRecord, personal: bool) -> dict[str, Any]:
    data = record.to_dict()
    data["body"] = record.body if personal else without_personal(record.body)
    return data


def _matches(text: str, query: str) -> bool:
    return query.casefold() in text.casefold()


def _haystack(body: Mapping[str, Any], personal: bool) -> str:
    parts: list[str] = []
    for key in ("name", "name_local", "short_name", "country", "node", "agency_type",
                "unit_kind", "role", "radio_callsign", "email", "notes"):
        value = body.get(key)
        if isinstance(value, str):
            parts.append(value)
    parts += [str(p) for p in body.get("phones") or []]
    counterpart = body.get("counterpart")
    if isinstance(counterpart, Mapping):
        parts.append(str(counterpart.get("name", "")))
    person = body.get(PERSONAL_BLOCK)
    if personal and isinstance(person, Mapping):
        parts += [str(person.get("name", "")), *map(str, person.get("phones") or [])]
    return "\x1f".join(parts)


def directory(engine: sa.Engine, *, query: str = "", agency_type: str | None = None,
              country: str | None = None, node: str | None = None, personal: bool = False,
              at: datetime) -> list[dict[str, Any]]:
    """Organisations this node holds (own and received), each with its points of contact.

    ``query`` matches names, short names, roles, phones, callsigns, countries
    and nodes (and contact names for readers with need-to-know) of an
    organisation or any of its contacts; an organisation matches also when
    its parent does, so searching an agency lists its units.
    """
    organisations = list_records(engine, RecordKind.organisation, limit=100_000)
    contacts = list_records(engine, RecordKind.contact_point, limit=100_000)
    by_org: dict[str, list[StoredRecord]] = {}
    for contact in contacts:
        by_org.setdefault(str(contact.body.get("organisation_id")), []).append(contact)
    by_id = {o.id: o for o in organisations}

    def hit(org: StoredRecord, depth: int = 0) -> bool:
        if _matches(_haystack(org.body, personal), query) or any(
                _matches(_haystack(c.body, personal), query) for c in by_org.get(org.id, [])):
            return True
        parent = by_id.get(str(org.body.get("parent_id")))
        return parent is not None and depth < 8 and hit(parent, depth + 1)

    found = []
    for org in organisations:
        body = org.body
        if agency_type and body.get("agency_type") != agency_type:
            continue
        if country and body.get("country") != country:
            continue
        if node and body.get("node") != node:
            continue
        if query and not hit(org):
            continue
        item = _public(org, personal)
        item["contacts"] = [{**_public(c, personal),
                             "on_duty": on_duty(c.body.get("hours") or {}, at)}
                            for c in sorted(by_org.get(org.id, []), key=lambda c: c.recorded_at)]
        parent = by_id.get(str(body.get("parent_id")))
        item["parent_name"] = parent.body.get("name") if parent else None
        found.append(item)
    found.sort(key=lambda o: (o["body"].get("country", ""), o["body"].get("parent_id") is not None,
                              str(o["body"].get("name", "")).casefold()))
    return found


def liaison_pairs(organisations: Iterable[StoredRecord]) -> list[dict[str, Any]]:
    """Border liaison office pairs across each border, from the offices' counterparts.

    A pair is ``confirmed`` when both offices name each other, ``declared``
    when one names the other (which may not be on sitcen or not known here).
    """
    offices = [o for o in organisations
               if o.body.get("unit_kind") == UnitKind.border_liaison_office]
    by_id = {o.id: o for o in offices}
    pairs: dict[tuple[str, ...], dict[str, Any]] = {}
    paired: set[str] = set()
    # Offices naming a counterpart this node holds first, so that the other side of a
    # pair does not also appear as a pair of its own with a counterpart known by name.
    ordered = sorted(offices, key=lambda o: str((o.body.get("counterpart") or {})
                                                .get("organisation_id")) not in by_id)
    for office in ordered:
        counterpart = office.body.get("counterpart")
        if not isinstance(counterpart, Mapping):
            continue
        other = by_id.get(str(counterpart.get("organisation_id")))
        if other is None and office.id in paired:
            continue
        countries = sorted({str(office.body.get("country")), str(counterpart.get("country"))})
        key = tuple(sorted([office.id, other.id])) if other else (office.id, "")
        if key in pairs:
            continue
        paired.update(k for k in key if k)
        mutual = other is not None and isinstance(other.body.get("counterpart"), Mapping) and \
            str(other.body["counterpart"].get("organisation_id")) == office.id
        pairs[key] = {
            "border": "-".join(countries),
            "status": "confirmed" if mutual else "declared",
            "offices": [
                {"id": office.id, "name": office.body.get("name"),
                 "country": office.body.get("country"), "node": office.body.get("node")},
                {"id": other.id if other else None,
                 "name": other.body.get("name") if other else counterpart.get("name"),
                 "country": counterpart.get("country"),
                 "node": other.body.get("node") if other else None},
            ],
        }
    return sorted(pairs.values(), key=lambda p: (p["border"], str(p["offices"][0]["name"])))


def organisation_node(engine: sa.Engine, organisation_id: str) -> tuple[str, dict[str, Any]]:
    """The node an organisation belongs to, and its body (:class:`NotFound` if not held)."""
    record = get_record(engine, organisation_id)
    if record is None or record.kind != RecordKind.organisation:
        raise NotFound("organisation", organisation_id)
    return str(record.body.get("node") or record.origin), record.body
