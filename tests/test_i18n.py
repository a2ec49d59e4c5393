"""Translation catalogues and language negotiation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sitcen import i18n
from sitcen.i18n import SUPPORTED, catalogue, label, labels, missing, negotiate
from sitcen.operations.phrases import render
from sitcen.taxonomy import EVENT_TYPES, Category, catalogue_keys

NATIONAL = ("kk", "ky", "tg", "tk", "uz", "uz-Cyrl")
# What every national catalogue must label at least; the rest falls back to Russian.
NATIONAL_PREFIXES = ("category.", "type.", "enum.impact_level.", "enum.status.", "enum.handling.")


def _file_text(lang: str) -> str:
    return (resources.files("sitcen") / "locales" / f"{lang}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_reference_catalogues_are_complete(lang: str) -> None:
    assert missing(lang) == []
    own = catalogue(lang)
    for key in catalogue_keys():
        assert own[key].strip(), key
        assert own[key] != key


@pytest.mark.parametrize("lang", NATIONAL)
def test_national_catalogues_label_every_category_and_type(lang: str) -> None:
    required = [key for key in catalogue_keys() if key.startswith(NATIONAL_PREFIXES)]
    gaps = [key for key in required if key in missing(lang)]
    assert gaps == [], f"{lang}.json lacks {gaps}"


def test_required_keys_cover_the_taxonomy() -> None:
    # Guards the test above against a prefix typo that would make it vacuous.
    keys = set(catalogue_keys())
    assert {f"category.{c.value}" for c in Category} <= keys
    assert {f"type.{t}" for t in EVENT_TYPES} <= keys


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalogue_has_no_unknown_keys(lang: str) -> None:
    known = set(catalogue_keys())
    stray = [key for key in catalogue(lang) if key not in known and not key.startswith("ui.")]
    assert stray == []


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalogue_meta_names_its_language(lang: str) -> None:
    meta = i18n.meta(lang)
    assert meta["language"] == lang
    assert isinstance(meta["complete"], bool)
    assert meta["complete"] == (missing(lang) == [])


@pytest.mark.parametrize("lang", SUPPORTED)
def test_ui_keys_exist_in_english(lang: str) -> None:
    # English is the last fallback, so a ui.* key it lacks would show as a raw key.
    english = catalogue("en")
    assert [key for key in catalogue(lang) if key.startswith("ui.") and key not in english] == []


def test_russian_labels_every_ui_key() -> None:
    english_ui = {key for key in catalogue("en") if key.startswith("ui.")}
    assert english_ui - set(catalogue("ru")) == set()


@pytest.mark.parametrize("lang", SUPPORTED)
def test_labels_cover_every_key_through_fallbacks(lang: str) -> None:
    merged = labels(lang)
    assert set(catalogue_keys()) <= set(merged)
    assert all(value.strip() for value in merged.values())


@pytest.mark.parametrize("lang", SUPPORTED)
def test_handling_labels_keep_tlp_names(lang: str) -> None:
    for value in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"):
        assert label(f"enum.handling.{value}", lang) == f"TLP:{value}"


def test_known_professional_terms() -> None:
    assert label("type.drug_smuggling", "ru") == "Контрабанда наркотиков"
    assert label("type.damaged_border_sign", "ru") == "Повреждение пограничного знака"
    assert label("enum.reaction.seized", "ru") == "Изъятие"
    assert label("type.drug_smuggling", "en") == "Drug smuggling"


# -- fallback chain -----------------------------------------------------------


@pytest.fixture
def kk_gap(monkeypatch: pytest.MonkeyPatch) -> str:
    """A key the Kazakh catalogue leaves out: every shipped catalogue is complete, so the
    gap is staged through a stand-in loader rather than by editing the shipped files."""
    key = "field.modus_operandi"
    real = i18n.catalogue

    def staged(lang: str) -> Mapping[str, str]:
        own = real(lang)
        return {k: v for k, v in own.items() if k != key} if lang == "kk" else own

    monkeypatch.setattr(i18n, "catalogue", staged)
    return key


def test_national_language_falls_back_to_russian(kk_gap: str) -> None:
    assert kk_gap not in i18n.catalogue("kk")
    assert label(kk_gap, "kk") == catalogue("ru")[kk_gap] == "Способ совершения"


def test_national_language_uses_its_own_label_first() -> None:
    assert label("type.drug_smuggling", "kk") == "Есірткі контрабандасы"
    assert label("type.drug_smuggling", "uz") == "Giyohvandlik vositalari kontrabandasi"


def test_fallback_chains() -> None:
    assert i18n.FALLBACKS["en"] == ("en",)
    assert i18n.FALLBACKS["ru"] == ("ru", "en")
    for lang in NATIONAL:
        assert i18n.FALLBACKS[lang] == (lang, "ru", "en")
    assert set(i18n.FALLBACKS) == set(SUPPORTED)


def test_russian_falls_back_to_english_for_an_english_only_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both reference catalogues are complete, so stage a key only English has
    # through a stand-in loader rather than editing the shipped files.
    real = i18n.catalogue

    def staged(lang: str) -> dict[str, str]:
        own = dict(real(lang))
        if lang == "en":
            own["ui.only_in_english"] = "English only"
        return own

    monkeypatch.setattr(i18n, "catalogue", staged)
    assert label("ui.only_in_english", "ru") == "English only"
    assert label("ui.only_in_english", "tg") == "English only"
    assert labels("kk")["ui.only_in_english"] == "English only"


def test_unlabelled_key_is_returned_as_is() -> None:
    assert label("type.no_such_type", "en") == "type.no_such_type"
    assert label("type.no_such_type", "kk") == "type.no_such_type"


def test_unsupported_language_is_shown_in_english() -> None:
    assert label("type.epidemic", "fr") == "Epidemic"
    assert labels("fr") == labels("en")
    with pytest.raises(ValueError, match="unsupported language"):
        catalogue("fr")
    with pytest.raises(ValueError, match="unsupported language"):
        missing("fr")


def test_missing_ignores_fallbacks(kk_gap: str) -> None:
    gaps = missing("kk")
    assert gaps == [kk_gap]
    assert "type.drug_smuggling" not in gaps
    assert gaps == [key for key in catalogue_keys() if key in gaps]  # taxonomy order


def test_catalogues_are_read_only_and_cached() -> None:
    assert catalogue("ru") is catalogue("ru")
    with pytest.raises(TypeError):
        catalogue("ru")["type.epidemic"] = "x"  # type: ignore[index]
    # labels() hands out a fresh dict the caller may change.
    merged = labels("ru")
    merged["type.epidemic"] = "x"
    assert label("type.epidemic", "ru") == "Эпидемия"


# -- catalogue files ----------------------------------------------------------


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalogue_file_is_a_flat_object(lang: str) -> None:
    # One level only: a label, or a plural message's forms (each a label).
    raw = json.loads(_file_text(lang))
    assert isinstance(raw.pop("_meta"), dict)
    for value in raw.values():
        forms = value.values() if isinstance(value, dict) else [value]
        assert all(isinstance(form, str) for form in forms)


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalogue_file_has_no_duplicate_keys(lang: str) -> None:
    duplicates: list[str] = []

    def collect(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in items]
        duplicates.extend(sorted({key for key in keys if keys.count(key) > 1}))
        return dict(items)

    json.loads(_file_text(lang), object_pairs_hook=collect)
    assert duplicates == []


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(i18n.CatalogueError, match="duplicate key 'a'"):
        json.loads('{"a": "1", "a": "2"}', object_pairs_hook=i18n._reject_duplicates)


@pytest.mark.parametrize("lang", ["ru", "kk", "ky", "tg"])
def test_cyrillic_survives_round_trips(lang: str) -> None:
    own = dict(catalogue(lang))
    sample = own["category.unauthorised_crossing"]
    assert any("\u0400" <= char <= "\u04ff" for char in sample)
    # Stored as UTF-8 text, not \u escapes, so translators can read and diff it.
    assert sample in _file_text(lang)
    assert json.loads(json.dumps(own, ensure_ascii=False)) == own
    assert json.loads(json.dumps(own)) == own
    assert json.loads(json.dumps(own, ensure_ascii=False).encode("utf-8").decode("utf-8")) == own


def test_latin_scripts_keep_their_letters() -> None:
    assert label("enum.impact_level.high", "tk") == "Ýokary"
    assert "\u02bb" in label("enum.impact_level.medium", "uz")  # oʻ with the modifier letter


# -- Accept-Language negotiation ----------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("kk-KZ", "kk"),
        ("en-GB,en;q=0.9", "en"),
        ("ky", "ky"),
        ("tg-TJ,ru;q=0.5", "tg"),
        ("uz-Latn-UZ", "uz"),
        ("uz-Cyrl", "uz-Cyrl"),
        ("uz-Cyrl-UZ", "uz-Cyrl"),
        ("uz-cyrl-uz;q=0.9,ru;q=0.5", "uz-Cyrl"),
        ("uzb-Cyrl", "uz-Cyrl"),
        ("uz-UZ,uz-Cyrl;q=0.5", "uz"),
        ("uz_UZ", "uz"),
        ("TK", "tk"),
        ("kaz", "kk"),
        ("fr-FR,de;q=0.9,ru;q=0.1", "ru"),
        ("en;q=0.5,ru;q=0.8", "ru"),
        ("ru;q=0.8,uz;q=0.8", "ru"),  # a tie goes to the earlier item
        ("  ru ; q = 0.7 , en ; q=0.6 ", "ru"),
        ("ru;level=1;q=0.9,en;q=0.5", "ru"),  # unknown parameters are ignored
        ("ru;q=1.000", "ru"),
        ("ru;;;;", "ru"),  # empty parameters are nothing to object to
    ],
)
def test_negotiate_prefers_the_highest_weight(header: str, expected: str) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru;q=0,kk;q=0.1", "kk"),
        ("en;q=0,ru;q=0", "en"),  # nothing acceptable: serve the default anyway
        ("ru;q=0", "en"),
        ("*;q=0.5,en;q=0", "ru"),
        ("*", "en"),
        ("*,en;q=0", "ru"),
        ("ru-RU;q=0,ru;q=0.5,en;q=0.4", "ru"),
        ("tk;q=0.2,*;q=0.5", "en"),
        ("*;q=0.1,uz", "uz"),
    ],
)
def test_negotiate_q_zero_and_wildcard(header: str, expected: str) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        ",,,",
        "fr-FR,de",
        "ru;q=abc",
        "ru;q=1.5",
        "ru;q=-1",
        "ru;q=nan",
        "ru;q=inf",
        "ru;q",
        "ru;q=0.1234",
        "12345",
        "en-",
        "r u",
        "рус",
        "русский;q=0.9",
        "\u212ak",  # Kelvin sign lowers to ASCII "k": still not a language tag
        "r\nu",
        "\x00\xff",
        ";q=1",
        "=",
    ],
)
def test_negotiate_survives_garbage(header: str | None) -> None:
    assert negotiate(header) == "en"


def test_negotiate_bounds_a_huge_header() -> None:
    assert negotiate("ru-RU," * 100_000) == "ru"
    assert negotiate("xx," * 100_000 + "ru") == "en"  # items past the bound are not read


def test_negotiate_skips_only_the_malformed_item() -> None:
    assert negotiate("ru;q=abc,kk;q=0.5") == "kk"
    assert negotiate("xx-!!,ky") == "ky"


def test_negotiate_ignores_a_non_string() -> None:
    assert negotiate(42) == "en"  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"),
                         [("uz-Cyrl", "uz-Cyrl"), ("uz-cyrl", "uz-Cyrl"), ("uz_Cyrl_UZ", "uz-Cyrl"),
                          ("uz", "uz"), ("ru-RU", "ru"), ("kaz", "kk"), ("fr", None), ("", None),
                          (None, None), ("рус", None), ("uz-Cyrl;q=1", None)])
def test_a_lang_parameter_names_a_supported_language(value: str | None,
                                                     expected: str | None) -> None:
    assert i18n.supported(value) == expected


def test_lang_parameter_and_header_choose_cyrillic_uzbek(client: TestClient) -> None:
    by_query = client.get("/api/v1/taxonomy/labels", params={"lang": "uz-cyrl"}).json()
    by_header = client.get("/api/v1/taxonomy/labels",
                           headers={"accept-language": "uz-Cyrl-UZ,ru;q=0.8"}).json()
    assert by_query["language"] == by_header["language"] == "uz-Cyrl"
    assert by_query["labels"]["type.epidemic"] == "Эпидемия"
    assert by_query["reviewed"] is False


# -- plural messages ----------------------------------------------------------


@pytest.mark.parametrize(("count", "expected"), [
    (1, "1 событие"), (2, "2 события"), (5, "5 событий"), (11, "11 событий"),
    (21, "21 событие"), (22, "22 события"), (0, "0 событий"), (1.5, "1,5 события"),
    (12345, "12\u00a0345 событий"),
])
def test_russian_counts_agree_with_their_number(count: float, expected: str) -> None:
    assert i18n.plural("ui.console.total_events", "ru", count) == expected


@pytest.mark.parametrize(("count", "expected"), [(1, "1 event"), (2, "2 events"),
                                                 (1000, "1,000 events")])
def test_english_counts(count: int, expected: str) -> None:
    assert i18n.plural("ui.console.total_events", "en", count) == expected


def test_kazakh_counts_by_its_own_rules_or_by_the_language_it_falls_back_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Kazakh has two CLDR categories; a Kazakh text without forms serves every count.
    assert i18n.babel_locale("kk").plural_form(1) == "one"
    assert i18n.babel_locale("kk").plural_form(5) == "other"
    own = dict(catalogue("kk"))
    if "ui.console.total_events" in own:  # the Kazakh text, the count filled in
        counted = i18n.plural("ui.console.total_events", "kk", 5)
        assert "5" in counted and "{n}" not in counted and "событ" not in counted
    # Staged: kk without the key counts in Russian (21 событие), as its fallback says.
    monkeypatch.setattr(i18n, "catalogue",
                        lambda lang: {} if lang == "kk" else i18n._load(lang)[0])
    monkeypatch.setattr(i18n, "plurals",
                        lambda lang: {} if lang == "kk" else i18n._load(lang)[1])
    assert i18n.plural("ui.console.total_events", "kk", 21) == "21 событие"
    assert i18n.plural("ui.console.total_events", "kk", 25) == "25 событий"
    assert i18n.plural_bundle("kk")["ui.console.total_events"]["language"] == "ru"


def test_a_plain_label_serves_every_count_and_hides_the_fallbacks_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_catalogue, real_plurals = i18n.catalogue, i18n.plurals

    def staged(lang: str) -> Any:
        own = dict(real_catalogue(lang))
        if lang == "kk":
            own["ui.console.total_events"] = "Оқиғалар: {n}"
        return own

    monkeypatch.setattr(i18n, "catalogue", staged)
    monkeypatch.setattr(i18n, "plurals",
                        lambda lang: {} if lang == "kk" else real_plurals(lang))
    assert i18n.plural("ui.console.total_events", "kk", 5) == "Оқиғалар: 5"
    assert "ui.console.total_events" not in i18n.plural_bundle("kk")


def test_a_plural_message_reads_as_its_other_form_where_nothing_is_counted() -> None:
    assert label("ui.console.total_events", "en") == "{n} events"
    assert labels("ru")["ui.console.duration.days"] == "{n} дня"


def test_the_console_bundle_carries_plural_forms(client: TestClient) -> None:
    answer = client.get("/api/v1/taxonomy/labels", params={"lang": "ru"}).json()
    entry = answer["plurals"]["ui.console.total_events"]
    assert entry["language"] == "ru"
    assert set(entry["forms"]) == {"one", "few", "many", "other"}
    assert answer["reviewed"] is True and answer["complete"] is True


@pytest.mark.parametrize(("value", "problem"), [
    ('{"a": {"one": "x"}}', "needs the plural form 'other'"),
    ('{"a": {"other": "x", "several": "y"}}', "unknown plural forms"),
    ('{"a": {"other": ""}}', "must be a non-empty string"),
    ('{"a": {"other": {"one": "x"}}}', "must be a non-empty string"),
    ('{"a": ["x"]}', "non-empty string or an object of plural forms"),
])
def test_a_malformed_plural_message_is_refused(value: str, problem: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    class File:
        def __truediv__(self, _name: str) -> File:
            return self

        def read_text(self, encoding: str) -> str:
            return value

    monkeypatch.setattr(resources, "files", lambda _package: File())
    i18n._load.cache_clear()
    try:
        with pytest.raises(i18n.CatalogueError, match=re.escape(problem)):
            i18n._load("kk")
    finally:
        i18n._load.cache_clear()


def test_phrases_count_in_the_readers_language() -> None:
    assert render({"key": "ui.console.alerts.events", "params": {"n": 3}}, "ru") == \
        "3 события на карте"
    assert render({"key": "ui.console.alerts.events", "params": {"n": 1}}, "en") == \
        "1 event on the map"


# -- numbers and dates --------------------------------------------------------


@pytest.mark.parametrize(("lang", "number", "day"), [
    ("en", "12,345.5", "December 6, 2026"),
    ("ru", "12\u00a0345,5", "6 декабря 2026\u00a0г."),
    ("kk", "12\u00a0345,5", "2026 ж. 6 желтоқсан"),
    ("ky", "12\u00a0345,5", "2026-ж., 6-декабрь"),
    ("tg", "12\u00a0345,5", "06 Декабр 2026"),
    ("tk", "12\u00a0345,5", "6 dekabr 2026"),
    ("uz", "12\u00a0345,5", "6-dekabr, 2026"),
    ("uz-Cyrl", "12\u00a0345,5", "6 декабр, 2026"),
])
def test_numbers_and_days_in_each_language(lang: str, number: str, day: str) -> None:
    # Every language has CLDR data in Babel; none falls back for formatting.
    expected_locale = {"uz-Cyrl": "uz_Cyrl"}.get(lang, lang)
    assert str(i18n.babel_locale(lang)) == expected_locale
    # Which space CLDR puts in (no-break, narrow no-break) changes between its versions.
    assert _spaced(i18n.format_number(12345.5, lang)) == _spaced(number)
    assert _spaced(i18n.format_day(date(2026, 12, 6), lang)) == _spaced(day)


def _spaced(text: str) -> str:
    return re.sub(r"\s", " ", text)


def test_fixed_decimals_and_an_unknown_language() -> None:
    assert i18n.format_number(0.5, "ru", 2) == "0,50"
    assert i18n.format_number(7, "en", 0) == "7"
    assert i18n.format_number(1234, "fr") == "1,234"  # not supported: English


def test_fill_leaves_unknown_and_stray_braces() -> None:
    assert i18n.fill("{n} of {total} {", {"n": 1}) == "1 of {total} {"
