"""Rendered fidelity: a note's source against its rendered fields, i.e. what Anki stores and the learner sees.

- A deletion inside an HTML comment, an attribute (an image's alt text, a link target) or hidden markup is in
  the field, so Anki makes its card, but shows nothing: an empty card. Every deletion of the source must be
  in the visible text of the field Anki clozes.
- A front or back of only a zero-width space, `&nbsp;`, an empty element or a comment passes a check on the
  Markdown text, and the card is blank.
- A control character that no check of the raw file sees (the file's own characters are checked by
  builder.source, its character references by builder.fidelity.entities) never reaches the collection: a last
  net under every way a field is made.

Each check costs a pass over the fields; locating a problem renders the note's blocks one by one, which only
happens when there is one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from markdown_it.token import Token

from builder import cloze
from builder.diagnostics import Diagnostics, Location
from builder.fidelity.visible import shows_nothing, visible_text
from builder.figures import Figures
from builder.markdown import parser
from builder.media import MediaLibrary
from builder.models import NoteKind, NoteSpec, RenderedNote
from builder.notetypes import LAYOUTS
from builder.parse import RawNote
from builder.render import block_renderer
from builder.source import CONTROL, SourceFile, describe_char
from builder.validate import body_text

_CLOZE_TITLE = re.compile(r'^<div class="df-title">(.*?)</div>', re.DOTALL)


def _controls(raw: RawNote, note: RenderedNote, diagnostics: Diagnostics) -> None:
    for value in (*note.fields, *note.tags):
        found = CONTROL.search(value)
        if found is not None:
            # Written as the character itself, it is reported where it is (builder.source); as a character
            # reference, where that is (builder.fidelity.entities), and the file is then not rendered at all.
            if CONTROL.search(raw.title + body_text(raw)[0]):
                return
            diagnostics.error(
                note.location,
                "E110",
                f"the note would carry control character {describe_char(found.group())} into Anki, written as an "
                "entity or an escape in its text or tags; expected printable text, because Anki cannot store or "
                "show it. Remove it",
            )
            return


#: A deletion's opening: counting them is enough here, since a note with a malformed one is never rendered.
_OPENING = re.compile(r"\{\{c([0-9]{1,5})::")


def _counts(text: str) -> Counter[int]:
    return Counter(int(n) for n in _OPENING.findall(text)) if "{{c" in text else Counter()


def _blocks(tokens: Sequence[Token]) -> list[list[Token]]:
    """The note's top-level blocks, each with its nested tokens."""
    blocks: list[list[Token]] = []
    for token in tokens:
        if (token.level == 0 and token.nesting >= 0) or not blocks:
            blocks.append([token])
        else:
            blocks[-1].append(token)
    return blocks


def _source_clozes(source: SourceFile, start_line: int, end_line: int) -> list[cloze.Cloze]:
    start = source.offset(start_line)
    end = source.offset(end_line) if end_line <= len(source.line_starts) else len(source.text)
    return cloze.scan(source.text[start:end])[0]


def _hidden_cloze(raw: RawNote, ordinal: int, env: dict[str, Any]) -> Location:
    """The first deletion numbered `ordinal` that its block does not show, or the heading."""
    source = raw.source
    renderer = block_renderer()
    options = parser().options
    title_html = renderer.renderInline(raw.title_token.children or [], options, env)
    title_found = [c for c in cloze.scan(raw.title)[0] if c.ordinal == ordinal]
    if len(title_found) > _counts(visible_text(title_html))[ordinal]:
        return source.location(source.offset(raw.title_line, raw.title_col) + title_found[0].start)
    for block in _blocks(raw.body):
        if block[0].map is None:
            continue
        start, end = block[0].map
        found = [c for c in _source_clozes(source, start + 1, end + 1) if c.ordinal == ordinal]
        if found and len(found) > _counts(visible_text(renderer.render(block, options, env)))[ordinal]:
            return source.location(source.offset(start + 1) + found[0].start)
    return Location(source.path, raw.title_line, raw.title_col)


def _clozes(
    raw: RawNote, note: RenderedNote, library: MediaLibrary, figures: Figures, diagnostics: Diagnostics
) -> None:
    """Every deletion of the source is in the visible text of the field Anki clozes."""
    body, _ = body_text(raw)
    wanted = _counts(raw.title) + _counts(body)
    shown = _counts(visible_text(note.fields[LAYOUTS[NoteKind.CLOZE].back_field]))
    for ordinal in sorted(wanted):
        if shown[ordinal] >= wanted[ordinal]:
            continue
        env: dict[str, Any] = {"media": library, "used": {}, "figures": figures, "path": raw.source.path}
        diagnostics.error(
            _hidden_cloze(raw, ordinal, env),
            "E117",
            f"the deletion `c{ordinal}` here does not reach the card's text: it is inside an HTML comment, an "
            "attribute (an image's alt text, a link target) or hidden markup, so Anki would show an empty or "
            "broken card; expected deletions in the text itself. Move it out",
            len(f"{{{{c{ordinal}::"),
        )


def _blank(spec: NoteSpec, raw: RawNote, note: RenderedNote, diagnostics: Diagnostics) -> None:
    """Fronts and backs that render as nothing, though their Markdown has characters."""
    layout = LAYOUTS[spec.kind]
    heading = Location(raw.source.path, raw.title_line, raw.title_col)
    front = note.fields[layout.front_field]
    if spec.kind is NoteKind.CLOZE:
        # The title sits at the top of the Text field (builder.render); the deletions below it are not it.
        title = _CLOZE_TITLE.match(front)
        front = title.group(1) if title else front
    if raw.title.strip() and shows_nothing(front):
        diagnostics.error(
            heading,
            "E040",
            "empty front: the heading renders as nothing a learner can see (only spaces, zero-width characters, "
            "`&nbsp;`, empty elements or a comment); expected the question or term after `## `",
        )
    if spec.kind in (NoteKind.BASIC, NoteKind.REVERSE) and raw.body and shows_nothing(note.fields[layout.back_field]):
        diagnostics.error(
            heading,
            "E041",
            "empty back: the answer renders as nothing a learner can see (only spaces, zero-width characters, "
            "`&nbsp;`, empty elements or a comment); expected the answer below the metadata comment",
        )


def check_rendered(
    spec: NoteSpec,
    raw: RawNote,
    note: RenderedNote,
    library: MediaLibrary,
    figures: Figures,
    diagnostics: Diagnostics,
) -> None:
    """What the card shows agrees with what the note says."""
    _controls(raw, note, diagnostics)
    if spec.kind not in LAYOUTS:
        return  # a deck-defined notetype: its templates, not a built-in layout, decide what a card shows
    _blank(spec, raw, note, diagnostics)
    if spec.kind is NoteKind.CLOZE:
        _clozes(raw, note, library, figures, diagnostics)
