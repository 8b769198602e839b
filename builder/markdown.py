"""The one Markdown dialect of the project: a configured markdown-it-py parser shared by parse and render."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.reference import reference
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.entity import entity
from markdown_it.utils import OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from builder import mdrules, mdspeed
from builder.source import CONTROL


class _Options(dict[str, Any], OptionsDict):
    """markdown-it's options with the lookups of a plain dict.

    The parser and renderer read an option about 25 times per note (`options.get("html")` for every HTML
    candidate, `options["xhtmlOut"]` for every tag). OptionsDict answers through Python-level Mapping methods;
    this class inherits dict's C methods first and keeps OptionsDict's attribute properties (`maxNesting`,
    ...), which read `_options`: itself. Parsing and rendering got about a tenth faster.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        dict.__init__(self, options)
        self._options = self  # type: ignore[assignment]


def _no_trace(*args: object, **kwargs: object) -> None:
    """Stands in for `Logger.debug` on markdown-it's loggers."""


def _silence_rule_tracing() -> None:
    """Make markdown-it's per-rule DEBUG calls free, unless someone asked to see them.

    Every block rule starts with `LOGGER.debug("entering ...")`: about 45 calls per note. With DEBUG off each
    call still costs two Python calls (`debug`, `isEnabledFor`), which was a fifth of parsing time. A logger
    whose DEBUG output is enabled when the parser is built keeps its real `debug`.
    """
    for name, logger in logging.root.manager.loggerDict.items():
        # Placeholders stand for package names no module logs under.
        if (
            isinstance(logger, logging.Logger)
            and name.startswith("markdown_it.")
            and not logger.isEnabledFor(logging.DEBUG)
        ):
            logger.debug = _no_trace  # type: ignore[method-assign]


#: The key under which parsing records, in its env, each link reference definition: its lines and its
#: normalised label.
REFERENCE_LINES = "deckforge_reference_lines"


def _recorded_reference(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's reference rule, recording the lines it consumes and the label it defines: a definition
    leaves no token behind, and builder.fidelity must tell its lines from lines that vanished, and a
    definition some link uses from one that shows nowhere."""
    defined = len(state.env.get("references", ()))
    found = reference(state, start, end, silent)
    if found and not silent:
        references = state.env["references"]
        # A new label is the last key of the (ordered) dict; a label defined again goes to duplicate_refs.
        label = next(reversed(references)) if len(references) > defined else state.env["duplicate_refs"][-1]["label"]
        state.env.setdefault(REFERENCE_LINES, []).append((start, state.line, label))
    return found


#: The key under which parsing records, in its env, each numeric character reference Markdown decodes to a
#: character no card can show: (the inline text, the reference's offset in it, the reference).
BAD_ENTITIES = "deckforge_bad_entities"


def unshowable(code: int) -> bool:
    """Whether a character reference to `code` gives no character a card can show: one markdown-it (or an HTML
    parser) replaces with U+FFFD (NUL, surrogates, noncharacters, past U+10FFFF), or a control character."""
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return True
    if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return True
    return CONTROL.fullmatch(chr(code)) is not None


def _recorded_entity(state: StateInline, silent: bool) -> bool:
    """markdown-it's entity rule, recording the numeric references it decodes to a character no card shows:
    it puts U+FFFD or the control character in the text without a word, and only here is it known that the
    text came from a reference (in a code span the same characters are shown as written)."""
    pos = state.pos
    found = entity(state, silent)
    if found and not silent and state.src.startswith("&#", pos):
        written = state.src[pos : state.pos]
        digits = written[2:-1]
        code = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
        if unshowable(code):
            state.env.setdefault(BAD_ENTITIES, []).append((state.src, pos, written))
    return found


@cache
def parser() -> MarkdownIt:
    """The project's parser (see `make_parser`), built once per process."""
    return make_parser()


def make_parser(*, dispatch: bool = True) -> MarkdownIt:
    """CommonMark plus tables, strikethrough, front matter, `$`/`$$` math and the rules of builder.mdrules:
    Anki's `[sound:...]` and Obsidian's embeds, links, highlights, callouts, tags, block ids and comments.

    Raw HTML stays enabled because Anki fields are HTML and authors use the odd `<sub>` or `<br>`; the
    validator rejects scripts. Typographer and linkify stay off so the text a learner sees is the text
    the author typed.
    """
    # store_labels: a reference link names the definition it uses (token.meta["label"]), so builder.fidelity
    # can report definitions no link uses; the HTML is the same.
    md = MarkdownIt("commonmark", {"html": True, "typographer": False, "store_labels": True})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    # allow_space=False and allow_digits=False keep "$5 and $10" as prices instead of math.
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    md.block.ruler.at("reference", _recorded_reference)
    md.inline.ruler.at("entity", _recorded_entity)
    mdrules.install(md)
    if dispatch:
        # Same rules, same tokens, fewer calls; dispatch=False is markdown-it-py's own loop, for comparison.
        mdspeed.install(md)
    md.options = _Options(md.options)
    _silence_rule_tracing()
    return md
