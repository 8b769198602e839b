"""` ^block-id` at the end of a line (Obsidian's block ids), as an empty `block_ref` token.

Obsidian hides the id and uses it as a link target; a card has no links to it. It is left out of the card,
and the validator warns so the author knows it went.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from builder.mdrules.finding import Finding

_ID = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*(?=\n|$)")


def block_ref(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "^" or pos == 0 or not state.src[pos - 1].isspace():
        return False
    match = _ID.match(state.src, pos)
    if match is None:
        return False
    if not silent:
        token = state.push("block_ref", "", 0)
        token.content = match.group(1)
        token.markup = match.group(0).rstrip()
        # The space before the id belongs to it: the card's text does not end in a stray space.
        if len(state.tokens) > 1 and state.tokens[-2].type == "text":
            state.tokens[-2].content = state.tokens[-2].content.rstrip(" \t")
    state.pos = match.end()
    return True


def check(token: Token) -> Finding:
    return Finding(
        "W152",
        f"found the block id `{token.markup}`; it is a link target in Obsidian and a card has no links to it, so "
        "it is left out of the card. Remove it to silence this",
        token.markup,
        warning=True,
    )


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("text", "obsidian_block_ref", block_ref)
    md.add_render_rule("block_ref", lambda self, tokens, idx, options, env: "")
