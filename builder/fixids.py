"""fix-ids: note files with headings that lack an id → the same files with an id comment under each heading.

Only the inserted lines change; every other byte of the file stays as it was, and a second run changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from builder.diagnostics import Diagnostics
from builder.package import atomic_output
from builder.parse import RawNote, parse_file
from builder.source import SourceFile, find_decks

_SLUG_MAX = 40


@dataclass(frozen=True)
class FixedFile:
    path: Path
    ids: tuple[str, ...]


def slug_for(title: str, taken: set[str]) -> str:
    """A readable id from the heading plus a short hash suffix, unique among `taken`."""
    text = re.sub(r"\{\{c[0-9]+::(.*?)(?:::[^}]*)?\}\}", r"\1", title)
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-").split("-")
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > _SLUG_MAX:
            break
        slug = f"{slug}-{word}" if slug else word
    slug = slug or "note"
    for attempt in range(1000):
        suffix = hashlib.sha256(f"{title}\x00{attempt}".encode()).hexdigest()[:4]
        candidate = f"{slug}-{suffix}"
        if candidate not in taken:
            return candidate
    raise RuntimeError("no free id")  # pragma: no cover - 1000 collisions of a 16-bit suffix


def _existing_id(note: RawNote) -> str | None:
    if note.meta is None:
        return None
    if not note.meta.terminated:
        return "?"  # an unclosed comment (E031) is for `check` to report; adding to it would repeat every run
    try:
        data = yaml.safe_load(note.meta.text)
    except yaml.YAMLError:
        return "?"  # broken metadata is for `check` to report; never touch it here
    if isinstance(data, dict) and "id" in data:
        return str(data["id"])
    return None if isinstance(data, dict) or data is None else "?"


def _newline(raw: str) -> str:
    return "\r\n" if "\r\n" in raw else "\n"


#: A line and its ending, split exactly where the builder counts lines (builder.source turns \r\n and a lone
#: \r into \n). str.splitlines would also split at U+2028, U+0085, form feeds and more, so its line numbers
#: would disagree with the parser's and the id would land in the wrong place.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(raw: str) -> list[str]:
    """`raw` cut into lines with their endings, numbered as the parser numbers them."""
    return _LINE.findall(raw)


def fix_file(path: Path, source: SourceFile, taken: set[str]) -> FixedFile | None:
    """Insert an id under every heading of one file that has none; None if the file needed nothing."""
    notes = [n for n in parse_file(source).notes if _existing_id(n) is None]
    if not notes:
        return None
    raw = path.read_bytes().decode("utf-8")
    newline = _newline(raw)
    lines = split_lines(raw)
    ids = []
    # Bottom-up, so earlier line numbers stay valid while inserting.
    for note in sorted(notes, key=lambda n: n.title_line, reverse=True):
        new_id = slug_for(note.title, taken)
        taken.add(new_id)
        ids.append(new_id)
        if note.meta is None:
            at = note.title_end_line
            if at > len(lines):
                lines.append(newline)
            elif not lines[at - 1].endswith(("\n", "\r")):
                lines[at - 1] += newline
            lines.insert(at, f"<!-- id: {new_id} -->{newline}")
        else:
            # A comment without an id (`<!-- type: reverse -->`): the id goes first, the rest on the next line.
            index = note.meta.line - 1
            line = lines[index]
            start = line.index("<!--") + 4
            rest = line[start:].lstrip(" \t")
            head = f"{line[:start]} id: {new_id}"
            lines[index] = f"{head}{newline}{rest}" if rest.strip() else f"{head}{rest}"
    with atomic_output(path, mode=path.stat().st_mode & 0o7777) as temp:
        temp.write_bytes("".join(lines).encode("utf-8"))
    return FixedFile(path, tuple(sorted(ids)))


def fix_ids(source_root: Path, diagnostics: Diagnostics) -> list[FixedFile]:
    """Add ids to every deck under `source_root`; ids stay unique across each deck."""
    fixed: list[FixedFile] = []
    for deck in find_decks(source_root, diagnostics):
        parsed = [parse_file(f) for f in deck.notes]
        taken = {i for p in parsed for n in p.notes if (i := _existing_id(n)) is not None}
        for file in parsed:
            # SourceFile.path is relative to the working directory, as shown in diagnostics.
            result = fix_file(Path(file.source.path), file.source, taken)
            if result is not None:
                fixed.append(result)
    return fixed
