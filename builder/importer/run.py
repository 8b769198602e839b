"""`import`: an Anki package → a deck folder under source/ and its media, all or nothing.

Stages: read the package (apkg) → lay the deck out as files (notetypes, layout, html2md) → write them into a
temporary folder → build that folder with the real builder, which proves the files compile and gives each
note's rendered fields → compare every note with the original (visible text, images, sounds, cards) →
record the original package as the baseline release (the note and notetype mod times learners already have,
so the first build changes nothing for them) → report what was lost, set aside or flagged (reports) → move
the folders into place. Any error before the move leaves source/ and media/ exactly as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from builder.compile import CompiledDeck, compile_decks
from builder.diagnostics import BuildFailed, Diagnostic, Diagnostics, Location
from builder.importer.apkg import Package, PackageError, PackageNotetype, read_package
from builder.importer.layout import Layout, NoteReport, original_visible, plan_notes, top_deck
from builder.importer.names import LayoutError, plan_media, slugify, toml_string, windows_reserved
from builder.importer.notetypes import check_notetype, notetype_files, notetype_keys
from builder.importer.reports import report_active_templates, report_notes, report_renamed, report_template_media
from builder.manifest import RELEASES_DIR, build_manifest, dumps, visible_text
from builder.models import SEMVER_PATTERN, RenderedNote
from builder.notetypes import deck_stylesheet
from builder.options import Options
from builder.source import display_path

#: The imported package is recorded as a pre-release of the deck's major version (1.0.0-anki before 1.0.0): older
#: than the first build, and of the same major version, so a notetype shape change still needs a new major (E102).
BASELINE_SUFFIX = "-anki"


def baseline_version(version: str) -> str:
    return f"{version.split('.', 1)[0]}.0.0{BASELINE_SUFFIX}"


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_IMG = re.compile(r"<img\b[^<>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_SOUND = re.compile(r"\[sound:([^\]]+)\]")


@dataclass
class ImportResult:
    folder: Path
    media: Path
    notes: int
    notetypes: int
    media_files: int
    skipped: int
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRequest:
    package: Path
    source: Path = Path("source")
    media: Path = Path("media")
    deck_folder: str | None = None
    version: str = "1.0.0"


def _deck_toml(layout: Layout, description: str, version: str) -> str:
    lines = [f"name = {toml_string(layout.deck_name)}", f"id = {layout.deck_id}", f'version = "{version}"']
    if description:
        lines.append(f"description = {toml_string(description)}")
    return "\n".join(lines) + "\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in sorted(files.items()):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def _check_tree(package: Package) -> None:
    """LayoutError (E172) for cards in `Top::Sub` when the package has no `Top`: the deck.toml needs its id."""
    decks = {d.id: d.name for d in package.decks}
    used = sorted({decks[c.deck_id] for c in package.cards if c.deck_id in decks})
    roots = {name.split("::")[0] for name in used}
    if len(roots) != 1 or set(roots) <= set(decks.values()):
        return  # several trees, or unknown deck ids: top_deck says so
    (root,) = roots
    raise LayoutError(
        "E172",
        f"the cards are in the deck `{used[0][:80]}`, but the package has no deck `{root[:80]}` above it; expected "
        "the tree from its top deck, whose id the built deck keeps. Import the package into Anki and export the "
        f"deck `{root[:80]}` from there (its subdecks come along)",
    )


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists."""
    return next(p for p in (path, *path.absolute().parents) if p.exists())


