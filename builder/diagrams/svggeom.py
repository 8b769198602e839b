"""SVG geometry for occlusion: a parsed SVG tree in, element boxes in root viewBox coordinates out."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from builder.diagrams.svgxml import parse_viewbox

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)")
_PATH_TOKEN = re.compile(r"[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SHAPES = frozenset({"rect", "polygon", "polyline", "ellipse", "circle", "path", "line"})
#: Subtrees that are never painted where they stand.
_NOT_PAINTED = frozenset({"defs", "marker", "mask", "clipPath", "pattern", "symbol", "title", "desc", "style"})
DEFAULT_FONT_SIZE = 16.0


@dataclass(frozen=True)
class Affine:
    """The 2-D affine map x' = a x + c y + e, y' = b x + d y + f (SVG's matrix(a b c d e f))."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    d: float = 1.0
    e: float = 0.0
    f: float = 0.0

    def then(self, outer: Affine) -> Affine:
        """Apply self first, then `outer`."""
        return Affine(
            outer.a * self.a + outer.c * self.b,
            outer.b * self.a + outer.d * self.b,
            outer.a * self.c + outer.c * self.d,
            outer.b * self.c + outer.d * self.d,
            outer.a * self.e + outer.c * self.f + outer.e,
            outer.b * self.e + outer.d * self.f + outer.f,
        )

    def apply(self, x: float, y: float) -> tuple[float, float]:
        return self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def union(self, other: Box) -> Box:
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def pad(self, amount: float) -> Box:
        return Box(self.x0 - amount, self.y0 - amount, self.x1 + amount, self.y1 + amount)

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1


def box_of(points: Iterable[tuple[float, float]]) -> Box | None:
    xs: list[float] = []
    ys: list[float] = []
    for x, y in points:
        xs.append(x)
        ys.append(y)
    if not xs:
        return None
    return Box(min(xs), min(ys), max(xs), max(ys))


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def classes(el: ET.Element) -> list[str]:
    return (el.get("class") or "").split()


def parse_transform(text: str | None) -> Affine:
    result = Affine()
    if not text:
        return result
    # SVG applies the list right to left to the element, i.e. the leftmost one is the outermost.
    for name, args_text in reversed(_TRANSFORM.findall(text)):
        args = [float(v) for v in _NUMBER.findall(args_text)]
        result = result.then(_one_transform(name, args))
    return result


def _one_transform(name: str, args: list[float]) -> Affine:
    if name == "matrix" and len(args) == 6:
        return Affine(*args)
    if name == "translate" and args:
        return Affine(e=args[0], f=args[1] if len(args) > 1 else 0.0)
    if name == "scale" and args:
        return Affine(a=args[0], d=args[1] if len(args) > 1 else args[0])
    if name == "rotate" and args:
        rad = math.radians(args[0])
        cos, sin = math.cos(rad), math.sin(rad)
        turn = Affine(cos, sin, -sin, cos)
        if len(args) == 3:
            cx, cy = args[1], args[2]
            return Affine(e=-cx, f=-cy).then(turn).then(Affine(e=cx, f=cy))
        return turn
    if name == "skewX" and args:
        return Affine(c=math.tan(math.radians(args[0])))
    if name == "skewY" and args:
        return Affine(b=math.tan(math.radians(args[0])))
    return Affine()


def parents(root: ET.Element) -> dict[ET.Element, ET.Element]:
    return {child: parent for parent in root.iter() for child in parent}


def transforms(root: ET.Element) -> dict[ET.Element, Affine]:
    """For each element, the map from its own user space to the root's user space (the root viewBox)."""
    out: dict[ET.Element, Affine] = {root: Affine()}

    def visit(el: ET.Element, outer: Affine) -> None:
        for child in el:
            ctm = parse_transform(child.get("transform")).then(outer)
            if local(child.tag) == "svg":
                ctm = _viewport(child).then(ctm)
            out[child] = ctm
            visit(child, ctm)

    visit(root, Affine())
    return out


def _viewport(svg: ET.Element) -> Affine:
    """A nested <svg>'s viewBox-to-parent map (D2 wraps its drawing in one)."""
    x = number(svg.get("x")) or 0.0
    y = number(svg.get("y")) or 0.0
    box = parse_viewbox(svg.get("viewBox"))
    width, height = number(svg.get("width")), number(svg.get("height"))
    if box is None or not width or not height or box[2] <= 0 or box[3] <= 0:
        return Affine(e=x, f=y)
    sx, sy = width / box[2], height / box[3]
    return Affine(a=sx, d=sy, e=x - box[0] * sx, f=y - box[1] * sy)


def number(value: str | None, font_size: float = DEFAULT_FONT_SIZE) -> float | None:
    """The first length in `value`, in user units (em resolved against `font_size`)."""
    if not value:
        return None
    match = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(em|ex|px|pt|%)?", value)
    if not match:
        return None
    amount = float(match.group(1))
    unit = match.group(2)
    if unit == "em":
        return amount * font_size
    if unit == "ex":
        return amount * font_size / 2
    if unit == "pt":
        return amount * 4 / 3
    return amount


def shape_points(el: ET.Element) -> list[tuple[float, float]]:
    """Points whose box covers the painted shape (control points included, so curves are covered)."""
    name = local(el.tag)
    if name == "rect":
        x, y = number(el.get("x")) or 0.0, number(el.get("y")) or 0.0
        w, h = number(el.get("width")) or 0.0, number(el.get("height")) or 0.0
        return [(x, y), (x + w, y), (x, y + h), (x + w, y + h)] if w > 0 and h > 0 else []
    if name in ("ellipse", "circle"):
        cx, cy = number(el.get("cx")) or 0.0, number(el.get("cy")) or 0.0
        rx = number(el.get("r" if name == "circle" else "rx")) or 0.0
        ry = rx if name == "circle" else number(el.get("ry")) or 0.0
        return [(cx - rx, cy - ry), (cx + rx, cy - ry), (cx - rx, cy + ry), (cx + rx, cy + ry)]
    if name in ("polygon", "polyline"):
        values = [float(v) for v in _NUMBER.findall(el.get("points") or "")]
        return list(zip(values[0::2], values[1::2], strict=False))
    if name == "line":
        return [
            (number(el.get("x1")) or 0.0, number(el.get("y1")) or 0.0),
            (number(el.get("x2")) or 0.0, number(el.get("y2")) or 0.0),
        ]
    if name == "path":
        return list(path_points(el.get("d") or ""))
    return []


_ARGS = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}


