"""Note-file cache: a note file (path, text) and the builder's own code → the CompiledFile of an earlier build.

The key covers everything a compiled file depends on except the images it references, which the entry lists
with what they resolved to; the build checks those before reusing it (builder.notefile.is_current). The
builder's fingerprint hashes its own source and the versions of the libraries that shape the output, so an
upgrade, or an edit to the builder during development, never reuses a stale entry.

Entries are pickles in checksummed files (builder.cachefiles) under `$BUILDER_CACHE_DIR/notes/`. The cache
is local to the machine, like Python's own __pycache__, and holds only what this builder wrote; an entry that
is corrupt, of another format or not a CompiledFile for the same path is ignored and recompiled.
"""

from __future__ import annotations

import hashlib
import pickle
from functools import cache
from importlib import metadata
from pathlib import Path

import builder
from builder.cachefiles import cache_root, entry_path, read_entry, write_entry
from builder.notefile import CompiledFile
from builder.source import SourceFile

SUBDIR = "notes"
_MAGIC = "deckforge-note-cache-v1"
#: Libraries whose version can change what a note compiles to.
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "pydantic", "pydantic-core", "pygments", "pyyaml")


@cache
def builder_fingerprint() -> str:
    """sha256 over the builder's source files and the versions of the libraries it renders with."""
    digest = hashlib.sha256()
    package = Path(builder.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    return digest.hexdigest()


def file_key(source: SourceFile) -> str:
    digest = hashlib.sha256()
    for part in (_MAGIC, builder_fingerprint(), source.path, source.text):
        encoded = part.encode("utf-8")
        # Length prefixes: no two different (path, text) pairs hash the same bytes.
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return digest.hexdigest()


class NoteCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> NoteCache:
        return cls(cache_root() / SUBDIR)

    def get(self, key: str, path: str) -> CompiledFile | None:
        """The entry for `key` (from `file_key`) if it is a compiled file of `path`; else None."""
        body = read_entry(entry_path(self.directory, key, ".pickle"), _MAGIC)
        if body is None:
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # any undecodable entry is a miss, whatever the unpickler raised
            return None
        if not isinstance(value, CompiledFile) or value.path != path:
            return None
        return value

    def put(self, key: str, compiled: CompiledFile) -> None:
        body = pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL)
        write_entry(entry_path(self.directory, key, ".pickle"), _MAGIC, body)
