"""Legibility: an SVG's text in, how large the image and its smallest label are drawn on a phone and a desktop.

Anki shows a card's images with `max-width: 100%; max-height: 95vh` (its reviewer stylesheet): an image is
never enlarged, is shrunk to the card's width, and is shrunk again if it is taller than 95 % of the view. An
Image Occlusion image is different: Anki's reviewer stretches it over a container as wide as the column with
the image's aspect ratio, and the deck's stylesheet caps that container at `max-height: 55vh`
(builder/notetypes/card.css), so the image fills the width or 55 % of the view, whichever is smaller, and a
small one is enlarged. A label is readable when its font size at that scale is at least MIN_LABEL_PX.
"""

from __future__ import annotations

import enum
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from builder.diagrams.base import DiagramError
from builder.diagrams.svggeom import Affine, classes, local, number, parents, transforms
from builder.diagrams.svgtext import ROOT_FONT_SIZE, css_length, text_runs
from builder.diagrams.svgxml import parse_svg, parse_viewbox

#: The smallest label size, in CSS px, that a learner can read without zooming (about 8 pt on a phone).
MIN_LABEL_PX = 11.0
#: Media SVGs larger than this are not measured (they are checked, and refused, elsewhere).
MAX_MEASURED_BYTES = 16 * 1024 * 1024
#: Graphviz puts every line of a multi-line label in a <text> of its own, inside the node's or edge's <g>.
_LABEL_GROUPS = frozenset({"node", "edge", "cluster"})
#: Texts whose baselines are this close (root user units) are read as one row.
ROW_PX = 10.0


class Placement(enum.StrEnum):
    """Where the image sits, which decides how it is sized."""

    #: An `<img>` in a card's field: Anki's `max-width: 100%; max-height: 95vh`, never enlarged.
    CARD = "card"
    #: The image of an Image Occlusion note: fills the column's width or the deck's
    #: `#image-occlusion-container { max-height: 55vh }`, whichever is smaller, enlarged if need be.
    OCCLUSION = "occlusion"

    @property
    def max_height(self) -> float:
        """The tallest the image may be drawn, as a fraction of the view's height."""
        return _MAX_HEIGHT[self]

    @property
    def enlarges(self) -> bool:
        """Whether an image smaller than its space is drawn larger than its intrinsic size."""
        return self is Placement.OCCLUSION


_MAX_HEIGHT = {Placement.CARD: 0.95, Placement.OCCLUSION: 0.55}


@dataclass(frozen=True)
class Viewport:
    """A screen the card is shown on, in CSS px."""

    name: str
    #: Width of the window or phone screen.
    width: float
    #: Height of the part that shows the card (what `vh` is measured against): the window less the client's
    #: toolbar and answer buttons.
    height: float
    #: Card padding on each side.
    padding: float
    #: The widest the card column gets (the deck's stylesheet caps it).
    column: float

    @property
    def available_width(self) -> float:
        return min(self.column, self.width - 2 * self.padding)

    def describe(self) -> str:
        return f"{self.name} ({self.width:g} px wide)"


#: A 400 x 800 phone: Anki shows its cards in a 400 x 673 view (measured in Anki 26.9 at that window size;
#: AnkiDroid's toolbar and answer buttons leave about as much).
PHONE = Viewport("phone", width=400, height=673, padding=9, column=800)
#: A 1280 x 900 desktop window: a 773 px tall card view (measured in Anki 26.9), an 800 px card column.
DESKTOP = Viewport("desktop", width=1280, height=773, padding=9, column=800)
VIEWPORTS = (PHONE, DESKTOP)


@dataclass(frozen=True)
class SvgFacts:
    """What decides how an SVG reads on a card."""

    #: Intrinsic size in CSS px (the root's width and height; the viewBox when it has none).
    width: float
    height: float
    #: False when the root has no usable width/height: an `<img>` then fills the card's width.
    sized: bool
    #: The smallest font size of any drawn text, in CSS px at the intrinsic size; None without text.
    smallest_text: float | None
    #: That text (its first 40 characters), to name it in a warning.
    smallest_label: str
    #: The text of each label in document order, without repeats (lines of one label joined by a space).
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Rendering:
    """How an image comes out on one viewport."""

    viewport: Viewport
    scale: float
    width: float
    height: float
    #: The smallest label's size in CSS px at this scale; None without text.
    smallest_px: float | None


def svg_facts(svg: str) -> SvgFacts:
    """Size, smallest text and labels of an SVG document; DiagramError if it is not one."""
    root = parse_svg(svg, MAX_MEASURED_BYTES)
    width, height, sized = _intrinsic_size(root)
    runs = text_runs(root)
    smallest = min(runs, key=lambda run: run.size, default=None)
    return SvgFacts(
        width=width,
        height=height,
        sized=sized,
        smallest_text=smallest.size if smallest else None,
        smallest_label=smallest.text[:40] if smallest else "",
        labels=_labels(root, {run.element: run.size for run in runs}),
    )


