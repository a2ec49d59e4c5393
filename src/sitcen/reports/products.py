"""The products: daily situation report, weekly and monthly analysis, tactical focused
assessment, annual vulnerability-assessment report — built from the node's own data — and,
at a hub of the risk analysis network, the quarterly and annual joint statistical annex.

A product's *content* is a JSON document: its period, centre and template,
then a list of *blocks* (text, figures, tables, a map, charts), with every
label already in the product's language and the generated text in plain
words. Figures come from the same store functions the statistics API uses
(``sitcen.store.stats``), so a report and the screen agree. Parts a sharing
agreement may withhold (coordinates, section names, person counts, names of
people) are sealed (:mod:`sitcen.exchange.sealing`).

Rendering (HTML, PDF, DOCX) reads only the content: any node that holds an
issued report renders the same pages from it.

This module is the entry: :func:`build_product` dispatches to the builders in
:mod:`~sitcen.reports.daily`, :mod:`~sitcen.reports.analytical` (weekly, monthly),
:mod:`~sitcen.reports.assessments` (tactical, annual) and :mod:`~sitcen.reports.annex`
(the joint annex), which share :mod:`~sitcen.reports.building`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from sitcen.i18n import meta
from sitcen.reports.analytical import _periodic
from sitcen.reports.annex import _annex
from sitcen.reports.assessments import _annual, _tactical
from sitcen.reports.building import Build, Centre, Period, ProductError, _matches
from sitcen.reports.daily import _daily
from sitcen.reports.labels import Labels
from sitcen.reports.templates import PRODUCTS, ReportTemplate
from sitcen.settings import INDICATOR_DEADLINE_DAY, INDICATOR_MEMBERS

CONTENT_VERSION = 1

_BUILDERS: dict[str, Callable[[Build, list[str]], list[dict[str, Any]]]] = {
    "daily": _daily, "weekly": _periodic, "monthly": _periodic, "tactical": _tactical,
    "annual": _annual, "annex_quarterly": _annex, "annex_annual": _annex,
}


def build_product(engine: sa.Engine, product: str, *, centre: Centre, period: Period,
                  template: ReportTemplate, now: datetime | None = None,
                  area: Sequence[str] = (), members: Sequence[str] = INDICATOR_MEMBERS,
                  deadline_day: int = INDICATOR_DEADLINE_DAY) -> dict[str, Any]:
    """The content of a product for a centre and a period, in the template's language
    (``members``, ``deadline_day``: the network's, for the joint annex)."""
    if product not in _BUILDERS:
        raise ProductError("product", f"unknown product {product!r}; one of "
                                      f"{', '.join(PRODUCTS)}")
    if template.product is not None and template.product != product:
        raise ProductError("template", f"template {template.id} is for {template.product} "
                                       f"products, not {product}")
    labels = Labels(template.language)
    now = now or datetime.now(UTC)
    b = Build(engine, centre, period, template, labels, product, now, list(area),
              tuple(members), deadline_day)
    if area:
        chosen = tuple(s for s in centre.sections if _matches(s.id, area))
        if not chosen:
            raise ProductError("area", "the area names no border section of the centre")
        b.centre = Centre(centre.node_id, centre.name, centre.level, centre.country, chosen,
                          centre.zone)
    blocks = _BUILDERS[product](b, template.parts_of(product))
    last = period.end - timedelta(days=1)
    label = (period.start.date().isoformat() if product == "daily" else
             f"{period.start.date().isoformat()} – {last.date().isoformat()}")
    content = {
        "format": CONTENT_VERSION,
        "product": product,
        "title": labels(f"ui.report.title_{product}"),
        "language": template.language,
        "language_name": str(meta(template.language).get("name", template.language)),
        "template": {"id": template.id, "name": template.name, "header": template.header,
                     "logo": template.logo},
        "centre": {"node_id": b.centre.node_id, "name": b.centre.name, "level": b.centre.level,
                   "level_label": labels(f"ui.report.level_{b.centre.level}"),
                   "country": b.centre.country, "time_zone": b.centre.zone.key,
                   "sections": len(b.centre.sections)},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(),
                   "label": label},
        "area": list(area),
        "handling": str(template.handling),
        "generated_at": now.astimezone(b.centre.zone).isoformat(timespec="seconds"),
        "captions": {k: labels(f"ui.report.{k}") for k in (
            "period", "centre", "generated", "issued_by", "signature", "handling",
            "commentary", "withheld", "draft", "page", "version", "not_issued",
            "signature_valid", "signature_invalid")},
        "blocks": blocks,
    }
    note = labels.missing_note()
    content["missing_note"] = note
    return content


def figures_of(content: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a test compares with the API: the first table of each part, as cells."""
    return {block["part"]: block["rows"] for block in content["blocks"]
            if block["kind"] == "table"}


def safe_float(value: Any) -> float:
    """A number for sorting (NaN and text read as 0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number
