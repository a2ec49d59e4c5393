"""The catalogues against each other, the console against the catalogues, the glossary
against both: what a translator runs before sending a correction (docs/translations.md)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sitcen import i18n
from sitcen.i18n import SUPPORTED, catalogue, meta, plurals

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_SOURCES = ROOT / "frontend" / "src"
GLOSSARY = ROOT / "docs" / "glossary.md"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _placeholders(lang: str, key: str) -> set[str]:
    forms = plurals(lang).get(key)
    texts = list(forms.values()) if forms is not None else [catalogue(lang)[key]]
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def _categories(lang: str) -> set[str]:
    """The CLDR plural categories of ``lang`` (``other`` always among them)."""
    return {*i18n.babel_locale(lang).plural_form.rules, "other"}


# -- every catalogue is complete ------------------------------------------------


@pytest.mark.parametrize("lang", [lang for lang in SUPPORTED if lang != "en"])
def test_a_complete_catalogue_labels_every_english_key(lang: str) -> None:
    # Runs for every catalogue whose _meta says it is complete, and turns itself on for the
    # others when their translator sets "complete": true.
    if not meta(lang).get("complete"):
        pytest.skip(f"src/sitcen/locales/{lang}.json does not claim to be complete yet "
                    f"({len(catalogue(lang))} of {len(catalogue('en'))} keys)")
    english = catalogue("en")
    own = catalogue(lang)
    assert [key for key in english if key not in own] == [], f"{lang}.json lacks these keys"
    assert [key for key in own if key not in english] == [], f"{lang}.json has keys en lacks"
    wrong = {key: sorted(_placeholders(lang, key) ^ _placeholders("en", key))
             for key in english if _placeholders(lang, key) != _placeholders("en", key)}
    assert wrong == {}, "placeholders that differ from the English ones"


@pytest.mark.parametrize("lang", SUPPORTED)
def test_plural_messages_have_the_languages_cldr_forms(lang: str) -> None:
    expected = _categories(lang)
    wrong = {key: sorted(forms) for key, forms in plurals(lang).items()
             if set(forms) != expected}
    assert wrong == {}, f"{lang} counts in the forms {sorted(expected)}"


def test_russian_needs_four_plural_forms_and_english_two() -> None:
    assert _categories("ru") == {"one", "few", "many", "other"}
    assert _categories("en") == {"one", "other"}
    assert _categories("kk") == {"one", "other"}
    assert "ui.console.total_events" in plurals("en")


def test_a_plural_message_in_english_is_a_plural_message_in_russian() -> None:
    # Russian is the fallback of every national language: a count it labels with one
    # string would read wrong for 2 or 5 of something.
    assert set(plurals("en")) <= set(plurals("ru"))


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalogue_meta_says_whether_a_native_speaker_reviewed_it(lang: str) -> None:
    own = meta(lang)
    if "reviewed" in own:
        assert isinstance(own["reviewed"], bool)
    reviewers = own.get("reviewed_by", [])
    assert isinstance(reviewers, list) and all(isinstance(r, str) and r for r in reviewers)
    if reviewers:
        assert i18n.reviewed(lang), "reviewers are named only once the review is done"
    if own.get("complete") and not i18n.reviewed(lang):
        # The note a translator leaves says where corrections go.
        assert "docs/translations.md" in own.get("note", ""), f"{lang}.json _meta.note"


def test_english_and_russian_are_reviewed_and_cyrillic_uzbek_is_not() -> None:
    assert i18n.reviewed("en") and i18n.reviewed("ru")
    assert not i18n.reviewed("uz-Cyrl")


# -- Cyrillic Uzbek ---------------------------------------------------------------


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("latin", "cyrillic"), [
    ("Oʻzbekiston", "Ўзбекистон"),
    ("gʻalla", "ғалла"),
    ("Shubhali shaxs", "Шубҳали шахс"),
    ("choy", "чой"),
    ("yoʻl", "йўл"),
    ("Yangi: {n}", "Янги: {n}"),
    ("epidemiya", "эпидемия"),
    ("migratsiya", "миграция"),
    ("sanʼat", "санъат"),
    ("Qurol va oʻq-dorilar", "Қурол ва ўқ-дорилар"),
    ("TLP:AMBER+STRICT", "TLP:AMBER+STRICT"),
    ("yer", "ер"),
    ("qabul qilingan", "қабул қилинган"),
    ("Oʻrta", "Ўрта"),
])
def test_latin_uzbek_is_transliterated_letter_by_letter(latin: str, cyrillic: str) -> None:
    assert _script("uz_cyrillic").to_cyrillic(latin) == cyrillic


def test_the_transliteration_keeps_keys_placeholders_and_plural_forms() -> None:
    module = _script("uz_cyrillic")
    draft = module.transliterate({"_meta": {"language": "uz"}, "a": "{n} ta hodisa",
                                  "b": {"one": "{n} hodisa", "other": "{n} hodisa"}})
    assert draft["_meta"]["language"] == "uz-Cyrl" and draft["_meta"]["reviewed"] is False
    assert draft["a"] == "{n} та ҳодиса"
    assert draft["b"] == {"one": "{n} ҳодиса", "other": "{n} ҳодиса"}


#: Codes, names and paths that stand in Latin letters in a Cyrillic text.
LATIN_IN_ANY_SCRIPT = ("ISO 3166-1 alpha-2", "YYYY-MM-DD HH:mm", "Google Authenticator",
                       "FreeOTP", "Aegis", "Webhook", "URL", "QR", "Esc", "sitcen", "TLP:",
                       "(p)", "(q)", "p =")
_PATH = re.compile(r"[\w.<>-]*/[\w./<>-]+")


def test_cyrillic_uzbek_is_written_in_cyrillic() -> None:
    own = catalogue("uz-Cyrl")
    assert meta("uz-Cyrl")["script"] == "Cyrl" and meta("uz-Cyrl")["language"] == "uz-Cyrl"

    def words(text: str) -> str:
        text = _PATH.sub("", PLACEHOLDER.sub("", text))
        for code in LATIN_IN_ANY_SCRIPT:
            text = text.replace(code, "")
        return text

    latin = [key for key, text in own.items() if isinstance(text, str)
             and re.search(r"[a-z]", words(text))]
    assert latin == []


# -- every string in the console comes from a catalogue ---------------------------

#: Attributes whose value a user sees or hears.
TEXT_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
#: Visible text that is the same in every language: the product's name, file formats,
#: key names, and patterns and examples of codes typed into a field.
SAME_IN_EVERY_LANGUAGE = {"sitcen", "sitcen…", "PDF", "DOCX", "Ctrl+Enter", "YYYY-MM-DD HH:mm",
                          "https://"}
_WORD = re.compile(r"[A-Za-z\u0400-\u04ff]{2,}")
# After a JSX element, code goes on (": null", "; return (") where text would be; text
# that looks like code is code.
_CODE = re.compile(r"^[:;),?|&]|⇒|===|!==|\s\?\s|\bconst\b|\breturn\b|\bnull\b|\(\s*$")


def _without_comments(source: str) -> str:
    source = re.sub(r"\{\s*/\*.*?\*/\s*\}", "", source, flags=re.S)
    source = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), source,
                    flags=re.S)
    return re.sub(r"(?m)(^|[\s;{}(),])//[^\n]*", r"\1", source)


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of each user-visible literal in a .tsx source that is not passed
    through ``t()``: JSX text children and the values of :data:`TEXT_ATTRIBUTES`."""
    code = _without_comments(source)
    # Arrows and comparisons are not tags.
    code = code.replace("=>", "⇒").replace(">=", "≥").replace("<=", "≤")
    found: list[tuple[int, str]] = []
    tag = r"(?:(?<=[\s(>}⇒?:&|,])<[A-Za-z][\w.]*(?:\s[^<>]*?)?>|</[\w.]*>|<>)([^<>{}]+)"
    for match in re.finditer(tag, code):
        text = match.group(1).strip()
        if _WORD.search(text) and not _CODE.search(text):
            found.append((code.count("\n", 0, match.start(1)) + 1, text))
    names = "|".join(TEXT_ATTRIBUTES)
    attribute = r"\b(?:" + names + r")=(?:\"([^\"]*)\"|\{'([^']*)'\}|\{`([^`]*)`\})"
    for match in re.finditer(attribute, code):
        value = next((group for group in match.groups() if group is not None), "")
        literal = re.sub(r"\$\{[^}]*\}", "", value)
        # Codes in capitals (KG-TJ-007, AF-TJ-*) are examples, the same in every language.
        if re.search(r"[a-z\u0430-\u044f]{2,}", literal):
            found.append((code.count("\n", 0, match.start()) + 1, value))
    return [(line, text) for line, text in found if text not in SAME_IN_EVERY_LANGUAGE]


