"""Diagram render cache: (engine, engine version, options, source) in, the engine's raw SVG or syntax error out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from builder.cachefiles import cache_root, entry_path, read_entry, write_entry
from builder.diagrams.base import DiagramSyntaxError

SUBDIR = "diagrams"
_MAGIC = "builder-diagram-cache-v1"


def cache_key(engine: str, version: str, options: str, source: str) -> str:
    """sha256 over an unambiguous encoding of the four parts (JSON, so no two tuples collide)."""
    payload = json.dumps([_MAGIC, engine, version, options, source], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class DiagramCache:
    """A directory of raw SVG renders keyed by `cache_key`. Safe to share between threads and processes.

    It holds the engine's raw output, not the sanitised SVG: sanitising is a pure function of the raw SVG and
    the id prefix, so a warm build produces the same bytes as a cold one, one render serves every id prefix,
    and a change to the sanitiser needs no invalidation.

    Entries live outside dist/ in `$BUILDER_CACHE_DIR/diagrams/` (default `.cache/builder/diagrams/` under the
    current directory), one checksummed file per key (see builder.cachefiles): an entry that is missing,
    unreadable or corrupt is a miss and gets rendered (and written) again. Syntax errors
    are cached too (`.err` entries), so a broken diagram is not re-rendered on every build until its source
    changes; timeouts and missing engines depend on the machine and are never cached.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> DiagramCache:
        return cls(cache_root() / SUBDIR)

    def path_for(self, key: str, suffix: str = ".svg") -> Path:
        return entry_path(self.directory, key, suffix)

    def get(self, key: str) -> str | None:
        """The cached raw SVG for `key`, or None (missing, unreadable or corrupt)."""
        return self._read(self.path_for(key))

    def put(self, key: str, svg: str) -> None:
        """Store `svg`; failures (read-only disk, full disk) only cost a re-render next time."""
        self._write(self.path_for(key), svg)

    def get_failure(self, key: str) -> DiagramSyntaxError | None:
        """A syntax error cached for `key`: the same source fails the same way, so it is not re-rendered."""
        text = self._read(self.path_for(key, ".err"))
        if text is None:
            return None
        try:
            data = json.loads(text)
            message, line, column = data["message"], data["line"], data["column"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(message, str) or not all(v is None or isinstance(v, int) for v in (line, column)):
            return None
        return DiagramSyntaxError(message, line=line, column=column)

    def put_failure(self, key: str, error: DiagramSyntaxError) -> None:
        payload = {"column": error.column, "line": error.line, "message": error.message}
        self._write(self.path_for(key, ".err"), json.dumps(payload, sort_keys=True))

    def _read(self, path: Path) -> str | None:
        body = read_entry(path, _MAGIC)
        if body is None:
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _write(self, target: Path, text: str) -> None:
        write_entry(target, _MAGIC, text.encode("utf-8"))
