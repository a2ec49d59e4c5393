"""The palette of maps and console: WCAG 2.1 contrast, one meaning per colour, one palette."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sitcen.analysis.figures import CATEGORY_COLOURS, LEVEL_COLOURS, NO_LEVEL, contrast

ROOT = Path(__file__).resolve().parent.parent
LAND = "#F7F5EF"  # the console's land colour under the sections (style.json)


def test_level_colours_meet_non_text_contrast_and_stand_apart() -> None:
    for level, colour in LEVEL_COLOURS.items():
        assert contrast(colour, LAND) >= 3.0, level  # WCAG 2.1, 1.4.11
        assert contrast(colour, "#FFFFFF") >= 4.5, level  # white text on a level chip
    assert contrast(NO_LEVEL, LAND) >= 3.0
    # High and critical used to differ by 1.6:1; now they are told apart by lightness too.
    assert contrast(LEVEL_COLOURS["high"], LEVEL_COLOURS["critical"]) >= 3.0
    assert round(contrast("#000000", "#FFFFFF"), 6) == 21.0


def test_one_colour_one_meaning_and_one_palette_everywhere() -> None:
    levels = {c.upper() for c in LEVEL_COLOURS.values()}
    categories = {c.upper() for c in CATEGORY_COLOURS.values()}
    assert not levels & categories
    style = json.loads((ROOT / "frontend" / "src" / "style.json").read_text(encoding="utf-8"))
    layers = {layer["id"]: layer for layer in style["layers"]}
    section_colours = layers["sections"]["paint"]["line-color"]
    assert {c.upper() for c in section_colours if isinstance(c, str) and c.startswith("#")} \
        == levels | {"#6B7280"}
    point_colours = layers["event-points"]["paint"]["circle-color"]
    assert {c.upper() for c in point_colours if isinstance(c, str) and c.startswith("#")} \
        == categories
    ring = layers["alerts"]["paint"]["circle-stroke-color"].upper()
    assert ring not in levels | categories  # alerts: one colour, width by severity
    css = (ROOT / "frontend" / "src" / "styles.css").read_text(encoding="utf-8")
    for level, colour in LEVEL_COLOURS.items():
        assert re.search(rf"\.level-{level} {{ background: {colour}; }}", css), level
    for category, colour in CATEGORY_COLOURS.items():
        assert f"--cat-{category}: {colour};" in css, category
