"""The node's border sections: the shipped defaults, or a custom set that replaces them."""

from __future__ import annotations

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


def ensure_sections(engine: sa.Engine) -> None:
    """Load the default sections on a node's first start."""
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(schema.border_sections)).scalar():
            return
        conn.execute(schema.border_sections.insert(), _rows(load_default_sections(), "default"))


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


def load_sections(engine: sa.Engine) -> list[BorderSection]:
    """The node's current sections, in id order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(schema.border_sections).order_by(schema.border_sections.c.id)
        ).all()
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


def section_index(engine: sa.Engine) -> SectionIndex:
    """A spatial index over the node's current sections."""
    return SectionIndex(load_sections(engine))


def sections_fingerprint(engine: sa.Engine) -> tuple[object, ...]:
    """A cheap summary that changes whenever the set of sections is replaced."""
    t = schema.border_sections
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(t.c.id), sa.func.max(t.c.id),
                      sa.func.sum(t.c.length_km), sa.func.min(t.c.source))
        ).one()
    return tuple(row)
