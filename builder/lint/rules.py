"""The first card rules: answers that are too long or too list-like, crowded clozes, fronts that ask nothing."""

from __future__ import annotations

from builder import cloze
from builder.lint.note import LintNote
from builder.models import NoteKind

#: Visible characters a basic or reverse answer may have: about 25 words, three lines on a phone.
ANSWER_LIMIT = 160
#: "A handful": more list items than this on a basic card is an enumeration to split or cloze.
LIST_LIMIT = 5
#: Deletions one cloze card may hide at once before it becomes a recall-the-whole-list card.
DELETIONS_PER_CARD = 4
_PROMPT_WORDS = (
    "name", "list", "define", "explain", "describe", "give", "state", "compare", "contrast",
    "identify", "complete", "recall", "match", "order", "rank", "spell", "translate",
)  # fmt: skip


def list_items(n: LintNote) -> int:
    """Markdown list items in a basic or reverse answer (0 for clozes)."""
    return n.back_html.count("<li>") if not n.spec.kind.clozed else 0


def long_answer(n: LintNote) -> str | None:
    if n.spec.kind.clozed or len(n.back) <= ANSWER_LIMIT:
        return None
    return (
        f"the answer has {len(n.back)} characters; expected at most {ANSWER_LIMIT} (one fact per card). "
        "Split it into several notes or turn it into a cloze"
    )


def list_on_basic(n: LintNote) -> str | None:
    items = list_items(n)
    if items <= LIST_LIMIT:
        return None
    return (
        f"the answer is a list of {items} items; expected at most {LIST_LIMIT} on a basic card, because recalling "
        "a whole list fails as a unit. Make it a cloze note (one number per item) or several notes"
    )


def crowded_cloze(n: LintNote) -> str | None:
    if n.spec.kind is not NoteKind.CLOZE:
        return None
    found, _ = cloze.scan(n.source_text)
    counts: dict[int, int] = {}
    for deletion in found:
        counts[deletion.ordinal] = counts.get(deletion.ordinal, 0) + 1
    worst = max(counts, key=lambda k: (counts[k], -k))
    if counts[worst] <= DELETIONS_PER_CARD:
        return None
    return (
        f"card c{worst} hides {counts[worst]} deletions at once; expected at most {DELETIONS_PER_CARD} per card. "
        "Give the deletions their own numbers (c1, c2, ...) so each card asks one thing"
    )


def no_question(n: LintNote) -> str | None:
    if n.spec.kind is not NoteKind.BASIC:
        return None
    front = n.front.strip()
    first = front.split(" ", 1)[0].lower().strip(":")
    if front.endswith("?") or first in _PROMPT_WORDS or "?" in front:
        return None
    return (
        f"the front `{front[:60]}` does not ask anything; expected a question (ending in `?`) or a prompt such as "
        "`Name ...`. Rephrase it, or make the note `type: reverse` if it is a term to define"
    )
