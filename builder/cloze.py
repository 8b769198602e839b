"""Cloze scanning: raw Markdown text → the cloze deletions in it, and the malformed ones, with offsets.

One left-to-right pass with a stack of open braces, so a text of any size costs time linear in its length
(32,000 unclosed `{{c1::` once took minutes when every opening rescanned the rest of the text). A `{{` that
does not open a cloze still counts for nesting, so `{{c1::a {{b}} c}}` is one deletion; the hint of a
deletion is what follows the first `::` at its own level, as Anki reads it, so a nested deletion's own
`::hint` never cuts the outer one short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: Anki keeps a cloze number as a 16-bit card ordinal plus one: `c65536` and above make no card (or no import).
MAX_ORDINAL = 65_535
# ASCII digits only: Anki reads a number in another script's digits (Arabic-Indic, full-width), which `\d` takes, as
# no cloze at all.
_OPEN = re.compile(r"\{\{c([0-9]+)::")
# Anything that looks like an attempt at a cloze: `{{c1:x}}`, `{{C1::x}}`, `{{c::x}}`, `{{ c1::x}}`.
_SUSPECT = re.compile(r"\{\{\s*[cC]\s*\d*\s*:")
_TOKEN = re.compile(r"\{\{|\}\}|::")
#: How much of a malformed cloze a message quotes.
_SHOWN = 40


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


@dataclass
class _Open:
    """A `{{` waiting for its `}}`: a cloze opening (ordinal set) or plain braces (ordinal None)."""

    start: int
    #: Offset just past `{{cN::` (or `{{`).
    body: int
    ordinal: int | None
    #: Offset of the first `::` at this level, which starts the hint.
    hint: int = -1


def _shorten(text: str) -> str:
    text = text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
    return text.replace("\n", "\\n")


def _ordinal(digits: str) -> int | None:
    """The cloze number, or None past Anki's limit (checked on the digits first: `int()` of 5,000 digits fails)."""
    if len(digits) > len(str(MAX_ORDINAL)):
        return None
    value = int(digits)
    return value if value <= MAX_ORDINAL else None


def _suspect(text: str, pos: int) -> ClozeProblem | None:
    suspect = _SUSPECT.match(text, pos)
    if suspect is None:
        return None
    close = text.find("}}", pos, pos + 200)
    shown = text[pos : close + 2] if close >= 0 else suspect.group()
    return ClozeProblem(
        pos,
        len(suspect.group()),
        "E050",
        f"malformed cloze `{_shorten(shown)}`; expected `{{{{c1::text}}}}` or `{{{{c1::text::hint}}}}` "
        "(lowercase c, a number from 1 in the digits 0-9, two colons)",
    )


def _closed(text: str, frame: _Open, end: int) -> Cloze | ClozeProblem | None:
    """The deletion that `}}` at `end` closes, or its problem."""
    assert frame.ordinal is not None
    if frame.ordinal == 0:
        return ClozeProblem(
            frame.start,
            frame.body - frame.start,
            "E052",
            "found cloze number `c0`; expected numbers from `c1` up, because Anki makes no card for c0. "
            "Renumber it to c1",
        )
    inner_end = frame.hint if frame.hint >= 0 else end - 2
    inner = text[frame.body : inner_end]
    hint = text[frame.hint + 2 : end - 2] if frame.hint >= 0 else None
    if not inner.strip():
        return ClozeProblem(
            frame.start,
            end - frame.start,
            "E050",
            f"empty cloze `{_shorten(text[frame.start : end])}`; expected the text to hide between `::` and `}}}}`",
        )
    return Cloze(frame.ordinal, frame.start, end, inner, hint)


def scan(text: str) -> tuple[list[Cloze], list[ClozeProblem]]:
    """Every deletion in `text` in order of its opening, and every problem found, in one linear pass."""
    # Every deletion and every problem starts at a `{{`: most texts have none.
    if "{{" not in text:
        return [], []
    clozes, problems = _scan(text)
    return list(clozes), list(problems)


# Validation, rendering checks and three lint rules scan the same note text one after another.
@lru_cache(maxsize=64)
def _scan(text: str) -> tuple[tuple[Cloze, ...], tuple[ClozeProblem, ...]]:
    clozes: list[tuple[int, Cloze]] = []
    problems: list[ClozeProblem] = []
    stack: list[_Open] = []
    pos = 0
    while True:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        token, at = match.group(), match.start()
        pos = match.end()
        if token == "::":
            top = stack[-1] if stack else None
            if top is not None and top.ordinal is not None and top.hint < 0:
                top.hint = at
        elif token == "}}":
            if not stack:
                continue
            frame = stack.pop()
            if frame.ordinal is None:
                continue
            found = _closed(text, frame, pos)
            if isinstance(found, Cloze):
                clozes.append((frame.start, found))
            elif found is not None:
                problems.append(found)
        else:
            opened = _OPEN.match(text, at)
            if opened is None:
                problem = _suspect(text, at)
                if problem is not None:
                    problems.append(problem)
                stack.append(_Open(at, pos, None))
                continue
            ordinal = _ordinal(opened.group(1))
            if ordinal is None:
                problems.append(
                    ClozeProblem(
                        at,
                        opened.end() - at,
                        "E111",
                        f"found cloze number `c{_shorten(opened.group(1))}`; expected a number from 1 to "
                        f"{MAX_ORDINAL:,}, because Anki stores the card of a cloze number in 16 bits. "
                        "Renumber the deletion",
                    )
                )
                # Still a deletion for nesting; its own text is not scanned as a cloze of its own.
                stack.append(_Open(at, opened.end(), None))
            else:
                stack.append(_Open(at, opened.end(), ordinal))
            pos = opened.end()
    for frame in stack:
        if frame.ordinal is not None:
            problems.append(
                ClozeProblem(
                    frame.start,
                    frame.body - frame.start,
                    "E051",
                    f"unclosed cloze `{text[frame.start : frame.body]}`: found no matching `}}}}`; expected the "
                    "deletion to end with `}}` on the same note. Add the closing braces",
                )
            )
    clozes.sort(key=lambda item: item[0])
    problems.sort(key=lambda p: p.offset)
    return tuple(c for _, c in clozes), tuple(problems)


def reveal(text: str) -> str:
    """The text with every deletion shown as its answer: what the note says with nothing hidden."""
    clozes, _ = scan(text)
    # Cut out every `{{cN::` and every `::hint}}` (or `}}`); a cut inside another one is already gone.
    cuts: list[tuple[int, int]] = []
    for c in clozes:
        body = text.index("::", c.start) + 2
        cuts.append((c.start, body))
        cuts.append((c.end - 2 - (len(c.hint) + 2 if c.hint is not None else 0), c.end))
    cuts.sort()
    parts: list[str] = []
    pos = 0
    for start, end in cuts:
        if start > pos:
            parts.append(text[pos:start])
        pos = max(pos, end)
    parts.append(text[pos:])
    return "".join(parts)
