"""Cache entries on disk: a key → a checksummed file under $BUILDER_CACHE_DIR, written atomically, read defensively.

Every cache of the builder (rendered diagrams, compiled note files) stores its entries this way. An entry is
written to a temporary file and moved into place with os.replace, so concurrent builds never see half of one.
It starts with a line naming its format, its own key and the sha256 of the rest, so an entry that is
truncated, edited, written by another format version or copied under another key reads as a miss, and the
caller computes (and writes) it again. Failing to write (read-only or full disk) only costs the work next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

CACHE_ENV = "BUILDER_CACHE_DIR"
DEFAULT_DIR = Path(".cache") / "builder"


def cache_root() -> Path:
    """`$BUILDER_CACHE_DIR`, else `.cache/builder` under the current directory: never inside dist/."""
    base = os.environ.get(CACHE_ENV)
    return Path(base) if base else Path.cwd() / DEFAULT_DIR


def entry_path(directory: Path, key: str, suffix: str) -> Path:
    # Two-character fan-out keeps directories small for decks with thousands of entries.
    return directory / key[:2] / f"{key}{suffix}"


def read_entry(path: Path, magic: str) -> bytes | None:
    """The entry's payload, or None when it is missing, unreadable, of another format or corrupt."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header, sep, body = data.partition(b"\n")
    if not sep or header != _header(path, magic, body):
        return None
    return body


def _header(path: Path, magic: str, body: bytes) -> bytes:
    """The first line: format, the entry's own file name (its key) and the sha256 of the rest.

    The name is in it so that an entry copied or renamed under another key is a miss, not that key's value.
    """
    return f"{magic} {path.name} {hashlib.sha256(body).hexdigest()}".encode("utf-8", errors="replace")


def write_entry(path: Path, magic: str, body: bytes) -> None:
    data = _header(path, magic, body) + b"\n" + body
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=".tmp")
    except OSError:
        return
    temp = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        temp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
