"""Character references to characters no card can show: `&#0;`, `&#xD800;`, `&#x1f;`, `&#x85;`, ...

Markdown decodes such a reference to U+FFFD (NUL, surrogates, noncharacters, past U+10FFFF) or to the control
character itself, and an HTML parser does the same with one in raw HTML (where the semicolon is optional), so
the author's text silently becomes a replacement mark or an invisible character. Each is reported where it is
written; a reference in a code span, a code block or math is shown as written and is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from markdown_it.token import Token

from builder.diagnostics import Diagnostics, Location
from builder.markdown import unshowable
from builder.parse import ParsedFile
from builder.source import CONTROL, SourceFile, describe_char

#: A numeric character reference as an HTML parser reads it: any number of digits, the `;` optional.
_HTML_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)


def _code(written: str) -> int:
    """The reference's number; past U+10FFFF, 0x110000 (which also keeps `int` away from huge digit strings)."""
    digits = written[2:].rstrip(";")
    hexadecimal = digits[:1] in "xX"
    digits = (digits[1:] if hexadecimal else digits).lstrip("0") or "0"
    if len(digits) > 7:
        return 0x110000
    return min(int(digits, 16) if hexadecimal else int(digits), 0x110000)


def _locate(source: SourceFile, token: Token, content: str, pos: int) -> Location:
    """The file position of offset `pos` of a block's text (its lines less their container prefixes)."""
    assert token.map is not None
    line_start = content.rfind("\n", 0, pos) + 1
    index = content.count("\n", 0, line_start)
    line_end = content.find("\n", line_start)
    piece = content[line_start : line_end if line_end >= 0 else len(content)]
    number = min(token.map[0] + 1 + index, len(source.line_starts))
    text = source.line_text(number)
    # Each line of a block's text is the end of its file line (container markers and indentation dropped).
    found = text.find(piece) if piece else -1
    col = found + pos - line_start if found >= 0 else max(text.find(content[pos : pos + 3]), 0)
    return Location(source.path, number, col + 1)


def _inline_owner(tokens: Sequence[Token], text: str) -> tuple[Token, int] | None:
    """The inline token whose text is `text`, or holds it (a nested parse: an image's description)."""
    inlines = [t for t in tokens if t.type == "inline" and t.map is not None]
    for token in inlines:
        if token.content is text:
            return token, 0
    for token in inlines:
        found = token.content.find(text)
        if found >= 0:
            return token, found
    return None


def _html_references(tokens: Sequence[Token]) -> Iterator[tuple[Token, str, int, str]]:
    """(block, its text, offset, reference) of every unshowable reference in raw HTML, comments left out."""
    for token in tokens:
        if token.type == "html_block" and "&#" in token.content:
            content = _COMMENT.sub(lambda m: " " * len(m.group()), token.content)
            for match in _HTML_REFERENCE.finditer(content):
                if unshowable(_code(match.group())):
                    yield token, token.content, match.start(), match.group()
        elif token.type == "inline" and token.children and "&#" in token.content:
            cursor = 0
            for child in token.children:
                if child.type != "html_inline":
                    continue
                at = token.content.find(child.content, cursor)
                if at < 0:
                    continue
                cursor = at + len(child.content)
                if child.content.startswith("<!--"):
                    continue
                for match in _HTML_REFERENCE.finditer(child.content):
                    if unshowable(_code(match.group())):
                        yield token, token.content, at + match.start(), match.group()


def _message(written: str) -> str:
    code = _code(written)
    if code > 0x10FFFF:
        what = "a number past U+10FFFF, the last Unicode character"
    elif 0xD800 <= code <= 0xDFFF:
        what = f"U+{code:04X}, half of a UTF-16 surrogate pair and no character of its own"
    elif CONTROL.fullmatch(chr(code)):
        what = f"the control character {describe_char(chr(code))}"
    else:
        what = f"U+{code:04X}, a Unicode noncharacter"
    return (
        f"found the character reference `{written}`, to {what}, which no card can show: the card would get the "
        "replacement mark � or an invisible character in its place. Expected printable text: remove the "
        "reference, or write `&amp;#` instead of `&#` to show it as written"
    )


def check_entities(parsed: ParsedFile, diagnostics: Diagnostics) -> None:
    """Every numeric character reference decodes to a character a card shows."""
    source = parsed.source
    found: list[tuple[Location, str]] = []
    for text, pos, written in parsed.entities:
        owner = _inline_owner(parsed.tokens, text)
        if owner is not None:
            token, offset = owner
            found.append((_locate(source, token, token.content, offset + pos), written))
    if "&#" in source.text and "<" in source.text:
        found.extend(
            (_locate(source, token, text, pos), written)
            for token, text, pos, written in _html_references(parsed.tokens)
        )
    for location, written in sorted(found, key=lambda item: (item[0].line, item[0].col)):
        diagnostics.error(location, "E110", _message(written), len(written))
