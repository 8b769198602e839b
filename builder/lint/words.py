"""Words as the linter compares them: lowercase runs of letters and digits, plurals folded to the singular.

Comparing normalised word sequences (not raw strings) makes "Features" match "feature" and ignores markup,
punctuation and cloze braces, which are never letters or digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

WORD = re.compile(r"[a-z0-9]+")

#: Words that carry no cue and are never a key term on their own: articles, pronouns, prepositions,
#: conjunctions, auxiliaries, and the verbs a list item starts with ("use", "add", "apply").
STOPWORDS = frozenset((
    "a", "about", "after", "all", "also", "an", "and", "any", "apply", "are", "as", "at", "be", "been", "before",
    "being", "both", "but", "by", "can", "could", "do", "does", "each", "either", "for", "from", "had", "has",
    "have", "how", "if", "in", "into", "is", "it", "its", "may", "more", "most", "no", "not", "of", "on", "one",
    "only", "or", "other", "our", "over", "same", "so", "some", "such", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "two", "under", "up", "use", "used",
    "using", "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will",
    "with", "within", "would", "yes", "you", "your", "add",
))  # fmt: skip
#: Key terms longer than this are not looked for (a repeated 7-word phrase is a sentence, not a term); the
#: bound also keeps the phrase search linear in the length of the text.
MAX_TERM_WORDS = 6
_SAME_IN_PLURAL = frozenset({"series", "species", "analysis", "basis"})


# A deck's vocabulary is a few thousand words, each looked up again and again (every note, every rule).
@lru_cache(maxsize=1 << 16)
def singular(word: str) -> str:
    """A plural folded to its singular, well enough to match "features"/"feature", "policies"/"policy"."""
    if len(word) <= 3 or word.isdigit() or word in _SAME_IN_PLURAL:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The normalised words of `text` (markup, punctuation and cloze braces drop out)."""
    return [singular(w) for w in WORD.findall(text.lower())]


def content_words(found: Iterable[str]) -> list[str]:
    """Words that can cue something: three characters or more and not a stopword."""
    return [w for w in found if len(w) >= 3 and w not in STOPWORDS]


def is_term(phrase: Sequence[str]) -> bool:
    """A phrase worth looking for: 1 to MAX_TERM_WORDS words, at least one of them a content word."""
    return 0 < len(phrase) <= MAX_TERM_WORDS and bool(content_words(phrase))


def occurrences(text: Sequence[str], terms: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], list[int]]:
    """Where each term occurs in `text`, as start indexes; one pass per distinct term length (at most
    MAX_TERM_WORDS), so linear in the text."""
    wanted = {t for t in terms if is_term(t)}
    found: dict[tuple[str, ...], list[int]] = {}
    for size in sorted({len(t) for t in wanted}):
        for start in range(len(text) - size + 1):
            window = tuple(text[start : start + size])
            if window in wanted:
                found.setdefault(window, []).append(start)
    return found
