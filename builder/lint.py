"""Card linter: validated and rendered notes → warnings about cards that break the minimum information principle.

Each rule has a code, a name and a rationale (docs/linting.md). A note silences a rule for itself with
`ignore: [long-answer]` (or the code) in its metadata; `--strict` turns the warnings into errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from builder import cloze, figurelint
from builder.diagnostics import Diagnostics, did_you_mean
from builder.manifest import visible_text
from builder.models import NoteKind, NoteSpec, RenderedNote
from builder.notetypes import LAYOUTS
from builder.parse import RawNote
from builder.validate import body_text

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


@dataclass(frozen=True)
class LintNote:
    """What the rules look at; the derived texts are worked out on first use, as most rules skip most notes."""

    spec: NoteSpec
    raw: RawNote
    front: str
    back_html: str

    @cached_property
    def back(self) -> str:
        return visible_text(self.back_html)

    @cached_property
    def source_text(self) -> str:
        """The raw Markdown title and body, for rules that count deletions."""
        return self.raw.title + "\n" + body_text(self.raw)[0]


def _long_answer(n: LintNote) -> str | None:
    if n.spec.kind.clozed or len(n.back) <= ANSWER_LIMIT:
        return None
    return (
        f"the answer has {len(n.back)} characters; expected at most {ANSWER_LIMIT} (one fact per card). "
        "Split it into several notes or turn it into a cloze"
    )


def _list_on_basic(n: LintNote) -> str | None:
    items = n.back_html.count("<li>") if not n.spec.kind.clozed else 0
    if items <= LIST_LIMIT:
        return None
    return (
        f"the answer is a list of {items} items; expected at most {LIST_LIMIT} on a basic card, because recalling "
        "a whole list fails as a unit. Make it a cloze note (one number per item) or several notes"
    )


def _crowded_cloze(n: LintNote) -> str | None:
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


def _no_question(n: LintNote) -> str | None:
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


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    check: Callable[[LintNote], str | None]


RULES: tuple[Rule, ...] = (
    Rule("L001", "long-answer", _long_answer),
    Rule("L002", "list-on-basic", _list_on_basic),
    Rule("L003", "crowded-cloze", _crowded_cloze),
    Rule("L005", "no-question", _no_question),
)
DUPLICATE_FRONT = Rule("L004", "duplicate-front", lambda n: None)
RULE_NAMES = frozenset(
    {r.code for r in (*RULES, DUPLICATE_FRONT)}
    | {r.name for r in (*RULES, DUPLICATE_FRONT)}
    | {figurelint.CODE, figurelint.NAME}
)


def _ignores(rule: Rule, ignore: tuple[str, ...]) -> bool:
    return rule.code in ignore or rule.name in ignore


def lint_note(spec: NoteSpec, raw: RawNote, note: RenderedNote, diagnostics: Diagnostics) -> None:
    """The rules that look at one note; warnings become errors under --strict (the caller decides)."""
    for name in spec.lint_ignore:
        if name not in RULE_NAMES:
            diagnostics.error(
                spec.location,
                "E038",
                f"unknown linter rule `{name}` in `ignore`; expected a rule code or name from docs/linting.md, "
                f"e.g. long-answer.{did_you_mean(name, RULE_NAMES)}",
            )
    if spec.kind is NoteKind.CUSTOM:
        # A deck-defined notetype has no question and answer fields the rules could read.
        return
    back_html = note.fields[LAYOUTS[spec.kind].back_field]
    item = LintNote(spec, raw, note.front, back_html)
    for rule in RULES:
        if _ignores(rule, spec.lint_ignore):
            continue
        message = rule.check(item)
        if message is not None:
            diagnostics.warning(spec.location, rule.code, f"{message} [{rule.name}]")


def check_duplicate_fronts(notes: Sequence[tuple[RenderedNote, tuple[str, ...]]], diagnostics: Diagnostics) -> None:
    """Two notes of one deck that ask the same thing (case-insensitive); each note comes with its `ignore` list."""
    first: dict[str, RenderedNote] = {}
    for note, ignore in notes:
        front = note.front
        seen = first.setdefault(front.lower(), note)
        if seen is not note and not _ignores(DUPLICATE_FRONT, ignore):
            diagnostics.warning(
                note.location,
                DUPLICATE_FRONT.code,
                f"the front `{front[:60]}` is the same as the note at {seen.location}; expected every "
                "front to ask something different, or learners cannot tell which answer is wanted. "
                f"Make it more specific [{DUPLICATE_FRONT.name}]",
            )
