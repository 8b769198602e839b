"""What an SVG diagram's labels measure: the smallest font size of its text, in CSS px at the SVG's natural size.

A learner reads a label at `smallest label px * rendered scale` (the scale the card's <img> is drawn at). The
size of a text element is its computed `font-size` (inline `style`, then the SVG's own `<style>` rules, then
the `font-size` presentation attribute, then its parent's size: the CSS cascade, for the simple selectors the
diagram engines write) times every transform and nested viewport above it, times the root's viewBox scale.

Also: which engine drew an SVG (mermaid, d2 or graphviz), from the marks each one leaves in its output.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

SVG_NS = "{http://www.w3.org/2000/svg}"

#: CSS length units in CSS px (font sizes in em/% are relative to the parent's size instead).
_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6}
_KEYWORDS = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}
#: A browser's initial font size (`medium`): what text gets when nothing sets one.
DEFAULT_FONT_PX = 16.0
_TEXT_TAGS = frozenset({"text", "tspan", "textPath"})
#: Subtrees a browser never draws directly (text inside them is only drawn through a <use>, if at all).
_UNRENDERED = frozenset(
    {"defs", "symbol", "clipPath", "mask", "marker", "pattern", "title", "desc", "metadata", "style"}
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class Label:
    """One piece of text in an SVG and the size it is drawn at, in CSS px at the SVG's natural size."""

    text: str
    px: float


@dataclass(frozen=True)
class SvgFacts:
    natural_width: float
    natural_height: float
    engine: str | None
    labels: tuple[Label, ...]

    @property
    def smallest(self) -> Label | None:
        return min(self.labels, key=lambda label: (label.px, label.text)) if self.labels else None


# Engines -----------------------------------------------------------------------------------------------------

#: The marks each engine leaves in its SVG (they survive the builder's sanitizer). Checked in order.
ENGINE_MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("d2", re.compile(r'class="[^"]*\bd2-svg\b')),
    ("mermaid", re.compile(r'aria-roledescription="|"trebuchet ms"')),
    ("graphviz", re.compile(r'<g\b[^>]*\bclass="graph"')),
)
#: Words in an <img>'s alt or class that name an engine (the builder's alt text said "dot diagram" at 1.0.0).
ENGINE_WORDS: dict[str, str] = {"mermaid": "mermaid", "d2": "d2", "dot": "graphviz", "graphviz": "graphviz"}


def engine_of(svg: str | None, *hints: str) -> str | None:
    """The engine that drew `svg`: from its own marks, else from words in `hints` (alt text, class names)."""
    if svg is not None:
        for engine, mark in ENGINE_MARKS:
            if mark.search(svg):
                return engine
    for hint in hints:
        for word in re.findall(r"[a-z0-9]+", hint.lower()):
            if word in ENGINE_WORDS:
                return ENGINE_WORDS[word]
    return None


# Geometry ----------------------------------------------------------------------------------------------------

Matrix = tuple[float, float, float, float, float, float]  # a b c d e f, as in SVG's matrix()
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def _scale_of(m: Matrix) -> float:
    """How much a matrix scales lengths: the square root of its area factor (exact for uniform scales)."""
    return math.sqrt(abs(m[0] * m[3] - m[1] * m[2]))


def parse_transform(text: str) -> Matrix:
    """An SVG `transform` attribute as one matrix. Unknown functions count as the identity."""
    result = IDENTITY
    for name, args in re.findall(r"([a-zA-Z]+)\s*\(([^)]*)\)", text):
        values = [float(v) for v in re.findall(_NUMBER, args)]
        result = _multiply(result, _transform_function(name, values))
    return result


