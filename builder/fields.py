"""Field sections: a note of a deck-defined notetype → the Markdown that fills each of its fields.

The syntax reads like every other note and scales from two fields to ten:

- the `##` heading fills the notetype's heading field (by default its first), the text under it its body
  field (by default the second);
- any field can instead be written as a `### <Field name>` section; the section runs to the next field
  section or note. A `###` heading whose text is not a field name stays an ordinary heading of the text;
- when the heading field has a section of its own, the heading only names the note (in diffs, release notes
  and its id); when the body field has one, there must be no text between the heading and the first section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markdown_it.token import Token

from builder.config import Embedded
from builder.diagnostics import Diagnostics, Location
from builder.models import FileSettings, NoteMeta
from builder.notetypes.deckdefined import DeckNotetype
from builder.parse import RawNote


@dataclass(frozen=True)
class FieldLayout:
    """Where each field's content is: the heading, or a run of body tokens."""

    #: Field index → the body tokens of its section (or of the lead text, for the body field).
    blocks: Mapping[int, tuple[Token, ...]]
    #: True when the heading fills the heading field; False when it only names the note.
    heading_fills: bool
    #: Line of each section heading, by field index (for diagnostics).
    lines: Mapping[int, int]


def _section_name(tokens: tuple[Token, ...], index: int, names: Mapping[str, int]) -> int | None:
    token = tokens[index]
    if token.type != "heading_open" or token.tag != "h3" or token.level != 0 or index + 1 >= len(tokens):
        return None
    return names.get(tokens[index + 1].content.strip())


def field_layout(raw: RawNote, notetype: DeckNotetype) -> tuple[FieldLayout, list[tuple[int, str]]]:
    """The layout of a note's fields, and its problems as (line, message)."""
    names = {name: i for i, name in enumerate(notetype.field_names)}
    body = raw.body
    starts = [(i, field) for i in range(len(body)) if (field := _section_name(body, i, names)) is not None]
    problems: list[tuple[int, str]] = []
    blocks: dict[int, tuple[Token, ...]] = {}
    lines: dict[int, int] = {}
    lead = body[: starts[0][0]] if starts else body
    for n, (start, field) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(body)
        line = (body[start].map or [0])[0] + 1
        if field in blocks:
            problems.append(
                (
                    line,
                    f"found a second `### {notetype.field_names[field]}` section (the first is on line "
                    f"{lines[field]}); expected each field once. Merge the two sections",
                )
            )
            continue
        # heading_open, inline, heading_close, then the section's content.
        blocks[field] = body[start + 3 : end]
        lines[field] = line
    heading_fills = notetype.heading not in blocks
    if notetype.body is not None and notetype.body not in blocks:
        blocks[notetype.body] = lead
    elif lead:
        line = (lead[0].map or [0])[0] + 1
        where = (
            f"the `{notetype.field_names[notetype.body]}` field has a section of its own"
            if notetype.body is not None
            else f"notetype `{notetype.key}` has no body field"
        )
        problems.append(
            (
                line,
                f"found text between the heading and the first field section, but {where}; expected it inside a "
                "`### <Field name>` section. Move it into one",
            )
        )
    return FieldLayout(blocks, heading_fills, lines), problems


def note_notetype(
    raw: RawNote,
    meta: NoteMeta | None,
    settings: FileSettings,
    notetypes: Mapping[str, DeckNotetype],
    diagnostics: Diagnostics,
) -> tuple[bool, DeckNotetype | None]:
    """Whether the note asks for a deck-defined notetype, and which (None after an error)."""
    key = (meta.notetype if meta is not None else None) or settings.notetype
    if key is None:
        return False, None
    source = raw.source
    where = (
        Embedded(source, raw.meta.text, raw.meta.text_line, raw.meta.text_col)
        if raw.meta is not None and meta is not None and meta.notetype
        else None
    )
    location = where.key_location("notetype", ":", value=True)[0] if where else Location(source.path, 1, 1)
    notetype = notetypes.get(key)
    if notetype is None:
        known = ", ".join(f"`{k}`" for k in sorted(notetypes)) or "none (the deck has no notetypes/ folder)"
        diagnostics.error(
            location,
            "E184",
            f"`notetype: {key}` names no notetype of this deck; expected a folder under notetypes/: {known}",
            len(key),
        )
        return True, None
    if meta is not None and meta.type is not None:
        diagnostics.error(
            location,
            "E184",
            f"found `type: {meta.type.value}` and `notetype: {key}`; expected one of them: the notetype's "
            "templates decide its cards. Remove `type:`",
            len(key),
        )
    if meta is not None and meta.sources:
        diagnostics.error(
            location,
            "E184",
            f"found `source:` on a note of notetype `{key}`, which has no Source field; expected the sources in one "
            "of its fields, e.g. a `### <Field name>` section",
            len(key),
        )
    _, problems = field_layout(raw, notetype)
    for line, message in problems:
        diagnostics.error(Location(source.path, line, 1), "E185", message)
    return True, notetype
