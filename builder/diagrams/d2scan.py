"""D2 source → where d2 would read a file: imports (`@file`, `...@file`, any quoting) and `icon` keys.

d2 imports a file for an `@` at the start of a value or after `...`, and reads (and embeds) the file named
by any `icon`, even with `--bundle=false` (that flag only stops downloads). Strings and comments may say
`@` and `icon` freely, so the source is read the way d2's parser reads it (d2parser/parse.go): strings
start only where a key segment or a value starts, and end by d2's rules (escapes, `''`, block string
delimiters such as `|`...`|`). Whenever the source leaves the plain subset this reader mirrors exactly
(text after a closed string, an unterminated string, a stray bracket, a block string as a key), it is
read again with no string or comment exempt: a false alarm on odd input is better than a missed read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: d2's escapes in unquoted and double-quoted strings (decodeEscape); other letters stand for themselves.
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
#: Where an unquoted key segment ends (parseUnquotedString with inKey).
_KEY_STOP = frozenset("\n;#{}[]:.<>&")
#: Where an unquoted value ends.
_VALUE_STOP = frozenset("\n;#{}[]")
_EDGE = frozenset("-<>*")
_EDGE_INDEX = re.compile(r"\[[^\S\n]*(?:\d+|\*)[^\S\n]*\]")
#: An `@` that is not inside a word: unquoted text such as `a: @x` or `@x: y` (d2 rejects the latter).
_AT = re.compile(r"(?<![\w\\])@")
#: `icon` as a key, also spelt with d2's escapes (`ic\on`, `ic\` + newline + `on`), for the fallback.
_ESC = r"(?:\\\n[^\S\n]*)*\\?"
_ICON_KEY = re.compile(rf"(?<![\w\\]){_ESC}i{_ESC}c{_ESC}o(?:\\\n[^\S\n]*)*n(?:\\\n[^\S\n]*)*[^\S\n]*[:.{{]")


#: Go's unicode.IsSpace, which d2 uses (Python's str.isspace also counts U+001C..U+001F).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def _space(c: str) -> bool:
    return bool(c) and c in _GO_SPACE


class _Unsure(Exception):
    """The source leaves the subset of D2 that the reader below mirrors exactly."""


@dataclass(frozen=True)
class Read:
    #: Offset into the diagram source.
    offset: int
    found: str
    #: "import" or "icon".
    kind: str


@dataclass
class _Reader:
    s: str
    i: int = 0
    stack: list[str] = field(default_factory=lambda: ["map"])
    #: Spans d2 reads as text: strings and comments.
    text: list[tuple[int, int]] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    in_group: bool = False

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def inline_space(self) -> None:
        while self.i < len(self.s) and self.s[self.i] != "\n" and _space(self.s[self.i]):
            self.i += 1

    def run(self) -> None:
        s = self.s
        while True:
            while self.i < len(s) and (_space(s[self.i]) or s[self.i] == ";"):
                self.i += 1
            if self.i >= len(s):
                if len(self.stack) != 1:
                    raise _Unsure
                return
            c = s[self.i]
            if c in "}]":
                if self.stack[-1] != ("map" if c == "}" else "array") or len(self.stack) == 1:
                    raise _Unsure
                self.stack.pop()
                self.i += 1
                self.after_value()
            elif c == "#":
                self.comment()
            elif s.startswith('"""', self.i):
                end = s.find('"""', self.i + 3)
                if end < 0:
                    raise _Unsure
                self.text.append((self.i, end + 3))
                self.i = end + 3
            elif s.startswith("...@", self.i):
                self.reads.append(Read(self.i, "...@", "import"))
                self.i += 4
                self.segments()
                self.after_value()
            elif s.startswith("...$", self.i):
                self.i += 4
                self.substitution()
                self.after_value()
            elif self.stack[-1] == "map":
                self.key()
            else:
                self.value()

    def comment(self) -> None:
        end = self.s.find("\n", self.i)
        end = len(self.s) if end < 0 else end
        self.text.append((self.i, end))
        self.i = end

    def after_value(self) -> None:
        # d2 skips whatever follows a value up to the end of the node without reading strings in it.
        self.inline_space()
        c = self.peek()
        if c in ("", "\n", ";"):
            return
        if c == "#":
            self.comment()
        elif c != ("}" if self.stack[-1] == "map" else "]"):
            raise _Unsure

    def key(self) -> None:
        if self.s.startswith("!&", self.i):
            self.i += 2
        elif self.peek() == "&":
            self.i += 1
        while True:
            self.inline_space()
            if self.peek() == "(":
                self.i += 1
                self.in_group = True
                continue
            self.segment(in_key=True)
            self.inline_space()
            c = self.peek()
            if c == ")" and self.in_group:
                self.i += 1
                self.in_group = False
                self.inline_space()
                match = _EDGE_INDEX.match(self.s, self.i)
                if match:
                    self.i = match.end()
                    self.inline_space()
                if self.peek() not in ("", ".", ":", "{", "\n", ";", "#", "}"):
                    raise _Unsure
                continue
            if c == ".":
                self.i += 1
            elif c in _EDGE:
                while self.peek() in _EDGE and self.peek():
                    self.i += 1
            elif c == ":":
                self.i += 1
                self.value()
                return
            elif c == "{":
                self.i += 1
                self.stack.append("map")
                return
            else:
                if self.in_group:
                    raise _Unsure
                self.after_value()
                return

    def segments(self) -> None:
        """A key path after `@` or inside `${...}`: segments joined by dots."""
        while True:
            self.inline_space()
            self.segment(in_key=True)
            self.inline_space()
            if self.peek() != ".":
                return
            self.i += 1

    def segment(self, *, in_key: bool) -> None:
        c = self.peek()
        if c in "\"'" and c:
            self.quoted(c, in_key=in_key)
        elif c == "|":
            if in_key:
                raise _Unsure
            self.block_string()
        else:
            self.unquoted(in_key=in_key)

    def value(self) -> None:
        self.inline_space()
        c = self.peek()
        if c in ("", "\n"):
            return
        if c in "[{":
            self.i += 1
            self.stack.append("array" if c == "[" else "map")
            return
        if c == "@":
            self.reads.append(Read(self.i, "@", "import"))
            self.i += 1
            while self.peek() in "./" and self.peek():
                self.i += 1
            self.segments()
            self.after_value()
            return
        self.segment(in_key=False)
        self.inline_space()
        if self.peek() == "{":
            # A scalar followed by a map on the same line: the scalar is the label, the map the value.
            self.i += 1
            self.stack.append("map")
            return
        self.after_value()

    def unquoted(self, *, in_key: bool) -> None:
        s, start, stop = self.s, self.i, _KEY_STOP if in_key else _VALUE_STOP
        while self.i < len(s):
            c = s[self.i]
            if c in stop or (in_key and self.in_group and c == ")"):
                break
            if in_key and c == "-" and self.peek(1) in ("-", ">", "*") and self.peek(1):
                break
            if c == "\\":
                self.i += 2
                if self.i - 1 < len(s) and s[self.i - 1] == "\n":
                    self.inline_space()
                    if self.peek() == "\n":
                        break
                continue
            if c == "$" and not in_key and self.substitution_at():
                continue
            self.i += 1
        self.i = min(self.i, len(s))
        if in_key and _decode(s[start : self.i]) == "icon":
            self.reads.append(Read(start, "icon", "icon"))

    def substitution_at(self) -> bool:
        """At a `$`: read a `${...}` and say so, or step over a lone `$` as d2 does."""
        self.i += 1
        save = self.i
        self.inline_space()
        if self.peek() != "{":
            self.i = save
            return True
        self.i += 1
        self.segments()
        if self.peek() != "}":
            raise _Unsure
        self.i += 1
        return True

    def substitution(self) -> None:
        self.inline_space()
        if self.peek() != "{":
            raise _Unsure
        self.i += 1
        self.segments()
        if self.peek() != "}":
            raise _Unsure
        self.i += 1

    def quoted(self, quote: str, *, in_key: bool) -> None:
        start = self.i
        self.i += 1
        while True:
            c = self.peek()
            if c in ("", "\n"):
                raise _Unsure
            if quote == "'" and c == "'" and self.peek(1) == "'":
                self.i += 2
            elif c == quote:
                self.i += 1
                break
            elif c == "\\" and (quote == '"' or self.peek(1) == "\n"):
                if not self.peek(1):
                    raise _Unsure
                self.i += 2
            elif c == "$" and quote == '"' and not in_key:
                self.substitution_at()
            else:
                self.i += 1
        self.text.append((start, self.i))

    def block_string(self) -> None:
        s, start = self.s, self.i
        self.i += 1
        quote = ""
        while self.peek() and not (_space(self.peek()) or self.peek().isalnum() or self.peek() == "_"):
            quote += self.peek()
            self.i += 1
        # Python and Go disagree on which non-ASCII characters are letters.
        if not (quote + self.peek()).isascii():
            raise _Unsure
        while self.peek() and not _space(self.peek()):
            self.i += 1
        # parseBlockString: the last quote character, the others but the first, then `|`.
        end_mark = quote[-1] + quote[1:] + "|" if quote else "|"
        end = s.find(end_mark, self.i)
        if end < 0:
            raise _Unsure
        self.i = end + len(end_mark)
        self.text.append((start, self.i))


def _decode(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            if raw[i + 1] == "\n":
                i += 2
                while i < len(raw) and raw[i] != "\n" and _space(raw[i]):
                    i += 1
                continue
            out.append(_ESCAPES.get(raw[i + 1], raw[i + 1]))
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return "".join(out).rstrip(_GO_SPACE)


def reads(source: str) -> list[Read]:
    """Every place where d2 would read a file for `source`, in source order."""
    reader = _Reader(source)
    try:
        reader.run()
    except _Unsure:
        found = [Read(m.start(), "icon", "icon") for m in _ICON_KEY.finditer(source)]
        found += [Read(m.start(), "@", "import") for m in _AT.finditer(source)]
        return sorted(found, key=lambda r: r.offset)
    # Belt and braces: an `@` left in unquoted text at the start of a word is refused too.
    code = list(source)
    for start, end in reader.text:
        code[start:end] = [" "] * (end - start)
    seen = {r.offset for r in reader.reads} | {r.offset + 3 for r in reader.reads if r.found == "...@"}
    extra = [Read(m.start(), "@", "import") for m in _AT.finditer("".join(code)) if m.start() not in seen]
    return sorted([*reader.reads, *extra], key=lambda r: r.offset)
