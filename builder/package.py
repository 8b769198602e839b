"""Packaging: a rendered deck → a deterministic .apkg (genanki's collection, our own zip), written atomically."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from html import escape
from itertools import count
from pathlib import Path
from typing import Any

import genanki

from builder.ids import stable_int
from builder.models import Deck, RenderedNote
from builder.notetypes import NOTETYPES, Notetype, stylesheet

#: Zip entries carry this date, not the build's: same source, same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class _Model(genanki.Model):  # type: ignore[misc]
    """A genanki model whose JSON is exactly our notetype: fixed field and template ids included."""

    def __init__(self, notetype: Notetype, css: str, mod: int) -> None:
        super().__init__(
            model_id=notetype.id,
            name=notetype.name,
            fields=[{"name": f.name} for f in notetype.fields],
            templates=[{"name": t.name, "qfmt": t.question, "afmt": t.answer} for t in notetype.templates],
            css=css,
            model_type=genanki.Model.CLOZE if notetype.cloze else genanki.Model.FRONT_BACK,
        )
        self._notetype = notetype
        self._mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        return self._notetype.schema11(self._mod, self.css)


class _Note(genanki.Note):  # type: ignore[misc]
    """A genanki note whose cards are the ones we computed, in order (genanki iterates a set)."""

    def __init__(self, model: _Model, note: RenderedNote, due: int, ordinals: tuple[int, ...]) -> None:
        super().__init__(model=model, fields=list(note.fields), tags=list(note.tags), guid=note.guid, due=due)
        self._ordinals = ordinals

    @property
    def cards(self) -> list[genanki.Card]:
        return [genanki.Card(ordinal) for ordinal in self._ordinals]


def card_ordinals(note: RenderedNote) -> tuple[int, ...]:
    """Template ordinals of the cards Anki will generate for this note."""
    if note.kind.clozed:
        return tuple(n - 1 for n in note.cloze_numbers)
    return tuple(range(len(NOTETYPES[note.kind].templates)))


def deck_description(deck: Deck) -> str:
    text = escape(deck.config.description.strip()).replace("\n", "<br>")
    version = f"Version {escape(deck.config.version)}"
    return f"{text}<br><br>{version}" if text else version


def _write_collection(
    path: Path, deck: Deck, epoch: int, mods: Mapping[str, int], notetype_mods: Mapping[int, int]
) -> None:
    css = stylesheet()
    models = {kind: _Model(nt, css, notetype_mods.get(nt.id, epoch)) for kind, nt in NOTETYPES.items()}
    names = sorted({deck.config.name} | {note.deck_name for note in deck.notes})
    decks = {
        name: genanki.Deck(
            deck.config.id if name == deck.config.name else stable_int(deck.config.id, name),
            name,
            deck_description(deck) if name == deck.config.name else "",
        )
        for name in names
    }
    for due, note in enumerate(deck.notes, 1):
        decks[note.deck_name].add_note(_Note(models[note.kind], note, due, card_ordinals(note)))
    connection = sqlite3.connect(path)
    try:
        cursor = connection.cursor()
        with warnings.catch_warnings():
            # genanki warns about HTML it does not know (e.g. MathJax delimiters); our HTML is generated.
            warnings.simplefilter("ignore")
            genanki.Package([decks[name] for name in names]).write_to_db(cursor, epoch, count(epoch * 1000))
        cursor.executemany(
            "UPDATE notes SET mod = ? WHERE guid = ?",
            [(mods.get(note.note_id, epoch), note.guid) for note in deck.notes],
        )
        cursor.execute("UPDATE cards SET mod = (SELECT mod FROM notes WHERE notes.id = cards.nid)")
        connection.commit()
    finally:
        connection.close()


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


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


def write_apkg(deck: Deck, target: Path, epoch: int, mods: Mapping[str, int], notetype_mods: Mapping[int, int]) -> None:
    with tempfile.TemporaryDirectory(prefix="deckforge-") as work:
        collection = Path(work) / "collection.anki2"
        _write_collection(collection, deck, epoch, mods, notetype_mods)
        media_map = {str(i): f.name for i, f in enumerate(deck.media)}
        with atomic_output(target) as temp, zipfile.ZipFile(temp, "w") as archive:
            archive.writestr(_zip_entry("collection.anki2"), collection.read_bytes(), compresslevel=6)
            archive.writestr(_zip_entry("media"), json.dumps(media_map, sort_keys=True), compresslevel=6)
            for index, media in enumerate(deck.media):
                archive.writestr(_zip_entry(str(index)), media.data, compresslevel=6)
