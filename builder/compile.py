"""Compilation: deck folders → rendered decks, through per-file units (cached, in parallel) and deck-wide checks.

Reads like the stages it runs: read the files; compile each file (parse, validate, render, lint: see
builder.notefile), reusing cached units and spreading the rest over processes; check what spans files (note
ids, decks, duplicate fronts); render every diagram; render the notes that hold one; assemble each deck.
All problems of every stage are collected, then the build stops once with all of them.
"""

from __future__ import annotations

import gc
import pickle
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from builder.config import load_deck_config
from builder.decknames import DeckNames, check_deck_names
from builder.diagnostics import BuildFailed, Diagnostics, Location
from builder.fidelity.rendered import check_rendered
from builder.figurelint import lint_figures
from builder.figures import Figures, render_figures
from builder.ids import note_guid
from builder.lint import check_duplicate_fronts, lint_note
from builder.media import MediaLibrary
from builder.models import Deck, DeckConfig, MediaFile, NoteKind, NoteSpec, RenderedNote
from builder.notecache import NoteCache, dumps, file_key, store
from builder.notefile import CompiledFile, DeckKey, compile_file, is_current
from builder.notetypes import NOTETYPES_DIR, deck_notetypes
from builder.notetypes.deckdefined import DeckNotetype
from builder.options import Options
from builder.parse import RawNote, parse_file
from builder.progress import Progress
from builder.render import finish_note, render_fields
from builder.source import DeckSource, SourceFile, display_path, find_decks
from builder.validate import check_unique_guids, check_unique_ids

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: Fewer files than this compile in this process: starting workers would cost more than it saves.
PARALLEL_MIN_FILES = 4


@dataclass(frozen=True)
class CompiledDeck:
    """A rendered deck and the folder it came from (its deck.toml locates the release guards' messages)."""

    deck: Deck
    source: DeckSource


@dataclass(frozen=True)
class _DeckUnits:
    source: DeckSource
    config: DeckConfig
    files: tuple[CompiledFile, ...]
    key: DeckKey


def compile_files(
    files: Sequence[tuple[SourceFile, DeckKey]], library: MediaLibrary, cache: NoteCache | None, jobs: int
) -> list[CompiledFile]:
    """Each file's compiled unit, in order: from the cache when still current, else compiled (in parallel)."""
    keys = [file_key(source, deck) for source, deck in files] if cache else []
    results: list[CompiledFile | None] = [None] * len(files)
    if cache is not None:
        for index, (source, _) in enumerate(files):
            hit = cache.get(keys[index], source.path)
            if hit is not None and is_current(hit, library):
                results[index] = hit
    missing = [index for index, found in enumerate(results) if found is None]

    def here(index: int) -> CompiledFile:
        compiled = compile_file(*files[index], library)
        if cache is not None:
            cache.put(keys[index], compiled)
        return compiled

    def job(index: int) -> WorkerJob:
        return WorkerJob(*files[index], library.root, cache.path_for(keys[index]) if cache else None)

    with Progress("compiling", len(missing)) as bar:
        if jobs > 1 and len(missing) >= PARALLEL_MIN_FILES:
            for index, compiled in _shared(missing, here, job, jobs - 1):
                results[index] = compiled
                if cache is not None:
                    cache.remember(keys[index], compiled)
                bar.advance()
        else:
            for index in missing:
                results[index] = here(index)
                bar.advance()
    if cache is not None:
        cache.forget_all_but(keys)
    return [compiled for compiled in results if compiled is not None]


def _shared(
    indices: Sequence[int], here: Callable[[int], CompiledFile], job: Callable[[int], WorkerJob], workers: int
) -> Iterator[tuple[int, CompiledFile]]:
    """Compile the files at `indices` in `workers` processes and in this one, which would otherwise only wait.

    Workers take files from the front, this process from the back, until they meet: no split has to be guessed,
    and this process's share skips the pickling round trip. Each worker keeps two files queued so it never
    waits for this process to hand it the next one.
    """
    queue = deque(indices)
    in_flight: dict[Future[bytes], int] = {}
    # Everything alive now (modules, sources) lives as long as the build: keep the collector off it, in this
    # process and in the forked workers, where touching it would also copy the pages it sits on.
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers) as pool:

            def feed() -> None:
                while queue and len(in_flight) < 2 * workers:
                    index = queue.popleft()
                    in_flight[pool.submit(compile_in_worker, job(index))] = index

            def collect(block: bool) -> Iterator[tuple[int, CompiledFile]]:
                done, _ = wait(in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=in_flight.__getitem__):
                    yield in_flight.pop(future), pickle.loads(future.result())

            feed()
            while queue:
                index = queue.pop()
                yield index, here(index)
                yield from collect(block=False)
                feed()
            while in_flight:
                yield from collect(block=True)
    finally:
        # A long-running `watch` builds again and again: what this build leaves behind must stay collectable.
        gc.unfreeze()


