"""Deckforge: compile Markdown notes kept in git into reproducible, versioned Anki decks."""

__version__ = "0.1.0"
