"""Notetypes: what Anki stores a note as (fields, templates, CSS), per deck, as schema-11 JSON."""

from builder.notetypes.builtin import (
    LAYOUTS,
    SOURCE_FIELD,
    Layout,
    deck_notetypes,
    deck_stylesheet,
    highlight_classes,
    stylesheet,
    template_count,
)
from builder.notetypes.model import FieldSpec, Notetype, TemplateSpec

#: The folder of a deck that holds its own notetypes, one folder each (builder.notetypes.loader reads them).
NOTETYPES_DIR = "notetypes"

__all__ = [
    "LAYOUTS",
    "NOTETYPES_DIR",
    "SOURCE_FIELD",
    "FieldSpec",
    "Layout",
    "Notetype",
    "TemplateSpec",
    "deck_notetypes",
    "deck_stylesheet",
    "highlight_classes",
    "stylesheet",
    "template_count",
]
