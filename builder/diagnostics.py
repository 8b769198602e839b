"""Diagnostics: problems found in the author's files, collected by every stage and printed once."""

from __future__ import annotations

import difflib
import enum
import json
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


class BuildFailed(Exception):
    """Raised by a stage that cannot go on; the diagnostics say why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s)")
        self.diagnostics = tuple(diagnostics)


@dataclass
class Diagnostics:
    """Collects problems from all stages so that the author sees every one of them in a single run."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, code: str, message: str, length: int = 1) -> None:
        self.items.append(Diagnostic(location, code, message, Severity.ERROR, max(1, length)))

    def warning(self, location: Location, code: str, message: str, length: int = 1) -> None:
        self.items.append(Diagnostic(location, code, message, Severity.WARNING, max(1, length)))

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
            text = Path(path).read_bytes().decode("utf-8")
            cache[path] = text.splitlines()
        except (OSError, UnicodeDecodeError):
            cache[path] = None
    lines = cache[path]
    if lines is None or not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    # A caret under a 50 000-character line helps nobody.
    return text if len(text) <= 400 else None


def format_text(diagnostics: Sequence[Diagnostic], *, snippets: bool = True) -> str:
    """Compiler-style text: the headline, the source line, a caret under the problem, then a count."""
    out: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for d in diagnostics:
        out.append(f"{d.location}: {d.severity.value}[{d.code}]: {d.message}")
        line = _source_line(d.location.path, d.location.line, cache) if snippets else None
        if line is not None:
            gutter = str(d.location.line)
            pad = " " * len(gutter)
            shown = line.expandtabs(1)
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


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which show up as annotations on the changed lines."""
    out = []
    for d in diagnostics:
        kind = "error" if d.severity is Severity.ERROR else "warning"
        loc = d.location
        props = f"file={loc.path},line={loc.line},col={loc.col},title={d.code}"
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
