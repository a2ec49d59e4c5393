"""STIX 2.1: shared records as STIX objects, and partners' bundles as event reports.

Export takes what :func:`sitcen.exchange.sharing.share` let a partner see (a
:class:`~sitcen.exchange.sharing.SharedRecord`) and writes it as STIX 2.1:

- an **event** is an ``incident`` (what happened, with every granted field in
  the border-event extension), a ``sighting`` of it (when: ``first_seen``;
  where: ``where_sighted_refs``) and a ``location`` (the point at the precision
  the agreement granted);
- an **alert** is a ``report`` (``threat-report``) that refers to the section's
  ``location`` and to the incidents of its events;
- a **section impact level** (``section_assessment``) is a ``note`` on the
  section's ``location``.

Every object is marked with the standard TLP 2.0 ``marking-definition`` of
its handling and created by the ``identity`` of its origin node. Ids are
``uuid5`` of the origin and the record id, so exporting the same version twice
gives the same objects. Nothing here decides what may leave: it converts what
it is given. docs/stix-taxii.md explains the choices and the extension schema.

Import (:func:`import_bundle`) reads a partner's bundle, turns each
``incident`` that carries the border-event extension into an event report
written through :func:`sitcen.store.events.report_events`, and says of every
other object why it was left out.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import Field, ValidationError

from sitcen.errors import ImportProblem, ImportReport, InvalidInput
from sitcen.events import EventCreate, check_report
from sitcen.exchange.sharing import SectionInfo, SharedRecord
from sitcen.store import schema
from sitcen.store.events import Reporter, report_events
from sitcen.taxonomy import EVENT_TYPES, HANDLING_ORDER, Handling
from sitcen.times import iso, moment_or_none

SPEC_VERSION = "2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

#: Namespace of every id this node derives (uuid5); fixed for all nodes and versions.
NAMESPACE = uuid.UUID("2b5f7d0e-8c1a-5e4b-9f63-0d7a1c9e4b21")
#: When the project's shared objects (identity, extension definition) were defined.
DEFINED = "2026-01-01T00:00:00.000Z"

PROJECT_IDENTITY_ID = "identity--c7a4f0f2-5b6e-4f0a-9d59-3e8f1b2a6c10"
EXTENSION_ID = "extension-definition--0e5f1c9a-7d3b-4a8e-b2c4-6f9d8a1e3b57"

# The TLP 2.0 marking definitions as the OASIS CTI TC publishes them
# (oasis-open/cti-stix-common-objects, extension-definitions/tlp-2.0): fixed ids,
# recognised by id.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_MARKINGS: dict[Handling, str] = {
    Handling.clear: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Handling.green: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Handling.amber: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Handling.amber_strict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Handling.red: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 markings of STIX 2.1 itself, read on import (WHITE is CLEAR).
TLP1_MARKINGS: dict[str, Handling] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Handling.clear,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Handling.green,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Handling.amber,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Handling.red,
}
_MARKING_HANDLING = {v: k for k, v in TLP2_MARKINGS.items()} | TLP1_MARKINGS

# STIX 2.1 Appendix A, "Admiralty Credibility": information credibility 1-5
# to confidence; 6 ("cannot be judged") states none.
CREDIBILITY_CONFIDENCE = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10}

#: Event fields the extension carries (those a share() result may hold).
EVENT_PROPERTIES: tuple[str, ...] = (
    "id", "origin", "version", "type", "category", "occurred_at", "reported_at", "status",
    "section_id", "country", "impact_level", "handling", "transport", "description",
    "follow_up_of",
)

# The extension's JSON Schema (draft 2020-12); docs/stix-taxii.md shows it.
_STR = {"type": "string"}
_STRS = {"type": "array", "items": {"type": "string"}}
EXTENSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sitcen border-event extension (property-extension), version 1.0",
    "type": "object",
    "required": ["extension_type", "kind", "sitcen_id", "origin", "version"],
    "properties": {
        "extension_type": {"const": "property-extension"},
        "kind": {"enum": ["event", "alert", "section_assessment"]},
        "sitcen_id": {"type": "string", "format": "uuid",
                      "description": "the record's id on its origin node"},
        "origin": {**_STR, "description": "node id of the record's origin"},
        "version": {"type": "integer", "minimum": 1},
        "event_type": {**_STR, "description": "taxonomy type, e.g. drug_smuggling"},
        "category": {"enum": ["unauthorised_crossing", "cross_border_crime", "crisis",
                              "other"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "reported_at": {"type": "string", "format": "date-time"},
        "status": {"enum": ["reported", "validated", "closed", "rejected"]},
        "section_id": {**_STR, "description": "border section, e.g. TJ-AF-003"},
        "country": {**_STR, "description": "reporting country, ISO 3166-1 alpha-2"},
        "impact_level": {"enum": ["low", "medium", "high", "very_high"]},
        "handling": {"enum": [h.value for h in Handling]},
        "source_reliability": {"enum": list("ABCDEF")},
        "information_credibility": {"type": "integer", "minimum": 1, "maximum": 6},
        "details": {"type": "object", "description": "type-specific attributes: quantity "
                    "and unit, substance, stage, direction, killed, injured, ..."},
        "persons": {"type": "array", "items": {
            "type": "object", "required": ["nationality", "count"],
            "properties": {"nationality": _STR, "sex": _STR, "age_group": _STR,
                           "count": {"type": "integer", "minimum": 1}}}},
        "persons_total": {"type": "integer", "minimum": 0},
        "transport": _STR,
        "modus_operandi": _STRS,
        "reaction": _STRS,
        "follow_up_of": {**_STR, "description": "sitcen id of the first report"},
        "severity": {"enum": ["low", "medium", "high"], "description": "alerts"},
        "alert_status": {"enum": ["open", "acknowledged"], "description": "alerts"},
        "first_day": {"type": "string", "format": "date", "description": "alerts"},
        "last_day": {"type": "string", "format": "date", "description": "alerts"},
        "methods": {**_STRS, "description": "alerts: cusum, spike, scan"},
        "observed": {"type": "integer", "description": "alerts: events in the episode"},
        "expected": {"type": ["number", "null"], "description": "alerts"},
        "event_ids": {**_STRS, "description": "alerts: sitcen ids of the events"},
        "level": {"enum": ["low", "medium", "high", "critical"],
                  "description": "section impact levels"},
        "proposed_level": {"enum": ["low", "medium", "high", "critical", None]},
        "overridden": {"type": "boolean"},
        "justification": _STR,
        "reasons": _STRS,
        "reactions": _STRS,
    },
}


class StixError(ValueError):
    """A bundle that cannot be read at all; the message says why."""


# ---------------------------------------------------------------------------- shared objects


def timestamp(moment: datetime) -> str:
    """A STIX timestamp: UTC, ``Z``, microseconds (at least millisecond precision)."""
    return iso(moment, "microseconds")


def derived_uuid(*parts: str) -> uuid.UUID:
    """A UUID derived from ``parts``: the SHA-1 of uuid5, with the version bits of a v4.

    STIX 2.1 asks for version 4 UUIDs on domain and relationship objects (and
    stix2-validator's strict mode checks it); a name-based UUID written with
    v4 bits keeps both: the same record always gets the same id, and no
    validator refuses it.
    """
    raw = bytearray(uuid.uuid5(NAMESPACE, chr(31).join(parts)).bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40
    return uuid.UUID(bytes=bytes(raw))


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{derived_uuid(kind, *parts)}"


def node_identity_id(node_id: str) -> str:
    """The id of the ``identity`` of a node."""
    return _id("identity", "node", node_id)


def node_identity(node_id: str, name: str = "") -> dict[str, Any]:
    """The ``identity`` of a node (the creator of the objects made of its records)."""
    return {"type": "identity", "spec_version": SPEC_VERSION, "id": node_identity_id(node_id),
            "created": DEFINED, "modified": DEFINED, "name": name or node_id,
            "description": f"sitcen node {node_id}", "identity_class": "organization",
            "sectors": ["government-national"], "created_by_ref": PROJECT_IDENTITY_ID}


def project_identity() -> dict[str, Any]:
    """The ``identity`` that defines the border-event extension."""
    return {"type": "identity", "spec_version": SPEC_VERSION, "id": PROJECT_IDENTITY_ID,
            "created": DEFINED, "modified": DEFINED, "name": "sitcen",
            "description": "Open situation-centre platform for integrated border management",
            "identity_class": "organization"}


def extension_definition() -> dict[str, Any]:
    """The ``extension-definition`` of the border-event fields (schema given as text)."""
    return {"type": "extension-definition", "spec_version": SPEC_VERSION, "id": EXTENSION_ID,
            "created_by_ref": PROJECT_IDENTITY_ID, "created": DEFINED, "modified": DEFINED,
            "name": "sitcen border event",
            "description": "Fields of border events, alerts and section impact levels "
                           "(type, category, section, impact level, persons counts, "
                           "quantities...) as sitcen nodes record them.",
            "schema": json.dumps(EXTENSION_SCHEMA, ensure_ascii=False, sort_keys=True),
            "version": "1.0", "extension_types": ["property-extension"]}


def tlp_marking(handling: Handling | str) -> dict[str, Any]:
    """The TLP 2.0 ``marking-definition`` of a handling label."""
    label = Handling(handling)
    return {"type": "marking-definition", "spec_version": SPEC_VERSION,
            "id": TLP2_MARKINGS[label], "created": TLP2_CREATED, "name": f"TLP:{label.value}",
            "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension",
                                               "tlp_2_0": label.value.lower()}}}


def _handling(body: Mapping[str, Any]) -> Handling:
    try:
        return Handling(str(body.get("handling")))
    except ValueError:
        return Handling.red  # as the sharing function reads an unknown label


# ---------------------------------------------------------------------------- export


@dataclass(frozen=True)
class Converted:
    """The STIX objects of one record version: its own and those they refer to."""

    objects: list[dict[str, Any]]
    #: Identities, markings, the extension definition, section locations.
    references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all(self) -> list[dict[str, Any]]:
        """Referenced objects first, then the record's own."""
        return [*self.references, *self.objects]


def _common(record: SharedRecord, stix_id: str, created: str, modified: str) -> dict[str, Any]:
    return {"spec_version": SPEC_VERSION, "id": stix_id, "created": created,
            "modified": modified, "created_by_ref": node_identity_id(record.origin),
            "object_marking_refs": [TLP2_MARKINGS[_handling(record.body)]]}


def _extension(values: Mapping[str, Any]) -> dict[str, Any]:
    return {EXTENSION_ID: {"extension_type": "property-extension",
                           **{k: v for k, v in values.items() if v not in (None, [], {})}}}


def _section_location(record: SharedRecord, info: SectionInfo, created: str,
                      modified: str) -> dict[str, Any]:
    return {"type": "location", **_common(record, _id("location", record.origin, "section",
                                                      info.id), created, modified),
            "name": info.id, "latitude": round(info.lat, 6), "longitude": round(info.lon, 6),
            "precision": round(info.precision_m, 1), "region": "central-asia"}


def _event_objects(record: SharedRecord, created: str, modified: str) -> list[dict[str, Any]]:
    body = record.body
    etype = str(body.get("type"))
    occurred = str(body.get("occurred_at"))
    occurred_stix = timestamp(moment_or_none(occurred) or datetime.now(UTC))
    raw_confidence = body.get("confidence")
    confidence: dict[str, Any] = raw_confidence if isinstance(raw_confidence, dict) else {}
    persons = [p for p in body.get("persons") or () if isinstance(p, dict)]
    values = {
        "kind": "event", "sitcen_id": record.id, "origin": record.origin,
        "version": record.version, "event_type": etype,
        **{k: body.get(k) for k in EVENT_PROPERTIES if k not in ("id", "origin", "version",
                                                                 "type", "description")},
        "source_reliability": confidence.get("source_reliability"),
        "information_credibility": confidence.get("information_credibility"),
        "details": body.get("details"), "persons": persons,
        "persons_total": sum(int(p.get("count", 0)) for p in persons) if persons else None,
        "modus_operandi": body.get("modus_operandi"), "reaction": body.get("reaction"),
    }
    incident_id = _id("incident", record.origin, record.id)
    name = etype.replace("_", " ")
    if body.get("section_id"):
        name += f", section {body['section_id']}"
    name += f", {occurred[:10]}"
    incident: dict[str, Any] = {"type": "incident",
                                **_common(record, incident_id, created, modified),
                                "name": name, "labels": [str(body.get("category")), etype]}
    if body.get("description"):
        incident["description"] = str(body["description"])
    credibility = confidence.get("information_credibility")
    if credibility in CREDIBILITY_CONFIDENCE:
        incident["confidence"] = CREDIBILITY_CONFIDENCE[credibility]
    incident["extensions"] = _extension(values)
    sighting: dict[str, Any] = {
        "type": "sighting", **_common(record, _id("sighting", record.origin, record.id),
                                      created, modified),
        "sighting_of_ref": incident_id, "first_seen": occurred_stix,
        "last_seen": occurred_stix, "count": 1,
    }
    objects = [incident]
    location = body.get("location")
    if isinstance(location, Mapping) and isinstance(location.get("lat"), int | float):
        place: dict[str, Any] = {
            "type": "location", **_common(record, _id("location", record.origin, record.id),
                                          created, modified),
            "latitude": float(location["lat"]), "longitude": float(location["lon"]),
        }
        if isinstance(location.get("precision_m"), int | float):
            place["precision"] = float(location["precision_m"])
        objects.append(place)
        sighting["where_sighted_refs"] = [place["id"]]
    objects.append(sighting)
    return objects


def _alert_object(record: SharedRecord, place: dict[str, Any] | None, created: str,
                  modified: str) -> dict[str, Any]:
    body = record.body
    refs = [place["id"]] if place else []
    refs += [_id("incident", record.origin, str(e)) for e in body.get("event_ids") or ()]
    section = body.get("section_id") or "inland"
    values = {"kind": "alert", "sitcen_id": record.id, "origin": record.origin,
              "version": record.version, "section_id": body.get("section_id"),
              "severity": body.get("severity"), "alert_status": body.get("status"),
              "first_day": body.get("first_day"), "last_day": body.get("last_day"),
              "category": body.get("category"), "event_type": body.get("type"),
              "methods": body.get("methods"), "observed": body.get("observed"),
              "expected": body.get("expected"), "handling": body.get("handling"),
              "event_ids": [str(e) for e in body.get("event_ids") or ()]}
    report: dict[str, Any] = {
        "type": "report", **_common(record, _id("report", record.origin, record.id), created,
                                    modified),
        "name": f"{str(body.get('severity', '')).capitalize()} early-warning alert, "
                f"section {section}, {body.get('first_day')} to {body.get('last_day')}",
        "report_types": ["threat-report"], "published": modified,
        "object_refs": refs or [node_identity_id(record.origin)],
        "extensions": _extension(values),
    }
    if body.get("explanation"):
        report["description"] = str(body["explanation"])
    return report


def _level_object(record: SharedRecord, place: dict[str, Any] | None, created: str,
                  modified: str) -> dict[str, Any]:
    body = record.body
    section = body.get("section_id") or "(section withheld)"
    reasons = [str(r) for r in body.get("reasons") or ()]
    reactions = [str(r) for r in body.get("reactions") or ()]
    content = "\n".join([*reasons, *(f"- {r}" for r in reactions)]) or str(body.get("level"))
    values = {"kind": "section_assessment", "sitcen_id": record.id, "origin": record.origin,
              "version": record.version, "section_id": body.get("section_id"),
              "level": body.get("level"), "proposed_level": body.get("proposed_level"),
              "overridden": body.get("overridden"), "justification": body.get("justification"),
              "reasons": reasons, "reactions": reactions, "handling": body.get("handling")}
    return {"type": "note", **_common(record, _id("note", record.origin, record.id), created,
                                      modified),
            "abstract": f"Impact level of section {section}: {body.get('level')}",
            "content": content,
            "object_refs": [place["id"]] if place else [node_identity_id(record.origin)],
            "extensions": _extension(values)}


#: Record kinds that have a STIX form; others granted by an agreement are not served as STIX.
STIX_KINDS = ("event", "alert", "section_assessment")


def to_stix(record: SharedRecord, *, recorded_at: datetime,
            sections: Mapping[str, SectionInfo] | None = None,
            node_names: Mapping[str, str] | None = None) -> Converted | None:
    """The STIX objects of a shared record version, or None for a kind without a STIX form.

    ``recorded_at`` (when this version was journaled) becomes ``modified``;
    ``sections`` places alerts and levels; ``node_names`` names identities.
    """
    if record.kind not in STIX_KINDS:
        return None
    body = record.body
    modified_at = recorded_at
    first = moment_or_none(body.get("reported_at")) or moment_or_none(body.get("occurred_at"))
    created_at = min(first, modified_at) if first is not None else modified_at
    created, modified = timestamp(created_at), timestamp(modified_at)
    names = node_names or {}
    references = [project_identity(), extension_definition(),
                  node_identity(record.origin, names.get(record.origin, "")),
                  tlp_marking(_handling(body))]
    if record.kind == "event":
        return Converted(_event_objects(record, created, modified), references)
    section_id = body.get("section_id")
    info = sections.get(section_id) if sections and isinstance(section_id, str) else None
    place = None if info is None else _section_location(record, info, created, modified)
    if place is not None:
        references.append(place)
    own = (_alert_object(record, place, created, modified) if record.kind == "alert"
           else _level_object(record, place, created, modified))
    return Converted([own], references)


def bundle(objects: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A STIX bundle of the objects, each id once (the last one given wins)."""
    unique: dict[str, dict[str, Any]] = {}
    for obj in objects:
        unique[obj["id"]] = obj
    content = json.dumps(sorted(unique), separators=(",", ":"))
    return {"type": "bundle", "id": f"bundle--{derived_uuid('bundle', content)}",
            "objects": list(unique.values())}


# ---------------------------------------------------------------------------- import

#: The most objects one imported bundle may hold.
MAX_IMPORT_OBJECTS = 10_000
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                      r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Objects that only support others: used when referenced, never events themselves.
_SUPPORTING = frozenset({"identity", "marking-definition", "extension-definition", "location",
                         "sighting", "relationship", "language-content"})


@dataclass
class ObjectOutcome:
    """What import did with one object of a bundle."""

    id: str
    type: str
    outcome: str  # imported | would_import | skipped | supporting
    reason: str = ""
    event_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the import report."""
        out: dict[str, Any] = {"id": self.id, "type": self.type, "outcome": self.outcome}
        if self.reason:
            out["reason"] = self.reason
        if self.event_id:
            out["event_id"] = self.event_id
        if self.errors:
            out["errors"] = self.errors
        return out


class StixImportReport(ImportReport):
    """What became of each object of an imported bundle.

    ``rows`` counts the bundle's objects; each incident skipped is also a
    problem, its row the object's place in the bundle and its value the id.
    """

    imported: int = Field(0, description="incidents imported (or that would be, in a dry run)")
    skipped: int = Field(0, description="incidents left out, each with its reason")
    objects: list[dict[str, Any]] = Field(default_factory=list,
                                          description="the outcome of every object, in order")


def import_report(outcomes: Sequence[ObjectOutcome], *, dry_run: bool) -> StixImportReport:
    """The report of an import from the outcome of each object."""
    done = "would_import" if dry_run else "imported"
    report = StixImportReport(
        dry_run=dry_run, rows=len(outcomes),
        imported=sum(1 for o in outcomes if o.outcome == done),
        skipped=sum(1 for o in outcomes if o.outcome == "skipped"),
        objects=[o.to_dict() for o in outcomes])
    report.add_all(ImportProblem(i, o.type, o.id, o.reason)
                   for i, o in enumerate(outcomes, start=1) if o.outcome == "skipped")
    return report


def _objects_of(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        raise StixError("a STIX bundle is a JSON object")
    if data.get("type") != "bundle":
        raise StixError(f"type must be 'bundle', not {data.get('type')!r}")
    if not isinstance(data.get("id"), str) or not data["id"].startswith("bundle--"):
        raise StixError("id must be bundle--<uuid>")
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        raise StixError("objects must be a list")
    if len(objects) > MAX_IMPORT_OBJECTS:
        raise StixError(f"{len(objects)} objects; a bundle may hold {MAX_IMPORT_OBJECTS}")
    return objects


def _strictest_handling(refs: Any) -> Handling | None:
    found = [_MARKING_HANDLING[r] for r in refs or () if r in _MARKING_HANDLING] if isinstance(
        refs, list) else []
    return max(found, key=HANDLING_ORDER.__getitem__) if found else None


def _place_of(incident_id: str, by_id: Mapping[str, dict[str, Any]],
              sightings: Mapping[str, list[dict[str, Any]]]) -> tuple[dict[str, Any] | None,
                                                                        str | None]:
    """The location a sighting of the incident names, and the sighting's first_seen."""
    for sighting in sightings.get(incident_id, ()):
        seen = sighting.get("first_seen")
        for ref in sighting.get("where_sighted_refs") or ():
            place = by_id.get(ref)
            if place is not None and place.get("type") == "location":
                return place, seen if isinstance(seen, str) else None
        if isinstance(seen, str):
            return None, seen
    return None, None


def _candidate(obj: dict[str, Any], by_id: Mapping[str, dict[str, Any]],
               sightings: Mapping[str, list[dict[str, Any]]], sender: str) -> dict[str, Any]:
    """The event report an incident describes (raises ValueError naming what is missing)."""
    ext = (obj.get("extensions") or {}).get(EXTENSION_ID)
    if not isinstance(ext, dict):
        raise ValueError("incident without the sitcen border-event extension: its event type "
                         "cannot be known")
    if ext.get("kind", "event") != "event":
        raise ValueError(f"border-event extension of kind {ext.get('kind')!r}, not an event")
    etype = ext.get("event_type")
    if etype not in EVENT_TYPES:
        raise ValueError(f"event_type {etype!r} is not in the taxonomy")
    place, seen = _place_of(obj["id"], by_id, sightings)
    if place is None:
        raise ValueError("no location: no sighting of it names a location with latitude "
                         "and longitude (an event report needs a position)")
    occurred = ext.get("occurred_at") or seen
    item: dict[str, Any] = {
        "type": etype, "occurred_at": occurred,
        "location": {"lon": place.get("longitude"), "lat": place.get("latitude")},
    }
    if place.get("precision") is not None:
        item["location"]["precision_m"] = min(float(place["precision"]), 100_000.0)
    for name in ("impact_level", "details", "persons", "transport", "modus_operandi",
                 "reaction", "country"):
        if ext.get(name) not in (None, [], {}):
            item[name] = ext[name]
    if ext.get("source_reliability") or ext.get("information_credibility"):
        item["confidence"] = {k: ext[k] for k in ("source_reliability",
                                                  "information_credibility") if k in ext}
    handling = _strictest_handling(obj.get("object_marking_refs"))
    item["handling"] = (handling or Handling(ext.get("handling", Handling.amber))).value
    if "handling" in ext and handling is not None:
        stated = Handling(ext["handling"])
        item["handling"] = max(handling, stated, key=HANDLING_ORDER.__getitem__).value
    text = str(obj.get("description") or "")
    item["description"] = f"[{obj['id']} from {sender}] {text}".strip()[:8000]
    created = moment_or_none(str(obj.get("created", "")))
    occurred_at = moment_or_none(occurred)
    if created is not None and occurred_at is not None and created >= occurred_at:
        item["reported_at"] = obj["created"]  # when the partner made the report
    return item


def _sender(objects: Sequence[dict[str, Any]], created_by: Any) -> str:
    for obj in objects:
        if obj.get("id") == created_by and obj.get("type") == "identity":
            return str(obj.get("name") or created_by)[:200]
    return str(created_by or "an unnamed partner")


def _imported_before(conn: sa.Connection, stix_id: str) -> str | None:
    e = schema.events
    return conn.execute(sa.select(e.c.id).where(e.c.body.contains(f"[{stix_id} from "))
                        .limit(1)).scalar()


def _pydantic_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()]


def import_bundle(engine: sa.Engine, reporter: Reporter, data: Any, *,
                  dry_run: bool = False, now: datetime | None = None) -> list[ObjectOutcome]:
    """Import a partner's bundle: incidents with the extension become event reports.

    Returns one outcome per object. Raises :class:`StixError` when the
    document is not a bundle. The events are written together through the one
    write path; an incident already imported (its STIX id is in an event's
    description) is skipped, so importing a bundle twice writes it once.
    """
    raw = _objects_of(data)
    outcomes: list[ObjectOutcome] = []
    objects: list[dict[str, Any]] = []
    for i, obj in enumerate(raw):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not \
                isinstance(obj.get("type"), str):
            outcomes.append(ObjectOutcome(f"objects[{i}]", "?", "skipped",
                                          "not a STIX object (no type and id)"))
            continue
        if not _STIX_ID.match(obj["id"]) or not obj["id"].startswith(obj["type"] + "--"):
            outcomes.append(ObjectOutcome(str(obj["id"])[:300], obj["type"][:100], "skipped",
                                          "id is not <type>--<uuid>"))
            continue
        if obj.get("spec_version", "2.0" if obj["type"] != "bundle" else "") != SPEC_VERSION:
            outcomes.append(ObjectOutcome(obj["id"], obj["type"], "skipped",
                                          f"spec_version {obj.get('spec_version')!r}, "
                                          "not 2.1"))
            continue
        objects.append(obj)
    by_id = {o["id"]: o for o in objects}
    sightings: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        if obj["type"] == "sighting" and isinstance(obj.get("sighting_of_ref"), str):
            sightings.setdefault(obj["sighting_of_ref"], []).append(obj)
    pending: list[tuple[ObjectOutcome, EventCreate]] = []
    with engine.connect() as conn:
        for obj in objects:
            outcome = ObjectOutcome(obj["id"], obj["type"], "skipped")
            outcomes.append(outcome)
            if obj["type"] in _SUPPORTING:
                outcome.outcome = "supporting"
                outcome.reason = "read only where an incident refers to it"
                continue
            if obj["type"] != "incident":
                outcome.reason = (f"a {obj['type']} is not a border event; only incidents "
                                  "with the sitcen border-event extension are imported")
                continue
            try:
                item = _candidate(obj, by_id, sightings,
                                  _sender(objects, obj.get("created_by_ref")))
                report = EventCreate.model_validate(item)
            except ValidationError as exc:
                outcome.reason = "the event it describes is not valid"
                outcome.errors = _pydantic_errors(exc)
                continue
            except ValueError as exc:
                outcome.reason = str(exc)
                continue
            earlier = _imported_before(conn, obj["id"])
            if earlier is not None:
                outcome.reason = "imported before"
                outcome.event_id = earlier
                continue
            pending.append((outcome, report))
    _write(engine, reporter, pending, dry_run=dry_run, now=now)
    return outcomes


def _write(engine: sa.Engine, reporter: Reporter,
           pending: list[tuple[ObjectOutcome, EventCreate]], *, dry_run: bool,
           now: datetime | None) -> None:
    """Check the candidates with the rules of a report and write the good ones together."""
    moment = now or datetime.now(UTC)
    skew = reporter.clock_skew or timedelta(0)
    good: list[tuple[ObjectOutcome, EventCreate]] = []
    for outcome, report in pending:
        errors = check_report(report, None, moment, skew)
        if errors:
            outcome.reason = "the event it describes breaks a rule"
            outcome.errors = errors
        else:
            good.append((outcome, report))
    if not good:
        return
    if dry_run:
        for outcome, _ in good:
            outcome.outcome = "would_import"
        return
    try:
        written = report_events(engine, reporter, [r for _, r in good], batch=True, now=now)
    except InvalidInput as exc:  # e.g. a follow-up of an unknown event: report, write none
        for outcome, _ in good:
            outcome.reason = "the bundle's events could not be written together"
            outcome.errors = exc.errors
        return
    for (outcome, _), w in zip(good, written, strict=True):
        outcome.outcome = "imported"
        outcome.event_id = w.id
