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
    (media / "pipeline.png").write_bytes((FIXTURES / "starter" / "media" / "pipeline.png").read_bytes())
    assert build_deck(tmp_path / "source", media, tmp_path / "dist") == 0
    (apkg,) = (tmp_path / "dist").glob("*.apkg")
    result = import_package(collection, apkg)
    notes = len(re.findall(r"^## ", example, re.MULTILINE))
    assert len(result.log.new) == notes
    for cid in collection.find_cards(""):
        question = collection.get_card(cid).question()
        assert not re.search(r"\{\{c\d+::", question)
