"""The building blocks every product builder shares.

The centre and the period a product covers (:class:`Centre`, :class:`Period`,
:func:`centre_for`, :func:`period_for`), the :class:`Build` a builder is handed
(data, centre, period, labels), and the block makers used by more than one
product: text and table blocks, the map, the daily category chart and the
follow-up table of recommendations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
import sqlalchemy as sa

from sitcen.errors import FieldError
from sitcen.geo import BorderSection
from sitcen.i18n import format_day, format_number
from sitcen.reports.labels import MISSING_MARK, Labels
from sitcen.reports.templates import PRODUCTS, ReportTemplate
from sitcen.sealing import seal
from sitcen.settings import INDICATOR_DEADLINE_DAY, INDICATOR_MEMBERS
from sitcen.store.picture import binned
from sitcen.store.recommendations import OPEN_STATUSES
from sitcen.store.stats import DAY_US, Window, per_category, window_where
from sitcen.taxonomy import Category


class ProductError(FieldError):
    """A product asked for with parameters that cannot make one; ``field`` names the culprit."""


@dataclass(frozen=True)
class Centre:
    """The centre a product is for: the node, its level, country, sections and time zone."""

    node_id: str
    name: str
    level: str
    country: str
    sections: tuple[BorderSection, ...]
    zone: ZoneInfo

    @property
    def section_ids(self) -> list[str]:
        return [s.id for s in self.sections]


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes in the centre's zone."""

    start: datetime
    end: datetime

    @property
    def since_us(self) -> int:
        return int(self.start.timestamp() * 1_000_000)

    @property
    def until_us(self) -> int:
        return int(self.end.timestamp() * 1_000_000)

    @property
    def offset_us(self) -> int:
        offset = self.start.utcoffset() or timedelta(0)
        return int(offset.total_seconds()) * 1_000_000

    def shifted(self, days: int) -> Period:
        return Period(self.start + timedelta(days=days), self.end + timedelta(days=days))


def _matches(section_id: str, patterns: Sequence[str]) -> bool:
    return any(section_id == p or (p.endswith("*") and section_id.startswith(p[:-1]))
               for p in patterns)


def centre_for(template: ReportTemplate, *, node_id: str, node_name: str, node_country: str,
               sections: Iterable[BorderSection]) -> Centre:
    """The centre a template describes, with the sections it covers."""
    country = template.country or node_country
    if template.sections:
        chosen = [s for s in sections if _matches(s.id, template.sections)]
    else:
        chosen = [s for s in sections if country in s.id.split("-")[:2]]
    return Centre(node_id, node_name, template.centre_level, country,
                  tuple(sorted(chosen, key=lambda s: s.id)), template.zone(node_country))


def period_for(product: str, day: date, zone: ZoneInfo, *, days: int = 7) -> Period:
    """The period of a product that covers (or, for a tactical one, starts on) ``day``.

    daily: that day 00:00-24:00; weekly: its ISO week from Monday; monthly: its
    month; annual and annex_annual: its year; annex_quarterly: its calendar quarter;
    tactical: ``days`` days from that day on.
    """
    def at(d: date) -> datetime:
        return datetime.combine(d, time(0), zone)

    if product == "daily":
        return Period(at(day), at(day + timedelta(days=1)))
    if product == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Period(at(monday), at(monday + timedelta(days=7)))
    if product == "monthly":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(at(first), at(following))
    if product in ("annual", "annex_annual"):
        return Period(at(date(day.year, 1, 1)), at(date(day.year + 1, 1, 1)))
    if product == "annex_quarterly":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(at(first), at((first + timedelta(days=95)).replace(day=1)))
    if product == "tactical":
        if not 1 <= days <= 90:
            raise ProductError("days", "a tactical assessment looks 1 to 90 days ahead")
        return Period(at(day), at(day + timedelta(days=days)))
    raise ProductError("product", f"unknown product {product!r}; one of {', '.join(PRODUCTS)}")


