"""The pipeline: source folders → validated, rendered decks → .apkg files in the output folder."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.config import load_deck_config
from builder.diagnostics import BuildFailed, Diagnostics, Location
from builder.diff import compare, format_markdown
from builder.epoch import EpochError, source_date_epoch
from builder.figures import render_figures
from builder.history import Release, plan_release
from builder.lint import lint_deck
from builder.manifest import RELEASES_DIR, ManifestError, dumps, previous_release
from builder.media import MediaLibrary
from builder.models import Deck
from builder.package import atomic_output, card_ordinals, write_apkg
from builder.parse import parse_file
from builder.progress import Progress
from builder.render import render_deck
from builder.source import DeckSource, display_path, find_decks
from builder.validate import ValidatedDeck, validate_deck

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Options:
    source: Path = Path("source")
    media: Path = Path("media")
    out: Path = Path("dist")
    #: Linter warnings count as errors.
    strict: bool = False
    #: Keep rendered diagrams in $BUILDER_CACHE_DIR (default .cache/builder) between builds.
    use_cache: bool = True
    #: Seconds a single diagram may take before the build stops it.
    diagram_timeout: float = 60.0


@dataclass(frozen=True)
class Output:
    release: Release
    path: Path
    manifest: Path
    cards: int


def _check_decks_distinct(decks: Sequence[tuple[DeckSource, ValidatedDeck]], diagnostics: Diagnostics) -> None:
    """Anki matches decks by name and we derive ids from the deck id: both must differ between decks."""
    for key in ("id", "name"):
        seen: dict[object, Path] = {}
        for source, deck in decks:
            folder = source.folder
            value = getattr(deck.config, key)
            first = seen.setdefault(value, folder)
            if first != folder:
                diagnostics.error(
                    Location(source.config.path),
                    "E013",
                    f"deck {key} {value!r} is also used by {display_path(first / 'deck.toml')}; expected every "
                    f"deck to have its own {key}. Change one of them",
                )


@dataclass(frozen=True)
class CompiledDeck:
    """A rendered deck and the folder it came from (its deck.toml locates the release guards' messages)."""

    deck: Deck
    source: DeckSource


def compile_decks(options: Options, diagnostics: Diagnostics) -> list[CompiledDeck]:
    """Read, parse, validate and render every deck; raise BuildFailed with all problems if any."""
    sources = find_decks(options.source, diagnostics)
    library = MediaLibrary(options.media)
    kept: list[tuple[DeckSource, ValidatedDeck]] = []
    for source in sources:
        config = load_deck_config(source.config, diagnostics)
        slug = source.folder.name
        if not _SLUG.match(slug):
            diagnostics.error(
                Location(display_path(source.folder)),
                "E014",
                f"deck folder `{slug}` is not a slug; expected lowercase letters, digits and `-`, because it "
                "names the .apkg file. Rename the folder",
            )
        with Progress("parsing", len(source.notes)) as bar:
            parsed = []
            for file in source.notes:
                parsed.append(parse_file(file))
                bar.advance()
        if config is not None:
            kept.append((source, validate_deck(slug, config, parsed, library, diagnostics)))
    _check_decks_distinct(kept, diagnostics)
    validated = [deck for _, deck in kept]
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    figures = render_figures(validated, diagnostics, use_cache=options.use_cache, timeout=options.diagram_timeout)
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    rendered = [render_deck(deck, library, figures) for deck in validated]
    for deck, output in zip(validated, rendered, strict=True):
        lint_deck(deck, output.notes, diagnostics)
    if options.strict:
        diagnostics.promote_warnings()
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    return [CompiledDeck(deck, source) for deck, (source, _) in zip(rendered, kept, strict=True)]


def _plan(compiled: CompiledDeck, diagnostics: Diagnostics) -> Release | None:
    deck, folder = compiled.deck, compiled.source.folder
    try:
        epoch = source_date_epoch(folder)
    except EpochError as exc:
        diagnostics.error(Location(display_path(folder)), "E090", str(exc))
        return None
    try:
        found = previous_release(folder, deck.config.version)
    except ManifestError as exc:
        diagnostics.error(
            Location(display_path(folder / RELEASES_DIR)),
            "E103",
            f"{exc}; expected a manifest written by `python -m builder record`. Restore it from git",
        )
        return None
    return plan_release(deck, found[1] if found else None, compiled.source.config, epoch.value, diagnostics)


def build(options: Options, diagnostics: Diagnostics) -> list[Output]:
    """Compile every deck, plan each release against the last one, then write packages and manifests.

    Nothing is written unless every deck compiled and passed the release guards.
    """
    decks = compile_decks(options, diagnostics)
    releases = [_plan(compiled, diagnostics) for compiled in decks]
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    outputs = []
    for release in releases:
        assert release is not None
        deck = release.deck
        stem = f"{deck.slug}-{deck.config.version}"
        target = options.out / f"{stem}.apkg"
        epoch = max([*release.mods.values(), *release.notetype_mods.values()], default=0)
        write_apkg(deck, target, epoch, release.mods, release.notetype_mods)
        manifest_path = options.out / f"{stem}.json"
        with atomic_output(manifest_path) as temp:
            temp.write_text(dumps(release.manifest), encoding="utf-8")
        outputs.append(Output(release, target, manifest_path, sum(len(card_ordinals(n)) for n in deck.notes)))
    return outputs


def record(options: Options, outputs: list[Output]) -> list[Path]:
    """Keep each built manifest as `source/<deck>/releases/<version>.json`: the baseline for the next release."""
    written = []
    for output in outputs:
        deck = output.release.deck
        target = options.source / deck.slug / RELEASES_DIR / f"{deck.config.version}.json"
        with atomic_output(target) as temp:
            temp.write_bytes(output.manifest.read_bytes())
        written.append(target)
    return written


def release_files(options: Options, outputs: list[Output], diagnostics: Diagnostics) -> list[Path]:
    """SHA256SUMS and RELEASE_NOTES.md for a tagged release; every manifest must already be recorded."""
    sections = []
    for output in outputs:
        release = output.release
        deck = release.deck
        recorded = options.source / deck.slug / RELEASES_DIR / f"{deck.config.version}.json"
        if not recorded.is_file() or recorded.read_bytes() != output.manifest.read_bytes():
            state = "outdated" if recorded.is_file() else "missing"
            diagnostics.error(
                Location(display_path(recorded)),
                "E104",
                f"the manifest of {deck.slug} {deck.config.version} is {state}; "
                "expected the one this build writes, because the next release compares against it. "
                "Run `python -m builder record` and commit the file",
            )
        title = f"# {deck.config.name} {deck.config.version}\n\n"
        if release.previous is None:
            sections.append(f"{title}First release: {len(deck.notes)} notes.\n")
        else:
            sections.append(title + format_markdown(compare(release.previous, release.manifest)))
    if diagnostics.errors:
        return []
    sums = options.out / "SHA256SUMS"
    files = sorted([o.path for o in outputs] + [o.manifest for o in outputs], key=lambda p: p.name)
    with atomic_output(sums) as temp:
        temp.write_text("".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files))
    notes = options.out / "RELEASE_NOTES.md"
    with atomic_output(notes) as temp:
        temp.write_text("\n".join(sections))
    return [sums, notes]
