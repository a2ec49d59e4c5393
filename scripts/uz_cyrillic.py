#!/usr/bin/env python3
"""Transliterate the Latin Uzbek catalogue into Cyrillic Uzbek, as a translator's draft.

Reads ``src/sitcen/locales/uz.json`` and writes ``uz-Cyrl.json`` beside it with
every label spelt in the Cyrillic alphabet of 1940-1995 (``oʻ`` → ``ў``,
``gʻ`` → ``ғ``, ``sh`` → ``ш``, ``q`` → ``қ`` …). The rules are letter rules
only: Russian loanwords spelt differently in Cyrillic (``sentabr`` →
``сентябрь``, ``aktsiz`` → ``акциз``) need a reader's eye, so the output
is marked as not reviewed. ``{placeholders}`` and codes in capitals
(``TLP:AMBER``, ``CAP``) are left as they are.

Usage: ``python scripts/uz_cyrillic.py [--force | --stdout]``. Without
``--force`` an existing ``uz-Cyrl.json`` is kept (it may hold a translator's
corrections); ``--stdout`` prints the result instead. Plural messages (objects)
are transliterated form by form. The same input always gives the same output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).resolve().parent.parent / "src" / "sitcen" / "locales"

# The apostrophe-like signs Uzbek text is found with after o and g: the proper
# U+02BB, the typographic quote, and the ASCII one typed on any keyboard.
_TURNED = "\u02bb\u2018'`"
# The tutuq belgisi (a glottal stop between letters), Cyrillic ъ.
_TUTUQ = "\u02bc\u2019"

_DIGRAPHS = {"sh": "ш", "ch": "ч", "yo": "ё", "yu": "ю", "ya": "я", "ye": "е"}
_LETTERS = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "ҳ",
    "i": "и", "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
    "q": "қ", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "х",
    "y": "й", "z": "з",
}
_VOWELS = set("aeiouAEIOU")
# Left untouched: {placeholders}, and codes of two or more capitals (TLP:AMBER+STRICT).
_KEEP = re.compile(r"\{[^{}]*\}|\b[A-Z][A-Z0-9]+(?:[:+][A-Z0-9]+)*\b")


def _case(cyrillic: str, latin: str) -> str:
    return cyrillic.upper() if latin[:1].isupper() else cyrillic


def _word(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i:i + 2]
        low = pair.lower()
        before = text[i - 1] if i else ""
        if len(pair) == 2 and low[0] in "og" and pair[1] in _TURNED:
            out.append(_case("ў" if low[0] == "o" else "ғ", pair))
            i += 2
        elif low in _DIGRAPHS and not (low[1] in "o" and text[i + 2:i + 3] in _TURNED):
            # "ye" after a consonant is two letters: only at a start or after a vowel
            # does it stand for е; elsewhere y is й.
            if low == "ye" and before.isalpha() and before not in _VOWELS:
                out.append(_case("й", pair))
                i += 1
                continue
            out.append(_case(_DIGRAPHS[low], pair))
            i += 2
        elif low == "ts" and before in _VOWELS and text[i + 2:i + 3].lower() in _VOWELS:
            out.append(_case("ц", pair))  # migratsiya → миграция
            i += 2
        elif text[i] in _TUTUQ:
            out.append("ъ")
            i += 1
        elif low[:1] == "e" and (not before.isalpha() or before in _VOWELS):
            out.append(_case("э", text[i]))  # a word's first e, or after a vowel
            i += 1
        elif low[:1] in _LETTERS:
            out.append(_case(_LETTERS[low[:1]], text[i]))
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def to_cyrillic(text: str) -> str:
    """Latin Uzbek ``text`` in Cyrillic Uzbek, placeholders and capital codes kept."""
    out: list[str] = []
    last = 0
    for kept in _KEEP.finditer(text):
        out.append(_word(text[last:kept.start()]))
        out.append(kept.group())
        last = kept.end()
    out.append(_word(text[last:]))
    return "".join(out)


def transliterate(catalogue: dict[str, Any]) -> dict[str, Any]:
    """The Cyrillic draft of a Latin Uzbek catalogue, ``_meta`` rewritten for ``uz-Cyrl``."""
    result: dict[str, Any] = {"_meta": {
        "language": "uz-Cyrl",
        "name": "Ўзбекча",
        "script": "Cyrl",
        "complete": False,
        "reviewed": False,
        "note": "Transliterated from uz.json by scripts/uz_cyrillic.py; not reviewed by a "
                "native speaker; corrections welcome (docs/translations.md).",
    }}
    for key, value in catalogue.items():
        if key == "_meta":
            continue
        if isinstance(value, dict):
            result[key] = {form: to_cyrillic(text) for form, text in value.items()}
        else:
            result[key] = to_cyrillic(value)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--force", action="store_true", help="overwrite uz-Cyrl.json")
    group.add_argument("--stdout", action="store_true", help="print instead of writing")
    args = parser.parse_args(argv)
    source = json.loads((LOCALES / "uz.json").read_text(encoding="utf-8"))
    text = json.dumps(transliterate(source), ensure_ascii=False, indent=2) + "\n"
    if args.stdout:
        sys.stdout.write(text)
        return 0
    target = LOCALES / "uz-Cyrl.json"
    if target.exists() and not args.force:
        print(f"{target} exists; --force to overwrite it", file=sys.stderr)
        return 1
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
