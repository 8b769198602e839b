"""Diagnostics: problems found in the author's files, collected by every stage and printed once."""

from __future__ import annotations

import difflib
import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A point in an author's file; line and column are 1-based, column counts characters."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem, with where it is and how to fix it."""

    location: Location
    code: str
    message: str
    severity: Severity = Severity.ERROR
    #: How many characters the caret line underlines (at least one).
    length: int = 1

    def sort_key(self) -> tuple[Location, str, str]:
        return (self.location, self.code, self.message)

    def to_dict(self) -> dict[str, str | int]:
        loc = self.location
        return {"path": loc.path, "line": loc.line, "col": loc.col, "severity": self.severity.value,
                "code": self.code, "message": self.message, "length": self.length}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, str | int]) -> Diagnostic:
        """The inverse of `to_dict`; raises KeyError, TypeError or ValueError on anything else."""
        path, line, col, severity, code, message, length = (
            data[k] for k in ("path", "line", "col", "severity", "code", "message", "length")
        )
        if not (isinstance(path, str) and isinstance(code, str) and isinstance(message, str)):
            raise TypeError("path, code and message must be strings")
        if not (isinstance(line, int) and isinstance(col, int) and isinstance(length, int)):
            raise TypeError("line, col and length must be integers")
        return cls(Location(path, line, col), code, message, Severity(str(severity)), length)


#: Characters that would break a one-line diagnostic or a terminal: C0/C1 controls and Unicode line breaks.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
#: How many characters of the author's text a message quotes.
QUOTE_LIMIT = 60
#: A message longer than this is cut: a message never grows with its input.
MESSAGE_LIMIT = 1_000
#: Problems of one kind in one file shown before the rest are counted in one summary line.
PER_FILE_LIMIT = 50


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t"}.get(char, f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}")


def one_line(text: str) -> str:
    """`text` with line breaks and control characters written as escapes (`\\n`, `\\x1f`), so it stays one line."""
    return _UNPRINTABLE.sub(_escape_char, text) if _UNPRINTABLE.search(text) else text


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The author's text as a message quotes it: on one line and at most `limit` characters (then `...`)."""
    shown = one_line(text[: limit + 1])
    return shown if len(text) <= limit and len(shown) <= limit else shown[: max(1, limit - 3)] + "..."


class BuildFailed(Exception):
    """Raised by a stage that cannot go on; the diagnostics say why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s)")
        self.diagnostics = tuple(diagnostics)


@dataclass
class Diagnostics:
    """Collects problems from all stages so that the author sees every one of them in a single run.

    Every message is made one line (tools split diagnostics at newlines) and bounded in length. After
    PER_FILE_LIMIT problems of one code in one file, the rest are only counted, in one summary diagnostic:
    32,000 unclosed clozes are one mistake repeated, and printing each would bury everything else.
    """

    items: list[Diagnostic] = field(default_factory=list)
    #: (path, code) → how many were reported, and the index in `items` of its summary once over the limit.
    _counts: dict[tuple[str, str, Severity], list[int]] = field(default_factory=dict, repr=False)

    def _add(self, location: Location, code: str, message: str, severity: Severity, length: int) -> None:
        message = one_line(message)
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 3] + "..."
        key = (location.path, code, severity)
        count = self._counts.setdefault(key, [0, -1])
        count[0] += 1
        if count[0] <= PER_FILE_LIMIT:
            self.items.append(Diagnostic(location, code, message, severity, max(1, length)))
            return
        more = count[0] - PER_FILE_LIMIT
        summary = Diagnostic(
            location if count[1] < 0 else self.items[count[1]].location,
            code,
            f"{more:,} more problem(s) of this kind in this file, the first here; fix the ones above first",
            severity,
        )
        if count[1] < 0:
            count[1] = len(self.items)
            self.items.append(summary)
        else:
            self.items[count[1]] = summary

    def error(self, location: Location, code: str, message: str, length: int = 1) -> None:
        self._add(location, code, message, Severity.ERROR, length)

    def warning(self, location: Location, code: str, message: str, length: int = 1) -> None:
        self._add(location, code, message, Severity.WARNING, length)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def promote_warnings(self) -> None:
        """--strict: every warning counts as an error."""
        self.items = [
            Diagnostic(d.location, d.code, d.message, Severity.ERROR, d.length) if d.severity is Severity.WARNING else d
            for d in self.items
        ]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        # Dedupe: two stages may see the same broken construct.
        unique = {(d.sort_key(), d.severity): d for d in self.items}
        return [unique[key] for key in sorted(unique)]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' Did you mean `x`?' suffix for the closest known name, or ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def _source_line(path: str, line: int, cache: dict[str, list[str] | None]) -> str | None:
    if path not in cache:
        try:
            # A diagnostic at a link is about the link (E130, E131): what it points to may be any file of the
            # machine, and its first line is not to be printed into a build log.
            if Path(path).is_symlink():
                raise OSError(path)
            text = Path(path).read_bytes().decode("utf-8")
            # The parser's numbering (builder.source): lines end at \n, \r\n or a lone \r, nothing else.
            split = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
            cache[path] = split[:-1] if split[-1] == "" else split
        except (OSError, UnicodeDecodeError):
            cache[path] = None
    lines = cache[path]
    if lines is None or not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    # A caret under a 50 000-character line helps nobody.
    return text if len(text) <= 400 else None


_VISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\u2424"


def format_text(diagnostics: Sequence[Diagnostic], *, snippets: bool = True) -> str:
    """Compiler-style text: the headline, the source line, a caret under the problem, then a count."""
    out: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for d in diagnostics:
        out.append(f"{one_line(str(d.location))}: {d.severity.value}[{d.code}]: {one_line(d.message)}")
        line = _source_line(d.location.path, d.location.line, cache) if snippets else None
        if line is not None:
            gutter = str(d.location.line)
            pad = " " * len(gutter)
            # One character each, so the caret stays under the column: a control character is shown as its
            # symbol (U+2400...), a line or paragraph separator as U+2424.
            shown = _VISIBLE.sub(_picture, line.expandtabs(1))
            start = min(d.location.col - 1, len(shown))
            width = max(1, min(d.length, len(shown) - start))
            out.append(f"{pad} |")
            out.append(f"{gutter} | {shown}")
            out.append(f"{pad} | {' ' * start}{'^' * width}")
    out.append(summary(diagnostics))
    return "\n".join(out) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def _github_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_escape(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which show up as annotations on the changed lines."""
    out = []
    for d in diagnostics:
        kind = "error" if d.severity is Severity.ERROR else "warning"
        loc = d.location
        props = f"file={_github_property(loc.path)},line={loc.line},col={loc.col},title={d.code}"
        out.append(f"::{kind} {props}::{_github_escape(d.message)}")
    out.append(summary(diagnostics))
    return "\n".join(out) + "\n"


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    # The caret length only matters to the text format.
    rows = [{key: value for key, value in d.to_dict().items() if key != "length"} for d in diagnostics]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


FORMATTERS = {
    "text": format_text,
    "github": format_github,
    "json": format_json,
}
