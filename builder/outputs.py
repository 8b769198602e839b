"""Output transaction: every file a build writes to the output folder → all replaced together, or none.

A build writes several files (each deck's .apkg and .json). Written one by one, a failure or a kill -9 half way
leaves new packages beside old manifests, or the first decks new and the rest old. Instead they are staged in a
folder inside the output folder (`.deckforge-staging-*`, on the same file system, so renames are atomic) and
committed at the end:

1. Every file is written into `<staging>/new/`. A failure here deletes the staging folder: nothing changed.
2. A `COMMIT` file listing the names is written: from now on the transaction rolls forward.
3. Each old file is moved to `<staging>/old/`, each new one into place. A failure here moves back what was
   moved, in reverse order, and the output folder is as before.

A build that was killed leaves its staging folder behind; the next build (or up-to-date check) finishes it:
with a `COMMIT` file the remaining new files are moved into place, without one the folder is deleted. Temporary
`.tmp` files left by older builders are deleted too. All of this happens under an exclusive lock on the output
folder itself (flock, released by the kernel when a process dies), so concurrent builds never see or clean up
each other's staging.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; builds into one folder must not overlap there
    fcntl = None  # type: ignore[assignment]

STAGING_PREFIX = ".deckforge-staging-"
_COMMIT = "COMMIT"
#: Temporary names of builder.package.atomic_output: `.<name>.<random>.tmp`.
_TMP_GLOB = ".*.tmp"


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder (created if missing) for the duration of the block."""
    out.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _names(staging: Path) -> list[str]:
    names = json.loads((staging / _COMMIT).read_text(encoding="utf-8"))
    if not isinstance(names, list) or not all(isinstance(n, str) and "/" not in n for n in names):
        raise ValueError("not a list of file names")
    return names


def recover(out: Path) -> None:
    """Finish or undo what killed builds left in `out`; call with the lock held."""
    if not out.is_dir():
        return
    for staging in sorted(out.glob(STAGING_PREFIX + "*")):
        try:
            names = _names(staging) if (staging / _COMMIT).is_file() else []
        except (OSError, ValueError):
            names = []
        for name in names:
            new = staging / "new" / name
            if new.is_file():
                new.replace(out / name)
        shutil.rmtree(staging, ignore_errors=True)
    for leftover in out.glob(_TMP_GLOB):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


class Staging:
    """The staging folder of one build: `path(name)` is where to write what becomes `out/name`.

    The folder is made when the first file is staged, so a folder that cannot take it (read-only, full) is
    reported under that file's own name.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder: Path | None = None
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        if "/" in name or name in ("", ".", "..") or name in self.names:
            raise ValueError(f"bad or repeated output name {name!r}")
        if self.folder is None:
            try:
                self.folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out))
                (self.folder / "new").mkdir()
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(self.out / name)) from None
        self.names.append(name)
        return self.folder / "new" / name

    def commit(self) -> None:
        if self.folder is None:
            return
        new, old = self.folder / "new", self.folder / "old"
        old.mkdir()
        for name in self.names:
            if not (new / name).is_file():
                raise FileNotFoundError(f"{name} was never written")
        marker = self.folder / f"{_COMMIT}.tmp"
        marker.write_text(json.dumps(self.names), encoding="utf-8")
        marker.replace(self.folder / _COMMIT)
        moved: list[tuple[str, bool]] = []
        try:
            for name in self.names:
                target = self.out / name
                had_old = target.exists() or target.is_symlink()
                if had_old:
                    target.replace(old / name)
                moved.append((name, had_old))
                (new / name).replace(target)
        except BaseException:
            self._roll_back(moved)
            raise

    def _roll_back(self, moved: list[tuple[str, bool]]) -> None:
        """Undo the moves of a commit that failed half way, newest first."""
        assert self.folder is not None
        (self.folder / _COMMIT).unlink(missing_ok=True)
        for name, had_old in reversed(moved):
            target = self.out / name
            if not (self.folder / "new" / name).exists() and target.is_file():
                target.replace(self.folder / "new" / name)
            if had_old:
                (self.folder / "old" / name).replace(target)


def _outside(exc: OSError, staging: Staging) -> OSError:
    """The same error about the output file a staged file becomes (the staging folder means nothing to a user)."""
    if staging.folder is None or not isinstance(exc.filename, str):
        return exc
    new = (staging.folder / "new").absolute()
    failed = Path(exc.filename).absolute()
    if not failed.is_relative_to(new) or failed == new:
        return exc
    return OSError(exc.errno, exc.strerror, str(staging.out / failed.relative_to(new).parts[0]))


@contextlib.contextmanager
def staged_outputs(out: Path) -> Iterator[Staging]:
    """Write a build's outputs through the yielded Staging; they replace the old ones when the block succeeds."""
    created = not out.exists()
    with output_lock(out):
        recover(out)
        staging = Staging(out)
        committed = False
        try:
            try:
                yield staging
                staging.commit()
            except OSError as exc:
                raise _outside(exc, staging) from None
            committed = True
        finally:
            if staging.folder is not None:
                shutil.rmtree(staging.folder, ignore_errors=True)
            if created and not committed:
                # A failed first build leaves no output folder either.
                with contextlib.suppress(OSError):
                    out.rmdir()
