"""The text parts of a field: placeholders for what Markdown must not touch (MathJax, sounds, LaTeX), escaping,
and the clean-up of line breaks. Used by builder.importer.html2md."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

#: Private-use characters that frame a placeholder; Anki fields never contain them in practice, and if one does
#: it is replaced (and reported) before anything else happens.
OPEN, CLOSE = "\ue000", "\ue001"
PLACEHOLDER = re.compile(f"{OPEN}(\\d+){CLOSE}")
_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)
SOUND = re.compile(r"\[sound:([^\]\n]+)\]")
_LATEX = re.compile(r"\[latex\].*?\[/latex\]|\[\$\$\].*?\[/\$\$\]|\[\$\].*?\[/\$\]", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)

#: Characters escaped wherever they appear in text: each would start Markdown syntax.
_ESCAPE_ALWAYS = re.compile(r"([\\`*\[\]<$~|])")
#: `_` starts emphasis except between two letters or digits (snake_case stays readable).
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
#: A text that starts a line could start a block: a heading, quote, list item, thematic break or setext line.
_LINE_START = re.compile(r"^([ \t]*)(#|>|[-+](?=[\s-]|$)|\d{1,9}(?=[.)](?:\s|$))|=)")


def escape_text(text: str, *, table: bool = False) -> str:
    """Text as Markdown that renders as exactly this text (placeholders excepted)."""
    text = _ESCAPE_ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY_LIKE.sub(r"\\&", text)
    if not table:
        text = text.replace(r"\|", "|")
    return _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2).isdigit() else "\\" + m.group(2)), text
    )


def literal(text: str) -> str:
    """Any text as Markdown that renders verbatim: every ASCII punctuation character backslash-escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def media_reference(path: str) -> str:
    """A media path as a Markdown link destination: percent-encoded where Markdown or URLs need it."""
    return quote(path, safe="/-_.~!$&'*+,;=:@")


def cut_out(text: str, placeholders: list[tuple[str, str]]) -> str:
    """Replace MathJax, sound and LaTeX with placeholders: (Markdown form, form inside code)."""

    def keep(markdown: str, raw: str) -> str:
        placeholders.append((markdown, raw))
        return f"{OPEN}{len(placeholders) - 1}{CLOSE}"

    def math(match: re.Match[str]) -> str:
        inline = match.group(1) is not None
        inner = match.group(1) if inline else match.group(2)
        content = html.unescape(_TAG.sub("", _BR.sub(" ", inner))).replace("\xa0", " ").strip()
        raw = html.unescape(_TAG.sub("", match.group(0)))
        if not content:
            return keep("", raw)
        return keep(f"${content}$" if inline else f"$${content}$$", raw)

    def sound(match: re.Match[str]) -> str:
        return keep(match.group(0), html.unescape(match.group(0)))

    def latex(match: re.Match[str]) -> str:
        raw = html.unescape(_TAG.sub("", _BR.sub("\n", match.group(0))))
        return keep(literal(raw), raw)

    text = _LATEX.sub(latex, text)
    text = _MATH.sub(math, text)
    return SOUND.sub(sound, text)


def paragraphs(markdown: str) -> str:
    """Two or more hard breaks in a row are a blank line: a paragraph break. No trailing breaks."""
    markdown = re.sub(r"(?:\\\n[ \t]*){2,}", "\n\n", markdown)
    markdown = re.sub(r"\\\n(?=\s*(?:\n|$))", "\n", markdown)
    markdown = re.sub(r"(?:\\\n|\\$)\s*$", "", markdown)
    markdown = re.sub(r"(^|\n)[ \t]*\\\n", r"\1", markdown)
    lines = [line.rstrip() for line in markdown.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