def _check_request(request: ImportRequest, package: Package, diagnostics: Diagnostics) -> str | None:
    """The deck folder's name, or None after reporting why the import cannot go there."""
    top, _ = top_deck(package)
    folder = slugify(top.name, "deck", 40) if request.deck_folder is None else request.deck_folder
    shown = Location(display_path(request.package))
    if not _SLUG.match(folder) or windows_reserved(folder):
        diagnostics.error(
            shown,
            "E174",
            f"deck folder name `{folder}` is not a slug; expected lowercase letters, digits and `-`, not a name "
            "Windows reserves (con, prn, aux, nul, com1, lpt1, ...), e.g. --deck-folder my-deck",
        )
        return None
    for root, option in ((request.source, "--source"), (request.media, "--media")):
        existing = _existing(root)
        if not existing.is_dir():
            diagnostics.error(
                Location(display_path(existing)),
                "E174",
                f"{option} `{display_path(root)}` needs a folder where the file `{display_path(existing)}` is; "
                f"expected a folder, or a path where one can be made. Pass another {option}",
            )
            return None
    if not re.match(SEMVER_PATTERN, request.version) or "-" in request.version:
        diagnostics.error(
            shown,
            "E174",
            f"version `{request.version}` is not a release version; expected e.g. 1.0.0 (the imported package "
            "itself is recorded as the pre-release 1.0.0-anki)",
        )
        return None
    for root, what in ((request.source, "deck folder"), (request.media, "media folder")):
        if (root / folder).exists():
            diagnostics.error(
                Location(display_path(root / folder)),
                "E173",
                f"the {what} `{display_path(root / folder)}` already exists; expected a new name, so nothing "
                f"is overwritten. Choose another with --deck-folder, or remove the old one",
            )
    return None if diagnostics.errors else folder


def _build(work: Path, diagnostics: Diagnostics) -> tuple[CompiledDeck | None, list[Diagnostic]]:
    local = Diagnostics()
    try:
        (compiled,) = compile_decks(Options(work / "source", work / "media", use_cache=False, jobs=1), local)
    except BuildFailed as exc:
        return None, list(exc.diagnostics)
    return compiled, local.errors


def _note_at(layout: Layout, diagnostic: Diagnostic, prefix: str) -> NoteReport | None:
    """The note a build diagnostic points into (its file, the last heading at or above the line)."""
    path = diagnostic.location.path
    if not path.startswith(prefix):
        return None
    relative = path[len(prefix) :]
    candidates = [n for n in layout.notes if n.path == relative and n.line <= diagnostic.location.line]
    return max(candidates, key=lambda n: n.line) if candidates else None


#: Each failed build of the converted deck sets the notes it blames aside and builds again; the builder reports
#: every problem at once, so more rounds than this mean something else is wrong.
MAX_BUILD_ROUNDS = 4


def _note_problems(
    layout: Layout, problems: list[Diagnostic], prefix: str, shown: str
) -> tuple[dict[int, str], list[Diagnostic]]:
    """Build problems split into those inside a note (note id → why) and the rest (in notetypes or deck.toml)."""
    blamed: dict[int, str] = {}
    rest = []
    for problem in problems:
        note = _note_at(layout, problem, prefix)
        if note is None:
            rest.append(problem)
            continue
        why = f"the builder refuses its converted text ({problem.code}: {problem.message.replace(prefix, shown + '/')})"
        blamed.setdefault(note.note_id, why)
    return blamed, rest


def _deck_problem(problem: Diagnostic, prefix: str, shown: str, diagnostics: Diagnostics) -> None:
    path = problem.location.path.replace(prefix, shown + "/")
    message = problem.message.replace(prefix, shown + "/")
    if "/notetypes/" in f"/{path[len(shown) :]}":
        advice = (
            "The package's notetype is one the builder cannot carry over as it is; change it in Anki as the "
            "message says and export again"
        )
    else:
        advice = "This is a bug in the importer; please report it with the package"
    diagnostics.error(
        Location(path, problem.location.line),
        "E178",
        f"the imported deck does not build after conversion: {problem.code}: {message}. {advice}",
    )


def _media_digests(package: Package, names: set[str]) -> dict[str, str]:
    return {e.name: hashlib.sha256(package.read_media(e)).hexdigest()[:16] for e in package.media if e.name in names}


def _refs(html_text: str) -> list[str]:
    images = [next(g for g in m.groups() if g is not None) for m in _IMG.finditer(html_text)]
    return images + [f"sound:{s}" for s in _SOUND.findall(html_text)]


