"""The project's Markdown rules (builder/mdrules/), one fixture file each: Markdown in, the field's HTML out.

Each file in fixtures/markdown is in markdown-it's fixture format (a title, then input and expected HTML
between `.` lines) and is rendered by the builder's own renderer, media resolved in fixtures/notekinds/media,
so the HTML is what a card's field holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it.token import Token
from markdown_it.utils import read_fixture_file

from builder import mdrules
from builder.figures import Figures
from builder.markdown import parser
from builder.media import MediaLibrary
from builder.render import _renderer
from tests.conftest import FIXTURES

FOLDER = FIXTURES / "markdown"
#: The token each rule makes: its fixture file's first case must make one.
TOKENS = {
    "blockref": "block_ref",
    "callout": "callout_open",
    "comment": "obsidian_comment",
    "embed": "image",
    "highlight": "mark_open",
    "obsidiantag": "obsidian_tag",
    "sound": "sound",
    "wikilink": "wikilink",
}
CASES = [
    pytest.param(path, line, source, expected, id=f"{path.stem}:{line}")
    for path in sorted(FOLDER.glob("*.md"))
    for line, _title, source, expected in read_fixture_file(path)
]


def _render(source: str) -> str:
    env = {"media": MediaLibrary(FIXTURES / "notekinds" / "media"), "used": {}, "figures": Figures(), "path": "x.md"}
    return _renderer().render(parser().parse(source), parser().options, env)


def _types(tokens: list[Token]) -> set[str]:
    found = set()
    for token in tokens:
        found.add(token.type)
        found |= _types(token.children or [])
    return found


def test_every_rule_has_a_fixture_file() -> None:
    modules = {plugin.__module__.rsplit(".", 1)[1] for plugin in mdrules.PLUGINS}
    assert modules == {path.stem for path in FOLDER.glob("*.md")} == set(TOKENS)


@pytest.mark.parametrize(("path", "line", "source", "expected"), CASES)
def test_fixture(path: Path, line: int, source: str, expected: str) -> None:
    assert _render(source) == expected


@pytest.mark.parametrize("rule", sorted(TOKENS))
def test_first_case_makes_the_rules_token(rule: str) -> None:
    _, _, source, _ = read_fixture_file(FOLDER / f"{rule}.md")[0]
    assert TOKENS[rule] in _types(parser().parse(source))


def test_checks_name_the_problem_where_it_is_written() -> None:
    tokens = parser().parse("[[Note|text]] #tag %%c%% ![[Note]] ![[hello.mp3|loud]] ^id\n")
    findings = [mdrules.CHECKS[t.type](t) for t in tokens[1].children or [] if t.type in mdrules.CHECKS]
    assert [(f.code, f.needle, f.warning) for f in findings if f is not None] == [
        ("W150", "[[Note|text]]", True),
        ("W151", "#tag", True),
        ("E164", "%%c%%", False),
        ("E161", "![[Note]]", False),
        ("E162", "![[hello.mp3|loud]]", False),
        ("W152", "^id", True),
    ]
