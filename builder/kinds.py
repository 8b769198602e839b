"""Kinds of note: which notetype a note becomes (its own module, so notetypes and models can both name it)."""

from __future__ import annotations

import enum


class NoteKind(enum.StrEnum):
    BASIC = "basic"
    REVERSE = "reverse"
    CLOZE = "cloze"
    #: Anki's native Image Occlusion, generated from a diagram whose labels carry cloze markers, or from an image
    #: and the masks of an ```occlusion fence.
    OCCLUSION = "occlusion"
    #: Type the answer in (Anki's `{{type:Back}}`): the first paragraph is the exact answer.
    TYPEIN = "typein"
    #: A notetype the deck defines itself (`notetype:` in the metadata): its fields, templates and ids.
    CUSTOM = "custom"

    @property
    def clozed(self) -> bool:
        """One card per cloze number, as opposed to one card per template."""
        return self in (NoteKind.CLOZE, NoteKind.OCCLUSION)
