"""Every diagnostic an author can meet: exact text, location and caret, exit code 1, nothing written.

Each folder in fixtures/diagnostics holds the input (`notes.md` and/or `deck.toml`) and `expected.txt`, the
exact output of `check`. Regenerate with UPDATE_GOLDEN=1 and review the diff like code.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from builder.cli import main
from tests.conftest import FIXTURES

CASES = sorted(p.name for p in (FIXTURES / "diagnostics").iterdir() if p.is_dir())
DEFAULT_TOML = 'name = "Fixture"\nid = 42\nversion = "1.0.0"\n'


def _deck(tmp_path: Path, case: str) -> Path:
    deck = tmp_path / "source" / "fixture"
    deck.mkdir(parents=True)
    case_dir = FIXTURES / "diagnostics" / case
    toml = case_dir / "deck.toml"
    (deck / "deck.toml").write_bytes(toml.read_bytes() if toml.exists() else DEFAULT_TOML.encode())
    notes = case_dir / "notes.md"
    if notes.exists():
        shutil.copy(notes, deck / "notes.md")
    else:
        (deck / "notes.md").write_text("## What is a token?\n<!-- id: token -->\n\nA unit of text.\n")
    (tmp_path / "media").mkdir()
    # The fixture decks' media, then the case's own (a file whose content does not match its name).
    for folder in (FIXTURES / "starter" / "media", FIXTURES / "notekinds" / "media", case_dir / "media"):
        for file in folder.glob("*") if folder.is_dir() else ():
            shutil.copy(file, tmp_path / "media" / file.name)
    return deck


@pytest.mark.parametrize("case", CASES)
def test_diagnostic(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _deck(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "keep.apkg").write_bytes(b"previous release")

    args_file = FIXTURES / "diagnostics" / case / "args.txt"
    extra = args_file.read_text().split() if args_file.exists() else []
    code = main(["build", "--format", "text", *extra])
    out = capsys.readouterr()

    assert code == 1
    assert "Traceback" not in out.err
    assert sorted(p.name for p in dist.iterdir()) == ["keep.apkg"], "dist/ must be untouched on failure"
    assert (dist / "keep.apkg").read_bytes() == b"previous release"
    expected = FIXTURES / "diagnostics" / case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(out.err)
    assert out.err == expected.read_text()


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--frobnicate"]) == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err
    assert main([]) == 2


def test_github_and_json_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _deck(tmp_path, "duplicate-id")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "github"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(
        "::error file=source/fixture/notes.md,line=6,col=4,title=E035::duplicate note id `token`"
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["check"]) == 1
    assert capsys.readouterr().err.startswith("::error file=")
    assert main(["check", "--format", "json"]) == 1
    (row,) = json.loads(capsys.readouterr().err)
    assert row == {
        "path": "source/fixture/notes.md",
        "line": 6,
        "col": 4,
        "severity": "error",
        "code": "E035",
        "message": row["message"],
    }
    assert "first used at source/fixture/notes.md:1:4" in row["message"]


def test_lint_findings_are_warnings_without_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _deck(tmp_path, "lint-long-answer")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--format", "text"]) == 0
    out = capsys.readouterr()
    assert out.err.startswith("source/fixture/notes.md:1:4: warning[L001]: the answer has 180 characters")
    assert out.err.endswith("0 errors, 1 warning\n")
    assert "built dist/fixture-1.0.0.apkg (2 notes" in out.out
