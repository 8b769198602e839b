"""docs/authoring.md stays true: its deck.toml and every Markdown example build into a deck Anki imports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anki.collection import Collection

from tests.conftest import FIXTURES, REPO, build_deck, import_package

DOC = REPO / "docs" / "authoring.md"
# Examples that contain fences of their own use a four-backtick fence.
FENCE = re.compile(r"^(`{3,4})(\w+)\n(.*?)^\1$", re.MULTILINE | re.DOTALL)


def _examples(lang: str) -> list[str]:
    return [body for _, fence_lang, body in FENCE.findall(DOC.read_text()) if fence_lang == lang]


def test_doc_has_examples() -> None:
    assert len(_examples("toml")) == 1
    assert len(_examples("markdown")) >= 5


@pytest.mark.parametrize("index", range(len(_examples("markdown"))))
def test_markdown_example_builds_and_imports(index: int, tmp_path: Path, collection: Collection) -> None:
    deck = tmp_path / "source" / "example"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text(_examples("toml")[0])
    example = _examples("markdown")[index]
    (deck / "example.md").write_text(example)
    media = tmp_path / "media"
    media.mkdir()
    for folder in (FIXTURES / "starter" / "media", FIXTURES / "notekinds" / "media"):
        for file in folder.iterdir():
            (media / file.name).write_bytes(file.read_bytes())
    assert build_deck(tmp_path / "source", media, tmp_path / "dist") == 0
    (apkg,) = (tmp_path / "dist").glob("*.apkg")
    result = import_package(collection, apkg)
    notes = len(re.findall(r"^## ", example, re.MULTILINE))
    assert len(result.log.new) == notes
    for cid in collection.find_cards(""):
        question = collection.get_card(cid).question()
        assert not re.search(r"\{\{c\d+::", question)


#: Examples that are files of a deck: ```<lang> <path inside the deck folder>
FILE_FENCE = re.compile(r"^(`{3,4})(\w+) (\S+)\n(.*?)^\1$", re.MULTILINE | re.DOTALL)


def test_deck_defined_notetype_example_builds_and_imports(tmp_path: Path, collection: Collection) -> None:
    files = {path: body for _, _, path, body in FILE_FENCE.findall(DOC.read_text())}
    assert "notetypes/vocabulary/notetype.toml" in files and "vocabulary.md" in files
    deck = tmp_path / "source" / "example"
    for path, body in files.items():
        (deck / path).parent.mkdir(parents=True, exist_ok=True)
        (deck / path).write_text(body)
    (deck / "deck.toml").write_text(_examples("toml")[0])
    (tmp_path / "media").mkdir()
    assert build_deck(tmp_path / "source", tmp_path / "media", tmp_path / "dist") == 0
    (apkg,) = (tmp_path / "dist").glob("*.apkg")
    result = import_package(collection, apkg)
    assert len(result.log.new) == 2
    (casa,) = [collection.get_note(n) for n in collection.find_notes('"Word:la casa"')]
    assert casa.note_type()["name"] == "Vocabulary"
    assert casa["Meaning"] == "the house"
    assert casa["Example"] == "<em>Mi casa es tu casa.</em>"
    assert casa["Notes"] == "Feminine, like most nouns ending in <em>-a</em>."
    (card,) = casa.cards()
    assert '<div class="example"><em>Mi casa es tu casa.</em></div>' in card.answer()
    assert ".example { font-style: italic" in card.answer()
    (perro,) = [collection.get_note(n) for n in collection.find_notes('"Word:el perro"')]
    assert perro["Example"] == "" and perro.tags == ["animals"]
    assert "example" not in perro.cards()[0].answer().split("</style>")[-1]
