"""Diagram occlusion (graphviz, mermaid, d2, plantuml): `{{cN::label}}` markers in; clean source, then masks out."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from builder.diagrams.base import DiagramError
from builder.diagrams.svggeom import (
    Affine,
    Box,
    box_of,
    classes,
    font_size,
    local,
    number,
    parents,
    shapes_box,
    text_anchor,
    transforms,
)
from builder.diagrams.svgxml import parse_svg, parse_viewbox
from builder.masks import Mask, mask_cloze

__all__ = ["Mask", "OcclusionLabel", "find_label_boxes", "mask_cloze", "strip_markers", "text_anchor_point"]

SUPPORTED_ENGINES = frozenset({"graphviz", "mermaid", "d2", "plantuml"})
_MARKER = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_MAX_LINES = 8


@dataclass(frozen=True)
class OcclusionLabel:
    ordinal: int  # N of cN
    text: str  # the label as written in the source (marker removed)
    line: int  # 1-based line of the marker in the diagram source
    column: int  # 1-based column of the marker
    start: int  # offset of `text` in the stripped source
    end: int


@dataclass(frozen=True)
class _Run:
    """One or more consecutive <text> lines of the same parent, with their joined, normalised text."""

    texts: tuple[ET.Element, ...]
    content: str
    partial: bool = False


def strip_markers(source: str) -> tuple[str, list[OcclusionLabel]]:
    """`source` with every `{{cN::text}}` / `{{cN::text::hint}}` replaced by `text`, and the labels."""
    labels: list[OcclusionLabel] = []
    out: list[str] = []
    pos = 0
    length = 0
    for match in _MARKER.finditer(source):
        out.append(source[pos : match.start()])
        length += match.start() - pos
        text = match.group(2)
        line = source.count("\n", 0, match.start()) + 1
        column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
        ordinal = int(match.group(1))
        if ordinal < 1 or not text.strip():
            raise DiagramError(
                f"occlusion marker {match.group(0)!r}: numbering starts at c1 and the label cannot be empty",
                line=line,
                column=column,
            )
        labels.append(OcclusionLabel(ordinal, text, line, column, length, length + len(text)))
        out.append(text)
        length += len(text)
        pos = match.end()
    out.append(source[pos:])
    return "".join(out), labels


def find_label_boxes(svg: str, labels: Sequence[OcclusionLabel]) -> list[Mask]:
    """One mask per occurrence of each label in the rendered `svg`; DiagramError if a label is not there.

    Where a mask goes:

    - The label is the only text of a node (Graphviz `g.node`, Mermaid `g.node`, D2 shape group): the node's
      shape (polygon/ellipse/rect/path points, transforms applied), slightly padded. This covers the text
      exactly as drawn, whatever font the viewer has.
    - Otherwise (edge labels, cluster titles, one of several lines of a node, plaintext nodes, PlantUML): the
      text's own box, from its anchor (x, y, text-anchor), font size, and either its `textLength` (PlantUML
      writes one) or a deliberately generous estimate of the glyph widths, padded.

    Engines (SUPPORTED_ENGINES): graphviz; mermaid (node shapes for flowcharts, text boxes for other diagram
    kinds); d2 (plain labels; Markdown/HTML labels live in <foreignObject> and are not found); plantuml (text
    boxes). A label must be a whole drawn text line or several whole consecutive lines
    (`{{c1::Two\\nLines}}` in DOT); a cloze inside a longer line masks that whole line. A label marked once
    but drawn several times is masked everywhere; marked as often as drawn, markers and drawings pair in order.
    """
    if not labels:
        return []
    root = parse_svg(svg)
    view = _view_box(root)
    parent_of = parents(root)
    ctm = transforms(root)
    runs = _text_runs(root)
    # SVG's default anchor is "start" unless a stylesheet (Mermaid's) may set another one we cannot resolve.
    styled = any("text-anchor" in (el.text or "") for el in root.iter() if local(el.tag) == "style")
    default_anchor = None if styled else "start"

    groups: dict[str, list[OcclusionLabel]] = {}
    for label in sorted(labels, key=lambda item: item.start):
        groups.setdefault(_normalise_label(label.text), []).append(label)

    masks: set[Mask] = set()
    for wanted, group in groups.items():
        found = [run for run in runs if run.content == wanted]
        if not found:
            found = [
                _Run(run.texts, run.content, partial=True)
                for run in runs
                if len(run.texts) == 1 and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", run.content)
            ]
        first = group[0]
        if not found:
            raise DiagramError(
                f"occlusion label {first.text!r} (c{first.ordinal}) is not in the rendered diagram; a cloze "
                "must cover a whole label, or whole lines of one, written as the engine draws it",
                line=first.line,
                column=first.column,
            )
        if len(group) == len(found):
            pairs = list(zip(group, found, strict=True))
        elif len({label.ordinal for label in group}) == 1:
            pairs = [(first, run) for run in found]
        else:
            raise DiagramError(
                f"occlusion label {first.text!r} is marked {len(group)} times with different cloze numbers "
                f"but drawn {len(found)} times, so the masks cannot be matched to the markers",
                line=first.line,
                column=first.column,
            )
        for label, run in pairs:
            box = _run_box(run, parent_of, ctm, default_anchor)
            masks.add(_to_mask(label.ordinal, box, view))
    return sorted(masks, key=lambda m: (m.ordinal, m.top, m.left, m.width, m.height))


def text_anchor_point(text: ET.Element, ctm: dict[ET.Element, Affine], size: float) -> tuple[float, float]:
    """A <text>'s first-line anchor in root viewBox coordinates."""
    x, y = _text_position(text, size)
    return ctm.get(text, Affine()).apply(x, y)


