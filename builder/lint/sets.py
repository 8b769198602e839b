"""L010 set-cloze: a cloze card that hides one member of an unordered set and gives no cue which one.

"Metrics for binary classification: {{c1::accuracy}}, {{c2::precision}}, {{c3::recall}}" asks, on card c2,
for "the member of the set I am not showing you": recall, or any other metric, is just as right, and the
learner is graded wrong for a true answer. The rule looks at the two shapes such sets take in Markdown:

- an unordered (bullet) list whose items hold deletions, where an item is *bare* when none of its
  deletions has a hint and the text around its deletions either has fewer than CUE_WORDS content words
  (words of three letters or more that are not stopwords, see `words.py`) or has the same content words as
  the text around another item's deletions ("Teach it {{c1::...}}" / "Teach it {{c2::...}}");
- an inline enumeration: deletions separated by nothing but commas, semicolons, slashes, `and`, `or` or
  `&` (and emphasis markers), where a deletion is bare when it has no hint.

It fires when one list or one enumeration has at least SET_ITEMS bare items and they are hidden by at least
two different cloze numbers, i.e. several cards each ask for one unmarked member. Ordered lists are left
alone (the position is the cue), and so are tables (each row's other cells are its cue).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from markdown_it.token import Token

from builder import cloze
from builder.lint.note import LintNote
from builder.lint.words import content_words, words
from builder.models import NoteKind

#: Bare items a set needs before it is reported: with two, the visible partner is itself a cue.
SET_ITEMS = 3
#: Content words around an item's deletions that count as a cue ("Resilient: self-healing when ...").
CUE_WORDS = 2
_MAX_GAP = 24
_SEPARATOR = re.compile(r"[\s*_`]*(?:,\s*(?:and|or)?|;|/|&|and|or)[\s*_`]*", re.IGNORECASE)


def outermost(found: Sequence[cloze.Cloze]) -> list[cloze.Cloze]:
    """Deletions not nested in another one, in text order (scan yields outer ones before their inner ones)."""
    outer: list[cloze.Cloze] = []
    for deletion in sorted(found, key=lambda c: c.start):
        if not outer or deletion.start >= outer[-1].end:
            outer.append(deletion)
    return outer


def _around(text: str, deletions: Sequence[cloze.Cloze]) -> str:
    """The item's text with its deletions cut out: what could tell the learner which item is meant."""
    parts, pos = [], 0
    for deletion in deletions:
        parts.append(text[pos : deletion.start])
        pos = deletion.end
    parts.append(text[pos:])
    return " ".join(parts)


def _bullet_items(tokens: Sequence[Token]) -> list[list[str]]:
    """The raw inline text of each item of each bullet list (nested lists are lists of their own)."""
    stack: list[tuple[bool, list[list[str]]]] = []
    lists: list[list[str]] = []
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            stack.append((token.type == "ordered_list_open", []))
        elif token.type in ("bullet_list_close", "ordered_list_close") and stack:
            ordered, items = stack.pop()
            if not ordered:
                lists.append(["\n".join(parts) for parts in items])
        elif token.type == "list_item_open" and stack:
            stack[-1][1].append([])
        elif token.type == "inline" and stack and stack[-1][1]:
            stack[-1][1][-1].append(token.content)
    return lists


def _list_sets(tokens: Sequence[Token]) -> list[list[cloze.Cloze]]:
    """For each bullet list, the deletions of its bare items."""
    sets = []
    for items in _bullet_items(tokens):
        clozed = []
        for text in items:
            found = outermost(cloze.scan(text)[0])
            if found and not any(d.hint for d in found):
                clozed.append((tuple(content_words(words(_around(text, found)))), found))
        frames = Counter(frame for frame, _ in clozed)
        # No cue: (almost) nothing around the deletions, or the same words as around another item's.
        bare = [found for frame, found in clozed if len(frame) < CUE_WORDS or frames[frame] > 1]
        sets.append([d for item in bare for d in item] if len(bare) >= SET_ITEMS else [])
    return sets


def _inline_sets(text: str) -> list[list[cloze.Cloze]]:
    """Runs of deletions joined only by separators, each run as its bare (hint-less) deletions."""
    runs: list[list[cloze.Cloze]] = []
    for deletion in outermost(cloze.scan(text)[0]):
        gap = deletion.start - runs[-1][-1].end if runs else _MAX_GAP + 1
        # A separator is a few characters; the bound keeps the match linear on hostile whitespace.
        if gap <= _MAX_GAP and _SEPARATOR.fullmatch(text, runs[-1][-1].end, deletion.start):
            runs[-1].append(deletion)
        else:
            runs.append([deletion])
    return [[d for d in run if not d.hint] for run in runs]


def _shown(deletions: Sequence[cloze.Cloze]) -> str:
    names = [f"`{cloze.reveal(d.text)[:30]}`" for d in deletions[:4]]
    return ", ".join(names) + (", ..." if len(deletions) > 4 else "")


def set_cloze(n: LintNote) -> str | None:
    if n.spec.kind is not NoteKind.CLOZE:
        return None
    for members in (*_list_sets(n.raw.body), *_inline_sets(n.source_text)):
        cards = sorted({d.ordinal for d in members})
        if len(members) >= SET_ITEMS and len(cards) >= 2:
            shown = ", ".join(f"c{k}" for k in cards)
            return (
                f"cards {shown} each hide one member of an unordered set of {len(members)} ({_shown(members)}) "
                "and nothing on the card says which member is meant, so any other member is a right answer "
                "graded wrong; give each item its own cue (what it is or does, or a hint "
                "`{{c1::text::hint}}`), number the list if its order is the point, or split it into notes"
            )
    return None
