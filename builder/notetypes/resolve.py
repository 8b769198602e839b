"""Which notetype a note becomes: the deck's built-in one for its kind, or the deck-defined one it names."""

from __future__ import annotations

from collections.abc import Sequence

from builder.models import Deck, NoteKind
from builder.notetypes.builtin import deck_notetypes
from builder.notetypes.deckdefined import DeckNotetype
from builder.notetypes.model import Notetype

AnyNotetype = Notetype | DeckNotetype


def all_notetypes(deck: Deck) -> list[AnyNotetype]:
    """The built-in notetypes of the deck and the ones it defines: what the release guards compare."""
    return [*deck_notetypes(deck.config.id, deck.config.name).values(), *deck.notetypes]


def note_notetypes(deck: Deck) -> list[AnyNotetype]:
    """The notetype of each note, in note order: the deck's built-in one for its kind, or the deck-defined one
    it names. The built-in ones are looked up once per deck, not once per note."""
    builtin = deck_notetypes(deck.config.id, deck.config.name)
    own = {nt.key: nt for nt in deck.notetypes}
    return [own[note.notetype or ""] if note.kind is NoteKind.CUSTOM else builtin[note.kind] for note in deck.notes]


def used_notetypes(of_notes: Sequence[AnyNotetype]) -> list[AnyNotetype]:
    """The distinct notetypes in `of_notes` (what `note_notetypes` gives for a deck), by id."""
    found = {nt.id: nt for nt in of_notes}
    return [found[key] for key in sorted(found)]
