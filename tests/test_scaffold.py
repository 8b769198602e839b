"""`deckforge new DIR`, run in this process: what it writes, what it refuses, and that the result builds.

tests/test_package.py runs the same from a wheel in a fresh venv; this one is fast and runs the new repository's
deck through this checkout's builder and the real Anki backend.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.scaffold import DECK_ID_RANGE
from tests.conftest import import_package


def _new(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["new", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_new_writes_a_complete_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _new(tmp_path, capsys, "My_French-Deck")
    assert code == 0
    root = tmp_path / "My_French-Deck"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".gitignore",
        "README.md",
        "media/example.png",
        "noxfile.py",
        "source/my-french-deck/01-basics.md",
        "source/my-french-deck/02-clozes.md",
        "source/my-french-deck/03-diagrams.md",
        "source/my-french-deck/deck.toml",
        "tests/test_deck.py",
    ]
    for name in files:
        data = (root / name).read_bytes()
        assert b"@@" not in data, f"{name} has a placeholder left"
    toml = (root / "source/my-french-deck/deck.toml").read_text()
    assert 'name = "My french deck"' in toml
    deck_id = int(re.search(r"^id = (\d+)$", toml, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert DECK_ID_RANGE[0] <= deck_id < DECK_ID_RANGE[1] <= 2**53
    assert f"deck id {deck_id}" in out
    assert "uses: deckforge/deckforge@v" in (root / ".github/workflows/ci.yml").read_text()
    assert (root / "media/example.png").read_bytes()[:4] == b"\x89PNG", "binary files are copied as they are"
    assert not list(tmp_path.glob(".*deckforge-new*")), "no staging folder is left behind"


def test_each_repository_gets_its_own_deck_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = set()
    for name in ("one", "two", "three"):
        assert main(["new", str(tmp_path / name)]) == 0
        ids.update(re.findall(r"^id = (\d+)$", (tmp_path / name / "source" / name / "deck.toml").read_text(), re.M))
    assert len(ids) == 3


def test_name_and_slug_options_and_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    # A backslash needs TOML's escaping (quotes are refused: Anki would put them into the card's HTML as they are).
    code, _, _ = _new(tmp_path, capsys, str(target), "--name", "Verbs \\ irregular", "--slug", "verbs")
    assert code == 0
    assert 'name = "Verbs \\\\ irregular"' in (target / "source/verbs/deck.toml").read_text()
    assert "# Verbs \\ irregular" in (target / "README.md").read_text()


def test_a_non_empty_directory_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "deck"
    target.mkdir()
    (target / "notes.md").write_text("mine")
    code, out, err = _new(tmp_path, capsys, "deck")
    assert code == 1
    assert err.startswith("deck:1:1: error[E192]: the directory is not empty; expected a new or empty directory")
    assert "Traceback" not in err and out == ""
    assert [p.name for p in target.iterdir()] == ["notes.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck"], "nothing written beside it either"


def test_a_file_and_a_bad_slug_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "taken").write_text("x")
    code, _, err = _new(tmp_path, capsys, str(tmp_path / "taken"), "--slug", "Bad Slug", "--name", " x")
    assert code == 1
    assert "error[E192]: found a file; expected a new or empty directory" in err
    assert "error[E193]: found deck folder name `Bad Slug`; expected lowercase letters" in err
    assert "error[E195]: found deck name ' x'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Default", "the name of Anki's own Default deck"),
        ("default", "the name of Anki's own Default deck"),
        ("a::", "an empty part between `::` separators"),
        ("a:: b", "spaces around a `::` separator"),
        ("x" * 201, "found `xxxxxxxx"),
    ],
)
def test_names_check_would_refuse_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, why: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _new(tmp_path, capsys, "deck", "--name", name)
    assert code == 1
    shown = repr(name) if len(name) < 60 else repr("x" * 57 + "...")
    assert err.startswith(f"deck:1:1: error[E195]: found deck name {shown}, which deck.toml would refuse: ")
    assert why in err and "Pass another with --name" in err
    assert out == "" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "nothing written"


def test_a_directory_named_default_needs_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _new(tmp_path, capsys, "default")
    assert code == 1
    assert "error[E195]: found deck name 'Default'" in err
    assert _new(tmp_path, capsys, "default", "--name", "My default deck")[0] == 0


def test_a_name_holding_a_placeholder_is_written_as_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _new(tmp_path, capsys, "deck", "--name", "Say @@SLUG@@ \\ twice")
    assert code == 0, err
    assert 'name = "Say @@SLUG@@ \\\\ twice"' in (tmp_path / "deck/source/deck/deck.toml").read_text()


def test_python_m_builder_new(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "builder", "new", str(tmp_path / "deck")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "deck/source/deck/deck.toml").is_file()


def test_the_new_deck_passes_a_strict_check_and_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, collection: Collection
) -> None:
    assert main(["new", str(tmp_path / "deck"), "--name", "Example"]) == 0
    monkeypatch.chdir(tmp_path / "deck")
    assert main(["check", "--strict"]) == 0
    assert main(["build", "--strict"]) == 0
    capsys.readouterr()
    result = import_package(collection, tmp_path / "deck/dist/deck-0.1.0.apkg")
    assert len(result.log.new) == 10
    kinds = {collection.get_note(nid).note_type()["name"] for nid in collection.find_notes("")}  # type: ignore[index]
    assert kinds == {f"Example · {k}" for k in ("Basic", "Reverse", "Cloze", "Image Occlusion")}
    assert collection.find_cards("tag:example") and collection.card_count() == 15


def test_new_into_the_empty_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["new", "."]) == 0
    assert Path.cwd() == here and (here / "source/here/deck.toml").is_file(), "the same directory, now filled"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]
