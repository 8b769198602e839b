"""The project's own Markdown rules, one rule per module, installed on the shared parser (builder.markdown).

Each module adds one construct: Anki's `[sound:...]`, and the Obsidian syntax authors bring from their vaults.
What Obsidian has and a card cannot show is still parsed, so that validation reports it where it is written
instead of the card showing it raw: a module's `check` says what is wrong with one of its tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from markdown_it import MarkdownIt
from markdown_it.token import Token

from builder.mdrules import blockref, callout, comment, embed, highlight, obsidiantag, sound, wikilink
from builder.mdrules.finding import Finding

#: In the order they are installed: `embed` must see `![[` before `wikilink` sees `[[`.
PLUGINS: tuple[Callable[[MarkdownIt], None], ...] = (
    sound.plugin,
    embed.plugin,
    wikilink.plugin,
    highlight.plugin,
    callout.plugin,
    obsidiantag.plugin,
    blockref.plugin,
    comment.plugin,
)

#: Token type → what is wrong with such a token (None: nothing), for the validator.
CHECKS: Mapping[str, Callable[[Token], Finding | None]] = {
    "sound": embed.sound_options,
    "note_embed": embed.check,
    "wikilink": wikilink.check,
    "obsidian_tag": obsidiantag.check,
    "block_ref": blockref.check,
    "obsidian_comment": comment.check,
}


def install(md: MarkdownIt) -> None:
    for plugin in PLUGINS:
        plugin(md)
