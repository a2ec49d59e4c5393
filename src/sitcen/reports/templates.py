"""Report templates a centre adapts: which sections and parts appear, header, logo, language.

A template is a small YAML or JSON document, validated like a sharing
agreement: every problem names the line, the column and the field, so a
broken template gives a clear error instead of a broken report.

```yaml
id: tj-ncc-daily
name: Daily situation report of the national coordination centre
product: daily                 # daily | weekly | monthly | tactical | annual | annex_quarterly
                               # | annex_annual (empty: any)
language: ru                   # a catalogue language
centre_level: national         # national | regional | local
country: TJ                    # default: the node's country
sections: [AF-TJ-*, KG-TJ-*]   # default: every section on a border of the country
header: "Border Troops · Situation centre"
logo: "data:image/png;base64,..."  # PNG or SVG as a data: URL, at most 200 kB
handling: AMBER
time_zone: Asia/Dushanbe       # default: the country's
parts: [summary, categories, sections, map, serious_events, alerts, levels, open_work, patrols]
schedule: "00:30"              # daily products: generated each day at this local time
issue_as: duty                 # and issued by this officer (else left as a draft)
```
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sitcen.exchange.agreements import AgreementError, SectionPattern, validate_document
from sitcen.i18n import SUPPORTED
from sitcen.taxonomy import Handling
from sitcen.times import ZoneName

PRODUCTS = ("daily", "weekly", "monthly", "tactical", "annual", "annex_quarterly", "annex_annual")
Product = Literal["daily", "weekly", "monthly", "tactical", "annual", "annex_quarterly",
                  "annex_annual"]

#: The parts each product can show, in their default order.
PARTS: dict[str, tuple[str, ...]] = {
    "daily": ("summary", "categories", "sections", "map", "serious_events", "alerts", "levels",
              "open_work", "patrols", "chart"),
    "weekly": ("summary", "trends", "chart", "map", "top_risk", "routes", "forecasts",
               "follow_up"),
    "monthly": ("summary", "trends", "chart", "map", "top_risk", "routes", "forecasts",
                "follow_up"),
    "tactical": ("summary", "area_sections", "map", "serious_events", "alerts", "capacity"),
    "annual": ("summary", "vulnerability", "map", "follow_up", "levels_year"),
    # The risk analysis network's joint statistical annex (a hub's product, docs/network.md).
    "annex_quarterly": ("summary", "region", "countries", "submissions", "network_alerts"),
    "annex_annual": ("summary", "region", "countries", "submissions", "network_alerts"),
}
ALL_PARTS = tuple(sorted({p for parts in PARTS.values() for p in parts}))

#: The time zone of each country's centres (docs/domain.md: UTC+5 and UTC+6).
COUNTRY_ZONES = {"KZ": "Asia/Almaty", "KG": "Asia/Bishkek", "TJ": "Asia/Dushanbe",
                 "TM": "Asia/Ashgabat", "UZ": "Asia/Tashkent"}

MAX_LOGO_BYTES = 200_000


class TemplateError(AgreementError):
    """A template that cannot be used; the message names line, column and field."""


class ReportTemplate(BaseModel):
    """How a centre's products look and what they cover."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    name: str = Field("", max_length=200)
    product: Product | None = None
    language: str = "ru"
    centre_level: Literal["national", "regional", "local"] = "national"
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    sections: list[SectionPattern] = Field(default_factory=list)
    header: str = Field("", max_length=500)
    logo: str | None = Field(None, max_length=MAX_LOGO_BYTES * 2)
    handling: Handling = Handling.amber
    time_zone: ZoneName | None = None
    parts: list[str] = Field(default_factory=list)
    schedule: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    issue_as: str | None = Field(None, max_length=64)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED:
            raise ValueError(f"no catalogue for {value!r}; use one of {', '.join(SUPPORTED)}")
        return value

    @field_validator("parts")
    @classmethod
    def _parts(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in ALL_PARTS]
        if unknown:
            raise ValueError(f"unknown part {unknown[0]!r}; parts are {', '.join(ALL_PARTS)}")
        return value

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for prefix in ("data:image/png;base64,", "data:image/svg+xml;base64,"):
            if value.startswith(prefix):
                try:
                    raw = base64.b64decode(value[len(prefix):], validate=True)
                except binascii.Error:
                    raise ValueError("the logo is not valid base64") from None
                if len(raw) > MAX_LOGO_BYTES:
                    raise ValueError(f"the logo is over {MAX_LOGO_BYTES} bytes")
                if prefix.startswith("data:image/png") and not raw.startswith(b"\x89PNG"):
                    raise ValueError("the logo says PNG but is not a PNG image")
                return value
        raise ValueError("the logo must be a data: URL of a PNG or SVG image "
                         "(data:image/png;base64,...)")

    def parts_of(self, product: str) -> list[str]:
        """The parts a product shows under this template, in order."""
        own = PARTS[product]
        if not self.parts:
            return list(own)
        return [p for p in self.parts if p in own]

    def zone(self, node_country: str) -> ZoneInfo:
        """The centre's time zone: the template's, else its country's, else UTC."""
        name = self.time_zone or COUNTRY_ZONES.get(self.country or node_country, "UTC")
        return ZoneInfo(name)


def default_template(product: str, language: str = "ru") -> ReportTemplate:
    """The template used when none is named: the node's country, every part, in ``language``."""
    return ReportTemplate(id=f"default-{product}", name="", product=product,
                          language=language)


def load_template(text: str, *, source: str = "<template>") -> ReportTemplate:
    """Parse and validate a template written in YAML or JSON; :class:`TemplateError` if broken."""
    try:
        return validate_document(text, ReportTemplate, source=source)
    except AgreementError as exc:
        raise TemplateError(str(exc), exc.errors) from None


def template_from_dict(data: dict[str, Any]) -> ReportTemplate:
    """A template from a stored body (already validated once)."""
    return ReportTemplate.model_validate(data)
