"""Translation catalogues: labels for the taxonomy and the user interface.

One flat JSON catalogue per language in ``sitcen/locales/<lang>.json`` maps a
key (``type.drug_smuggling``, ``enum.status.closed``, ``ui.section`` …) to its
label, plus a ``_meta`` object describing the catalogue. Adding or correcting a
label never touches code (docs/translations.md is the translators' guide).

A count message may hold one text per CLDR plural category instead of one
string (``{"one": "{n} event", "other": "{n} events"}``); :func:`plural` picks
the form by Babel's plural rules for the language. Numbers and dates written
for people go through :func:`format_number` and :func:`format_day`, so every
language gets its own separators and month names from CLDR.

Russian is the working language of every service in the region, so the
national languages fall back to Russian before English; a key nobody has
labelled is shown as the key itself rather than failing a screen. Cyrillic
Uzbek (``uz-Cyrl``) falls back to Russian too, not to Latin Uzbek: its
readers learnt Cyrillic at school alongside Russian, and a screen that
switched script label by label reads worse than one in a language they know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from sitcen.taxonomy import catalogue_keys

SUPPORTED: tuple[str, ...] = ("en", "ru", "kk", "ky", "tg", "tk", "uz", "uz-Cyrl")
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
    "uz-Cyrl": ("uz-Cyrl", "ru", "en"),
}

#: Plural categories CLDR may give a language; a plural message names some of them.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")

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


#: A language's CLDR locale where its code is not already Babel's name for it.
_BABEL_NAMES: dict[str, str] = {"uz-Cyrl": "uz_Cyrl"}


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
def _load(lang: str) -> tuple[MappingProxyType[str, str],
                              MappingProxyType[str, MappingProxyType[str, str]],
                              MappingProxyType[str, Any]]:
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
    texts: dict[str, str] = {}
    plurals: dict[str, MappingProxyType[str, str]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            forms = _plural_forms(name, key, value)
            plurals[key] = MappingProxyType(forms)
            texts[key] = forms["other"]  # what a caller that counts nothing is shown
        elif isinstance(value, str) and value.strip():
            texts[key] = value
        else:
            raise CatalogueError(f"{name}: label of {key!r} must be a non-empty string "
                                 "or an object of plural forms")
    return MappingProxyType(texts), MappingProxyType(plurals), MappingProxyType(meta)


def _plural_forms(name: str, key: str, value: dict[str, Any]) -> dict[str, str]:
    unknown = [form for form in value if form not in PLURAL_CATEGORIES]
    if unknown:
        raise CatalogueError(f"{name}: {key!r} has unknown plural forms {unknown}; "
                             f"use {', '.join(PLURAL_CATEGORIES)}")
    if "other" not in value:
        raise CatalogueError(f"{name}: {key!r} needs the plural form 'other'")
    for form, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{name}: plural form {form!r} of {key!r} must be a "
                                 "non-empty string")
    return dict(value)


def catalogue(lang: str) -> MappingProxyType[str, str]:
    """The labels a language's own catalogue holds, without fallbacks.

    Raises ``ValueError`` for a language not in :data:`SUPPORTED` and
    :class:`CatalogueError` if its file is malformed. A plural message appears
    here as its ``other`` form; :func:`plurals` has all its forms.
    """
    return _load(lang)[0]


def plurals(lang: str) -> MappingProxyType[str, MappingProxyType[str, str]]:
    """The plural messages of a language's own catalogue: key → CLDR category → text."""
    return _load(lang)[1]


def meta(lang: str) -> MappingProxyType[str, Any]:
    """The ``_meta`` object of a language's catalogue (name, script, completeness, review)."""
    return _load(lang)[2]


def reviewed(lang: str) -> bool:
    """Whether a native speaker has reviewed the catalogue (``_meta.reviewed``).

    English and Russian are the project's working languages and count as
    reviewed unless their catalogue says otherwise.
    """
    return bool(meta(lang).get("reviewed", lang in ("en", "ru")))


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


def plural_bundle(lang: str) -> dict[str, dict[str, Any]]:
    """Every plural message in ``lang``, fallbacks merged in (for a UI bundle).

    Each entry is ``{"language": ..., "forms": {category: text}}``: the forms
    are chosen by the rules of the language that wrote them, so Kazakh falling
    back to Russian still says "5 событий". A key the language labels with one
    plain string is left out: that string serves every count, which is right
    for languages whose nouns do not change after a numeral.
    """
    merged: dict[str, dict[str, Any]] = {}
    for candidate in reversed(_chain(lang)):
        for key in catalogue(candidate):
            merged.pop(key, None)
        merged.update({key: {"language": candidate, "forms": dict(forms)}
                       for key, forms in plurals(candidate).items()})
    return merged


