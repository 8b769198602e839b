"""fix-ids adds ids and nothing else: the rest of the file is byte-identical, and a second run is a no-op."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builder.cli import main

ORIGINAL = (
    "---\r\ntags: [x]\r\n---\r\n# Section\r\n\r\n"
    "## What is a {{c1::token}}?\r\n\r\nA unit of text.\r\n\r\n"
    "## Embedding\r\n<!-- type: reverse -->\r\n\r\nA vector.\r\n\r\n"
    "Setext title\r\n---\r\nBody text.\r\n"
    "## Already has one\r\n<!-- id: keep-me -->\r\n\r\nFine.\r\n"
    "## Same title\r\n\r\nOne.\r\n"
    "## Same title\r\n\r\nTwo."
)


def test_fix_ids_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = tmp_path / "source" / "deck"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "D"\nid = 5\nversion = "1.0.0"\n')
    note_file = deck / "notes.md"
    note_file.write_bytes(ORIGINAL.encode())
    note_file.chmod(0o600)
    monkeypatch.chdir(tmp_path)

    assert main(["check"]) == 1
    assert "Run `python -m builder fix-ids` to add ids" in capsys.readouterr().err

    assert main(["fix-ids"]) == 0
    fixed = note_file.read_bytes().decode()
    new = re.findall(r"<!-- id: ([a-z0-9-]+)", fixed)
    token, embedding, setext, _, same1, same2 = new
    # Exactly these lines were added; every other byte is the original's.
    expected = (
        ORIGINAL.replace(
            "## What is a {{c1::token}}?\r\n", f"## What is a {{{{c1::token}}}}?\r\n<!-- id: {token} -->\r\n"
        )
        .replace("<!-- type: reverse -->", f"<!-- id: {embedding}\r\ntype: reverse -->")
        .replace("Setext title\r\n---\r\n", f"Setext title\r\n---\r\n<!-- id: {setext} -->\r\n")
        .replace("## Same title\r\n\r\nOne.", f"## Same title\r\n<!-- id: {same1} -->\r\n\r\nOne.")
        .replace("## Same title\r\n\r\nTwo.", f"## Same title\r\n<!-- id: {same2} -->\r\n\r\nTwo.")
    )
    assert fixed == expected
    assert note_file.stat().st_mode & 0o777 == 0o600
    assert token.startswith("what-is-a-token-") and len(token) == len("what-is-a-token-") + 4
    assert len(set(new)) == len(new), "ids stay unique even for identical headings"
    assert main(["check"]) == 0

    capsys.readouterr()
    assert main(["fix-ids"]) == 0
    assert note_file.read_bytes().decode() == fixed
    assert "every note already has an id" in capsys.readouterr().out
