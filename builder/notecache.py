"""Note-file cache: a note file (path, text) and the builder's own code → the CompiledFile of an earlier build.

The key covers everything a compiled file depends on except the images it references, which the entry lists
with what they resolved to; the build checks those before reusing it (builder.notefile.is_current). The
builder's fingerprint (builder.fingerprint) covers its own code and libraries, so an upgrade, or an edit to
the builder during development, never reuses a stale entry.

Entries are pickles in checksummed files (builder.cachefiles) under `$BUILDER_CACHE_DIR/notes/`. The cache
is local to the machine, like Python's own __pycache__, and holds only what this builder wrote; an entry that
is corrupt, of another format or not a CompiledFile for the same path is ignored and recompiled.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from pathlib import Path

from builder.cachefiles import cache_root, entry_path, read_entry, write_entry
from builder.fingerprint import builder_fingerprint
from builder.notefile import CompiledFile, DeckKey
from builder.notetypes.deckdefined import deck_notetypes_digest
from builder.source import SourceFile

SUBDIR = "notes"
_MAGIC = "deckforge-note-cache-v1"


def file_key(source: SourceFile, deck: DeckKey) -> str:
    digest = hashlib.sha256()
    notetypes = deck_notetypes_digest(deck.notetypes)
    for part in (_MAGIC, builder_fingerprint(), str(deck.id), deck.name, notetypes, source.path, source.text):
        encoded = part.encode("utf-8")
        # Length prefixes: no two different (path, text) pairs hash the same bytes.
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return digest.hexdigest()


class NoteCache:
    """Entries on disk, and optionally in memory too: a long-running `watch` keeps every unit it has seen.

    The memory layer holds the same values under the same keys, so a hit there is exactly the unit the disk
    would give, without reading or unpickling it.
    """

    def __init__(self, directory: Path, memory: dict[str, CompiledFile] | None = None) -> None:
        self.directory = directory
        self.memory = memory

    @classmethod
    def default(cls, memory: dict[str, CompiledFile] | None = None) -> NoteCache:
        return cls(cache_root() / SUBDIR, memory)

    def path_for(self, key: str) -> Path:
        return entry_path(self.directory, key, ".pickle")

    def get(self, key: str, path: str) -> CompiledFile | None:
        """The entry for `key` (from `file_key`) if it is a compiled file of `path`; else None."""
        if self.memory is not None and key in self.memory:
            return self.memory[key]
        body = read_entry(self.path_for(key), _MAGIC)
        if body is None:
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # any undecodable entry is a miss, whatever the unpickler raised
            return None
        if not isinstance(value, CompiledFile) or value.path != path:
            return None
        self.remember(key, value)
        return value

    def put(self, key: str, compiled: CompiledFile) -> None:
        store(self.path_for(key), dumps(compiled))
        self.remember(key, compiled)

    def remember(self, key: str, compiled: CompiledFile) -> None:
        """Keep a unit in memory (a no-op without a memory layer), e.g. one a worker process already stored."""
        if self.memory is not None:
            self.memory[key] = compiled

    def forget_all_but(self, keys: Iterable[str]) -> None:
        """Drop from memory every unit not among `keys`: the files as they are now, not as they were."""
        if self.memory is not None:
            keep = set(keys)
            for key in [k for k in self.memory if k not in keep]:
                del self.memory[key]


def dumps(compiled: CompiledFile) -> bytes:
    return pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)


def store(entry: Path, body: bytes) -> None:
    """Write an entry already pickled by `dumps` (a worker process pickles its result once, for both uses)."""
    write_entry(entry, _MAGIC, body)
