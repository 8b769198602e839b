"""`![[file.png]]`, `![[file.png|alt text]]`, `![[file.png|300]]`, `![[clip.mp3]]`: Obsidian's embeds of media.

An image becomes an ordinary `image` token (so it is checked and shipped like `![alt](file.png)`), with the
width (and height, `|300x200`) Obsidian takes after a `|`; audio and video become a `sound` token like
`[sound:clip.mp3]`. The path is relative to media/, like every media reference (Obsidian's search of the
whole vault by file name is not done). Embedding a note, a heading or a block (`![[Note]]`, `![[Note#Part]]`)
is a `note_embed` token, an error: a card cannot pull in another note's text.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from builder.mdrules.finding import Finding
from builder.mediatypes import IMAGE_SUFFIXES, SOUND_SUFFIXES

_SIZE = re.compile(r"^\s*(\d{1,4})(?:x(\d{1,4}))?\s*$")


def embed(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith("![[", pos):
        return False
    end = state.src.find("]]", pos + 3)
    inner = state.src[pos + 3 : end] if end >= 0 else ""
    if not inner.strip() or "\n" in inner or "[" in inner:
        return False
    if not silent:
        target, _, options = inner.partition("|")
        target = target.strip()
        suffix = PurePosixPath(target).suffix.lower()
        markup = state.src[pos : end + 2]
        if "#" in target or "^" in target or not suffix or suffix == ".md":
            token = state.push("note_embed", "", 0)
        elif suffix in SOUND_SUFFIXES:
            token = state.push("sound", "", 0)
            if options:
                token.meta["options"] = options
        else:
            token = _image(state, target, options)
        token.content = target
        token.markup = markup
    state.pos = end + 2
    return True


def _image(state: StateInline, target: str, options: str) -> Token:
    parts = options.split("|") if options else []
    size = _SIZE.match(parts[-1]) if parts else None
    if size is not None:
        parts.pop()
    alt = "|".join(parts).strip()
    token = state.push("image", "img", 0)
    token.attrs = {"src": target, "alt": ""}
    if size is not None:
        token.attrs["width"] = size.group(1)
        if size.group(2):
            token.attrs["height"] = size.group(2)
    text = Token("text", "", 0)
    text.content = alt
    token.children = [text] if alt else []
    return token


def check(token: Token) -> Finding | None:
    """Only note embeds are wrong; a sound with options is reported by `sound_options`."""
    return Finding(
        "E161",
        f"found `{token.markup}`, an embed of a note, heading or block; expected an embed of a file in media/ "
        f"(an image ending in {', '.join(IMAGE_SUFFIXES)}, or audio or video), because a card cannot show another "
        "note's text. Copy the text into this note, or link it with a Markdown link to a web page",
        token.markup,
    )


def sound_options(token: Token) -> Finding | None:
    options = token.meta.get("options") if token.meta else None
    if not options:
        return None
    return Finding(
        "E162",
        f"found `|{options}` after a sound or video embed; expected `![[{token.content}]]` alone, because Anki "
        "plays the file with its own player, which has no caption or size to set",
        token.markup,
    )


def plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("image", "obsidian_embed", embed)
    md.add_render_rule("note_embed", lambda self, tokens, idx, options, env: escape_text(tokens[idx].markup))


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
