"""The environment around the notes: unreadable files, names the file system refuses, bad options, builder bugs.

Each ends in a one-line diagnostic (exit 1), a usage error (exit 2) or, for a bug in the builder itself, exit 70
with the traceback and where to report it; never in a bare traceback with exit 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import builder.compile
from builder.cli import EXIT_BUG, main
from tests.conftest import EPOCH, FIXTURES, REPO


def _run(args: list[str], cwd: Path, *, as_other_user: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(REPO), "BUILDER_CACHE_DIR": str(cwd / "cache")}
    command = [sys.executable, "-m", "builder", *args, "--format", "text", "--jobs", "1"]
    if as_other_user:
        # A user namespace without a mapping: even root is then held to the permission bits, as any author is.
        command = ["unshare", "--user", *command]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_unreadable_files_and_folders_are_reported(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "starter", tmp_path, dirs_exist_ok=True)
    deck = tmp_path / "source" / "starter"
    hidden = deck / "more"
    hidden.mkdir()
    (hidden / "x.md").write_text("## Q?\n<!-- id: hidden-q -->\n\nA.\n")
    notes = sorted(deck.glob("*.md"))
    try:
        notes[-1].chmod(0)
        hidden.chmod(0)
        (tmp_path / "media" / "pipeline.png").chmod(0)
        result = _run(["build"], tmp_path, as_other_user=True)
    finally:
        notes[-1].chmod(0o644)
        hidden.chmod(0o755)
        (tmp_path / "media" / "pipeline.png").chmod(0o644)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    headlines = [line for line in result.stderr.splitlines() if ": error[" in line]
    assert any(
        h.startswith(f"source/starter/{notes[-1].name}:1:1: error[E001]: cannot read the file") for h in headlines
    )
    assert any(h.startswith("source/starter/more:1:1: error[E001]: cannot read the folder") for h in headlines)
    assert any("error[E060]: image `pipeline.png` cannot be read" in h for h in headlines), headlines
    assert not (tmp_path / "dist").exists()


def test_a_name_too_long_for_the_file_system_is_a_diagnostic(tmp_path: Path) -> None:
    deck = tmp_path / "source" / ("d" * 200)
    deck.mkdir(parents=True)
    (tmp_path / "media").mkdir()
    (deck / "deck.toml").write_text(f'name = "Long"\nid = 42\nversion = "1.0.0-{"r" * 100}"\n')
    (deck / "a.md").write_text("## What is X?\n<!-- id: x-one -->\n\nAnswer.\n")
    result = _run(["build"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (headline, summary) = result.stderr.splitlines()
    assert headline.startswith("dist/dddd") and ":1:1: error[E113]: the file system refused" in headline
    assert "the name is too long for the file system" in headline
    assert summary == "1 error, 0 warnings"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--diagram-timeout", "nan"),
        ("--diagram-timeout", "inf"),
        ("--diagram-timeout", "-1"),
        ("--diagram-timeout", "1e400"),
        ("--jobs", "0"),
        ("--jobs", "99999999999999999999"),
        ("--jobs", "²"),
        ("--out", "README.md"),
        ("--out", "README.md/sub"),
        ("--timings", "builder"),
    ],
)
def test_out_of_range_options_are_usage_errors(
    option: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", option, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err or f"argument -j/{option}" in err
    assert "Traceback" not in err


def test_a_bug_in_the_builder_exits_70_and_says_so(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a stage the builder got wrong")

    # The one stand-in in this file: a stage that fails as only a bug in the builder could.
    monkeypatch.setattr(builder.compile, "compile_files", broken)
    code = main(["check", "--source", str(starter / "source"), "--media", str(starter / "media"), "--no-cache"])
    err = capsys.readouterr().err
    assert code == EXIT_BUG == 70
    assert "internal error: `check` failed because of a bug in the builder, not a problem in your notes." in err
    assert "Please report it to the Deckforge issue tracker" in err
    assert "Traceback (most recent call last)" in err and "RuntimeError: a stage the builder got wrong" in err
