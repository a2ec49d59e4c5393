"""The daily situation report: the day's figures against the day before and the same
weekday a year before, serious events, alerts, level changes, open work and patrols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sitcen.operations.requests import PENDING, Box, list_requests
from sitcen.operations.tasks import list_tasks
from sitcen.reports.building import (
    Build,
    Period,
    _category_chart,
    _map_block,
    _pct,
    _table,
    _text,
)
from sitcen.sealing import seal
from sitcen.store.journal import RecordKind
from sitcen.store.levels import current_levels
from sitcen.store.picture import (
    count_by_level,
    previous_version,
    serious_events,
    versions_recorded,
)
from sitcen.store.stats import DAY_US, per_category, per_section
from sitcen.taxonomy import Category


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
    summary = L("ui.report.daily_summary", day=b.day(day.start.date()), total=b.number(totals[0]),
                before=b.number(totals[1]), change=_pct(totals[0], totals[1]),
                last_year=b.number(totals[2]),
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
                     w.subject[:200],
                     # who gave or handles it is personal data: sealed with the unit or node
                     seal("personal", f"{w.who} ({w.person})") if w.person else w.who,
                     b.iso_local(w.due_at) if w.due_at else "–",
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
    who: str  # the unit tasked, or the node asked or asking
    due_at: str | None
    status: str  # a catalogue key: the task's or the request's status
    priority: str | None = None  # a catalogue key
    overdue: bool = False
    person: str | None = None  # the officer who gave it or handles it (personal data)


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
            f"ui.task_status.{body.get('status')}", f"ui.priority.{body.get('priority')}",
            person=body.get("dispatched_by")))
    for direction in ("out", "in"):
        for item in list_requests(b.engine, b.centre.node_id, Box(direction), b.now,
                                  personal=False):
            state = item["state"]
            if state["status"] not in PENDING:
                continue
            body = item["body"]
            who = (f"→ {body.get('to_node') or '–'}" if direction == "out"
                   else f"← {item['origin']}")
            person = body.get("by") if direction == "out" else state["handler"]
            work.append(OpenWork("request_for_information", str(body.get("title") or ""), who,
                                 state["due_at"], f"ui.console.coop.status.{state['status']}",
                                 overdue=bool(state["overdue"]), person=person))
    return work