def _verify(
    package: Package, layout: Layout, deck: CompiledDeck, prefix: str, diagnostics: Diagnostics, shown: str
) -> None:
    """Every rebuilt note shows what the original showed: the same text, images, sounds and cards."""
    rebuilt: dict[str, RenderedNote] = {n.guid: n for n in deck.deck.notes}
    names = {re.sub(r"^sound:", "", r) for note in layout.notes for f in note.fields for r in _refs(f)}
    digests = _media_digests(package, names)
    for report in layout.notes:
        note = rebuilt[report.guid]
        where = Location(f"{shown}/{report.path}", report.line)
        problems = []
        for index, (before, after) in enumerate(zip(report.fields, note.fields, strict=True)):
            if original_visible(before) != original_visible(after):
                problems.append(f"field {index + 1} reads `{visible_text(after)[:60]}`")
            old = sorted(digests.get(re.sub(r"^sound:", "", r), "?") for r in _refs(before))
            new = sorted(re.sub(r".*-([0-9a-f]{16})\.\w+$", r"\1", r) for r in _refs(after))
            if old != new:
                problems.append(f"field {index + 1} has other media")
        if note.cards != report.cards:
            problems.append(f"it makes cards {list(note.cards)} where the package has {list(report.cards)}")
        if problems and not report.dropped:
            diagnostics.warning(
                where,
                "E179",
                f"note {report.note_id} (guid {report.guid}) differs from the original after conversion: "
                f"{'; '.join(problems)}. Check it against the original in Anki",
            )


def import_package(request: ImportRequest, diagnostics: Diagnostics) -> ImportResult | None:
    """Import one package; on any error report it and write nothing."""
    shown_package = Location(display_path(request.package))
    try:
        package = read_package(request.package)
    except PackageError as exc:
        diagnostics.error(shown_package, "E170", f"cannot import {display_path(request.package)}: {exc}")
        return None
    if not package.notes:
        diagnostics.error(shown_package, "E171", "the package holds no notes; expected an exported deck with notes")
        return None
    try:
        _check_tree(package)
        folder = _check_request(request, package, diagnostics)
        if folder is None:
            return None
        used = {n.notetype_id for n in package.notes}
        notetypes = [nt for nt in package.notetypes if nt.id in used]
        for nt in notetypes:
            check_notetype(nt)
        keys = notetype_keys(notetypes)
        renamed: list[tuple[str, str]] = []
        media = plan_media(package, folder, package.read_media, renamed)
        plan = partial(plan_notes, package, folder, media, keys)
        layout = plan({})
        result = _write_and_check(request, package, folder, layout, plan, notetypes, keys, diagnostics)
    except LayoutError as exc:
        diagnostics.error(shown_package, exc.code, exc.message)
        return None
    except PackageError as exc:
        # A media file is read when it is planned and written: one that cannot be unpacked is found only then.
        diagnostics.error(shown_package, "E170", f"cannot import {display_path(request.package)}: {exc}")
        return None
    if result is not None:
        report_renamed(renamed, request.media, diagnostics)
    return result


