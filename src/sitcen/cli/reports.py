"""Situation reports and analytical products: ``report`` (docs/reports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sitcen.cli import main
from sitcen.cli.common import _database, _settings
from sitcen.reports.templates import PRODUCTS


@main.group()
def report() -> None:
    """Situation reports and analytical products: generate, issue, list, render, templates."""


def _facts() -> Any:
    from sitcen.node import Node
    from sitcen.reports.library import NodeFacts

    node = Node.open(_settings())
    return node, NodeFacts.of(node)


@report.command("generate")
@click.argument("product", type=click.Choice(PRODUCTS))
@click.option("--day", help="a day of the period, YYYY-MM-DD (default: yesterday for daily, "
                            "today otherwise; tactical: its first day)")
@click.option("--language", help="a catalogue language (default: the template's, else ru)")
@click.option("--template", "template_id", help="a stored template id")
@click.option("--area", multiple=True, help="tactical: a section or border (AF-TJ-*); repeat")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90),
              help="tactical: days ahead")
@click.option("--by", default="cli", show_default=True, help="who drafts it")
@click.option("--issue-as", help="issue it at once, signed for this user")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="also write it here; .html, .pdf or .docx")
def report_generate(product: str, day: str | None, language: str | None,
                    template_id: str | None, area: tuple[str, ...], days: int, by: str,
                    issue_as: str | None, output: Path | None) -> None:
    """Generate a product from the node's own data as a draft (and issue it if asked)."""
    from datetime import UTC, date, datetime, timedelta

    from sitcen.reports.library import ReportError, issue_draft, make_draft
    from sitcen.reports.render import render
    from sitcen.store.users import list_users

    node, facts = _facts()
    today = datetime.now(UTC).date()
    try:
        when = date.fromisoformat(day) if day else (
            today - timedelta(days=1) if product == "daily" else today)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    try:
        record = make_draft(node.engine, facts, product=product, day=when, by=by,
                            template_id=template_id, language=language, area=list(area),
                            days=days)
        click.echo(f"draft {record.id} (version {record.version}): {record.body['title']}, "
                   f"{record.body['period']['label']}")
        if issue_as:
            officer = next((u for u in list_users(node.engine) if u.username == issue_as), None)
            if officer is None:
                raise click.ClickException(f"no user {issue_as!r}")
            record = issue_draft(node.engine, facts, record.id, officer)
            click.echo(f"issued report {record.id} (version {record.version}), signed for "
                       f"{issue_as}")
    except ReportError as exc:
        raise click.ClickException(f"{exc.field}: {exc}") from None
    if output is not None:
        fmt = output.suffix.lstrip(".").lower()
        if fmt not in ("html", "pdf", "docx"):
            raise click.BadParameter("the file must end in .html, .pdf or .docx",
                                     param_hint="--output")
        body = record.body if record.kind == "report" else None
        output.write_bytes(render(record.body["content"], fmt,
                                  None if body is None else {**body, "version": record.version}))
        click.echo(f"written {output}")


@report.command("list")
@click.option("--drafts", is_flag=True, help="list drafts instead of issued reports")
def report_list(drafts: bool) -> None:
    """The reports library (issued reports, own and received), newest first."""
    from sitcen.reports.library import library
    from sitcen.store.journal import RecordKind

    with _database() as engine:
        found = library(engine, kind=RecordKind.report_draft if drafts else RecordKind.report)
    for r in found:
        who = (r.body.get("signature") or {}).get("by") or r.body.get("edited_by", "")
        click.echo(f"{r.id}  v{r.version}  {r.body.get('status'):9} {r.body.get('product'):8} "
                   f"{r.body.get('period', {}).get('label', ''):25} {r.body.get('language')}  "
                   f"{r.origin}  {who}")


@report.command("render")
@click.argument("record_id")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
def report_render(record_id: str, output: Path) -> None:
    """Render an issued report or a draft to OUTPUT (.html, .pdf or .docx)."""
    from sitcen.reports.render import render
    from sitcen.store.records import get_record

    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("html", "pdf", "docx"):
        raise click.BadParameter("the file must end in .html, .pdf or .docx")
    with _database() as engine:
        record = get_record(engine, record_id)
    if record is None or record.kind not in ("report", "report_draft"):
        raise click.ClickException(f"no report or draft {record_id}")
    body = {**record.body, "version": record.version} if record.kind == "report" else None
    output.write_bytes(render(record.body["content"], fmt, body))
    click.echo(f"written {output}")


@report.command("template")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="only validate it")
def report_template(document: Path, check: bool) -> None:
    """Validate a report template (YAML or JSON) and store it; errors name line and field."""
    from sitcen.reports.library import save_template
    from sitcen.reports.templates import TemplateError, load_template

    text = document.read_text(encoding="utf-8")
    try:
        if check:
            template = load_template(text, source=document.name)
            click.echo(f"template {template.id}: valid")
            return
        with _database() as engine:
            record = save_template(engine, _settings().node_id, text, by="cli",
                                   source=document.name)
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"template {record.subject} stored (version {record.version})")
