"""The weekly and monthly analysis: trends with their chance, the highest-risk
sections, route displacement, forecasts and the follow-up of recommendations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sitcen.recompute import reactions_for, risk_table
from sitcen.reports.building import (
    Build,
    Period,
    _category_chart,
    _chance,
    _follow_up_block,
    _map_block,
    _pct,
    _table,
    _text,
)
from sitcen.sealing import seal
from sitcen.store.picture import monthly_counts_by
from sitcen.store.recommendations import list_recommendations
from sitcen.store.stats import DAY_US, Window, per_category
from sitcen.taxonomy import Category


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
    summary = L("ui.report.periodic_summary", start=b.day(b.period.start.date()),
                end=b.day((b.period.end - timedelta(days=1)).date()), total=b.number(total_now),
                before=b.number(total_before), change=_pct(total_now, total_before),
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
