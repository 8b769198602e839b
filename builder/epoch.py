"""Build time: a deck folder → the timestamp its package carries, and whether the build is a release build.

- `SOURCE_DATE_EPOCH`, when set, is the time (a release build: the caller vouches for it).
- In git, a clean deck folder gets the time of the last commit that touched it (a release build: the same
  commit always gives the same bytes). The folder's `releases/` is left out, so committing a recorded
  manifest does not move the date of the deck it records.
- In git with uncommitted changes to the deck folder or the media folder, or outside git, the build is not a
  release build. Anki keeps a note whose incoming `mod` is not newer than the one it has, so an edit built with
  the last commit's time would never reach a learner's collection that already has the note. Such a build gets
  the time of the newest change instead: the newest modification time among the changed files (outside git:
  among all the deck's and media files), and at least one second after the last commit. The same working tree
  gives the same time; every further edit gives a later one.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Outside git and without SOURCE_DATE_EPOCH, the time never goes below 2000-01-01T00:00:00Z.
FALLBACK_EPOCH = 946_684_800
#: 9999-12-31T23:59:59Z. Anki keeps times in 64-bit integers and note ids are the time in milliseconds, so a
#: later time overflows the collection; no real build is dated past it.
MAX_EPOCH = 253_402_300_799
_DIGITS = re.compile(r"[0-9]{1,12}")
#: Recorded manifests live here inside a deck folder; they describe a release, they are not part of it.
RELEASES = "releases"


@dataclass(frozen=True)
class Epoch:
    value: int
    #: Where the value came from, for the build log.
    origin: str
    #: Why this is not a release build (uncommitted changes, no git), or None for a release build.
    unreleased: str | None = None


class EpochError(Exception):
    """The environment cannot give a trustworthy build time (bad SOURCE_DATE_EPOCH, shallow git history)."""


def _git(folder: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _mtime(path: Path) -> int | None:
    try:
        return int(path.lstat().st_mtime)
    except OSError:
        return None


def _newest(paths: list[Path]) -> tuple[int, Path] | None:
    """The newest modification time among `paths` (a deleted file counts with its folder's), and that path."""
    found: tuple[int, Path] | None = None
    for path in paths:
        stamp = _mtime(path)
        if stamp is None:
            stamp = _mtime(path.parent)
        if stamp is not None and (found is None or (stamp, str(path)) > (found[0], str(found[1]))):
            found = (stamp, path)
    return found


def _changed(folder: Path, media: Path | None) -> list[Path]:
    """Files under the deck folder (but not its releases/) and the media folder that differ from the commit."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return []
    specs = [str(folder.resolve()), f":(exclude){(folder / RELEASES).resolve()}"]
    # A media folder outside this repository is not git's to judge (and git would refuse the whole query).
    if media is not None and media.is_dir() and media.resolve().is_relative_to(Path(top).resolve()):
        specs.append(str(media.resolve()))
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "-z", "--untracked-files=all", "--", *specs],
            cwd=folder,
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    entries = result.stdout.split(b"\0")
    paths: list[Path] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(Path(top) / os.fsdecode(entry[3:]))
        if entry[:1] in (b"R", b"C"):
            index += 1  # a rename or copy is followed by its old path
    return paths


def _all_files(folder: Path, media: Path | None) -> list[Path]:
    roots = [folder] + ([media] if media is not None and media.is_dir() else [])
    return [p for root in roots for p in root.rglob("*") if p.is_file() and RELEASES not in p.relative_to(root).parts]


def source_date_epoch(folder: Path, media: Path | None = None) -> Epoch:
    """The build time of the deck in `folder` whose images are in `media` (see the module docstring)."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env is not None:
        # ASCII digits only: str.isdigit() also accepts `²` and other digits int() refuses.
        if _DIGITS.fullmatch(env.strip()) is None or int(env) > MAX_EPOCH:
            shown = repr(env) if len(env) <= 30 else repr(env[:27] + "...")
            raise EpochError(
                f"found SOURCE_DATE_EPOCH={shown}; expected a whole number of seconds since 1970 up to "
                f"{MAX_EPOCH} (the year 9999), e.g. 1700000000. Fix it, or unset it to use the time of the "
                "last commit that touched the deck"
            )
        return Epoch(int(env), "SOURCE_DATE_EPOCH")
    inside = _git(folder, "rev-parse", "--is-inside-work-tree")
    if inside != "true":
        newest = _newest(_all_files(folder, media))
        value = min(MAX_EPOCH, max(FALLBACK_EPOCH, newest[0] if newest else FALLBACK_EPOCH))
        return Epoch(
            value,
            "newest file (not a git checkout; set SOURCE_DATE_EPOCH)",
            "it is not in a git checkout and SOURCE_DATE_EPOCH is not set",
        )
    if _git(folder, "rev-parse", "--is-shallow-repository") == "true":
        # In a shallow clone the oldest fetched commit seems to touch every file: the date would be wrong.
        raise EpochError(
            f"the git history of {folder.as_posix()} is shallow, so the date of its last change is unknown; "
            "fetch the full history (actions/checkout with fetch-depth: 0, or `git fetch --unshallow`) "
            "or set SOURCE_DATE_EPOCH"
        )
    stamp = _git(folder, "log", "-1", "--format=%ct", "--", ".", f":(exclude){RELEASES}")
    valid = stamp is not None and _DIGITS.fullmatch(stamp) is not None and int(stamp) <= MAX_EPOCH
    committed = int(stamp) if stamp is not None and valid else FALLBACK_EPOCH
    origin = "last commit touching the deck" if valid else "fixed fallback (no commit touches the deck yet)"
    changed = _changed(folder, media)
    if not changed:
        return Epoch(committed, origin)
    newest = _newest(changed)
    value = min(MAX_EPOCH, max(committed + 1, newest[0] if newest else committed + 1))
    count = f"{len(changed)} file{'s' if len(changed) != 1 else ''}"
    where = f", newest {newest[1].name}" if newest else ""
    return Epoch(value, "newest uncommitted change", f"it has uncommitted changes ({count}{where})")
