"""Alt text: a note's heading and a diagram's labels in, the text alternative of its `<img>` out.

A screen reader reads the alt text in place of the picture, and a card shows it when the image does not load,
so it must say what the diagram is about and what it shows: "Diagram: <heading> Labels: A; B; C." An author's
own `alt` in the fence wins. Labels hidden by Image Occlusion are counted, never named (the alt text is on
the question side too), and clozes in the heading stay hidden.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from builder import cloze
from builder.manifest import visible_text
from builder.markdown import parser

#: Labels are listed until the alt text reaches about this many characters.
MAX_LENGTH = 400
#: A heading that already says what kind of picture it is ("Flowchart: ...", "Decision diagram: ...").
_NAMES_ITSELF = re.compile(r"^\W*(?:\w+\s+)?(?:diagram|flowchart|chart|graph|figure)\b", re.IGNORECASE)


def heading_text(title: str) -> str:
    """A note heading (inline Markdown) as plain text, each cloze shown as its hint or `[...]`."""
    clozes, _ = cloze.scan(title)
    outer = [c for c in clozes if not any(o.start < c.start < o.end for o in clozes)]
    parts: list[str] = []
    pos = 0
    for c in outer:
        parts.append(title[pos : c.start])
        parts.append(f"[{c.hint}]" if c.hint else "[...]")
        pos = c.end
    parts.append(title[pos:])
    return visible_text(parser().renderInline("".join(parts)))


def diagram_alt(heading: str, labels: Sequence[str], *, hidden: Collection[str] = (), author: str | None = None) -> str:
    """The alt text of a diagram under `heading` whose drawn texts are `labels` (in reading order).

    `hidden` are the labels an occlusion mask covers: left out and counted. `author` replaces the whole text.
    """
    if author:
        return author
    covered = {" ".join(h.split()).casefold() for h in hidden}
    shown = [label for label in labels if label.casefold() not in covered]
    masked = sum(1 for label in labels if label.casefold() in covered)
    heading = heading.strip()
    text = heading if _NAMES_ITSELF.match(heading) else f"Diagram: {heading}" if heading else "Diagram"
    tail = [f"{masked} hidden label{'s' if masked != 1 else ''}"] if masked else []
    lead = f"{text.rstrip('.')}{'' if text.endswith(('?', '!')) else '.'} Labels: "

    def written(items: list[str]) -> str:
        return f"{lead}{'; '.join(items + tail)}."

    listed: list[str] = []
    for index, label in enumerate(shown):
        more = ["…"] if index < len(shown) - 1 else []
        if len(written([*listed, label, *more])) > MAX_LENGTH:
            listed.append("…")
            break
        listed.append(label)
    if listed or tail:
        text = written(listed)
    return text
