"""Data in and out: ``import`` (events, indicators) and ``export`` (events)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from sitcen.cli import main
from sitcen.cli.common import _database, _echo_problems, _read_file, _refusing, _settings


@main.group("import")
def import_group() -> None:
    """Import historic events or monthly indicators from CSV or XLSX files."""


@import_group.command("events")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="YAML or JSON column mapping (see docs/interop.md)")
@click.option("--column", "columns", multiple=True, metavar="FIELD=HEADER",
              help="the file's column for a field, e.g. lon=Долгота (repeatable)")
@click.option("--timezone", help="zone of times written without one: UTC, +05:00, Asia/Dushanbe")
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
@click.option("--valid-only", is_flag=True,
              help="write the valid rows even when other rows have problems")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the problems as CSV (row, column, value, reason)")
def import_events_command(file: Path, mapping_file: Path | None, columns: tuple[str, ...],
                          timezone: str | None, dry_run: bool, valid_only: bool,
                          report_file: Path | None) -> None:
    """Import historic events from a CSV or XLSX file; nothing is written if a row is wrong."""
    import csv

    from sitcen.interop.event_import import (
        MappingError,
        import_events,
        load_mapping,
        mapping_from_dict,
    )
    from sitcen.interop.spreadsheets import SpreadsheetError
    from sitcen.node import Node

    with _refusing(MappingError):
        base = (load_mapping(mapping_file.read_text(encoding="utf-8"), source=str(mapping_file))
                if mapping_file else None)
        data: dict[str, Any] = base.model_dump() if base else {}
        for item in columns:
            field, sep, header = item.partition("=")
            if not sep:
                raise MappingError(f"--column {item!r}: write FIELD=HEADER")
            data.setdefault("columns", {})[field.strip()] = header.strip()
        if timezone:
            data["timezone"] = timezone
        mapping = mapping_from_dict(data, source=str(mapping_file or "options"))
    content = _read_file(file)
    node = Node.open(_settings())
    try:
        report = import_events(
            node.engine, node.reporter, content, mapping, dry_run=dry_run, valid_only=valid_only,
            progress=lambda done, total: click.echo(f"written {done} of {total} events",
                                                    err=True))
    except SpreadsheetError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    finally:
        node.engine.dispose()
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    click.echo("columns: " + ", ".join(f"{k}={v!r}" for k, v in report.columns.items()),
               err=True)
    _echo_problems(report.problems, report.problem_count)
    if report_file is not None:
        with report_file.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "value", "reason"])
            writer.writerows((p.row, p.column, p.value, p.reason) for p in report.problems)
    if report.problem_count and not valid_only:
        raise click.ClickException(report.summary)
    click.echo(report.summary)


@import_group.command("indicators")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--value-column", default="detections", show_default=True,
              help="the column of monthly counts")
@click.option("--dimension", "dimensions", multiple=True,
              help="an expected dimension column (repeatable; default: every other column)")
@click.option("--sheet", help="XLSX sheet name (default: the first)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write the checked table here as CSV (month, dimensions, value)")
def import_indicators_command(file: Path, value_column: str, dimensions: tuple[str, ...],
                              sheet: str | None, output: Path | None) -> None:
    """Check a monthly indicator table (CSV or XLSX) and write it out clean."""
    from sitcen.interop.spreadsheets import SpreadsheetError, read_indicators

    try:
        table, problems, notes = read_indicators(
            _read_file(file), value_column=value_column,
            dimensions=list(dimensions) or None, sheet=sheet)
    except SpreadsheetError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    for note in notes:
        click.echo(f"note: {note}", err=True)
    _echo_problems(problems, len(problems))
    if output is not None:
        table.assign(month=table["month"].astype(str)).to_csv(output, index=False)
    months = f"{table['month'].min()} to {table['month'].max()}" if len(table) else "no months"
    summary = f"{len(table)} rows kept ({months}), {len(problems)} problems"
    if problems:
        raise click.ClickException(summary)
    click.echo(summary)


@main.group("export")
def export_group() -> None:
    """Export data as spreadsheets or GeoJSON."""


def _listed(name: str, values: tuple[str, ...], allowed: set[str] | None = None) -> list[str]:
    found = [v.strip() for value in values for v in value.split(",") if v.strip()]
    for value in found:
        if allowed is not None and value not in allowed:
            raise click.BadParameter(f"unknown value {value!r}", param_hint=f"--{name}")
    return found


def _moment(name: str, value: str | None) -> int | None:
    from datetime import UTC

    from sitcen.times import parse_moment, to_micros

    if value is None:
        return None
    try:
        return to_micros(parse_moment(value, naive_zone=UTC, bound=True))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{name}") from exc


@export_group.command("events")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson"]), default="csv",
              show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True,
              path_type=Path), help="the file to write (- for standard output)")
@click.option("--since", help="occurred at or after (ISO 8601; UTC when no zone is given)")
@click.option("--until", help="occurred before (ISO 8601; UTC when no zone is given)")
@click.option("--bbox", help="min_lon,min_lat,max_lon,max_lat")
@click.option("--section", multiple=True, help="border section id (repeatable or comma-separated)")
@click.option("--country", multiple=True, help="ISO country code")
@click.option("--category", multiple=True)
@click.option("--type", "types", multiple=True, help="event type id")
@click.option("--impact-level", multiple=True)
@click.option("--status", multiple=True)
@click.option("--handling", multiple=True)
@click.option("--origin", multiple=True, help="node id of the reporting node")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark (for Excel)")
@click.option("--delimiter", type=click.Choice(["comma", "semicolon", "tab"]), default="comma",
              show_default=True, help="CSV: the column separator")
def export_events_command(fmt: str, output: Path, since: str | None, until: str | None,
                          bbox: str | None, section: tuple[str, ...], country: tuple[str, ...],
                          category: tuple[str, ...], types: tuple[str, ...],
                          impact_level: tuple[str, ...], status: tuple[str, ...],
                          handling: tuple[str, ...], origin: tuple[str, ...], bom: bool,
                          delimiter: str) -> None:
    """Export the events a query matches as CSV, XLSX or GeoJSON."""
    from sitcen.geo import BBox, parse_bbox
    from sitcen.interop.spreadsheets import (
        SpreadsheetError,
        csv_chunks,
        event_pages,
        geojson_chunks,
        write_xlsx,
    )
    from sitcen.store.queries import EventFilter
    from sitcen.taxonomy import EVENT_TYPES, Category, Handling, ImpactLevel, Status

    box: BBox | None = None
    if bbox is not None:
        try:
            box = parse_bbox(bbox)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--bbox") from exc
    filt = EventFilter(
        since=_moment("since", since), until=_moment("until", until), bbox=box,
        section_ids=_listed("section", section), countries=_listed("country", country),
        categories=_listed("category", category, {c.value for c in Category}),
        types=_listed("type", types, set(EVENT_TYPES)),
        impact_levels=_listed("impact-level", impact_level, {v.value for v in ImpactLevel}),
        statuses=_listed("status", status, {v.value for v in Status}),
        handlings=_listed("handling", handling, {v.value for v in Handling}),
        origins=_listed("origin", origin),
    )
    written = 0
    with _database() as engine:
        def counted() -> Iterator[list[dict[str, Any]]]:
            nonlocal written
            for page in event_pages(engine, filt):
                written += len(page)
                yield page

        with click.open_file(str(output), "wb") as handle, _refusing(SpreadsheetError):
            if fmt == "xlsx":
                write_xlsx(counted(), handle)
            else:
                chunks = (geojson_chunks(counted()) if fmt == "geojson" else
                          csv_chunks(counted(), bom=bom, delimiter={
                              "comma": ",", "semicolon": ";", "tab": "\t"}[delimiter]))
                for chunk in chunks:
                    handle.write(chunk)
    click.echo(f"{written} events written to {output}", err=True)
