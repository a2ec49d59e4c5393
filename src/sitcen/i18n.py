"""Translation catalogues: labels for the taxonomy and the user interface.

One flat JSON catalogue per language in ``sitcen/locales/<lang>.json`` maps a
key (``type.drug_smuggling``, ``enum.status.closed``, ``ui.section`` …) to its
label, plus a ``_meta`` object describing the catalogue. Adding or correcting a
label never touches code.

Russian is the working language of every service in the region, so the
national languages fall back to Russian before English; a key nobody has
labelled is shown as the key itself rather than failing a screen.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from sitcen.taxonomy import catalogue_keys

SUPPORTED: tuple[str, ...] = ("en", "ru", "kk", "ky", "tg", "tk", "uz")
DEFAULT = "en"

# Where a language looks when its own catalogue has no label for a key.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "en": ("en",),
    "ru": ("ru", "en"),
    "kk": ("kk", "ru", "en"),
    "ky": ("ky", "ru", "en"),
    "tg": ("tg", "ru", "en"),
    "tk": ("tk", "ru", "en"),
    "uz": ("uz", "ru", "en"),
}

META_KEY = "_meta"

# ISO 639-2/3 codes some clients send instead of the two-letter ones.
_ALIASES: dict[str, str] = {
    "eng": "en",
    "rus": "ru",
    "kaz": "kk",
    "kir": "ky",
    "tgk": "tg",
    "tuk": "tk",
    "uzb": "uz",
}

# RFC 9110 §12.4.2 qvalue; anything else makes the whole item invalid.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_LANGUAGE_RANGE = re.compile(r"\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*")
# A real header is a few dozen bytes; bound the work a hostile one can cause.
_MAX_HEADER = 1024
_MAX_ITEMS = 32


class CatalogueError(ValueError):
    """A catalogue file is malformed; the message names the file and the problem."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal keys; in a catalogue
    # that hides a copy-paste mistake, so refuse it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CatalogueError(f"duplicate key {key!r}")
        result[key] = value
    return result


@cache
def _load(lang: str) -> tuple[MappingProxyType[str, str], MappingProxyType[str, Any]]:
    if lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(SUPPORTED)}")
    name = f"{lang}.json"
    text = (resources.files("sitcen") / "locales" / name).read_text(encoding="utf-8")
    try:
        raw = json.loads(text, object_pairs_hook=_reject_duplicates)
    except (json.JSONDecodeError, CatalogueError) as exc:
        raise CatalogueError(f"{name}: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{name}: top level must be an object")
    meta = raw.pop(META_KEY, {})
    if not isinstance(meta, dict):
        raise CatalogueError(f"{name}: {META_KEY} must be an object")
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{name}: label of {key!r} must be a non-empty string")
    return MappingProxyType(raw), MappingProxyType(meta)


def catalogue(lang: str) -> MappingProxyType[str, str]:
    """The labels a language's own catalogue holds, without fallbacks.

    Raises ``ValueError`` for a language not in :data:`SUPPORTED` and
    :class:`CatalogueError` if its file is malformed.
    """
    return _load(lang)[0]


def meta(lang: str) -> MappingProxyType[str, Any]:
    """The ``_meta`` object of a language's catalogue (name, script, completeness)."""
    return _load(lang)[1]


def _chain(lang: str) -> tuple[str, ...]:
    # An unknown language is shown in English rather than failing the screen.
    return FALLBACKS.get(lang, FALLBACKS[DEFAULT])


def label(key: str, lang: str) -> str:
    """The label of ``key`` in ``lang``, falling back along the language's chain.

    Kazakh, Kyrgyz, Tajik, Turkmen and Uzbek fall back to Russian, then English;
    Russian falls back to English; a key without any label is returned as is.
    An unsupported ``lang`` is treated as English.
    """
    for candidate in _chain(lang):
        text = catalogue(candidate).get(key)
        if text is not None:
            return text
    return key


def labels(lang: str) -> dict[str, str]:
    """Every label available in ``lang``, fallbacks merged in (for a UI bundle)."""
    merged: dict[str, str] = {}
    for candidate in reversed(_chain(lang)):
        merged.update(catalogue(candidate))
    return merged


def missing(lang: str) -> list[str]:
    """Keys of :func:`~sitcen.taxonomy.catalogue_keys` that ``lang`` itself does not label.

    Fallbacks are ignored: this is the translators' to-do list.
    """
    own = catalogue(lang)
    return [key for key in catalogue_keys() if key not in own]


def _primary(language_range: str) -> str | None:
    """Map a language range (``ru-RU``, ``uz-Latn-UZ``, ``kaz``) to a supported code."""
    primary = language_range.split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if primary in SUPPORTED else None


def negotiate(accept_language: str | None) -> str:
    """Pick the supported language a client prefers from its ``Accept-Language`` header.

    Follows RFC 9110: items are weighed by their ``q`` value (default 1), ties
    go to the earlier item, ``q=0`` rules a language out, and ``*`` stands for
    any language not named. Region and script subtags are ignored (``kk-KZ``
    is ``kk``). A malformed item is skipped; a missing, empty or wholly
    malformed header gives :data:`DEFAULT`. Never raises.
    """
    if not isinstance(accept_language, str) or not accept_language.strip():
        return DEFAULT
    weights: dict[str, float] = {}
    order: dict[str, int] = {}
    wildcard: float | None = None
    for position, item in enumerate(accept_language[:_MAX_HEADER].split(",")[:_MAX_ITEMS]):
        parsed = _parse_item(item)
        if parsed is None:
            continue
        language_range, q = parsed
        if language_range == "*":
            wildcard = q if wildcard is None else max(wildcard, q)
            continue
        lang = _primary(language_range)
        if lang is None:
            continue
        # Several ranges can name one language (ru-RU;q=0, ru;q=0.5): the
        # most favourable one counts, since we serve no regional variants.
        if lang not in weights or q > weights[lang]:
            weights[lang] = q
        order.setdefault(lang, position)
    if wildcard is not None:
        # Languages the header does not name get the wildcard's weight, after
        # every named language of equal weight, English first.
        unnamed = [DEFAULT, *(lang for lang in SUPPORTED if lang != DEFAULT)]
        for offset, lang in enumerate(unnamed):
            if lang not in weights:
                weights[lang] = wildcard
                order[lang] = _MAX_ITEMS + offset
    acceptable = [lang for lang, q in weights.items() if q > 0]
    if not acceptable:
        return DEFAULT
    return min(acceptable, key=lambda lang: (-weights[lang], order[lang]))


def _parse_item(item: str) -> tuple[str, float] | None:
    """Split one ``range;q=0.8`` item; ``None`` if it is not well formed."""
    parts = [part.strip() for part in item.split(";")]
    # Check ASCII before lowering: some non-ASCII letters lower to ASCII ones.
    if not parts[0].isascii():
        return None
    language_range = parts[0].lower().replace("_", "-")
    if not _LANGUAGE_RANGE.fullmatch(language_range):
        return None
    q = 1.0
    for parameter in parts[1:]:
        name, sep, value = (piece.strip() for piece in parameter.partition("="))
        if name.lower() != "q":
            continue  # unknown parameters are ignored, as the RFC allows
        if not sep or not _QVALUE.fullmatch(value):
            return None
        q = float(value)
    return language_range, q
