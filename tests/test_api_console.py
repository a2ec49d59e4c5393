"""The API the console stands on: cookie sessions, actions on events, assets, stats, labels."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_PASSWORD, iso, report
from sitcen.api.deps import SESSION_COOKIE
from sitcen.times import to_micros
from sitcen.users import Role

Headers = Callable[[Role], dict[str, str]]
SAME_ORIGIN = {"Origin": "http://testserver"}


def _report(client: TestClient, headers: dict[str, str], **overrides: object) -> str:
    answer = client.post("/api/v1/events", json=report(**overrides), headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


# --- cookie sessions --------------------------------------------------------------------------

def test_session_cookie_logs_in_and_out(client: TestClient, as_role: Headers) -> None:
    answer = client.post("/api/v1/auth/session",
                         json={"username": "duty-officer", "password": TEST_PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["role"] == "duty_officer"
    assert "access_token" not in answer.json()
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain http here
    assert client.get("/api/v1/auth/me").json()["username"] == "duty-officer"
    assert client.post("/api/v1/auth/logout", headers=SAME_ORIGIN).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_session_cookie_is_secure_over_https(client: TestClient, as_role: Headers) -> None:
    https = TestClient(client.app, base_url="https://testserver")
    answer = https.post("/api/v1/auth/session",
                        json={"username": "operator", "password": TEST_PASSWORD})
    assert "Secure" in answer.headers["set-cookie"]


def test_wrong_password_sets_no_cookie(client: TestClient, as_role: Headers) -> None:
    answer = client.post("/api/v1/auth/session", json={"username": "operator", "password": "x"})
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize("headers, allowed", [
    ({"Origin": "http://testserver"}, True),
    ({"Referer": "http://testserver/#/map"}, True),
    ({"X-Sitcen-Console": "1"}, True),
    ({"Origin": "http://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({"Referer": "http://evil.example/page"}, False),
    ({"Origin": "http://evil.example", "X-Sitcen-Console": "1"}, False),
    ({}, False),
])
def test_cookie_writes_need_the_same_origin(client: TestClient, as_role: Headers,
                                            headers: dict[str, str], allowed: bool) -> None:
    client.post("/api/v1/auth/session", json={"username": "operator", "password": TEST_PASSWORD})
    answer = client.post("/api/v1/events", json=report(), headers=headers)
    assert answer.status_code == (201 if allowed else 403), answer.text
    # Reading needs no check: a cross-site page cannot read the answer anyway.
    assert client.get("/api/v1/events?limit=1", headers=headers).status_code == 200


def test_bearer_tokens_work_as_before(client: TestClient, as_role: Headers) -> None:
    # No Origin, no cookie: programs keep using the Authorization header.
    assert client.post("/api/v1/events", json=report(),
                       headers=as_role(Role.operator)).status_code == 201
    bad = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_logout_by_bearer_keeps_cookies_alone(client: TestClient, as_role: Headers) -> None:
    answer = client.post("/api/v1/auth/logout", headers=as_role(Role.analyst))
    assert answer.status_code == 204
    assert "set-cookie" not in answer.headers
    assert client.get("/api/v1/auth/me", headers=as_role(Role.analyst)).status_code == 401


# --- actions on events ------------------------------------------------------------------------

def test_duty_officer_validates_and_reattributes(client: TestClient, as_role: Headers) -> None:
    event_id = _report(client, as_role(Role.operator))
    duty = as_role(Role.duty_officer)
    answer = client.post(f"/api/v1/events/{event_id}/actions", json={"action": "validate"},
                         headers=duty)
    assert answer.status_code == 201, answer.text
    body = answer.json()["body"]
    assert body["event_id"] == event_id and body["action"] == "validate"
    assert body["by"] == "duty-officer" and body["handling"] == "AMBER"
    assert body["event_origin"] == "tj-test-centre"
    assert answer.json()["origin"] == "tj-test-centre"
    client.post(f"/api/v1/events/{event_id}/actions",
                json={"action": "reattribute_impact", "impact_level": "high"}, headers=duty)
    actions = client.get(f"/api/v1/events/{event_id}/actions", headers=as_role(Role.liaison))
    assert [a["body"]["action"] for a in actions.json()] == ["validate", "reattribute_impact"]
    assert actions.json()[1]["body"]["impact_level"] == "high"
    # The event itself is untouched: an action is a record of its own.
    event = client.get(f"/api/v1/events/{event_id}", headers=duty).json()
    assert event["version"] == 1 and event["status"] == "reported"
    assert event["impact_level"] == "medium"


@pytest.mark.parametrize("action", ["validate", "reject", "close"])
def test_operator_may_not_decide(client: TestClient, as_role: Headers, action: str) -> None:
    event_id = _report(client, as_role(Role.operator))
    answer = client.post(f"/api/v1/events/{event_id}/actions", json={"action": action},
                         headers=as_role(Role.operator))
    assert answer.status_code == 403
    assert client.get(f"/api/v1/events/{event_id}/actions",
                      headers=as_role(Role.operator)).json() == []


def test_operator_comments_analyst_may_not(client: TestClient, as_role: Headers) -> None:
    event_id = _report(client, as_role(Role.operator))
    ok = client.post(f"/api/v1/events/{event_id}/actions",
                     json={"action": "comment", "text": "Наряд выехал"},
                     headers=as_role(Role.operator))
    assert ok.status_code == 201 and ok.json()["body"]["text"] == "Наряд выехал"
    refused = client.post(f"/api/v1/events/{event_id}/actions",
                          json={"action": "comment", "text": "x"}, headers=as_role(Role.analyst))
    assert refused.status_code == 403


@pytest.mark.parametrize("payload, loc", [
    ({"action": "reattribute_impact"}, ["body", "impact_level"]),
    ({"action": "comment", "text": "  "}, ["body", "text"]),
    ({"action": "approve"}, ["body", "action"]),
    ({"action": "validate", "by": "someone-else"}, ["body", "by"]),
])
def test_bad_actions_name_the_field(client: TestClient, as_role: Headers,
                                    payload: dict[str, str], loc: list[str]) -> None:
    event_id = _report(client, as_role(Role.operator))
    answer = client.post(f"/api/v1/events/{event_id}/actions", json=payload,
                         headers=as_role(Role.duty_officer))
    assert answer.status_code == 422
    assert loc in [e["loc"] for e in answer.json()["detail"]]


def test_action_on_unknown_event_is_404(client: TestClient, as_role: Headers) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    answer = client.post(f"/api/v1/events/{missing}/actions", json={"action": "validate"},
                         headers=as_role(Role.duty_officer))
    assert answer.status_code == 404
    assert client.get(f"/api/v1/events/{missing}/actions",
                      headers=as_role(Role.duty_officer)).status_code == 404


# --- own assets -------------------------------------------------------------------------------

def _position(asset_id: str, lon: float, lat: float, minutes_ago: int = 0) -> dict[str, object]:
    return {"asset_id": asset_id, "kind": "patrol", "name": f"Patrol {asset_id}",
            "location": {"lon": lon, "lat": lat},
            "at": iso(datetime.now(UTC) - timedelta(minutes=minutes_ago))}


def test_positions_make_a_track(client: TestClient, as_role: Headers) -> None:
    operator = as_role(Role.operator)
    for i in range(4):
        answer = client.post("/api/v1/assets/positions",
                             json=_position("panj-1", 68.60 + i / 100, 37.22, 10 - i),
                             headers=operator)
        assert answer.status_code == 201, answer.text
        assert answer.json()["version"] == i + 1
    assert answer.json()["section_id"] is not None  # placed on the Panj section like events
    client.post("/api/v1/assets/positions", json=_position("osh-2", 72.8, 40.5), headers=operator)
    assets = client.get("/api/v1/assets?track=3", headers=as_role(Role.liaison)).json()["assets"]
    by_id = {a["asset_id"]: a for a in assets}
    assert set(by_id) == {"panj-1", "osh-2"}
    panj = by_id["panj-1"]
    assert panj["version"] == 4 and panj["location"]["lon"] == pytest.approx(68.63)
    assert [p[0] for p in panj["track"]] == pytest.approx([68.61, 68.62, 68.63])
    assert by_id["osh-2"]["track"] == [[72.8, 40.5, by_id["osh-2"]["at"]]]


def test_positions_are_checked(client: TestClient, as_role: Headers) -> None:
    bad = {**_position("x", 200, 37), "kind": "tank"}
    answer = client.post("/api/v1/assets/positions", json=bad, headers=as_role(Role.operator))
    assert answer.status_code == 422
    locs = [e["loc"] for e in answer.json()["detail"]]
    assert ["body", "kind"] in locs and ["body", "location", "lon"] in locs
    liaison = client.post("/api/v1/assets/positions", json=_position("x", 68, 37),
                          headers=as_role(Role.liaison))
    assert liaison.status_code == 403


# --- dashboard figures ------------------------------------------------------------------------

def _window_events(client: TestClient, headers: dict[str, str]) -> datetime:
    """Five events over three days of a fixed window, and three in the window before."""
    until = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [(1, "drug_smuggling", 68.60, 37.22), (1, "drug_smuggling", 68.61, 37.22),
            (2, "green_border_crossing", 70.85, 39.98), (3, "natural_disaster", 68.60, 37.22),
            (3, "drug_smuggling", 68.62, 37.23),
            # the previous window (days 8-14 back)
            (9, "drug_smuggling", 68.60, 37.22), (10, "green_border_crossing", 70.85, 39.98),
            (12, "green_border_crossing", 70.85, 39.98)]
    for days_back, kind, lon, lat in days:
        _report_of_type(client, headers, kind, until - timedelta(days=days_back, hours=-6),
                        {"lon": lon, "lat": lat})
    return until


def _report_of_type(client: TestClient, headers: dict[str, str], kind: str,
                    occurred_at: datetime, location: dict[str, float]) -> None:
    """Report one event of a seizure, crossing or disaster type with the details it needs."""
    body = report(type=kind, occurred_at=iso(occurred_at), location=location)
    if kind != "drug_smuggling":
        body.update(details={"stage": "actual", "direction": "entry"} if "crossing" in kind
                    else {"hazard": "mudflow"}, transport=None)
        if kind == "natural_disaster":
            body.pop("persons")
    answer = client.post("/api/v1/events", json=body, headers=headers)
    assert answer.status_code == 201, answer.text


def test_category_counts_per_day(client: TestClient, as_role: Headers) -> None:
    until = _window_events(client, as_role(Role.operator))
    since = until - timedelta(days=7)
    answer = client.get("/api/v1/stats/categories", headers=as_role(Role.analyst),
                        params={"since": iso(since), "until": iso(until)})
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert len(stats["buckets"]) == 7 and stats["buckets"][0] == since.date().isoformat()
    series = {s["category"]: s["counts"] for s in stats["series"]}
    assert series["cross_border_crime"] == [0, 0, 0, 0, 1, 0, 2]
    assert series["unauthorised_crossing"] == [0, 0, 0, 0, 0, 1, 0]
    assert series["crisis"] == [0, 0, 0, 0, 1, 0, 0]
    assert stats["total"] == 5


def test_category_counts_follow_the_time_zone(client: TestClient, as_role: Headers) -> None:
    until = _window_events(client, as_role(Role.operator))
    since = until - timedelta(days=7)
    # Events at 06:00 UTC fall on the same local day in Almaty (UTC+5): 11:00.
    almaty = client.get("/api/v1/stats/categories", headers=as_role(Role.analyst),
                        params={"since": iso(since), "until": iso(until), "tz": "Asia/Almaty"})
    assert almaty.json()["total"] == 5
    assert sum(almaty.json()["series"][1]["counts"]) == 3
    weekly = client.get("/api/v1/stats/categories", headers=as_role(Role.analyst),
                        params={"since": iso(until - timedelta(days=28)), "until": iso(until),
                                "bucket": "week"}).json()
    assert sum(sum(s["counts"]) for s in weekly["series"]) == 8
    assert all(datetime.fromisoformat(b).weekday() == 0 for b in weekly["buckets"])
    bad = client.get("/api/v1/stats/categories", headers=as_role(Role.analyst),
                     params={"tz": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "tz"]


def test_top_sections_with_trend_and_daily_series(client: TestClient, as_role: Headers) -> None:
    until = _window_events(client, as_role(Role.operator))
    params = {"since": iso(until - timedelta(days=7)), "until": iso(until)}
    top = client.get("/api/v1/stats/sections", headers=as_role(Role.liaison), params=params)
    assert top.status_code == 200, top.text
    sections = top.json()["sections"]
    assert sections[0]["count"] == 4 and sections[0]["previous"] == 1
    assert sections[0]["change"] == pytest.approx(3.0)
    assert sections[1] == {"section_id": sections[1]["section_id"], "count": 1, "previous": 2,
                           "change": -0.5}
    daily = client.get("/api/v1/stats/sections/daily", headers=as_role(Role.liaison),
                       params=params).json()
    assert len(daily["days"]) == 7
    first = daily["sections"][0]
    assert first["section_id"] == sections[0]["section_id"]
    assert first["counts"] == [0, 0, 0, 0, 2, 0, 2]
    chosen = client.get("/api/v1/stats/sections/daily", headers=as_role(Role.liaison),
                        params={**params, "section": sections[1]["section_id"]}).json()
    assert [s["section_id"] for s in chosen["sections"]] == [sections[1]["section_id"]]


def test_stats_refuse_a_reversed_window(client: TestClient, as_role: Headers) -> None:
    now = datetime.now(UTC)
    answer = client.get("/api/v1/stats/sections", headers=as_role(Role.analyst),
                        params={"since": iso(now), "until": iso(now - timedelta(days=1))})
    assert answer.status_code == 422
    assert client.get("/api/v1/stats/sections").status_code == 401


# --- a whole window for the map ---------------------------------------------------------------

def _decoded(column: dict[str, Any]) -> list[Any]:
    return [column["values"][code] for code in column["codes"]]


def _hours_of_events(client: TestClient, headers: dict[str, str]) -> datetime:
    """Six events an hour apart over the last six hours, of three types and two places."""
    now = datetime.now(UTC)
    for i in range(6):
        kind = ("drug_smuggling", "green_border_crossing", "natural_disaster")[i % 3]
        _report_of_type(client, headers, kind, now - timedelta(hours=6 - i, minutes=5),
                        {"lon": 68.6012345678 + i / 100, "lat": 37.2298765 - i / 100}
                        if i % 2 else {"lon": 70.85, "lat": 39.98})
    return now


def test_event_columns_are_the_query_in_one_answer(client: TestClient, as_role: Headers) -> None:
    now = _hours_of_events(client, as_role(Role.operator))
    params = {"since": iso(now - timedelta(hours=4))}
    answer = client.get("/api/v1/events/columns", params=params, headers=as_role(Role.liaison))
    assert answer.status_code == 200, answer.text
    columns = answer.json()
    paged = client.get("/api/v1/events", params={**params, "limit": 1000},
                       headers=as_role(Role.liaison)).json()["items"]
    assert columns["count"] == len(paged) == 3 and columns["truncated"] is False
    # The same events in the same order (newest first), column by column.
    assert columns["id"] == [e["id"] for e in paged]
    assert columns["version"] == [e["version"] for e in paged]
    for name in ("category", "type", "impact_level", "status", "section_id"):
        assert _decoded(columns[name]) == [e[name] for e in paged], name
    assert len(columns["type"]["values"]) == 3  # each value once, however often it occurs
    assert columns["occurred_at_ms"] == [
        to_micros(datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00"))) // 1000
        for e in paged]
    assert columns["lon"] == [round(e["location"]["lon"], 5) for e in paged]
    assert columns["lat"] == [round(e["location"]["lat"], 5) for e in paged]
    assert 68.63123 in columns["lon"]  # rounded to 5 decimals


def test_compact_event_columns_carry_the_same_ids_and_times_in_fewer_bytes(
        client: TestClient, as_role: Headers) -> None:
    _hours_of_events(client, as_role(Role.operator))
    reader = as_role(Role.analyst)
    answer = client.get("/api/v1/events/columns", headers=reader)
    compact = client.get("/api/v1/events/columns", params={"compact": "true"}, headers=reader)
    plain, packed = answer.json(), compact.json()
    assert plain["count"] == 6 and len(compact.content) < len(answer.content)
    assert "id" not in packed and "occurred_at_ms" not in packed
    raw = base64.b64decode(packed["ids_base64"])
    assert len(raw) == 16 * packed["count"] == 16 * plain["count"]
    assert [str(uuid.UUID(bytes=raw[i:i + 16])) for i in range(0, len(raw), 16)] == plain["id"]
    gaps = packed["occurred_at_gaps_ms"]
    assert all(g >= 0 for g in gaps[1:])  # newest first
    assert list(itertools.accumulate(gaps, lambda t, g: t - g)) == plain["occurred_at_ms"]
    rest = {k: v for k, v in plain.items() if k not in ("id", "occurred_at_ms")}
    assert {k: v for k, v in packed.items()
            if k not in ("ids_base64", "occurred_at_gaps_ms")} == rest
    empty = client.get("/api/v1/events/columns",
                       params={"compact": "true", "since": "2100-01-01T00:00:00Z"},
                       headers=reader).json()
    assert empty["count"] == 0 and empty["ids_base64"] == "" and empty["occurred_at_gaps_ms"] == []


def test_event_columns_keep_the_newest_and_filter(client: TestClient, as_role: Headers) -> None:
    now = _hours_of_events(client, as_role(Role.operator))
    reader = as_role(Role.analyst)
    everything = client.get("/api/v1/events/columns", headers=reader).json()
    assert everything["count"] == 6
    cut = client.get("/api/v1/events/columns", params={"limit": 2}, headers=reader).json()
    assert cut["count"] == 2 and cut["truncated"] is True
    assert cut["id"] == everything["id"][:2]
    crisis = client.get("/api/v1/events/columns", params={"category": "crisis"},
                        headers=reader).json()
    assert _decoded(crisis["category"]) == ["crisis"] * 2
    box = client.get("/api/v1/events/columns", params={"bbox": "70.8,39.9,70.9,40.0"},
                     headers=reader).json()
    assert box["count"] == 3 and set(box["lon"]) == {70.85}
    nothing = client.get("/api/v1/events/columns", params={"since": iso(now + timedelta(hours=1))},
                         headers=reader).json()
    assert nothing["count"] == 0 and nothing["id"] == [] and nothing["lon"] == []
    assert nothing["category"] == {"values": [], "codes": []}


def test_event_columns_need_a_reader_and_a_sane_query(client: TestClient,
                                                      as_role: Headers) -> None:
    assert client.get("/api/v1/events/columns").status_code == 401
    too_many = client.get("/api/v1/events/columns", params={"limit": 100_001},
                          headers=as_role(Role.liaison))
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]
    unknown = client.get("/api/v1/events/columns", params={"status": "lost"},
                         headers=as_role(Role.liaison))
    assert unknown.status_code == 422


# --- reference data and labels ----------------------------------------------------------------

def test_countries_are_served(client: TestClient, as_role: Headers) -> None:
    answer = client.get("/api/v1/countries", headers=as_role(Role.liaison))
    assert answer.status_code == 200
    isos = {f["properties"]["iso2"] for f in answer.json()["features"]}
    assert {"KZ", "KG", "TJ", "TM", "UZ", "AF"} <= isos


def test_labels_in_a_national_language(client: TestClient) -> None:
    kk = client.get("/api/v1/taxonomy/labels?lang=kk").json()
    assert kk["language"] == "kk"
    assert kk["labels"]["ui.console.filters"] == "Сүзгілер"
    assert kk["labels"]["ui.console.only_in_view"] == "Тек картада көрінетіндер"
    en = client.get("/api/v1/taxonomy/labels", headers={"Accept-Language": "en"}).json()
    assert en["labels"]["ui.console.map"] == "Map"


def test_stream_carries_action_records(client: TestClient, as_role: Headers) -> None:
    from sitcen.api.routes import stream
    from sitcen.store.journal import read_journal

    event_id = _report(client, as_role(Role.operator))
    client.post(f"/api/v1/events/{event_id}/actions", json={"action": "validate"},
                headers=as_role(Role.duty_officer))
    node = client.app.state.node  # type: ignore[attr-defined]
    with node.engine.connect() as conn:
        last = read_journal(conn, after=0, limit=100)[-1]
    from sitcen.store.users import StoredUser

    frames, _ = stream._frames(node, StoredUser("d", "d", Role.duty_officer, False), last.seq - 1)
    assert b"event: event_action" in frames[0] and b'"action":"validate"' in frames[0]


# --- the console page -------------------------------------------------------------------------

def test_console_page_and_hashed_assets(client: TestClient) -> None:
    import re

    from sitcen.api.console import console_dir

    page = client.get("/")
    if not (console_dir() / "index.html").is_file():
        assert page.status_code == 503 and "make console" in page.text
        return
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', page.text)
    assert assets
    for path in assets:
        asset = client.get(path)
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
    assert client.get("/console/assets/nothing-here.js").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_service_worker_manifest_and_icons(client: TestClient) -> None:
    """The installable app's files: the worker may control "/", nothing is cached for good."""
    from sitcen.api.console import console_dir

    if not (console_dir() / "sw.js").is_file():
        pytest.skip("the console is not built (make console)")
    worker = client.get("/console/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in worker.headers["content-security-policy"]
    manifest = client.get("/console/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    for icon in body["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon["src"]
        assert answer.headers["content-type"] == icon["type"]
    page = client.get("/")
    assert 'rel="manifest" href="/console/manifest.webmanifest"' in page.text
    # Only the app's own files; the page's copy and the build stamp are not served here.
    for name in ("index.html", ".built", "..%2Fnode.db", "nothing.js"):
        assert client.get(f"/console/{name}").status_code == 404


def test_console_page_says_when_it_is_not_built(node: object, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from sitcen.api import console
    from sitcen.api.main import create_app

    monkeypatch.setattr(console, "console_dir", lambda: tmp_path / "nothing")
    with TestClient(create_app(node)) as fresh:  # type: ignore[arg-type]
        answer = fresh.get("/")
        assert answer.status_code == 503 and "make console" in answer.text
        assert fresh.get("/api/v1/health").status_code == 200
