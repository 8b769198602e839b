"""L012 answer-in-question: the question shows the very term the card asks for.

Words are compared normalised (lowercase, plurals folded, markup dropped; see `words.py`), as contiguous
phrases of up to MAX_TERM_WORDS words with at least one content word. What counts as "the answer" depends
on the card:

- basic card, and the front-to-back card of a reverse note: the answer's key terms are its bold phrases
  and its naming lead: with parentheses dropped, the words before the first `, ; . ! ?` or dash, when they
  are at most MAX_TERM_WORDS words ("Amazon Rekognition, with its content moderation feature"), split at
  `and`/`or`. A colon does not end the lead, because "Online: ..." labels an explanation rather than naming
  the answer. The card gives its answer away when a key term occurs in the front.
- back-to-front card of a reverse note: the answer is the front term without a trailing parenthesis, plus
  an abbreviation given in one ("Natural language processing (NLP)"), plus, for a proper name of two or more
  capitalised words, the name without its first word ("Amazon Translate" → "Translate"). The card gives its
  answer away when one of them occurs in the back ("A service that translates text" → Amazon Translate).
- cloze card: the answer is the text of each deletion of that card's number. The card gives it away when
  the same phrase is visible elsewhere on that card: in the title, the text outside the deletions, or in a
  deletion of another number (which that card shows).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from builder import cloze
from builder.lint.note import LintNote
from builder.lint.words import MAX_TERM_WORDS, WORD, is_term, occurrences, singular, words
from builder.models import NoteKind

_LEAD_END = re.compile(r"[;.,!?\u2013\u2014]|\s-\s")
_LEAD_JOIN = re.compile(r"\s+(?:and|or)\s+", re.IGNORECASE)
_PARENS = re.compile(r"\([^()]*\)")
#: Words trimmed from the ends of a key term: articles, and the prepositions an answer starts with.
_EDGE_WORDS = frozenset({"a", "an", "the", "with", "by", "using", "use", "via", "through"})
_BOLD = re.compile(r"<(strong|b)>(.*?)</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_OPENER = re.compile(r"\{\{c[0-9]+::")


def trim(phrase: Sequence[str]) -> tuple[str, ...]:
    """The phrase without articles and leading prepositions at its ends ("with the compiler" → "compiler");
    other small words stay, as in "no commitment" or "encoder-only"."""
    start, end = 0, len(phrase)
    while start < end and phrase[start] in _EDGE_WORDS:
        start += 1
    while end > start and phrase[end - 1] in _EDGE_WORDS:
        end -= 1
    return tuple(phrase[start:end])


def _lead_terms(back: str) -> list[tuple[str, ...]]:
    lead = _LEAD_END.split(_PARENS.sub(" ", back), maxsplit=1)[0]
    if len(WORD.findall(lead.lower())) > MAX_TERM_WORDS:
        return []
    return [trim(words(part)) for part in _LEAD_JOIN.split(lead)]


def answer_terms(back: str, back_html: str) -> list[tuple[str, ...]]:
    """The key terms of a basic answer: its bold phrases and its short lead."""
    bold = [trim(words(_TAG.sub(" ", m.group(2)))) for m in _BOLD.finditer(back_html)]
    return [t for t in (*bold, *_lead_terms(back)) if t]


def term_forms(front: str) -> list[tuple[str, ...]]:
    """What a reverse card's back-to-front direction asks for, in the forms a back could give away."""
    forms = []
    main, abbreviation = front.strip(), ""
    if main.endswith(")") and "(" in main:
        opening = main.rindex("(")
        main, abbreviation = main[:opening], main[opening + 1 : -1]
    forms.append(trim(words(main)))
    if len(WORD.findall(abbreviation.lower())) == 1:
        forms.append(trim(words(abbreviation)))
    names = main.split()
    if len(names) >= 2 and all(name[:1].isupper() for name in names):
        forms.append(trim(words(" ".join(names[1:]))))
    return [f for f in forms if f]


