"""Block tokenizing that asks, at each line, only the rules that can start with its first character.

A paragraph line is offered to every block rule before the paragraph rule takes it; most of them look at
the line's first non-blank character and give up. Here that character picks the rules to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MethodType

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import blockquote, fence, heading, hr, html_block, list_block, reference
from markdown_it.rules_block.state_block import StateBlock
from mdit_py_plugins.front_matter.index import _front_matter_rule

from builder.mdspeed.triggers import declared

BlockRule = Callable[[StateBlock, int, int, bool], bool]

_LIST_MARKERS = frozenset("*-+0123456789")
#: The first non-blank character of the line each rule demands; with any other it returns False without
#: touching the state. A rule missing here (table, code, lheading, paragraph, plugins') is asked at every line.
TRIGGERS: dict[BlockRule, frozenset[str]] = {
    # Front matter also demands line 0, whose first character is then the file's first.
    _front_matter_rule: frozenset("-"),
    fence: frozenset("`~"),
    blockquote: frozenset(">"),
    hr: frozenset("*-_"),
    list_block: _LIST_MARKERS,
    reference: frozenset("["),
    html_block: frozenset("<"),
    heading: frozenset("#"),
}
NAMED_TRIGGERS: dict[tuple[str, str], frozenset[str]] = {
    ("mdit_py_plugins.dollarmath.index", "_math_block_dollar"): frozenset("$"),
    ("builder.markdown", "_recorded_reference"): frozenset("["),
}


class _Dispatch:
    def __init__(self, rules: Sequence[BlockRule]) -> None:
        self.rules = rules
        self._known = [declared(rule, TRIGGERS, NAMED_TRIGGERS) for rule in rules]
        self._by_char: dict[str, tuple[BlockRule, ...]] = {}

    def at(self, char: str) -> tuple[BlockRule, ...]:
        found = self._by_char.get(char)
        if found is None:
            found = tuple(
                rule for rule, known in zip(self.rules, self._known, strict=True) if known is None or char in known
            )
            self._by_char[char] = found
        return found


def _tokenize(self: ParserBlock, state: StateBlock, startLine: int, endLine: int) -> None:
    """ParserBlock.tokenize with the rules of each line looked up by its first non-blank character."""
    rules = self.ruler.getRules("")
    dispatch: _Dispatch | None = getattr(self, "_deckforge_dispatch", None)
    if dispatch is None or dispatch.rules is not rules:
        dispatch = _Dispatch(rules)
        self._deckforge_dispatch = dispatch  # type: ignore[attr-defined]
    at = dispatch.at
    src = state.src
    line = startLine
    max_nesting = state.md.options.maxNesting
    has_empty_lines = False
    while line < endLine:
        state.line = line = state.skipEmptyLines(line)
        if line >= endLine:
            break
        if state.sCount[line] < state.blkIndent:
            break
        if state.level >= max_nesting:
            state.line = endLine
            break
        ok = False
        # The line is not empty (skipped above), so it has a first non-blank character.
        for rule in at(src[state.bMarks[line] + state.tShift[line]]):
            ok = rule(state, line, endLine, False)
            if ok:
                if state.line <= line:
                    raise RuntimeError("block rule didn't increment state.line")
                break
        if not ok:
            raise RuntimeError("none of the block rules matched")
        state.tight = not has_empty_lines
        line = state.line
        if (line - 1) < endLine and state.isEmpty(line - 1):
            has_empty_lines = True
        if line < endLine and state.isEmpty(line):
            has_empty_lines = True
            line += 1
            state.line = line


def install_block(md: MarkdownIt) -> None:
    md.block.tokenize = MethodType(_tokenize, md.block)  # type: ignore[method-assign]
