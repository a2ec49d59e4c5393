"""OGC API - Features: the standard's resources in-process, then GDAL's OAPIF driver for real.

The second half starts ``sitcen serve`` on a free loopback port and reads it with
``ogrinfo`` and ``ogr2ogr`` (Debian gdal-bin), authenticated by the API's bearer
token through GDAL_HTTP_HEADERS. Without ogrinfo those tests are skipped,
except under CI=true where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import auth, iso, report
from sitcen.events import EventCreate
from sitcen.node import Node
from sitcen.store.events import report_events
from sitcen.store.records import write_record
from sitcen.users import Role
from test_demo import serving

Headers = Callable[[Role], dict[str, str]]
OGC = "/api/v1/ogc"
NOW = datetime.now(UTC).replace(microsecond=0)
# (lon, lat): TJ-AF near Nizhny Panj, KG-TJ near Batken, KZ inland near Astana.
PLACES = [(68.60, 37.22), (70.80, 39.95), (71.43, 51.17)]


def _events(days: int = 10) -> list[dict[str, Any]]:
    """``days`` x 3 places: drug seizures on even days, crossings on odd ones."""
    events = []
    for day in range(days):
        for k, (lon, lat) in enumerate(PLACES):
            seizure = day % 2 == 0
            events.append(report(
                occurred_at=iso(NOW - timedelta(days=day, hours=k)),
                location={"lon": lon, "lat": lat},
                type="drug_smuggling" if seizure else "green_border_crossing",
                details=({"substance": "opium", "quantity": 1.5, "unit": "kg"} if seizure
                         else {"stage": "actual", "direction": "entry"}),
                impact_level="high" if day % 5 == 0 else "low",
                description=f"Событие {day}-{k}: «переправа» через Пяндж",
            ))
    return events


@pytest.fixture
def seeded(node: Node) -> list[dict[str, Any]]:
    events = _events()
    report_events(node.engine, node.reporter, [EventCreate.model_validate(e) for e in events],
                  batch=True)
    return events


def _get(client: TestClient, headers: dict[str, str], path: str,
         expected: int = 200) -> dict[str, Any]:
    response = client.get(path, headers=headers)
    assert response.status_code == expected, response.text
    body: dict[str, Any] = response.json()
    return body


def _link(body: dict[str, Any], rel: str) -> dict[str, Any]:
    links: list[dict[str, Any]] = [link for link in body["links"] if link["rel"] == rel]
    (link,) = links
    return link


def _all_items(client: TestClient, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    """Follow next links from ``url`` to the end; every page says what it holds."""
    features: list[dict[str, Any]] = []
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/geo+json"
        page = response.json()
        assert page["numberReturned"] == len(page["features"])
        features += page["features"]
        nexts = [link for link in page["links"] if link["rel"] == "next"]
        if not nexts:
            assert len(features) == page["numberMatched"]
            return features
        assert nexts[0]["type"] == "application/geo+json"
        url = nexts[0]["href"]


# --- the resources in-process ----------------------------------------------------------------


def test_landing_conformance_and_collections(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.liaison)
    response = client.get(OGC, headers=headers)
    assert response.headers["content-type"] == "application/json"
    landing = response.json()
    for rel, media in (("self", "application/json"), ("conformance", "application/json"),
                       ("data", "application/json"),
                       ("service-desc", "application/vnd.oai.openapi+json;version=3.0")):
        link = _link(landing, rel)
        assert link["type"] == media
        assert link["href"].startswith("http://testserver/api/v1/ogc")
    conformance = _get(client, headers, _link(landing, "conformance")["href"])
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in (
        conformance["conformsTo"])
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in (
        conformance["conformsTo"])
    collections = _get(client, headers, _link(landing, "data")["href"])
    assert [c["id"] for c in collections["collections"]] == [
        "sections", "crossing-points", "events", "assets"]
    for collection in collections["collections"]:
        items = _link(collection, "items")
        assert items["type"] == "application/geo+json"
        assert items["href"].endswith(f"/collections/{collection['id']}/items")
        assert collection["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        one = _get(client, headers, _link(collection, "self")["href"])
        assert one["id"] == collection["id"]
    api = client.get(_link(landing, "service-desc")["href"], headers=headers)
    assert api.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert api.json()["servers"] == [{"url": "http://testserver/api/v1/ogc"}]
    assert "/collections/{collectionId}/items" in api.json()["paths"]


@pytest.mark.usefixtures("seeded")
def test_event_collection_extent_and_paging(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.analyst)
    events = _get(client, headers, f"{OGC}/collections/events")
    assert events["extent"]["spatial"]["bbox"] == [[68.6, 37.22, 71.43, 51.17]]
    first, last = events["extent"]["temporal"]["interval"][0]
    assert last == iso(NOW)
    assert first == iso(NOW - timedelta(days=9, hours=2))
    page = _get(client, headers, f"{OGC}/collections/events/items")
    assert (page["numberMatched"], page["numberReturned"]) == (30, 30)  # default limit 100
    assert not [link for link in page["links"] if link["rel"] == "next"]
    features = _all_items(client, headers, f"{OGC}/collections/events/items?limit=7")
    assert len({f["id"] for f in features}) == 30
    times = [f["properties"]["occurred_at"] for f in features]
    assert times == sorted(times, reverse=True)
    feature = features[0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [68.6, 37.22]}
    properties = feature["properties"]
    assert properties["description"] == "Событие 0-0: «переправа» через Пяндж"
    assert properties["persons"] == "2 AF male adult"
    assert properties["modus_operandi"] == ["river_crossing"]
    assert properties["section_id"].startswith("AF-TJ-")


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bbox=68,36.5,69.5,38", 10),
        ("bbox=60,30,80,45", 20),
        ("bbox=68,36.5,0,69.5,38,0", 10),  # six numbers: heights ignored
        ("type=drug_smuggling", 15),
        ("type=drug_smuggling,green_border_crossing&impact_level=high", 6),
        ("category=unauthorised_crossing&bbox=70,39,72,41", 5),
        ("country=AF", 10),
        ("section_id=XX-YY-999", 0),
    ],
)
def test_item_filters(client: TestClient, as_role: Headers, query: str, expected: int) -> None:
    url = f"{OGC}/collections/events/items?limit=4&{query}"
    assert len(_all_items(client, as_role(Role.liaison), url)) == expected


def _at(day: int, hour: int) -> datetime:
    """When the seeded event of ``day`` and place ``hour`` occurred."""
    return NOW - timedelta(days=day, hours=hour)


A, B = _at(2, 2), _at(4, 2)


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("value", "selects"),
    [
        (f"..%2F{iso(A)}", lambda t: t <= A),  # interval ends are inclusive
        (f"{iso(A)}%2F..", lambda t: t >= A),
        (f"{iso(A)}%2F", lambda t: t >= A),  # an empty end is open too
        (f"{iso(B)}%2F{iso(A)}", lambda t: B <= t <= A),
        (iso(_at(3, 1)), lambda t: t == _at(3, 1)),  # an instant
        (_at(5, 1).date().isoformat(), lambda t: t.date() == _at(5, 1).date()),  # a whole day
        (_at(5, 1).astimezone(timezone(timedelta(hours=5))).isoformat().replace("+", "%2B"),
         lambda t: t == _at(5, 1)),  # an instant given in another zone
        ("..%2F..", lambda t: True),
    ],
    # Names, not the values: these change every second, and a test's id must not.
    ids=["until", "from", "from-empty-end", "between", "instant", "day", "instant-in-zone",
         "open"],
)
def test_datetime_filter(client: TestClient, as_role: Headers, value: str,
                         selects: Callable[[datetime], bool]) -> None:
    expected = len([1 for d in range(10) for k in range(3) if selects(_at(d, k))])
    url = f"{OGC}/collections/events/items?limit=4&datetime={value}"
    assert len(_all_items(client, as_role(Role.liaison), url)) == expected


BAD_PARAMETERS = [
    ("limit=0", "limit"),
    ("limit=10001", "limit"),
    ("limit=ten", "limit"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=68,40,69,38", "bbox"),
    ("bbox=170,0,-170,10", "bbox"),  # across the antimeridian
    ("bbox=a,b,c,d", "bbox"),
    ("bbox-crs=EPSG:3857", "bbox-crs"),
    ("datetime=2026-05-01T10:00:00", "datetime"),  # no zone
    ("datetime=yesterday", "datetime"),
    ("datetime=2026-05-02T00:00:00Z%2F2026-05-01T00:00:00Z", "datetime"),
    ("datetime=a%2Fb%2Fc", "datetime"),
    ("datetime=..", "datetime"),
    ("datetime=9999-12-31", "datetime"),  # the day after it is outside the calendar
    ("datetime=9999-12-31T23:59:59-14:00", "datetime"),
    ("datetime=0001-01-01T00:00:00%2B14:00%2F..", "datetime"),
    ("type=alien_landing", "type"),
    ("country=tj", "country"),
    ("cursor=bm9wZQ", "cursor"),
    ("f=html", "f"),
    ("colour=red", "colour"),
]


def test_bad_parameters_get_400_naming_them(client: TestClient, as_role: Headers) -> None:
    for query, parameter in BAD_PARAMETERS:
        response = client.get(f"{OGC}/collections/events/items?{query}",
                              headers=as_role(Role.analyst))
        assert response.status_code == 400, (query, response.text)
        assert response.json()["detail"][0]["loc"] == ["query", parameter], query


def test_property_filters_belong_to_events_only(client: TestClient, as_role: Headers) -> None:
    response = client.get(f"{OGC}/collections/sections/items?type=drug_smuggling",
                          headers=as_role(Role.analyst))
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "type"]


@pytest.mark.usefixtures("seeded")
def test_single_features_and_404s(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.operator)
    first = _get(client, headers, f"{OGC}/collections/events/items?limit=1")["features"][0]
    response = client.get(f"{OGC}/collections/events/items/{first['id']}", headers=headers)
    assert response.headers["content-type"] == "application/geo+json"
    one = response.json()
    assert (one["id"], one["properties"]) == (first["id"], first["properties"])
    assert _link(one, "collection")["href"].endswith("/collections/events")
    section = _get(client, headers, f"{OGC}/collections/sections/items?limit=1")["features"][0]
    again = _get(client, headers, f"{OGC}/collections/sections/items/{section['id']}")
    assert again["geometry"] == section["geometry"]
    for path in ("collections/events/items/00000000-0000-0000-0000-000000000000",
                 "collections/events/items/not-a-uuid", "collections/sections/items/XX-YY-999",
                 "collections/rivers", "collections/rivers/items"):
        assert client.get(f"{OGC}/{path}", headers=headers).status_code == 404


def test_sections_and_crossing_points(client: TestClient, as_role: Headers) -> None:
    headers = as_role(Role.liaison)
    sections = _all_items(client, headers, f"{OGC}/collections/sections/items?limit=100")
    assert len(sections) > 100
    assert {f["geometry"]["type"] for f in sections} <= {"LineString", "MultiLineString"}
    near_panj = _all_items(client, headers,
                           f"{OGC}/collections/sections/items?bbox=68.5,37.1,68.7,37.3")
    assert near_panj and all(f["id"].startswith("AF-TJ-") for f in near_panj)
    points = _all_items(client, headers, f"{OGC}/collections/crossing-points/items?limit=5")
    assert all(f["geometry"]["type"] == "Point" for f in points)
    assert any(f["properties"]["name_ru"] for f in points)
    # Sections and crossing points have no time: datetime does not filter them.
    timed = _get(client, headers, f"{OGC}/collections/crossing-points/items?datetime=2020-01-01")
    assert timed["numberMatched"] == len(points)


def test_assets_are_the_latest_positions(client: TestClient, as_role: Headers,
                                         node: Node) -> None:
    body = {"asset_id": "patrol-7", "kind": "patrol", "name": "Застава «Пяндж», наряд 7",
            "status": "active", "location": {"lon": 68.61, "lat": 37.21},
            "at": iso(NOW - timedelta(hours=5)), "section_id": None, "handling": "AMBER"}
    record = write_record(node.engine, "asset_position", body, node_id=node.settings.node_id)
    moved = {**body, "location": {"lon": 68.7, "lat": 37.25}, "at": iso(NOW)}
    write_record(node.engine, "asset_position", moved, node_id=node.settings.node_id,
                 record_id=record.id)
    headers = as_role(Role.liaison)
    items = _get(client, headers, f"{OGC}/collections/assets/items")
    (feature,) = items["features"]
    assert feature["geometry"]["coordinates"] == [68.7, 37.25]
    assert feature["properties"]["name"] == "Застава «Пяндж», наряд 7"
    assert feature["properties"]["version"] == 2
    earlier = f"..%2F{iso(NOW - timedelta(hours=1))}"
    assert _get(client, headers,
                f"{OGC}/collections/assets/items?datetime={earlier}")["numberMatched"] == 0
    assert _get(client, headers,
                f"{OGC}/collections/assets/items?bbox=68,37,69,38")["numberMatched"] == 1


def test_every_resource_needs_the_token(client: TestClient, tokens: dict[Role, str]) -> None:
    for path in ("", "/conformance", "/api", "/collections", "/collections/events",
                 "/collections/events/items", "/collections/sections/items/AF-TJ-001"):
        assert client.get(OGC + path).status_code == 401
        wrong = client.get(OGC + path, headers=auth("not-a-token"))
        assert wrong.status_code == 401
    assert client.get(OGC, headers=auth(tokens[Role.liaison])).status_code == 200


# --- GDAL's OAPIF driver against a real server process --------------------------------------


@pytest.fixture
def ogr() -> str:
    """The directory of ogrinfo/ogr2ogr; skipped without them (failed under CI=true)."""
    found = shutil.which("ogrinfo")
    if found is None or shutil.which("ogr2ogr") is None:
        reason = "GDAL's ogrinfo/ogr2ogr not on PATH (Debian gdal-bin; make system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI=true)")
        pytest.skip(reason)
    return str(Path(found).parent)


@pytest.fixture
def served(node: Node, database_url: str, tmp_path: Path, seeded: list[dict[str, Any]],
           ) -> Iterator[str]:
    """``sitcen serve`` on the test database, on a free loopback port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITCEN_", "GDAL_"))}
    env.update({"SITCEN_ENVIRONMENT": "test", "SITCEN_DATABASE_URL": database_url,
                "SITCEN_DATA_DIR": str(tmp_path / "served"), "SITCEN_NODE_ID": "tj-test-centre",
                "SITCEN_NODE_COUNTRY": "TJ"})
    with serving(["serve"], env, tmp_path / "serve.log") as url:
        yield url


