"""CAP 1.2: alerts and section impact levels as Common Alerting Protocol messages.

One message per record version: version 1 is an ``Alert``, later versions are
``Update`` messages that reference every earlier version. Each message has
one ``info`` block per language whose catalogue labels the message's words
(English and Russian always; a national language once its catalogue holds
the ``ui.cap.*`` labels), each with the border section as its area: a polygon
5 km around the section line and a circle around its midpoint. How our levels
map to CAP severity, urgency and certainty is in :data:`LEVEL_MAPPING` and
:data:`ALERT_MAPPING` (docs/cap.md explains them). No database, no HTTP.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from sitcen.geo import BorderSection, project, unproject
from sitcen.i18n import SUPPORTED, catalogue, label
from sitcen.taxonomy import Handling
from sitcen.times import iso

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
#: Distance of the area polygon from the section line, km.
AREA_BUFFER_KM = 5.0
#: How far the polygon may depart from the exact buffer, km (keeps messages small).
AREA_TOLERANCE_KM = 0.5

#: CAP language tag of each catalogue language.
LANGUAGE_TAGS: dict[str, str] = {"en": "en-US", "ru": "ru-RU", "kk": "kk-KZ", "ky": "ky-KG",
                                 "tg": "tg-TJ", "tk": "tk-TM", "uz": "uz-UZ",
                                 "uz-Cyrl": "uz-Cyrl-UZ"}
_CAP_KEYS = ("ui.cap.event.alert", "ui.cap.event.level", "ui.cap.headline.alert",
             "ui.cap.headline.level", "ui.cap.inland", "ui.cap.restriction", "ui.cap.period")


@dataclass(frozen=True)
class Mapping3:
    """CAP's severity, urgency and certainty, and the response it asks for."""

    severity: str
    urgency: str
    certainty: str
    response: str


#: Section impact levels (confirmed by an officer, so ``Likely``).
LEVEL_MAPPING: dict[str, Mapping3] = {
    "low": Mapping3("Minor", "Future", "Likely", "Monitor"),
    "medium": Mapping3("Moderate", "Expected", "Likely", "Prepare"),
    "high": Mapping3("Severe", "Expected", "Likely", "Execute"),
    "critical": Mapping3("Extreme", "Immediate", "Likely", "Execute"),
}
#: Early-warning alerts (statistical: ``Possible``, ``Likely`` once two methods agree).
ALERT_MAPPING: dict[str, Mapping3] = {
    "low": Mapping3("Minor", "Future", "Possible", "Monitor"),
    "medium": Mapping3("Moderate", "Expected", "Possible", "Assess"),
    "high": Mapping3("Severe", "Expected", "Possible", "Assess"),
}


@dataclass(frozen=True)
class CapRecord:
    """A record version as a CAP message needs it."""

    kind: str  # alert | section_assessment
    id: str
    origin: str
    version: int
    body: dict[str, Any]
    sent: datetime  # when this version was recorded
    earlier: Sequence[tuple[int, datetime]] = field(default_factory=tuple)


def cap_time(moment: datetime) -> str:
    """A CAP 1.2 time: seconds and an explicit offset, ``+00:00``.

    CAP 1.2 (section 3.3.2) forbids the ``Z`` that :func:`sitcen.times.iso`
    writes everywhere else, so this is the one place that writes the offset.
    """
    return iso(moment, "seconds").removesuffix("Z") + "+00:00"


def sender_of(origin: str) -> str:
    """The CAP sender of a node's messages."""
    return f"sitcen:{origin}"


def identifier_of(record: CapRecord | tuple[str, str, str, int]) -> str:
    """The CAP identifier of a record version (no spaces, commas, < or &)."""
    if isinstance(record, CapRecord):
        origin, kind, record_id, version = record.origin, record.kind, record.id, record.version
    else:
        origin, kind, record_id, version = record
    return f"urn:sitcen:{origin}:{kind}:{record_id}:v{version}"


