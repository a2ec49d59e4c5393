"""The node's border sections: the shipped defaults, or a custom set that replaces them."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from shapely.geometry import mapping

from sitcen.geo import BorderSection, SectionIndex, load_default_sections, sections_from_geojson
from sitcen.store import schema


def section_feature(section: BorderSection) -> dict[str, Any]:
    """A border section as a GeoJSON Feature."""
    return {
        "type": "Feature",
        "id": section.id,
        "geometry": mapping(section.geometry),
        "properties": {
            "id": section.id,
            "name": section.name,
            "name_ru": section.name_ru,
            "countries": list(section.countries),
            "length_km": section.length_km,
        },
    }


def _rows(sections: list[BorderSection], source: str) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "name_ru": s.name_ru,
            "country_a": s.countries[0],
            "country_b": s.countries[1],
            "length_km": s.length_km,
            "source": source,
            "geometry": orjson.dumps(mapping(s.geometry)).decode(),
        }
        for s in sections
    ]


@lru_cache(maxsize=1)
def _default_rows() -> tuple[dict[str, Any], ...]:
    return tuple(_rows(load_default_sections(), "default"))


def ensure_sections(engine: sa.Engine) -> None:
    """Load the default sections on a node's first start."""
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(schema.border_sections)).scalar():
            return
        conn.execute(schema.border_sections.insert(), [dict(r) for r in _default_rows()])


def replace_sections(engine: sa.Engine, geojson: dict[str, Any]) -> list[BorderSection]:
    """Replace every section with a validated custom set (raises GeographyError)."""
    sections = sections_from_geojson(geojson)
    with engine.begin() as conn:
        conn.execute(schema.border_sections.delete())
        conn.execute(schema.border_sections.insert(), _rows(sections, "custom"))
    return sections


def restore_default_sections(engine: sa.Engine) -> None:
    """Go back to the shipped default sections."""
    with engine.begin() as conn:
        conn.execute(schema.border_sections.delete())
    ensure_sections(engine)


def _stored_rows(engine: sa.Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(schema.border_sections).order_by(schema.border_sections.c.id)
        ).all())


def load_sections(engine: sa.Engine) -> list[BorderSection]:
    """The node's current sections, in id order."""
    return _sections(_stored_rows(engine))


def _sections(rows: list[sa.Row[Any]]) -> list[BorderSection]:
    features = [
        {
            "type": "Feature",
            "geometry": orjson.loads(r.geometry),
            "properties": {
                "id": r.id, "name": r.name, "name_ru": r.name_ru,
                "countries": [r.country_a, r.country_b], "length_km": r.length_km,
            },
        }
        for r in rows
    ]
    return sections_from_geojson({"type": "FeatureCollection", "features": features})


# Parsing and indexing some 400 sections takes a good part of a second. The index never
# changes once built, so the nodes of one process that store the same sections (the test
# suite opens hundreds) share one, found by a digest of the stored rows.
_SHARED_INDEXES: OrderedDict[bytes, SectionIndex] = OrderedDict()
_SHARED_MAX = 4
_shared_lock = threading.Lock()


def section_index(engine: sa.Engine) -> SectionIndex:
    """A spatial index over the node's current sections."""
    rows = _stored_rows(engine)
    key = hashlib.sha256(orjson.dumps([list(r) for r in rows])).digest()
    with _shared_lock:
        index = _SHARED_INDEXES.get(key)
    if index is None:
        index = SectionIndex(_sections(rows))
        with _shared_lock:
            _SHARED_INDEXES[key] = index
            while len(_SHARED_INDEXES) > _SHARED_MAX:
                _SHARED_INDEXES.popitem(last=False)
    return index


def sections_fingerprint(engine: sa.Engine) -> tuple[object, ...]:
    """A cheap summary that changes whenever the set of sections is replaced."""
    t = schema.border_sections
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(t.c.id), sa.func.max(t.c.id),
                      sa.func.sum(t.c.length_km), sa.func.min(t.c.source))
        ).one()
    return tuple(row)
