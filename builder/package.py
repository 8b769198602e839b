"""Packaging: a rendered deck → a deterministic .apkg (genanki's schema, our inserts and zip), written atomically."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from html import escape
from itertools import count
from pathlib import Path
from typing import Any

from builder.ankischema import apkg_col, apkg_schema, deck_entry
from builder.archive import Member, write_zip
from builder.ids import stable_int
from builder.models import Deck, NoteKind, RenderedNote
from builder.notetypes import deck_stylesheet, template_count
from builder.notetypes.resolve import AnyNotetype, note_notetypes, used_notetypes


def card_ordinals(note: RenderedNote) -> tuple[int, ...]:
    """Template ordinals of the cards Anki will generate for this note."""
    if note.kind is NoteKind.CUSTOM:
        return note.cards
    if note.kind.clozed:
        return tuple(n - 1 for n in note.cloze_numbers)
    return tuple(range(template_count(note.kind)))


def deck_description(deck: Deck) -> str:
    text = escape(deck.config.description.strip()).replace("\n", "<br>")
    version = f"Version {escape(deck.config.version)}"
    return f"{text}<br><br>{version}" if text else version


def _deck_ids(deck: Deck) -> dict[str, int]:
    """Every deck the notes use and every deck above them, with its id: the configured id for the top deck,
    derived ids below it. A parent missing from the package would be created by Anki, collapsed."""
    names = {deck.config.name}
    for deck_name in {note.deck_name for note in deck.notes}:
        parts = deck_name.split("::")
        names.update("::".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {
        name: deck.config.id if name == deck.config.name else stable_int(deck.config.id, name) for name in sorted(names)
    }


def _decks_json(deck: Deck, ids: Mapping[str, int], default: str) -> str:
    decks: dict[str, Any] = json.loads(default)
    for name, deck_id in ids.items():
        description = deck_description(deck) if name == deck.config.name else ""
        entry = deck_entry(deck_id, name, description)
        # Expanded in the deck list and in the browser's sidebar, so no subdeck hides on first import.
        entry["browserCollapsed"] = False
        decks[str(deck_id)] = entry
    return json.dumps(decks, sort_keys=True)


def _models_json(epoch: int, notetype_mods: Mapping[int, int], css: str, of_notes: list[AnyNotetype]) -> str:
    used = used_notetypes(of_notes)
    return json.dumps({str(nt.id): nt.schema11(notetype_mods.get(nt.id, epoch), css) for nt in used}, sort_keys=True)


@cache
def _split_schema() -> tuple[str, str]:
    """genanki's schema split into its tables and its indexes.

    The indexes are built after the rows are in: one sort per index instead of a B-tree update per row.
    """
    statements = [s.strip() for s in apkg_schema().split(";") if s.strip()]
    tables = [s for s in statements if not s.upper().startswith("CREATE INDEX")]
    indexes = [s for s in statements if s.upper().startswith("CREATE INDEX")]
    return ";\n".join(tables) + ";", ";\n".join(indexes) + ";"


def _write_collection(
    path: Path, deck: Deck, epoch: int, mods: Mapping[str, int], notetype_mods: Mapping[int, int], css: str
) -> int:
    """The collection, written with plain executemany; returns its number of cards.

    genanki's per-note inserts cost more than the rest of a build. The schema and the `col` row are genanki's;
    notes and cards get consecutive ids from `epoch * 1000` in deck order, each card the mod of its note, so
    the same deck and mods give the same database. It goes to a throwaway file, not memory: an in-memory
    database and its serialized copy would both be alive at the build's peak (about 27 MB more at 50,000 notes).
    """
    ids = _deck_ids(deck)
    next_id = count(epoch * 1000)
    notes: list[tuple[object, ...]] = []
    cards: list[tuple[object, ...]] = []
    of_notes = note_notetypes(deck)
    for due, (note, notetype) in enumerate(zip(deck.notes, of_notes, strict=True), 1):
        nid = next(next_id)
        mod = mods.get(note.note_id, epoch)
        tags = f" {' '.join(note.tags)} "
        sort_field = note.fields[notetype.sort_field]
        notes.append((nid, note.guid, notetype.id, mod, -1, tags, "\x1f".join(note.fields), sort_field, 0, 0, ""))
        did = ids[note.deck_name]
        for ordinal in card_ordinals(note):
            cards.append((next(next_id), nid, did, ordinal, mod, -1, 0, 0, due, 0, 0, 0, 0, 0, 0, 0, 0, ""))
    connection = sqlite3.connect(path)
    try:
        # No journal and no fsync: the zip that holds the file is what gets written atomically.
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        tables, indexes = _split_schema()
        connection.executescript(tables)
        connection.executescript(apkg_col())
        (default_decks,) = connection.execute("SELECT decks FROM col").fetchone()
        connection.execute(
            "UPDATE col SET decks = ?, models = ?",
            (_decks_json(deck, ids, default_decks), _models_json(epoch, notetype_mods, css, of_notes)),
        )
        connection.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", notes)
        connection.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        connection.executescript(indexes)
        connection.commit()
        return len(cards)
    finally:
        connection.close()


@contextmanager
def atomic_output(target: Path, mode: int = 0o644) -> Iterator[Path]:
    """A temp path beside `target` that replaces it only if the block succeeds; readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        temp.chmod(mode)
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)


def write_apkg(
    deck: Deck,
    target: Path,
    epoch: int,
    mods: Mapping[str, int],
    notetype_mods: Mapping[int, int],
    css: str | None = None,
) -> int:
    """Write the deck's package to `target` atomically; returns the number of cards in it.

    `css` is the deck's stylesheet when the caller has it already (the release plan works it out).
    """
    if css is None:
        css = deck_stylesheet(note.fields for note in deck.notes)
    with tempfile.TemporaryDirectory(prefix="deckforge-") as work:
        collection = Path(work) / "collection.anki2"
        cards = _write_collection(collection, deck, epoch, mods, notetype_mods, css)
        data = collection.read_bytes()
    # Anki reads the media map to learn each numbered member's file name.
    media_map = json.dumps({str(i): f.name for i, f in enumerate(deck.media)}, sort_keys=True).encode("ascii")
    members = [
        Member("collection.anki2", data),
        Member("media", media_map),
        *(Member(str(index), media.data) for index, media in enumerate(deck.media)),
    ]
    with atomic_output(target) as temp:
        write_zip(temp, members)
    return cards
