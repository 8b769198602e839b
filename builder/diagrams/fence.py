"""Diagram fence info: the text after a diagram fence's language (```mermaid alt="...") in, its settings out.

The only setting is `alt`, the diagram's text alternative for screen readers and for a card whose image does
not load. Values are quoted with `"` or `'`; anything else after the language is a problem the author has to
fix, so a typo (`atl=`) never silently falls back to the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Settings a diagram fence accepts after its language.
KEYS = ("alt",)
#: The longest alt text worth reading out; longer belongs in the note's text.
MAX_ALT = 500
_ATTRIBUTE = re.compile(r"""([A-Za-z][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class FenceInfo:
    lang: str
    #: The author's alt text, whitespace collapsed; None when the fence gives none.
    alt: str | None = None


@dataclass(frozen=True)
class InfoProblem:
    #: 0-based offset of the problem in the info string.
    offset: int
    length: int
    message: str


def parse_fence_info(info: str) -> tuple[FenceInfo, list[InfoProblem]]:
    """The settings in a fence's info string, and every problem with them (the settings are then partial)."""
    match = _WORD.search(info)
    if match is None:
        return FenceInfo(""), []
    lang = match.group().lower()
    values: dict[str, str] = {}
    problems: list[InfoProblem] = []
    pos = match.end()
    while True:
        word = _WORD.search(info, pos)
        if word is None:
            break
        attribute = _ATTRIBUTE.match(info, word.start())
        if attribute is None:
            problems.append(
                InfoProblem(
                    word.start(),
                    len(word.group()),
                    f"found `{word.group()[:40]}` after the diagram's language; expected settings written "
                    'key="value", e.g. alt="What the diagram shows". Quote the value',
                )
            )
            pos = word.end()
            continue
        key = attribute.group(1)
        value = attribute.group(2) if attribute.group(2) is not None else attribute.group(3) or ""
        problem = _check(key, value, values)
        if problem is not None:
            problems.append(InfoProblem(attribute.start(), attribute.end() - attribute.start(), problem))
        else:
            values[key] = " ".join(value.split())
        pos = attribute.end()
    return FenceInfo(lang, values.get("alt")), problems


def _check(key: str, value: str, seen: dict[str, str]) -> str | None:
    if key not in KEYS:
        hint = " (a diagram's text alternative is `alt`)" if key.lower() in ("title", "caption", "alt") else ""
        return f"unknown diagram setting `{key}`; expected one of: {', '.join(KEYS)}{hint}"
    if key in seen:
        return f"`{key}` is given twice; expected it once. Remove one"
    text = " ".join(value.split())
    if not text:
        return (
            "found an empty alt text; expected words that say what the diagram shows, because screen readers "
            "read it out. Write one, or remove `alt` to get the note's heading and the diagram's labels"
        )
    if len(text) > MAX_ALT:
        return f"the alt text has {len(text)} characters; expected at most {MAX_ALT}. Shorten it"
    if "{{" in text:
        return "found `{{` in the alt text; expected plain text, because a cloze there would show in the image tag"
    return None
