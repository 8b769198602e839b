"""DOT source → where Graphviz would read a file: file attributes and `<IMG>` in HTML labels.

An attribute name is an ID like any other, so `"image"`, `"im" + "age"`, `<image>` and a name followed by
comments or newlines before its `=` all set `image`. The source is therefore split into tokens the way
Graphviz's scanner does (lib/cgraph/scan.l): comments (`/* */`, `//`, `#` to the end of the line), quoted
strings (`\\"` and `\\\\` escape, a backslash-newline joins lines, `+` concatenates), HTML strings (`<...>`,
nested), and single characters; one pass, linear in the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Attributes that make Graphviz open a file (compared case-insensitively, to be safe).
FILE_ATTRIBUTES = frozenset({"image", "shapefile", "imagepath", "fontpath"})

_TOKEN = re.compile(
    r"""(?P<skip>\s+|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z)|//[^\n]*|\#[^\n]*)
      | (?P<q>"(?:[^"\\]|\\.|\\\n|\\\Z)*(?:"|\Z))
      | (?P<name>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*|-?(?:\d+(?:\.\d*)?|\.\d+))
      | (?P<char>.)""",
    re.VERBOSE | re.DOTALL,
)
_IMG = re.compile(r"<\s*img\b", re.IGNORECASE)
_ESCAPE = re.compile(r'\\([\n"\\])')


@dataclass(frozen=True)
class Read:
    #: Offset into the diagram source.
    offset: int
    found: str


def _html_end(source: str, start: int) -> int:
    """The offset just after the `>` that closes the HTML string opened at `start`."""
    depth = 0
    for i in range(start, len(source)):
        if source[i] == "<":
            depth += 1
        elif source[i] == ">":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(source)


def _unquote(token: str) -> str:
    body = token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]
    # scan.l: a backslash-newline vanishes, `\"` is a quote, `\\` stays as it is.
    return _ESCAPE.sub(lambda m: {"\n": "", '"': '"'}.get(m.group(1), "\\\\"), body)


def reads(source: str) -> list[Read]:
    """Every place where Graphviz would read a file for `source`, in source order."""
    # (offset, name value, kind) of each significant token; quoted strings joined by `+` are one ID.
    tokens: list[tuple[int, str, str]] = []
    found: list[Read] = []
    pos = 0
    while pos < len(source):
        if source[pos] == "<":
            end = _html_end(source, pos)
            found += [Read(m.start(), "<IMG") for m in _IMG.finditer(source, pos + 1, end)]
            # An HTML string is a quoted ID too: `<im> + "age"` is `image`.
            tokens.append((pos, source[pos + 1 : end - 1], "q"))
            pos = end
            continue
        match = _TOKEN.match(source, pos)
        assert match is not None  # the last alternative matches any character
        pos = match.end()
        kind = match.lastgroup
        if kind == "skip":
            continue
        text = match.group()
        if kind == "q":
            if len(tokens) >= 2 and tokens[-1][2] == "+" and tokens[-2][2] == "q":
                start, joined, _ = tokens[-2]
                del tokens[-2:]
                tokens.append((start, joined + _unquote(text), "q"))
            else:
                tokens.append((match.start(), _unquote(text), "q"))
        elif kind == "name":
            tokens.append((match.start(), text, "id"))
        else:
            tokens.append((match.start(), text, text if text in "+=" else "char"))
        if len(tokens) >= 2 and tokens[-1][2] == "=" and tokens[-2][2] in ("id", "q"):
            name = tokens[-2][1].strip().lower()
            if name in FILE_ATTRIBUTES:
                found.append(Read(tokens[-2][0], f"{name}="))
    return sorted(found, key=lambda r: r.offset)
