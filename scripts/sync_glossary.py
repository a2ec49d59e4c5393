#!/usr/bin/env python3
"""Bring docs/glossary.md into step with the catalogues that call themselves complete.

For every glossary row that names a catalogue key, the cell of each language whose
catalogue is complete (``_meta.complete``) is set to that key's label; rows without a key
and languages still being translated are left alone. Run it after merging a translation,
read the diff (a changed term may mean the catalogue, not the glossary, is wrong), and
commit both together. ``--check`` exits 1 instead of writing when a cell would change;
tests/test_translations.py makes the same comparison.

Usage: ``python scripts/sync_glossary.py [--check]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sitcen.i18n import SUPPORTED, catalogue, meta

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"


def synced(text: str) -> str:
    """The glossary ``text`` with the complete catalogues' labels in its keyed rows."""
    complete = [lang for lang in SUPPORTED if meta(lang).get("complete")]
    out: list[str] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            out.append(line)
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif "Key" in header and cells[header.index("Key")] not in ("—", "---"):
            key = cells[header.index("Key")].strip("`")
            for lang in complete:
                if lang in header and key in catalogue(lang):
                    cells[header.index(lang)] = catalogue(lang)[key]
            line = "| " + " | ".join(cells) + " |"
        out.append(line)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the glossary differs")
    args = parser.parse_args(argv)
    text = GLOSSARY.read_text(encoding="utf-8")
    new = synced(text)
    if args.check:
        return int(new != text)
    GLOSSARY.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
