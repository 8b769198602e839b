"""`import` of damaged, hand-made or hostile packages: one E170 line, exit 1, nothing written, never a traceback.

Every package starts as a real export of Anki's own exporter and is then damaged the way a broken tool, a
truncated download or an attacker would: a JSON list where Anki writes an object, JSON nested 100,000 deep, a
font size of 1e999, a GUID stored as a BLOB, a zstd bomb. Where Anki itself accepts a value (a deck named
`Top::`), the import gives what Anki gives the learner.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard
from anki.collection import Collection

from builder.cli import main
from builder.importer import apkg
from builder.importer.names import windows_reserved
from tests.anki_decks import default_import, export_deck, png

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Exports:
    legacy: Path
    current: Path


def _export(folder: Path, top: str = "Top", sub: str = "Top::Sub", media: str = "pic.png") -> Exports:
    """Two notes in `top` and `sub`, one showing `media`, exported by Anki in both formats."""
    folder.mkdir(parents=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        (folder / media).write_bytes(png(4, 3, (200, 30, 30)))
        name = col.media.add_file(str(folder / media))
        for deck, front, back in ((top, "Capital of Spain?", f'Madrid <img src="{name}">'), (sub, "Río?", "River")):
            note = col.new_note(col.models.by_name("Basic"))
            note["Front"], note["Back"] = front, back
            col.add_note(note, col.decks.id(deck))
        top_id = col.decks.id(top.split("::")[0])
        out = {
            legacy: export_deck(col, top_id, folder / f"{'legacy' if legacy else 'current'}.apkg", legacy=legacy)
            for legacy in (True, False)
        }
        return Exports(out[True], out[False])
    finally:
        col.close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    return _export(tmp_path_factory.mktemp("anki") / "deck")


def _rezip(source: Path, target: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return target


def _legacy(exports: Exports, target: Path, edit: Callable[[sqlite3.Connection], None]) -> Path:
    """The legacy export with its collection changed by `edit`."""

    def change(members: dict[str, bytes]) -> None:
        db = target.with_suffix(".db")
        db.write_bytes(members["collection.anki21"])
        connection = sqlite3.connect(db)
        edit(connection)
        connection.commit()
        connection.close()
        members["collection.anki21"] = db.read_bytes()

    return _rezip(exports.legacy, target, change)


def _sql(statement: str) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.executescript(statement) and None


def _models(change: Callable[[dict[str, object]], None]) -> Callable[[sqlite3.Connection], None]:
    """Change every notetype of the `col` row's JSON with `change` (a dict per notetype)."""

    def edit(db: sqlite3.Connection) -> None:
        (models,) = db.execute("SELECT models FROM col").fetchone()
        data = json.loads(models)
        for model in data.values():
            change(model)
        db.execute("UPDATE col SET models = ?", (json.dumps(data).replace('"__INF__"', "1e999"),))

    return edit


def _import(apkg_path: Path, root: Path, *extra: str) -> int:
    return main(["import", str(apkg_path), "--source", str(root / "source"), "--media", str(root / "media"), *extra])


