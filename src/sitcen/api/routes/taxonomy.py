"""The event taxonomy with labels in the caller's language."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from sitcen.api.deps import CurrentUser
from sitcen.i18n import SUPPORTED, label, labels, negotiate
from sitcen.taxonomy import ENUMS, EVENT_TYPES, UNITS_FOR, Category

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])


@router.get("", response_model=dict[str, Any])
def read_taxonomy(
    _user: CurrentUser,
    accept_language: Annotated[str | None, Header()] = None,
    lang: Annotated[str | None, Query(description=f"one of {', '.join(SUPPORTED)}")] = None,
) -> dict[str, Any]:
    """Categories, types, their attributes and every enumeration, labelled (Accept-Language)."""
    language = lang if lang in SUPPORTED else negotiate(accept_language)
    return {
        "language": language,
        "categories": [
            {
                "id": c.value,
                "label": label(f"category.{c.value}", language),
                "types": [
                    {
                        "id": t.id,
                        "label": label(f"type.{t.id}", language),
                        "details": list(t.details),
                        "required": list(t.required),
                        "persons": t.persons,
                        "units": sorted(u.value for u in UNITS_FOR.get(t.id, ())),
                    }
                    for t in EVENT_TYPES.values() if t.category == c
                ],
            }
            for c in Category
        ],
        "enums": {
            name: [{"id": v.value, "label": label(f"enum.{name}.{v.value}", language)}
                   for v in enum]
            for name, enum in ENUMS.items()
        },
    }


@router.get("/labels", response_model=dict[str, Any])
def read_labels(
    accept_language: Annotated[str | None, Header()] = None,
    lang: Annotated[str | None, Query(description=f"one of {', '.join(SUPPORTED)}")] = None,
) -> dict[str, Any]:
    """Every label of a language with its fallbacks merged in (the console's strings too)."""
    language = lang if lang in SUPPORTED else negotiate(accept_language)
    return {"language": language, "labels": labels(language)}
