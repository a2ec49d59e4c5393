"""The tactical focused assessment of the days ahead and the annual
vulnerability-assessment report.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sitcen.recompute import reactions_for, risk_table, section_capacities
from sitcen.reports.building import (
    Build,
    Period,
    _follow_up_block,
    _map_block,
    _table,
    _text,
)
from sitcen.sealing import seal
from sitcen.store.journal import RecordKind
from sitcen.store.picture import (
    serious_events,
    versions_recorded,
)
from sitcen.store.recommendations import list_recommendations
from sitcen.store.stats import per_section


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
        from scipy import stats as scipy_stats
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
