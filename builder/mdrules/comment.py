"""`%%hidden text%%` (Obsidian's comments), as an `obsidian_comment` token: an error.

Obsidian hides the text; Anki has no such syntax and a card would show it. An HTML comment (`<!-- ... -->`)
stays out of sight on a card too, so the fix is one edit away.
"""

from __future__ import annotations

from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from builder.mdrules.finding import Finding


def comment(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith("%%", pos):
        return False
    end = state.src.find("%%", pos + 2)
    if end < 0:
        return False
    if not silent:
        token = state.push("obsidian_comment", "", 0)
        token.content = state.src[pos + 2 : end]
        token.markup = state.src[pos : end + 2]
    state.pos = end + 2
    return True


def check(token: Token) -> Finding:
    first = token.markup.split("\n", 1)[0]
    return Finding(
        "E164",
        f"found the Obsidian comment `{first[:40]}`; Anki would show it on the card. Write it as an HTML comment, "
        "<!-- like this -->, which stays hidden, or remove it",
        first,
    )


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("text", "obsidian_comment", comment)
    md.add_render_rule("obsidian_comment", lambda self, tokens, idx, options, env: escape(tokens[idx].markup))
