"""What a read package holds: its notetypes, decks, notes, cards and media list, as frozen values."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from builder.notetypes.deckdefined import FieldDef, TemplateDef

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


@dataclass(frozen=True)
class PackageDeck:
    id: int
    #: The full name, levels joined with `::`.
    name: str
    description: str = ""
    filtered: bool = False


@dataclass(frozen=True)
class PackageNote:
    id: int
    guid: str
    notetype_id: int
    mtime: int
    tags: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class PackageCard:
    id: int
    note_id: int
    #: The card's home deck (its original deck when it sits in a filtered deck).
    deck_id: int
    ord: int


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

    def notetype(self, notetype_id: int) -> PackageNotetype | None:
        return next((nt for nt in self.notetypes if nt.id == notetype_id), None)

    def read_media(self, entry: MediaEntry) -> bytes:
        """One media file's bytes (decompressed in the current layout)."""
        from builder.importer.apkg import read_member  # apkg imports this module: a late import

        with zipfile.ZipFile(self.path) as archive:
            return read_member(archive, entry.member, self.compressed)
