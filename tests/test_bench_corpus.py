"""The benchmark measures a real deck: the synthetic corpus builds cleanly and imports into Anki as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from tests.bench.corpus import file_text, write_corpus
from tests.bench.peer import convert_file, write_peer_corpus
from tests.conftest import import_package


def test_synthetic_corpus_builds_without_findings_and_imports(
    tmp_path: Path, collection: Collection, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_corpus(tmp_path / "deck", 1000)
    assert len(list((root / "source" / "bench").glob("part-*.md"))) == 10, "about 100 notes per file"
    code = main(["build", "--source", str(root / "source"), "--media", str(root / "media"), "--out",
                 str(root / "dist")])  # fmt: skip
    assert code == 0
    assert capsys.readouterr().err == "", "no errors and no linter warnings: the corpus is a clean deck"
    import_package(collection, root / "dist" / "bench-1.0.0.apkg")
    kinds = {name: len(collection.find_notes(f'"note:Bench 1000 · {name}"')) for name in
             ("Basic", "Reverse", "Cloze")}  # fmt: skip
    assert kinds == {"Basic": 500, "Reverse": 200, "Cloze": 300}
    assert collection.card_count() == 500 + 2 * 200 + 2 * 300
    html = " ".join(collection.get_note(nid).fields[1] for nid in collection.find_notes('"note:Bench 1000 · Basic"'))
    for feature in ("<table>", '<div class="highlight"', "<ul>", "<ol>", "<code>", "<strong>"):
        assert feature in html, feature


def _ankdown_cards(text: str) -> list[list[str]]:
    """Fields as ankdown 0.7.1 splits them: a line that is `%` alone ends a field, `---` alone ends a card."""
    cards, fields, lines = [], [], []
    for line in [*text.splitlines(), "---"]:
        if line.strip() in ("%", "---"):
            fields.append("\n".join(lines).strip())
            lines = []
            if line.strip() == "---":
                cards.append(fields)
                fields = []
        else:
            lines.append(line)
    return cards


def test_the_peer_gets_the_same_notes_in_ankdown_format(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "deck", 1000)
    assert write_peer_corpus(root / "source" / "bench", tmp_path / "peer") == 1000
    folders = {path.name for path in (tmp_path / "peer").iterdir()}
    assert "Bench 1000::Storage" in folders and len(folders) == 10, "each file's subdeck is an ankdown deck folder"
    folder, text = convert_file(file_text(0, 0, 10), "Bench 10")
    assert folder == "Bench 10::Storage"
    cards = _ankdown_cards(text)
    assert [len(fields) for fields in cards] == [3] * 10, "front, back and tags for every note"
    assert cards[0][0] == "What does the bucket 0 do with a index?"
    assert cards[0][1] == "It groups related `index` resources so one *policy* covers them **all** (note 0)."
    assert cards[5] == [
        "Instance region 5",
        "The instance that keeps one `region` per account, identified by number 5.",
        "topic::storage kind::term",
    ]
    assert "| Instance 7 | stores data |\n| Region | serves requests |" in cards[7][1], "clozes are plain text"
    assert "```bash\naws region list" in cards[2][1], "code stays fenced for --highlight"
    assert "{{c" not in text and "<!--" not in text
