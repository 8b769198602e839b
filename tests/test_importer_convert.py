"""Converting a package's notes to Markdown: what Anki shows must survive, and one note the converter cannot
carry must never stop the import. Every package here is written by the real Anki backend."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.importer.apkg import read_package
from builder.importer.model import PackageNote
from builder.manifest import visible_text
from tests.anki_decks import export_deck
from tests.conftest import build_deck


@dataclass(frozen=True)
class Made:
    apkg: Path
    #: Note id → guid, in the order given.
    guids: list[str]
    ids: list[int]


def _package(
    tmp_path: Path,
    notes: list[tuple[str, dict[str, str], list[str]]],
    *,
    deck: str = "Convert",
    edit: Any = None,
) -> Made:
    """A package of one deck: (stock notetype, fields, tags) per note; `edit(col)` may change notetypes first."""
    (tmp_path / "collection").mkdir()
    col = Collection(str(tmp_path / "collection" / "collection.anki2"))
    try:
        if edit is not None:
            edit(col)
        did = col.decks.id(deck)
        guids, ids = [], []
        for stock, fields, tags in notes:
            note = col.new_note(col.models.by_name(stock))
            for name, value in fields.items():
                note[name] = value
            note.tags = tags
            col.add_note(note, did)
            guids.append(note.guid)
            ids.append(note.id)
        apkg = export_deck(col, did, tmp_path / "deck.apkg")
    finally:
        col.close()
    return Made(apkg, guids, ids)


def _import(made: Made, root: Path) -> int:
    return main(["import", str(made.apkg), "--source", str(root / "source"), "--media", str(root / "media")])


def _rebuilt(root: Path) -> dict[str, PackageNote]:
    """The notes of the deck built from the imported source, by GUID."""
    assert build_deck(root / "source", root / "media", root / "dist") == 0
    (apkg,) = (root / "dist").glob("*.apkg")
    return {n.guid: n for n in read_package(apkg).notes}


def _shown(html: str) -> str:
    """What Anki shows of a field: a raw newline is a space."""
    return visible_text(html.replace("\n", " "))


def test_a_raw_newline_is_a_space_never_markdown_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fronts = [
        "Q word\n# not a heading in Anki",
        "text\n===",
        "text\n---",
        "---\nnotetype: basic\n---",
        "a\n- b",
        "a\n1) b",
        "a\n> q",
        "a\n<br>\n# b",
        "math \\(x\n# y\\)",
        "<h1>big\n\nheading</h1>",
    ]
    made = _package(tmp_path, [("Basic", {"Front": f, "Back": f"back {i} is kept"}, []) for i, f in enumerate(fronts)])
    root = tmp_path / "project"
    assert _import(made, root) == 0
    err = capsys.readouterr().err
    assert "E179" not in err and "E178" not in err, err
    rebuilt = _rebuilt(root)
    for index, (guid, front) in enumerate(zip(made.guids, fronts, strict=True)):
        fields = rebuilt[guid].fields
        assert _shown(fields[0]) == _shown(front), (front, fields)
        assert visible_text(fields[1]) == f"back {index} is kept"


def test_tags_yaml_would_read_as_other_types_stay_strings(tmp_path: Path) -> None:
    tags = ["1", "true", "no", "off", "null", "2024-01-01", "0x10", "1.5", "topic::x"]
    made = _package(
        tmp_path, [("Basic", {"Front": "q", "Back": "a"}, tags), ("Basic", {"Front": "r", "Back": "b"}, ["1"])]
    )
    root = tmp_path / "project"
    assert _import(made, root) == 0
    rebuilt = _rebuilt(root)
    assert sorted(rebuilt[made.guids[0]].tags) == sorted(tags)
    assert rebuilt[made.guids[1]].tags == ("1",)


def test_clozes_anki_accepts_convert_and_literal_braces_stay_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = [
        ("Cloze", {"Text": "{{c1::line<br>break}} and more"}, []),
        ("Cloze", {"Text": "<div>{{c1::a</div><div>b}}</div>"}, []),
        ("Cloze", {"Text": "plain {{ c1::x}} and {{C1::z}} and {{c1::y}}"}, []),
        ("Basic", {"Front": "How do you write a cloze?", "Back": "Type {{c1::text}} or {{c1::}}"}, []),
    ]
    made = _package(tmp_path, notes)
    root = tmp_path / "project"
    assert _import(made, root) == 0
    err = capsys.readouterr().err
    assert "E178" not in err and "E179" not in err, err
    rebuilt = _rebuilt(root)
    assert len(rebuilt) == 4
    assert "{{c1::line<br" in rebuilt[made.guids[0]].fields[0]
    third = rebuilt[made.guids[2]].fields[0]
    assert "{{c1::y}}" in third and visible_text(third).startswith("plain {{ c1::x}} and {{C1::z}}")
    back = rebuilt[made.guids[3]].fields[1]
    assert visible_text(back) == "Type {{c1::text}} or {{c1::}}"


def test_one_note_that_cannot_convert_is_skipped_with_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = [
        ("Basic", {"Front": "kept question", "Back": "kept answer"}, []),
        ("Cloze", {"Text": "an empty {{c1::}} deletion"}, []),
        ("Basic", {"Front": "one long word", "Back": "x" * 20_000}, []),
        ("Cloze", {"Text": "{{c1::a<ul><li>b</li></ul>c}}"}, []),
        ("Basic", {"Front": "a long line", "Back": "word " * 4_000}, []),
        # Anki strips C0 controls when it adds a note but keeps C1 ones, which the builder refuses (E110).
        ("Basic", {"Front": "next\x85 line", "Back": "fine"}, []),
    ]
    made = _package(tmp_path, notes)
    root = tmp_path / "project"
    assert _import(made, root) == 0
    err = capsys.readouterr().err
    assert ".deckforge-import" not in err and "bug in the importer" not in err, err
    for note_id, why in (
        (made.ids[1], "E050: empty cloze"),
        (made.ids[2], "a line of 20,000 characters that Markdown cannot break"),
        (made.ids[3], "spans paragraphs, a list or a table"),
    ):
        assert re.search(
            rf"source/convert/deck\.toml:1:1: warning\[E178\]: note {note_id} \(guid .*\) was not imported: .*{why}.*"
            "Learners keep its cards as they are, but builds of this deck no longer update them",
            err,
        ), err
    assert "dropped control character U+0085 (Anki shows nothing for it)" in err
    rebuilt = _rebuilt(root)
    assert set(rebuilt) == {made.guids[0], made.guids[4], made.guids[5]}
    assert visible_text(rebuilt[made.guids[0]].fields[1]) == "kept answer"
    assert visible_text(rebuilt[made.guids[4]].fields[1]) == ("word " * 4_000).strip()
    assert visible_text(rebuilt[made.guids[5]].fields[0]) == "next line"


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("<div>" * 50_000 + "x", "it is 250,001 characters long; the importer converts at most 200,000"),
        ("<b>" * 5_000 + "x", "nests elements 5,00"),
        ("<ul><li>" * 5_000 + "x", "nests elements 10,00"),
        ("<table><tr><td>" * 3_000 + "x", "nests elements"),
        ("<blockquote>" * 5_000 + "x", "nests elements"),
        ('<span style="color:red">' * 20_000 + "x", "it is 480,001 characters long"),
        ("[sound:" * 40_000, "it is 280,000 characters long"),
        ("[sound:" * 20_000, "a line of 160,000 characters that Markdown cannot break"),
        ("<img " * 40_000, None),
        ("<div>x</div>" * 15_000, None),
    ],
)
def test_hostile_fields_import_quickly(
    field: str, why: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = _package(
        tmp_path, [("Basic", {"Front": "fine", "Back": "kept"}, []), ("Basic", {"Front": "q", "Back": field}, [])]
    )
    started = time.perf_counter()
    assert _import(made, tmp_path / "project") == 0
    seconds = time.perf_counter() - started
    err = capsys.readouterr().err
    assert seconds < 8, seconds  # about a second on a loaded 2-core machine; minutes (or a crash) before
    if why is None:
        assert "E178" not in err, err
    else:
        assert re.search(rf"warning\[E178\]: note {made.ids[1]} .* was not imported: its field `Back`: .*{why}", err)


def test_active_templates_and_css_are_imported_but_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(col: Collection) -> None:
        basic = col.models.by_name("Basic")
        basic["tmpls"][0]["qfmt"] += '<script>fetch("https://x.example")</script><img src=a onerror="b()">'
        basic["tmpls"][0]["afmt"] += '<a href="javascript:go()">go</a>'
        basic["css"] += "\n@import url(https://fonts.example/x.css);\n.card { background: url(//x.example/a.png); }\n"
        col.models.update_dict(basic)

    made = _package(tmp_path, [("Basic", {"Front": "q", "Back": "a"}, [])], edit=edit)
    root = tmp_path / "project"
    assert _import(made, root) == 0
    err = capsys.readouterr().err
    where = r"source/convert/notetypes/basic/notetype\.toml:1:1: warning\[E177\]: notetype `Basic`: "
    assert re.search(where + r"template `Card 1` \(front\) has a `<script>` element, an `on\.\.\.=` event handler", err)
    assert re.search(where + r"template `Card 1` \(back\) has a `javascript:` URL", err)
    assert re.search(where + r"style\.css has a remote `url\(\.\.\.\)`, an `@import`", err), err
    folder = root / "source" / "convert" / "notetypes" / "basic"
    shipped = "".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    assert "<script>" in shipped and "@import" in shipped, "shipped as written, only flagged"


def test_minified_css_is_wrapped_between_rules_and_ships_the_same_stylesheet(tmp_path: Path) -> None:
    """Many decks ship their stylesheet as one long line, longer than the builder allows (E003): the import breaks
    it after rules' `}`, never inside a string or an unquoted `url(...)`, and the stylesheet stays the same."""
    rule = '.c{color:red}.q::after{content:"}"}.u{background:url(a}b.png)}'
    minified = rule * 400

    def edit(col: Collection) -> None:
        basic = col.models.by_name("Basic")
        basic["css"] = minified
        col.models.update_dict(basic)

    made = _package(tmp_path, [("Basic", {"Front": "q", "Back": "a"}, [])], edit=edit)
    root = tmp_path / "project"
    assert _import(made, root) == 0
    written = (root / "source" / "convert" / "notetypes" / "basic" / "style.css").read_text()
    lines = written.split("\n")
    assert len(lines) > 1 and max(map(len, lines)) < 1_000
    assert written.replace("\n", "") == minified
    assert all('content:"}"' in line or 'content:"' not in line for line in lines), "a string is never broken"
    assert all("url(a}b.png)" in line or "url(" not in line for line in lines), "nor an unquoted url"
    assert build_deck(root / "source", root / "media", root / "dist") == 0
