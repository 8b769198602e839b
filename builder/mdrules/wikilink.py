"""`[[Note]]`, `[[Note|shown text]]`, `[[Note#Heading]]`: Obsidian's links between notes, as `wikilink` tokens.

A card cannot link to another note (Anki has no address for it), so the link shows as its text: the alias
when there is one, else the note's name (`Note › Heading` for a heading, the note for a block). The validator
warns, so the author knows the link is gone and can write plain text instead.
"""

from __future__ import annotations

from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from builder.mdrules.finding import Finding


def shown_text(target: str, alias: str) -> str:
    if alias.strip():
        return alias.strip()
    note, _, anchor = target.partition("#")
    anchor = "" if anchor.startswith("^") else anchor.strip()
    parts = [part for part in (note.strip(), anchor) if part]
    return " › ".join(parts)


def wikilink(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith("[[", pos):
        return False
    end = state.src.find("]]", pos + 2)
    inner = state.src[pos + 2 : end] if end >= 0 else ""
    if not inner.strip() or "\n" in inner or "[" in inner or "]" in inner:
        return False
    target, _, alias = inner.partition("|")
    text = shown_text(target, alias)
    if not text:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.content = text
        token.markup = state.src[pos : end + 2]
    state.pos = end + 2
    return True


def check(token: Token) -> Finding:
    return Finding(
        "W150",
        f"found the wikilink `{token.markup}`; a card cannot link to another note, so it shows the text "
        f"`{token.content}`. Write the text without brackets, or link a web page with [text](https://...)",
        token.markup,
        warning=True,
    )


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "obsidian_wikilink", wikilink)
    md.add_render_rule("wikilink", lambda self, tokens, idx, options, env: escape(tokens[idx].content, quote=False))
