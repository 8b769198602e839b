"""`import`: a real Anki deck → Markdown → our build, imported over the original in a learner's real Anki.

The deck is made with Anki's own backend (stock notetypes, renamed copies with extra fields, Image Occlusion,
HTML, images, a sound, MathJax, hierarchical tags, nested subdecks) and exported with Anki's exporter in its
current and legacy formats. A learner imports the original and reviews every card; then imports the package
built from the imported Markdown, with Anki's default options: nothing may be new, conflicting or lost.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.manifest import visible_text
from tests.anki_decks import DECK, MadeDeck, default_import, export_deck, make_deck, review_everything
from tests.conftest import build_deck

FORMATS = ("current", "legacy")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> MadeDeck:
    return make_deck(tmp_path_factory.mktemp("anki-deck"))


def _apkg(made: MadeDeck, fmt: str) -> Path:
    return made.apkg_current if fmt == "current" else made.apkg_legacy


def _import(apkg: Path, root: Path, *extra: str) -> int:
    return main(["import", str(apkg), "--source", str(root / "source"), "--media", str(root / "media"), *extra])


def _build(root: Path) -> Path:
    assert build_deck(root / "source", root / "media", root / "dist") == 0
    (apkg,) = (root / "dist").glob("*.apkg")
    return apkg


def _collection(path: Path) -> Collection:
    path.mkdir(parents=True)
    return Collection(str(path / "collection.anki2"))


def _scheduling(col: Collection) -> list[tuple[int, ...]]:
    return [tuple(r) for r in col.db.all("SELECT id, nid, did, ord, ivl, due, type, queue, reps, lapses FROM cards")]


def _visible(html: str) -> str:
    """Visible text of a field; MathJax compared without the spaces inside its delimiters."""
    html = re.sub(r"\\\(\s*(.*?)\s*\\\)", r"\\(\1\\)", html, flags=re.DOTALL)
    html = re.sub(r"\\\[\s*(.*?)\s*\\\]", r"\\[\1\\]", html, flags=re.DOTALL)
    return visible_text(re.sub(r"\[sound:[^\]]*\]|<img[^>]*>", " ", html))


def _media(col: Collection, html: str) -> list[str]:
    """The content of every image and sound a field shows (by hash): names may change, pictures may not."""
    images = re.findall(r"<img[^>]*?src=(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", html)
    names = ["".join(found) for found in images] + re.findall(r"\[sound:([^\]]+)\]", html)
    return sorted(hashlib.sha256((Path(col.media.dir()) / n).read_bytes()).hexdigest() for n in names)


def _notes(col: Collection) -> dict[str, tuple[str, list[str], list[list[str]], list[str]]]:
    """Per GUID: notetype, tags, and per field its visible text and media."""
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        fields = [[_visible(f), *_media(col, f)] for f in note.fields]
        out[note.guid] = (note.note_type()["name"], sorted(note.tags), fields, [])
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_rebuilt_deck_updates_learners_in_place(made: MadeDeck, fmt: str, tmp_path: Path) -> None:
    original = _apkg(made, fmt)
    assert _import(original, tmp_path) == 0
    rebuilt = _build(tmp_path)

    learner = _collection(tmp_path / "learner")
    try:
        first = default_import(learner, original)
        assert len(first.log.new) == made.notes
        assert review_everything(learner) == made.cards
        assert all(ivl > 0 for (ivl,) in learner.db.all("SELECT ivl FROM cards"))
        before = _scheduling(learner)
        revlog = learner.db.all("SELECT * FROM revlog ORDER BY id")
        notetypes = sorted((m.id, m.name) for m in learner.models.all_names_and_ids())
        notes = _notes(learner)

        second = default_import(learner, rebuilt)
        log = second.log
        assert (len(log.new), len(log.conflicting), len(log.updated)) == (0, 0, 0)
        assert len(log.duplicate) == made.notes, "every note is matched, and unchanged"
        assert list(log.first_field_match) == [] and list(log.missing_notetype) == []
        assert learner.note_count() == made.notes
        assert sorted((m.id, m.name) for m in learner.models.all_names_and_ids()) == notetypes
        assert _scheduling(learner) == before
        assert learner.db.all("SELECT * FROM revlog ORDER BY id") == revlog
        assert _notes(learner) == notes
    finally:
        learner.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_rebuilt_notes_show_what_the_originals_showed(made: MadeDeck, fmt: str, tmp_path: Path) -> None:
    """A new learner of the rebuilt deck sees every field's text and every image and sound of the original."""
    original = _apkg(made, fmt)
    assert _import(original, tmp_path) == 0
    old, new = _collection(tmp_path / "old"), _collection(tmp_path / "new")
    try:
        default_import(old, original)
        result = default_import(new, _build(tmp_path))
        assert len(result.log.new) == made.notes
        assert new.card_count() == made.cards
        assert _notes(new) == _notes(old)
        decks = {d.name for d in old.decks.all_names_and_ids()} - {"Default"}
        assert decks <= {d.name for d in new.decks.all_names_and_ids()}
        for cid in old.find_cards(""):
            card = old.get_card(cid)
            (twin,) = [
                new.get_card(c)
                for c in new.find_cards("")
                if new.get_card(c).note().guid == card.note().guid and new.get_card(c).ord == card.ord
            ]
            assert old.decks.name(card.did) == new.decks.name(twin.did)
    finally:
        old.close()
        new.close()


