"""Watch: a source tree being edited → a fresh build after every saved change, with the pipeline kept warm.

A one-shot build pays for starting Python, importing the pipeline and loading every cached note file before
it compiles the one file that changed. `watch` pays that once: it stays running, keeps the compiled units of
every file in memory (on top of the disk cache, which it keeps filling), and after each change recompiles
only the files whose text changed, then re-runs the deck-wide checks and rewrites the package. What it
writes is byte-for-byte what `build` writes for the same files; a build with errors leaves `dist/` as it was.

Changes are found by polling (no platform file-watching API, so it works the same in containers, over
network mounts and on every OS): a file's path, size, mtime and inode, for every file under the source and
media folders.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from builder.build import build, report_outputs
from builder.diagnostics import FORMATTERS, BuildFailed, Diagnostics
from builder.notecache import NoteCache
from builder.options import Options
from builder.stamp import Stamp

#: Seconds between two looks at the file tree: a change shows up within this, plus the build itself.
DEFAULT_INTERVAL = 0.1

Snapshot = tuple[tuple[str, int, int, int], ...]


def snapshot(folders: Sequence[Path]) -> Snapshot:
    """Every file under `folders` with its size, mtime and inode: an editor's save changes at least one."""
    entries: list[tuple[str, int, int, int]] = []
    for folder in folders:
        for directory, subdirs, files in os.walk(folder):
            subdirs.sort()
            for name in files:
                path = Path(directory) / name
                try:
                    info = path.stat()
                except OSError:  # deleted between listing and stat: the next look sees it gone
                    continue
                entries.append((path.as_posix(), info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(sorted(entries))


def _wait_for_change(folders: Sequence[Path], seen: Snapshot, interval: float) -> Snapshot:
    """Block until the tree differs from `seen` and has stopped changing (a checkout writes many files)."""
    while True:
        time.sleep(interval)
        now = snapshot(folders)
        if now == seen:
            continue
        while True:
            # Settle: one more short look, so a burst of writes becomes one build, not one per file.
            time.sleep(min(interval, 0.05))
            later = snapshot(folders)
            if later == now:
                return now
            now = later


def build_once(options: Options, cache: NoteCache | None, out: TextIO, err: TextIO, fmt: str) -> bool:
    """One build with everything reported, as `build` reports it; returns whether it succeeded."""
    diagnostics = Diagnostics()
    start = time.perf_counter()
    stamp = Stamp.for_build(options, "build") if options.use_cache else None
    try:
        outputs = build(options, diagnostics, cache)
    except BuildFailed:
        outputs = None
    found = diagnostics.sorted()
    if found:
        err.write(FORMATTERS[fmt](found))
    seconds = time.perf_counter() - start
    if outputs is None:
        out.write(f"build failed in {seconds:.2f} s: {options.out.as_posix()}/ is unchanged; fix and save\n")
        out.flush()
        return False
    report = report_outputs(outputs)
    out.write(report)
    out.write(f"done in {seconds:.2f} s\n")
    out.flush()
    if stamp is not None:
        # A later `build` of the same files is then a no-op, as if it had built them itself.
        stamp.record([path for o in outputs for path in (o.path, o.manifest)], report, diagnostics.items)
    return True


def watch(
    options: Options,
    interval: float = DEFAULT_INTERVAL,
    fmt: str = "text",
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Build, then build again after every change until interrupted (Ctrl-C); returns the exit code, 0."""
    # Imported here: a one-shot build loads the diagram stage only for a deck that has diagrams.
    from builder.diagrams.runner import engines_kept_open

    folders = [options.source, options.media]
    # The memory layer is what makes a rebuild fast; the disk layer is what makes the next `build` fast.
    cache = NoteCache.default(memory={}) if options.use_cache else None
    try:
        # A diagram engine loaded for one rebuild (Mermaid's worker) serves the next ones, until watch stops.
        with engines_kept_open():
            seen = snapshot(folders)
            while True:
                build_once(options, cache, out, err, fmt)
                folder_list = ", ".join(f.as_posix() + "/" for f in folders)
                out.write(f"watching {folder_list} for changes (Ctrl-C to stop)\n")
                out.flush()
                seen = _wait_for_change(folders, seen, interval)
    except KeyboardInterrupt:
        out.write("stopped watching\n")
        out.flush()
        return 0
