"""One line in plain words about a record, in the reader's language.

A :data:`Phrase` is a catalogue key with parameters (``{"key": "ui.notify.alert",
"params": {...}}``); a parameter that is itself ``{"key": ...}`` is a label to look
up too (an event type, an impact level). Phrases are stored in notifications
and shown on alert cards; the console renders them with its own catalogue,
e-mails and webhooks with :func:`render`. So one record reads right in Russian
for one officer and in English for a partner, and no text is frozen in a
language at the moment it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitcen.i18n import label, plural

Phrase = dict[str, Any]


def phrase(key: str, **params: Any) -> Phrase:
    """A phrase: the catalogue key and its parameters (labels as ``{"key": ...}``)."""
    return {"key": key, "params": {k: v for k, v in params.items() if v is not None}}


def ref(key: str) -> dict[str, str]:
    """A parameter that is a label to look up in the reader's language."""
    return {"key": key}


def render(value: Mapping[str, Any], language: str) -> str:
    """The phrase as text in ``language`` (fallbacks as for every label)."""
    key = str(value.get("key", ""))
    params = value.get("params") or {}
    count = params.get("n")
    # A count message (plural forms in the catalogue) agrees with its number {n}.
    text = (plural(key, language, count) if isinstance(count, int | float)
            and not isinstance(count, bool) else label(key, language))
    for name, param in params.items():
        if isinstance(param, Mapping) and "key" in param:
            shown = label(str(param["key"]), language)
        elif isinstance(param, float):
            shown = f"{param:.1f}".rstrip("0").rstrip(".")
        else:
            shown = str(param)
        text = text.replace("{" + str(name) + "}", shown)
    return text


def _place(body: Mapping[str, Any]) -> Any:
    section = body.get("section_id")
    return section if isinstance(section, str) and section else ref("ui.notify.inland")


def _event_what(body: Mapping[str, Any]) -> Any:
    etype = body.get("type")
    return ref(f"type.{etype}") if isinstance(etype, str) else ref("ui.notify.an_event")


def summary_of(kind: str, body: Mapping[str, Any],
               event: Mapping[str, Any] | None = None, *, origin: str | None = None) -> Phrase:
    """A one-line summary of a record of ``kind`` (``event``: the event it is about, if any;
    ``origin``: the node whose record it is)."""
    if kind == "event":
        return phrase("ui.notify.event", type=_event_what(body), place=_place(body),
                      impact=ref(f"enum.impact_level.{body.get('impact_level') or 'low'}"))
    if kind == "event_action":
        about = event or {}
        action = str(body.get("action", "comment"))
        return phrase(f"ui.notify.action.{action}", by=str(body.get("by") or body.get("origin")
                                                            or "?"),
                      level=body.get("level") or "—", type=_event_what(about),
                      place=_place(about), text=str(body.get("text") or "")[:200])
    if kind == "alert":
        etype = body.get("type")
        what = (ref(f"type.{etype}") if isinstance(etype, str) and etype
                else ref(f"category.{body.get('category') or 'other'}"))
        expected = body.get("expected")
        return phrase("ui.notify.alert",
                      severity=ref(f"ui.severity.{body.get('severity') or 'low'}"),
                      section=str(body.get("section_id") or "—"), what=what,
                      observed=int(body.get("observed") or 0),
                      expected=round(float(expected), 1) if isinstance(expected, int | float)
                      else "?", since=str(body.get("first_day") or ""))
    if kind == "section_assessment":
        return phrase("ui.notify.level", section=str(body.get("section_id") or "—"),
                      level=ref(f"enum.section_impact_level.{body.get('level') or 'low'}"),
                      by=str(body.get("confirmed_by") or "?"))
    if kind == "request_for_information":
        return phrase("ui.notify.request", title=str(body.get("title") or "")[:200],
                      origin=origin or "?",
                      to=str(body.get("to_node") or "?"), due=str(body.get("due_at") or "—"))
    if kind == "thread_message":
        return phrase("ui.notify.message", by=str(body.get("by") or "?"),
                      node=origin or "?",
                      about=ref(f"ui.kind.{body.get('record_kind') or 'record'}"),
                      text=str(body.get("text") or "")[:200])
    if kind == "indicator_submission":
        return phrase("ui.notify.indicators", country=str(body.get("country") or "?"),
                      month=str(body.get("month") or "?"),
                      deadline=str(body.get("deadline") or "—"))
    return phrase("ui.notify.record", kind=ref(f"ui.kind.{kind}"))
