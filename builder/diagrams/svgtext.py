"""SVG text: a parsed SVG tree in, every piece of drawn text with its font size in root CSS px out.

Font sizes follow the CSS cascade as far as engines use it: an inline `style`, then the rules of the
document's `<style>` sheets (selectors built from tags, `#id`, `.class`, `*` and descendant or child
combinators; any other selector never matches), then the `font-size` presentation attribute, else inherited
from the parent (16 px at the root). `em` and `%` are relative to the inherited size. The size is then
carried through every transform and nested viewport to the root's CSS pixels (its `width` over its viewBox
width), which is what an `<img>` of the SVG shows at its intrinsic size.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

from builder.diagrams.svggeom import Affine, classes, local, parents, transforms
from builder.diagrams.svgxml import parse_viewbox

ROOT_FONT_SIZE = 16.0
#: Subtrees that are never drawn where they stand (their text is no label).
_HIDDEN = frozenset({"defs", "marker", "mask", "clipPath", "pattern", "symbol", "title", "desc", "style", "metadata"})
_TEXT = frozenset({"text", "tspan", "textPath"})
_SIZE = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(px|pt|pc|in|cm|mm|em|rem|ex|%|)\s*$", re.IGNORECASE
)
_COMPOUND = re.compile(r"(\*|[A-Za-z][\w-]*)?((?:[#.][\w-]+)*)$")
_PART = re.compile(r"([#.])([\w-]+)")
_ABSOLUTE = {"px": 1.0, "": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_KEYWORDS = {
    "xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
    "xx-large": 32.0, "xxx-large": 48.0,
}  # fmt: skip


@dataclass(frozen=True)
class TextRun:
    """One element's own text (its tspans are runs of their own), as drawn at the SVG's intrinsic size."""

    text: str
    #: Font size in CSS px of the root `<svg>` shown at its `width` x `height`.
    size: float
    element: ET.Element


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]

    def matches(self, el: ET.Element) -> bool:
        if self.tag is not None and local(el.tag) != self.tag:
            return False
        if any(el.get("id") != i for i in self.ids):
            return False
        own = classes(el)
        return all(c in own for c in self.classes)


@dataclass(frozen=True)
class _Rule:
    #: Compounds from the leftmost; `child[i]` says compound i+1 must be a direct child of compound i.
    compounds: tuple[_Compound, ...]
    child: tuple[bool, ...]
    specificity: tuple[int, int, int]
    order: int
    size: str

    def matches(self, el: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> bool:
        return _match(self, len(self.compounds) - 1, el, parent_of)


def _match(rule: _Rule, index: int, el: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> bool:
    if not rule.compounds[index].matches(el):
        return False
    if index == 0:
        return True
    ancestor = parent_of.get(el)
    while ancestor is not None:
        if _match(rule, index - 1, ancestor, parent_of):
            return True
        if rule.child[index - 1]:
            return False
        ancestor = parent_of.get(ancestor)
    return False


def _parse_selector(text: str) -> tuple[tuple[_Compound, ...], tuple[bool, ...]] | None:
    tokens = text.replace(">", " > ").split()
    compounds: list[_Compound] = []
    child: list[bool] = []
    pending_child = False
    for token in tokens:
        if token == ">":
            if not compounds or pending_child:
                return None
            pending_child = True
            continue
        match = _COMPOUND.fullmatch(token)
        if match is None or not token:
            return None
        tag = match.group(1)
        parts = _PART.findall(match.group(2))
        if compounds:
            child.append(pending_child)
        pending_child = False
        compounds.append(
            _Compound(
                None if tag in (None, "*") else tag,
                tuple(v for k, v in parts if k == "#"),
                tuple(v for k, v in parts if k == "."),
            )
        )
    if not compounds or pending_child:
        return None
    return tuple(compounds), tuple(child)


def _top_level_blocks(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level block; at-rule blocks (`@media`, `@font-face`) are skipped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    depth = 0
    start = 0
    prelude = ""
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude = css[start:index].strip()
                start = index + 1
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                if not prelude.startswith("@"):
                    yield prelude.rsplit(";", 1)[-1].strip(), css[start:index]
                start = index + 1


def _font_size_declaration(body: str) -> str | None:
    found = None
    for declaration in body.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip().lower() == "font-size" and value.strip():
            found = value.replace("!important", "").strip()
    return found


def _stylesheet(root: ET.Element) -> list[_Rule]:
    rules: list[_Rule] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or local(el.tag) != "style" or not el.text:
            continue
        for prelude, body in _top_level_blocks(el.text):
            size = _font_size_declaration(body)
            if size is None:
                continue
            for selector in prelude.split(","):
                parsed = _parse_selector(selector.strip())
                if parsed is None:
                    continue
                compounds, child = parsed
                specificity = (
                    sum(len(c.ids) for c in compounds),
                    sum(len(c.classes) for c in compounds),
                    sum(c.tag is not None for c in compounds),
                )
                rules.append(_Rule(compounds, child, specificity, len(rules), size))
    return rules


def css_length(value: str, inherited: float) -> float | None:
    value = value.strip().lower()
    if value in _KEYWORDS:
        return _KEYWORDS[value]
    match = _SIZE.match(value)
    if match is None:
        return None
    amount, unit = float(match.group(1)), match.group(2).lower()
    if unit in _ABSOLUTE:
        size = amount * _ABSOLUTE[unit]
    elif unit == "em":
        size = amount * inherited
    elif unit == "ex":
        size = amount * inherited / 2
    elif unit == "rem":
        size = amount * ROOT_FONT_SIZE
    else:
        size = amount * inherited / 100
    return size if size >= 0 else None


def _inline_size(el: ET.Element) -> str | None:
    style = el.get("style")
    return _font_size_declaration(style) if style else None


def _root_px_per_unit(root: ET.Element) -> float:
    """CSS px per root user unit: the root's width (px, or pt x 4/3) over its viewBox width."""
    box = parse_viewbox(root.get("viewBox"))
    width = css_length(root.get("width") or "", ROOT_FONT_SIZE) if root.get("width") else None
    if box is None or width is None or box[2] <= 0 or "%" in (root.get("width") or ""):
        return 1.0
    return width / box[2]


