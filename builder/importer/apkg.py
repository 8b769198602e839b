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

import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from builder.importer import protowire as pw
from builder.importer import values as v
from builder.importer.collection import read_collection
from builder.importer.model import (
    MAX_UNPACKED_BYTES,
    Malformed,
    MediaEntry,
    Package,
    PackageCard,
    PackageDeck,
    PackageError,
    PackageField,
    PackageNote,
    PackageNotetype,
    PackageTemplate,
    Unpacked,
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

_MIB = 1024 * 1024
# What a package may unpack to. A zip or zstd member can claim (or hide) any size, so every read is bounded
# before the memory or disk is used, and a package past a bound is refused as damaged (E170).
#: The collection: notes, notetypes and decks, no media. A 50,000-note deck whose notes average 5 KB of HTML is
#: about 250 MB of SQLite; twice that leaves room for the largest shared decks. It is unpacked to a temporary
#: file, never held in memory.
MAX_COLLECTION_BYTES = 512 * _MIB
#: One media file: AnkiWeb does not sync a file over 100 MB, so no learner's deck has a larger one.
MAX_MEDIA_FILE_BYTES = 100 * _MIB
#: `meta` and the media list: a list naming 100,000 files is a few MB.
MAX_LIST_BYTES = 64 * _MIB
_CHUNK = _MIB
_SQLITE_MAGIC = b"SQLite format 3\x00"


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


def _info(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise PackageError(
            f"the package has no `{name}` member; it is damaged or incomplete. Export it again"
        ) from None
    if info.flag_bits & 0x1:
        raise PackageError(f"`{name}` is encrypted; expected the unencrypted package Anki exports")
    return info


def _too_large(name: str, limit: int) -> PackageError:
    return PackageError(
        f"`{name}` unpacks to more than {limit:,} bytes; expected a deck, not a zip bomb (see docs/migrating.md, "
        "Limits)"
    )


def _frame_size(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The size a zstd frame declares for its content (-1 when it does not say), read from its header alone."""
    import zstandard

    with archive.open(info) as raw:
        head = raw.read(18)  # the longest zstd frame header
    try:
        return int(zstandard.frame_content_size(head))
    except zstandard.ZstdError:
        return -1  # not zstd, or a header split oddly: decompression says which


def _chunks(archive: zipfile.ZipFile, name: str, compressed: bool, limit: int, unpacked: Unpacked) -> Iterator[bytes]:
    """A member's bytes, decompressed, a chunk at a time: a bomb is refused before its size is ever allocated."""
    import zstandard

    info = _info(archive, name)
    # The zip's stated size is a hard bound (zipfile never yields more); a zstd frame may state its own.
    if info.file_size > limit or (compressed and _frame_size(archive, info) > limit):
        raise _too_large(name, limit)
    size = 0
    try:
        with archive.open(info) as raw:
            # zstandard caps a frame's window at 128 MiB by default, so a header cannot make it allocate more.
            source = zstandard.ZstdDecompressor().stream_reader(raw) if compressed else raw
            with source:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(name, limit)
                    unpacked.spend(name, size)
                    yield chunk
    except zstandard.ZstdError as exc:
        raise PackageError(
            f"`{name}` is not valid zstd data ({exc}); the package is damaged. Export it again"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        raise PackageError(f"cannot unpack `{name}` ({exc}); the package is damaged. Export it again") from None


def read_member(archive: zipfile.ZipFile, name: str, compressed: bool, unpacked: Unpacked, limit: int) -> bytes:
    return b"".join(_chunks(archive, name, compressed, limit, unpacked))


def read_media(package: Package, entry: MediaEntry) -> bytes:
    try:
        archive = zipfile.ZipFile(package.path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackageError(f"cannot read the package again ({exc}); it changed during the import") from None
    with archive:
        return read_member(archive, entry.member, package.compressed, package.unpacked, MAX_MEDIA_FILE_BYTES)


def _layout(archive: zipfile.ZipFile, unpacked: Unpacked) -> int:
    names = set(archive.namelist())
    if "meta" in names:
        data = read_member(archive, "meta", False, unpacked, MAX_LIST_BYTES)
        try:
            version = pw.integer(pw.decode(data), 1)
        except pw.WireError as exc:
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


@contextmanager
def _database(
    archive: zipfile.ZipFile, name: str, compressed: bool, unpacked: Unpacked
) -> Iterator[sqlite3.Connection]:
    """The collection, unpacked to a temporary file and opened read-only: one copy, on disk, however large."""
    with tempfile.TemporaryDirectory(prefix="deckforge-apkg-") as folder:
        path = Path(folder) / "collection.db"
        with path.open("wb") as out:
            for chunk in _chunks(archive, name, compressed, MAX_COLLECTION_BYTES, unpacked):
                out.write(chunk)
        with path.open("r+b") as db_file:
            header = db_file.read(20)
            if not header.startswith(_SQLITE_MAGIC):
                found = "is empty" if not header else f"starts with {header[:16]!r}"
                raise PackageError(
                    f"`{name}` is not an SQLite database (it {found}); the package is damaged. Export it again"
                )
            if header[18:20] == b"\x02\x02":
                # WAL mode needs a -wal and -shm file beside it; bytes 18-19 switch it back to a rollback journal.
                db_file.seek(18)
                db_file.write(b"\x01\x01")
        try:
            connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise PackageError(f"`{name}` is not an SQLite database ({exc}); the package is damaged") from None
        with closing(connection):
            yield connection


def _media(archive: zipfile.ZipFile, layout: int, unpacked: Unpacked) -> tuple[MediaEntry, ...]:
    if "media" not in archive.namelist():
        return ()
    data = read_member(archive, "media", layout == 3, unpacked, MAX_LIST_BYTES)
    if layout != 3:
        mapping = v.mapping(v.document(data, "the media list"), "the media list")
        entries = [
            MediaEntry(v.text(name, f"the media list's name for member `{member[:30]}`"), member)
            for member, name in sorted(mapping.items())
        ]
    else:
        entries = []
        for index, message in enumerate(pw.messages(pw.decode(data), 1)):
            legacy = pw.optional_integer(message, 255)
            entries.append(MediaEntry(pw.text(message, 1), str(index if legacy is None else legacy)))
    names = set(archive.namelist())
    for entry in entries:
        # Anki's own import stops at such an entry; found here, before anything is planned or written.
        if entry.member not in names:
            raise Malformed(
                f"the media list names member `{entry.member[:30]}` for `{entry.name[:60]}`, which the archive "
                "does not hold; expected every listed file in the package"
            )
    return tuple(entries)


def _declared(archive: zipfile.ZipFile) -> None:
    """Refuse up front what the zip itself says is too large: the members' sizes as stored, summed."""
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_UNPACKED_BYTES:
        raise PackageError(
            f"the package unpacks to {total:,} bytes; expected at most {MAX_UNPACKED_BYTES:,} (see "
            "docs/migrating.md, Limits)"
        )


def read_package(path: Path) -> Package:
    """Everything the importer needs from a package; PackageError says why it cannot be read."""
    unpacked = Unpacked()
    with _open_zip(path) as archive:
        _declared(archive)
        layout = _layout(archive, unpacked)
        name = _COLLECTIONS[layout]
        compressed = layout == 3
        try:
            media = _media(archive, layout, unpacked)
        except pw.WireError as exc:
            raise PackageError(
                f"the media list is not readable ({exc}); the package is damaged. Export it again"
            ) from None
        except Malformed as exc:
            raise PackageError(f"{exc}; the package is damaged. Export it again") from None
        with _database(archive, name, compressed, unpacked) as db:
            try:
                notetypes, decks, notes, cards = read_collection(db)
            except (sqlite3.Error, pw.WireError, Malformed) as exc:
                raise PackageError(
                    f"`{name}` does not hold an Anki collection: {exc}. The package is damaged or was not written "
                    "by Anki: export the deck from Anki again"
                ) from None
    return Package(path, name.rsplit(".", 1)[1], notetypes, decks, notes, cards, media, compressed, unpacked)
