"""Source discovery: a source directory → decks with their note files, decoded and line-indexed."""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from builder.diagnostics import PER_FILE_LIMIT, Diagnostics, Location, one_line

#: A line longer than this is almost certainly not prose an author typed (minified data, a pasted blob).
MAX_LINE_LENGTH = 10_000
#: A note file larger than this is refused rather than parsed into a deck nobody can review.
MAX_FILE_BYTES = 8 * 1024 * 1024
_NEWLINE = re.compile("\n")
#: A line of more than MAX_LINE_LENGTH characters (searched in C: a Python loop over lines cost more).
_LONG_LINE = re.compile(f"^[^\\n]{{{MAX_LINE_LENGTH + 1},}}", re.MULTILINE)
#: Control characters (C0 but tab and newline, DEL, C1). U+001F is the separator between a note's fields in
#: Anki's database, so one in a note breaks the whole package; the others are invisible on a card.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "escape",
    0x1C: "file separator",
    0x1D: "group separator",
    0x1E: "record separator",
    0x1F: "unit separator, which Anki uses between a note's fields",
    0x7F: "delete",
    0x85: "next line",
    0xA0: "no-break space",
}


def describe_char(char: str) -> str:
    """`U+001F (unit separator, ...)`: how messages name a character an author cannot see."""
    name = _CONTROL_NAMES.get(ord(char), "a control character")
    return f"U+{ord(char):04X} ({name})"


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
    """Paths in diagnostics are relative to the working directory, so editors and CI can open them.

    A name that is not UTF-8 shows its bytes as escapes (`caf\\xe9.md`), and control characters too: a
    diagnostic is always one printable line.
    """
    try:
        shown = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        shown = path.as_posix()
    return one_line(os.fsencode(shown).decode("utf-8", "backslashreplace"))