# -- matching ---------------------------------------------------------------------------------------------


def _normalise_label(text: str) -> str:
    # DOT escapes (\n \l \r line breaks, \" quotes) and Mermaid <br> become what the SVG shows.
    text = re.sub(r"\\[nlr]", " ", text)
    text = re.sub(r"\\(.)", r"\1", text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    return _collapse(html.unescape(text))


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _content(text: ET.Element) -> str:
    # Mermaid wraps a long label into row <tspan x=...>s with no space between them.
    rows = [t for t in text.iter() if local(t.tag) == "tspan" and t.get("x") is not None]
    if len(rows) > 1:
        return " ".join(_collapse("".join(row.itertext())) for row in rows)
    return _collapse("".join(text.itertext()))


def _text_runs(root: ET.Element) -> list[_Run]:
    runs: list[_Run] = []
    for parent in root.iter():
        lines = [child for child in parent if local(child.tag) == "text" and _content(child)]
        contents = [_content(line) for line in lines]
        for i in range(len(lines)):
            for j in range(i, min(len(lines), i + _MAX_LINES)):
                runs.append(_Run(tuple(lines[i : j + 1]), " ".join(contents[i : j + 1])))
    return runs


# -- boxes ------------------------------------------------------------------------------------------------


def _run_box(
    run: _Run, parent_of: dict[ET.Element, ET.Element], ctm: dict[ET.Element, Affine], default_anchor: str | None
) -> Box:
    size = font_size(run.texts[0], parent_of)
    text_box = _text_box(run.texts[0], parent_of, ctm, default_anchor)
    for text in run.texts[1:]:
        text_box = text_box.union(_text_box(text, parent_of, ctm, default_anchor))
    container = None if run.partial else _node_container(run.texts[0], parent_of)
    if container is not None:
        others = [t for t in container.iter() if local(t.tag) == "text" and _content(t) and t not in run.texts]
        shape = shapes_box(container, ctm)
        anchors = [text_anchor_point(t, ctm, font_size(t, parent_of)) for t in run.texts]
        if (
            not others
            and shape is not None
            and all(shape.contains(x, y) for x, y in anchors)
            and shape.height >= 0.8 * size * len(run.texts)
        ):
            return shape.pad(0.1 * size)
    return text_box


def _node_container(text: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> ET.Element | None:
    node = parent_of.get(text)
    while node is not None and node in parent_of:
        if "node" in classes(node):
            return node
        if any(local(child.tag) == "g" and "shape" in classes(child) for child in node):
            return node
        node = parent_of.get(node)
    return None


def _text_box(
    text: ET.Element,
    parent_of: dict[ET.Element, ET.Element],
    ctm: dict[ET.Element, Affine],
    default_anchor: str | None,
) -> Box:
    size = font_size(text, parent_of)
    x, y = _text_position(text, size)
    rows = [_collapse("".join(t.itertext())) for t in text.iter() if local(t.tag) == "tspan" and t.get("x")]
    rows = [row for row in rows if row] or [_content(text)]
    declared = number(text.get("textLength"))
    width = declared if declared else max(_estimate_width(row, size) for row in rows)
    anchor = text_anchor(text, parent_of) or default_anchor
    if anchor == "middle":
        x0, x1 = x - width / 2, x + width / 2
    elif anchor == "end":
        x0, x1 = x - width, x
    elif anchor == "start":
        x0, x1 = x, x + width
    else:
        # A stylesheet may set the anchor where we cannot see it: cover both directions.
        x0, x1 = x - width, x + width
    y0, y1 = y - 0.95 * size, y + 0.3 * size + (len(rows) - 1) * 1.2 * size
    matrix = ctm.get(text, Affine())
    corners = [matrix.apply(px, py) for px in (x0, x1) for py in (y0, y1)]
    box = box_of(corners)
    assert box is not None
    return box.pad(0.2 * size)


def _text_position(text: ET.Element, size: float) -> tuple[float, float]:
    x = number(text.get("x"), size)
    y = number(text.get("y"), size)
    first = next((t for t in text.iter() if local(t.tag) == "tspan"), None)
    if first is not None:
        if first.get("x") is not None:
            x = number(first.get("x"), size)
        if first.get("y") is not None:
            y = number(first.get("y"), size)
        y = (y or 0.0) + (number(first.get("dy"), size) or 0.0)
        x = (x or 0.0) + (number(first.get("dx"), size) or 0.0)
    return x or 0.0, y or 0.0


def _estimate_width(text: str, size: float) -> float:
    """Errs wide: a mask that is a little too big hides the answer, one too small shows part of it."""
    total = 0.0
    for char in text:
        if char in "ijl.,:;'|!()[]{} fIt":
            total += 0.35
        elif char in "mwMW@%":
            total += 0.95
        elif char.isupper() or char.isdigit():
            total += 0.72
        elif ord(char) > 0x2E7F:
            total += 1.05
        else:
            total += 0.6
    return total * size


def _view_box(root: ET.Element) -> tuple[float, float, float, float]:
    box = parse_viewbox(root.get("viewBox"))
    if box is None:
        width, height = number(root.get("width")), number(root.get("height"))
        if not width or not height:
            raise DiagramError("the SVG has no viewBox or size to measure masks against")
        box = (0.0, 0.0, width, height)
    return box


def _to_mask(ordinal: int, box: Box, view: tuple[float, float, float, float]) -> Mask:
    vx, vy, vw, vh = view
    left = min(max((box.x0 - vx) / vw, 0.0), 1.0)
    top = min(max((box.y0 - vy) / vh, 0.0), 1.0)
    right = min(max((box.x1 - vx) / vw, 0.0), 1.0)
    bottom = min(max((box.y1 - vy) / vh, 0.0), 1.0)
    # Rounded outwards to Anki's 4 decimals so the stored rectangle still covers the label.
    left, top = _floor4(left), _floor4(top)
    return Mask(ordinal, left, top, _ceil4(right - left), _ceil4(bottom - top))


def _floor4(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR))


def _ceil4(value: float) -> float:
    return min(1.0, float(Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_CEILING)))
