"""Analysis on demand: ``analyse risk``, ``alerts``, ``forecast`` and ``capacity``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sitcen.cli import main
from sitcen.cli.common import (
    _database,
    _echo_problems,
    _Progress,
    _read_file,
    _refusing,
    _settings,
)


@main.group()
def analyse() -> None:
    """Risk analysis: the risk table, alerts, forecasts and capacity inventories."""


def _risk_lines(table: dict[str, Any], top: int | None) -> list[str]:
    rows = table["sections"][:top] if top else table["sections"]
    period = table["period"]
    lines = [f"risk of {len(table['sections'])} sections, {period['month']} "
             f"({period['from']} to {period['to']}, {period['events_read']} events read)",
             f"{'rank':>4}  {'section':12} {'risk':>5} {'threat':>6} {'vuln':>5} {'impact':>6}"
             f"  {'proposed':9} confirmed"]
    for r in rows:
        vulnerability = f"{r['vulnerability']:5.2f}{' ' if r['vulnerability_known'] else '*'}"
        lines.append(f"{r['rank']:>4}  {r['section_id']:12} {r['risk']:5.2f} {r['threat']:6.2f} "
                     f"{vulnerability}{r['impact']:6.2f}  {r['proposed_level']:9} "
                     f"{r.get('confirmed_level') or '-'}")
    if any(not r["vulnerability_known"] for r in rows):
        lines.append("* no capacity inventory on file: vulnerability assumed")
    return lines


@analyse.command("risk")
@click.option("--top", type=click.IntRange(1, 10_000), help="show only the N riskiest sections")
@click.option("--json", "as_json", is_flag=True, help="print the table as JSON")
def analyse_risk(top: int | None, as_json: bool) -> None:
    """Recompute the risk table of every border section and print the ranking."""
    from sitcen.recompute import compute_risk, risk_table

    node_id = _settings().node_id
    bar = _Progress("reading events")
    with _database() as engine:
        try:
            compute_risk(engine, node_id, progress=bar)
        finally:
            bar.close()
        table = risk_table(engine, node_id)
    if as_json:
        click.echo(json.dumps(table, indent=2, ensure_ascii=False))
        return
    for line in _risk_lines(table, top):
        click.echo(line)


@analyse.command("alerts")
@click.option("--replicates", default=999, show_default=True, type=click.IntRange(9, 99_999),
              help="Monte Carlo replicates of the space-time scan")
def analyse_alerts(replicates: int) -> None:
    """Run early warning and the cluster scan over recent events; write alert records."""
    from datetime import UTC, datetime, timedelta

    from sitcen.analysis.alerts import CHART_HISTORY_DAYS
    from sitcen.recompute import load_events, run_alerts
    from sitcen.store.alerts import list_alerts
    from sitcen.store.sections import load_sections

    node_id = _settings().node_id
    today = datetime.now(UTC).date()
    with _database() as engine:
        reading = _Progress("reading events")
        try:
            events = load_events(engine, since=today - timedelta(days=CHART_HISTORY_DAYS),
                                 until=today + timedelta(days=1), progress=reading)
        finally:
            reading.close()
        detecting = _Progress("charts and scan")
        try:
            writes = run_alerts(engine, node_id, events,
                                section_ids=[s.id for s in load_sections(engine)], today=today,
                                replicates=replicates, progress=detecting)
        finally:
            detecting.close()
        changed = set(writes.created) | set(writes.updated)
        shown = [a for a in list_alerts(engine) if a.id in changed]
    click.echo(f"alerts: {len(writes.created)} new, {len(writes.updated)} updated, "
               f"{writes.unchanged} unchanged")
    for a in shown:
        b = a.body
        click.echo(f"  {b.get('severity', '?'):6} {b.get('section_id')}  {b.get('first_day')} to "
                   f"{b.get('last_day')}  {b.get('status')}  {a.id}")


@analyse.command("forecast")
@click.option("--series", "series", multiple=True,
              help="total, a category, section:<id> or type:<t> (repeatable; default: the "
                   "total and every category)")
@click.option("--horizon", default=6, show_default=True, type=click.IntRange(1, 6),
              help="months ahead")
@click.option("--indicators", "indicator_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="forecast the series of a monthly indicator CSV instead of the node's events")
@click.option("--by", "by", multiple=True,
              help="with --indicators: the dimension columns to split by (repeatable)")
@click.option("--value-column", default="detections", show_default=True,
              help="with --indicators: the column of monthly counts")
def analyse_forecast(series: tuple[str, ...], horizon: int, indicator_file: Path | None,
                     by: tuple[str, ...], value_column: str) -> None:
    """Forecast monthly counts 1-6 months ahead with 80 and 95 % intervals."""
    from sitcen.recompute import default_series, forecasts, parse_series

    if indicator_file is not None:
        found = _indicator_forecasts(indicator_file, list(by), value_column, horizon)
    else:
        names = list(series) or default_series()
        for name in names:
            with _refusing(ValueError):
                parse_series(name)
        with _database() as engine:
            found = forecasts(engine, names, horizon=horizon)
    for item in found:
        click.echo(f"{item['series']}: {item['months']} months"
                   + (f"; {item['method']}" if item.get("method") else "")
                   + (f"; {item['note']}" if item.get("note") else ""))
        if item.get("trend"):
            click.echo(f"  trend: {item['trend']['note']}")
        for row in item["forecast"]:
            click.echo(f"  {row['month']}  {row['forecast']:10.1f}   80 % {row['lower_80']:9.1f}"
                       f" - {row['upper_80']:<9.1f}  95 % {row['lower_95']:9.1f} - "
                       f"{row['upper_95']:.1f}")


def _indicator_forecasts(path: Path, by: list[str], value_column: str,
                         horizon: int) -> list[dict[str, Any]]:
    from sitcen.analysis.forecast import forecast
    from sitcen.analysis.indicators import monthly_series
    from sitcen.interop.spreadsheets import SpreadsheetError, read_indicators

    try:
        table, problems, _notes = read_indicators(_read_file(path), value_column=value_column)
    except SpreadsheetError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    for problem in problems[:20]:
        click.echo(f"  {problem}", err=True)
    if problems:
        raise click.ClickException(f"{path}: {len(problems)} problems; fix them first")
    try:
        found = monthly_series(table, by, value=value_column)
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    out = []
    for label, monthly in found.items():
        ahead = forecast(monthly, horizon=horizon)
        out.append({"series": str(label), "months": len(monthly),
                    "method": ahead.attrs.get("method"), "trend": None,
                    "forecast": [{"month": str(m), **r} for m, r in ahead.iterrows()]})
    return out


@analyse.group("capacity")
def analyse_capacity() -> None:
    """Capacity inventories of the border sections (vulnerability assessment)."""


@analyse_capacity.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
@click.option("--by", "assessed_by", default="cli", show_default=True,
              help="who assessed the inventories (kept with each version)")
def analyse_capacity_import(file: Path, dry_run: bool, assessed_by: str) -> None:
    """Import capacity inventories from CSV (one row per section); all or nothing."""
    from sitcen.interop.capacity_import import import_capacity_csv
    from sitcen.interop.spreadsheets import SpreadsheetError
    from sitcen.store.sections import load_sections

    settings = _settings()
    with _database() as engine:
        lengths = {s.id: s.length_km for s in load_sections(engine)}
        try:
            report = import_capacity_csv(engine, settings.node_id, _read_file(file),
                                         section_lengths=lengths, assessed_by=assessed_by,
                                         dry_run=dry_run)
        except SpreadsheetError as exc:
            raise click.ClickException(f"{file}: {exc}") from exc
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    _echo_problems(report.problems, report.problem_count, shown=100)
    if report.problems:
        raise click.ClickException(f"{file}: {report.problem_count} problems; nothing written")
    if dry_run:
        click.echo(f"{len(report.sections)} inventories are valid (dry run: nothing written)")
    else:
        click.echo(f"{report.written} capacity inventories written")
