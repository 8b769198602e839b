"""The pipeline: source folders → validated, rendered decks → .apkg files in the output folder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from builder.compile import CompiledDeck, compile_decks
from builder.diagnostics import BuildFailed, Diagnostics, Location
from builder.diff import compare, format_markdown
from builder.editlink import EditLinks
from builder.epoch import EpochError, source_date_epoch
from builder.history import Release, plan_release
from builder.manifest import RELEASES_DIR, ManifestError, dumps, previous_release
from builder.notecache import NoteCache
from builder.options import Options
from builder.outputs import output_lock, staged_outputs
from builder.package import atomic_output, write_apkg
from builder.source import display_path, refuse_link


@dataclass(frozen=True)
class Output:
    release: Release
    path: Path
    manifest: Path
    cards: int
    #: Why this package is not a release build (builder.epoch), or None.
    unreleased: str | None = None


@dataclass(frozen=True)
class _Planned:
    release: Release
    unreleased: str | None


def _plan(compiled: CompiledDeck, media: Path, diagnostics: Diagnostics) -> _Planned | None:
    deck, folder = compiled.deck, compiled.source.folder
    try:
        epoch = source_date_epoch(folder, media)
    except EpochError as exc:
        diagnostics.error(Location(display_path(folder)), "E090", str(exc))
        return None
    if epoch.unreleased is not None:
        diagnostics.warning(
            Location(display_path(folder)),
            "W130",
            f"this is not a release build of {deck.slug}: {epoch.unreleased}. Notes changed since the last "
            f"release get mod {epoch.value} (the time of the newest change) so that Anki takes the edit; "
            "expected a clean commit for a release. Commit the changes (or set SOURCE_DATE_EPOCH) to release",
        )
    # Release manifests are files of the source folder like the notes (deck folders sit directly in it).
    manifests = sorted((folder / RELEASES_DIR).glob("*.json"))
    if [path for path in manifests if refuse_link(path, folder.parent.resolve(), "release manifest", diagnostics)]:
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
    links = EditLinks.for_deck(deck.config, deck.slug, folder)
    release = plan_release(deck, found[1] if found else None, compiled.source.config, epoch.value, diagnostics, links)
    return _Planned(release, epoch.unreleased)


def build(options: Options, diagnostics: Diagnostics, cache: NoteCache | None = None) -> list[Output]:
    """Compile every deck, plan each release against the last one, then write packages and manifests.

    Nothing is written unless every deck compiled and passed the release guards.
    """
    timer = options.timer
    decks = compile_decks(options, diagnostics, cache)
    with timer.stage("history"):
        planned = [_plan(compiled, options.media, diagnostics) for compiled in decks]
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    # A file-system failure (full disk, read-only folder) propagates to the command line, which reports it
    # (E113); the staging has been undone by then, so the output folder is as it was.
    return _write_outputs(options, [plan for plan in planned if plan is not None])


def _write_outputs(options: Options, planned: list[_Planned]) -> list[Output]:
    """Every deck's package and manifest, replacing the old ones all together (builder.outputs)."""
    timer = options.timer
    outputs = []
    with staged_outputs(options.out) as staging:
        for plan in planned:
            release = plan.release
            deck = release.deck
            stem = f"{deck.slug}-{deck.config.version}"
            epoch = max([*release.mods.values(), *release.notetype_mods.values()], default=0)
            with timer.stage("package"):
                cards = write_apkg(
                    deck, staging.path(f"{stem}.apkg"), epoch, release.mods, release.notetype_mods, release.css
                )
            with timer.stage("manifest"), atomic_output(staging.path(f"{stem}.json")) as temp:
                temp.write_text(dumps(release.manifest), encoding="utf-8")
            apkg, manifest = options.out / f"{stem}.apkg", options.out / f"{stem}.json"
            outputs.append(Output(release, apkg, manifest, cards, plan.unreleased))
    return outputs


def report_outputs(outputs: list[Output]) -> str:
    """What a build prints: one line per package written."""
    return "".join(
        f"built {o.path.as_posix()} ({len(o.release.deck.notes)} notes, {o.cards} cards, "
        f"{len(o.release.deck.media)} media)\n"
        for o in outputs
    )


def refuse_unreleased(options: Options, outputs: list[Output], command: str, diagnostics: Diagnostics) -> bool:
    """E133 for every package that is not a release build; whether there was any."""
    for output in outputs:
        if output.unreleased is not None:
            deck = output.release.deck
            diagnostics.error(
                Location(display_path(options.source / deck.slug)),
                "E133",
                f"`{command}` needs a release build of {deck.slug}, but {output.unreleased}; expected a clean "
                "commit, because a release must build to the same bytes from its tag. Commit the changes, "
                "then run it again",
            )
    return any(output.unreleased is not None for output in outputs)


def record(options: Options, outputs: list[Output], diagnostics: Diagnostics) -> list[Path]:
    """Keep each built manifest as `source/<deck>/releases/<version>.json`: the baseline for the next release."""
    if refuse_unreleased(options, outputs, "record", diagnostics):
        return []
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
    if refuse_unreleased(options, outputs, "release", diagnostics):
        return []
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
    notes = options.out / "RELEASE_NOTES.md"
    # Under the output lock: another build must not replace the packages while they are summed.
    with output_lock(options.out):
        with atomic_output(sums) as temp:
            temp.write_text("".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files))
        with atomic_output(notes) as temp:
            temp.write_text("\n".join(sections))
    return [sums, notes]
