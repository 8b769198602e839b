"""Edit links: with `repository` in deck.toml every card's back links to its source line at a released tag.

Built from the starter fixture and imported with the real Anki backend. The link of an unchanged note must not
move between releases (its fields and mod stay the same, so a learner's own edits survive); a changed note's
link moves to the new tag and its current line.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.ids import note_guid
from tests.conftest import import_package

DECK_ID = 1700000000001
REPO = "https://github.com/octo-org/starter-deck"
BLOB = f"{REPO}/blob"
LINK = re.compile(r'<a class="df-edit" href="([^"]+)">')


def _run(root: Path, monkeypatch: pytest.MonkeyPatch, epoch: str, *args: str) -> int:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    monkeypatch.chdir(root)
    return main(list(args))


def _set_config(root: Path, **values: str) -> None:
    toml = root / "source/starter/deck.toml"
    text = toml.read_text()
    for key, value in values.items():
        if key == "version":
            text = re.sub(r'version = "[^"]+"', f'version = "{value}"', text)
        else:
            text += f'{key} = "{value}"\n'
    toml.write_text(text)


def _line_of(path: Path, heading: str) -> int:
    return path.read_text().splitlines().index(heading) + 1


def _note(col: Collection, note_id: str) -> int:
    guid = note_guid(DECK_ID, note_id)
    (nid,) = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    return nid


def _manifest(root: Path, version: str) -> dict[str, dict[str, object]]:
    data = json.loads((root / f"dist/starter-{version}.json").read_text())
    return {note["id"]: note for note in data["notes"]}


def test_every_card_links_to_its_source_line(
    starter: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_config(starter, repository=REPO)
    assert _run(starter, monkeypatch, "1700000000", "build") == 0
    import_package(collection, starter / "dist/starter-0.3.0.apkg")

    basics = starter / "source/starter/01-basics.md"
    line = _line_of(basics, "## What does *Anki* schedule?")
    note = collection.get_note(_note(collection, "anki-schedules"))
    assert LINK.findall(note["Source"]) == [f"{BLOB}/v0.3.0/source/starter/01-basics.md?plain=1#L{line}"]
    assert "Report or fix on GitHub" in note["Source"]

    # Every note of every kind has one, on the back of every card and never on the front.
    for nid in collection.find_notes(""):
        fields = collection.get_note(nid)
        assert len(LINK.findall(fields["Source"])) == 1, fields.items()
        for card in fields.cards():
            assert not LINK.search(card.question())
            assert len(LINK.findall(card.answer())) == 1

    clozes = starter / "source/starter/02-clozes.md"
    cloze = collection.get_note(_note(collection, "cloze-table"))
    assert LINK.findall(cloze["Source"]) == [
        f"{BLOB}/v0.3.0/source/starter/02-clozes.md?plain=1#L{_line_of(clozes, '## Cloze in a table')}"
    ]
    manifest = _manifest(starter, "0.3.0")
    assert manifest["anki-schedules"]["edit"] == f"{BLOB}/v0.3.0/source/starter/01-basics.md?plain=1#L{line}"


def test_citations_and_the_link_share_the_source_field(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    basics = starter / "source/starter/01-basics.md"
    basics.write_text(
        basics.read_text().replace(
            "<!-- id: anki-schedules -->", "<!-- id: anki-schedules\nsource: https://docs.ankiweb.net/ -->"
        )
    )
    _set_config(starter, repository=REPO)
    assert _run(starter, monkeypatch, "1700000000", "build") == 0
    (source,) = [
        f for f in _apkg_fields(starter / "dist/starter-0.3.0.apkg") if "docs.ankiweb.net" in f and "df-edit" in f
    ]
    assert source.index("docs.ankiweb.net") < source.index("df-edit"), "cited pages first, then the edit link"


def _apkg_fields(apkg: Path) -> list[str]:
    """Every field of every note in a package, read with Anki itself."""
    folder = apkg.parent / "read"
    folder.mkdir(exist_ok=True)
    col = Collection(str(folder / f"{apkg.stem}.anki2"))
    try:
        import_package(col, apkg)
        return [field for nid in col.find_notes("") for field in col.get_note(nid).fields]
    finally:
        col.close()


def test_unchanged_note_keeps_its_link_and_a_changed_note_moves(
    starter: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_config(starter, repository=REPO)
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    first = import_package(collection, starter / "dist/starter-0.3.0.apkg")
    assert len(first.log.new) == 8
    basics = starter / "source/starter/01-basics.md"
    old_line = _line_of(basics, "## What does *Anki* schedule?")
    before = {nid: collection.get_note(nid).fields for nid in collection.find_notes("")}

    # Two lines above every note of the file: lines move, content does not. Then one note changes.
    text = basics.read_text().replace("# Basic and reverse notes\n", "# Basic and reverse notes\n\nIntro.\n", 1)
    basics.write_text(text.replace("# items is unchanged", "# a new list"))
    _set_config(starter, version="0.4.0")
    assert _run(starter, monkeypatch, "1700100000", "build") == 0
    second = import_package(collection, starter / "dist/starter-0.4.0.apkg")

    updated = sorted(collection.get_note(e.id.nid).guid for e in second.log.updated)
    assert updated == [note_guid(DECK_ID, "python-sorted")], "only the changed note is updated"
    unchanged = collection.get_note(_note(collection, "anki-schedules"))
    assert unchanged.fields == before[unchanged.id], "an unchanged note's fields stay byte-identical"
    assert LINK.findall(unchanged["Source"]) == [f"{BLOB}/v0.3.0/source/starter/01-basics.md?plain=1#L{old_line}"]
    assert _line_of(basics, "## What does *Anki* schedule?") == old_line + 2, "the link keeps the line at its tag"

    changed = collection.get_note(_note(collection, "python-sorted"))
    new_line = _line_of(basics, "## Which Python call returns a sorted copy of a list?")
    assert LINK.findall(changed["Source"]) == [f"{BLOB}/v0.4.0/source/starter/01-basics.md?plain=1#L{new_line}"]

    old, new = _manifest(starter, "0.3.0"), _manifest(starter, "0.4.0")
    assert new["anki-schedules"]["edit"] == old["anki-schedules"]["edit"]
    assert new["anki-schedules"]["mod"] == old["anki-schedules"]["mod"] == 1700000000
    assert new["python-sorted"]["mod"] == 1700100000


def test_no_repository_no_link(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(starter, monkeypatch, "1700000000", "build") == 0
    assert not any("df-edit" in f or "github.com" in f for f in _apkg_fields(starter / "dist/starter-0.3.0.apkg"))
    assert '"edit"' not in (starter / "dist/starter-0.3.0.json").read_text(), "manifests without links read as before"


def test_adding_a_repository_updates_every_note_once(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest from before links (or without a repository) still reads; each note then gains its link."""
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    _set_config(starter, repository=REPO, version="0.4.0")
    assert _run(starter, monkeypatch, "1700100000", "build") == 0
    new = _manifest(starter, "0.4.0")
    assert all(str(n["edit"]).startswith(f"{BLOB}/v0.4.0/") for n in new.values())
    assert {n["mod"] for n in new.values()} == {1700100000}, "a card that gains a link is a changed card"
    monkeypatch.chdir(starter)
    assert main(["diff", "dist/starter-0.3.0.json", "dist/starter-0.4.0.json"]) == 0


