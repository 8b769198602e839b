"""Property-based fuzzing of note files and metadata (Hypothesis): hostile input never crashes and loses nothing.

Generated files mix the constructs that once broke the builder (deep lists, unclosed fences, comments and
HTML blocks, text after `-->`, clozes with huge or hidden numbers, entities of control characters, line
separators, YAML aliases, huge integers, nested values) with plain notes. Every visible word is a unique
marker. For each file:

- the builder never prints a traceback and exits 0 or 1;
- exit 1: every line on stderr is a one-line `path:line:col: severity[CODE]: message` (or its caret snippet,
  or the count), located inside the file;
- exit 0: the package imports into the real Anki backend, every marker is on a card, and a second build
  gives the same bytes.

CI runs a bounded, derandomized set (FUZZ_EXAMPLES, default 60); to hunt for new failures set it higher and
FUZZ_RANDOM=1 for fresh examples.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from anki.collection import Collection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from builder.cli import main
from tests.conftest import import_package

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
HEADLINE = re.compile(r"^(?P<path>[^\s].*?):(?P<line>\d+):(?P<col>\d+): (?:error|warning)\[[A-Z]\d{3}\]: \S.*$")
SNIPPET = re.compile(r"^ *\d* \| .*$|^ +\|$")
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings?$")
DECK_TOML = 'name = "Fuzz"\nid = 1733059200999\nversion = "1.0.0"\n'

#: Characters an editor lets through that are not plain text; the first ones are harmless.
ODD = st.sampled_from(
    ["&nbsp;", "\u00a0", "\t", "*", "_", "<", ">", "&", "\\", "\u2028", "\u2029", "\u200b", "\ufeff", "\r",
     "<span></span>", "<!-- c -->", "\x1f", "\x0c", "\x0b", "\x85", "&#31;", "&#x1F;", "`"]
)  # fmt: skip
CLOZE_NUMBERS = st.sampled_from(["1", "2", "3", "0", "65535", "65536", "99999999999999999999", "1" * 5000])
YAML_VALUES = st.sampled_from(
    ["[a, b]", "reverse", "basic", '"multi\\nline"', "'quoted'", "1" * 4400, "2024-02-30", "&a [1]", "*a",
     "[" * 60 + "]" * 60, "{a: 1}", "yes", "null", "\x85next", "a: b: c", "[topic::rag]", '"\\x1f"']
)  # fmt: skip


@st.composite
def words(draw: st.DrawFn, markers: list[str], low: int = 1, high: int = 4) -> str:
    """Marker words (each unique, to be found on a card), now and then with an odd character in between."""
    out = []
    for _ in range(draw(st.integers(low, high))):
        marker = f"w{len(markers):04d}q"
        markers.append(marker)
        out.append(marker)
        chance = draw(st.integers(0, 79))
        if chance == 0:
            out.append(draw(ODD))
        elif chance < 8:
            out.append(draw(st.sampled_from(["&nbsp;", "*", "_", "&amp;", "<br>", "\\*", "--"])))
    return " ".join(out)


@st.composite
def block(draw: st.DrawFn, markers: list[str]) -> str:
    """One block of a note's body: mostly what authors write, one time in ten a construct that once broke."""
    hostile = draw(st.integers(0, 9)) == 0
    kind = draw(st.integers(0, 7))
    if kind == 3:
        return "<!-- a comment" + (" -->" if not hostile else "") + "\n"
    text = draw(words(markers))
    if kind == 0:
        depth = draw(st.integers(9, 14)) if hostile else draw(st.integers(1, 4))
        return "".join("  " * level + f"- {text if level == depth - 1 else 'item'}\n" for level in range(depth))
    if kind == 1:
        return f"```python\n{text}\n" + ("```\n" if not hostile else "")
    if kind == 2:
        inline = draw(st.sampled_from(["<div>{}</div>", "<table><tr><td>{}</td></tr></table>", "<pre>\n{}\n</pre>"]))
        html = inline.format(text)
        return (html.rsplit("</", 1)[0] if hostile and "pre" in html else html) + "\n"
    if kind == 4:
        number = draw(CLOZE_NUMBERS) if hostile else draw(st.sampled_from(["1", "2", "3"]))
        shape = draw(st.integers(0, 3))
        if shape == 0:
            return f"A {{{{c{number}::{text}}}}}. End.\n"
        if shape == 1:
            return f"{{{{c1::outer {{{{c{number}::{text}::hint}}}} more}}}}\n"
        if shape == 2 and hostile:
            return f'<span title="{{{{c{number}::{text}}}}}">x</span> and {{{{c{number}::y}}}}\n'
        return f"| {{{{c{number}::{text}}}}} | b |\n|---|---|\n| c | d |\n"
    if kind == 5:
        return f"![{text}](missing.png)\n" if hostile else f"> {text}\n"
    if kind == 6:
        depth = draw(st.integers(18, 25)) if hostile else draw(st.integers(1, 3))
        return "> " * depth + text + "\n"
    return (f"$x + {text}$ and $$\\frac{{a}}{{b}}$$" if draw(st.booleans()) else text) + "\n"