# ----------------------------------------------------------------------------- blocks


def _text(part: str, heading: str, text: str) -> dict[str, Any]:
    return {"kind": "text", "part": part, "heading": heading, "text": text, "commentary": ""}


def _table(part: str, heading: str, columns: list[str], rows: list[list[Any]], *,
           numeric: Sequence[int] = (), note: str = "", empty: str = "") -> dict[str, Any]:
    return {"kind": "table", "part": part, "heading": heading, "columns": columns,
            "rows": rows, "numeric": list(numeric), "note": note, "empty": empty,
            "commentary": ""}


@dataclass
class Build:
    """What every product builder needs: the node's data, the centre, the period, the labels."""

    engine: sa.Engine
    centre: Centre
    period: Period
    template: ReportTemplate
    labels: Labels
    product: str
    now: datetime
    area: list[str] = field(default_factory=list)
    #: The risk analysis network's members and deadline day (the joint annex).
    members: tuple[str, ...] = INDICATOR_MEMBERS
    deadline_day: int = INDICATOR_DEADLINE_DAY

    def window(self, period: Period | None = None) -> Window:
        p = period or self.period
        return Window(p.since_us, p.until_us, p.offset_us, self._countries(),
                      tuple(self.area or self.template.sections))

    def _countries(self) -> tuple[str, ...]:
        return () if (self.area or self.template.sections) else (self.centre.country,)

    def day(self, value: date) -> str:
        """A calendar day in words in the product's language (headings and sentences)."""
        return format_day(value, self.labels.lang)

    def number(self, value: float, digits: int | None = None) -> str:
        """A figure in a sentence, with the product language's separators."""
        return format_number(value, self.labels.lang, digits)

    def local(self, micros: int) -> str:
        return datetime.fromtimestamp(micros / 1e6, UTC).astimezone(self.centre.zone).strftime(
            "%Y-%m-%d %H:%M")

    def iso_local(self, value: str | None) -> str:
        if not value:
            return ""
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return value
        return parsed.astimezone(self.centre.zone).strftime("%Y-%m-%d %H:%M")

    def english(self, text: str) -> str:
        """Text the analysis writes in English: marked (and explained) in any other language."""
        if self.labels.lang == "en":
            return text
        self.labels.fell_back["(analysis)"] = "en"
        return text + MISSING_MARK

    def level(self, value: str | None) -> str:
        return self.labels(f"enum.section_impact_level.{value}") if value else "–"

    def impact(self, value: str | None) -> str:
        return self.labels(f"enum.impact_level.{value}") if value else "–"

    def type_label(self, value: str | None) -> str:
        return self.labels(f"type.{value}") if value else "–"


def _pct(now: int, before: int) -> str:
    if before == 0:
        return "–" if now == 0 else "+∞"
    return f"{(now - before) / before * 100:+.0f} %"


def _chance(now: int, before: int) -> float:
    """Two-sided chance of a split at least this uneven between two equal windows (exact)."""
    if now + before == 0:
        return 1.0
    from scipy import stats as scipy_stats
    return float(scipy_stats.binomtest(now, now + before, 0.5).pvalue)


def _section_line(section: BorderSection, tolerance: float = 0.01) -> list[list[list[float]]]:
    simple = shapely.simplify(section.geometry, tolerance)
    parts = getattr(simple, "geoms", [simple])
    return [[[round(x, 3), round(y, 3)] for x, y in part.coords] for part in parts]


