"""The benchmark measures a real deck: the synthetic corpus builds cleanly and imports into Anki as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from tests.bench.corpus import write_corpus
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
