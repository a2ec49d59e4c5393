"""The products: daily situation report, weekly and monthly analysis, tactical focused
assessment, annual vulnerability-assessment report — built from the node's own data.

A product's *content* is a JSON document: its period, centre and template,
then a list of *blocks* (text, figures, tables, a map, charts), with every
label already in the product's language and the generated text in plain
words. Figures come from the same store functions the statistics API uses
(``sitcen.store.stats``), so a report and the screen agree. Parts a sharing
agreement may withhold (coordinates, section names, person counts, names of
people) are sealed (:mod:`sitcen.exchange.sealing`).

Rendering (HTML, PDF, DOCX) reads only the content: any node that holds an
issued report renders the same pages from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import shapely
import sqlalchemy as sa
from scipy import stats as scipy_stats

from sitcen.geo import BorderSection
from sitcen.i18n import meta
from sitcen.operations.requests import PENDING, Box, list_requests
from sitcen.operations.tasks import list_tasks
from sitcen.recompute import reactions_for, risk_table, section_capacities
from sitcen.reports.labels import MISSING_MARK, Labels
from sitcen.reports.templates import PRODUCTS, ReportTemplate
from sitcen.sealing import seal
from sitcen.store.journal import RecordKind
from sitcen.store.levels import current_levels
from sitcen.store.picture import (
    binned,
    count_by_level,
    monthly_counts_by,
    previous_version,
    serious_events,
    versions_recorded,
)
from sitcen.store.recommendations import OPEN_STATUSES, list_recommendations
from sitcen.store.stats import DAY_US, Window, per_category, per_section, window_where
from sitcen.taxonomy import Category

CONTENT_VERSION = 1


class ProductError(ValueError):
    """A product asked for with parameters that cannot make one; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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
    month; annual: its year; tactical: ``days`` days from that day on.
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
    if product == "annual":
        return Period(at(date(day.year, 1, 1)), at(date(day.year + 1, 1, 1)))
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

    def window(self, period: Period | None = None) -> Window:
        p = period or self.period
        return Window(p.since_us, p.until_us, p.offset_us, self._countries(),
                      tuple(self.area or self.template.sections))

    def _countries(self) -> tuple[str, ...]:
        return () if (self.area or self.template.sections) else (self.centre.country,)

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


# ----------------------------------------------------------------------------- daily


def _category_rows(b: Build, periods: Sequence[Period]) -> tuple[list[list[Any]], list[int]]:
    counts = []
    with b.engine.connect() as conn:
        for p in periods:
            per = per_category(conn, b.window(p), DAY_US * 400)
            counts.append({c: sum(v.values()) for c, v in per.items()})
    rows = []
    for c in Category:
        values = [cnt.get(c.value, 0) for cnt in counts]
        rows.append([b.labels(f"category.{c.value}"), *values, _pct(values[0], values[1])])
    totals = [sum(cnt.values()) for cnt in counts]
    rows.append([b.labels("ui.report.total"), *totals, _pct(totals[0], totals[1])])
    return rows, totals


