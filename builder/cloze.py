"""Cloze scanning: raw Markdown text → the cloze deletions in it, and the malformed ones, with offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = re.compile(r"\{\{c(\d+)::")
# Anything that looks like an attempt at a cloze: `{{c1:x}}`, `{{C1::x}}`, `{{c::x}}`, `{{ c1::x}}`.
_SUSPECT = re.compile(r"\{\{\s*[cC]\s*\d*\s*:")
_TOKEN = re.compile(r"\{\{|\}\}")


@dataclass(frozen=True)
class Cloze:
    ordinal: int
    #: Offsets of `{{` and one past `}}` in the scanned text.
    start: int
    end: int
    text: str
    hint: str | None


@dataclass(frozen=True)
class ClozeProblem:
    offset: int
    length: int
    code: str
    message: str


def _closing(text: str, start: int) -> int:
    """Offset just past the `}}` that closes the cloze opened at `start`, or -1; clozes may nest."""
    depth = 0
    for match in _TOKEN.finditer(text, start):
        if match.group() == "{{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.end()
    return -1


def scan(text: str) -> tuple[list[Cloze], list[ClozeProblem]]:
    clozes: list[Cloze] = []
    problems: list[ClozeProblem] = []
    pos = text.find("{{")
    while pos >= 0:
        opened = _OPEN.match(text, pos)
        if opened is None:
            suspect = _SUSPECT.match(text, pos)
            if suspect is not None:
                shown = text[pos : text.find("}}", pos) + 2] if "}}" in text[pos:] else suspect.group()
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                problems.append(
                    ClozeProblem(
                        pos,
                        len(suspect.group()),
                        "E050",
                        f"malformed cloze `{shown}`; expected `{{{{c1::text}}}}` or `{{{{c1::text::hint}}}}` "
                        "(lowercase c, a number from 1, two colons)",
                    )
                )
            pos = text.find("{{", pos + 2)
            continue
        ordinal = int(opened.group(1))
        end = _closing(text, pos)
        if end < 0:
            problems.append(
                ClozeProblem(
                    pos,
                    len(opened.group()),
                    "E051",
                    f"unclosed cloze `{opened.group()}`: found no matching `}}}}`; expected the deletion to end "
                    "with `}}` on the same note. Add the closing braces",
                )
            )
            pos = text.find("{{", pos + 2)
            continue
        inner = text[opened.end() : end - 2]
        # The hint is after the last top-level `::`; nested clozes keep their own colons.
        hint: str | None = None
        if "::" in inner and "{{" not in inner.rsplit("::", 1)[1]:
            inner, hint = inner.rsplit("::", 1)
        if ordinal == 0:
            problems.append(
                ClozeProblem(
                    pos,
                    len(opened.group()),
                    "E052",
                    "found cloze number `c0`; expected numbers from `c1` up, because Anki makes no card for "
                    "c0. Renumber it to c1",
                )
            )
        elif not inner.strip():
            problems.append(
                ClozeProblem(
                    pos,
                    end - pos,
                    "E050",
                    f"empty cloze `{text[pos:end]}`; expected the text to hide between `::` and `}}}}`",
                )
            )
        else:
            clozes.append(Cloze(ordinal, pos, end, inner, hint))
        # Continue inside the cloze too: nested deletions are clozes of their own.
        pos = text.find("{{", opened.end())
    return clozes, problems


def reveal(text: str) -> str:
    """The text with every deletion shown as its answer: what the note says with nothing hidden."""
    clozes, _ = scan(text)
    outer = [c for c in clozes if not any(o.start < c.start < o.end for o in clozes)]
    parts: list[str] = []
    pos = 0
    for c in outer:
        parts.append(text[pos : c.start])
        parts.append(reveal(c.text))
        pos = c.end
    parts.append(text[pos:])
    return "".join(parts)
