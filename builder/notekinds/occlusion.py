"""Image Occlusion on an image from media/: an ```occlusion fence → the image, its masks and their labels.

    ```occlusion
    image: aws-architecture.png
    c1 rect    0.10 0.20 0.30 0.10  "Amazon S3"
    c2 ellipse 0.55 0.40 0.20 0.15  "AWS Lambda"
    c3 polygon 0.10,0.70 0.40,0.70 0.25,0.95  "Amazon DynamoDB"
    ```

One mask per line: its card number, its shape and its place in fractions (0..1) of the image's width and
height: `rect` and `ellipse` take the box's left, top, width and height (an ellipse fills its box), `polygon`
three or more `x,y` points. Masks with the same number are one card. The quoted label names what the mask
hides; the back of the card shows it. `mode: hide-one` shows the other masks' areas on the front (Anki's "Hide
One, Guess One"); the default hides them all. Lines starting with `#` are comments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

from builder.diagnostics import Diagnostics, Location
from builder.masks import Ellipse, Mask, Polygon, Shape
from builder.source import SourceFile

FENCE = "occlusion"
#: Anki keeps a card number in 16 bits (card ordinal + 1).
MAX_ORDINAL = 65_535
#: Smallest width or height of a mask, as a fraction of the image's: Anki's editor drops masks under 5 px.
MIN_SIZE = 0.005
#: A mask this much of the image (or more) leaves nothing to recall it from.
MAX_AREA = 0.9
MAX_LABEL = 80

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_MASK = re.compile(
    r"^c(?P<ordinal>\d+)\s+(?P<shape>[a-z]+)\s*(?P<coords>(?:[^\s\"]+\s*)*?)\s*"
    r"(?:\"(?P<label>(?:[^\"\\]|\\.)*)\")?\s*$"
)
_PAIR = re.compile(rf"^(?P<x>{_NUMBER}),(?P<y>{_NUMBER})$")
_SETTING = re.compile(r"^(?P<key>[a-z]+):\s*(?P<value>.*?)\s*$")
_MODES = {"hide-all": True, "hide-one": False}


@dataclass(frozen=True)
class ImageOcclusion:
    """A checked ```occlusion fence."""

    image: str
    #: Where the image is named, for its media problems.
    image_location: Location
    shapes: tuple[Shape, ...]
    #: (card number, label) for every number with a label, in number order.
    labels: tuple[tuple[int, str], ...]
    occlude_inactive: bool = True
    ordinals: tuple[int, ...] = field(default=())
    #: False when a line of the fence has a problem (already reported): the image is still checked.
    valid: bool = True


def occlusion_fences(body: Sequence[Token]) -> list[Token]:
    """The body's ```occlusion fences."""
    return [t for t in body if t.type == "fence" and t.info.strip().split(maxsplit=1)[:1] == [FENCE]]


@dataclass
class _Reader:
    source: SourceFile
    first_line: int
    diagnostics: Diagnostics
    ok: bool = True

    def error(self, line: int, text: str, needle: str, code: str, message: str) -> None:
        col = text.find(needle) + 1 if needle and needle in text else 1 + len(text) - len(text.lstrip())
        where = Location(self.source.path, self.first_line + line, col)
        self.diagnostics.error(where, code, message, len(needle) if needle in text else 1)
        self.ok = False


def _numbers(reader: _Reader, line: int, text: str, parts: Sequence[str], shape: str) -> list[float] | None:
    values = []
    for part in parts:
        if not re.fullmatch(_NUMBER, part):
            reader.error(
                line,
                text,
                part,
                "E154",
                f"found `{part}` in a {shape} mask; expected a number from 0 to 1 (a fraction of the image's "
                "width or height), e.g. 0.25",
            )
            return None
        values.append(float(part))
    return values


def _box(reader: _Reader, line: int, text: str, ordinal: int, shape: str, coords: Sequence[str]) -> Shape | None:
    if len(coords) != 4:
        reader.error(
            line,
            text,
            shape,
            "E154",
            f"found {len(coords)} numbers after `{shape}`; expected 4: left, top, width and height as fractions of "
            f"the image, e.g. `c1 {shape} 0.10 0.20 0.30 0.10`",
        )
        return None
    values = _numbers(reader, line, text, coords, shape)
    if values is None:
        return None
    left, top, width, height = values
    if left + width > 1 + 1e-9 or top + height > 1 + 1e-9 or max(values) > 1:
        reader.error(
            line,
            text,
            coords[0],
            "E156",
            f"the {shape} reaches {left + width:g} across and {top + height:g} down; expected it inside the image "
            "(left + width and top + height at most 1). Coordinates are fractions of the image, not pixels",
        )
        return None
    if width < MIN_SIZE or height < MIN_SIZE:
        reader.error(
            line,
            text,
            coords[2] if width < MIN_SIZE else coords[3],
            "E157",
            f"the {shape} is {width:g} wide and {height:g} high; expected at least {MIN_SIZE} of the image each "
            "way, or the mask is too small to see (Anki's editor drops it)",
        )
        return None
    area = width * height * (math.pi / 4 if shape == "ellipse" else 1)
    if area >= MAX_AREA:
        reader.error(
            line,
            text,
            coords[0],
            "E158",
            f"the {shape} covers {area:.0%} of the image; expected a mask over one part of it, so the card "
            "shows what to recall the hidden part from",
        )
        return None
    return (Mask if shape == "rect" else Ellipse)(ordinal, left, top, width, height)


def _polygon(reader: _Reader, line: int, text: str, ordinal: int, coords: Sequence[str]) -> Shape | None:
    points: list[tuple[float, float]] = []
    for part in coords:
        match = _PAIR.match(part)
        if match is None:
            reader.error(
                line,
                text,
                part,
                "E154",
                f"found `{part}` in a polygon; expected points as `x,y` fractions of the image, e.g. "
                "`c1 polygon 0.1,0.1 0.4,0.1 0.25,0.3`",
            )
            return None
        x, y = float(match.group("x")), float(match.group("y"))
        if x > 1 or y > 1:
            reader.error(
                line,
                text,
                part,
                "E156",
                f"the point `{part}` is outside the image; expected x and y from 0 to 1 (fractions of the image, "
                "not pixels)",
            )
            return None
        points.append((x, y))
    if len(points) < 3:
        reader.error(
            line,
            text,
            "polygon",
            "E157",
            f"found a polygon of {len(points)} point{'s' if len(points) != 1 else ''}; expected at least 3",
        )
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    # Shoelace formula: the area the polygon encloses (zero when its points lie on one line).
    area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)))
    area /= 2
    if max(xs) - min(xs) < MIN_SIZE or max(ys) - min(ys) < MIN_SIZE or area < MIN_SIZE * MIN_SIZE:
        reader.error(
            line,
            text,
            "polygon",
            "E157",
            f"the polygon encloses almost nothing (area {area:.2g} of the image); expected points that span at "
            f"least {MIN_SIZE} of the image each way and not all on one line",
        )
        return None
    if area >= MAX_AREA:
        reader.error(
            line,
            text,
            "polygon",
            "E158",
            f"the polygon covers {area:.0%} of the image; expected a mask over one part of it, so the card shows "
            "what to recall the hidden part from",
        )
        return None
    return Polygon(ordinal, tuple(points))


_SHAPES: Mapping[str, Callable[[_Reader, int, str, int, Sequence[str]], Shape | None]] = {
    "rect": lambda r, line, text, n, coords: _box(r, line, text, n, "rect", coords),
    "ellipse": lambda r, line, text, n, coords: _box(r, line, text, n, "ellipse", coords),
    "polygon": _polygon,
}


def _label(reader: _Reader, line: int, text: str, raw: str) -> str | None:
    label = re.sub(r"\\(.)", r"\1", raw).strip()
    if "::" in label or "{{" in label or "}}" in label or len(label) > MAX_LABEL or "<" in label:
        reader.error(
            line,
            text,
            '"',
            "E155",
            f"found the label `{label[:40]}`; expected plain text of at most {MAX_LABEL} characters without `::`, "
            "`{{`, `}}` or HTML, because it becomes the answer of a cloze",
        )
        return None
    return label


def read_fence(source: SourceFile, fence: Token, diagnostics: Diagnostics) -> ImageOcclusion | None:
    """The fence's image and masks, every problem reported (E154-E159); None when it names no image."""
    assert fence.map is not None
    reader = _Reader(source, fence.map[0] + 2, diagnostics)
    image: tuple[str, Location] | None = None
    occlude_inactive = True
    shapes: list[Shape] = []
    labels: dict[int, list[str]] = {}
    for index, text in enumerate(fence.content.split("\n")):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        setting = _SETTING.match(stripped)
        if setting is not None:
            key, value = setting.group("key"), setting.group("value")
            if key == "image" and value and image is None:
                col = text.find(value) + 1
                image = (value, Location(source.path, reader.first_line + index, col))
            elif key == "mode" and value in _MODES:
                occlude_inactive = _MODES[value]
            else:
                reader.error(
                    index,
                    text,
                    stripped,
                    "E154",
                    f"found `{stripped[:40]}`; expected `image: file.png` (once), `mode: hide-all` or "
                    '`mode: hide-one`, or a mask such as `c1 rect 0.10 0.20 0.30 0.10 "label"`',
                )
            continue
        match = _MASK.match(stripped)
        if match is None:
            reader.error(
                index,
                text,
                stripped.split()[0],
                "E154",
                f'found `{stripped[:40]}`; expected a mask `c<number> <shape> <coordinates> ["label"]`, e.g. '
                '`c1 rect 0.10 0.20 0.30 0.10 "Amazon S3"`; shapes are rect, ellipse and polygon',
            )
            continue
        digits = match.group("ordinal")
        ordinal = int(digits) if len(digits) <= 5 else MAX_ORDINAL + 1
        if not 1 <= ordinal <= MAX_ORDINAL:
            reader.error(
                index,
                text,
                f"c{digits}",
                "E159",
                f"found card number `c{digits}`; expected a number from c1 to c{MAX_ORDINAL}, because Anki numbers "
                "cards from 1 and keeps the number in 16 bits",
            )
            continue
        shape_name = match.group("shape")
        build = _SHAPES.get(shape_name)
        if build is None:
            reader.error(
                index,
                text,
                shape_name,
                "E154",
                f"found the shape `{shape_name}`; expected rect, ellipse or polygon",
            )
            continue
        shape = build(reader, index, text, ordinal, match.group("coords").split())
        label = match.group("label")
        checked_label = _label(reader, index, text, label) if label is not None else None
        if shape is not None:
            shapes.append(shape)
            if checked_label:
                known = labels.setdefault(ordinal, [])
                if checked_label not in known:
                    known.append(checked_label)
    if image is None:
        reader.error(
            -1,
            source.line_text(fence.map[0] + 1),
            "occlusion",
            "E154",
            "found an occlusion fence without `image:`; expected its first line to name an image in media/, e.g. "
            "`image: architecture.png`",
        )
    elif not shapes and reader.ok:
        reader.error(
            -1,
            source.line_text(fence.map[0] + 1),
            "occlusion",
            "E154",
            'found no masks; expected one line per mask, e.g. `c1 rect 0.10 0.20 0.30 0.10 "Amazon S3"`',
        )
    if image is None:
        return None
    return ImageOcclusion(
        image=image[0],
        image_location=image[1],
        shapes=tuple(shapes),
        labels=tuple((n, " · ".join(labels[n])) for n in sorted(labels)),
        occlude_inactive=occlude_inactive,
        ordinals=tuple(sorted({s.ordinal for s in shapes})),
        valid=reader.ok,
    )
