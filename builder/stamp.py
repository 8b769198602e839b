"""Up-to-date check: everything a build reads → one digest; an unchanged build is skipped and replays its report.

Like make or ninja, but by content: the digest covers every file under the source and media folders, the
build time of each deck, the options, the working directory (diagnostics show paths relative to it) and the
builder's fingerprint (its code, its libraries, Python, zlib and SQLite). The record of the last successful
build to an output folder keeps that digest, the sha256 of every file it wrote, and what it printed. The next
build with the same digest whose outputs are still byte-for-byte what it wrote prints the same report and
writes nothing. Anything else (an edit, a deleted or touched output, a corrupt record) builds as usual.

This module stays light (no pydantic, markdown-it or genanki): a no-op build never imports the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.cachefiles import cache_root, entry_path, read_entry, write_entry
from builder.diagnostics import Diagnostic
from builder.epoch import EpochError, source_date_epoch
from builder.fingerprint import builder_fingerprint
from builder.options import Options
from builder.outputs import STAGING_PREFIX, output_lock, recover

SUBDIR = "stamps"
_MAGIC = "deckforge-stamp-v1"


@dataclass(frozen=True)
class Replay:
    stdout: str
    diagnostics: tuple[Diagnostic, ...]


def _files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def _digest_files(digest: hashlib._Hash, label: str, root: Path) -> bool:
    """Hash every file under `root` into `digest`; say whether any mentions PlantUML."""
    plantuml = False
    for path in _files(root):
        try:
            data = path.read_bytes()
        except OSError as exc:
            # An unreadable file is the build's to report; here it is just an input in that state.
            data = f"\0unreadable:{exc.errno}".encode()
        # fsencode: a name that is not UTF-8 is still an input, with its own bytes.
        digest.update(label.encode() + b":" + os.fsencode(path.relative_to(root).as_posix()) + b"\0")
        digest.update(hashlib.sha256(data).digest())
        plantuml = plantuml or b"plantuml" in data
    return plantuml


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True)
class Stamp:
    record_path: Path
    digest: str
    #: The output folder: what a killed build left there is cleaned up even when nothing needs building.
    out: Path

    @classmethod
    def for_build(cls, options: Options, command: str) -> Stamp | None:
        """The stamp of this build's inputs, or None when they cannot be pinned down (the build will say why)."""
        digest = hashlib.sha256()
        for part in (_MAGIC, builder_fingerprint(), command, str(options.strict), str(Path.cwd())):
            digest.update(os.fsencode(part) + b"\0")
        for folder in (options.source, options.media, options.out):
            digest.update(os.fsencode(folder.resolve()) + b"\0")
        uses_plantuml = _digest_files(digest, "source", options.source)
        _digest_files(digest, "media", options.media)
        if options.source.is_dir():
            for folder in sorted(p for p in options.source.iterdir() if (p / "deck.toml").is_file()):
                try:
                    epoch = source_date_epoch(folder, options.media)
                except EpochError:
                    return None
                digest.update(f"epoch:{folder.name}={epoch.value}\0".encode())
        if uses_plantuml:
            # PlantUML is the one engine outside the Python environment: its version comes from the machine.
            from builder.diagrams.plantuml import PlantUMLEngine

            digest.update(f"plantuml={PlantUMLEngine().version()}\0".encode())
        key = hashlib.sha256(os.fsencode(f"{command}\0{options.out.resolve()}")).hexdigest()
        return cls(entry_path(cache_root() / SUBDIR, key, ".json"), digest.hexdigest(), options.out)

    def replay(self) -> Replay | None:
        """The report of the last build if nothing it read or wrote has changed since; else None."""
        # What a killed build left is finished or removed first, so the outputs compared are the real ones.
        if any(self.out.glob(STAGING_PREFIX + "*")) or any(self.out.glob(".*.tmp")):
            with output_lock(self.out):
                recover(self.out)
        body = read_entry(self.record_path, _MAGIC)
        if body is None:
            return None
        try:
            record = json.loads(body)
            if record["inputs"] != self.digest:
                return None
            for name, sha in record["outputs"].items():
                if _sha256(Path(name)) != sha:
                    return None
            diagnostics = tuple(Diagnostic.from_dict(d) for d in record["diagnostics"])
            return Replay(str(record["stdout"]), diagnostics)
        except (ValueError, KeyError, TypeError):
            return None

    def record(self, outputs: Sequence[Path], stdout: str, diagnostics: Sequence[Diagnostic]) -> None:
        written = {str(path.resolve()): _sha256(path) for path in outputs}
        record = {
            "inputs": self.digest,
            "outputs": dict(sorted(written.items())),
            "stdout": stdout,
            "diagnostics": [d.to_dict() for d in diagnostics],
        }
        write_entry(self.record_path, _MAGIC, json.dumps(record, sort_keys=True).encode("utf-8"))
