"""Parsing: a note file → front matter and raw notes (heading, metadata comment, body tokens, spans)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it.token import Token

from builder.markdown import BAD_ENTITIES, REFERENCE_LINES, parser
from builder.source import SourceFile

_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.MULTILINE)
#: Headings that start a note (h2) or end one without starting another (h1).
_NOTE_TAGS = ("h1", "h2")


@dataclass(frozen=True)
class Span:
    """A half-open range of 1-based lines in one file."""

    start_line: int
    end_line: int


@dataclass(frozen=True)
class FrontMatter:
    """The YAML between the leading `---` fences, still unparsed."""

    text: str
    #: Line of the first YAML line (the one after the opening `---`).
    first_line: int


@dataclass(frozen=True)
class MetaComment:
    """The HTML comment right under a note heading, still unparsed."""

    #: Everything between `<!--` and `-->`, or to the end of the block if the comment never closes.
    text: str
    line: int
    col: int
    #: Line and column where `text` begins, so YAML error marks map back to the file.
    text_line: int
    text_col: int
    terminated: bool
    #: Offset in the file of text written after `-->` on the same line (which Markdown drops with the comment).
    trailing: int | None = None


@dataclass(frozen=True)
class RawNote:
    """One level-2 heading and everything up to the next level-1 or level-2 heading."""

    source: SourceFile
    #: The heading text as the author typed it (inline Markdown, clozes intact).
    title: str
    title_line: int
    title_col: int
    #: Last line of the heading (setext headings take two lines).
    title_end_line: int
    #: The heading's inline token, rendered as the front.
    title_token: Token
    meta: MetaComment | None
    #: Block tokens of the body (metadata comment excluded), rendered as the back.
    body: tuple[Token, ...]
    #: The lines the body occupies; empty when the body is empty.
    body_span: Span
    #: The body's fenced code blocks: validation, rendering and the linter each look for diagram fences.
    fences: tuple[Token, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    source: SourceFile
    front_matter: FrontMatter | None
    notes: tuple[RawNote, ...]
    #: Every block token of the file, front matter included, to compare with its lines (builder.fidelity).
    tokens: tuple[Token, ...] = ()
    #: Link reference definitions, which Markdown consumes without a token: 0-based [start, end) lines and the
    #: normalised label (the second of two definitions of a label is listed too, though no link can use it).
    references: tuple[tuple[int, int, str], ...] = ()
    #: Numeric character references Markdown decoded to a character no card shows: (the inline token's text
    #: or the nested text parsed inside it, such as an image description; the offset in it; the reference).
    entities: tuple[tuple[str, int, str], ...] = ()


def _title_position(source: SourceFile, token: Token) -> tuple[int, int]:
    """Line and column of the heading text; setext headings have their text on the first line."""
    assert token.map is not None
    line = token.map[0] + 1
    text = source.line_text(line)
    stripped = text.lstrip(" ")
    col = len(text) - len(stripped) + 1
    if stripped.startswith("#"):
        hashes = len(stripped) - len(stripped.lstrip("#"))
        rest = stripped[hashes:]
        col += hashes + (len(rest) - len(rest.lstrip(" \t")))
    return line, col


def _meta_comment(source: SourceFile, token: Token) -> MetaComment | None:
    if token.type != "html_block" or not token.content.lstrip().startswith("<!--"):
        return None
    assert token.map is not None
    line = token.map[0] + 1
    raw = token.content
    lead = len(raw) - len(raw.lstrip())
    opening = source.offset(line) + lead
    end = raw.find("-->", lead + 4)
    # A comment that runs into a heading lost its `-->`: HTML comments only end at `-->`, so it swallowed
    # the notes after it. Report it where it opens rather than as bad YAML further down.
    if end >= 0 and _HEADING_LINE.search(raw, lead + 4, end):
        end = -1
    text = raw[lead + 4 : end] if end >= 0 else raw[lead + 4 :].rstrip("\n")
    trailing = None
    if end >= 0:
        after = raw[end + 3 :]
        stripped = after.lstrip(" \t")
        if stripped.strip():
            trailing = opening + end + 3 + len(after) - len(stripped) - lead
    # `<!-- id: x` continues with `type: y` at column 1: drop the first line's indent so YAML lines align.
    indent = len(text) - len(text.lstrip(" \t"))
    text = text[indent:]
    body_start = opening + 4 + indent
    loc = source.location(opening)
    text_loc = source.location(body_start)
    return MetaComment(text, loc.line, loc.col, text_loc.line, text_loc.col, end >= 0, trailing)


def _body_span(tokens: list[Token]) -> Span:
    maps = [t.map for t in tokens if t.map is not None]
    if not maps:
        return Span(0, 0)
    # Block tokens come in document order and a nested block ends within its parent, so the first map starts
    # the span; the end is the furthest any block reaches.
    return Span(maps[0][0] + 1, max(m[1] for m in maps) + 1)


def parse_file(source: SourceFile) -> ParsedFile:
    """Split a file into notes at its level-1 and level-2 headings; the body of a level-1 heading is dropped."""
    env: dict[str, Any] = {}
    tokens = parser().parse(source.text, env)
    all_tokens = tuple(tokens)
    front: FrontMatter | None = None
    if tokens and tokens[0].type == "front_matter":
        assert tokens[0].map is not None
        front = FrontMatter(tokens[0].content, tokens[0].map[0] + 2)
        tokens = tokens[1:]

    notes: list[RawNote] = []
    # One pass over the tokens for the note boundaries: a file has thousands of tokens and a hundred notes.
    bounds = [i for i, t in enumerate(tokens) if t.level == 0 and t.type == "heading_open" and t.tag in _NOTE_TAGS]
    ends = [*bounds[1:], len(tokens)] if bounds else []
    for i, j in zip(bounds, ends, strict=True):
        token = tokens[i]
        # heading_open, inline, heading_close
        inline = tokens[i + 1]
        if token.tag == "h2":
            body = tokens[i + 3 : j]
            meta = _meta_comment(source, body[0]) if body else None
            if meta is not None:
                body = body[1:]
            line, col = _title_position(source, token)
            notes.append(
                RawNote(
                    source=source,
                    title=inline.content,
                    title_line=line,
                    title_col=col,
                    title_end_line=token.map[1] if token.map else line,
                    title_token=inline,
                    meta=meta,
                    body=tuple(body),
                    body_span=_body_span(body),
                    fences=tuple(t for t in body if t.type == "fence"),
                )
            )
    references = tuple(env.get(REFERENCE_LINES, ()))
    return ParsedFile(source, front, tuple(notes), all_tokens, references, tuple(env.get(BAD_ENTITIES, ())))
