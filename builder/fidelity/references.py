"""Link reference definitions: `[label]: url "title"` lines, which Markdown turns into no block of their own.

A definition shows only as the target (and tooltip) of the links that name it. One that no link names is on
no card, though its line looks like text; a second definition of a label is never used; an Obsidian footnote
(`[^1]: text`) reads as a definition, so its text becomes a link target; and a deletion inside a definition is
in an attribute at best. Each is reported at the definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from markdown_it.token import Token

from builder import cloze
from builder.diagnostics import Diagnostics, quote
from builder.parse import ParsedFile
from builder.source import SourceFile

#: A definition's label on its first line, up to the first `]` no backslash escapes.
_LABEL = re.compile(r"\[((?:[^\]\\]|\\.)*)\]")


def _walk(tokens: Iterable[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _used_labels(tokens: Iterable[Token]) -> set[str]:
    """The normalised labels reference links and images name (the parser stores them, `store_labels`)."""
    return {
        str(token.meta["label"])
        for token in _walk(tokens)
        if token.type in ("link_open", "image") and token.meta and "label" in token.meta
    }


def _text(source: SourceFile, start: int, end: int) -> tuple[str, int]:
    """The definition's lines and the offset of their first character in the file."""
    first = source.offset(start + 1)
    last = source.offset(end + 1) if end < len(source.line_starts) else len(source.text)
    return source.text[first:last], first


def _hidden_clozes(source: SourceFile, text: str, offset: int, diagnostics: Diagnostics) -> bool:
    found = cloze.scan(text)[0]
    for deletion in found:
        diagnostics.error(
            source.location(offset + deletion.start),
            "E117",
            f"the deletion `c{deletion.ordinal}` here is inside a link reference definition, whose URL and title "
            "only become a link's attributes, so no card shows it and Anki would make an empty or no card; "
            "expected deletions in the text itself. Move it into the link text or the paragraph",
            len(f"{{{{c{deletion.ordinal}::"),
        )
    return bool(found)


def check_references(parsed: ParsedFile, diagnostics: Diagnostics) -> None:
    """Every definition is used by a link, holds no deletion and is not a footnote."""
    if not parsed.references:
        return
    source = parsed.source
    used = _used_labels(parsed.tokens)
    seen: dict[str, int] = {}
    for start, end, label in parsed.references:
        text, offset = _text(source, start, end)
        first_line = source.line_text(start + 1)
        bracket = first_line.find("[")
        at = source.location(offset + max(bracket, 0))
        shown = quote(first_line[max(bracket, 0) :].strip(), 40)
        # The label as written: the parser's label is normalised (case-folded, spaces collapsed).
        written = _LABEL.match(first_line, max(bracket, 0))
        name = quote(written.group(1), 30) if written else label
        first = seen.setdefault(label, start)
        if _hidden_clozes(source, text, offset, diagnostics):
            continue
        if label.startswith("^"):
            diagnostics.error(
                at,
                "E118",
                f"found the footnote `{shown}`; footnotes are not supported: Markdown reads the line as a link "
                f"definition, so `[{name}]` links to its text and no card shows that text. Expected the text in "
                "the note itself: write it after the sentence, in parentheses, or as a sentence of its own",
                len(first_line.rstrip()) - max(bracket, 0),
            )
        elif first != start:
            diagnostics.error(
                at,
                "E118",
                f"the link definition `{shown}` defines `[{name}]` again (first on line {first + 1}); Markdown "
                "keeps the first and drops this one, so it is on no card. Expected each label defined once: "
                "rename one of them (and its links) or remove this one",
                len(first_line.rstrip()) - max(bracket, 0),
            )
        elif label not in used:
            diagnostics.error(
                at,
                "E118",
                f"the link definition `{shown}` is on no card: Markdown shows a definition only as the target of "
                f"a link that names it, and no link in the file names `[{name}]`. Expected a link such as "
                f"`[text][{name}]`; to show the line as written, start it with `\\[`, or remove it",
                len(first_line.rstrip()) - max(bracket, 0),
            )