def languages() -> list[str]:
    """English, Russian, and every national language whose catalogue labels every CAP word."""
    return [lang for lang in SUPPORTED
            if lang in ("en", "ru") or all(k in catalogue(lang) for k in _CAP_KEYS)]


def _ring_text(coords: Any) -> str:
    return " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in coords)


def section_area(section: BorderSection) -> tuple[list[str], str]:
    """CAP polygons (``lat,lon`` pairs) around a section line, and a circle around its middle."""

    def to_km(coords: Any) -> Any:
        x, y = project(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def to_degrees(coords: Any) -> Any:
        lon, lat = unproject(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    line_km = shapely.transform(section.geometry, to_km)
    area_km = shapely.simplify(shapely.buffer(line_km, AREA_BUFFER_KM), AREA_TOLERANCE_KM)
    area = shapely.transform(area_km, to_degrees)
    polygons = [_ring_text(np.asarray(part.exterior.coords))
                for part in shapely.get_parts(area) if not part.is_empty]
    middle = shapely.line_interpolate_point(section.geometry, 0.5, normalized=True)
    radius = section.length_km / 2 + AREA_BUFFER_KM
    return polygons, f"{middle.y:.5f},{middle.x:.5f} {radius:.1f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _parameter(info: ET.Element, name: str, value: Any) -> None:
    if value in (None, "", []):
        return
    parameter = _sub(info, "parameter")
    _sub(parameter, "valueName", name)
    _sub(parameter, "value", ", ".join(map(str, value)) if isinstance(value, list)
         else str(value))


def _handling(body: Mapping[str, Any]) -> Handling:
    try:
        return Handling(str(body.get("handling")))
    except ValueError:
        return Handling.red


def _mapping(record: CapRecord) -> Mapping3:
    body = record.body
    if record.kind == "alert":
        base = ALERT_MAPPING.get(str(body.get("severity")), ALERT_MAPPING["low"])
        if len(body.get("methods") or ()) >= 2:
            return Mapping3(base.severity, base.urgency, "Likely", base.response)
        return base
    return LEVEL_MAPPING.get(str(body.get("level")), LEVEL_MAPPING["low"])


def _area_name(section: BorderSection | None, section_id: Any, lang: str) -> str:
    if section is not None:
        name = section.name_ru if lang != "en" and section.name_ru else section.name
        return f"{name} ({section.id})"
    if isinstance(section_id, str):
        return section_id
    return label("ui.cap.inland", lang)


def _info(root: ET.Element, record: CapRecord, lang: str, section: BorderSection | None,
          area: tuple[list[str], str] | None, sender_name: str) -> None:
    body = record.body
    mapped = _mapping(record)
    info = _sub(root, "info")
    _sub(info, "language", LANGUAGE_TAGS[lang])
    _sub(info, "category", "Security")
    is_alert = record.kind == "alert"
    _sub(info, "event", label("ui.cap.event.alert" if is_alert else "ui.cap.event.level", lang))
    _sub(info, "responseType", mapped.response)
    _sub(info, "urgency", mapped.urgency)
    _sub(info, "severity", mapped.severity)
    _sub(info, "certainty", mapped.certainty)
    event_code = _sub(info, "eventCode")
    _sub(event_code, "valueName", "sitcen")
    _sub(event_code, "value", "early_warning_alert" if is_alert else "section_impact_level")
    if is_alert and isinstance(body.get("first_day"), str):
        _sub(info, "onset", f"{body['first_day']}T00:00:00+00:00")
    _sub(info, "senderName", sender_name)
    area_name = _area_name(section, body.get("section_id"), lang)
    if is_alert:
        severity = label(f"enum.section_impact_level.{body.get('severity')}", lang)
        headline = label("ui.cap.headline.alert", lang).format(severity=severity,
                                                               area=area_name)
        text = [str(body.get("explanation") or "")]
        if body.get("first_day") and body.get("last_day"):
            text.append(label("ui.cap.period", lang).format(first=body["first_day"],
                                                           last=body["last_day"]))
        instruction = ""
    else:
        level = label(f"enum.section_impact_level.{body.get('level')}", lang)
        headline = label("ui.cap.headline.level", lang).format(level=level, area=area_name)
        text = [str(r) for r in body.get("reasons") or ()]
        if body.get("justification"):
            text.append(str(body["justification"]))
        instruction = "\n".join(str(r) for r in body.get("reactions") or ())
    _sub(info, "headline", headline[:160])
    description = "\n".join(t for t in text if t)
    if description:
        _sub(info, "description", description)
    if instruction:
        _sub(info, "instruction", instruction)
    _parameter(info, "sitcen:record_id", record.id)
    _parameter(info, "sitcen:version", record.version)
    _parameter(info, "sitcen:section_id", body.get("section_id"))
    _parameter(info, "sitcen:severity" if is_alert else "sitcen:level",
               body.get("severity") if is_alert else body.get("level"))
    _parameter(info, "TLP", _handling(body).value)
    area_element = _sub(info, "area")
    _sub(area_element, "areaDesc", area_name)
    if area is not None:
        for polygon in area[0]:
            _sub(area_element, "polygon", polygon)
        _sub(area_element, "circle", area[1])


def cap_message(record: CapRecord, *, section: BorderSection | None = None,
                sender_name: str = "") -> ET.Element:
    """The CAP ``alert`` element of a record version (``section``: its border section)."""
    if record.kind not in ("alert", "section_assessment"):
        raise ValueError(f"a {record.kind} has no CAP form")
    root = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    _sub(root, "identifier", identifier_of(record))
    _sub(root, "sender", sender_of(record.origin))
    _sub(root, "sent", cap_time(record.sent))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", "Alert" if record.version == 1 or not record.earlier else "Update")
    _sub(root, "source", f"sitcen node {record.origin}")
    handling = _handling(record.body)
    if handling == Handling.clear:
        _sub(root, "scope", "Public")
    else:
        _sub(root, "scope", "Restricted")
        _sub(root, "restriction", label("ui.cap.restriction", "en").format(
            tlp=f"TLP:{handling.value}"))
    _sub(root, "code", f"TLP:{handling.value}")
    if record.earlier and record.version > 1:
        _sub(root, "references", " ".join(
            f"{sender_of(record.origin)},"
            f"{identifier_of((record.origin, record.kind, record.id, v))},{cap_time(sent)}"
            for v, sent in record.earlier))
    area = section_area(section) if section is not None else None
    for lang in languages():
        _info(root, record, lang, section, area, sender_name or record.origin)
    return root


def to_xml(element: ET.Element) -> bytes:
    """A CAP element as a UTF-8 XML document."""
    text: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True,
                              default_namespace=CAP_NAMESPACE)
    return text


# ---------------------------------------------------------------------------- Atom feed

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"


@dataclass(frozen=True)
class FeedEntry:
    """One message of the feed: its record version, title and where to fetch it."""

    record: CapRecord
    title: str
    url: str


def atom_feed(entries: Sequence[FeedEntry], *, feed_id: str, title: str, self_url: str,
              updated: datetime) -> bytes:
    """An Atom feed whose entries link to CAP messages (``application/cap+xml``)."""
    def sub(parent: ET.Element, tag: str, text: str | None = None,
            **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NAMESPACE}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", iso(updated, "seconds"))
    sub(feed, "link", rel="self", href=self_url, type=ATOM_MEDIA_TYPE)
    author = sub(feed, "author")
    sub(author, "name", title)
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", identifier_of(entry.record))
        sub(item, "title", entry.title)
        sub(item, "updated", iso(entry.record.sent, "seconds"))
        sub(item, "link", rel="alternate", href=entry.url, type=CAP_MEDIA_TYPE)
        sub(item, "summary", entry.title)
    ET.register_namespace("atom", ATOM_NAMESPACE)  # attributes rule out a default namespace
    text: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return text
