"""Reference data kept by the browser and asked about again (api/revalidation.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from conftest import auth
from sitcen.users import Role

REFERENCE = ["/api/v1/sections", "/api/v1/countries", "/api/v1/countries?detail=low",
             "/api/v1/crossing-points", "/api/v1/taxonomy?lang=ru",
             "/api/v1/taxonomy/labels?lang=kk"]


@pytest.mark.parametrize("path", REFERENCE)
def test_reference_data_is_revalidated_not_sent_again(client: TestClient,
                                                      tokens: dict[Role, str], path: str) -> None:
    headers = auth(tokens[Role.operator])
    first = client.get(path, headers=headers)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    etag = first.headers["etag"]
    assert etag.startswith('W/"')  # gzipped: the weak form
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"].removeprefix("W/") == etag.removeprefix("W/")
    strong = client.get(path, headers={**headers, "If-None-Match": etag.removeprefix("W/"),
                                       "Accept-Encoding": "identity"})
    assert strong.status_code == 304
    stale = client.get(path, headers={**headers, "If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_changed_sections_are_sent_at_once(client: TestClient, tokens: dict[Role, str]) -> None:
    admin = auth(tokens[Role.admin])
    shipped = client.get("/api/v1/sections", headers=admin)
    one = {"type": "FeatureCollection", "features": shipped.json()["features"][:1]}
    assert client.put("/api/v1/sections", json=one, headers=admin).status_code == 200
    changed = client.get("/api/v1/sections",
                         headers={**admin, "If-None-Match": shipped.headers["etag"]})
    assert changed.status_code == 200 and len(changed.json()["features"]) == 1
    assert client.delete("/api/v1/sections", headers=admin).status_code == 200


def test_low_detail_outlines_are_lighter_with_the_same_countries(
        client: TestClient, tokens: dict[Role, str]) -> None:
    headers = {**auth(tokens[Role.operator]), "Accept-Encoding": "identity"}
    full = client.get("/api/v1/countries", headers=headers)
    low = client.get("/api/v1/countries?detail=low", headers=headers)
    assert len(low.content) < len(full.content) / 3
    names = [f["properties"]["iso2"] for f in full.json()["features"]]
    assert [f["properties"]["iso2"] for f in low.json()["features"]] == names
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon")
               for f in low.json()["features"])
