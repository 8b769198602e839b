"""Card linter: validated and rendered notes → warnings about cards that break the minimum information principle.

Each rule has a code, a name and a rationale (docs/linting.md). A note silences a rule for itself with
`ignore: [long-answer]` (or the code) in its metadata; `--strict` turns the warnings into errors. Every rule
runs in time linear in the note's text: a deck of 50 000 notes is linted as part of a normal build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from builder import figurelint
from builder.diagnostics import Diagnostics, did_you_mean
from builder.lint.enumeration import list_answer
from builder.lint.giveaway import answer_in_question
from builder.lint.note import LintNote
from builder.lint.rules import crowded_cloze, list_on_basic, long_answer, no_question
from builder.lint.sets import set_cloze
from builder.models import NoteKind, NoteSpec, RenderedNote
from builder.notetypes import LAYOUTS
from builder.parse import RawNote


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    check: Callable[[LintNote], str | None]


RULES: tuple[Rule, ...] = (
    Rule("L001", "long-answer", long_answer),
    Rule("L002", "list-on-basic", list_on_basic),
    Rule("L003", "crowded-cloze", crowded_cloze),
    Rule("L005", "no-question", no_question),
    Rule("L010", "set-cloze", set_cloze),
    Rule("L011", "list-answer", list_answer),
    Rule("L012", "answer-in-question", answer_in_question),
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