def test_the_check_finds_what_it_should() -> None:
    source = """
      return (<div title="Close" class="x">
        <h3>{t('ok')}</h3> Events on the map <br />
        {/* a comment that is not shown */}
        <input placeholder={`from ${day}`} aria-label={t('fine')} />
        <b>sitcen</b> <span>{n}</span> {cond ? <i>{t('a')}</i> : null}
      </div>);
      const a = useState<string | null>(null); // <b>not jsx</b>
    """
    assert untranslated(source) == [(3, "Events on the map"), (2, "Close"),
                                    (5, "from ${day}")]


def test_every_string_in_the_console_comes_from_a_catalogue() -> None:
    sources = sorted(CONSOLE_SOURCES.glob("*.tsx"))
    assert sources, "frontend/src has no .tsx files"
    found = [f"{path.name}:{line}: {text!r}" for path in sources
             for line, text in untranslated(path.read_text(encoding="utf-8"))]
    assert found == [], "put these strings into en.json and ru.json and show them with t()"


def test_every_key_the_console_names_is_in_the_english_catalogue() -> None:
    english = catalogue("en")
    keys = {key for path in CONSOLE_SOURCES.glob("*.ts*")
            for key in re.findall(r"\bt\('([\w.]+)'", path.read_text(encoding="utf-8"))}
    unknown = sorted(key for key in keys
                     if not any(k in english for k in (f"ui.console.{key}", f"ui.{key}", key)))
    assert unknown == []


