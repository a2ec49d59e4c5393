"""The figures of a product: its map and its charts, drawn from the product's content alone.

Pure: a block of content (and the shipped country outlines) in, SVG or PNG
bytes out; no database, no clock. SVG goes into the HTML and PDF (vector, so
it prints sharp), PNG into the DOCX (word processors read it everywhere).
Drawn with matplotlib, whose DejaVu Sans covers Cyrillic and the Kazakh,
Kyrgyz, Tajik, Turkmen and Uzbek letters. The same content gives the same
bytes (fixed SVG ids, no date in the metadata).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure

from sitcen.sealing import opened

#: Section impact levels: distinct in hue *and* lightness, each at least 3:1 against white
#: (WCAG 2.1, 1.4.11 non-text contrast); critical is far darker than high.
LEVEL_COLOURS: dict[str, str] = {
    "low": "#2E7D32",       # green, 5.1:1
    "medium": "#9A6700",    # dark amber, 4.9:1
    "high": "#D32F2F",      # red, 5.0:1
    "critical": "#3C0A57",  # deep purple, 14.9:1
}
NO_LEVEL = "#6B7280"        # grey, 4.6:1
#: Categories never reuse a level colour (one colour, one meaning).
CATEGORY_COLOURS: dict[str, str] = {
    "unauthorised_crossing": "#1565C0",  # blue
    "cross_border_crime": "#00838F",     # teal
    "crisis": "#AD1457",                 # magenta
    "other": "#5D4037",                  # brown
}
HOT_SPOT = "#E65100"
COUNTRY_FILL = "#F4F4F2"
COUNTRY_EDGE = "#9E9E9E"

@functools.cache
def _pyplot() -> ModuleType:
    """matplotlib's pyplot, set up on first use: loading it takes about a second, which
    every node process and command would otherwise pay at start for a product's figure."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a node
    import matplotlib.pyplot as plt

    # Text stays text in the SVG (searchable, light); the page supplies DejaVu Sans.
    plt.rcParams.update({"svg.hashsalt": "sitcen", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans",
                         "font.size": 8, "axes.titlesize": 9})
    return plt