@cache
def babel_locale(lang: str) -> Locale:
    """The CLDR locale Babel formats ``lang`` with, walking the fallbacks if CLDR lacks it."""
    for candidate in _chain(lang):
        try:
            return Locale.parse(_BABEL_NAMES.get(candidate, candidate))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(DEFAULT)


def plural_category(count: float, lang: str) -> str:
    """The CLDR plural category of ``count`` in ``lang`` (``one``, ``few``, ``many`` …)."""
    category: str = babel_locale(lang).plural_form(count)
    return category


def fill(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``{name}`` replaced; braces naming nothing given stay as they are.

    Plain replacement rather than ``str.format``: a translator's stray brace
    must not break a screen or a report.
    """
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def plural(key: str, lang: str, count: float, **values: Any) -> str:
    """The message ``key`` for ``count`` things in ``lang``, ``{n}`` filled with the count.

    The form is chosen by the CLDR rules of the language whose catalogue gives
    the text (after fallbacks), and the count is written with that language's
    digits and separators. Other ``{name}`` placeholders are filled from ``values``.
    """
    for candidate in _chain(lang):
        forms = plurals(candidate).get(key)
        if forms is not None:
            text = forms.get(plural_category(count, candidate), forms["other"])
            break
        plain = catalogue(candidate).get(key)
        if plain is not None:
            text = plain
            break
    else:
        text = key
    return fill(text, {"n": format_number(count, lang), **values})


def format_number(value: float, lang: str, digits: int | None = None) -> str:
    """A number for people in ``lang``: CLDR's grouping and decimal signs (1 234,5 in Russian).

    ``digits`` fixes the number of decimals; by default up to three are shown.
    """
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    text: str = format_decimal(value, format=pattern, locale=babel_locale(lang))
    return text


def number_symbols(lang: str) -> dict[str, str]:
    """CLDR's decimal and grouping signs of ``lang`` (the console writes figures with them).

    Chromium's ICU is trimmed: for Kazakh, Kyrgyz, Tajik, Turkmen and Latin Uzbek it
    formats numbers by the root locale (12,345.5), so the console takes the signs from
    here and lets ``Intl.NumberFormat`` do only the grouping and rounding.
    """
    locale = babel_locale(lang)
    return {"decimal": get_decimal_symbol(locale), "group": get_group_symbol(locale)}


def format_day(day: date, lang: str) -> str:
    """A calendar day in words in ``lang`` (6 декабря 2026 г., 6-dekabr, 2026).

    Tables and times keep ISO 8601 order (2026-12-06) in every language; this is
    for headings and sentences, where a month name reads better.
    """
    text: str = format_date(day, format="long", locale=babel_locale(lang))
    return text


def missing(lang: str) -> list[str]:
    """Keys of :func:`~sitcen.taxonomy.catalogue_keys` that ``lang`` itself does not label.

    Fallbacks are ignored: this is the translators' to-do list.
    """
    own = catalogue(lang)
    return [key for key in catalogue_keys() if key not in own]


def _primary(language_range: str) -> str | None:
    """Map a language range (``ru-RU``, ``uz-Latn-UZ``, ``uz-cyrl``, ``kaz``) to a supported code.

    Only the script subtag of Uzbek counts: ``uz-Cyrl`` is a catalogue of its
    own, every other script or region subtag is dropped.
    """
    primary, *rest = language_range.split("-")
    primary = _ALIASES.get(primary, primary)
    if primary == "uz" and "cyrl" in rest:
        return "uz-Cyrl"
    return primary if primary in SUPPORTED else None


def supported(lang: str | None) -> str | None:
    """The supported code a ``?lang=`` value names (``uz-cyrl`` → ``uz-Cyrl``), or None."""
    if not isinstance(lang, str) or not lang.isascii():
        return None
    value = lang.strip().lower().replace("_", "-")
    if not _LANGUAGE_RANGE.fullmatch(value):
        return None
    return _primary(value)


def negotiate(accept_language: str | None) -> str:
    """Pick the supported language a client prefers from its ``Accept-Language`` header.

    Follows RFC 9110: items are weighed by their ``q`` value (default 1), ties
    go to the earlier item, ``q=0`` rules a language out, and ``*`` stands for
    any language not named. Region and script subtags are ignored (``kk-KZ``
    is ``kk``), except Uzbek's ``Cyrl`` (``uz-Cyrl-UZ`` is ``uz-Cyrl``). A
    malformed item is skipped; a missing, empty or wholly malformed header
    gives :data:`DEFAULT`. Never raises.
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