@dataclass(frozen=True)
class WorkerJob:
    source: SourceFile
    deck: DeckKey
    media_root: Path
    #: Where the worker stores its result in the note cache, or None without a cache.
    cache_entry: Path | None


#: One media library per worker process and media folder, so each image is read and hashed once per worker.
_LIBRARIES: dict[Path, MediaLibrary] = {}


def compile_in_worker(job: WorkerJob) -> bytes:
    """`compile_file` in a worker: the result is pickled once, for the cache and for the trip back."""
    library = _LIBRARIES.setdefault(job.media_root, MediaLibrary(job.media_root))
    body = dumps(compile_file(job.source, job.deck, library))
    if job.cache_entry is not None:
        store(job.cache_entry, body)
    return body


def _check_decks_distinct(decks: Sequence[_DeckUnits], diagnostics: Diagnostics) -> None:
    """Anki matches decks by name and we derive ids from the deck id: both must differ between decks."""
    seen: dict[int, str] = {}
    for deck in decks:
        folder = display_path(deck.source.folder)
        first = seen.setdefault(deck.config.id, folder)
        if first != folder:
            diagnostics.error(
                Location(deck.source.config.path),
                "E013",
                f"deck id {deck.config.id!r} is also used by {first}/deck.toml; expected every "
                "deck to have its own id. Change one of them",
            )
    check_deck_names([_names(deck) for deck in decks], diagnostics)


def _names(deck: _DeckUnits) -> DeckNames:
    """The deck's name and the subdeck of each of its files (all notes of a file share the file's `deck:`)."""
    name = deck.config.name
    subdecks = []
    for source, unit in zip(deck.source.notes, deck.files, strict=True):
        if not unit.notes:
            continue
        note = unit.notes[0].result
        subdeck = note.subdeck if isinstance(note, NoteSpec) else note.deck_name.removeprefix(name)[2:] or None
        if subdeck is not None:
            subdecks.append((source, subdeck))
    return DeckNames(deck.source.config, name, tuple(subdecks))


def _pending_notes(
    decks: Sequence[_DeckUnits], sources: dict[str, SourceFile]
) -> dict[tuple[str, int], tuple[RawNote, NoteKind]]:
    """The notes that hold diagrams, by file and index, parsed again: units keep rendered HTML, not tokens."""
    raws: dict[tuple[str, int], tuple[RawNote, NoteKind]] = {}
    for deck in decks:
        for unit in deck.files:
            if unit.pending:
                parsed = parse_file(sources[unit.path])
                for note in unit.pending:
                    spec = note.result
                    assert isinstance(spec, NoteSpec)
                    raws[(unit.path, spec.note_index)] = (parsed.notes[spec.note_index], spec.kind)
    return raws


def _assemble(
    deck: _DeckUnits,
    raws: dict[tuple[str, int], tuple[RawNote, NoteKind]],
    figures: Figures,
    library: MediaLibrary,
    diagnostics: Diagnostics,
) -> Deck:
    """Every note of one deck in source order, the ones with diagrams finished now, and the media they use."""
    files: dict[str, MediaFile] = {}
    for unit in deck.files:
        for dep in unit.media:
            checked = library.check(dep.src)
            if isinstance(checked, Path):
                media = library.add(checked)
                files[media.name] = media
    key = deck.key
    notes: list[RenderedNote] = []
    for unit in deck.files:
        for compiled in unit.notes:
            note = compiled.result
            if isinstance(note, NoteSpec):
                raw, _ = raws[(unit.path, note.note_index)]
                notetype = key.notetype(note.notetype)
                rendered = render_fields(raw, note.kind, library, figures, notetype)
                files.update((m.name, m) for m in rendered.media)
                spec, note = note, finish_note(note, rendered, key.id, key.name, notetype)
                check_rendered(spec, raw, note, library, figures, diagnostics)
                lint_note(spec, raw, note, diagnostics)
                lint_figures(spec, raw, figures, library, diagnostics)
            notes.append(note)
    ignores = [compiled.lint_ignore for unit in deck.files for compiled in unit.notes]
    check_duplicate_fronts(list(zip(notes, ignores, strict=True)), diagnostics)
    used = sorted({name for note in notes for name in note.media})
    return Deck(
        slug=deck.source.folder.name,
        config=deck.config,
        notes=tuple(notes),
        media=tuple(files[name] for name in used),
        notetypes=key.notetypes,
    )


def _guid(note: RenderedNote | NoteSpec, deck_id: int) -> str:
    if isinstance(note, RenderedNote):
        return note.guid
    return note.guid or note_guid(deck_id, note.note_id)


