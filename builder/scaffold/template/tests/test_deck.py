"""The deck's own tests (standard library only): it builds strictly, keeps every note, and builds reproducibly.

Run them with `nox -s tests`, or `python -m unittest discover -s tests -v` where deckforge is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
NOTE_ID = re.compile(r"^<!--\s*id:\s*([a-z0-9-]+)", re.MULTILINE)


def deckforge(*args: str) -> subprocess.CompletedProcess[str]:
    """The deckforge command of this Python environment (what `pip install deckforge` installed)."""
    script = Path(sys.executable).parent / "deckforge"
    command = [str(script)] if script.exists() else [shutil.which("deckforge") or "deckforge"]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, check=False)


class DeckTests(unittest.TestCase):
    out: Path

    @classmethod
    def setUpClass(cls) -> None:
        cls.out = Path(tempfile.mkdtemp(prefix="deck-tests-"))
        cls.result = deckforge("build", "--strict", "--out", str(cls.out / "first"))

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_builds_with_lint_warnings_as_errors(self) -> None:
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertTrue(any((self.out / "first").glob("*.apkg")), self.result.stdout)

    def test_every_note_is_in_its_package(self) -> None:
        for folder in sorted(p.parent for p in SOURCE.glob("*/deck.toml")):
            with self.subTest(deck=folder.name):
                config = tomllib.loads((folder / "deck.toml").read_text(encoding="utf-8"))
                written = {i for md in folder.rglob("*.md") for i in NOTE_ID.findall(md.read_text(encoding="utf-8"))}
                stem = f"{folder.name}-{config['version']}"
                manifest = json.loads((self.out / "first" / f"{stem}.json").read_text(encoding="utf-8"))
                packaged = {note["id"] for note in manifest["notes"] if not note.get("removed")}
                self.assertEqual(packaged, written)
                with zipfile.ZipFile(self.out / "first" / f"{stem}.apkg") as apkg:
                    self.assertIn("collection.anki2", apkg.namelist())

    def test_a_second_build_is_byte_identical(self) -> None:
        again = deckforge("build", "--no-cache", "--out", str(self.out / "second"))
        self.assertEqual(again.returncode, 0, again.stderr)
        for package in sorted((self.out / "first").glob("*.apkg")):
            with self.subTest(package=package.name):
                self.assertEqual((self.out / "second" / package.name).read_bytes(), package.read_bytes())


if __name__ == "__main__":
    unittest.main()
