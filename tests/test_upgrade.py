"""A learner studies v1, then imports v2: changed notes update in place and not a single review is lost."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.ids import note_guid
from tests.conftest import import_package

DECK_ID = 1700000000001


def _run(root: Path, monkeypatch: pytest.MonkeyPatch, epoch: str, *args: str) -> int:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    monkeypatch.chdir(root)
    return main(list(args))


def _note(col: Collection, note_id: str) -> int:
    guid = note_guid(DECK_ID, note_id)
    (nid,) = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    return nid


def _scheduling(col: Collection) -> list[tuple[int, ...]]:
    return [tuple(row) for row in col.db.all("SELECT id, nid, did, ivl, due, type, queue, reps FROM cards ORDER BY id")]


def _edit_sources(deck: Path) -> None:
    basics = deck / "01-basics.md"
    basics.write_text(
        basics.read_text().replace(
            "ordered = sorted(items)  # items is unchanged", "ordered = sorted(items)  # a new list"
        )
    )
    clozes = deck / "02-clozes.md"
    text = clozes.read_text()
    clozes.write_text(text[: text.index("## The {{c1::GUID}}")])
    (deck / "03-new.md").write_text(
        "## What keeps a note's reviews across versions?\n<!-- id: keeps-reviews -->\n\nIts GUID.\n"
    )
    toml = deck / "deck.toml"
    toml.write_text(toml.read_text().replace('version = "0.3.0"', 'version = "0.4.0"\nremoved = ["cloze-title"]'))


def test_upgrade_keeps_every_review(starter: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    assert (starter / "source/starter/releases/0.3.0.json").is_file()
    first = import_package(collection, starter / "dist/starter-0.3.0.apkg")
    assert len(first.log.new) == 8

    # Study every card once, then change one untouched note locally.
    collection.decks.select(collection.decks.id_for_name("Starter Deck"))
    answered = 0
    while (card := collection.sched.getCard()) is not None:
        collection.sched.answerCard(card, 4)
        answered += 1
    assert answered == 12
    local = collection.get_note(_note(collection, "anki-schedules"))
    local["Back"] = local["Back"] + "<p>My own mnemonic.</p>"
    collection.update_note(local)

    before_cards = _scheduling(collection)
    before_revlog = collection.db.all("SELECT * FROM revlog ORDER BY id")
    before_notetypes = sorted((m.id, m.name) for m in collection.models.all_names_and_ids())
    before_decks = sorted((d.id, d.name) for d in collection.decks.all_names_and_ids())

    _edit_sources(starter / "source" / "starter")
    assert _run(starter, monkeypatch, "1700100000", "build") == 0
    second = import_package(collection, starter / "dist/starter-0.4.0.apkg")

    edited, removed, added = (note_guid(DECK_ID, n) for n in ("python-sorted", "cloze-title", "keeps-reviews"))

    def guids(entries: object) -> list[str]:
        return sorted(collection.get_note(e.id.nid).guid for e in entries)  # type: ignore[attr-defined]

    assert guids(second.log.new) == [added]
    # The edited note, plus the removed note's tombstone that tells the learner it is gone.
    assert guids(second.log.updated) == sorted([edited, removed])
    assert list(second.log.conflicting) == []
    assert list(second.log.first_field_match) == []

    after_cards = _scheduling(collection)
    new_card_ids = set(collection.card_ids_of_note(_note(collection, "keeps-reviews")))
    assert [c for c in after_cards if c[0] not in new_card_ids] == before_cards
    assert collection.db.all("SELECT * FROM revlog ORDER BY id") == before_revlog
    assert sorted((m.id, m.name) for m in collection.models.all_names_and_ids()) == before_notetypes
    assert sorted((d.id, d.name) for d in collection.decks.all_names_and_ids()) == before_decks

    assert "a new list" in collection.get_note(_note(collection, "python-sorted"))["Back"]
    assert "My own mnemonic." in collection.get_note(_note(collection, "anki-schedules"))["Back"]
    tomb = collection.get_note(_note(collection, "cloze-title"))
    assert tomb.tags == ["starter::removed"]
    assert "{{c1::removed}} from the deck in version 0.4.0" in tomb["Text"]
    assert collection.find_notes("tag:starter::removed") == [tomb.id]
    assert len(collection.find_notes("")) == 9


def test_unchanged_notes_keep_their_mod(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    _edit_sources(starter / "source" / "starter")
    assert _run(starter, monkeypatch, "1700100000", "build") == 0
    manifest = json.loads((starter / "dist/starter-0.4.0.json").read_text())
    mods = {n["id"]: n["mod"] for n in manifest["notes"]}
    assert mods.pop("python-sorted") == 1700100000
    assert mods.pop("keeps-reviews") == 1700100000
    assert mods.pop("cloze-title") == 1700100000
    assert set(mods.values()) == {1700000000}


def test_undeclared_removal_fails(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    deck = starter / "source" / "starter"
    text = (deck / "02-clozes.md").read_text()
    (deck / "02-clozes.md").write_text(text[: text.index("## The {{c1::GUID}}")])
    toml = deck / "deck.toml"
    toml.write_text(toml.read_text().replace('version = "0.3.0"', 'version = "0.3.1"'))
    capsys.readouterr()
    assert _run(starter, monkeypatch, "1700100000", "build") == 1
    err = capsys.readouterr().err
    assert re.match(
        r"source/starter/deck\.toml:3:1: error\[E100\]: note `cloze-title` \(\"The GUID identifies a note across "
        r"versions\", released in 0\.3\.0 from source/starter/02-clozes\.md:22\) is missing from the sources",
        err,
    ), err
    assert 'removed = ["cloze-title"]' in err
    assert not (starter / "dist/starter-0.3.1.apkg").exists()


def test_notetype_change_needs_a_major_version(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    manifest = starter / "source/starter/releases/0.3.0.json"
    # Pretend the released notetype had another shape (as if we had since added a field).
    manifest.write_text(
        re.sub(r'"fingerprint": "[0-9a-f]+"', '"fingerprint": "0000000000000000"', manifest.read_text(), count=1)
    )
    toml = starter / "source/starter/deck.toml"
    toml.write_text(toml.read_text().replace('version = "0.3.0"', 'version = "0.4.0"'))
    capsys.readouterr()
    assert _run(starter, monkeypatch, "1700100000", "build") == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "source/starter/deck.toml:3:11: error[E102]: notetype `Starter Deck · Basic` changed its fields"
    )
    assert 'version = "1.0.0"' in err
    toml.write_text(toml.read_text().replace('version = "0.4.0"', 'version = "1.0.0"'))
    assert _run(starter, monkeypatch, "1700100000", "build") == 0


def test_diff_prints_release_notes(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    _edit_sources(starter / "source" / "starter")
    assert _run(starter, monkeypatch, "1700100000", "build") == 0
    capsys.readouterr()
    assert main(["diff", "source/starter/releases/0.3.0.json", "dist/starter-0.4.0.json"]) == 0
    assert capsys.readouterr().out == (
        "0.3.0 -> 0.4.0\n"
        "+ keeps-reviews  What keeps a note's reviews across versions?\n"
        "~ python-sorted  Which Python call returns a sorted copy of a list?\n"
        "- cloze-title  The GUID identifies a note across versions\n"
        "1 added, 1 changed, 1 removed, 0 notetype change(s)\n"
    )
    assert main(["diff", "--markdown", "source/starter/releases/0.3.0.json", "dist/starter-0.4.0.json"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("## Changes from 0.3.0 to 0.4.0\n\n### Added (1)\n\n- What keeps a note's reviews")
    assert "### Removed (1)\n\n- The GUID identifies a note across versions (`cloze-title`)" in markdown
    # Packages compare too, by GUID.
    assert main(["diff", "dist/starter-0.3.0.apkg", "dist/starter-0.4.0.apkg"]) == 0
    assert capsys.readouterr().out.endswith("1 added, 1 changed, 1 removed, 0 notetype change(s)\n")
    assert main(["diff", "dist/nope.json", "dist/starter-0.4.0.json"]) == 1
    assert "cannot read dist/nope.json" in capsys.readouterr().err


def test_release_writes_checksums_and_notes(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Releasing a version whose manifest was never recorded fails: the next release would have no baseline.
    assert _run(starter, monkeypatch, "1700000000", "release") == 1
    assert "error[E104]: the manifest of starter 0.3.0 is missing" in capsys.readouterr().err
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    assert _run(starter, monkeypatch, "1700000000", "release") == 0
    assert (starter / "dist/RELEASE_NOTES.md").read_text() == "# Starter Deck 0.3.0\n\nFirst release: 8 notes.\n"
    _edit_sources(starter / "source" / "starter")
    assert _run(starter, monkeypatch, "1700100000", "record") == 0
    assert _run(starter, monkeypatch, "1700100000", "release") == 0
    notes = (starter / "dist/RELEASE_NOTES.md").read_text()
    assert notes.startswith("# Starter Deck 0.4.0\n\n## Changes from 0.3.0 to 0.4.0\n")
    sums = (starter / "dist/SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in sums] == ["starter-0.4.0.apkg", "starter-0.4.0.json"]
    digest = hashlib.sha256((starter / "dist/starter-0.4.0.apkg").read_bytes()).hexdigest()
    assert sums[0] == f"{digest}  starter-0.4.0.apkg"


def test_a_tombstone_stays_as_it_was_in_later_releases(
    starter: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note removed in 0.4.0 ships the same tombstone in 0.5.0: its front marked once, the version that removed
    it, the same hash and mod, so importing 0.5.0 leaves the learner's copy alone."""
    deck = starter / "source" / "starter"
    toml = deck / "deck.toml"
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    basics = deck / "01-basics.md"
    text = basics.read_text()
    start = text.index("## What does *Anki* schedule?")
    basics.write_text(text[:start] + text[text.index("## Spaced repetition") :])
    toml.write_text(toml.read_text().replace('version = "0.3.0"', 'version = "0.4.0"\nremoved = ["anki-schedules"]'))
    assert _run(starter, monkeypatch, "1700100000", "record") == 0
    toml.write_text(toml.read_text().replace('version = "0.4.0"', 'version = "0.5.0"'))
    assert _run(starter, monkeypatch, "1700200000", "build") == 0

    def entry(version: str) -> dict[str, object]:
        manifest = json.loads((starter / f"dist/starter-{version}.json").read_text())
        (found,) = [n for n in manifest["notes"] if n["id"] == "anki-schedules"]
        return dict(found)

    first, later = entry("0.4.0"), entry("0.5.0")
    assert later == first
    assert first["removed_in"] == "0.4.0" and first["mod"] == 1700100000
    assert first["front"] == "What does Anki schedule? (removed)"

    import_package(collection, starter / "dist/starter-0.4.0.apkg")
    again = import_package(collection, starter / "dist/starter-0.5.0.apkg")
    tomb = collection.get_note(_note(collection, "anki-schedules"))
    assert tomb.id not in {e.id.nid for e in again.log.updated}
    assert tomb["Front"].count("(removed)") == 1
    assert "removed from the deck in version 0.4.0" in tomb["Back"]
