"""A product's content as HTML (with a print stylesheet), PDF (WeasyPrint) and DOCX (python-docx).

Everything is read from the content (and, for an issued report, its
signature): the same record renders the same pages on every node. The PDF
embeds DejaVu Sans, shipped with matplotlib (a dependency), so Cyrillic and
the Kazakh, Kyrgyz, Tajik, Turkmen and Uzbek letters print on a machine with
no fonts installed; WeasyPrint is given no network access (only ``file:``
and ``data:`` URLs load).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import orjson

from sitcen.analysis.figures import chart_figure, map_figure
from sitcen.sealing import opened, withheld

FORMATS = ("html", "pdf", "docx")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sitcen.reports", "templates"),
        autoescape=True, trim_blocks=False, lstrip_blocks=False)


@cache
def countries() -> dict[str, Any]:
    """The shipped country outlines the maps are drawn on."""
    text = (resources.files("sitcen") / "data" / "countries.geojson").read_bytes()
    found: dict[str, Any] = orjson.loads(text)
    return found


def font_paths() -> dict[str, str]:
    """DejaVu Sans regular and bold, from matplotlib's package data."""
    import matplotlib

    root = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"regular": (root / "DejaVuSans.ttf").as_uri(),
            "bold": (root / "DejaVuSans-Bold.ttf").as_uri()}


def _cell(value: Any, withheld_text: str) -> dict[str, Any]:
    if withheld(value):
        return {"text": withheld_text, "withheld": True}
    value = opened(value)
    if value is None:
        return {"text": "–", "withheld": False}
    if isinstance(value, float):
        value = f"{value:g}"
    return {"text": str(value), "withheld": False}


def _withheld_text(content: Mapping[str, Any]) -> str:
    return str(content.get("captions", {}).get("withheld", "withheld"))


def _blocks(content: Mapping[str, Any], *, figures: str | None) -> list[dict[str, Any]]:
    out = []
    hidden = _withheld_text(content)
    for index, block in enumerate(content["blocks"]):
        b = dict(block)
        if b["kind"] == "table":
            b["rows"] = [[_cell(c, hidden) for c in row] for row in b["rows"]]
        elif b["kind"] in ("map", "chart") and figures:
            drawn = (map_figure(block, countries(), figures) if b["kind"] == "map"
                     else chart_figure(block, figures))
            if figures == "svg":
                b["svg"] = _svg(drawn, f"f{index}-")
            else:
                b["img"] = "data:image/png;base64," + base64.b64encode(drawn).decode("ascii")
        out.append(b)
    return out


_SVG_ID = re.compile(r'(id="|url\(#|href="#)([^")]+)')


def _svg(data: bytes, prefix: str) -> str:
    """An SVG for inlining: no XML prolog, and ids of its own (several figures share a page)."""
    text = data.decode("utf-8")
    text = text[text.index("<svg"):]
    return _SVG_ID.sub(lambda m: m.group(1) + prefix + m.group(2), text)


def _context(content: Mapping[str, Any], report: Mapping[str, Any] | None,
             verified: bool | None, *, figures: str | None, fonts: bool) -> dict[str, Any]:
    body = report or {}
    signature = body.get("signature")
    status = None
    if report is not None:
        status = f"{report.get('version', 1)} · {report.get('status', '')}"
    c = dict(content)
    handling = str(body.get("handling") or content.get("handling") or "")
    c["handling_label"] = f"TLP:{handling}" if handling else ""
    return {"c": c, "blocks": _blocks(content, figures=figures), "signature": signature,
            "verified": verified, "status": status,
            "withheld": ", ".join(body.get("withheld") or ()),
            "fonts": font_paths() if fonts else None}


def render_html(content: Mapping[str, Any], report: Mapping[str, Any] | None = None,
                verified: bool | None = None, *, fonts: bool = False,
                figures: str = "svg") -> str:
    """The product as one self-contained HTML page (figures inline, print stylesheet).

    Figures are inline SVG for a browser; the PDF takes them as PNG (``figures="png"``),
    which WeasyPrint places in a fraction of the time it takes to lay out thousands of
    SVG shapes, at a resolution (150 dpi) that prints sharp.
    """
    template = _environment().get_template("report.html")
    return template.render(**_context(content, report, verified, figures=figures, fonts=fonts))


