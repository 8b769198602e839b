"""L011 list-answer: a basic or reverse answer that enumerates more than ENUMERATION_LIMIT items.

"How the text is spoken: pauses, emphasis, speaking rate, pitch, whispering and pronunciation" is a list
answer written as prose. The rule counts an answer's items as its Markdown list items or, in prose, the
parts of its longest enumeration: within one clause (clauses end at `. ; : ! ?`, brackets and dashes), parts
separated by commas with the last joined by `and`/`or` (only the last part is split at `and`/`or`), at
least two commas, and every inner part at most
ITEM_WORDS words long (the first and last part may carry the sentence's lead-in and tail). Examples
introduced by "e.g.", "for example", "such as", "including" or "like" are not counted: they illustrate, they
are not asked for. Lists longer than LIST_LIMIT are left to L002.
"""

from __future__ import annotations

import re

from builder.lint.note import LintNote
from builder.lint.rules import LIST_LIMIT, list_items
from builder.lint.words import WORD

#: Items a basic answer may enumerate: three can be recalled as one fact, four or more are a list.
ENUMERATION_LIMIT = 3
#: Words an inner enumeration item may have; longer parts are clauses of a sentence, not list items.
ITEM_WORDS = 5
_EXAMPLES = re.compile(r"\b(?:e\.g\.|for example|for instance|such as|including|like)[^.;:!?()\[\]]*", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;:!?\u2013\u2014]|\s-\s")
_ASIDE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_COMMA = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?", re.IGNORECASE)
_LAST_JOIN = re.compile(r"\s+(?:and|or|&)\s+", re.IGNORECASE)


def _clauses(text: str) -> list[str]:
    """Clauses of `text`, with each bracketed aside as a clause of its own and cut out of the one around it, so
    "your data, who can access it (IAM), encryption, ..." stays one enumeration."""
    asides = _ASIDE.findall(text)
    return [c for part in (_ASIDE.sub(" ", text), *asides) for c in _CLAUSE.split(part)]


def _run(sizes: list[int]) -> int:
    """The longest run of parts whose inner members are at most ITEM_WORDS words (its two ends may be longer:
    they carry the sentence's lead-in and tail)."""
    best, start = 0, 0
    for end in range(len(sizes)):
        best = max(best, end - start + 1)
        if sizes[end] > ITEM_WORDS:
            start = end  # a long part can end one run and begin the next, never sit inside one
    return best


def prose_items(text: str) -> int:
    """Parts of the longest enumeration in one clause of `text` (0 when it has none)."""
    if text.count(",") < 2:
        return 0  # no clause of it can hold the two commas an enumeration needs
    best = 0
    for clause in _clauses(_EXAMPLES.sub(" ", text)):
        if clause.count(",") < 2:
            continue
        parts = [p for p in _COMMA.split(clause.strip()) if p]
        # "a, b, c and d": only the last part is split at its `and`/`or`, so "key policy and rotation, ..."
        # stays one item.
        joins = list(_LAST_JOIN.finditer(parts[-1])) if parts else []
        if joins:
            last = parts.pop()
            parts += [p for p in (last[: joins[-1].start()], last[joins[-1].end() :]) if p]
        best = max(best, _run([len(WORD.findall(p.lower())) for p in parts]))
    return best


def list_answer(n: LintNote) -> str | None:
    if n.spec.kind.clozed:
        return None
    in_list = list_items(n)
    if in_list > LIST_LIMIT:
        return None
    in_prose = prose_items(n.back)
    items = max(in_list, in_prose)
    if items <= ENUMERATION_LIMIT:
        return None
    shape = "a list" if in_list >= in_prose else "an enumeration"
    return (
        f"the answer is {shape} of {items} items; expected at most {ENUMERATION_LIMIT}, because recalling a set "
        "fails as soon as one member is forgotten, and then the whole card is failed again. Ask for one item per "
        "card (a cloze with a cue per item, or several notes), or keep the answer to the one fact the front asks"
    )
