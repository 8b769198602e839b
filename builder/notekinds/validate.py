"""Validation of the note kinds in this package: which kind a note is, and its kind-specific problems."""

from __future__ import annotations

from dataclasses import dataclass

from builder.diagnostics import Diagnostics, Location
from builder.media import MediaLibrary, MediaProblem
from builder.models import NoteKind
from builder.notekinds.occlusion import occlusion_fences, read_fence
from builder.notekinds.typein import check_answer
from builder.parse import RawNote


@dataclass(frozen=True)
class KindCheck:
    kind: NoteKind
    ordinals: frozenset[int]
    #: Media the kind references outside the Markdown (the occluded image), for the file's dependencies.
    media: tuple[str, ...] = ()


def _image_occlusion(
    note: RawNote,
    meta_type: NoteKind | None,
    text_ordinals: set[int],
    markers: dict[int, set[int]],
    media: MediaLibrary,
    diagnostics: Diagnostics,
) -> KindCheck:
    source = note.source
    first, *others = occlusion_fences(note.body)
    assert first.map is not None
    for extra in others:
        assert extra.map is not None
        diagnostics.error(
            Location(source.path, extra.map[0] + 1, 1),
            "E163",
            f"found a second occlusion fence (the first is on line {first.map[0] + 1}); expected one per note, "
            "because Anki occludes one image per note. Move it to a note of its own",
        )
    if text_ordinals or markers or meta_type is NoteKind.TYPEIN:
        what = (
            "`type: typein`"
            if meta_type is NoteKind.TYPEIN
            else "diagram occlusion markers"
            if markers
            else "text clozes"
        )
        diagnostics.error(
            Location(source.path, note.title_line, note.title_col),
            "E163",
            f"found {what} in a note with an occlusion fence; expected one or the other: the masks already make "
            "one card per number. Move them to a note of their own",
        )
    spec = read_fence(source, first, diagnostics)
    if spec is None:
        return KindCheck(NoteKind.OCCLUSION, frozenset({1}))
    checked = media.check(spec.image)
    if isinstance(checked, MediaProblem):
        diagnostics.error(spec.image_location, checked.code, checked.message, len(spec.image))
    return KindCheck(NoteKind.OCCLUSION, frozenset(spec.ordinals or (1,)), (spec.image,))


def check_kind(
    note: RawNote,
    meta_type: NoteKind | None,
    text_ordinals: set[int],
    markers: dict[int, set[int]],
    media: MediaLibrary,
    diagnostics: Diagnostics,
) -> KindCheck | None:
    """The kind of a note with an ```occlusion fence or `type: typein`, its problems reported; else None."""
    if occlusion_fences(note.body):
        return _image_occlusion(note, meta_type, text_ordinals, markers, media, diagnostics)
    if meta_type is not NoteKind.TYPEIN:
        return None
    if text_ordinals or markers:
        diagnostics.error(
            Location(note.source.path, note.title_line, note.title_col),
            "E153",
            "found clozes in a `type: typein` note; expected one or the other: a type-in card asks for the "
            "answer paragraph, a cloze note for its deletions. Remove `type: typein` or the clozes",
        )
    elif note.body:
        check_answer(note, diagnostics)
    return KindCheck(NoteKind.TYPEIN, frozenset())
