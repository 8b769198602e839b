"""Parsed fidelity: a note file's lines against the blocks Markdown made of them.

Markdown never fails; it reinterprets. An unclosed code fence or `<!--` runs to the end of the file, an HTML
block written right above a heading runs until the next blank line, and past markdown-it's nesting limit the
rest of the file is skipped: each time later notes vanish, and the build used to say nothing. So the file is
read twice, once by a line scan for note headings and once by the parser, and every disagreement is reported
where it can be fixed. All of it is linear: one mark per line, one lookup per heading line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.rules_block.html_block import HTML_SEQUENCES
from markdown_it.rules_block.table import escapedSplit
from markdown_it.token import Token

from builder.diagnostics import Diagnostics, Location, quote
from builder.fidelity.entities import check_entities
from builder.fidelity.references import check_references
from builder.markdown import parser
from builder.parse import ParsedFile
from builder.source import SourceFile

#: A line that would be a `#` or `##` heading at the top level: a note boundary if Markdown agrees.
_NOTE_HEADING = re.compile(r"^ {0,3}#{1,2}(?:[ \t]|$)", re.MULTILINE)
#: A line holding only list and quote markers: structure, no text of its own.
_STRUCTURE = re.compile(r"[ \t>]*(?:(?:[-*+]|[0-9]{1,9}[.)])(?:[ \t>]+|$))*")
#: Block tokens that hold the text of their lines themselves (the rest only contain other blocks).
_LEAVES = frozenset({"inline", "fence", "code_block", "html_block", "math_block", "hr", "front_matter"})
#: HTML blocks whose content a card shows as it is written (<pre> and <textarea> text).
_SHOWN_HTML = re.compile(r"^\s*<(?:pre|textarea)\b", re.IGNORECASE)


def _fence_closed(source: SourceFile, token: Token) -> bool:
    assert token.map is not None
    start, end = token.map
    if end - start < 2:
        return False
    last = source.line_text(end).strip()
    marker = token.markup[:1]
    return bool(marker) and len(last) >= len(token.markup) and last == marker * len(last)


def _html_kind(source: SourceFile, token: Token) -> tuple[bool, bool]:
    """(ends only at a blank line, its closing sequence was found) for an HTML block."""
    assert token.map is not None
    start, end = token.map
    first = source.line_text(start + 1).lstrip(" ")
    for opening, closing, _ in HTML_SEQUENCES:
        if opening.search(first):
            if closing.search(""):
                return True, True
            # The closing sequence may be on the first line itself (a one-line comment).
            return False, any(closing.search(source.line_text(line + 1)) for line in {start, end - 1})
    return True, True


def _owner_map(tokens: Sequence[Token], lines: int) -> tuple[bytearray, list[int]]:
    """Which lines some block holds (1) and, per line, the fence or HTML block containing it (index, or -1)."""
    covered = bytearray(lines + 1)
    owner = [-1] * (lines + 1)
    for index, token in enumerate(tokens):
        if token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.type in _LEAVES or token.type in ("heading_open", "table_open"):
            covered[start:end] = b"\x01" * (end - start)
        if token.type in ("fence", "html_block"):
            owner[start:end] = [index] * (end - start)
    return covered, owner


def _nesting_limit(tokens: Sequence[Token], source: SourceFile, diagnostics: Diagnostics) -> bool:
    """Report the first block nested at markdown-it's limit, past which it silently drops the rest of the file."""
    limit = int(parser().options["maxNesting"])
    for token in tokens:
        if token.nesting == 1 and token.level >= limit - 1 and token.map is not None and token.block:
            diagnostics.error(
                Location(source.path, token.map[0] + 1, 1),
                "E114",
                f"found lists or block quotes nested {limit // 2} or more levels deep; expected fewer, because "
                f"Markdown reads at most {limit} levels of blocks and drops everything deeper and after it, later "
                "notes included. Flatten the list or split the quote",
            )
            return True
    return False


def _swallowed(parsed: ParsedFile, owner: list[int], diagnostics: Diagnostics) -> None:
    """Note headings that Markdown read as part of a code fence or an HTML block."""
    source, tokens = parsed.source, parsed.tokens
    headings = {t.map[0] for t in tokens if t.type == "heading_open" and t.map is not None}
    # A metadata comment that runs into the next heading is reported as unterminated (E031) by validation.
    metas = {note.meta.line - 1 for note in parsed.notes if note.meta is not None}
    reported: set[int] = set()
    for match in _NOTE_HEADING.finditer(source.text):
        line = source.location(match.start()).line - 1
        index = owner[line] if line < len(owner) else -1
        if line in headings or index < 0 or index in reported:
            continue
        block = tokens[index]
        assert block.map is not None
        if block.map[0] in metas:
            continue
        opened = Location(source.path, block.map[0] + 1, 1)
        heading = f"the note heading `{quote(source.line_text(line + 1).strip(), 40)}` on line {line + 1}"
        if block.type == "fence":
            if _fence_closed(source, block):
                continue  # a code example showing a heading: it is on the card, as code
            reported.add(index)
            diagnostics.error(
                opened,
                "E115",
                f"the code fence opened here (`{quote(block.markup + block.info, 30)}`) never closes, so it swallows "
                f"{heading} and every note after it; expected a closing `{block.markup}` line. Add one after the code",
                len(block.markup),
            )
            continue
        blank_ends, closed = _html_kind(source, block)
        if blank_ends:
            diagnostics.error(
                Location(source.path, line + 1, 1),
                "E115",
                f"this note heading is part of the HTML block that starts on line {block.map[0] + 1}, because an "
                "HTML block runs until a blank line, so the note is lost; expected a blank line between the HTML "
                "and the heading. Add one",
                max(1, len(match.group().strip())),
            )
            continue
        if closed and _SHOWN_HTML.match(block.content):
            continue  # <pre> text with a heading-like line, shown as written
        reported.add(index)
        what = "never closes" if not closed else f"runs to line {block.map[1]}"
        diagnostics.error(
            opened,
            "E115",
            f"the HTML block opened here (`{quote(source.line_text(block.map[0] + 1).strip(), 30)}`) {what}, so "
            f"{heading} and what follows it are hidden from every card; expected it to close before the next "
            "note (`-->` for a comment, the closing tag for <pre>, <script>, <style>). Close it there",
        )


