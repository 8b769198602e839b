"""`> [!note] Title` (Obsidian's callouts): a blockquote whose first line names a kind becomes a titled box.

    > [!warning] Exam trap
    > Amazon Kendra is search, not a vector database.

becomes `<div class="df-callout" data-callout="warning"><div class="df-callout-title">Exam trap</div>...`.
The title is Markdown (it may hold a cloze); without one the kind is the title ("Warning"). Any kind is
accepted, as in Obsidian; the known ones get their colour (builder.notetypes). A fold marker (`[!tip]-`) is
accepted and the callout shown open, because a card has no script to fold it.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_MARKER = re.compile(r"^\[!([A-Za-z][\w-]*)\]([+-]?)(?:[ \t]+(.*))?$")


def _closing(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting if tokens[index].type.startswith("blockquote") else 0
        if depth == 0:
            return index
    return len(tokens) - 1


def callouts(state: StateCore) -> None:
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        opening = tokens[index]
        if opening.type != "blockquote_open" or index + 2 >= len(tokens):
            index += 1
            continue
        inline = tokens[index + 2]
        if tokens[index + 1].type != "paragraph_open" or inline.type != "inline":
            index += 1
            continue
        first, _, rest = inline.content.partition("\n")
        match = _MARKER.match(first.strip())
        if match is None:
            index += 1
            continue
        kind = match.group(1).lower()
        close = _closing(tokens, index)
        opening.type, opening.tag = "callout_open", "div"
        opening.attrs = {"class": "df-callout", "data-callout": kind}
        tokens[close].type, tokens[close].tag = "callout_close", "div"
        title_text = (match.group(3) or "").strip() or kind.replace("-", " ").capitalize()
        title_open = Token("callout_title_open", "div", 1, attrs={"class": "df-callout-title"}, map=opening.map)
        title = Token("inline", "", 0, content=title_text, map=opening.map, children=[])
        title_close = Token("callout_title_close", "div", -1)
        for token in (title_open, title, title_close):
            token.level = opening.level + 1
            token.block = True
        title.block = True
        if rest.strip():
            inline.content = rest
            tokens[index + 1 : index + 1] = [title_open, title, title_close]
        else:
            # The paragraph held only the marker line: it goes, and the title takes its place.
            tokens[index + 1 : index + 4] = [title_open, title, title_close]
        index += 1


def plugin(md: MarkdownIt) -> None:
    md.core.ruler.after("block", "obsidian_callout", callouts)