def bad_name(path: Path) -> str | None:
    """Why a file's name cannot be used (not UTF-8, or with control characters), or None."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if CONTROL.search(path.name) or "\n" in path.name or "\t" in path.name:
        return "contains a control character"
    return None


def _check_controls(source: SourceFile, diagnostics: Diagnostics) -> None:
    """Every control character in the file, at its line and column (the first ones, then a count)."""
    for count, match in enumerate(CONTROL.finditer(source.text)):
        if count == PER_FILE_LIMIT:
            rest = len(CONTROL.findall(source.text, match.start()))
            diagnostics.error(
                source.location(match.start()),
                "E110",
                f"{rest:,} more control character(s) in this file, the first here; expected printable text. "
                "Remove them",
            )
            return
        diagnostics.error(
            source.location(match.start()),
            "E110",
            f"found control character {describe_char(match.group())}; expected printable text, because Anki "
            "cannot store it on a card or does not show it. Delete it (it is shown as a symbol below)",
        )


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
    if CONTROL.search(text):
        _check_controls(source, diagnostics)
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


def _refused_name(path: Path, diagnostics: Diagnostics) -> bool:
    problem = bad_name(path)
    if problem is not None:
        diagnostics.error(
            Location(display_path(path)),
            "E112",
            f"the name of `{display_path(path)}` {problem}; expected a UTF-8 name of printable characters, "
            "because it is shown in diagnostics and recorded in the release manifest. Rename it",
        )
    return problem is not None


#: Other spellings of Markdown's extension, compared in lowercase: files the author meant as notes.
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".mdtxt", ".mdtext"})


def _not_read(path: Path, diagnostics: Diagnostics) -> None:
    """A Markdown file the build skips (only `*.md` are notes): say so, or its notes vanish without a word."""
    renamed = path.name[: -len(path.suffix)] + ".md"
    diagnostics.warning(
        Location(f"{display_path(path.parent)}/{path.name}"),
        "E197",
        f"found `{path.name}`, which the build does not read: only files ending in `.md` (lowercase) are note "
        f"files, so none of its notes are in the deck. Rename it to `{renamed}`, or move it out of the deck folder",
    )


def _note_paths(folder: Path, diagnostics: Diagnostics) -> list[Path]:
    """Every `*.md` file under `folder`, sorted; a folder that cannot be listed is reported, not skipped."""

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        diagnostics.error(
            Location(display_path(where)),
            "E001",
            f"cannot read the folder: {exc.strerror}; expected a readable folder, or its notes would be left "
            "out of the deck. Check its permissions",
        )

    found: list[Path] = []
    # Like rglob("*.md") (which skips an unreadable folder without a word): symlinked folders are not followed.
    for top, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not _refused_name(Path(top, d), diagnostics))
        for name in files:
            path = Path(top, name)
            markdown = name.endswith(".md") or path.suffix.lower() in _MARKDOWN_SUFFIXES
            # A link that leads nowhere is kept, for _Seen.admit to report.
            if not markdown or not (path.is_file() or path.is_symlink()) or _refused_name(path, diagnostics):
                continue
            if name.endswith(".md"):
                found.append(path)
            else:
                _not_read(path, diagnostics)
    return sorted(found)


def link_problem(path: Path, root: Path) -> str | None:
    """Why the build may not read `path`: a link that leads nowhere, or out of `root` (resolved); else None.

    A file inside `root` is not a link problem even when a link leads to it: only where it ends up counts.
    """
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "nowhere"
    return None if real.is_relative_to(root) else "outside"


def refuse_link(path: Path, root: Path, what: str, diagnostics: Diagnostics) -> bool:
    """Report (E130) and refuse a file of the source folder `root` whose link leads nowhere or outside it.

    Every file the build reads from the source folder passes here first: a link could make a deck ship any file
    of the machine (a notetype's CSS, a template) or show its first line in a diagnostic.
    """
    problem = link_problem(path, root)
    if problem is None:
        return False
    # The link's own path, not its target's (display_path resolves links).
    shown = f"{display_path(path.parent)}/{path.name}"
    if problem == "nowhere":
        message = f"found a link that leads nowhere; expected a {what}. Replace the link by the file or delete it"
    else:
        message = (
            f"found a link that leads outside the source folder; expected every {what} inside it, because a "
            "build reads nothing else. Copy the file into the deck instead of linking it"
        )
    diagnostics.error(Location(shown), "E130", message)
    return True


@dataclass
class _Seen:
    """Files already taken, by device and inode: a symlink or hard link to one of them is the same file."""

    root: Path
    files: dict[tuple[int, int], str] = field(default_factory=dict)

    def admit(self, path: Path, diagnostics: Diagnostics) -> bool:
        """Whether `path` is a file of its own inside the source folder; else report it and say no."""
        if refuse_link(path, self.root, "note file", diagnostics):
            return False
        shown = f"{display_path(path.parent)}/{path.name}"
        try:
            info = path.stat()
        except OSError:
            # Gone since it was resolved: reported as unreadable when it is read.
            return True
        first = self.files.setdefault((info.st_dev, info.st_ino), shown)
        if first != shown:
            diagnostics.error(
                Location(shown),
                "E131",
                f"this is the same file as {first} (a symbolic or hard link); expected every note file once, "
                "because one note must not be compiled twice or into two decks. Delete one of the two",
            )
            return False
        return True


def _linked_folders(folder: Path, diagnostics: Diagnostics) -> None:
    """Links to folders are not followed (a folder could be its own ancestor): say so instead of skipping."""
    for path in sorted(p for p in folder.rglob("*") if p.is_symlink() and p.is_dir()):
        diagnostics.error(
            Location(f"{display_path(path.parent)}/{path.name}"),
            "E130",
            "found a link to a folder, which the build does not follow; expected note files in real folders. "
            "Move the folder into the deck instead of linking it",
        )


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
    seen = _Seen(root.resolve())
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        config_path = folder / "deck.toml"
        if _refused_name(folder, diagnostics):
            continue
        if folder.is_symlink():
            diagnostics.error(
                Location(f"{display_path(folder.parent)}/{folder.name}"),
                "E130",
                "found a link to a folder, which the build does not follow; expected every deck to be a real "
                "folder under the source folder. Move the deck here instead of linking it",
            )
            continue
        _linked_folders(folder, diagnostics)
        note_paths = [p for p in _note_paths(folder, diagnostics) if seen.admit(p, diagnostics)]
        if config_path.is_symlink() and not seen.admit(config_path, diagnostics):
            continue
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
