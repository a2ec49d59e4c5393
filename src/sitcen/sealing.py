"""Sealed parts of a signed document, so that sharing can take parts out and the signature holds.

An issued report is signed once, by its officer, over its whole content;
a partner may receive it without personal data and with sections only
(docs/sharing.md). Re-signing on the way is impossible (the sharing function
holds no key, and a relay is not the officer), so the parts a sharing
agreement may withhold are **sealed** when the document is made:

``{"$sealed": {"tag": "location", "salt": "<random>", "value": ...}}``

The document's digest is computed over a form in which every sealed part is
replaced by the hash of its salt, tag and value. Withholding a part replaces
it by ``{"$redacted": {"tag": ..., "digest": ...}}``: the digest of the whole
is unchanged, so the signature still verifies, and the random salt keeps a
withheld small value (a count, a coordinate) from being guessed from its hash.

Tags say what a part is: ``location`` (coordinates finer than a section),
``section`` (anything naming a border section), ``persons`` (counts of persons
involved), ``personal`` (names of people). Pure functions; no I/O, no clock;
part of the model, so the sharing function, the products and the figures share it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

SEALED = "$sealed"
REDACTED = "$redacted"
DIGEST = "$digest"

#: What each tag marks, for the docs and the checks.
TAGS: dict[str, str] = {
    "location": "coordinates finer than a border section",
    "section": "what names a border section",
    "persons": "counts of the persons involved",
    "personal": "names of people",
}


def seal(tag: str, value: Any, *, salt: str | None = None) -> dict[str, Any]:
    """A sealed part holding ``value`` (a fresh random salt unless one is given)."""
    if tag not in TAGS:
        raise ValueError(f"unknown seal tag {tag!r}")
    if salt is None:
        salt = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    return {SEALED: {"tag": tag, "salt": salt, "value": value}}


def canonical(value: Any) -> bytes:
    """The one byte form a JSON value is hashed in (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _is(node: Any, key: str) -> bool:
    return isinstance(node, Mapping) and len(node) == 1 and key in node


def _part_digest(part: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({"salt": part["salt"], "tag": part["tag"],
                                     "value": _digest_form(part["value"])})).hexdigest()


def _digest_form(node: Any) -> Any:
    """``node`` with every sealed or withheld part replaced by its digest."""
    if _is(node, SEALED):
        return {DIGEST: _part_digest(node[SEALED])}
    if _is(node, REDACTED):
        return {DIGEST: str(node[REDACTED]["digest"])}
    if isinstance(node, Mapping):
        return {k: _digest_form(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_digest_form(v) for v in node]
    return node


def digest(document: Any) -> str:
    """SHA-256 (hex) of a document, the same whichever sealed parts were withheld."""
    return hashlib.sha256(canonical(_digest_form(document))).hexdigest()


def redact(document: Any, withhold: Callable[[str], bool]) -> Any:
    """A copy of ``document`` whose sealed parts with a tag ``withhold`` accepts are withheld.

    Parts kept are walked too (a kept event row may hold a withheld location).
    """
    if _is(document, SEALED):
        part = document[SEALED]
        if withhold(str(part["tag"])):
            return {REDACTED: {"tag": part["tag"], "digest": _part_digest(part)}}
        return {SEALED: {**part, "value": redact(part["value"], withhold)}}
    if isinstance(document, Mapping):
        return {k: redact(v, withhold) for k, v in document.items()}
    if isinstance(document, list):
        return [redact(v, withhold) for v in document]
    return document


def opened(node: Any) -> Any:
    """The value of a sealed part (None when withheld); anything else unchanged."""
    if _is(node, SEALED):
        return node[SEALED]["value"]
    if _is(node, REDACTED):
        return None
    return node


def withheld(node: Any) -> bool:
    """Whether ``node`` is a part that was withheld."""
    return _is(node, REDACTED)


def tags_present(document: Any) -> set[str]:
    """Tags of the sealed parts still open in ``document`` (for checks and tests)."""
    found: set[str] = set()
    if _is(document, SEALED):
        found.add(str(document[SEALED]["tag"]))
        found |= tags_present(document[SEALED]["value"])
    elif isinstance(document, Mapping):
        for v in document.values():
            found |= tags_present(v)
    elif isinstance(document, list):
        for v in document:
            found |= tags_present(v)
    return found
