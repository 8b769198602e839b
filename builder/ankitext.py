"""Anki's own markup in field text: written as text, it must reach the card as text.

Anki reads a few bracket forms anywhere in a card's HTML, inside code, attributes and comments included: a
`[sound:file]` becomes a play button (and the text up to the next `]` vanishes with it, even across tags),
`[anki:tts ...]...[/anki:tts]` a spoken-text button, `[anki:play:q:0]` a play button, `[latex]...[/latex]`,
`[$]...[/$]` and `[$$]...[/$$]` (any case) an image LaTeX renders on the learner's computer, and the reviewer
turns `[[type:Field]]` into an input box. A note that shows such text (a code sample, `\\[sound:x\\]`, a table
cell) would lose it. Writing the `[` as `&#91;` keeps every form a plain bracket for the browser and none of them
for Anki; the builder's own sound tags (builder.render) stay as they are. `{{type:` and `{{c1::` in a field are
not read again (Anki expands templates, not field values), and clozes are the author's on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Collection

#: The `[` of a form Anki reads; LaTeX's are matched in any case, as Anki does.
_ANKI_MARKUP = re.compile(r"\[(?=sound:|anki:|\[type:|(?i:latex\]|\$\$?\]))")


def inert(html: str, own: Collection[str] = ()) -> str:
    """`html` with every form Anki reads as markup shown as text, but the sound tags in `own` (exact tags)."""
    if "[" not in html:
        return html

    def bracket(match: re.Match[str]) -> str:
        start = match.start()
        if own and html.startswith("[sound:", start):
            end = html.find("]", start)
            if end >= 0 and html[start : end + 1] in own:
                return "["
        return "&#91;"

    return _ANKI_MARKUP.sub(bracket, html)
