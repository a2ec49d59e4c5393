#!/usr/bin/env python3
"""Draw the console's app icons into ``frontend/public/`` (the web app manifest's icons).

The motif is the favicon's (``frontend/src/favicon.svg``, copied as ``icon.svg``): a
dark-blue tile, an orange trace with a yellow point and a blue one. PNGs are drawn with
Pillow at the sizes installers ask for: 192 and 512 px, a 512 px "maskable" one whose
drawing keeps to the middle (phones cut it to a circle or a squircle) and Apple's 180 px.

Usage: ``python scripts/console_icons.py``; then ``make console``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageDraw

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
TILE = "#1c3250"


def icon(size: int, *, maskable: bool) -> Image.Image:
    """The icon at ``size`` px; a maskable one fills the square and keeps to its middle."""
    unit = size / 32  # the favicon's view box is 32 x 32
    if maskable:
        image = Image.new("RGB", (size, size), TILE)
    else:
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=round(6 * unit), fill=TILE)
    shrink = 0.75 if maskable else 1.0
    margin = size * (1 - shrink) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return margin + x * unit * shrink, margin + y * unit * shrink

    def dot(x: float, y: float, r: float, fill: str, outline: str | None = None) -> None:
        cx, cy = at(x, y)
        r *= unit * shrink
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline,
                     width=max(1, round(1.2 * unit * shrink)))

    draw.line([at(5, 21), at(11, 14), at(16, 18), at(21, 10), at(27, 15)], fill="#f08c00",
              width=max(2, round(2.5 * unit * shrink)), joint="curve")
    dot(21, 10, 3.2, "#ffd43b", "#ffffff")
    dot(11, 23, 2, "#4dabf7")
    return image


def main() -> None:
    public = FRONTEND / "public"
    public.mkdir(exist_ok=True)
    icon(192, maskable=False).save(public / "icon-192.png", optimize=True)
    icon(512, maskable=False).save(public / "icon-512.png", optimize=True)
    icon(512, maskable=True).save(public / "icon-maskable-512.png", optimize=True)
    icon(180, maskable=True).save(public / "apple-touch-icon.png", optimize=True)
    shutil.copyfile(FRONTEND / "src" / "favicon.svg", public / "icon.svg")


if __name__ == "__main__":
    main()
