"""What Anki's reviewer adds to a rendered card, done without running a script: for the preview.

Anki renders a card to HTML with placeholders its reviewer fills in: Image Occlusion shapes that its script
draws on a canvas, `[[type:Back]]` for the type-in box (question) and the comparison (answer), and
`[anki:play:q:0]` for each sound, which its player plays. The preview runs no card's script, so each of them
is turned into plain HTML here: boxes over the image, an input box and Anki's own comparison markup, and
`<audio>`/`<video>` players.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape
from pathlib import PurePosixPath

from builder.mediatypes import VIDEO_SUFFIXES

# Anki's Image Occlusion template: a container holding the image and the canvas its script draws masks on,
# and the shapes that script reads, hidden in the card as divs whose class says what the card does with them.
_IO_CONTAINER = '<div id="image-occlusion-container">'
_IO_CANVAS = '<canvas id="image-occlusion-canvas"></canvas>'
_IO_SHAPE = re.compile(r'<div class="(cloze|cloze-highlight|cloze-inactive)" ([^>]*)>')
_DATA = re.compile(r'data-([A-Za-z]+)="([^"]*)"')
#: Shape class → mask: the one to recall on the front, the same one revealed (outlined) on the back, and the
#: others, which stay covered when the note hides all of them (data-occludeInactive="1").
_MASKS = {"cloze": "active", "cloze-highlight": "highlight", "cloze-inactive": "inactive"}
_TYPE = re.compile(r"\[\[type:(?:nc:)?([^\]]+)\]\]")
_PLAY = re.compile(r"\[anki:play:([qa]):(\d+)\]")


def _box(data: dict[str, str]) -> str | None:
    """The CSS that places one shape over the image, in percentages of its size; None if it is not readable."""
    try:
        left, top = float(data["left"]), float(data["top"])
        shape = data["shape"]
        if shape == "rect":
            width, height = float(data["width"]), float(data["height"])
            return f"left:{left:.2%};top:{top:.2%};width:{width:.2%};height:{height:.2%}"
        if shape == "ellipse":
            rx, ry = float(data["rx"]), float(data["ry"])
            return f"left:{left:.2%};top:{top:.2%};width:{2 * rx:.2%};height:{2 * ry:.2%};border-radius:50%"
        if shape == "polygon":
            points = [tuple(float(v) for v in pair.split(",")) for pair in data["points"].split()]
            corners = ",".join(f"{x:.2%} {y:.2%}" for x, y in points)
            # A polygon is clipped out of a box over the whole image; a clip path has no border to draw.
            return f"left:0;top:0;width:100%;height:100%;border:none;clip-path:polygon({corners})"
    except (KeyError, ValueError):
        return None
    return None


def draw_masks(html: str) -> str:
    """An Image Occlusion card with its masks drawn over the image as Anki colours them; any other card as it is."""
    if _IO_CANVAS not in html:
        return html
    boxes = []
    for kind, attributes in _IO_SHAPE.findall(html):
        data = dict(_DATA.findall(attributes))
        if kind == "cloze-inactive" and data.get("occludeInactive") != "1":
            continue
        style = _box(data)
        if style is None:
            continue
        boxes.append(
            f'<div class="pv-mask pv-mask-{_MASKS[kind]}" data-ordinal="{escape(data.get("ordinal", ""))}" '
            f'style="{style}" data-shape="{escape(data["shape"])}"></div>'
        )
    html = html.replace(_IO_CONTAINER, '<div id="image-occlusion-container" class="pv-occlusion">', 1)
    return html.replace(_IO_CANVAS, "".join(boxes), 1)


def type_answer(html: str, *, question: bool, field: Callable[[str], str | None], compare: Callable[[str], str]) -> str:
    """`[[type:Field]]` as the reviewer shows it: the input box on the question, Anki's own comparison markup
    (`compare`, given the field's text) on the answer, showing the answer as it is compared."""

    def replace(match: re.Match[str]) -> str:
        expected = field(match.group(1))
        if expected is None:
            return escape(match.group(0))
        if question:
            return '<input type="text" id="typeans" class="pv-typeans" placeholder="Type the answer" disabled>'
        return f'<div class="pv-typeans">{compare(expected)}</div>'

    return _TYPE.sub(replace, html)


def players(html: str, *, question: bool, files: Sequence[str]) -> str:
    """Each `[anki:play:q:N]` as a player for the N-th sound of that side (`files`, their media names)."""
    side = "q" if question else "a"

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(2))
        if match.group(1) != side or index >= len(files):
            return escape(match.group(0))
        name = files[index]
        element = "video" if PurePosixPath(name).suffix.lower() in VIDEO_SUFFIXES else "audio"
        return f'<{element} class="pv-player" controls preload="none" src="{escape(name)}"></{element}>'

    return _PLAY.sub(replace, html)
