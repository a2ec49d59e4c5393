"""Country outlines, border sections and crossing points as GeoJSON."""


from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel

from sitcen.api.deps import Admin, CurrentNode, Reader
from sitcen.api.revalidation import revalidated
from sitcen.errors import InvalidInput, NotFound, error
from sitcen.geo import GeographyError, load_crossing_points, simplified
from sitcen.node import Node
from sitcen.store.sections import replace_sections, restore_default_sections, section_feature

router = APIRouter(tags=["geography"])


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection."""

    type: str
    features: list[dict[str, Any]]


def _sections(node: Node) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [section_feature(s) for s in node.sections.sections]}


@router.get("/sections", response_model=FeatureCollection)
def read_sections(request: Request, node: CurrentNode, _user: Reader) -> Response:
    """Every border section of the node as GeoJSON LineStrings."""
    return revalidated(request, _sections(node))


@router.get("/sections/{section_id}", response_model=dict[str, Any])
def read_section(section_id: str, node: CurrentNode, _user: Reader) -> dict[str, Any]:
    """One border section as a GeoJSON Feature."""
    try:
        return section_feature(node.sections.section(section_id))
    except KeyError:
        raise NotFound("section", section_id) from None


@router.put("/sections", response_model=FeatureCollection)
def replace_all_sections(
    node: CurrentNode, _admin: Admin, geojson: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Replace the default sections with custom ones (a GeoJSON FeatureCollection)."""
    try:
        replace_sections(node.engine, geojson)
    except GeographyError as exc:
        raise InvalidInput([error(("body",), str(exc), "geography")]) from exc
    node.reload_sections()
    return _sections(node)


@router.delete("/sections", response_model=FeatureCollection)
def restore_sections(node: CurrentNode, _admin: Admin) -> dict[str, Any]:
    """Drop custom sections and go back to the shipped defaults."""
    restore_default_sections(node.engine)
    node.reload_sections()
    return _sections(node)


#: How far the light outlines may stray from the shipped ones (0.02° is about 2 km).
LOW_DETAIL_DEG = 0.02


@cache
def _countries_geojson(detail: str = "full") -> bytes:
    shipped = (resources.files("sitcen") / "data" / "countries.geojson").read_bytes()
    if detail == "full":
        return shipped
    return orjson.dumps(simplified(orjson.loads(shipped), LOW_DETAIL_DEG))


@router.get("/countries", response_model=FeatureCollection)
def read_countries(
    request: Request,
    _user: Reader,
    detail: Annotated[Literal["full", "low"], Query(
        description="`low`: outlines simplified to about 2 km, a fifth of the bytes "
                    "(the console's low-bandwidth mode)")] = "full",
) -> Response:
    """The shipped country outlines (the five states and their neighbours) as GeoJSON."""
    return revalidated(request, _countries_geojson(detail), media_type="application/geo+json")


@router.get("/crossing-points", response_model=FeatureCollection)
def read_crossing_points(request: Request, _user: Reader) -> Response:
    """The main border crossing points (approximate positions) as GeoJSON Points."""
    return revalidated(request, {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": p.id,
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "id": p.id, "name": p.name, "name_ru": p.name_ru,
                    "countries": list(p.countries), "kind": p.kind, "status": p.status,
                    "precision_m": p.precision_m,
                },
            }
            for p in load_crossing_points()
        ],
    })