@st.composite
def meta(draw: st.DrawFn, index: int, markers: list[str]) -> str:
    lines = [f"id: note-{index:03d}"]
    extra = draw(st.integers(0, 19))
    if extra == 0:
        key = draw(st.sampled_from(["type", "tags", "ignore", "bogus", "id"]))
        lines.append(f"{key}: {draw(YAML_VALUES)}")
    elif extra < 5:
        lines.append(draw(st.sampled_from(["type: reverse", "tags: [topic::x, b]", 'tags: ["quoted"]'])))
    tail = f" {draw(words(markers))}" if draw(st.integers(0, 19)) == 0 else ""
    return "<!-- " + "\n".join(lines) + " -->" + tail + "\n"


@st.composite
def note_file(draw: st.DrawFn) -> tuple[str, list[str]]:
    markers: list[str] = []
    parts = []
    front = draw(st.integers(0, 15))
    if front == 0:
        key = draw(st.sampled_from(["deck", "tags", "a0"]))
        parts.append(f"---\n{key}: {draw(YAML_VALUES)}\n---\n")
    elif front < 4:
        parts.append(draw(st.sampled_from(["---\ndeck: Sub::Deck\n---\n", "---\ntags: [a, b::c]\n---\n"])))
    for index in range(draw(st.integers(1, 4))):
        parts.append(f"## {draw(words(markers))}?\n")
        parts.append(draw(meta(index, markers)))
        blocks = draw(st.lists(block(markers), min_size=1, max_size=3))
        separator = draw(st.sampled_from(["\n", "\n\n", "\n\n"]))
        parts.append("\n" + separator.join(blocks) + draw(st.sampled_from(["\n", "\n\n"])))
    return "".join(parts), markers


def _build(root: Path, out: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["build", "--source", str(root / "source"), "--media", str(root / "media"), "--out", str(root / out)]
    code = main([*args, "--no-cache", "--jobs", "1", "--format", "text"])
    return code, capsys.readouterr().err


def _check_diagnostics(err: str, text: str) -> None:
    # The parser's line numbering (builder.source): \n, \r\n and a lone \r end a line.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for row in err.splitlines():
        headline = HEADLINE.match(row)
        assert headline or SNIPPET.match(row) or SUMMARY.match(row), f"not a diagnostic line: {row!r}"
        if headline and headline["path"].endswith("notes.md"):
            assert 1 <= int(headline["line"]) <= lines, row


def _cards_text(apkg: Path, folder: Path) -> str:
    collection = Collection(str(folder / "collection.anki2"))
    try:
        import_package(collection, apkg)
        assert collection.card_count() > 0
        return "\n".join(f for nid in collection.find_notes("") for f in collection.get_note(nid).fields)
    finally:
        collection.close()


@settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(note_file())
def test_fuzzed_note_files(capsys: pytest.CaptureFixture[str], generated: tuple[str, list[str]]) -> None:
    text, markers = generated
    with tempfile.TemporaryDirectory(prefix="deckforge-fuzz-") as work:
        root = Path(work)
        deck = root / "source" / "fuzz"
        deck.mkdir(parents=True)
        (root / "media").mkdir()
        (deck / "deck.toml").write_text(DECK_TOML, encoding="utf-8")
        (deck / "notes.md").write_bytes(text.encode("utf-8"))
        code, err = _build(root, "dist", capsys)
        event(f"exit {code}")
        for found in sorted(set(re.findall(r"error\[([A-Z]\d{3})\]", err))):
            event(f"error {found}")
        assert "Traceback" not in err, err
        assert code in (0, 1), err
        _check_diagnostics(err, text)
        if code == 1:
            assert "error[" in err
            assert not (root / "dist").exists() or not list((root / "dist").glob("*.apkg"))
            return
        apkg = root / "dist" / "fuzz-1.0.0.apkg"
        anki = root / "anki"
        anki.mkdir()
        on_cards = _cards_text(apkg, anki)
        lost = [m for m in markers if m not in on_cards]
        assert lost == [], f"exit 0 but not on any card: {lost}\n{text}"
        again, err = _build(root, "dist2", capsys)
        assert again == 0, err
        assert (root / "dist2" / "fuzz-1.0.0.apkg").read_bytes() == apkg.read_bytes()