def _write_and_check(
    request: ImportRequest,
    package: Package,
    folder: str,
    layout: Layout,
    plan: Callable[[Mapping[int, str]], Layout],
    notetypes: list[PackageNotetype],
    keys: dict[int, str],
    diagnostics: Diagnostics,
) -> ImportResult | None:
    top, _ = top_deck(package)
    # A deck our builder made says its version at the end of the description; the version lives in deck.toml.
    description = visible_text(re.sub(r"(?:<br>)*Version [0-9][\w.+-]*$", "", top.description))
    final_source = request.source / folder
    final_media = request.media / folder
    shown = display_path(final_source)
    # Beside the target, so the final move is a rename; nothing under source/ or media/ until then.
    nearest = next(p for p in (request.source, *request.source.absolute().parents) if p.is_dir())
    with tempfile.TemporaryDirectory(prefix=".deckforge-import-", dir=nearest) as temp:
        work = Path(temp)
        deck_dir = work / "source" / folder
        media_dir = work / "media"
        prefix = display_path(deck_dir) + "/"
        exclude: dict[int, str] = {}
        for _ in range(MAX_BUILD_ROUNDS):
            if exclude:
                layout = plan(exclude)
            if not layout.notes:
                report_notes(layout, diagnostics, shown)
                diagnostics.error(
                    Location(display_path(request.package)),
                    "E171",
                    "no note of the package could be converted (each one is listed above); expected at least one",
                )
                return None
            shutil.rmtree(work / "source", ignore_errors=True)
            shutil.rmtree(media_dir, ignore_errors=True)
            _write_deck(package, layout, notetypes, keys, deck_dir, media_dir, folder, description, request.version)
            compiled, problems = _build(work, diagnostics)
            if compiled is not None:
                break
            blamed, rest = _note_problems(layout, problems, prefix, shown)
            if rest or not blamed:
                # A notetype that does not load leaves every note naming it unresolved: report the cause only.
                causes = [p for p in rest if "/notetypes/" in p.location.path]
                for problem in causes or rest or problems:
                    _deck_problem(problem, prefix, shown, diagnostics)
                return None
            exclude.update(blamed)
        else:
            diagnostics.error(
                Location(shown),
                "E178",
                f"the imported deck still does not build after setting {len(exclude)} notes aside. This is a bug "
                "in the importer; please report it with the package",
            )
            return None
        _verify(package, layout, compiled, prefix, diagnostics, shown)
        _record_baseline(compiled, package, layout, deck_dir, prefix, shown)
        report_notes(layout, diagnostics, shown)
        report_template_media(package, notetypes, keys, diagnostics, shown)
        report_active_templates(notetypes, keys, diagnostics, shown)
        _move_into_place(media_dir / folder, final_media, deck_dir, final_source)
    return ImportResult(
        final_source, final_media, len(layout.notes), len(notetypes), len(layout.media), len(layout.skipped)
    )


def _move_into_place(media: Path, final_media: Path, deck: Path, final_source: Path) -> None:
    """Both folders into place, or neither: on a failure what was moved or made is taken away again."""
    made: list[Path] = []
    moved: Path | None = None
    try:
        for parent in (final_media.parent, final_source.parent):
            missing = [p for p in (parent, *parent.parents) if not p.exists()]
            parent.mkdir(parents=True, exist_ok=True)
            made.extend(missing)
        moved = Path(shutil.move(str(media), str(final_media)))
        shutil.move(str(deck), str(final_source))
    except OSError:
        if moved is not None:
            shutil.rmtree(moved, ignore_errors=True)
        for path in sorted(made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def _write_deck(
    package: Package,
    layout: Layout,
    notetypes: list[PackageNotetype],
    keys: dict[int, str],
    deck_dir: Path,
    media_dir: Path,
    folder: str,
    description: str,
    version: str,
) -> None:
    files = {"deck.toml": _deck_toml(layout, description, version), **layout.files}
    for nt in notetypes:
        files.update({f"notetypes/{keys[nt.id]}/{k}": v for k, v in notetype_files(nt).items()})
    _write(deck_dir, files)
    for relative, entry in sorted(layout.media.items()):
        target = media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(package.read_media(entry))
    if not layout.media:
        (media_dir / folder).mkdir(parents=True, exist_ok=True)


def _record_baseline(
    compiled: CompiledDeck, package: Package, layout: Layout, deck_dir: Path, prefix: str, shown: str
) -> None:
    """The original package as release 1.0.0-anki: unchanged notes keep the mod learners have, so Anki skips them."""
    deck = compiled.deck
    by_guid = {r.guid: r for r in layout.notes}
    mods = {n.note_id: by_guid[n.guid].mtime for n in deck.notes}
    notetype_mods = {nt.id: nt.mtime for nt in package.notetypes}
    version = baseline_version(deck.config.version)
    baseline = deck.model_copy(update={"config": deck.config.model_copy(update={"version": version})})
    css = deck_stylesheet(note.fields for note in deck.notes)
    manifest = build_manifest(baseline, mods, notetype_mods, {}, css)
    text = dumps(manifest).replace(f'"source":"{prefix}', f'"source":"{shown}/')
    target = deck_dir / RELEASES_DIR / f"{version}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