def render_pdf(content: Mapping[str, Any], report: Mapping[str, Any] | None = None,
               verified: bool | None = None) -> bytes:
    """The product as PDF (A4, page numbers and handling on every page, fonts embedded)."""
    import weasyprint

    html = render_html(content, report, verified, fonts=True, figures="png")
    # The shipped fonts and inline data only: a report never reaches the network.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"file", "data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url=".")
    pdf: bytes = document.write_pdf()
    return pdf


def render_docx(content: Mapping[str, Any], report: Mapping[str, Any] | None = None,
                verified: bool | None = None) -> bytes:
    """The product as an editable Word document (headings, tables, figures as PNG)."""
    import docx
    from docx.enum.section import WD_ORIENT  # noqa: F401  (kept for readers adapting layout)
    from docx.shared import Cm, Pt

    context = _context(content, report, verified, figures=None, fonts=False)
    c = context["c"]
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(9.5)
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(1.6)
    if c.get("handling_label"):
        section.header.paragraphs[0].text = c["handling_label"]
    template = c.get("template") or {}
    if (template.get("logo") or "").startswith("data:image/png;base64,"):
        raw = base64.b64decode(template["logo"].split(",", 1)[1])
        document.add_picture(io.BytesIO(raw), height=Cm(1.6))
    if template.get("header"):
        document.add_paragraph(template["header"])
    document.add_heading(c["title"], level=0)
    captions = c["captions"]
    meta = [(captions["period"], f"{c['period']['label']} ({c['centre']['time_zone']})"),
            (captions["centre"], f"{c['centre']['name']} · {c['centre']['level_label']} · "
                                 f"{c['centre']['country']}"),
            (captions["generated"], c["generated_at"]),
            (captions["handling"], c.get("handling_label", ""))]
    if context["status"]:
        meta.append((captions["version"], context["status"]))
    for name, value in meta:
        p = document.add_paragraph()
        p.add_run(f"{name}: ").bold = True
        p.add_run(str(value))
    if not context["signature"]:
        document.add_paragraph(captions["not_issued"]).runs[0].bold = True
    if context["withheld"]:
        document.add_paragraph(f"{captions['withheld']}: {context['withheld']}")
    for block in context["blocks"]:
        document.add_heading(block["heading"], level=1)
        if block["kind"] == "text":
            document.add_paragraph(block["text"])
        elif block["kind"] == "table":
            if block["rows"]:
                table = document.add_table(rows=1, cols=len(block["columns"]))
                table.style = "Table Grid"
                for cell, name in zip(table.rows[0].cells, block["columns"], strict=True):
                    cell.text = name
                    cell.paragraphs[0].runs[0].bold = True
                for row in block["rows"]:
                    cells = table.add_row().cells
                    for cell, value in zip(cells, row, strict=True):
                        cell.text = value["text"]
            else:
                document.add_paragraph(block["empty"])
            if block.get("note"):
                document.add_paragraph(block["note"]).runs[0].italic = True
        elif block["kind"] == "map":
            png = map_figure(block, countries(), "png")
            document.add_picture(io.BytesIO(png), width=Cm(17))
        elif block["kind"] == "chart":
            png = chart_figure(block, "png")
            document.add_picture(io.BytesIO(png), width=Cm(17))
        if block.get("commentary"):
            p = document.add_paragraph()
            p.add_run(f"{captions['commentary']}: ").bold = True
            p.add_run(block["commentary"])
    if c.get("missing_note"):
        document.add_paragraph(c["missing_note"]).runs[0].italic = True
    signature = context["signature"]
    if signature:
        p = document.add_paragraph()
        p.add_run(f"{captions['issued_by']}: ").bold = True
        p.add_run(f"{signature['name']} ({signature['by']}), {signature['node']}, "
                  f"{signature['signed_at']}")
        p = document.add_paragraph()
        p.add_run(f"{captions['signature']}: ").bold = True
        p.add_run(f"SHA-256 {signature['digest']} · Ed25519 {signature['key']}")
    document.core_properties.title = c["title"]
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def render(content: Mapping[str, Any], fmt: str, report: Mapping[str, Any] | None = None,
           verified: bool | None = None) -> bytes:
    """The product in ``fmt`` (html, pdf or docx)."""
    if fmt == "html":
        return render_html(content, report, verified).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(content, report, verified)
    if fmt == "docx":
        return render_docx(content, report, verified)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
