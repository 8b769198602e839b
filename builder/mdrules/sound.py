"""`[sound:file.mp3]`: Anki's audio and video tag, as a `sound` token; the file is checked and shipped like an
image (builder.media), and the field gets the tag with the file's content-hash name."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

_OPEN = "[sound:"


def sound(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith(_OPEN, pos):
        return False
    end = state.src.find("]", pos + len(_OPEN))
    name = state.src[pos + len(_OPEN) : end] if end >= 0 else ""
    if not name.strip() or "\n" in name or "[" in name:
        return False
    if not silent:
        token = state.push("sound", "", 0)
        token.content = name.strip()
        token.markup = state.src[pos : end + 1]
    state.pos = end + 1
    return True


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "anki_sound", sound)
