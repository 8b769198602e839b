"""`#tag` in the text (Obsidian's inline tags), as an `obsidian_tag` token shown as written.

Anki keeps tags beside a note, not in its text, so an inline tag would be a word on the card that tags nothing.
The validator warns and says to move it to `tags:`. Obsidian's rule for what is a tag: `#` after a space or at
the start of a line, then letters, digits, `_`, `-` or `/`, not only digits (`#1` is not a tag).
"""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from builder.mdrules.finding import Finding

_TAG = re.compile(r"#([\w/-]*[^\W\d][\w/-]*|[\w/-]*[_/-][\w/-]*)")


def tag(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "#" or (pos > 0 and not state.src[pos - 1].isspace()):
        return False
    match = _TAG.match(state.src, pos)
    if match is None:
        return False
    if not silent:
        token = state.push("obsidian_tag", "", 0)
        token.content = match.group(0)
        token.markup = match.group(0)
    state.pos = match.end()
    return True


def check(token: Token) -> Finding:
    name = token.content[1:].replace("/", "::")
    return Finding(
        "W151",
        f"found the Obsidian tag `{token.content}` in the text; Anki keeps tags outside a card's text, so it shows "
        f"as a word and tags nothing. Move it to the note's `tags: [{name}]` (`/` becomes `::`)",
        token.content,
        warning=True,
    )


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("text", "obsidian_tag", tag)
    md.add_render_rule("obsidian_tag", lambda self, tokens, idx, options, env: escape(tokens[idx].content))