def _map_block(b: Build, *, heading: str, colour_by: Mapping[str, str],
               legend_key: str, events: Sequence[Mapping[str, Any]] = (),
               hot_window: Window | None = None) -> dict[str, Any]:
    """A map of the centre's sections coloured by level, with hot spots and key events."""
    sections = []
    for s in b.centre.sections:
        sections.append(seal("section", {"id": s.id, "level": colour_by.get(s.id),
                                         "lines": _section_line(s)}))
    spots = []
    if hot_window is not None:
        with b.engine.connect() as conn:
            bins = binned(conn, window_where(hot_window), 0.25)
        bins.sort(key=lambda x: -x.count)
        for x in bins[:12]:
            spots.append(seal("location", {"lon": x.lon, "lat": x.lat, "count": x.count}))
    points = []
    for body in events[:200]:
        loc = body.get("location") or {}
        if "lon" in loc and "lat" in loc:
            points.append(seal("location", {"lon": loc["lon"], "lat": loc["lat"],
                                            "impact": body.get("impact_level")}))
    lons = [p[0] for s in b.centre.sections for line in _section_line(s) for p in line]
    lats = [p[1] for s in b.centre.sections for line in _section_line(s) for p in line]
    bbox = ([min(lons) - 0.5, min(lats) - 0.5, max(lons) + 0.5, max(lats) + 0.5] if lons
            else [46.0, 35.0, 88.0, 56.0])
    levels = ["low", "medium", "high", "critical"]
    return {"kind": "map", "part": "map", "heading": heading, "bbox": bbox,
            "sections": sections, "hot_spots": spots, "events": points,
            "legend": {"title": b.labels(legend_key),
                       "levels": {lv: b.level(lv) for lv in levels},
                       "none": b.labels("ui.report.map_no_level"),
                       "hot_spot": b.labels("ui.report.map_hot_spot"),
                       "event": b.labels("ui.report.map_key_event")},
            "commentary": ""}


def _category_chart(b: Build, *, days: int) -> dict[str, Any]:
    start = b.period.end - timedelta(days=days)
    window = b.window(Period(start, b.period.end))
    with b.engine.connect() as conn:
        per = per_category(conn, window, DAY_US)
    first = (window.since + window.offset_us) // DAY_US
    xs = [(date(1970, 1, 1) + timedelta(days=first + i)).isoformat()[5:] for i in range(days)]
    series = [{"label": b.labels(f"category.{c.value}"), "category": c.value,
               "values": [per.get(c.value, {}).get(first + i, 0) for i in range(days)]}
              for c in Category]
    return {"kind": "chart", "part": "chart", "chart": "stacked_bars",
            "heading": b.labels("ui.report.chart_days", days=days), "x": xs, "series": series,
            "commentary": ""}


def _follow_up_block(b: Build, recs: Sequence[Any]) -> dict[str, Any]:
    L = b.labels
    ids = set(b.centre.section_ids)
    start, end = b.period.start.date(), b.period.end.date()
    today = b.now.astimezone(b.centre.zone).date()
    rows = []
    counts = {"due": 0, "overdue": 0, "done": 0}
    for r in recs:
        body = r.body
        if body.get("section_id") not in ids:
            continue
        deadline = date.fromisoformat(body["deadline"])
        status = str(body.get("status"))
        if status in OPEN_STATUSES and deadline < today:
            state = "overdue"
        elif status in OPEN_STATUSES and start <= deadline < end:
            state = "due"
        elif status == "done" and start <= r.recorded_at.astimezone(b.centre.zone).date() < end:
            state = "done"
        else:
            continue
        counts[state] += 1
        rows.append([seal("section", body.get("section_id")), body.get("text", ""),
                     seal("personal", body.get("owner", "")), body["deadline"],
                     L(f"ui.report.rec_{status}"), L(f"ui.report.follow_{state}")])
    rows.sort(key=lambda row: (row[5], row[3]))
    return _table("follow_up", L("ui.report.follow_up"),
                  [L("ui.report.section"), L("ui.report.recommendation"), L("ui.report.owner"),
                   L("ui.report.deadline"), L("ui.report.status"), L("ui.report.follow_state")],
                  rows, empty=L("ui.report.none"),
                  note=L("ui.report.follow_counts", **counts))
