"""Inline tokenizing that asks, at each position, only the rules that can start with its character.

At a position where no rule applies (a `-` or `:` inside a sentence), markdown-it-py calls all twenty inline
rules before it keeps the character as text; here that is one dictionary lookup. And text with no character
any rule could start at (most headings, table cells and list items) becomes one text token, as markdown-it-py
would make it, without an inline state and the five post-processing rules, which would find nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MethodType

from markdown_it import MarkdownIt
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline import (
    autolink,
    backtick,
    balance_pairs,
    emphasis,
    entity,
    escape,
    fragments_join,
    html_inline,
    image,
    link,
    newline,
    strikethrough,
    text,
)
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType

from builder.mdrules import blockref, comment, embed, highlight, obsidiantag, sound, wikilink
from builder.mdspeed.triggers import declared

InlineRule = Callable[[StateInline, bool], bool]
PostRule = Callable[[StateInline], None]

#: The characters each rule's first check demands at `state.pos`; a rule that sees any other character
#: returns False without touching the state. A rule missing here is asked everywhere.
TRIGGERS: dict[InlineRule, frozenset[str]] = {
    newline: frozenset("\n"),
    escape: frozenset("\\"),
    backtick: frozenset("`"),
    strikethrough.tokenize: frozenset("~"),
    emphasis.tokenize: frozenset("_*"),
    link: frozenset("["),
    image: frozenset("!"),
    autolink: frozenset("<"),
    html_inline: frozenset("<"),
    entity: frozenset("&"),
    obsidiantag.tag: frozenset("#"),
    blockref.block_ref: frozenset("^"),
    comment.comment: frozenset("%"),
    embed.embed: frozenset("!"),
    highlight.tokenize: frozenset("="),
    sound.sound: frozenset("["),
    wikilink.wikilink: frozenset("["),
}
#: Rules made inside a plugin function, known by module and name.
NAMED_TRIGGERS: dict[tuple[str, str], frozenset[str]] = {
    ("mdit_py_plugins.dollarmath.index", "_math_inline_dollar"): frozenset("$"),
    ("builder.markdown", "_recorded_entity"): frozenset("&"),
}


#: Post-processing rules that only pair up delimiters and merge adjacent text: with one text token and no
#: delimiter they change nothing. Any other post-processing rule turns the plain-text shortcut off.
IDLE_ON_PLAIN_TEXT: frozenset[PostRule] = frozenset(
    {
        balance_pairs.link_pairs,
        strikethrough.postProcess,
        emphasis.postProcess,
        highlight.post_process,
        fragments_join,
    }
)


class _Dispatch:
    """The rules to ask at each character, for one compiled rule list of one parser."""

    def __init__(self, rules: Sequence[InlineRule], post: Sequence[PostRule], parser: ParserInline) -> None:
        self.rules = rules
        self.post = post
        self.terminators = parser.terminator_re
        self._parser = parser
        self._known = [declared(rule, TRIGGERS, NAMED_TRIGGERS) for rule in rules]
        self._by_char: dict[str, tuple[InlineRule, ...]] = {}
        before_text = self._known[: rules.index(text)] if text in rules else None
        #: Plain text is one text token when `text` takes it whole: no rule before `text` may start at a
        #: non-terminator (all declare terminator triggers) and post-processing has nothing to do.
        self.plain_text_shortcut = (
            before_text is not None
            and all(known is not None and all(parser.terminator_re.match(c) for c in known) for known in before_text)
            and all(rule in IDLE_ON_PLAIN_TEXT for rule in post)
        )

    def at(self, char: str) -> tuple[InlineRule, ...]:
        found = self._by_char.get(char)
        if found is None:
            # `text` consumes every run of non-terminators and gives up on a terminator, so a non-terminator
            # is always text unless a rule before `text` that is asked everywhere takes it first.
            terminator = self._parser.terminator_re.match(char) is not None
            found = tuple(
                rule
                for rule, known in zip(self.rules, self._known, strict=True)
                if (rule is text and not terminator) or (rule is not text and (known is None or char in known))
            )
            self._by_char[char] = found
        return found


def _dispatch(parser: ParserInline) -> _Dispatch:
    rules = parser.ruler.getRules("")
    post = parser.ruler2.getRules("")
    dispatch: _Dispatch | None = getattr(parser, "_deckforge_dispatch", None)
    # A plugin that adds rules or terminators later gets a fresh table (markdown-it recompiles its rule lists).
    if (
        dispatch is None
        or dispatch.rules is not rules
        or dispatch.post is not post
        or dispatch.terminators is not parser.terminator_re
    ):
        dispatch = _Dispatch(rules, post, parser)
        parser._deckforge_dispatch = dispatch  # type: ignore[attr-defined]
    return dispatch


def _parse(self: ParserInline, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
    """ParserInline.parse, with plain text made into its one text token directly."""
    if src and not tokens:
        dispatch = _dispatch(self)
        # Terminators no rule starts at (`-`, `:`, `{`) are kept as text one by one, into the same pending text.
        if dispatch.plain_text_shortcut and not any(map(dispatch.at, set(self.terminator_re.findall(src)))):
            token = Token("text", "", 0)
            token.content = src
            tokens.append(token)
            return tokens
    return ParserInline.parse(self, src, md, env, tokens)


def _tokenize(self: ParserInline, state: StateInline) -> None:
    """ParserInline.tokenize with the rules of each position looked up by its character."""
    at = _dispatch(self).at
    src = state.src
    end = state.posMax
    max_nesting = state.md.options["maxNesting"]
    while state.pos < end:
        pos = state.pos
        ok = False
        if state.level < max_nesting:
            for rule in at(src[pos]):
                ok = rule(state, False)
                if ok:
                    if state.pos <= pos:
                        raise RuntimeError("inline rule didn't increment state.pos")
                    break
        if ok:
            if state.pos >= end:
                break
            continue
        state.append_pending(src[state.pos])
        state.pos += 1
    if state.pending:
        state.pushPending()


def install_inline(md: MarkdownIt) -> None:
    md.inline.tokenize = MethodType(_tokenize, md.inline)  # type: ignore[method-assign]
    md.inline.parse = MethodType(_parse, md.inline)  # type: ignore[method-assign]
