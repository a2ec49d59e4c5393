"""The event taxonomy with labels in the caller's language."""


from typing import Any

from fastapi import APIRouter, Request, Response

from sitcen.api.deps import CurrentUser, ReaderLanguage
from sitcen.api.revalidation import revalidated
from sitcen.i18n import label, labels, meta, number_symbols, plural_bundle, reviewed
from sitcen.taxonomy import ENUMS, EVENT_TYPES, UNITS_FOR, Category

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])


@router.get("", response_model=dict[str, Any])
def read_taxonomy(request: Request, language: ReaderLanguage,
                  _user: CurrentUser) -> Response:
    """Categories, types, their attributes and every enumeration, labelled (Accept-Language)."""
    return revalidated(request, {
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
    }, vary="Accept-Language")


@router.get("/labels", response_model=dict[str, Any])
def read_labels(request: Request, language: ReaderLanguage) -> Response:
    """Every label of a language with its fallbacks merged in (the console's strings too)."""
    return revalidated(request, {
        "language": language,
        "labels": labels(language),
        # Count messages by CLDR plural category, each with the language whose rules pick
        # the form (a fallback's: Kazakh falling back to Russian counts in Russian).
        "plurals": plural_bundle(language),
        "numbers": number_symbols(language),
        "complete": bool(meta(language).get("complete", False)),
        "reviewed": reviewed(language),
    }, vary="Accept-Language")
