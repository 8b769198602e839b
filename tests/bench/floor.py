"""The floor: the least work any Markdown-to-Anki build does, with the same libraries, on one core.

markdown-it-py parses and renders every note file of the deck (our dialect: CommonMark, tables,
strikethrough, front matter, math), and genanki writes one note per level-2 heading with its rendered HTML.
`python -m tests.bench.floor SOURCE_DECK OUT.apkg` runs it; the benchmark times it as a whole process, as it
times the builder, so interpreter start-up counts on both sides.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import genanki
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

MODEL = genanki.Model(
    1607392319,
    "Floor Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
)


def floor(deck_folder: Path, out: Path) -> int:
    """Render every file, write one genanki note per note; return the number of notes written."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(dollarmath_plugin, allow_labels=False, double_inline=True)
    deck = genanki.Deck(2059400110, "Floor")
    for path in sorted(deck_folder.rglob("*.md")):
        html = md.render(path.read_text(encoding="utf-8"))
        for chunk in html.split("<h2>")[1:]:
            front, _, back = chunk.partition("</h2>")
            deck.add_note(genanki.Note(model=MODEL, fields=[front, back.strip()], guid=genanki.guid_for(front)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        genanki.Package(deck).write_to_file(str(out), timestamp=1_700_000_000)
    return len(deck.notes)


if __name__ == "__main__":
    print(floor(Path(sys.argv[1]), Path(sys.argv[2])))