def test_tag_template_and_repository_root(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths start at the git work tree, wherever the source folder sits in it; the tag follows deck.toml."""
    repo = starter.parent / "work"
    (repo / "decks").mkdir(parents=True)
    starter.rename(repo / "decks" / "starter")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    root = repo / "decks" / "starter"
    _set_config(root, repository=REPO, tag="{slug}-v{version}")
    assert _run(root, monkeypatch, "1700000000", "build") == 0
    line = _line_of(root / "source/starter/01-basics.md", "## What does *Anki* schedule?")
    assert _manifest(root, "0.3.0")["anki-schedules"]["edit"] == (
        f"{BLOB}/starter-v0.3.0/decks/starter/source/starter/01-basics.md?plain=1#L{line}"
    )


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("repository", "https://gitlab.com/octo/deck", "E190"),
        ("repository", "https://github.com/octo/deck/", "E190"),
        ("repository", "https://github.com/octo/deck.git", "E190"),
        ("tag", "release", "E191"),
        ("tag", "v{major}", "E191"),
    ],
)
def test_bad_repository_or_tag_is_a_located_error(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str, value: str, code: str
) -> None:
    _set_config(starter, **{key: value})
    assert _run(starter, monkeypatch, "1700000000", "build") == 1
    err = capsys.readouterr().err
    line = _line_of(starter / "source/starter/deck.toml", f'{key} = "{value}"')
    assert f"source/starter/deck.toml:{line}:" in err
    assert f"error[{code}]: found `{value}` for `{key}`; expected" in err
    assert "Traceback" not in err
    assert not (starter / "dist").exists() or not any((starter / "dist").iterdir())


def test_release_refuses_a_tag_the_links_do_not_name(
    starter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_config(starter, repository=REPO)
    assert _run(starter, monkeypatch, "1700000000", "record") == 0
    capsys.readouterr()
    assert _run(starter, monkeypatch, "1700000000", "release", "--tag", "0.3.0") == 1
    err = capsys.readouterr().err
    assert "source/starter/deck.toml:1:1: error[E196]: the release is tagged `0.3.0`, but the edit links" in err
    assert "Tag the release `v0.3.0`" in err
    assert not (starter / "dist/SHA256SUMS").exists()
    assert _run(starter, monkeypatch, "1700000000", "release", "--tag", "v0.3.0") == 0
    assert (starter / "dist/SHA256SUMS").is_file()