# -- the glossary -------------------------------------------------------------------


def glossary_rows() -> list[dict[str, str]]:
    """The rows of docs/glossary.md's tables, by column name."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("- "):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_the_glossary_has_a_column_for_every_language() -> None:
    rows = glossary_rows()
    assert len(rows) >= 20
    for row in rows:
        assert set(SUPPORTED) <= set(row), row
        assert all(row[lang] for lang in SUPPORTED), row
    keyed = {row["Key"].strip("`") for row in rows if row["Key"] != "—"}
    assert keyed <= set(catalogue("en")), "the glossary names keys the catalogue lacks"


@pytest.mark.parametrize("lang", SUPPORTED)
def test_the_glossary_matches_each_complete_catalogue(lang: str) -> None:
    if not meta(lang).get("complete"):
        pytest.skip(f"{lang}.json is not complete yet; its glossary column is a draft")
    own = catalogue(lang)
    differ = {row["Key"]: (row[lang], own.get(row["Key"].strip("`")))
              for row in glossary_rows()
              if row["Key"] != "—" and own.get(row["Key"].strip("`")) != row[lang]}
    assert differ == {}, ("glossary term vs catalogue label: change one so both agree "
                          "(scripts/sync_glossary.py copies the labels into the glossary)")


def test_the_glossary_sync_script_agrees_with_the_test() -> None:
    module = _script("sync_glossary")
    text = GLOSSARY.read_text(encoding="utf-8")
    assert module.synced(text) == text
    stale = text.replace("| Низкий |", "| Маленький |", 1)
    assert module.synced(stale) == text


def test_files_are_utf8_json_with_readable_letters() -> None:
    # A translator's editor may save \\u escapes; reviewers cannot read those in a diff.
    for path in sorted((ROOT / "src" / "sitcen" / "locales").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        parsed: Any = json.loads(text)
        assert isinstance(parsed, dict) and "_meta" in parsed, path.name
        assert "\\u04" not in text, f"{path.name} escapes Cyrillic letters"
