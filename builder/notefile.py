"""Note files: one decoded file → its notes parsed, validated, rendered and linted, as one picklable unit.

A file is the unit of caching and of parallel work: nothing here looks at other files, and of deck.toml only
the deck's id and name, which never change. So the result depends only on those, the file's text, the
builder's code and the images the file references (recorded as dependencies, checked before a cached unit
is reused). Notes that hold a diagram are validated here but
rendered after the diagram stage, which renders every diagram of the build at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.diagnostics import Diagnostic, Diagnostics, Location
from builder.fidelity.rendered import check_rendered
from builder.figurelint import lint_figures
from builder.figures import Figures
from builder.lint import lint_note
from builder.media import MediaLibrary, MediaProblem
from builder.models import NoteSpec, RenderedNote
from builder.notetypes.deckdefined import DeckNotetype
from builder.parse import RawNote, parse_file
from builder.render import finish_note, render_fields
from builder.source import SourceFile
from builder.validate import diagram_fences, validate_file


@dataclass(frozen=True)
class DeckKey:
    """What a note takes from its deck: the id its GUID derives from, the name its deck path starts with, and
    the notetypes the deck defines (their fields decide how a note's sections are read)."""

    id: int
    name: str
    notetypes: tuple[DeckNotetype, ...] = ()

    def notetype(self, key: str | None) -> DeckNotetype | None:
        return next((nt for nt in self.notetypes if nt.key == key), None) if key is not None else None

    @property
    def by_key(self) -> dict[str, DeckNotetype]:
        return {nt.key: nt for nt in self.notetypes}


@dataclass(frozen=True)
class CompiledNote:
    #: The finished note; or the validated spec of a note with a diagram (finished after the diagram stage) or
    #: in a file with errors. Only one of them is kept: loading 50,000 cached notes is a cost of every rebuild.
    result: RenderedNote | NoteSpec
    lint_ignore: tuple[str, ...]

    @property
    def note_id(self) -> str:
        return self.result.note_id

    @property
    def location(self) -> Location:
        return self.result.location


@dataclass(frozen=True)
class MediaDependency:
    """An image reference and what it resolved to when the file was compiled."""

    src: str
    #: The content-hash media name, or the problem with the reference (code and message).
    outcome: str


@dataclass(frozen=True)
class CompiledFile:
    path: str
    notes: tuple[CompiledNote, ...]
    #: Everything found in this file (errors and linter warnings), in the order found.
    diagnostics: tuple[Diagnostic, ...]
    media: tuple[MediaDependency, ...]

    @property
    def pending(self) -> tuple[CompiledNote, ...]:
        """Notes still to render once the diagrams are."""
        return tuple(note for note in self.notes if isinstance(note.result, NoteSpec))


def resolve_media(src: str, library: MediaLibrary) -> str:
    """What an image reference resolves to now: its media name, or its problem."""
    checked = library.check(src)
    if isinstance(checked, MediaProblem):
        return f"{checked.code}: {checked.message}"
    return library.add(checked).name


def is_current(compiled: CompiledFile, library: MediaLibrary) -> bool:
    """A cached unit is reusable only while every image it references resolves as it did."""
    return all(resolve_media(dep.src, library) == dep.outcome for dep in compiled.media)


def finish(spec: NoteSpec, raw: RawNote, deck: DeckKey, library: MediaLibrary, figures: Figures) -> RenderedNote:
    """Render one note and place it in its deck."""
    notetype = deck.notetype(spec.notetype)
    return finish_note(spec, render_fields(raw, spec.kind, library, figures, notetype), deck.id, deck.name, notetype)


def compile_file(source: SourceFile, deck: DeckKey, library: MediaLibrary) -> CompiledFile:
    diagnostics = Diagnostics()
    parsed = parse_file(source)
    checked = validate_file(parsed, library, diagnostics, deck.by_key)
    broken = bool(diagnostics.errors)
    notes = []
    for spec in checked.notes:
        raw = parsed.notes[spec.note_index]
        # A file with errors is not rendered: the build stops before packaging, and a bad image reference
        # cannot be rendered at all.
        if broken or diagram_fences(raw):
            notes.append(CompiledNote(spec, spec.lint_ignore))
            continue
        figures = Figures()
        note = finish(spec, raw, deck, library, figures)
        check_rendered(spec, raw, note, library, figures, diagnostics)
        lint_note(spec, raw, note, diagnostics)
        lint_figures(spec, raw, Figures(), library, diagnostics)
        notes.append(CompiledNote(note, spec.lint_ignore))
    media_deps = tuple(MediaDependency(src, resolve_media(src, library)) for src in checked.images)
    return CompiledFile(source.path, tuple(notes), tuple(diagnostics.items), media_deps)
