"""The visible text of card HTML: tags, comments and invisible elements removed, entities decoded; linear time."""

from __future__ import annotations

import re
import unicodedata
from html import unescape

#: Elements whose content a card never shows.
_HIDDEN_ELEMENTS = ("script", "style", "template")
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>?")
_MEDIA = re.compile(r"<(?:img|svg|video|audio|iframe|object|embed|canvas|math|picture)\b", re.IGNORECASE)
#: A character that may draw something: anything but white space (with no-break space), the soft hyphen, the
#: combining grapheme joiner, the Braille blank and the Hangul fillers (which draw nothing whatever their
#: category says).
_INK = re.compile("[^\\s\\u00ad\\u034f\\u115f\\u1160\\u17b4\\u17b5\\u2800\\u3164\\uffa0]")
#: Categories of characters that draw nothing: format and control characters, and separators.
_NO_INK = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp"})


def _cut(html: str, start: str, end: str) -> str:
    """`html` without each `start ... end` span (to the end of the text if `end` never comes), in one pass."""
    lower = html.lower()
    parts: list[str] = []
    pos = 0
    while True:
        found = lower.find(start, pos)
        if found < 0:
            break
        parts.append(html[pos:found])
        close = lower.find(end, found + len(start))
        if close < 0:
            return "".join(parts)
        pos = close + len(end)
    parts.append(html[pos:])
    return "".join(parts)


def visible_text(html: str) -> str:
    """The characters a learner can read in `html` (tags become nothing; block structure is not kept)."""
    text = _cut(html, "<!--", "-->") if "<!--" in html else html
    if "<" in text:
        lower = text.lower()
        for element in _HIDDEN_ELEMENTS:
            if f"<{element}" in lower:
                text = _cut(text, f"<{element}", f"</{element}>")
                lower = text.lower()
    if "<" in text:
        text = _TAG.sub("", text)
    return unescape(text) if "&" in text else text


def shows_nothing(html: str) -> bool:
    """True when `html` renders blank: no media and no visible character (only spaces, zero-width characters,
    empty elements or comments)."""
    # Almost every field has a visible character among its first few: find it before looking for media.
    for ink in _INK.finditer(visible_text(html)):
        if unicodedata.category(ink.group()) not in _NO_INK:
            return False
    return _MEDIA.search(html) is None
