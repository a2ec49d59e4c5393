"""Labels of a product in its language, with a missing translation marked, never hidden.

A product is written in one catalogue language. A label the language's own
catalogue lacks is taken from its fallback (Russian, then English) and marked
with :data:`MISSING_MARK`; the product then says, in a note, which language
stood in. Nothing is silently replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sitcen.i18n import FALLBACKS, SUPPORTED, catalogue, meta

#: Follows a label shown in a fallback language (a dagger, readable in every script).
MISSING_MARK = "\u2020"


class LanguageError(ValueError):
    """A product was asked for in a language the node has no catalogue for."""


@dataclass
class Labels:
    """The labels of one language; remembers which labels had to fall back."""

    lang: str
    fell_back: dict[str, str] = field(default_factory=dict)  # key -> language used

    def __post_init__(self) -> None:
        if self.lang not in SUPPORTED:
            raise LanguageError(f"no catalogue for language {self.lang!r}; "
                                f"use one of {', '.join(SUPPORTED)}")

    def __call__(self, key: str, **values: Any) -> str:
        """The label of ``key`` (formatted with ``values``), marked if not in this language."""
        own = catalogue(self.lang).get(key)
        if own is not None:
            return own.format(**values) if values else own
        for candidate in FALLBACKS[self.lang][1:]:
            text = catalogue(candidate).get(key)
            if text is not None:
                self.fell_back[key] = candidate
                return (text.format(**values) if values else text) + MISSING_MARK
        self.fell_back[key] = "-"
        return key + MISSING_MARK

    def plain(self, key: str, **values: Any) -> str:
        """Like calling, without the mark (for file names and other machine text)."""
        return self(key, **values).rstrip(MISSING_MARK)

    def missing_note(self) -> str | None:
        """The note that explains the marks, or None when every label was in this language."""
        if not self.fell_back:
            return None
        used = sorted({lang for lang in self.fell_back.values() if lang != "-"})
        names = ", ".join(str(meta(lang).get("name", lang)) for lang in used)
        return self("ui.report.missing_translation", mark=MISSING_MARK,
                    language=str(meta(self.lang).get("name", self.lang)), fallback=names)
