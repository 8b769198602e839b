"""Which notetype a note becomes: the deck's built-in one for its kind, or the deck-defined one it names."""

from __future__ import annotations

from builder.models import Deck, NoteKind, RenderedNote
from builder.notetypes.builtin import deck_notetypes
from builder.notetypes.deckdefined import DeckNotetype
from builder.notetypes.model import Notetype

AnyNotetype = Notetype | DeckNotetype


def notetype_of(deck: Deck, note: RenderedNote) -> AnyNotetype:
    if note.kind is NoteKind.CUSTOM:
        assert note.notetype is not None
        return deck.notetype(note.notetype)
    return deck_notetypes(deck.config.id, deck.config.name)[note.kind]


def all_notetypes(deck: Deck) -> list[AnyNotetype]:
    """The built-in notetypes of the deck and the ones it defines: what the release guards compare."""
    return [*deck_notetypes(deck.config.id, deck.config.name).values(), *deck.notetypes]


def used_notetypes(deck: Deck) -> list[AnyNotetype]:
    """The notetypes the deck's notes use, by id."""
    found = {nt.id: nt for nt in (notetype_of(deck, note) for note in deck.notes)}
    return [found[key] for key in sorted(found)]
