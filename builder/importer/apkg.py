"""Reading an Anki package: a .apkg file → its notetypes, decks, notes, cards and media list, as typed values.

Three layouts exist and all are read without Anki itself:

- `collection.anki2` alone: genanki, our own builder and Anki before 2.1.22 (schema 11: notetypes and decks
  as JSON in the `col` row, media list as JSON, files stored as they are);
- `collection.anki21` (with a `collection.anki2` placeholder): Anki's "support older Anki versions" export,
  also schema 11;
- `collection.anki21b`: what Anki exports by default since 2.1.50 (schema 18: notetypes, fields, templates and
  decks in tables of their own with protobuf settings; the collection, the media list and every media file
  zstd-compressed; the media list a protobuf message; a `meta` member naming the layout).
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from builder.importer import protowire as pw
from builder.importer.model import (
    MediaEntry,
    Package,
    PackageCard,
    PackageDeck,
    PackageField,
    PackageNote,
    PackageNotetype,
    PackageTemplate,
)

__all__ = [
    "MediaEntry",
    "Package",
    "PackageCard",
    "PackageDeck",
    "PackageError",
    "PackageField",
    "PackageNote",
    "PackageNotetype",
    "PackageTemplate",
    "read_package",
]

#: The archive member of each layout, by the `meta` member's version number (1 and 2 are legacy).
_COLLECTIONS = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}
#: Refuse members that unpack past this: a collection or image this large is a zip bomb, not a deck.
MAX_MEMBER_BYTES = 2 * 1024 * 1024 * 1024


class PackageError(Exception):
    """The package cannot be read; the message says what was found and what was expected."""


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackageError("the file does not exist; expected an .apkg file exported from Anki") from None
    except IsADirectoryError:
        raise PackageError("found a folder; expected an .apkg file exported from Anki") from None
    except OSError as exc:
        raise PackageError(f"cannot read the file: {exc.strerror}") from None
    except zipfile.BadZipFile:
        raise PackageError(
            "found a file that is not a zip archive; expected an .apkg file exported from Anki "
            "(File > Export > Anki Deck Package). Export it again"
        ) from None
    with archive:
        yield archive


def _decompress(data: bytes, name: str) -> bytes:
    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(data) as reader:
            out = reader.read(MAX_MEMBER_BYTES + 1)
    except zstandard.ZstdError as exc:
        raise PackageError(
            f"`{name}` is not valid zstd data ({exc}); the package is damaged. Export it again"
        ) from None
    if len(out) > MAX_MEMBER_BYTES:
        raise PackageError(f"`{name}` unpacks to more than {MAX_MEMBER_BYTES:,} bytes; expected a deck, not a zip bomb")
    return out


def read_member(archive: zipfile.ZipFile, name: str, compressed: bool) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise PackageError(
            f"the package has no `{name}` member; it is damaged or incomplete. Export it again"
        ) from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise PackageError(f"`{name}` is {info.file_size:,} bytes; expected less than {MAX_MEMBER_BYTES:,}")
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise PackageError(f"cannot unpack `{name}` ({exc}); the package is damaged. Export it again") from None
    return _decompress(data, name) if compressed else data


def _layout(archive: zipfile.ZipFile) -> int:
    names = set(archive.namelist())
    if "meta" in names:
        try:
            version = pw.integer(pw.decode(archive.read("meta")), 1)
        except (pw.WireError, zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"the package's `meta` member is unreadable ({exc}); export it again") from None
        if version not in _COLLECTIONS:
            raise PackageError(
                f"the package declares layout version {version}; expected 1, 2 or 3. It was written by a newer "
                "Anki than this importer knows: export it again with 'Support older Anki versions' ticked"
            )
        return version
    if "collection.anki21" in names:
        return 2
    if "collection.anki2" in names:
        return 1
    raise PackageError(
        "found no collection in the archive (collection.anki2, .anki21 or .anki21b); expected an .apkg file "
        "exported from Anki"
    )


def _database(data: bytes, name: str) -> sqlite3.Connection:
    if data[:16] == b"SQLite format 3\x00" and data[18:20] == b"\x02\x02":
        # A database in WAL mode cannot be opened from memory; bytes 18-19 switch it back to a rollback journal.
        data = data[:18] + b"\x01\x01" + data[20:]
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise PackageError(
            f"`{name}` is not an SQLite database ({exc}); the package is damaged. Export it again"
        ) from None
    return connection


def _has_table(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def _json_notetypes(db: sqlite3.Connection) -> tuple[PackageNotetype, ...]:
    (models,) = db.execute("SELECT models FROM col").fetchone()
    data: dict[str, Any] = json.loads(models)
    out = []
    for model in data.values():
        fields = tuple(
            PackageField(
                name=str(f["name"]),
                id=f.get("id"),
                tag=f.get("tag"),
                prevent_deletion=bool(f.get("preventDeletion", False)),
                font=str(f.get("font", "Arial")),
                size=int(f.get("size", 20)),
                rtl=bool(f.get("rtl", False)),
                sticky=bool(f.get("sticky", False)),
                plain_text=bool(f.get("plainText", False)),
                collapsed=bool(f.get("collapsed", False)),
                exclude_from_search=bool(f.get("excludeFromSearch", False)),
                description=str(f.get("description", "")),
            )
            for f in sorted(model["flds"], key=lambda f: int(f["ord"]))
        )
        templates = tuple(
            PackageTemplate(
                name=str(t["name"]),
                id=t.get("id"),
                question=str(t["qfmt"]),
                answer=str(t["afmt"]),
                browser_question=str(t.get("bqfmt") or ""),
                browser_answer=str(t.get("bafmt") or ""),
                browser_font=str(t.get("bfont") or ""),
                browser_size=int(t.get("bsize") or 0),
            )
            for t in sorted(model["tmpls"], key=lambda t: int(t["ord"]))
        )
        out.append(
            PackageNotetype(
                id=int(model["id"]),
                name=str(model["name"]),
                mtime=int(model.get("mod", 0)),
                cloze=int(model.get("type", 0)) == 1,
                sort_field=int(model.get("sortf", 0)),
                css=str(model.get("css", "")),
                fields=fields,
                templates=templates,
                latex_pre=str(model.get("latexPre", "")),
                latex_post=str(model.get("latexPost", "")),
                latex_svg=bool(model.get("latexsvg", False)),
                original_stock_kind=int(model.get("originalStockKind", 0) or 0),
            )
        )
    return tuple(out)


def _table_notetypes(db: sqlite3.Connection) -> tuple[PackageNotetype, ...]:
    fields: dict[int, list[PackageField]] = {}
    for ntid, name, config in db.execute("SELECT ntid, name, config FROM fields ORDER BY ntid, ord"):
        c = pw.decode(config)
        fields.setdefault(ntid, []).append(
            PackageField(
                name=name,
                id=pw.optional_integer(c, 9, signed=True),
                tag=pw.optional_integer(c, 10),
                prevent_deletion=pw.boolean(c, 11),
                font=pw.text(c, 3),
                size=pw.integer(c, 4),
                rtl=pw.boolean(c, 2),
                sticky=pw.boolean(c, 1),
                plain_text=pw.boolean(c, 6),
                collapsed=pw.boolean(c, 7),
                exclude_from_search=pw.boolean(c, 8),
                description=pw.text(c, 5),
            )
        )
    templates: dict[int, list[PackageTemplate]] = {}
    for ntid, name, config in db.execute("SELECT ntid, name, config FROM templates ORDER BY ntid, ord"):
        c = pw.decode(config)
        templates.setdefault(ntid, []).append(
            PackageTemplate(
                name=name,
                id=pw.optional_integer(c, 8, signed=True),
                question=pw.text(c, 1),
                answer=pw.text(c, 2),
                browser_question=pw.text(c, 3),
                browser_answer=pw.text(c, 4),
                browser_font=pw.text(c, 6),
                browser_size=pw.integer(c, 7),
            )
        )
    out = []
    for ntid, name, mtime, config in db.execute("SELECT id, name, mtime_secs, config FROM notetypes ORDER BY id"):
        c = pw.decode(config)
        out.append(
            PackageNotetype(
                id=ntid,
                name=name,
                mtime=mtime,
                cloze=pw.integer(c, 1) == 1,
                sort_field=pw.integer(c, 2),
                css=pw.text(c, 3),
                fields=tuple(fields.get(ntid, ())),
                templates=tuple(templates.get(ntid, ())),
                latex_pre=pw.text(c, 5),
                latex_post=pw.text(c, 6),
                latex_svg=pw.boolean(c, 7),
                original_stock_kind=pw.integer(c, 9),
            )
        )
    return tuple(out)


def _json_decks(db: sqlite3.Connection) -> tuple[PackageDeck, ...]:
    (decks,) = db.execute("SELECT decks FROM col").fetchone()
    data: dict[str, Any] = json.loads(decks)
    return tuple(
        PackageDeck(int(d["id"]), str(d["name"]), str(d.get("desc") or ""), bool(d.get("dyn", 0)))
        for d in sorted(data.values(), key=lambda d: int(d["id"]))
    )


def _table_decks(db: sqlite3.Connection) -> tuple[PackageDeck, ...]:
    out = []
    for deck_id, name, kind in db.execute("SELECT id, name, kind FROM decks ORDER BY id"):
        container = pw.decode(kind)
        normal = pw.messages(container, 1)
        description = pw.text(normal[0], 4) if normal else ""
        # Schema 18 separates levels with U+001F; everywhere else they are `::`.
        out.append(PackageDeck(deck_id, str(name).replace("\x1f", "::"), description, not normal))
    return tuple(out)


def _media(archive: zipfile.ZipFile, layout: int) -> tuple[MediaEntry, ...]:
    if "media" not in archive.namelist():
        return ()
    data = read_member(archive, "media", layout == 3)
    if layout != 3:
        try:
            mapping = json.loads(data)
        except ValueError as exc:
            raise PackageError(f"the media list is not JSON ({exc}); the package is damaged. Export it again") from None
        if not isinstance(mapping, dict):
            raise PackageError("the media list is not a JSON object; the package is damaged. Export it again")
        return tuple(MediaEntry(str(name), str(member)) for member, name in sorted(mapping.items()))
    entries = []
    for index, entry in enumerate(pw.messages(pw.decode(data), 1)):
        legacy = pw.optional_integer(entry, 255)
        entries.append(MediaEntry(pw.text(entry, 1), str(index if legacy is None else legacy)))
    return tuple(entries)


def read_package(path: Path) -> Package:
    """Everything the importer needs from a package; PackageError says why it cannot be read."""
    with _open_zip(path) as archive:
        layout = _layout(archive)
        name = _COLLECTIONS[layout]
        compressed = layout == 3
        try:
            media = _media(archive, layout)
            data = read_member(archive, name, compressed)
        except pw.WireError as exc:
            raise PackageError(
                f"the media list is not readable ({exc}); the package is damaged. Export it again"
            ) from None
    with closing(_database(data, name)) as db:
        try:
            tables = _has_table(db, "notetypes")
            notetypes = _table_notetypes(db) if tables else _json_notetypes(db)
            decks = _table_decks(db) if tables else _json_decks(db)
            notes = tuple(
                PackageNote(nid, str(guid), mid, mod, tuple(str(tags).split()), tuple(str(flds).split("\x1f")))
                for nid, guid, mid, mod, tags, flds in db.execute(
                    "SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"
                )
            )
            cards = tuple(
                PackageCard(cid, nid, odid or did, ord)
                for cid, nid, did, ord, odid in db.execute("SELECT id, nid, did, ord, odid FROM cards ORDER BY id")
            )
        except (sqlite3.DatabaseError, pw.WireError, ValueError, KeyError, TypeError) as exc:
            raise PackageError(
                f"`{name}` does not hold an Anki collection ({type(exc).__name__}: {exc}); the package is damaged "
                "or not from Anki. Export it again"
            ) from None
    return Package(path, name.rsplit(".", 1)[1], notetypes, decks, notes, cards, media, compressed)