def _refused(apkg_path: Path, root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """The import's one error line, after checking it failed cleanly and wrote nothing."""
    root.mkdir(parents=True, exist_ok=True)
    capsys.readouterr()
    assert _import(apkg_path, root, *extra) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert not (root / "source").exists() and not (root / "media").exists(), err
    return err


def _set_size(model: dict[str, object]) -> None:
    fields = model["flds"]
    assert isinstance(fields, list)
    fields[0]["size"] = "__INF__"


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    return lambda model: model.__setitem__(key, value)


def _deep_media(members: dict[str, bytes]) -> None:
    members["media"] = b"[" * 100_000 + b"]" * 100_000


def _missing_member(members: dict[str, bytes]) -> None:
    members["media"] = json.dumps({"0": "pic.png", "7": "gone.png"}).encode()


def _empty_collection(members: dict[str, bytes]) -> None:
    members["collection.anki21"] = b""


LEGACY_CASES: dict[str, tuple[Callable[[sqlite3.Connection], None], str]] = {
    "models-list": (_sql("UPDATE col SET models = '[]'"), "`col.models` is `[]`; expected a JSON object"),
    "decks-list": (_sql("UPDATE col SET decks = '[]'"), "`col.decks` is `[]`; expected a JSON object"),
    "deep-json": (
        _sql(f"UPDATE col SET models = '{'[' * 100_000}{']' * 100_000}'"),
        "`col.models` nests too deeply to be read; expected the JSON Anki writes",
    ),
    "size-infinity": (_models(_set_size), "the font size of field `Front` of notetype `Basic` is `Infinity`"),
    "sortf-past-the-fields": (_models(_set("sortf", 7)), "sorts by field index 7 but has 2 fields; expected 0 to 1"),
    "sortf-negative": (_models(_set("sortf", -1)), "the sort field of notetype `Basic` is `-1`; expected a whole"),
    "note-mod-negative": (
        _sql("UPDATE notes SET mod = -5"),
        "has the modification time -5; expected seconds since 1970, up to the year 9999",
    ),
    "note-mod-huge": (_sql(f"UPDATE notes SET mod = {2**63 - 1}"), f"has the modification time {2**63 - 1}"),
    "note-mod-text": (_sql("UPDATE notes SET mod = 'x'"), 'is `"x"`; expected a whole number'),
    # Anki's own reader refuses these (rusqlite's InvalidColumnType): a BLOB is never turned into "b'...'".
    "blob-guid": (
        _sql("UPDATE notes SET guid = CAST(guid AS BLOB)"),
        "is a BLOB (",
    ),
    "blob-tags": (_sql("UPDATE notes SET tags = CAST(' t1 ' AS BLOB)"), "is a BLOB (20 74 31 20); expected text"),
    "null-deck-name": (
        _sql("UPDATE col SET decks = json_set(decks, '$.1.name', json('null'))"),
        "the name of deck 1 is NULL; expected text",
    ),
    "no-col-row": (_sql("DELETE FROM col"), "has no `col` row"),
    "models-blob": (_sql("UPDATE col SET models = CAST(models AS BLOB)"), "`col.models` is a BLOB ("),
}


@pytest.mark.parametrize("case", sorted(LEGACY_CASES))
def test_a_malformed_collection_is_one_e170(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    edit, message = LEGACY_CASES[case]
    package = _legacy(exports, tmp_path / f"{case}.apkg", edit)
    err = _refused(package, tmp_path / "project", capsys)
    assert f"{package}:1:1: error[E170]: cannot import {package}: `collection.anki21` does not hold" in err, err
    assert message in err, err
    assert err.count("error[") == 1, err


def test_a_blob_guid_is_refused_as_anki_refuses_it(exports: Exports, tmp_path: Path) -> None:
    """Anki cannot read the note either: importing such a package fails in Anki too, not with another GUID."""
    package = _legacy(exports, tmp_path / "blob.apkg", _sql("UPDATE notes SET guid = CAST(guid AS BLOB)"))
    tmp_path.joinpath("anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        with pytest.raises(Exception, match="InvalidColumnType"):
            default_import(col, package)
    finally:
        col.close()


ARCHIVE_CASES: dict[str, tuple[Callable[[dict[str, bytes]], None], str]] = {
    "deep-media-json": (_deep_media, "the media list nests too deeply to be read"),
    "media-member-missing": (
        _missing_member,
        "the media list names member `7` for `gone.png`, which the archive does not hold",
    ),
    "empty-collection": (_empty_collection, "`collection.anki21` is not an SQLite database (it is empty)"),
}


@pytest.mark.parametrize("case", sorted(ARCHIVE_CASES))
def test_a_malformed_archive_is_one_e170(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    change, message = ARCHIVE_CASES[case]
    package = _rezip(exports.legacy, tmp_path / f"{case}.apkg", change)
    err = _refused(package, tmp_path / "project", capsys)
    assert f"error[E170]: cannot import {package}: {message}" in err, err


def test_a_corrupt_deflate_stream_is_one_e170(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = _rezip(exports.legacy, tmp_path / "deflate.apkg", lambda members: None)
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as archive:
        info = archive.getinfo("collection.anki21")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    for i in range(start, start + 200):
        data[i] ^= 0x55
    package.write_bytes(bytes(data))
    err = _refused(package, tmp_path / "project", capsys)
    assert "error[E170]: cannot import" in err and "cannot unpack `collection.anki21` (" in err, err
    assert "the package is damaged. Export it again" in err


def test_a_current_format_media_file_that_is_not_zstd_is_one_e170(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def damage(members: dict[str, bytes]) -> None:
        members["0"] = png(4, 3, (1, 2, 3))  # stored as it is, where Anki stores it zstd-compressed

    package = _rezip(exports.current, tmp_path / "media.apkg", damage)
    err = _refused(package, tmp_path / "project", capsys)
    assert "error[E170]: cannot import" in err and "`0` is not valid zstd data" in err, err


def _bomb(target: Path, size: int, declared: bool) -> Path:
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=declared)
    chunk = b"\0" * (1 << 24)
    frame = compressor.compressobj(size=size if declared else -1)
    parts = [frame.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(frame.flush())
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("meta", b"\x08\x03")
        archive.writestr("collection.anki21b", b"".join(parts))
        archive.writestr("media", zstandard.ZstdCompressor().compress(b""))
    return target


@pytest.mark.parametrize("declared", [True, False])
def test_a_zstd_bomb_is_refused_before_its_memory_is_used(tmp_path: Path, declared: bool) -> None:
    """A 60 KB package whose collection unpacks to 1.9 GB: refused under a 1 GiB address-space limit.

    Before, the collection was unpacked into memory and copied twice (3.7 GB peak), or died with MemoryError.
    """
    package = _bomb(tmp_path / "bomb.apkg", 1_900_000_000 // (1 << 24) * (1 << 24), declared)
    assert package.stat().st_size < 200_000

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    run = subprocess.run(
        [sys.executable, "-m", "builder", "import", str(package), "--source", "s", "--media", "m"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "error[E170]: cannot import" in run.stderr
    assert "`collection.anki21b` unpacks to more than 536,870,912 bytes; expected a deck, not a zip bomb" in run.stderr
    assert not (tmp_path / "s").exists() and not (tmp_path / "m").exists()


def test_the_total_unpacked_is_bounded_across_members(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each media file under its own bound, together past the total: refused while reading, not after."""
    monkeypatch.setattr(apkg, "MAX_UNPACKED_BYTES", 10_000)
    err = _refused(exports.legacy, tmp_path / "project", capsys)
    assert "error[E170]: cannot import" in err and "bytes; expected at most 10,000" in err, err


def test_the_total_unpacked_is_counted_while_reading(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """zstd members say nothing true about their size up front: what they unpack to is counted as it comes."""
    from builder.importer import model

    monkeypatch.setattr(apkg, "_declared", lambda archive: None)
    monkeypatch.setattr(model, "MAX_UNPACKED_BYTES", 20_000)
    err = _refused(exports.current, tmp_path / "project", capsys)
    assert "error[E170]: cannot import" in err, err
    assert "the package unpacks to more than 20,000 bytes in all; expected a deck, not a zip bomb" in err, err


def _imported_deck_names(package: Path, folder: Path) -> list[str]:
    folder.mkdir(parents=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        default_import(col, package)
        return sorted(d.name for d in col.decks.all_names_and_ids() if d.id != 1)
    finally:
        col.close()


def test_an_empty_deck_level_is_named_as_anki_names_it(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`Top::` is `Top::blank` in the learner's Anki, so the built deck must call it that too, not merge it."""
    package = _legacy(
        exports, tmp_path / "blank.apkg", _sql("UPDATE col SET decks = replace(decks, 'Top::Sub', 'Top::')")
    )
    root = tmp_path / "project"
    root.mkdir()
    assert _import(package, root) == 0
    assert "deck: blank\n" in (root / "source" / "top" / "blank.md").read_text()
    from tests.conftest import build_deck

    assert build_deck(root / "source", root / "media", root / "dist") == 0
    (built,) = (root / "dist").glob("*.apkg")
    learner = _imported_deck_names(package, tmp_path / "learner")
    assert learner == ["Top", "Top::blank"]
    assert _imported_deck_names(built, tmp_path / "rebuilt") == learner


@pytest.mark.parametrize(
    ("old", "new", "missing"), [("Top::Sub", "Other::Sub", "Other"), ("Top::Sub", "::Top", "blank")]
)
def test_a_subdeck_without_its_top_deck_says_so(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, missing: str
) -> None:
    # Only the subdeck's cards remain, and the top deck's entry is gone: what genanki writes for `Top::Sub`.
    def edit(db: sqlite3.Connection) -> None:
        (decks,) = db.execute("SELECT decks FROM col").fetchone()
        data = {k: d for k, d in json.loads(decks).items() if d["name"] != "Top"}
        sub = next(k for k, d in data.items() if d["name"] == old)
        data[sub]["name"] = new
        db.execute("UPDATE col SET decks = ?", (json.dumps(data),))
        db.execute("UPDATE cards SET did = ?", (int(sub),))

    package = _legacy(exports, tmp_path / "orphan.apkg", edit)
    err = _refused(package, tmp_path / "project", capsys)
    assert "error[E172]: the cards are in the deck" in err, err
    assert f"but the package has no deck `{missing}` above it" in err, err
    assert "Default" not in err and "``" not in err, err


def test_an_empty_deck_folder_option_is_refused(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(exports.current, tmp_path / "project", capsys, "--deck-folder", "")
    assert "error[E174]: deck folder name `` is not a slug" in err, err


@pytest.mark.parametrize("name", ["con", "nul", "com1", "lpt9", "aux"])
def test_a_windows_device_name_is_refused_as_deck_folder(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    err = _refused(exports.current, tmp_path / "project", capsys, "--deck-folder", name)
    assert f"error[E174]: deck folder name `{name}` is not a slug" in err and "Windows reserves" in err, err


def test_windows_device_names_from_anki_are_renamed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A deck `Con`, a subdeck `Con::Aux`, a template `CON` and a media file `CON.png`: none becomes a device."""
    exports = _export(tmp_path / "anki", top="Con", sub="Con::Aux", media="CON.png")

    def rename_template(members: dict[str, bytes]) -> None:
        db = tmp_path / "c.db"
        db.write_bytes(members["collection.anki21"])
        connection = sqlite3.connect(db)
        _models(lambda model: model["tmpls"][0].__setitem__("name", "CON"))(connection)  # type: ignore[index]
        connection.commit()
        connection.close()
        members["collection.anki21"] = db.read_bytes()

    package = _rezip(exports.legacy, tmp_path / "devices.apkg", rename_template)
    root = tmp_path / "project"
    root.mkdir()
    capsys.readouterr()
    assert _import(package, root) == 0
    err = capsys.readouterr().err
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert "source/con-deck/aux-deck.md" in written, written
    assert "source/con-deck/notetypes/basic/con-template/front.html" in written, written
    assert "media/con-deck/con-media.png" in written, written
    for path in written:
        for part in path.split("/"):
            assert not apkg_reserved(part), path
    # Anki itself stores CON.png as con_.png, whose stem still becomes `con` in media/.
    assert "warning[E177]: media file `con_.png` is written as `con-media.png`" in err, err
    assert 'folder = "con-template"' in (root / "source/con-deck/notetypes/basic/notetype.toml").read_text()
    from tests.conftest import build_deck

    assert build_deck(root / "source", root / "media", root / "dist") == 0


def apkg_reserved(name: str) -> bool:
    return windows_reserved(name)


@pytest.mark.parametrize("which", ["--source", "--media"])
def test_a_file_where_a_folder_belongs_is_refused_before_writing(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "afile").write_text("not a folder\n")
    source = root / "afile" if which == "--source" else root / "source"
    media = root / "afile" if which == "--media" else root / "media"
    capsys.readouterr()
    assert main(["import", str(exports.current), "--source", str(source), "--media", str(media)]) == 1
    err = capsys.readouterr().err
    assert f"error[E174]: {which} `{root / 'afile'}` needs a folder where the file" in err, err
    assert sorted(p.name for p in root.iterdir()) == ["afile"]


def test_a_refused_move_names_the_import_options_and_leaves_nothing(
    exports: Exports, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_move = shutil.move
    calls: list[str] = []

    def full_disk(src: str, dst: str) -> object:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        return real_move(src, dst)

    monkeypatch.setattr(shutil, "move", full_disk)
    err = _refused(exports.current, tmp_path / "project", capsys)
    assert "error[E113]: the file system refused" in err and "the disk is full" in err, err
    assert "--out" not in err and "--source or --media" in err, err


def _first(key: str, value: object, part: str = "flds") -> Callable[[dict[str, object]], None]:
    return lambda model: model[part][0].__setitem__(key, value)  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_first("size", 5000), "field `Front` has the font size 5000; expected 0 to 1000"),
        (_first("name", " ", "tmpls"), "template name ` ` is empty, longer than 100 characters or starts or ends"),
        (_set("name", "Basic "), "its name is empty, longer than 200 characters or starts or ends with a space"),
    ],
)
def test_a_notetype_value_the_build_cannot_keep_is_e176(
    exports: Exports,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, object]], None],
    message: str,
) -> None:
    """Anki holds these; a notetype.toml cannot: said at the notetype, not as a build failure of the importer."""
    err = _refused(_legacy(exports, tmp_path / "nt.apkg", _models(change)), tmp_path / "project", capsys)
    assert "error[E176]: notetype `Basic" in err and message in err, err
    assert "E178" not in err, err
