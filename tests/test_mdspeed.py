"""builder.mdspeed makes the same tokens as markdown-it-py's own tokenizers, on every kind of input we have.

The dispatching tokenizers skip the rules that cannot start at a character; a wrong trigger set would drop or
change markup silently (a link kept as text, a list read as a paragraph). So the whole token stream, every
field of every token and child, is compared with markdown-it-py's loop on the parser with the same rules:
every Markdown file in the repository (the AWS deck, the docs, the fixtures, the hostile inputs), the
benchmark corpus, and generated text made of the characters the rules look for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from builder.markdown import make_parser, parser
from tests.bench.corpus import file_text

REPO = Path(__file__).resolve().parents[1]
STOCK = make_parser(dispatch=False)
FAST = make_parser()


def _tokens(md: MarkdownIt, text: str) -> list[dict[str, Any]]:
    env: dict[str, Any] = {}
    found = [token.as_dict() for token in md.parse(text, env)]
    return [*found, {"env": env}]


def _markdown_files() -> list[Path]:
    skip = {".git", ".nox", "node_modules", "dist", ".cache"}
    return sorted(p for p in REPO.rglob("*.md") if not skip & set(p.relative_to(REPO).parts))


def test_the_build_uses_the_dispatching_tokenizers() -> None:
    md = parser()
    assert md.inline.tokenize.__func__ is not type(md.inline).tokenize  # type: ignore[attr-defined]
    assert md.block.tokenize.__func__ is not type(md.block).tokenize  # type: ignore[attr-defined]
    # Plain text goes through the shortcut and still becomes markdown-it's one text token.
    assert _tokens(FAST, "What does the model do?") == _tokens(STOCK, "What does the model do?")


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_same_tokens_on_every_markdown_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert _tokens(FAST, text) == _tokens(STOCK, text)


def test_same_tokens_on_the_benchmark_corpus() -> None:
    for index in range(12):
        text = file_text(index, index * 100, index * 100 + 100)
        assert _tokens(FAST, text) == _tokens(STOCK, text)


#: Every character some block or inline rule starts at, plus text, blanks and line breaks.
_MARKUP = [*"#*_-+=~`$%^&!<>[]()|:\\{}\"'/.0123456789", "\n", "\n\n", "  ", "    ", "\t", "word", "é", "c1::"]
_LINES = [
    "# h",
    "## h",
    "> q",
    "- a",
    "1. a",
    "2) b",
    "```",
    "~~~",
    "$$",
    "---",
    "***",
    "| a | b |",
    "|---|---|",
    "[x]: /u",
    "<div>",
    "<!-- c -->",
    "    code",
    "===",
    "> [!note] t",
    "![[a.png]]",
    "[[page]]",
    "[sound:a.mp3]",
    "==m==",
    "%%c%%",
    "#tag",
    "^block",
    "",
]


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_MARKUP), max_size=40))
def test_same_tokens_on_generated_inline_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert _tokens(FAST, text) == _tokens(STOCK, text)


#: Documents of up to 14 lines, each a block opener followed by a few markup characters.
_BLOCKS = st.lists(st.tuples(st.sampled_from(_LINES), st.lists(st.sampled_from(_MARKUP), max_size=6)), max_size=14).map(
    lambda lines: "\n".join(head + "".join(tail) for head, tail in lines)
)
_GENERATED = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_GENERATED
@given(_BLOCKS)
def test_same_tokens_on_generated_blocks(text: str) -> None:
    assert _tokens(FAST, text) == _tokens(STOCK, text)


def _html(md: MarkdownIt, text: str) -> str:
    # The same token stream for both, rendered by each parser's renderer with markdown-it's default rules.
    return md.renderer.render(STOCK.parse(text, {}), md.options, {})


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_same_html_on_every_markdown_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert _html(FAST, text) == _html(STOCK, text)


@_GENERATED
@given(_BLOCKS)
def test_same_html_on_generated_blocks(text: str) -> None:
    assert _html(FAST, text) == _html(STOCK, text)


def test_rules_added_later_are_asked() -> None:
    """A rule installed after the dispatching tokenizers (by a plugin, say) is asked like any other."""
    md = make_parser()
    md.parse("a ~ b", {})  # the tables are built now

    def tilde(state: Any, silent: bool) -> bool:
        if state.src[state.pos] != "~":
            return False
        if not silent:
            state.push("tilde", "", 0)
        state.pos += 1
        return True

    md.inline.ruler.before("text", "tilde", tilde)
    kinds = [child.type for child in md.parse("a ~ b", {})[1].children or []]
    assert "tilde" in kinds