def test_written_markdown_reads_naturally(made: MadeDeck, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _import(made.apkg_current, tmp_path) == 0
    err = capsys.readouterr().err
    assert "notetypes/vocabulary/notetype.toml:1:1: warning[E177]: notetype `Vocabulary` loads `_accent.woff2`" in err
    assert err.count("warning[") == 1, err
    deck = tmp_path / "source" / "spanish-essentials"
    toml = (deck / "deck.toml").read_text()
    assert toml.startswith(f'name = "{DECK}"\nid = ') and 'version = "1.0.0"' in toml
    notes = (deck / "notes.md").read_text()
    assert "## **hola**\n<!-- id: hola\nguid: " in notes
    assert "hello\\\n![](spanish-essentials/casa.png)" in notes
    assert "- **el** (masculine)\n- **la** (feminine)\n\nPlural: los, las" in notes
    assert '| tú | <span style="color: rgb(255, 0, 0)">eres</span> |' in notes
    assert '```python\nprint("hola")  # 4 < 5\n```' in notes and "[the docs](https://docs.python.org/3/)" in notes
    assert "$A = \\pi r^2$ and $$C = 2\\pi r$$" in notes
    assert "## {{c1::Madrid}} is the capital of {{c2::Spain::country}}\n" in notes
    assert "### Occlusion\n\n{{c1::image-occlusion:rect:" in notes
    assert "### Image\n\n![](spanish-essentials/map-of-spain.png)" in notes
    nouns = (deck / "nouns-things.md").read_text()
    assert nouns.startswith('---\ndeck: "Nouns & Things"\nnotetype: vocabulary\n---\n')
    assert "### Audio\n\n[sound:spanish-essentials/hola.mp3]" in nouns
    assert (deck / "verbs" / "irregular.md").read_text().startswith("---\ndeck: Verbs::Irregular\n")
    assert "tags: [lang::es::verbs]" in (deck / "verbs.md").read_text()
    vocabulary = (deck / "notetypes" / "vocabulary" / "notetype.toml").read_text()
    assert 'name = "Vocabulary"' in vocabulary and '[[fields]]\nname = "Notes"\nid = ' in vocabulary
    assert "{{#Example}}" in (deck / "notetypes" / "vocabulary" / "card-1" / "back.html").read_text()
    assert ".example" in (deck / "notetypes" / "vocabulary" / "style.css").read_text()
    assert sorted(p.name for p in (tmp_path / "media" / "spanish-essentials").iterdir()) == [
        "casa.png",
        "hola.mp3",
        "map-of-spain.png",
    ]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_round_trip_gives_the_same_markdown(made: MadeDeck, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import, build, import the build: the same files again, byte for byte."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    assert main(["import", str(made.apkg_current)]) == 0
    assert main(["build"]) == 0
    monkeypatch.chdir(second)
    assert main(["import", str(first / "dist" / "spanish-essentials-1.0.0.apkg")]) == 0
    assert _tree(second / "source") == _tree(first / "source")
    assert _tree(second / "media") == _tree(first / "media")


def test_an_edit_updates_the_learners_note_in_place(made: MadeDeck, tmp_path: Path) -> None:
    assert _import(made.apkg_current, tmp_path) == 0
    deck = tmp_path / "source" / "spanish-essentials"
    learner = _collection(tmp_path / "learner")
    try:
        default_import(learner, made.apkg_current)
        review_everything(learner)
        before = _scheduling(learner)
        nouns = deck / "nouns-things.md"
        nouns.write_text(nouns.read_text().replace("Mi casa es tu casa.", "Mi casa es **tu** casa."))
        toml = deck / "deck.toml"
        toml.write_text(toml.read_text().replace('version = "1.0.0"', 'version = "1.1.0"'))
        result = default_import(learner, _build(tmp_path))
        assert (len(result.log.new), len(result.log.conflicting), len(result.log.updated)) == (0, 0, 1)
        (nid,) = learner.find_notes('"Front:la casa"')
        assert learner.get_note(nid)["Example"] == "Mi casa es <strong>tu</strong> casa."
        assert _scheduling(learner) == before
    finally:
        learner.close()


def test_the_shape_guard_covers_deck_defined_notetypes(
    made: MadeDeck, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(made.apkg_current, tmp_path) == 0
    toml = tmp_path / "source" / "spanish-essentials" / "notetypes" / "vocabulary" / "notetype.toml"
    toml.write_text(toml.read_text() + '\n[[fields]]\nname = "Plural"\n')
    capsys.readouterr()
    assert build_deck(tmp_path / "source", tmp_path / "media", tmp_path / "dist") == 1
    err = capsys.readouterr().err
    assert "error[E102]: notetype `Vocabulary` changed its fields or templates since 1.0.0-anki" in err
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.apkg"))


def test_a_2000_note_deck_imports_in_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    col = _collection(tmp_path / "big")
    try:
        basic = col.models.by_name("Basic")
        did = col.decks.id("Big Deck")
        for i in range(2000):
            note = col.new_note(basic)
            note["Front"] = f"Question <b>{i}</b> about <i>topic {i % 37}</i>"
            note["Back"] = f"Answer {i}<br><ul><li>point {i}</li><li>\\(x_{{{i}}}\\)</li></ul>"
            note.tags = [f"topic::{i % 37}"]
            col.add_note(note, did)
        apkg = export_deck(col, did, tmp_path / "big.apkg")
    finally:
        col.close()
    started = time.perf_counter()
    assert _import(apkg, tmp_path / "project") == 0
    seconds = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "(2000 notes, 1 notetypes" in out
    print(f"\n2,000-note deck imported in {seconds:.2f} s")
    # Generous: a loaded 2-core CI machine; measured about 4 s on one.
    assert seconds < 60
    files = sorted(p.name for p in (tmp_path / "project" / "source" / "big-deck").glob("*.md"))
    assert files == ["notes.md", "notes.part002.md", "notes.part003.md", "notes.part004.md"]


def _shutil_copy(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    return dst


def _legacy_variant(made: MadeDeck, target: Path, *, media: dict[str, str] | None = None, sql: str = "") -> Path:
    """The legacy export with its media list or collection changed, as a damaged or hostile package would be."""
    import sqlite3
    import zipfile

    work = target.parent / f"{target.stem}-work"
    work.mkdir()
    with zipfile.ZipFile(made.apkg_legacy) as source:
        members = {name: source.read(name) for name in source.namelist()}
    if media is not None:
        import json

        members["media"] = json.dumps(media).encode()
    if sql:
        db = work / "collection.anki21"
        db.write_bytes(members["collection.anki21"])
        connection = sqlite3.connect(db)
        connection.executescript(sql)
        connection.commit()
        connection.close()
        members["collection.anki21"] = db.read_bytes()
    with zipfile.ZipFile(target, "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    return target


def _nothing_written(root: Path) -> bool:
    return not (root / "source").exists() and not (root / "media").exists()


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("not-a-zip", "E170", "found a file that is not a zip archive; expected an .apkg file exported from Anki"),
        ("truncated", "E170", "cannot import"),
        ("no-collection", "E170", "found no collection in the archive"),
        ("unsafe-media", "E175", "which would be written outside media/"),
        ("bad-template", "E176", "is not supported: template `Card 1` (front) does not parse"),
        ("two-trees", "E172", "found cards in 2 deck trees"),
        ("markup-in-deck-name", "E172", "the deck `Spanish <b>Essentials</b>` has `<`"),
    ],
)
def test_bad_packages_are_reported_and_write_nothing(
    made: MadeDeck, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, code: str, message: str
) -> None:
    import zipfile

    apkg = tmp_path / f"{case}.apkg"
    if case == "not-a-zip":
        apkg.write_bytes(b"this is not a zip file\n")
    elif case == "truncated":
        apkg.write_bytes(made.apkg_current.read_bytes()[:2000])
    elif case == "no-collection":
        with zipfile.ZipFile(apkg, "w") as out:
            out.writestr("media", "{}")
    elif case == "unsafe-media":
        _legacy_variant(made, apkg, media={"0": "../../outside.png", "1": "hola.mp3", "2": "casa.png"})
    elif case == "bad-template":
        models = 'UPDATE col SET models = replace(models, \'"qfmt":"{{Front}}"\', \'"qfmt":"{{#Front}}{{Front}}"\')'
        _legacy_variant(made, apkg, sql=models + ";")
    elif case == "two-trees":
        sql = (
            "UPDATE cards SET did = 1 WHERE id = (SELECT min(id) FROM cards);"
            'UPDATE col SET decks = json_set(decks, \'$."1"\', json(\'{"id": 1, "name": "Other"}\'));'
        )
        _legacy_variant(made, apkg, sql=sql)
    elif case == "markup-in-deck-name":
        # A template's {{Deck}} is not escaped: the built deck must not carry such a name to learners.
        sql = "UPDATE col SET decks = replace(decks, 'Spanish Essentials', 'Spanish <b>Essentials</b>');"
        _legacy_variant(made, apkg, sql=sql)
    root = tmp_path / "project"
    root.mkdir()
    capsys.readouterr()
    assert _import(apkg, root) == 1
    err = capsys.readouterr().err
    assert f"error[{code}]: " in err and message in err, err
    assert "Traceback" not in err
    assert _nothing_written(root)


def test_an_existing_deck_folder_is_never_overwritten(
    made: MadeDeck, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(made.apkg_current, tmp_path) == 0
    before = _tree(tmp_path)
    capsys.readouterr()
    assert _import(made.apkg_legacy, tmp_path) == 1
    err = capsys.readouterr().err
    assert "error[E173]: the deck folder" in err and "already exists" in err and "--deck-folder" in err
    assert _tree(tmp_path) == before
    assert _import(made.apkg_legacy, tmp_path, "--deck-folder", "spanish-2") == 0
    assert (tmp_path / "source" / "spanish-2" / "deck.toml").is_file()


def test_dropped_content_is_reported_at_the_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    col = _collection(tmp_path / "hostile")
    try:
        did = col.decks.id("Hostile")
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"] = "Safe question"
        note["Back"] = (
            'Answer<script>alert(1)</script><img src="x.png" onerror="alert(2)"><a href="javascript:x()">y</a>'
        )
        note.tags = ["ok", "<img/src=x/onerror=alert(3)>"]
        col.add_note(note, did)
        apkg = export_deck(col, did, tmp_path / "hostile.apkg")
        nid = note.id
    finally:
        col.close()
    capsys.readouterr()
    assert _import(apkg, tmp_path / "project") == 0
    err = capsys.readouterr().err
    assert re.search(r"source/hostile/notes\.md:5:1: warning\[E177\]: note \d+ \(guid .*\): dropped ", err), err
    assert f"note {nid} " in err
    for dropped in (
        "`<script>` element",
        "event handler `onerror`",
        "link to `javascript:x()`",
        "image `x.png`",
        "tag `<img/src=x/onerror=alert(3)>` (a tag cannot hold spaces, quotes, `<` or `>`)",
    ):
        assert dropped in err, err
    text = (tmp_path / "project" / "source" / "hostile" / "notes.md").read_text()
    assert "script" not in text and "alert" not in text and "javascript" not in text
    assert "Answer" in text and "y" in text


def test_a_package_our_builder_made_imports_too(starter_apkg: Path, tmp_path: Path) -> None:
    """genanki's schema-11 layout as our builder writes it: its built-in notetypes become deck-defined ones."""
    assert _import(starter_apkg, tmp_path) == 0
    deck = tmp_path / "source" / "starter-deck"
    assert sorted(p.name for p in (deck / "notetypes").iterdir()) == [
        "starter-deck-basic",
        "starter-deck-cloze",
        "starter-deck-reverse",
    ]
    assert "## Stages of the build\n" in (deck / "clozes.md").read_text()
    learner = _collection(tmp_path / "learner")
    try:
        assert len(default_import(learner, starter_apkg).log.new) == 8
        assert review_everything(learner, "Starter Deck") == 12
        before = _scheduling(learner)
        log = default_import(learner, _build(tmp_path)).log
        assert (len(log.new), len(log.conflicting), len(log.updated), len(log.duplicate)) == (0, 0, 0, 8)
        assert _scheduling(learner) == before
    finally:
        learner.close()


def test_explicit_guids_are_validated_and_unique(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deck = tmp_path / "source" / "guids"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Guids"\nid = 1700000000077\nversion = "1.0.0"\n')
    (deck / "notes.md").write_text(
        '## One\n<!-- id: one\nguid: "a#b:c" -->\n\nFirst.\n\n'
        '## Two\n<!-- id: two\nguid: "a#b:c" -->\n\nSecond.\n\n'
        '## Three\n<!-- id: three\nguid: "has space" -->\n\nThird.\n'
    )
    (tmp_path / "media").mkdir()
    capsys.readouterr()
    assert build_deck(tmp_path / "source", tmp_path / "media", tmp_path / "dist") == 1
    err = capsys.readouterr().err
    assert "notes.md:7:4: error[E186]: GUID `a#b:c` is also the GUID of the note at" in err
    assert re.search(r"notes\.md:15:7: error\[E186\]: found `has space` for `guid`", err), err
