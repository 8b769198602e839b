"""What a read package holds: its notetypes, decks, notes, cards and media list, as frozen values.

Each value checks on creation the invariants later stages rely on (a sort field that exists, a mod time a release
manifest can record, a card ordinal Anki can hold), whichever of the package layouts it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from builder.notetypes.deckdefined import FieldDef, TemplateDef

#: Seconds since 1970 up to the year 9999: what a release manifest records as a mod time (builder.manifest).
MAX_SECONDS = 253_402_300_800
_INT64 = range(-(2**63), 2**63)


class PackageError(Exception):
    """The package cannot be read; the message says what was found and what was expected."""


class Malformed(ValueError):
    """One value in the package's collection or media list is not what Anki writes there."""


#: Everything a package may unpack to, counted across its members (the per-member bounds are in
#: builder.importer.apkg): a large collection plus a thousand media files of 4 MB. Media are written out one at a
#: time, so this bounds the disk an import uses, not its memory.
MAX_UNPACKED_BYTES = 4 * 1024**3


class Unpacked:
    """Bytes unpacked from a package so far, per member (a member read again counts once), against a total."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_UNPACKED_BYTES if limit is None else limit
        self.total = 0
        self._sizes: dict[str, int] = {}

    def spend(self, member: str, size: int) -> None:
        grown = size - self._sizes.get(member, 0)
        if grown > 0:
            self._sizes[member] = size
            self.total += grown
            if self.total > self.limit:
                raise PackageError(
                    f"the package unpacks to more than {self.limit:,} bytes in all; expected a deck, not a zip bomb "
                    "(see docs/migrating.md, Limits)"
                )


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise Malformed(message)


# A package's fields and templates carry exactly what a deck-defined notetype writes back out.
PackageField = FieldDef
PackageTemplate = TemplateDef


@dataclass(frozen=True)
class PackageNotetype:
    id: int
    name: str
    mtime: int
    cloze: bool
    sort_field: int
    css: str
    fields: tuple[PackageField, ...]
    templates: tuple[PackageTemplate, ...]
    latex_pre: str = ""
    latex_post: str = ""
    latex_svg: bool = False
    original_stock_kind: int = 0

    def __post_init__(self) -> None:
        where = f"notetype `{self.name[:60]}` ({self.id})"
        _require(self.id in _INT64, f"{where} has an id past 64 bits; expected an Anki id")
        _require(
            0 <= self.mtime <= MAX_SECONDS,
            f"{where} has the modification time {self.mtime}; expected seconds since 1970, up to the year 9999",
        )
        # Anki keeps the index as it is and shows the wrong field (or none) in the browser's sort column.
        _require(
            not self.fields or 0 <= self.sort_field < len(self.fields),
            f"{where} sorts by field index {self.sort_field} but has {len(self.fields)} fields; expected 0 to "
            f"{len(self.fields) - 1}",
        )


@dataclass(frozen=True)
class PackageDeck:
    id: int
    #: The full name, levels joined with `::`.
    name: str
    description: str = ""
    filtered: bool = False

    def __post_init__(self) -> None:
        _require(self.id in _INT64, f"deck `{self.name[:60]}` has an id past 64 bits; expected an Anki id")


@dataclass(frozen=True)
class PackageNote:
    id: int
    guid: str
    notetype_id: int
    mtime: int
    tags: tuple[str, ...]
    fields: tuple[str, ...]

    def __post_init__(self) -> None:
        # The baseline release records it, and the first build writes it back: Anki compares it with the learner's.
        _require(
            0 <= self.mtime <= MAX_SECONDS,
            f"note {self.id} has the modification time {self.mtime}; expected seconds since 1970, up to the year 9999",
        )


@dataclass(frozen=True)
class PackageCard:
    id: int
    note_id: int
    #: The card's home deck (its original deck when it sits in a filtered deck).
    deck_id: int
    ord: int

    def __post_init__(self) -> None:
        # Anki keeps a card's template or cloze number as a 16-bit ordinal.
        _require(0 <= self.ord < 2**16, f"card {self.id} has the ordinal {self.ord}; expected 0 to 65,535")


@dataclass(frozen=True)
class MediaEntry:
    name: str
    #: The archive member holding the file.
    member: str


@dataclass(frozen=True)
class Package:
    path: Path
    #: `anki2`, `anki21` or `anki21b`: which layout the package has.
    layout: str
    notetypes: tuple[PackageNotetype, ...]
    decks: tuple[PackageDeck, ...]
    notes: tuple[PackageNote, ...]
    cards: tuple[PackageCard, ...]
    media: tuple[MediaEntry, ...]
    compressed: bool = field(default=False, repr=False)
    unpacked: Unpacked = field(default_factory=Unpacked, repr=False, compare=False)

    def notetype(self, notetype_id: int) -> PackageNotetype | None:
        return next((nt for nt in self.notetypes if nt.id == notetype_id), None)

    def read_media(self, entry: MediaEntry) -> bytes:
        """One media file's bytes (decompressed in the current layout); PackageError when they cannot be read."""
        from builder.importer.apkg import read_media  # apkg imports this module: a late import

        return read_media(self, entry)
