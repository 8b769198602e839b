"""The card rules L010-L012 (set clozes, list answers, answers in the question), run by the real builder.

tests/fixtures/lint/cases.md holds one note per case; a note whose id starts with `hit-l010-` must get an
L010 warning and every other note must not (likewise for L011 and L012), so both a missed hit and a false
alarm fail. docs/linting.md's examples are checked the same way: an example under "Flagged" must get its
section's warning, one under "Not flagged" must not.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from builder.cli import main
from tests.conftest import FIXTURES, REPO

RULES = ("L010", "L011", "L012")
DOC = REPO / "docs" / "linting.md"
_ID = re.compile(r"<!-- id: ([a-z0-9-]+)")


def _warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], notes: str
) -> dict[str, set[str]]:
    """Check a one-file deck; the warning codes each note gets, by note id."""
    deck = tmp_path / "source" / "cases"
    deck.mkdir(parents=True, exist_ok=True)
    (deck / "deck.toml").write_text('name = "Cases"\nid = 7\nversion = "1.0.0"\n')
    (deck / "notes.md").write_text(notes)
    (tmp_path / "media").mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["check", "--format", "json", "--no-cache"])
    err = capsys.readouterr().err
    rows = json.loads(err) if err.strip() else []
    assert code == 0, rows
    heading_ids: dict[int, str] = {}
    lines = notes.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.startswith("## "):
            match = _ID.match(lines[number])
            assert match, line
            heading_ids[number] = match.group(1)
    found: dict[str, set[str]] = {note: set() for note in heading_ids.values()}
    for row in rows:
        found[heading_ids[row["line"]]].add(row["code"])
    return found


def test_each_rule_flags_its_cases_and_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    found = _warnings(tmp_path, monkeypatch, capsys, (FIXTURES / "lint" / "cases.md").read_text())
    for code in RULES:
        expected = sorted(note for note in found if note.startswith(f"hit-{code.lower()}-"))
        assert len(expected) >= 4, code
        assert sorted(note for note, codes in found.items() if code in codes) == expected, code


def test_ignore_silences_a_real_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (FIXTURES / "lint" / "cases.md").read_text()
    start = text.index("## Precision or recall: which does a spam filter favour?")
    note = text[start:]
    assert "ignore: [answer-in-question]" in note
    assert _warnings(tmp_path, monkeypatch, capsys, note) == {"ok-l012-ignored": set()}
    unignored = re.sub(r"\nignore: .*-->", " -->", note)
    assert _warnings(tmp_path, monkeypatch, capsys, unignored) == {"ok-l012-ignored": {"L012"}}


def _doc_examples() -> list[tuple[str, bool, str]]:
    """(rule code, flagged?, Markdown) for each example in the L010-L012 sections of docs/linting.md."""
    examples = []
    text = DOC.read_text()
    for section in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        code = {"set-cloze": "L010", "list-answer": "L011", "answer-in-question": "L012"}.get(
            section.split("`")[1] if "`" in section.split("\n", 1)[0] else ""
        )
        if code is None:
            continue
        verdict = None
        for block in re.split(r"^```", section, flags=re.MULTILINE):
            if block.startswith("markdown\n"):
                assert verdict is not None, f"an example in {code}'s section has no Flagged/Not flagged line"
                examples.append((code, verdict, block.removeprefix("markdown\n")))
            else:
                for line in block.splitlines():
                    if line.startswith("Flagged"):
                        verdict = True
                    elif line.startswith("Not flagged") or line.startswith("A hit that is right on purpose"):
                        verdict = False
    return examples


def test_doc_has_examples_for_every_new_rule() -> None:
    examples = _doc_examples()
    for code in RULES:
        assert {flagged for c, flagged, _ in examples if c == code} == {True, False}, code


@pytest.mark.parametrize("index", range(len(_doc_examples())))
def test_doc_example_is_flagged_as_it_says(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, flagged, example = _doc_examples()[index]
    found = _warnings(tmp_path, monkeypatch, capsys, example)
    assert {note: code in codes for note, codes in found.items()} == dict.fromkeys(found, flagged)


def test_rules_stay_fast_on_hostile_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inputs that make naive regexes or pairwise comparisons quadratic; linear rules take well under a second
    each, a quadratic one would take minutes."""
    spaces = " " * 9_000
    notes = [
        # 3,000 deletions in one enumeration, and a list of 1,500 bare items.
        "## Many deletions\n<!-- id: many-deletions -->\n\n"
        + "\n".join(", ".join(f"{{{{c{i % 40 + 1}::w{i}}}}}" for i in range(j, j + 100)) for j in range(0, 3000, 100)),
        "## Long list\n<!-- id: long-list -->\n\n"
        + "\n".join(f"- {{{{c{i % 40 + 1}::item {i}}}}}" for i in range(1500)),
        # Whitespace between deletions, commas without items, brackets that never close, repeated words.
        "## Gaps\n<!-- id: gaps -->\n\n" + "\n".join(f"{{{{c1::a}}}},{spaces}x{{{{c2::b}}}}" for _ in range(40)),
        "## Commas\n<!-- id: commas -->\n\n" + "\n".join("," * 9_000 for _ in range(40)),
        "## Brackets ((((\n<!-- id: brackets\ntype: reverse -->\n\n" + "\n".join("(" * 9_000 for _ in range(40)),
        "## " + "term " * 1_500 + "\n<!-- id: repeats -->\n\n" + "\n".join("term " * 1_800 for _ in range(40)),
    ]
    started = time.perf_counter()
    found = _warnings(tmp_path, monkeypatch, capsys, "\n\n".join(notes) + "\n")
    assert time.perf_counter() - started < 60
    assert "L010" in found["many-deletions"] and "L010" in found["long-list"]