def _gdal(ogr: str, tool: str, *args: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDAL_", "CPL_"))}
    if token is not None:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: Bearer {token}"
    env["GDAL_HTTP_TIMEOUT"] = "60"
    return subprocess.run([str(Path(ogr) / tool), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def _feature_count(output: str) -> int:
    (line,) = [line for line in output.splitlines() if line.startswith("Feature Count:")]
    return int(line.split(":")[1])


def test_ogrinfo_reads_layers_filters_and_counts(ogr: str, served: str,
                                                 tokens: dict[Role, str]) -> None:
    source = f"OAPIF:{served}{OGC}"
    for wrong in (None, "not-a-token"):
        refused = _gdal(ogr, "ogrinfo", "-ro", source, token=wrong)
        assert refused.returncode != 0
        assert "401" in refused.stderr
    token = tokens[Role.liaison]
    listing = _gdal(ogr, "ogrinfo", "-ro", source, token=token)
    assert listing.returncode == 0, listing.stderr
    for line in ("1: sections", "2: crossing-points", "3: events (title: Events) (Point)",
                 "4: assets"):
        assert line in listing.stdout
    summary = _gdal(ogr, "ogrinfo", "-ro", "-so", source, "events", token=token)
    assert summary.returncode == 0, summary.stderr
    assert _feature_count(summary.stdout) == 30  # numberMatched
    assert "occurred_at: DateTime" in summary.stdout
    assert "Extent: (68.600000, 37.220000) - (71.430000, 51.170000)" in summary.stdout
    # A spatial filter goes to the server as bbox; an equality on a queryable property and a
    # time range on occurred_at go as parameters (GDAL reads them from the API definition).
    boxed = _gdal(ogr, "ogrinfo", "-ro", "-so", "-spat", "68", "36.5", "69.5", "38", source,
                  "events", token=token)
    assert _feature_count(boxed.stdout) == 10, boxed.stderr
    since, until = NOW - timedelta(days=3, hours=3), NOW - timedelta(hours=1, minutes=30)
    where = (f"occurred_at >= '{since:%Y/%m/%d %H:%M:%S}' AND "
             f"occurred_at <= '{until:%Y/%m/%d %H:%M:%S}' AND impact_level = 'low'")
    filtered = _gdal(ogr, "ogrinfo", "-ro", "-so", "-where", where, "--debug", "on", source,
                     "events", token=token)
    assert filtered.returncode == 0, filtered.stderr
    expected = len([1 for d in range(10) for k in range(3)
                    if since <= NOW - timedelta(days=d, hours=k) <= until and d % 5 != 0])
    assert _feature_count(filtered.stdout) == expected
    fetched = [line for line in filtered.stderr.splitlines() if "HTTP: Fetch(" in line]
    assert any("datetime=" in line and "impact_level=low" in line for line in fetched), fetched
    cyrillic = _gdal(ogr, "ogrinfo", "-ro", "-q", "-where", "impact_level = 'high'", source,
                     "events", token=token)
    assert "Событие 0-0: «переправа» через Пяндж" in cyrillic.stdout


def test_ogr2ogr_copies_every_page(ogr: str, served: str, tokens: dict[Role, str],
                                   tmp_path: Path) -> None:
    out = tmp_path / "events.geojson"
    result = _gdal(ogr, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{served}{OGC}",
                   "-oo", "PAGE_SIZE=4", "events", token=tokens[Role.analyst])
    assert result.returncode == 0, result.stderr
    copied = json.loads(out.read_text(encoding="utf-8"))
    assert len(copied["features"]) == 30
    assert len({f["properties"]["id"] for f in copied["features"]}) == 30
    descriptions = {f["properties"]["description"] for f in copied["features"]}
    assert "Событие 9-2: «переправа» через Пяндж" in descriptions
    sections = tmp_path / "sections.gpkg"
    result = _gdal(ogr, "ogr2ogr", "-f", "GPKG", str(sections), f"OAPIF:{served}{OGC}",
                   "-oo", "PAGE_SIZE=50", "sections", token=tokens[Role.analyst])
    assert result.returncode == 0, result.stderr
    check = _gdal(ogr, "ogrinfo", "-ro", "-so", str(sections), "sections", token=None)
    assert _feature_count(check.stdout) > 100
