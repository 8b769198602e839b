"""Type-in notes (`type: typein`): the body's first paragraph is the exact answer, the rest its explanation.

Anki compares what the learner types with the Back field character by character, after stripping HTML. So the
answer must be text a learner can type as written: one short line, no formatting (which would vanish from the
comparison while still showing on the card), no invisible or doubled spaces. One code span may hold the
whole answer, for commands and code whose characters Markdown would otherwise read as formatting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markdown_it.token import Token

from builder.diagnostics import Diagnostics, Location
from builder.parse import RawNote

#: Characters an answer may have: a line a learner types in one go.
MAX_ANSWER = 80

#: What each kind of inline markup is called in a message, and the text that finds it on its line.
_MARKUP: Mapping[str, tuple[str, Callable[[Token], str]]] = {
    "em_open": ("emphasis", lambda t: t.markup),
    "strong_open": ("bold text", lambda t: t.markup),
    "s_open": ("strikethrough", lambda t: t.markup),
    "mark_open": ("a highlight", lambda t: t.markup),
    "link_open": ("a link", lambda t: "["),
    "image": ("an image", lambda t: "!["),
    "html_inline": ("raw HTML", lambda t: t.content),
    "math_inline": ("math", lambda t: "$"),
    "math_inline_double": ("math", lambda t: "$$"),
    "sound": ("a sound", lambda t: "[sound:"),
    "wikilink": ("a wikilink", lambda t: "[["),
}
#: Spaces a learner cannot type (or cannot see): the comparison would fail on a correct answer.
_ODD_SPACE = re.compile(r"[^\S ]|  ")
_SPACE_NAMES = {"\t": "a tab", "\xa0": "a non-breaking space", "  ": "two spaces in a row"}


def _odd_character(text: str) -> tuple[str, str] | None:
    """The first character (or pair of spaces) of `text` a learner cannot type as written, and its name."""
    odd = _ODD_SPACE.search(text)
    invisible = next((ch for ch in text if unicodedata.category(ch) in ("Cf", "Cc")), None)
    if odd is not None and (invisible is None or odd.start() < text.index(invisible)):
        found = odd.group()
        return found, _SPACE_NAMES.get(found, f"the space character U+{ord(found[0]):04X}")
    if invisible is not None:
        return invisible, f"the invisible character U+{ord(invisible):04X}"
    return None


@dataclass(frozen=True)
class Answer:
    """The exact answer and the blocks after it (the explanation)."""

    text: str
    rest: tuple[Token, ...]


def split_answer(note: RawNote) -> tuple[Token | None, tuple[Token, ...]]:
    """The answer paragraph's inline token (None when the body does not start with a paragraph) and the rest."""
    body = note.body
    if len(body) >= 3 and body[0].type == "paragraph_open" and body[1].type == "inline":
        return body[1], body[3:]
    return None, body


def _fail(note: RawNote, block: Token, needle: str, code: str, message: str, diagnostics: Diagnostics) -> None:
    assert block.map is not None
    source = note.source
    line = block.map[0] + 1
    col = source.line_text(line).find(needle) + 1 if needle else 0
    diagnostics.error(Location(source.path, line, max(col, 1)), code, message, max(len(needle), 1))


def check_answer(note: RawNote, diagnostics: Diagnostics) -> Answer | None:
    """The note's answer, or None with every problem reported (E150-E152)."""
    source = note.source
    inline, rest = split_answer(note)
    if inline is None:
        first = note.body[0] if note.body else None
        where = (
            Location(source.path, first.map[0] + 1, 1)
            if first is not None and first.map
            else Location(source.path, note.title_line, note.title_col)
        )
        found = f"a {first.type.removesuffix('_open').replace('_', ' ')}" if first is not None else "nothing"
        diagnostics.error(
            where,
            "E150",
            f"found {found} where a type-in note's answer goes; expected the exact answer as the first paragraph "
            "under the metadata comment (one line, e.g. `Amazon Macie`), then any explanation",
        )
        return None
    assert inline.map is not None
    children = inline.children or []
    ok = True
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            _fail(
                note,
                inline,
                inline.content.split("\n", 1)[0],
                "E152",
                "found an answer over several lines; expected one line, because the learner types it into one "
                "box. Put the explanation in a paragraph of its own, after a blank line",
                diagnostics,
            )
            return None
        described = _MARKUP.get(child.type)
        if described is not None:
            what, needle = described
            _fail(
                note,
                inline,
                needle(child),
                "E151",
                f"found {what} in a type-in answer; expected plain text, because Anki compares the typed answer "
                "with the text alone and the learner cannot type formatting. Remove it, or wrap the whole answer "
                "in one code span (`...`) if it is code",
                diagnostics,
            )
            ok = False
    if not ok:
        return None
    kinds = [child.type for child in children]
    code_spans = kinds.count("code_inline")
    if code_spans and (code_spans > 1 or any(c.type == "text" and c.content.strip() for c in children)):
        _fail(
            note,
            inline,
            "`",
            "E151",
            "found a code span in part of a type-in answer; expected the whole answer in one code span or none, "
            "because the card shows the answer as it is compared, without formatting",
            diagnostics,
        )
        return None
    text = "".join(child.content for child in children if child.type in ("text", "code_inline"))
    odd = _odd_character(text)
    if odd is not None:
        char, what = odd
        line = source.line_text(inline.map[0] + 1)
        _fail(
            note,
            inline,
            char if char in line else "",
            "E152",
            f"found {what} in a type-in answer; expected single plain spaces, because the learner types plain "
            "spaces and the comparison would mark a correct answer wrong",
            diagnostics,
        )
        return None
    if len(text) > MAX_ANSWER:
        _fail(
            note,
            inline,
            inline.content,
            "E152",
            f"found an answer of {len(text)} characters; expected at most {MAX_ANSWER}, a line a learner types "
            "in one go. Ask for one term, name or command, and move the rest to the explanation below it",
            diagnostics,
        )
        return None
    return Answer(text, tuple(rest))


def fields(note: RawNote, front: str, render: Callable[[Sequence[Token]], str]) -> tuple[str, ...]:
    """Front, Back (the answer as plain text, escaped) and Back Extra (the explanation, rendered)."""
    answer = check_answer(note, Diagnostics())
    # Validation already reported a bad answer; a build never reaches here with one.
    assert answer is not None
    return (front, escape(answer.text, quote=False), render(answer.rest).strip())