def _daily(b: Build, parts: list[str]) -> list[dict[str, Any]]:
    L = b.labels
    day = b.period
    before = day.shifted(-1)
    last_year = day.shifted(-364)  # the same weekday a year before
    blocks: list[dict[str, Any]] = []
    cat_rows, totals = _category_rows(b, [day, before, last_year])
    with b.engine.connect() as conn:
        by_section = per_section(conn, b.window())
        by_section_before = per_section(conn, b.window(before))
        by_section_year = per_section(conn, b.window(last_year))
        levels_count = count_by_level(conn, b.window())
        serious = serious_events(conn, b.window())
        level_versions = versions_recorded(conn, RecordKind.section_assessment,
                                           day.since_us, day.until_us)
        level_changes = []
        for v in level_versions:
            old = previous_version(conn, v.id, v.version)
            level_changes.append((v, None if old is None else old.get("level")))
        alert_versions = versions_recorded(conn, RecordKind.alert, day.since_us, day.until_us)
        positions = versions_recorded(conn, RecordKind.asset_position, day.since_us,
                                      day.until_us)
    open_work = _open_work(b)
    section_ids = set(b.centre.section_ids)
    serious = [e for e in serious if e.get("section_id") in section_ids or not
               e.get("section_id")]
    high = sum(v for k, v in levels_count.items() if k in ("high", "very_high"))
    opened = [a for a in alert_versions if a.version == 1 and a.body.get("section_id") in
              section_ids]
    closed = [a for a in alert_versions if a.body.get("status") != "open" and
              a.body.get("section_id") in section_ids]
    level_changes = [(v, old) for v, old in level_changes
                     if v.body.get("section_id") in section_ids and old != v.body.get("level")]
    summary = L("ui.report.daily_summary", day=day.start.date().isoformat(), total=totals[0],
                before=totals[1], change=_pct(totals[0], totals[1]), last_year=totals[2],
                high=high, opened=len(opened), closed=len(closed), changes=len(level_changes))
    busiest = sorted(by_section.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    if busiest:
        summary += " " + L("ui.report.daily_busiest",
                           sections=", ".join(f"{s} ({n})" for s, n in busiest))
    for part in parts:
        if part == "summary":
            blocks.append(_text(part, L("ui.report.summary"), summary))
        elif part == "categories":
            blocks.append(_table(part, L("ui.report.by_category"),
                                 [L("ui.report.category"), L("ui.report.this_day"),
                                  L("ui.report.previous_day"), L("ui.report.same_day_last_year"),
                                  L("ui.report.change")], cat_rows, numeric=(1, 2, 3, 4)))
        elif part == "sections":
            ids = sorted(set(by_section) & section_ids,
                         key=lambda s: (-by_section.get(s, 0), s))
            rows = [[seal("section", s), by_section.get(s, 0), by_section_before.get(s, 0),
                     by_section_year.get(s, 0),
                     _pct(by_section.get(s, 0), by_section_before.get(s, 0))] for s in ids]
            blocks.append(_table(part, L("ui.report.by_section"),
                                 [L("ui.report.section"), L("ui.report.this_day"),
                                  L("ui.report.previous_day"),
                                  L("ui.report.same_day_last_year"), L("ui.report.change")],
                                 rows, numeric=(1, 2, 3, 4), empty=L("ui.report.none")))
        elif part == "map":
            levels = {k: str(v.body.get("level")) for k, v in
                      current_levels(b.engine, b.centre.node_id).items()}
            blocks.append(_map_block(b, heading=L("ui.report.map_daily"), colour_by=levels,
                                     legend_key="ui.report.map_levels", events=serious,
                                     hot_window=b.window()))
        elif part == "serious_events":
            rows = []
            for e in serious:
                persons = sum(int(p.get("count", 0)) for p in e.get("persons") or ())
                loc = e.get("location") or {}
                rows.append([
                    b.iso_local(e.get("occurred_at")), b.type_label(e.get("type")),
                    seal("section", e.get("section_id") or "–"),
                    b.impact(e.get("impact_level")), seal("persons", persons),
                    ", ".join(L(f"enum.reaction.{r}") for r in e.get("reaction") or ()) or "–",
                    seal("location", f"{loc.get('lat', 0):.3f}, {loc.get('lon', 0):.3f}"
                         if loc else "–"),
                    e.get("description") or ""])
            blocks.append(_table(part, L("ui.report.serious_events"),
                                 [L("ui.report.time"), L("ui.report.type"),
                                  L("ui.report.section"), L("ui.report.impact"),
                                  L("ui.report.persons"), L("ui.report.reaction"),
                                  L("ui.report.location"), L("ui.report.description")],
                                 rows, numeric=(4,), empty=L("ui.report.none")))
        elif part == "alerts":
            rows = [[seal("section", a.body.get("section_id") or "–"),
                     L(f"ui.report.severity_{a.body.get('severity', 'low')}"),
                     f"{a.body.get('first_day', '')} – {a.body.get('last_day', '')}",
                     L("ui.report.alert_opened") if a.version == 1 else
                     L(f"ui.report.alert_{a.body.get('status', 'open')}"),
                     b.english(str(a.body.get("explanation", ""))[:300])]
                    for a in [*opened, *[c for c in closed if c not in opened]]]
            blocks.append(_table(part, L("ui.report.alerts"),
                                 [L("ui.report.section"), L("ui.report.severity"),
                                  L("ui.report.days"), L("ui.report.status"),
                                  L("ui.report.explanation")], rows,
                                 empty=L("ui.report.none")))
        elif part == "levels":
            rows = [[seal("section", v.body.get("section_id")), b.level(old),
                     b.level(v.body.get("level")), b.level(v.body.get("proposed_level")),
                     v.body.get("justification") or "–",
                     seal("personal", v.body.get("confirmed_by") or "–"), b.local(v.recorded_at)]
                    for v, old in level_changes]
            blocks.append(_table(part, L("ui.report.level_changes"),
                                 [L("ui.report.section"), L("ui.report.level_before"),
                                  L("ui.report.level_after"), L("ui.report.level_proposed"),
                                  L("ui.report.justification"), L("ui.report.confirmed_by"),
                                  L("ui.report.time")], rows, empty=L("ui.report.none")))
        elif part == "open_work":
            rows = [[L(f"ui.report.kind_{w.kind}") + (f" ({L(w.priority)})" if w.priority else ""),
                     w.subject[:200], w.who, b.iso_local(w.due_at) if w.due_at else "–",
                     L(w.status) + (f" · {L('ui.report.overdue')}" if w.overdue else "")]
                    for w in open_work]
            blocks.append(_table(part, L("ui.report.open_work"),
                                 [L("ui.report.what"), L("ui.report.subject"),
                                  L("ui.report.assigned_to"), L("ui.report.deadline"),
                                  L("ui.report.status")], rows,
                                 empty=L("ui.report.none_open")))
        elif part == "patrols":
            by_asset: dict[str, dict[str, Any]] = {}
            for pos in positions:
                if pos.body.get("kind") not in ("patrol", "vehicle", "aircraft"):
                    continue
                entry = by_asset.setdefault(pos.body.get("asset_id", pos.id),
                                            {"name": pos.body.get("name") or "", "fixes": 0,
                                             "sections": set()})
                entry["fixes"] += 1
                if pos.body.get("section_id") in section_ids:
                    entry["sections"].add(pos.body["section_id"])
            notable = sorted(by_asset.items(), key=lambda kv: -kv[1]["fixes"])[:15]
            rows = [[v["name"] or k, v["fixes"], seal("section", ", ".join(sorted(v["sections"]))
                                                        or "–")] for k, v in notable]
            blocks.append(_table(part, L("ui.report.patrols"),
                                 [L("ui.report.asset"), L("ui.report.fixes"),
                                  L("ui.report.sections_visited")], rows, numeric=(1,),
                                 empty=L("ui.report.none")))
        elif part == "chart":
            blocks.append(_category_chart(b, days=14))
    return blocks


@dataclass(frozen=True)
class OpenWork:
    """A task not finished or a request still owed an answer, as a daily report lists it."""

    kind: str  # "task" or "request_for_information"
    subject: str
    who: str  # the unit tasked, or the node asked (and by whom it was asked)
    due_at: str | None
    status: str  # a catalogue key: the task's or the request's status
    priority: str | None = None  # a catalogue key
    overdue: bool = False


def _open_work(b: Build) -> list[OpenWork]:
    """The node's open tasks (answers applied) and pending requests, in and out, now."""
    work = []
    for _, body in list_tasks(b.engine, open_only=True):
        unit = body.get("unit") or {}
        target = body.get("target") or {}
        where = body.get("section_id") or target.get("section_id") or ""
        work.append(OpenWork(
            "task", " · ".join(x for x in (str(body.get("instructions") or ""), str(where)) if x),
            str(unit.get("callsign") or unit.get("name") or body.get("unit_id") or "–"), None,
            f"ui.task_status.{body.get('status')}", f"ui.priority.{body.get('priority')}"))
    for direction in ("out", "in"):
        for item in list_requests(b.engine, b.centre.node_id, Box(direction), b.now,
                                  personal=False):
            state = item["state"]
            if state["status"] not in PENDING:
                continue
            body = item["body"]
            who = (f"→ {body.get('to_node') or '–'}" if direction == "out"
                   else f"← {item['origin']}")
            work.append(OpenWork("request_for_information", str(body.get("title") or ""), who,
                                 state["due_at"], f"ui.console.coop.status.{state['status']}",
                                 overdue=bool(state["overdue"])))
    return work


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


# ----------------------------------------------------------------------------- weekly, monthly


def _periodic(b: Build, parts: list[str]) -> list[dict[str, Any]]:
    L = b.labels
    length = (b.period.end - b.period.start).days
    before = b.period.shifted(-length)
    blocks: list[dict[str, Any]] = []
    with b.engine.connect() as conn:
        now = per_category(conn, b.window(), DAY_US * 400)
        prev = per_category(conn, b.window(before), DAY_US * 400)
    trend_rows: list[list[Any]] = []
    notes = []
    total_now = total_before = 0
    for c in Category:
        a = sum(now.get(c.value, {}).values())
        p = sum(prev.get(c.value, {}).values())
        chance = _chance(a, p)
        verdict = (L("ui.report.trend_up") if a > p and chance < 0.05 else
                   L("ui.report.trend_down") if a < p and chance < 0.05 else
                   L("ui.report.trend_flat"))
        trend_rows.append([L(f"category.{c.value}"), a, p, _pct(a, p), f"{chance:.3f}", verdict])
        total_now += a
        total_before += p
        if chance < 0.05:
            notes.append(f"{L(f'category.{c.value}')}: {verdict} ({_pct(a, p)})")
    table = risk_table(b.engine, b.centre.node_id, now=b.now)
    ids = set(b.centre.section_ids)
    top = [r for r in table["sections"] if r["section_id"] in ids][:10]
    recs = list_recommendations(b.engine)
    recs_by_section: dict[str, list[Any]] = {}
    for r in recs:
        recs_by_section.setdefault(str(r.body.get("section_id")), []).append(r)
    summary = L("ui.report.periodic_summary", start=b.period.start.date().isoformat(),
                end=(b.period.end - timedelta(days=1)).date().isoformat(), total=total_now,
                before=total_before, change=_pct(total_now, total_before),
                significant="; ".join(notes) or L("ui.report.no_significant_change"))
    if top:
        summary += " " + L("ui.report.top_risk_sentence", section=top[0]["section_id"],
                           level=b.level(top[0]["proposed_level"]))
    for part in parts:
        if part == "summary":
            blocks.append(_text(part, L("ui.report.summary"), summary))
        elif part == "trends":
            blocks.append(_table(part, L("ui.report.trends"),
                                 [L("ui.report.category"), L("ui.report.this_period"),
                                  L("ui.report.previous_period"), L("ui.report.change"),
                                  L("ui.report.chance"), L("ui.report.verdict")],
                                 trend_rows, numeric=(1, 2, 3, 4),
                                 note=L("ui.report.chance_note")))
        elif part == "chart":
            blocks.append(_category_chart(b, days=min(length * 2, 62)))
        elif part == "map":
            levels = {r["section_id"]: r.get("confirmed_level") or r["proposed_level"]
                      for r in table["sections"]}
            blocks.append(_map_block(b, heading=L("ui.report.map_risk"), colour_by=levels,
                                     legend_key="ui.report.map_levels", hot_window=b.window()))
        elif part == "top_risk":
            rows = []
            for r in top:
                sid = r["section_id"]
                solutions = [f"{x.body.get('text')} ({x.body.get('owner')}, "
                             f"{x.body.get('deadline')}, "
                             f"{L('ui.report.rec_' + str(x.body.get('status')))})"
                             for x in recs_by_section.get(sid, [])][:4]
                level = r.get("confirmed_level") or r["proposed_level"]
                reaction = reactions_for(level)[0] if level else ""
                rows.append([seal("section", sid), f"{r['risk']:.2f}", f"{r['threat']:.2f}",
                             f"{r['vulnerability']:.2f}", f"{r['impact']:.2f}",
                             b.level(r["proposed_level"]), b.level(r.get("confirmed_level")),
                             b.english("; ".join(r["reasons"])),
                             seal("personal", "; ".join(solutions)) if solutions
                             else b.english(reaction)])
            blocks.append(_table(part, L("ui.report.top_risk"),
                                 [L("ui.report.section"), L("ui.report.risk"),
                                  L("ui.report.threat"), L("ui.report.vulnerability"),
                                  L("ui.report.impact_score"), L("ui.report.level_proposed"),
                                  L("ui.report.level_confirmed"), L("ui.report.reasons"),
                                  L("ui.report.solutions")], rows, numeric=(1, 2, 3, 4),
                                 empty=L("ui.report.none"),
                                 note=L("ui.report.risk_period", month=table["period"]["month"])))
        elif part == "routes":
            blocks.append(_routes_block(b))
        elif part == "forecasts":
            blocks.extend(_forecast_blocks(b))
        elif part == "follow_up":
            blocks.append(_follow_up_block(b, recs))
    return blocks


def _months_back(b: Build, months: int) -> Period:
    """The ``months`` complete months before the end of the period (UTC month boundaries)."""
    end = b.period.end.astimezone(UTC)
    last = date(end.year, end.month, 1)
    first = last
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return Period(datetime.combine(first, time(0), UTC), datetime.combine(last, time(0), UTC))


def _routes_block(b: Build) -> dict[str, Any]:
    """Routes that fell while a related one rose (displacement): the last 3 months against
    the same months a year before, from monthly counts per route summed in the database."""
    import pandas as pd

    from sitcen.analysis.flows import displacement

    L = b.labels
    span = _months_back(b, 16)
    with b.engine.connect() as conn:
        counted = monthly_counts_by(conn, b.window(span), by_route=True)
    ids = set(b.centre.section_ids)
    rows: list[list[Any]] = []
    frame = pd.DataFrame(
        [(pd.Period(m, freq="M"), n or "XX", s or "inland", c or "XX", k)
         for m, n, s, c, k in counted if s is None or s in ids],
        columns=["month", "nationality", "section_id", "area", "count"])
    if len(frame):
        frame = pd.DataFrame(frame.groupby(["month", "nationality", "section_id", "area"],
                                           as_index=False)["count"].sum())
        try:
            pairs = displacement(frame)
        except ValueError:
            pairs = None
        if pairs is not None:
            for _, p in pairs.head(8).iterrows():
                rows.append([
                    seal("section", f"{p['from_nationality']}: {p['from_section']} → "
                                    f"{p['from_area']}"),
                    seal("section", f"{p['to_nationality']}: {p['to_section']} → "
                                    f"{p['to_area']}"),
                    round(float(p["displaced"])),
                    f"{float(p['offset_share']) * 100:.0f} %",
                    f"{float(p['pair_p']):.3f}"])
    return _table("routes", L("ui.report.routes"),
                  [L("ui.report.route_falling"), L("ui.report.route_rising"),
                   L("ui.report.displaced"), L("ui.report.offset_share"), L("ui.report.chance")],
                  rows, numeric=(2, 3, 4), empty=L("ui.report.no_displacement"),
                  note=L("ui.report.routes_note"))


def _forecast_blocks(b: Build) -> list[dict[str, Any]]:
    """Forecasts 1-3 months ahead of the total and each category, with 80 and 95 % intervals,
    from monthly counts summed in the database (``sitcen.analysis.forecast``)."""
    import pandas as pd

    from sitcen.analysis.forecast import forecast

    L = b.labels
    span = _months_back(b, 36)
    window = b.window(span)
    window = Window(window.since, window.until, 0, window.countries, window.sections)
    with b.engine.connect() as conn:  # UTC days (integer arithmetic), summed into months
        by_day = per_category(conn, window, DAY_US)
    months = pd.period_range(pd.Period(span.start.strftime("%Y-%m"), freq="M"),
                             pd.Period((span.end - timedelta(days=1)).strftime("%Y-%m"),
                                       freq="M"), freq="M")
    cells: dict[tuple[str, str], int] = {}
    epoch = date(1970, 1, 1)
    for category, days in by_day.items():
        for day_number, n in days.items():
            cell = ((epoch + timedelta(days=day_number)).strftime("%Y-%m"), category)
            cells[cell] = cells.get(cell, 0) + n
    table = pd.DataFrame({c.value: [cells.get((str(m), c.value), 0) for m in months]
                          for c in Category}, index=months, dtype="int64")
    active = table.sum(axis=1)
    first = active[active > 0].index.min() if (active > 0).any() else None
    rows = []
    chart_series = []
    series_list = [("total", L("ui.report.total"), active)] + [
        (c.value, L(f"category.{c.value}"), table[c.value]) for c in Category]
    for key, name, values in series_list:
        if first is None:
            break
        history = values.loc[first:].astype("int64")
        ahead = forecast(history, horizon=3)
        for ahead_month, row in ahead.iterrows():
            rows.append([name, str(ahead_month), round(float(row["forecast"])),
                         f"{round(float(row['lower_80']))}–{round(float(row['upper_80']))}",
                         f"{round(float(row['lower_95']))}–{round(float(row['upper_95']))}"])
        if key == "total":
            chart_series.append({"label": name,
                                 "history": [[str(m), int(v)] for m, v in
                                             history.iloc[-12:].items()],
                                 "forecast": [[str(m), float(r["forecast"]),
                                               float(r["lower_80"]), float(r["upper_80"]),
                                               float(r["lower_95"]), float(r["upper_95"])]
                                              for m, r in ahead.iterrows()]})
    blocks = [_table("forecasts", L("ui.report.forecasts"),
                     [L("ui.report.series"), L("ui.report.month"), L("ui.report.forecast"),
                      L("ui.report.interval_80"), L("ui.report.interval_95")], rows,
                     numeric=(2,), empty=L("ui.report.none"),
                     note=L("ui.report.forecast_note"))]
    if chart_series:
        blocks.append({"kind": "chart", "part": "forecasts", "chart": "forecast",
                       "heading": L("ui.report.forecast_chart"), "series": chart_series,
                       "legend": {"history": L("ui.report.observed"),
                                  "forecast": L("ui.report.forecast"),
                                  "interval_80": L("ui.report.interval_80"),
                                  "interval_95": L("ui.report.interval_95")},
                       "commentary": ""})
    return blocks


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


# ----------------------------------------------------------------------------- tactical


def _tactical(b: Build, parts: list[str]) -> list[dict[str, Any]]:
    L = b.labels
    days = max(1, (b.period.end - b.period.start).days)
    history = Period(b.period.start - timedelta(days=90), b.period.start)
    recent = Period(b.period.start - timedelta(days=30), b.period.start)
    with b.engine.connect() as conn:
        past = per_section(conn, b.window(history))
        last30 = per_section(conn, b.window(recent))
        serious = serious_events(conn, b.window(recent))
    ids = set(b.centre.section_ids)
    table = {r["section_id"]: r for r in risk_table(b.engine, b.centre.node_id,
                                                    now=b.now)["sections"]}
    capacities = section_capacities(b.engine, b.centre.node_id)
    rows = []
    expected_total = 0.0
    for sid in sorted(ids, key=lambda s: -(table.get(s, {}).get("risk") or 0)):
        rate = past.get(sid, 0) / 90.0
        mean = rate * days
        expected_total += mean
        low = int(scipy_stats.poisson.ppf(0.1, mean)) if mean > 0 else 0
        high = int(scipy_stats.poisson.ppf(0.9, mean)) if mean > 0 else 0
        r = table.get(sid, {})
        rows.append([seal("section", sid), last30.get(sid, 0), f"{mean:.1f}", f"{low}–{high}",
                     f"{r.get('risk', 0):.2f}", b.level(r.get("confirmed_level")
                                                         or r.get("proposed_level"))])
    summary = L("ui.report.tactical_summary", start=b.period.start.date().isoformat(), days=days,
                sections=len(ids), expected=f"{expected_total:.0f}",
                recent=sum(last30.get(s, 0) for s in ids), serious=len(serious))
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if part == "summary":
            blocks.append(_text(part, L("ui.report.summary"), summary))
        elif part == "area_sections":
            blocks.append(_table(part, L("ui.report.area_sections"),
                                 [L("ui.report.section"), L("ui.report.last_30_days"),
                                  L("ui.report.expected"), L("ui.report.interval_80"),
                                  L("ui.report.risk"), L("ui.report.level")], rows,
                                 numeric=(1, 2, 4), note=L("ui.report.expected_note")))
        elif part == "map":
            levels = {s: str(r.get("confirmed_level") or r.get("proposed_level"))
                      for s, r in table.items()}
            blocks.append(_map_block(b, heading=L("ui.report.map_area"), colour_by=levels,
                                     legend_key="ui.report.map_levels", events=serious,
                                     hot_window=b.window(recent)))
        elif part == "serious_events":
            erows = [[b.iso_local(e.get("occurred_at")), b.type_label(e.get("type")),
                      seal("section", e.get("section_id") or "–"),
                      b.impact(e.get("impact_level")), e.get("description") or ""]
                     for e in serious if e.get("section_id") in ids][:60]
            blocks.append(_table(part, L("ui.report.serious_events_30"),
                                 [L("ui.report.time"), L("ui.report.type"),
                                  L("ui.report.section"), L("ui.report.impact"),
                                  L("ui.report.description")], erows,
                                 empty=L("ui.report.none")))
        elif part == "alerts":
            from sitcen.store.alerts import list_alerts

            alerts = [a for a in list_alerts(b.engine, since=recent.start.date())
                      if a.body.get("section_id") in ids][:30]
            arows = [[seal("section", a.body.get("section_id")),
                      L(f"ui.report.severity_{a.body.get('severity', 'low')}"),
                      f"{a.body.get('first_day')} – {a.body.get('last_day')}",
                      L(f"ui.report.alert_{a.body.get('status', 'open')}")] for a in alerts]
            blocks.append(_table(part, L("ui.report.alerts_30"),
                                 [L("ui.report.section"), L("ui.report.severity"),
                                  L("ui.report.days"), L("ui.report.status")], arows,
                                 empty=L("ui.report.none")))
        elif part == "capacity":
            crows = []
            for sid in sorted(ids):
                c = capacities.get(sid)
                if c is None:
                    continue
                crows.append([seal("section", sid), c.staff_per_shift * c.shifts_per_day,
                              f"{c.patrol_hours_per_week:g}", c.vehicles,
                              f"{c.response_time_min:g}",
                              b.english(reactions_for(str(table.get(sid, {}).get(
                                  "proposed_level", "low")))[0])])
            blocks.append(_table(part, L("ui.report.capacity"),
                                 [L("ui.report.section"), L("ui.report.officers_a_day"),
                                  L("ui.report.patrol_hours"), L("ui.report.vehicles"),
                                  L("ui.report.response_min"), L("ui.report.reaction_first")],
                                 crows, numeric=(1, 2, 3, 4), empty=L("ui.report.none")))
    return blocks


# ----------------------------------------------------------------------------- annual


def _annual(b: Build, parts: list[str]) -> list[dict[str, Any]]:
    L = b.labels
    ids = set(b.centre.section_ids)
    table = {r["section_id"]: r for r in risk_table(b.engine, b.centre.node_id,
                                                    now=b.now)["sections"]}
    capacities = section_capacities(b.engine, b.centre.node_id)
    with b.engine.connect() as conn:
        year = per_section(conn, b.window())
        level_versions = versions_recorded(conn, RecordKind.section_assessment,
                                           b.period.since_us, b.period.until_us)
    recs = list_recommendations(b.engine)
    assessed = [s for s in sorted(ids) if s in capacities]
    vulns = sorted(((table.get(s, {}).get("vulnerability") or 0.0, s) for s in assessed),
                   reverse=True)
    summary = L("ui.report.annual_summary", year=b.period.start.year, sections=len(ids),
                assessed=len(assessed), events=sum(year.get(s, 0) for s in ids),
                weakest=", ".join(s for _, s in vulns[:3]) or "–")
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if part == "summary":
            blocks.append(_text(part, L("ui.report.summary"), summary))
        elif part == "vulnerability":
            rows = []
            for v, sid in vulns:
                c = capacities[sid]
                rows.append([seal("section", sid), f"{v:.2f}", year.get(sid, 0),
                             f"{c.length_km:g}", f"{c.covered_km:g}",
                             c.staff_per_shift * c.shifts_per_day,
                             f"{c.response_time_min:g}",
                             b.level(table.get(sid, {}).get("confirmed_level")
                                     or table.get(sid, {}).get("proposed_level"))])
            blocks.append(_table(part, L("ui.report.vulnerability_table"),
                                 [L("ui.report.section"), L("ui.report.vulnerability"),
                                  L("ui.report.events_year"), L("ui.report.length_km"),
                                  L("ui.report.covered_km"), L("ui.report.officers_a_day"),
                                  L("ui.report.response_min"), L("ui.report.level")], rows,
                                 numeric=(1, 2, 3, 4, 5, 6), empty=L("ui.report.none")))
        elif part == "map":
            levels = {s: str(r.get("confirmed_level") or r.get("proposed_level"))
                      for s, r in table.items()}
            blocks.append(_map_block(b, heading=L("ui.report.map_risk"), colour_by=levels,
                                     legend_key="ui.report.map_levels"))
        elif part == "follow_up":
            blocks.append(_follow_up_block(b, recs))
        elif part == "levels_year":
            by_section: dict[str, int] = {}
            for v in level_versions:
                sid = str(v.body.get("section_id"))
                if sid in ids:
                    by_section[sid] = by_section.get(sid, 0) + 1
            rows = [[seal("section", s), n] for s, n in sorted(by_section.items())]
            blocks.append(_table(part, L("ui.report.levels_year"),
                                 [L("ui.report.section"), L("ui.report.level_decisions")],
                                 rows, numeric=(1,), empty=L("ui.report.none")))
    return blocks


_BUILDERS: dict[str, Callable[[Build, list[str]], list[dict[str, Any]]]] = {
    "daily": _daily, "weekly": _periodic, "monthly": _periodic, "tactical": _tactical,
    "annual": _annual,
}


def build_product(engine: sa.Engine, product: str, *, centre: Centre, period: Period,
                  template: ReportTemplate, now: datetime | None = None,
                  area: Sequence[str] = ()) -> dict[str, Any]:
    """The content of a product for a centre and a period, in the template's language."""
    if product not in _BUILDERS:
        raise ProductError("product", f"unknown product {product!r}; one of "
                                      f"{', '.join(PRODUCTS)}")
    if template.product is not None and template.product != product:
        raise ProductError("template", f"template {template.id} is for {template.product} "
                                       f"products, not {product}")
    labels = Labels(template.language)
    now = now or datetime.now(UTC)
    b = Build(engine, centre, period, template, labels, product, now, list(area))
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