def path_points(d: str) -> Iterator[tuple[float, float]]:
    tokens = _PATH_TOKEN.findall(d)
    x = y = start_x = start_y = 0.0
    index = 0
    command = ""
    while index < len(tokens):
        if tokens[index].isalpha():
            command = tokens[index]
            index += 1
            if command in "Zz":
                x, y = start_x, start_y
                continue
        if not command or command in "Zz":
            index += 1
            continue
        count = _ARGS[command.lower()]
        chunk = tokens[index : index + count]
        if len(chunk) < count or any(t.isalpha() for t in chunk):
            return
        args = [float(v) for v in chunk]
        index += count
        rel = command.islower()
        kind = command.lower()
        if kind == "h":
            x = x + args[0] if rel else args[0]
        elif kind == "v":
            y = y + args[0] if rel else args[0]
        elif kind == "a":
            rx, ry = abs(args[0]), abs(args[1])
            end_x, end_y = (x + args[5], y + args[6]) if rel else (args[5], args[6])
            # The arc stays within its radii of both ends: a cheap box that always covers it.
            r = max(rx, ry)
            for px, py in ((x, y), (end_x, end_y)):
                yield from ((px - r, py - r), (px + r, py + r))
            x, y = end_x, end_y
        else:
            for i in range(0, count, 2):
                px, py = (x + args[i], y + args[i + 1]) if rel else (args[i], args[i + 1])
                yield px, py
            x, y = (x + args[-2], y + args[-1]) if rel else (args[-2], args[-1])
        if kind == "m":
            start_x, start_y = x, y
            command = "l" if rel else "L"
        yield x, y


def painted_shapes(container: ET.Element) -> Iterator[ET.Element]:
    """Shape elements under `container` that are drawn in place (not inside defs, markers, text, ...)."""

    def visit(el: ET.Element) -> Iterator[ET.Element]:
        for child in el:
            name = local(child.tag)
            if name in _NOT_PAINTED or name == "text" or name == "foreignObject":
                continue
            if name in _SHAPES:
                yield child
            yield from visit(child)

    return visit(container)


def shapes_box(container: ET.Element, ctm: dict[ET.Element, Affine]) -> Box | None:
    box: Box | None = None
    for shape in painted_shapes(container):
        matrix = ctm.get(shape, Affine())
        part = box_of(matrix.apply(px, py) for px, py in shape_points(shape))
        if part is not None and part.width > 0 and part.height > 0:
            box = part if box is None else box.union(part)
    return box


def font_size(el: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> float:
    node: ET.Element | None = el
    while node is not None:
        style = node.get("style") or ""
        match = re.search(r"font-size\s*:\s*([^;]+)", style)
        size = number(match.group(1)) if match else number(node.get("font-size"))
        if size:
            return size
        node = parent_of.get(node)
    return DEFAULT_FONT_SIZE


def text_anchor(el: ET.Element, parent_of: dict[ET.Element, ET.Element]) -> str | None:
    node: ET.Element | None = el
    while node is not None:
        match = re.search(r"text-anchor\s*:\s*(\w+)", node.get("style") or "")
        value = match.group(1) if match else node.get("text-anchor")
        if value:
            return value
        node = parent_of.get(node)
    return None