def _transform_function(name: str, v: list[float]) -> Matrix:
    if name == "matrix" and len(v) == 6:
        return (v[0], v[1], v[2], v[3], v[4], v[5])
    if name == "translate" and v:
        return (1.0, 0.0, 0.0, 1.0, v[0], v[1] if len(v) > 1 else 0.0)
    if name == "scale" and v:
        return (v[0], 0.0, 0.0, v[1] if len(v) > 1 else v[0], 0.0, 0.0)
    if name == "rotate" and v:
        r = math.radians(v[0])
        rotation = (math.cos(r), math.sin(r), -math.sin(r), math.cos(r), 0.0, 0.0)
        if len(v) == 3:
            there = (1.0, 0.0, 0.0, 1.0, v[1], v[2])
            back = (1.0, 0.0, 0.0, 1.0, -v[1], -v[2])
            return _multiply(_multiply(there, rotation), back)
        return rotation
    if name == "skewX" and v:
        return (1.0, 0.0, math.tan(math.radians(v[0])), 1.0, 0.0, 0.0)
    if name == "skewY" and v:
        return (1.0, math.tan(math.radians(v[0])), 0.0, 1.0, 0.0, 0.0)
    return IDENTITY


def _length(text: str | None) -> float | None:
    """An absolute length in CSS px, or None for a missing, relative or unparsable one."""
    if text is None:
        return None
    match = re.fullmatch(rf"\s*({_NUMBER})\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def _viewbox(element: ET.Element) -> tuple[float, float, float, float] | None:
    values = [float(v) for v in re.findall(_NUMBER, element.get("viewBox", ""))]
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        return None
    return values[0], values[1], values[2], values[3]


def _viewport(element: ET.Element, width: float | None, height: float | None) -> Matrix:
    """The transform an <svg> element's viewBox sets up inside its width by height viewport."""
    box = _viewbox(element)
    if box is None:
        return IDENTITY
    w = width if width is not None else box[2]
    h = height if height is not None else box[3]
    sx, sy = w / box[2], h / box[3]
    aspect = element.get("preserveAspectRatio", "xMidYMid meet").split()
    if aspect and aspect[0] != "none":
        s = max(sx, sy) if "slice" in aspect else min(sx, sy)
        sx = sy = s
    return (sx, 0.0, 0.0, sy, -box[0] * sx, -box[1] * sy)


def natural_size(root: ET.Element) -> tuple[float, float]:
    """The size an <img> gives the SVG when nothing constrains it (CSS px): width/height, else its viewBox."""
    box = _viewbox(root)
    width, height = _length(root.get("width")), _length(root.get("height"))
    if width is None and height is None:
        return (box[2], box[3]) if box else (300.0, 150.0)
    if width is None:
        width = height * box[2] / box[3] if box and height is not None else 300.0
    if height is None:
        height = width * box[3] / box[2] if box else 150.0
    return width, height


# CSS ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    ident: str | None
    classes: frozenset[str]
    attributes: tuple[tuple[str, str | None], ...]
    root: bool


@dataclass(frozen=True)
class _Rule:
    #: Compounds from left to right, with the combinator before each one (" " or ">"; "" for the first).
    parts: tuple[tuple[str, _Compound], ...]
    specificity: tuple[int, int, int]
    order: int
    declarations: dict[str, tuple[str, bool]]  # property -> (value, important)


_COMPOUND = re.compile(
    r"(?P<tag>\*|[a-zA-Z][\w-]*)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[^\]]*\]|:root)*)$",
)


def _parse_compound(text: str) -> tuple[_Compound, tuple[int, int, int]] | None:
    match = _COMPOUND.match(text)
    if not match or not text:
        return None
    tag = match.group("tag")
    rest = match.group("rest")
    idents = re.findall(r"#([\w-]+)", rest)
    classes = frozenset(re.findall(r"\.([\w-]+)", rest))
    attributes: list[tuple[str, str | None]] = []
    for inner in re.findall(r"\[([^\]]*)\]", rest):
        name, _, value = inner.partition("=")
        attributes.append((name.strip(), value.strip().strip("\"'") if value else None))
    root = ":root" in rest
    specificity = (len(idents), len(classes) + len(attributes) + int(root), int(tag not in (None, "*")))
    compound = _Compound(
        tag=None if tag in (None, "*") else tag,
        ident=idents[0] if len(idents) == 1 else ("\0" if idents else None),  # two ids never match one element
        classes=classes,
        attributes=tuple(attributes),
        root=root,
    )
    return compound, specificity


def _parse_selector(text: str) -> tuple[tuple[tuple[str, _Compound], ...], tuple[int, int, int]] | None:
    """A selector of compounds joined by descendant or child combinators; None for anything else (never matches)."""
    tokens = re.split(r"\s*(>)\s*|\s+", text.strip())
    parts: list[tuple[str, _Compound]] = []
    specificity = (0, 0, 0)
    combinator = ""
    for token in tokens:
        if token is None or token == "":
            continue
        if token == ">":
            combinator = ">"
            continue
        parsed = _parse_compound(token)
        if parsed is None:
            return None  # pseudo-classes, sibling combinators, ...: the engines use none of these for text
        compound, spec = parsed
        parts.append((combinator if parts else "", compound))
        specificity = (specificity[0] + spec[0], specificity[1] + spec[1], specificity[2] + spec[2])
        combinator = " "
    return (tuple(parts), specificity) if parts else None


def _declarations(body: str) -> dict[str, tuple[str, bool]]:
    result: dict[str, tuple[str, bool]] = {}
    for declaration in body.split(";"):
        name, colon, value = declaration.partition(":")
        if not colon:
            continue
        value = value.strip()
        important = value.lower().endswith("!important")
        if important:
            value = value[: -len("!important")].strip()
        result[name.strip().lower()] = (value, important)
    return result


def parse_css(css: str, first_order: int = 0) -> list[_Rule]:
    """Style rules of a stylesheet. At-rules (@font-face, @keyframes, @media) are skipped whole."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: list[_Rule] = []
    order = first_order
    i = 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        prelude = css[i:brace].strip()
        depth, j = 1, brace + 1
        while j < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        body = css[brace + 1 : j - 1]
        i = j
        if prelude.startswith("@"):
            continue
        declarations = _declarations(body)
        for selector in prelude.split(","):
            parsed = _parse_selector(selector)
            if parsed is not None:
                rules.append(_Rule(parsed[0], parsed[1], order, declarations))
                order += 1
    return rules


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _matches(compound: _Compound, element: ET.Element, is_root: bool) -> bool:
    if compound.root and not is_root:
        return False
    if compound.tag is not None and _local(element.tag) != compound.tag:
        return False
    if compound.ident is not None and element.get("id") != compound.ident:
        return False
    if compound.classes and not compound.classes <= set(element.get("class", "").split()):
        return False
    for name, value in compound.attributes:
        if element.get(name) is None or (value is not None and element.get(name) != value):
            return False
    return True


def _rule_matches(rule: _Rule, chain: list[ET.Element]) -> bool:
    """Does the rule select the last element of `chain` (the element and its ancestors, root first)?"""

    def match_at(part: int, index: int) -> bool:
        combinator, compound = rule.parts[part]
        if not _matches(compound, chain[index], index == 0):
            return False
        if part == 0:
            return True
        if combinator == ">":
            return index > 0 and match_at(part - 1, index - 1)
        return any(match_at(part - 1, k) for k in range(index - 1, -1, -1))

    return match_at(len(rule.parts) - 1, len(chain) - 1)


# Font sizes --------------------------------------------------------------------------------------------------


def _font_size_value(value: str, parent_px: float) -> float | None:
    """A font-size value in px, relative ones resolved against the parent's size. None: not a valid size."""
    value = value.strip().lower()
    if value in ("inherit", "unset"):
        return parent_px
    if value == "initial":
        return DEFAULT_FONT_PX
    if value in _KEYWORDS:
        return _KEYWORDS[value]
    if value == "smaller":
        return parent_px / 1.2
    if value == "larger":
        return parent_px * 1.2
    match = re.fullmatch(rf"({_NUMBER})\s*(%|[a-z]*)", value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        return parent_px * number / 100
    if unit in ("em",):
        return parent_px * number
    if unit == "rem":
        return DEFAULT_FONT_PX * number
    if unit == "ex":
        return parent_px * number / 2
    return number * _UNITS[unit] if unit in _UNITS else None


def _font_shorthand_size(value: str) -> str | None:
    """The size inside a `font` shorthand (`italic bold 12px/1.2 serif` → `12px`)."""
    for token in value.replace("/", " / ").split():
        if re.fullmatch(rf"{_NUMBER}(px|pt|pc|in|cm|mm|q|em|rem|ex|%)", token.lower()) or token.lower() in _KEYWORDS:
            return token
    return None


def _cascaded(element: ET.Element, chain: list[ET.Element], rules: list[_Rule], name: str) -> str | None:
    """The winning declared value of property `name` for `element` (the `font` shorthand counts for `font-size`).

    Inline style beats the stylesheet, which beats the presentation attribute; `!important` beats both; then
    specificity, then order. None: nothing declares it, so the element inherits it.
    """
    props = ("font", name) if name == "font-size" else (name,)
    best: tuple[tuple[int, ...], str] | None = None

    def consider(declarations: dict[str, tuple[str, bool]], key: tuple[int, ...]) -> None:
        nonlocal best
        for index, (prop, (value, important)) in enumerate(declarations.items()):
            if prop not in props:
                continue
            if prop == "font":
                shorthand = _font_shorthand_size(value)
                if shorthand is None:
                    continue
                value = shorthand
            candidate = ((int(important), *key, index), value)
            if best is None or candidate[0] > best[0]:
                best = candidate

    for rule in rules:
        if any(prop in rule.declarations for prop in props) and _rule_matches(rule, chain):
            consider(rule.declarations, (1, *rule.specificity, rule.order))
    consider(_declarations(element.get("style", "")), (2, 0, 0, 0, 0))
    return best[1] if best is not None else element.get(name)


def _walk(
    element: ET.Element,
    chain: list[ET.Element],
    matrix: Matrix,
    parent_px: float,
    rules: list[_Rule],
    visit: Callable[[ET.Element, float, float], None],
) -> None:
    tag = _local(element.tag)
    if tag in _UNRENDERED:
        return
    declared = _cascaded(element, chain, rules, "font-size")
    size = _font_size_value(declared, parent_px) if declared is not None else None
    px = parent_px if size is None else size
    display = _cascaded(element, chain, rules, "display")
    visibility = _cascaded(element, chain, rules, "visibility")
    if display is not None and display.strip().lower() == "none":
        return
    if "transform" in element.attrib:
        matrix = _multiply(matrix, parse_transform(element.get("transform", "")))
    if tag == "svg" and len(chain) > 1:
        x, y = _length(element.get("x")) or 0.0, _length(element.get("y")) or 0.0
        inner = _viewport(element, _length(element.get("width")), _length(element.get("height")))
        matrix = _multiply(_multiply(matrix, (1.0, 0.0, 0.0, 1.0, x, y)), inner)
    hidden = visibility is not None and visibility.strip().lower() in ("hidden", "collapse")
    if tag in _TEXT_TAGS and not hidden:
        visit(element, px, _scale_of(matrix))
    for child in element:
        _walk(child, [*chain, child], matrix, px, rules, visit)


def _own_text(element: ET.Element) -> str:
    """The text an element draws itself: its leading text and the tails of its children (not their insides)."""
    pieces = [element.text or ""] + [child.tail or "" for child in element]
    return " ".join(" ".join(pieces).split())


def measure_svg(svg: str, *hints: str) -> SvgFacts:
    """Every label of `svg` with its size in CSS px at the SVG's natural size; raises ValueError on bad XML."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise ValueError(f"not an SVG document: {exc}") from exc
    if _local(root.tag) != "svg":
        raise ValueError(f"not an SVG document: the root element is <{_local(root.tag)}>")
    width, height = natural_size(root)
    rules: list[_Rule] = []
    for style in root.iter(f"{SVG_NS}style"):
        rules.extend(parse_css(style.text or "", first_order=len(rules)))
    for style in root.iter("style"):
        rules.extend(parse_css(style.text or "", first_order=len(rules)))
    labels: list[Label] = []

    def visit(element: ET.Element, px: float, scale: float) -> None:
        text = _own_text(element)
        if text and px > 0:
            labels.append(Label(text=text, px=round(px * scale, 3)))

    _walk(root, [root], _viewport(root, width, height), DEFAULT_FONT_PX, rules, visit)
    return SvgFacts(
        natural_width=round(width, 3),
        natural_height=round(height, 3),
        engine=engine_of(svg, *hints),
        labels=tuple(labels),
    )