def _first(found: dict[tuple[str, ...], list[int]], terms: Iterable[tuple[str, ...]]) -> str | None:
    return next((" ".join(t) for t in terms if t in found), None)


@dataclass(frozen=True)
class _Shown:
    """The words of a cloze note as its cards show them (markup and hints blanked): for each word, the numbers
    of the deletions that hide it, and whether it is in the title."""

    words: list[str]
    hidden: list[frozenset[int]]
    in_title: list[bool]


def _shown(text: str, title_end: int, deletions: Sequence[cloze.Cloze]) -> _Shown:
    chars = list(text)
    spans: list[tuple[int, int, int]] = []
    for d in deletions:
        opener = _OPENER.match(text, d.start)
        assert opener is not None
        tail = 2 + (len(d.hint) + 2 if d.hint is not None else 0)
        for i in (*range(d.start, opener.end()), *range(d.end - tail, d.end)):
            chars[i] = " "
        spans.append((opener.end(), d.end - tail, d.ordinal))
    shown = _Shown([], [], [])
    # A sweep over start/end events: linear in the text plus the (small) nesting depth of each word.
    events = sorted([(s, 1, k) for s, _, k in spans] + [(e, -1, k) for _, e, k in spans])
    active: dict[int, int] = {}
    i = 0
    for match in WORD.finditer("".join(chars).lower()):
        while i < len(events) and events[i][0] <= match.start():
            _, step, k = events[i]
            active[k] = active.get(k, 0) + step
            if not active[k]:
                del active[k]  # only open deletions stay, so each word costs its nesting depth
            i += 1
        shown.words.append(singular(match.group()))
        shown.hidden.append(frozenset(active))
        shown.in_title.append(match.start() < title_end)
    return shown


def _where(shown: _Shown, start: int, size: int) -> str:
    others = sorted({k for i in range(start, start + size) for k in shown.hidden[i]})
    if others:
        return "deletion " + ", ".join(f"c{k}" for k in others)
    return "the title" if shown.in_title[start] else "the text"


def _cloze_giveaway(n: LintNote) -> str | None:
    text = n.source_text
    deletions = cloze.scan(text)[0]
    terms: dict[tuple[str, ...], set[int]] = {}
    for d in deletions:
        terms.setdefault(trim(words(cloze.reveal(d.text))), set()).add(d.ordinal)
    # A giveaway is a second occurrence of a deletion's term, besides the deletion itself, so every word of
    # the term occurs twice. The raw text has every shown word (and the `cN` and hint words on top): where no
    # term passes that count, the per-word sweep below has nothing to find.
    counts = Counter(words(text))
    if not any(is_term(term) and all(counts[w] >= 2 for w in term) for term in terms):
        return None
    shown = _shown(text, len(n.raw.title), deletions)
    for term, starts in occurrences(shown.words, terms).items():
        for card in sorted(terms[term]):
            for s in starts:
                if not any(card in shown.hidden[i] for i in range(s, s + len(term))):
                    phrase = " ".join(term)
                    return (
                        f"card c{card} hides `{phrase}` but shows it in {_where(shown, s, len(term))}, so the card "
                        "gives its answer away; reword that mention, or hide it with the same number"
                    )
    return None


def answer_in_question(n: LintNote) -> str | None:
    kind = n.spec.kind
    if kind is NoteKind.CLOZE:
        return _cloze_giveaway(n)
    if kind is NoteKind.OCCLUSION:
        return None
    keys = answer_terms(n.back, n.back_html)
    term = _first(occurrences(words(n.front), keys), keys)
    if term is not None:
        return (
            f"the answer's key term `{term}` appears in the question `{n.front[:60]}`, so the card gives its "
            "answer away; ask for it without naming it"
        )
    if kind is NoteKind.REVERSE:
        forms = term_forms(n.front)
        term = _first(occurrences(words(n.back), forms), forms)
        if term is not None:
            return (
                f"the back names `{term}`, which is what the reverse card (back → front) asks for, so that card "
                "gives its answer away; describe it without naming it"
            )
    return None
