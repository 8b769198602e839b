"""Image Occlusion masks: shapes in image-relative coordinates → the Occlusion field exactly as Anki writes it.

Diagram occlusion (builder.diagrams.occlusion) measures rectangles in a rendered SVG; occlusion on an image
(builder.notekinds.occlusion) takes rectangles, ellipses and polygons from the note. Both end up here.
Coordinates are fractions (0..1) of the image's width and height, as Anki stores them, so a mask stays on its
spot whatever size the image is shown at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape


@dataclass(frozen=True)
class Mask:
    """A rectangle: left, top, width and height as fractions of the image's width and height."""

    ordinal: int
    left: float
    top: float
    width: float
    height: float

    kind = "rect"

    def properties(self) -> tuple[tuple[str, float], ...]:
        return (("left", self.left), ("top", self.top), ("width", self.width), ("height", self.height))

    def sort_key(self) -> tuple[int, float, float, float, float]:
        return (self.ordinal, self.top, self.left, self.width, self.height)


@dataclass(frozen=True)
class Ellipse:
    """The ellipse inscribed in a box (left, top, width, height), stored as Anki does: its box's corner and radii."""

    ordinal: int
    left: float
    top: float
    width: float
    height: float

    kind = "ellipse"

    def properties(self) -> tuple[tuple[str, float], ...]:
        return (("left", self.left), ("top", self.top), ("rx", self.width / 2), ("ry", self.height / 2))

    def sort_key(self) -> tuple[int, float, float, float, float]:
        return (self.ordinal, self.top, self.left, self.width, self.height)


@dataclass(frozen=True)
class Polygon:
    """Three or more points (x, y). Anki draws the points shifted by (left, top) minus their top-left corner,
    so left and top are that corner and the points land where they are written."""

    ordinal: int
    points: tuple[tuple[float, float], ...]

    kind = "polygon"

    @property
    def left(self) -> float:
        return min(x for x, _ in self.points)

    @property
    def top(self) -> float:
        return min(y for _, y in self.points)

    def properties(self) -> tuple[tuple[str, float], ...]:
        return (("left", self.left), ("top", self.top))

    def sort_key(self) -> tuple[int, float, float, float, float]:
        return (self.ordinal, self.top, self.left, 0.0, 0.0)


Shape = Mask | Ellipse | Polygon


def mask_cloze(masks: Sequence[Shape], *, occlude_inactive: bool = True, labels: Sequence[tuple[int, str]] = ()) -> str:
    """The Image Occlusion "Occlusion" field for `masks`, exactly as Anki's mask editor writes it.

    Anki (ts/routes/image-occlusion/shapes/to-cloze.ts) writes one `{{cN::image-occlusion:rect:left=..:top=..
    :width=..:height=..[:oi=1]}}` per shape (`ellipse:left=..:top=..:rx=..:ry=..`, `polygon:left=..:top=..
    :points=x,y x,y ..`), each followed by `<br>`, numbers through floatToDisplay (4 decimals, leading and
    trailing zeros dropped). `oi=1` is the "hide all, guess one" mode: the masks of the other cloze numbers stay
    covered on the front too.

    `labels` (number, text) follow the shapes as text clozes, one per number: Anki's Image Occlusion script
    draws only the shape clozes, and the back of card N shows the label of N (builder.notetypes).
    """
    ordered = sorted(masks, key=lambda m: (m.sort_key(), m.kind))
    parts: list[str] = []
    for mask in ordered:
        props = ":".join(f"{name}={anki_float(value)}" for name, value in mask.properties())
        if isinstance(mask, Polygon):
            props += ":points=" + " ".join(f"{anki_float(x)},{anki_float(y)}" for x, y in mask.points)
        if occlude_inactive:
            props += ":oi=1"
        parts.append(f"{{{{c{mask.ordinal}::image-occlusion:{mask.kind}:{props}}}}}<br>")
    for ordinal, text in labels:
        parts.append(f'<span class="df-io-label">{{{{c{ordinal}::{escape(text, quote=False)}}}}}</span>')
    return "".join(parts)


def anki_float(value: float) -> str:
    """Anki's floatToDisplay: toFixed(4) (ties away from zero), then leading and trailing zeros removed."""
    if value == 0 or value != value:
        return ".0000"
    fixed = str(Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
    return re.sub(r"^0+|0+$", "", fixed)
