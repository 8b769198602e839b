"""`deckforge new DIR`: a deck repository from the template shipped in this package, written all at once.

The template (`template/`, package data) is a working repository: example notes of every kind, a noxfile, the
deck's own tests, CI and release workflows that use the Deckforge action, a README for author and learners.
Names that packaging tools drop are spelled differently in the package: `dot-x` becomes `.x` and `__slug__`
the deck's folder. Text files get their `@@PLACEHOLDERS@@` filled in; other files are copied as they are.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from builder import __version__
from builder.config import load_deck_config
from builder.diagnostics import QUOTE_LIMIT, Diagnostics, Location
from builder.source import SourceFile, display_path

#: Where Deckforge lives: the action deck repositories use and the docs their README links to.
HOMEPAGE = "https://github.com/deckforge/deckforge"
#: The `uses:` of the scaffold's workflows: the action at the tag of the builder that made the repository.
ACTION = f"deckforge/deckforge@v{__version__}"
#: Deck ids are drawn from here: far from the small ids of hand-made decks, exact as JavaScript numbers (Anki's
#: UI), and never 1 (Anki's Default deck).
DECK_ID_RANGE = (2**40, 2**52)
_TEXT_SUFFIXES = frozenset({".md", ".toml", ".py", ".yml", ".yaml", ".txt", ""})
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PLACEHOLDER = re.compile(r"@@[A-Z_]+@@")
#: The template's deck.toml, which `check` validates in the new repository.
_DECK_TOML = PurePosixPath("source", "__slug__", "deck.toml")


@dataclass(frozen=True)
class Scaffold:
    """What was written: the repository, its deck folder and the deck id drawn for it."""

    root: Path
    deck_folder: Path
    deck_id: int
    files: tuple[str, ...]


def new_deck_id() -> int:
    low, high = DECK_ID_RANGE
    return low + secrets.randbelow(high - low)


def slug_for(name: str) -> str:
    """A deck folder name from a directory name: lowercase letters, digits and single `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _files(folder: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _files(entry, prefix / entry.name)
        else:
            yield prefix / entry.name, entry


def _target_path(path: PurePosixPath, slug: str) -> PurePosixPath:
    parts = [("." + p.removeprefix("dot-")) if p.startswith("dot-") else p for p in path.parts]
    return PurePosixPath(*[slug if p == "__slug__" else p for p in parts])


def _fill(text: str, values: dict[str, str]) -> str:
    """The template text with its placeholders filled in, in one pass: a value is never searched again."""
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(), match.group()), text)


def _check_name(name: str, values: dict[str, str], target: Path, diagnostics: Diagnostics) -> None:
    """Refuse a name the new repository's own `check` would: its deck.toml, as written, through that validation."""
    template = resources.files(__name__).joinpath("template", *_DECK_TOML.parts).read_text(encoding="utf-8")
    found = Diagnostics()
    load_deck_config(SourceFile.from_text(_DECK_TOML.name, _fill(template, values)), found)
    shown = repr(name) if len(name) <= QUOTE_LIMIT else repr(name[: QUOTE_LIMIT - 3] + "...")
    for problem in found.errors:
        diagnostics.error(
            Location(display_path(target)),
            "E195",
            f"found deck name {shown}, which deck.toml would refuse: {problem.message}. "
            'Pass another with --name, e.g. --name "Spanish verbs"',
        )


def _check_target(target: Path, slug: str, diagnostics: Diagnostics) -> None:
    where = Location(display_path(target))
    if target.exists() and not target.is_dir():
        diagnostics.error(where, "E192", "found a file; expected a new or empty directory for the deck repository")
    elif target.is_dir() and any(target.iterdir()):
        diagnostics.error(
            where,
            "E192",
            "the directory is not empty; expected a new or empty directory, so nothing of yours is overwritten. "
            "Pick another name, or empty it",
        )
    if not _SLUG.match(slug):
        diagnostics.error(
            where,
            "E193",
            f"found deck folder name `{slug}`; expected lowercase letters, digits and `-`, starting with a letter "
            "or digit. Pass one with --slug, e.g. --slug my-deck",
        )


def new_repository(
    target: Path, diagnostics: Diagnostics, name: str | None = None, slug: str | None = None
) -> Scaffold | None:
    """Write a deck repository at `target` (new or empty), or report why not and write nothing."""
    base = target.resolve().name
    slug = slug if slug is not None else slug_for(base)
    name = name if name is not None else (base.replace("-", " ").replace("_", " ").strip().capitalize() or "My deck")
    _check_target(target, slug, diagnostics)
    deck_id = new_deck_id()
    values = {
        "@@NAME_TOML@@": name.replace("\\", "\\\\").replace('"', '\\"'),
        "@@NAME@@": name,
        "@@SLUG@@": slug,
        "@@ID@@": str(deck_id),
        "@@VERSION@@": __version__,
        "@@ACTION@@": ACTION,
        "@@HOMEPAGE@@": HOMEPAGE,
    }
    _check_name(name, values, target, diagnostics)
    if diagnostics.errors:
        return None
    template = resources.files(__name__) / "template"
    parent = target.absolute().parent
    written: list[str] = []
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # Everything goes into a sibling temporary folder first; one rename makes it appear complete or not at all.
        staging = Path(tempfile.mkdtemp(prefix=f".{base}.deckforge-new-", dir=parent))
        try:
            for source_path, entry in _files(template, PurePosixPath()):
                relative = _target_path(source_path, slug)
                destination = staging.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                data = entry.read_bytes()
                if destination.suffix in _TEXT_SUFFIXES:
                    data = _fill(data.decode("utf-8"), values).encode("utf-8")
                destination.write_bytes(data)
                written.append(relative.as_posix())
            _move_into_place(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        diagnostics.error(
            Location(display_path(target)),
            "E194",
            f"cannot write the deck repository: {exc.strerror or exc}; expected a writable place. Nothing was written",
        )
        return None
    return Scaffold(target, target / "source" / slug, deck_id, tuple(sorted(written)))


def _move_into_place(staging: Path, target: Path) -> None:
    """A new directory appears with one rename; an existing empty one (perhaps the working directory, or a mount
    point, which cannot be renamed over) receives each top-level entry by rename, and loses them all again if one
    fails."""
    if not target.exists():
        staging.chmod(0o777 & ~_umask())
        staging.rename(target)
        return
    moved: list[Path] = []
    try:
        for entry in sorted(staging.iterdir()):
            destination = target / entry.name
            if destination.exists() or destination.is_symlink():  # something appeared there meanwhile
                raise FileExistsError(errno.EEXIST, "the directory is no longer empty", str(destination))
            entry.rename(destination)
            moved.append(destination)
    except BaseException:
        for destination in moved:
            if destination.is_dir():
                shutil.rmtree(destination, ignore_errors=True)
            else:
                destination.unlink(missing_ok=True)
        raise
    staging.rmdir()


def _umask() -> int:
    # mkdtemp makes a private (0700) folder; the repository should get the permissions of any new folder.
    mask = os.umask(0)
    os.umask(mask)
    return mask