def _check_notetype_clash(source: DeckSource, key: DeckKey, kinds: set[NoteKind], diagnostics: Diagnostics) -> None:
    """A deck-defined notetype may not take the id or name of a built-in notetype the deck's notes use.

    An unused one may: a package our builder made, imported again, carries the deck's built-in notetypes as
    deck-defined ones, with the same ids, and its notes keep them."""
    builtin = deck_notetypes(key.id, key.name)
    used = {builtin[kind] for kind in kinds if kind in builtin}
    for nt in key.notetypes:
        for other in used:
            if nt.id == other.id or nt.name.lower() == other.name.lower():
                diagnostics.error(
                    Location(display_path(source.folder / NOTETYPES_DIR / nt.key / "notetype.toml")),
                    "E181",
                    f"notetype `{nt.name}` ({nt.id}) has the id or name of the deck's built-in notetype "
                    f"`{other.name}`, which notes of the deck use; expected its own, because Anki matches "
                    "notetypes by id. Change it",
                )


def _explicit(note: RenderedNote | NoteSpec, deck_id: int) -> bool:
    """Whether the note's GUID was written in its metadata rather than derived from its id."""
    if isinstance(note, RenderedNote):
        return note.guid != note_guid(deck_id, note.note_id)
    return note.guid is not None


def _deck_key(source: DeckSource, config: DeckConfig | None, diagnostics: Diagnostics) -> DeckKey:
    """The deck's identity and its own notetypes."""
    notetypes: tuple[DeckNotetype, ...] = ()
    if (source.folder / NOTETYPES_DIR).is_dir():
        # Reading notetype.toml (its pydantic models) loads only for a deck that defines notetypes.
        from builder.notetypes.loader import load_deck_notetypes

        notetypes = load_deck_notetypes(source.folder, diagnostics)
    if config is None:
        return DeckKey(0, source.folder.name, notetypes)
    return DeckKey(config.id, config.name, notetypes)


def _load_decks(sources: Sequence[DeckSource], diagnostics: Diagnostics) -> list[tuple[DeckSource, DeckConfig | None]]:
    out = []
    for source in sources:
        slug = source.folder.name
        if not _SLUG.match(slug):
            diagnostics.error(
                Location(display_path(source.folder)),
                "E014",
                f"deck folder `{slug}` is not a slug; expected lowercase letters, digits and `-`, because it "
                "names the .apkg file. Rename the folder",
            )
        out.append((source, load_deck_config(source.config, diagnostics)))
    return out


def compile_decks(options: Options, diagnostics: Diagnostics, cache: NoteCache | None = None) -> list[CompiledDeck]:
    """Read, compile, check and assemble every deck; raise BuildFailed with all problems if any.

    `cache` is the note cache to use (`watch` passes one that also keeps units in memory); by default the
    one under $BUILDER_CACHE_DIR, or none under `--no-cache`.
    """
    timer = options.timer
    with timer.stage("read"):
        sources = find_decks(options.source, diagnostics)
        configs = _load_decks(sources, diagnostics)
    library = MediaLibrary(options.media)
    with timer.stage("compile"):
        # A deck.toml with errors still gets its notes checked, under a placeholder identity.
        keys = [_deck_key(source, config, diagnostics) for source, config in configs]
        jobs = [(file, key) for (source, _), key in zip(configs, keys, strict=True) for file in source.notes]
        if cache is None and options.use_cache:
            cache = NoteCache.default()
        compiled = compile_files(jobs, library, cache, options.jobs)
    by_path = {unit.path: unit for unit in compiled}
    with timer.stage("check"):
        decks: list[_DeckUnits] = []
        for (source, config), key in zip(configs, keys, strict=True):
            units = tuple(by_path[file.path] for file in source.notes)
            for unit in units:
                diagnostics.extend(unit.diagnostics)
            notes = [note for unit in units for note in unit.notes]
            check_unique_ids(notes, diagnostics)
            guids = [(_guid(note.result, key.id), note) for note in notes]
            # Whether a GUID was written or derived (a hash per note) matters only where two notes share one.
            shared = {guid for guid, count in Counter(guid for guid, _ in guids).items() if count > 1}
            clashes = [(guid, n.location, _explicit(n.result, key.id)) for guid, n in guids if guid in shared]
            check_unique_guids(clashes, diagnostics)
            _check_notetype_clash(source, key, {note.result.kind for note in notes}, diagnostics)
            if config is not None:
                decks.append(_DeckUnits(source, config, units, key))
        _check_decks_distinct(decks, diagnostics)
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    with timer.stage("diagrams"):
        raws = _pending_notes(decks, {file.path: file for file, _ in jobs})
        figures = render_figures(
            [raws[key] for key in sorted(raws)],
            diagnostics,
            use_cache=options.use_cache,
            timeout=options.diagram_timeout,
            jobs=options.jobs,
        )
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    with timer.stage("assemble"):
        assembled = [_assemble(deck, raws, figures, library, diagnostics) for deck in decks]
    if options.strict:
        diagnostics.promote_warnings()
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    return [CompiledDeck(deck, units.source) for deck, units in zip(assembled, decks, strict=True)]