def scale_on(facts: SvgFacts, viewport: Viewport, placement: Placement = Placement.CARD) -> float:
    """The factor the image is drawn at on `viewport` (1 = its intrinsic size)."""
    width = viewport.available_width / facts.width
    height = placement.max_height * viewport.height / facts.height
    # An SVG without a size is drawn as wide as the card (then capped by the height), so it may grow too.
    if placement.enlarges or not facts.sized:
        return min(width, height)
    return min(1.0, width, height)


def rendering(facts: SvgFacts, viewport: Viewport, placement: Placement = Placement.CARD) -> Rendering:
    scale = scale_on(facts, viewport, placement)
    smallest = facts.smallest_text * scale if facts.smallest_text is not None else None
    return Rendering(viewport, scale, facts.width * scale, facts.height * scale, smallest)


def _intrinsic_size(root: ET.Element) -> tuple[float, float, bool]:
    box = parse_viewbox(root.get("viewBox"))
    raw_w, raw_h = root.get("width") or "", root.get("height") or ""
    width = css_length(raw_w, ROOT_FONT_SIZE) if raw_w and "%" not in raw_w else None
    height = css_length(raw_h, ROOT_FONT_SIZE) if raw_h and "%" not in raw_h else None
    if width and height:
        return width, height, True
    if box is not None and box[2] > 0 and box[3] > 0:
        if width:
            return width, width * box[3] / box[2], True
        if height:
            return height * box[2] / box[3], height, True
        return box[2], box[3], False
    # Neither: browsers draw such an SVG at 300 x 150.
    return width or 300.0, height or 150.0, bool(width or height)


def _labels(root: ET.Element, runs: dict[ET.Element, float]) -> tuple[str, ...]:
    """Label texts in reading order: rows top to bottom (texts within ROW_PX of each other share a row), each
    row left to right. Engines write texts in their own order (Mermaid's actors right to left, for one)."""
    parent_of = parents(root)
    matrices = transforms(root)
    groups: list[list[tuple[str, tuple[float, float]]]] = []
    last: tuple[ET.Element | None, ET.Element | None] = (None, None)
    for el in root.iter():
        if not isinstance(el.tag, str) or local(el.tag) != "text" or _hidden(el, parent_of):
            continue
        text = " ".join(" ".join(el.itertext()).split())
        if not text:
            continue
        where = _anchor(el, matrices)
        parent = parent_of.get(el)
        size = max((runs.get(e, 0.0) for e in el.iter()), default=0.0) or ROOT_FONT_SIZE
        previous_parent, previous = last
        # One label's lines: the next line of the text above, or (Graphviz) another text of the same node.
        same_label = (
            bool(groups)
            and parent is previous_parent
            and previous is not None
            and (
                _continues(groups[-1][-1][1], where, size)
                or (parent is not None and bool(_LABEL_GROUPS & set(classes(parent))))
            )
        )
        if same_label:
            groups[-1].append((text, where))
        else:
            groups.append([(text, where)])
        last = (parent, el)
    placed = sorted((pieces[0][1][1], pieces[0][1][0], " ".join(t for t, _ in pieces)) for pieces in groups)
    rows: list[list[tuple[float, str]]] = []
    top = -math.inf
    for y, x, text in placed:
        if y - top > ROW_PX:
            rows.append([])
            top = y
        rows[-1].append((x, text))
    seen: dict[str, None] = {}
    for row in rows:
        for _, text in sorted(row):
            seen.setdefault(text, None)
    return tuple(seen)


def _continues(above: tuple[float, float], below: tuple[float, float], size: float) -> bool:
    """Whether a text is the next line of the one above it: the same x, one line height further down."""
    return abs(above[0] - below[0]) <= 1 and 0 < below[1] - above[1] <= 1.4 * size


def _anchor(text: ET.Element, matrices: dict[ET.Element, Affine]) -> tuple[float, float]:
    """Where a text starts, in root user units: its own x/y or its first tspan's (em as 16 px: ordering only)."""
    for el in text.iter():
        x, y = number(el.get("x")), number(el.get("y"))
        if x is not None or y is not None:
            return matrices.get(el, Affine()).apply(x or 0.0, y or 0.0)
    return matrices.get(text, Affine()).apply(0.0, 0.0)


def _hidden(el: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> bool:
    node: ET.Element | None = parent_of.get(el)
    while node is not None:
        if local(node.tag) in ("defs", "marker", "mask", "clipPath", "pattern", "symbol"):
            return True
        node = parent_of.get(node)
    return False


def measure_or_none(svg: str) -> SvgFacts | None:
    """`svg_facts`, or None for text that is not a usable SVG document."""
    try:
        return svg_facts(svg)
    except DiagramError:
        return None
