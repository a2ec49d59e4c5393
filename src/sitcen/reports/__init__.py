"""Situation reports and analytical products: built from the node's own data, issued as records.

``products`` builds a product's content (figures, tables, map, charts and
plain-language text) for a centre, a period and a template; ``render`` turns
any content into HTML, PDF or DOCX; ``issue`` signs and stores it as a
``report`` record (docs/reports.md).
"""
