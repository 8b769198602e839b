"""Diagram legibility rule (L006 `small-diagram-text`): a note's diagrams and SVG images → a warning for each one
whose smallest label would be drawn under MIN_LABEL_PX on a phone or a desktop.

The sizes follow the rules the clients apply (builder.diagrams.legibility): a diagram that is too wide for a
400 px phone or too tall for the window is shrunk, and its labels with it. The warning says which limit
shrinks it, so the author knows whether to make it narrower, shorter or its labels larger.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from builder.diagnostics import Diagnostics, Location
from builder.figures import Figures
from builder.media import MediaLibrary
from builder.models import NoteSpec
from builder.parse import RawNote
from builder.validate import diagram_fences

if TYPE_CHECKING:
    # SVG measuring loads with the first diagram or SVG image: most notes have neither.
    from builder.diagrams.legibility import Placement, Rendering, SvgFacts

CODE = "L006"
NAME = "small-diagram-text"


def legibility_problem(facts: SvgFacts, placement: Placement) -> str | None:
    """Why the image's smallest label is too small to read, with what to change; None if it reads everywhere."""
    from builder.diagrams.legibility import MIN_LABEL_PX, VIEWPORTS, rendering

    shots = [rendering(facts, viewport, placement) for viewport in VIEWPORTS]
    small = [r for r in shots if r.smallest_px is not None and r.smallest_px < MIN_LABEL_PX]
    if not small or facts.smallest_text is None:
        return None
    where = "; ".join(
        f"{r.smallest_px:.1f} px on a {r.viewport.describe()}, scaled to {r.scale:.2f} "
        f"({r.width:.0f} x {r.height:.0f} px)"
        for r in small
        if r.smallest_px is not None
    )
    return (
        f"the smallest label, `{facts.smallest_label}` ({facts.smallest_text:.3g} px), would be {where}; "
        f"expected at least {MIN_LABEL_PX:g} px. {_advice(facts, placement, small[0])}"
    )


def _advice(facts: SvgFacts, placement: Placement, shot: Rendering) -> str:
    from builder.diagrams.legibility import MIN_LABEL_PX

    viewport = shot.viewport
    tallest = placement.max_height * viewport.height
    if facts.smallest_text is not None and facts.smallest_text < MIN_LABEL_PX:
        return "Make its labels larger: they are too small even at full size (Graphviz `fontsize` is in points)"
    if facts.height * viewport.available_width / facts.width > tallest:
        return (
            f"It is {facts.height:.0f} px tall and the {viewport.name} shows at most {tallest:.0f} px: make it "
            "shorter (a left-to-right layout, fewer steps, less spacing) or split it into two notes"
        )
    return (
        f"It is {facts.width:.0f} px wide and the {viewport.name} has {viewport.available_width:.0f} px: make it "
        "narrower (a top-down layout, shorter or wrapped labels, fewer nodes side by side) or its labels larger"
    )


def lint_figures(
    spec: NoteSpec, raw: RawNote, figures: Figures, library: MediaLibrary, diagnostics: Diagnostics
) -> None:
    """Warn, at its fence or image, about every diagram or SVG image of the note that a phone shrinks too far."""
    if CODE in spec.lint_ignore or NAME in spec.lint_ignore:
        return
    source = raw.source
    for fence in diagram_fences(raw):
        assert fence.map is not None
        key = (source.path, fence.map[0] + 1)
        facts = figures.facts.get(key)
        if facts is None:
            continue
        from builder.diagrams.legibility import Placement

        placement = Placement.OCCLUSION if key in figures.masks else Placement.CARD
        problem = legibility_problem(facts, placement)
        if problem is not None:
            opening = source.line_text(key[1])
            diagnostics.warning(Location(source.path, key[1], 1), CODE, f"{problem} [{NAME}]", len(opening.rstrip()))
    for block in raw.body:
        for token in block.children or ():
            if token.type != "image" or block.map is None:
                continue
            src = str(token.attrs.get("src", ""))
            checked = library.check(src)
            if not isinstance(checked, Path) or checked.suffix.lower() != ".svg":
                continue  # raster images carry no text the builder can measure
            from builder.diagrams.legibility import Placement, measure_or_none

            facts = measure_or_none(library.add(checked).data.decode("utf-8", errors="replace"))
            problem = legibility_problem(facts, Placement.CARD) if facts is not None else None
            if problem is not None:
                diagnostics.warning(_image_location(raw, block.map, src), CODE, f"{problem} [{NAME}]", len(src) or 1)


def _image_location(raw: RawNote, lines: list[int], src: str) -> Location:
    source = raw.source
    for line in range(lines[0] + 1, lines[1] + 1):
        col = source.line_text(line).find(f"]({src}")
        if col >= 0:
            return Location(source.path, line, col + 3)
    return Location(source.path, lines[0] + 1, 1)
