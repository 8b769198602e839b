"""Source discovery: a source directory → decks with their note files, decoded and line-indexed."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from builder.diagnostics import Diagnostics, Location

#: A line longer than this is almost certainly not prose an author typed (minified data, a pasted blob).
MAX_LINE_LENGTH = 10_000
#: A note file larger than this is refused rather than parsed into a deck nobody can review.
MAX_FILE_BYTES = 8 * 1024 * 1024
_NEWLINE = re.compile("\n")
#: A line of more than MAX_LINE_LENGTH characters (searched in C: a Python loop over lines cost more).
_LONG_LINE = re.compile(f"^[^\\n]{{{MAX_LINE_LENGTH + 1},}}", re.MULTILINE)


@dataclass(frozen=True)
class SourceFile:
    """A decoded note or config file, with an index from character offset to line and column."""

    #: The path as shown in diagnostics (relative to the working directory when possible).
    path: str
    text: str
    #: Offset of the first character of every line; built once so that lookups are a bisect.
    line_starts: tuple[int, ...] = field(repr=False)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        starts = [0]
        starts.extend(match.end() for match in _NEWLINE.finditer(text))
        return cls(path, text, tuple(starts))

    def location(self, offset: int) -> Location:
        """The 1-based line and column of a character offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return Location(self.path, line + 1, offset - self.line_starts[line] + 1)

    def offset(self, line: int, col: int = 1) -> int:
        """The character offset of a 1-based line and column."""
        return self.line_starts[line - 1] + col - 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[start:end]


@dataclass(frozen=True)
class DeckSource:
    """One deck folder: its `deck.toml` and its note files in sorted path order."""

    folder: Path
    config: SourceFile
    notes: tuple[SourceFile, ...]


def display_path(path: Path) -> str:
    """Paths in diagnostics are relative to the working directory, so editors and CI can open them."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_source(path: Path, diagnostics: Diagnostics) -> SourceFile | None:
    """Read and decode one file, reporting anything that is not a readable UTF-8 text file."""
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        diagnostics.error(Location(shown), "E001", f"cannot read the file: {exc.strerror}; check its permissions")
        return None
    if len(data) > MAX_FILE_BYTES:
        diagnostics.error(
            Location(shown),
            "E002",
            f"the file is {len(data):,} bytes; expected a note file under {MAX_FILE_BYTES:,} bytes. "
            "Split it into several files",
        )
        return None
    if b"\x00" in data:
        diagnostics.error(
            Location(shown),
            "E002",
            "found a binary file (it contains NUL bytes); expected a UTF-8 Markdown text file. "
            "Move it to media/ or remove it",
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        diagnostics.error(
            Location(shown, line, col),
            "E001",
            f"found byte 0x{data[exc.start]:02x}, which is not valid UTF-8; expected UTF-8 text. "
            "Re-save the file as UTF-8",
        )
        return None
    # A byte-order mark is invisible in editors but would shift every column by one.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    source = SourceFile.from_text(shown, text)
    if not text.strip():
        diagnostics.warning(
            Location(shown),
            "W001",
            "the file is empty; expected notes (`## Question` headings) or no file at all. Write notes or delete it",
        )
    long_line = _LONG_LINE.search(text)
    if long_line is not None:
        number = source.location(long_line.start()).line
        length = len(source.line_text(number))
        diagnostics.error(
            Location(shown, number, 1),
            "E003",
            f"line {number} is {length:,} characters long; expected lines under "
            f"{MAX_LINE_LENGTH:,} characters. Break it up or move the data to media/",
        )
        return None
    return source


def find_decks(root: Path, diagnostics: Diagnostics) -> list[DeckSource]:
    """Every folder directly under `root` with a `deck.toml` is a deck; its `**/*.md` files are its notes."""
    if not root.is_dir():
        diagnostics.error(
            Location(display_path(root)),
            "E010",
            "the source directory does not exist; expected a folder with one sub-folder per deck, "
            "each holding a deck.toml. Pass the right folder with --source",
        )
        return []
    decks: list[DeckSource] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        config_path = folder / "deck.toml"
        note_paths = sorted(p for p in folder.rglob("*.md") if p.is_file())
        if not config_path.is_file():
            if note_paths:
                diagnostics.error(
                    Location(display_path(folder)),
                    "E010",
                    f"found note files but no deck.toml in `{folder.name}`; expected every deck folder to "
                    'have a deck.toml with name, id and version. Create it, e.g. name = "My deck"',
                )
            continue
        config = read_source(config_path, diagnostics)
        notes = [read_source(p, diagnostics) for p in note_paths]
        if config is not None:
            decks.append(DeckSource(folder, config, tuple(n for n in notes if n is not None)))
    if not decks and not diagnostics.errors:
        diagnostics.error(
            Location(display_path(root)),
            "E010",
            "found no deck; expected at least one folder containing a deck.toml under this directory",
        )
    return decks