def _save(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "svg":
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    else:
        fig.savefig(buf, format="png", dpi=150, metadata={"Software": None},
                    bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def clip_outlines(countries: Mapping[str, Any], bbox: Sequence[float],
                  tolerance: float = 0.02) -> list[list[tuple[float, float]]]:
    """The rings of the country outlines inside ``bbox``, simplified to about 2 km.

    A map of a few hundred kilometres needs no finer outline, and a lighter
    figure prints several times faster.
    """
    import shapely

    box = shapely.box(*bbox)
    rings: list[list[tuple[float, float]]] = []
    for feature in countries.get("features", []):
        geometry = shapely.geometry.shape(feature.get("geometry") or {})
        if not geometry.intersects(box):
            continue
        part = shapely.simplify(shapely.intersection(geometry, box), tolerance)
        for poly in getattr(part, "geoms", [part]):
            exterior = getattr(poly, "exterior", None)
            if exterior is not None:
                rings.append([(round(x, 3), round(y, 3)) for x, y in exterior.coords])
    return rings


def map_figure(block: Mapping[str, Any], countries: Mapping[str, Any], fmt: str = "svg"
               ) -> bytes:
    """The map of a product: country outlines, sections by level, hot spots, key events.

    Withheld parts (a partner's copy without locations) are simply not drawn.
    """
    min_lon, min_lat, max_lon, max_lat = block["bbox"]
    fig, ax = _pyplot().subplots(figsize=(7.0, 4.4))
    ax.set_facecolor("#DCE9F5")
    for ring in clip_outlines(countries, block["bbox"]):
        ax.fill([p[0] for p in ring], [p[1] for p in ring], facecolor=COUNTRY_FILL,
                edgecolor=COUNTRY_EDGE, linewidth=0.5)
    for sealed in block.get("sections", []):
        section = opened(sealed)
        if section is None:
            continue
        colour = LEVEL_COLOURS.get(str(section.get("level")), NO_LEVEL)
        width = 2.6 if section.get("level") in LEVEL_COLOURS else 1.4
        for line in section["lines"]:
            ax.plot([p[0] for p in line], [p[1] for p in line], color=colour, linewidth=width,
                    solid_capstyle="round")
    spots = [s for s in (opened(x) for x in block.get("hot_spots", [])) if s is not None]
    if spots:
        biggest = max(s["count"] for s in spots) or 1
        ax.scatter([s["lon"] for s in spots], [s["lat"] for s in spots],
                   s=[40 + 360 * s["count"] / biggest for s in spots], facecolors="none",
                   edgecolors=HOT_SPOT, linewidths=1.6, zorder=4)
    points = [p for p in (opened(x) for x in block.get("events", [])) if p is not None]
    if points:
        ax.scatter([p["lon"] for p in points], [p["lat"] for p in points], s=14, marker="D",
                   color="#111111", zorder=5)
    ax.set_xlim(min_lon, max_lon)
    ax.set_ylim(min_lat, max_lat)
    ax.set_aspect(1.25)
    ax.set_xticks([])
    ax.set_yticks([])
    from matplotlib.lines import Line2D

    legend = block.get("legend", {})
    handles = [Line2D([0], [0], color=LEVEL_COLOURS[k], linewidth=3, label=v)
               for k, v in legend.get("levels", {}).items()]
    handles.append(Line2D([0], [0], color=NO_LEVEL, linewidth=1.5, label=legend.get("none", "")))
    handles.append(Line2D([0], [0], marker="o", color="none", markeredgecolor=HOT_SPOT,
                          markersize=9, label=legend.get("hot_spot", "")))
    handles.append(Line2D([0], [0], marker="D", color="none", markerfacecolor="#111111",
                          markersize=5, label=legend.get("event", "")))
    ax.legend(handles=handles, title=legend.get("title"), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=7,
              title_fontsize=7, framealpha=0.92)
    return _save(fig, fmt)


def chart_figure(block: Mapping[str, Any], fmt: str = "svg") -> bytes:
    """A chart of a product: stacked bars per category and day, or a forecast with intervals."""
    if block.get("chart") == "forecast":
        return _forecast(block, fmt)
    fig, ax = _pyplot().subplots(figsize=(7.0, 2.6))
    xs = list(range(len(block["x"])))
    bottom = [0.0] * len(xs)
    for series in block["series"]:
        values = [float(v) for v in series["values"]]
        top = [b + v for b, v in zip(bottom, values, strict=True)]
        colour = CATEGORY_COLOURS.get(series.get("category", ""), "#607D8B")
        if len(xs) <= 31:
            ax.bar(xs, values, bottom=bottom, label=series["label"], color=colour)
        else:  # many days: one stepped band per category, not a rectangle per day
            ax.fill_between(xs, bottom, top, step="mid", label=series["label"], color=colour,
                            linewidth=0)
        bottom = top
    step = max(1, len(xs) // 14)
    ax.set_xticks(xs[::step], block["x"][::step], fontsize=6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=6, ncols=2, frameon=False)
    return _save(fig, fmt)


def _forecast(block: Mapping[str, Any], fmt: str) -> bytes:
    fig, ax = _pyplot().subplots(figsize=(7.0, 2.6))
    legend = block.get("legend", {})
    for series in block["series"]:
        history = series["history"]
        ahead = series["forecast"]
        months = [h[0] for h in history] + [f[0] for f in ahead]
        index = {m: i for i, m in enumerate(months)}
        ax.plot([index[h[0]] for h in history], [h[1] for h in history], color="#263238",
                label=legend.get("history"))
        fx = [index[f[0]] for f in ahead]
        ax.fill_between(fx, [f[4] for f in ahead], [f[5] for f in ahead], color="#90CAF9",
                        alpha=0.5, label=legend.get("interval_95"))
        ax.fill_between(fx, [f[2] for f in ahead], [f[3] for f in ahead], color="#1E88E5",
                        alpha=0.5, label=legend.get("interval_80"))
        ax.plot(fx, [f[1] for f in ahead], color="#0D47A1", linestyle="--",
                label=legend.get("forecast"))
        step = max(1, len(months) // 12)
        ax.set_xticks(range(0, len(months), step), months[::step], fontsize=6, rotation=45)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=6, frameon=False)
    return _save(fig, fmt)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a ``#RRGGBB`` colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
