"""Figures: diagram fences of validated notes → rendered, sanitised SVG media, occlusion masks and alt texts."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from builder.alttext import diagram_alt, heading_text
from builder.diagnostics import Diagnostics, Location
from builder.diagrams import ENGINES
from builder.diagrams.base import DiagramError
from builder.diagrams.fence import parse_fence_info
from builder.models import NoteKind
from builder.parse import RawNote
from builder.progress import interactive
from builder.sanitize.policy import Verdict
from builder.validate import diagram_fences, fence_language

if TYPE_CHECKING:
    # The diagram stages (renderers, SVG measuring, masks) load with the first deck that has a diagram: a
    # deck without one does not pay a tenth of its start-up for them.
    from builder.diagrams.legibility import SvgFacts
    from builder.diagrams.occlusion import Mask, OcclusionLabel
    from builder.diagrams.runner import RenderedDiagram

#: Where a diagram sits: the note file as shown in diagnostics, and the line of its opening fence.
FigureKey = tuple[str, int]


@dataclass(frozen=True)
class Figures:
    """Every rendered diagram of a build, the masks of the occluded ones, and what each shows."""

    images: Mapping[FigureKey, RenderedDiagram] = field(default_factory=dict)
    masks: Mapping[FigureKey, tuple[Mask, ...]] = field(default_factory=dict)
    #: Size, smallest text and labels of each rendered SVG (the legibility rule and the alt text read them).
    facts: Mapping[FigureKey, SvgFacts] = field(default_factory=dict)
    #: The `alt` of each diagram's `<img>`.
    alts: Mapping[FigureKey, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Fence:
    key: FigureKey
    lang: str
    source: str
    labels: tuple[OcclusionLabel, ...]
    occluded: bool
    heading: str
    alt: str | None


def _fences(notes: Sequence[tuple[RawNote, NoteKind]], diagnostics: Diagnostics) -> list[_Fence]:
    from builder.diagrams.confine import CODE as CONFINE_CODE
    from builder.diagrams.confine import includes
    from builder.diagrams.confine import message as include_message
    from builder.diagrams.occlusion import strip_markers

    out = []
    for raw, kind in notes:
        for token in diagram_fences(raw):
            assert token.map is not None
            line = token.map[0] + 1
            found = includes(ENGINES[fence_language(token)].name, token.content)
            for include in found:
                # The fence is line 0 of the diagram, so diagram line N is file line fence + 1 + N.
                where = Location(raw.source.path, line + 1 + include.line, include.col + 1)
                diagnostics.error(where, CONFINE_CODE, include_message(include), len(include.found))
            if found:
                continue
            try:
                source, labels = strip_markers(token.content)
            except DiagramError as exc:
                where = Location(raw.source.path, line + (exc.line or 0), exc.column or 1)
                diagnostics.error(where, "D005", exc.message)
                continue
            occluded = kind is NoteKind.OCCLUSION and bool(labels)
            # Validation reported any problem with the fence's settings; what parsed is used.
            info, _ = parse_fence_info(token.info)
            key = (raw.source.path, line)
            out.append(
                _Fence(key, fence_language(token), source, tuple(labels), occluded, heading_text(raw.title), info.alt)
            )
    return out


def _id_prefix(key: FigureKey) -> str:
    # Ids in two diagrams on one card must not clash; the prefix must start with a letter.
    return "d" + hashlib.sha256(f"{key[0]}:{key[1]}".encode()).hexdigest()[:8]


def render_figures(
    notes: Sequence[tuple[RawNote, NoteKind]],
    diagnostics: Diagnostics,
    *,
    use_cache: bool,
    timeout: float,
    jobs: int | None = None,
) -> Figures:
    """Render every diagram fence once (cached, in parallel) and measure the masks of occluded labels."""
    if not notes:
        return Figures()
    fences = _fences(notes, diagnostics)
    if not fences:
        return Figures()
    from builder.diagrams.cache import DiagramCache
    from builder.diagrams.legibility import measure_or_none
    from builder.diagrams.occlusion import find_label_boxes
    from builder.diagrams.runner import DiagramDiagnostic, DiagramRequest, render_all

    requests = [DiagramRequest(f.lang, f.source, f.key[0], f.key[1], _id_prefix(f.key)) for f in fences]
    outcome = render_all(
        requests,
        cache=DiagramCache.default() if use_cache else None,
        jobs=jobs or max(1, os.cpu_count() or 1),
        timeout=timeout,
        progress=interactive(sys.stderr),
    )
    images: dict[FigureKey, RenderedDiagram] = {}
    masks: dict[FigureKey, tuple[Mask, ...]] = {}
    facts: dict[FigureKey, SvgFacts] = {}
    alts: dict[FigureKey, str] = {}
    for fence, result in zip(fences, outcome.results, strict=True):
        if isinstance(result, DiagramDiagnostic):
            diagnostics.error(Location(result.path, result.line, result.col), result.code, result.message)
            continue
        images[fence.key] = result
        measured = measure_or_none(result.text)
        if measured is not None:
            facts[fence.key] = measured
        hidden = [label.text for label in fence.labels] if fence.occluded else []
        labels = measured.labels if measured is not None else ()
        alts[fence.key] = diagram_alt(fence.heading, labels, hidden=hidden, author=fence.alt)
        for removal in result.removed:
            report = diagnostics.error if removal.verdict is Verdict.ERROR else diagnostics.warning
            report(
                Location(*fence.key),
                removal.code,
                f"the rendered {fence.lang} diagram contains {removal.what}, which was removed; expected a static "
                "picture that loads nothing (no links to scripts, remote images or handlers). Remove it from the "
                "diagram source",
            )
        if fence.occluded:
            try:
                masks[fence.key] = tuple(find_label_boxes(result.text, fence.labels))
            except DiagramError as exc:
                diagnostics.error(
                    Location(fence.key[0], fence.key[1] + (exc.line or 0), exc.column or 1),
                    "D006",
                    f"{exc.message}; expected every marked label to appear as text in the rendered diagram. "
                    'Mark whole node labels, e.g. node [label="{{c1::Tokenizer}}"]',
                )
    return Figures(images, masks, facts, alts)