def _linear_scale(matrix: Affine) -> float:
    return math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))


def _own_text(el: ET.Element) -> str:
    """Text that belongs to `el` itself: its text and the tails of its children (not the children's text)."""
    pieces = [el.text or ""]
    pieces.extend(child.tail or "" for child in el)
    return " ".join(" ".join(pieces).split())


def text_runs(root: ET.Element) -> list[TextRun]:
    """Every drawn text element's own text with its font size, in document order; empty runs left out."""
    parent_of = parents(root)
    matrices = transforms(root)
    rules = _stylesheet(root)
    px = _root_px_per_unit(root)
    runs: list[TextRun] = []

    def visit(el: ET.Element, inherited: float) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = local(child.tag)
            if name in _HIDDEN:
                continue
            size = _computed(child, inherited)
            if name in _TEXT or name in ("div", "span", "p"):
                text = _own_text(child)
                if text:
                    runs.append(TextRun(text, size * _linear_scale(matrices.get(child, Affine())) * px, child))
            visit(child, size)

    def _computed(el: ET.Element, inherited: float) -> float:
        declared = _inline_size(el)
        if declared is None:
            matching = [r for r in rules if r.matches(el, parent_of)]
            if matching:
                declared = max(matching, key=lambda r: (r.specificity, r.order)).size
        if declared is None:
            declared = el.get("font-size")
        resolved = css_length(declared, inherited) if declared else None
        return inherited if resolved is None else resolved

    root_size = _computed(root, ROOT_FONT_SIZE)
    visit(root, root_size)
    return runs