def _outside_notes(parsed: ParsedFile, covered: bytearray, diagnostics: Diagnostics) -> None:
    """Lines no block holds (outside link definitions), and text before the first note or under a `#` title."""
    source = parsed.source
    for start, end, _ in parsed.references:
        covered[start:end] = b"\x01" * (end - start)
    run_start = -1
    for line in range(len(source.line_starts) + 1):
        lost = False
        if line < len(source.line_starts) and not covered[line]:
            text = source.line_text(line + 1)
            lost = bool(text.strip()) and _STRUCTURE.fullmatch(text) is None
        if lost and run_start < 0:
            run_start = line
        elif not lost and run_start >= 0:
            diagnostics.error(
                Location(source.path, run_start + 1, 1),
                "E118",
                f"the text on line(s) {run_start + 1}-{line} is on no card: Markdown kept no block for it; expected "
                "every line to belong to a note. Check the lines above it for an unclosed construct",
            )
            run_start = -1
    _preamble(parsed, diagnostics)


def _preamble(parsed: ParsedFile, diagnostics: Diagnostics) -> None:
    """Blocks before the file's first heading: no note holds them.

    Text under a `#` title is the file's own introduction for the people who edit it (the scaffold's example
    files have one), documented as on no card; text above every heading has no such reason.
    """
    for token in parsed.tokens:
        if token.type == "heading_open":
            return
        if token.level != 0 or token.nesting == -1 or token.type in ("front_matter", "inline") or token.map is None:
            continue
        if token.type == "html_block" and token.content.lstrip().startswith("<!--"):
            continue  # a comment: the author's note to themselves, meant to show nowhere
        diagnostics.error(
            Location(parsed.source.path, token.map[0] + 1, 1),
            "E118",
            "found text before the file's first heading, which no card shows; expected every text to be inside a "
            "note. Move it under a `## ` heading, under a `# ` title if it introduces the file, or into an HTML "
            "comment if it is a note to yourself",
        )


#: One list marker with what precedes it on the line (indentation, quote markers).
_ITEM_MARKER = re.compile(r"[ \t>]*(?:[-*+]|[0-9]{1,9}[.)])(?:[ \t]+|$)")


def _cells(line: str, items: int = 0) -> list[str]:
    """A table row's cells as markdown-it splits them (outer pipes dropped); `items`: list items that start on
    the row's line, whose markers are not part of the row."""
    for _ in range(items):
        marker = _ITEM_MARKER.match(line)
        line = line[marker.end() :] if marker else line
    columns = escapedSplit(line.lstrip(" \t>"))
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1].strip() == "":
        columns.pop()
    return columns


def _table_rows(source: SourceFile, tokens: Sequence[Token], diagnostics: Diagnostics) -> None:
    """Body rows with more cells than the header: Markdown drops the extra cells without a word."""
    columns = 0
    # The lines where the list items enclosing the current token start: a table that begins an item shares its
    # first line with the item's marker.
    items: list[int] = []
    for token in tokens:
        if token.type == "list_item_open":
            items.append(token.map[0] if token.map is not None else -1)
        elif token.type == "list_item_close":
            items.pop()
        elif token.type == "thead_open" and token.map is not None:
            line = token.map[0]
            columns = len(_cells(source.line_text(line + 1), sum(start == line for start in items)))
        elif token.type == "tr_open" and token.map is not None and columns:
            line = token.map[0] + 1
            text = source.line_text(line)
            if text.count("|") <= columns + 1:
                continue  # too few pipes for an extra cell: no need to split the row
            extra = [cell.strip() for cell in _cells(text)[columns:] if cell.strip()]
            if extra:
                shown = quote(" | ".join(extra), 40)
                diagnostics.error(
                    Location(source.path, line, 1),
                    "E118",
                    f"this table row has cells past the table's {columns} column(s) (`{shown}`), "
                    "which Markdown drops, so they are on no card; expected as many cells as the header row. Add "
                    "the column to the header or remove the cells",
                )


def check_parsed(parsed: ParsedFile, diagnostics: Diagnostics) -> None:
    """Every line of the file is on a card, or reported."""
    source = parsed.source
    tokens = parsed.tokens
    covered, owner = _owner_map(tokens, len(source.line_starts))
    if _nesting_limit(tokens, source, diagnostics):
        return
    _swallowed(parsed, owner, diagnostics)
    _outside_notes(parsed, covered, diagnostics)
    _table_rows(source, tokens, diagnostics)
    check_references(parsed, diagnostics)
    check_entities(parsed, diagnostics)
    for note in parsed.notes:
        if note.meta is not None and note.meta.trailing is not None:
            at = source.location(note.meta.trailing)
            rest = source.line_text(at.line)[at.col - 1 :]
            diagnostics.error(
                at,
                "E116",
                f"found `{quote(rest, 40)}` after `-->` on the metadata line; Markdown drops it with the comment, "
                "so it is on no card. Expected the comment alone on its line: move the text below it, after a "
                "blank line",
                len(rest.rstrip()),
            )
