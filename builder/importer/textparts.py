"""The text parts of a field: placeholders for what Markdown must not touch (MathJax, sounds, LaTeX), escaping,
and the clean-up of line breaks. Used by builder.importer.html2md."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote

#: Private-use characters that frame a placeholder; Anki fields never contain them in practice, and if one does
#: it is replaced (and reported) before anything else happens.
OPEN, CLOSE = "\ue000", "\ue001"
PLACEHOLDER = re.compile(f"{OPEN}(\\d+){CLOSE}")
SOUND = re.compile(r"\[sound:([^\]\n]+)\]")
#: (opening, closing) pairs each cut out as one placeholder, leftmost opening first, as `open.*?close` would.
_LATEX_PAIRS = (("[latex]", "[/latex]"), ("[$$]", "[/$$]"), ("[$]", "[/$]"))
_MATH_PAIRS = (("\\(", "\\)"), ("\\[", "\\]"))
_SOUND_PAIRS = (("[sound:", "]"),)
_TAG = re.compile(r"<[^<>]*>")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG_START = re.compile(r"<[A-Za-z/!?]")
_SPACES = re.compile(r"[\s\xa0]+")

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


def _sub_pairs(
    text: str,
    pairs: tuple[tuple[str, str], ...],
    replace: Callable[[str, int], str | None],
    *,
    fold: bool = False,
) -> str:
    """`re.sub` of `open.*?close` alternatives in time linear in the text.

    The regex rescans the rest of the text from every opening that is never closed (40,000 `[sound:` took
    minutes). Here the next closing of each kind is found once and reused until passed, and a kind with no
    closing left is done. `replace` answers None where the match is not one after all (the scan goes on just
    after that opening).
    """
    haystack = text.lower() if fold else text
    opening: dict[int, int] = {}
    closing: dict[int, int] = {}
    out: list[str] = []
    pos = 0
    search = 0
    while True:
        for kind, (start_mark, end_mark) in enumerate(pairs):
            if kind in closing and closing[kind] < 0:
                continue
            if opening.get(kind, -1) < search:
                opening[kind] = haystack.find(start_mark, search)
            if opening[kind] < 0:
                closing[kind] = -1
                continue
            body = opening[kind] + len(start_mark)
            if closing.get(kind, -1) < body:
                closing[kind] = haystack.find(end_mark, body)
        live = [k for k in range(len(pairs)) if closing.get(k, -1) >= 0 and opening[k] >= 0]
        if not live:
            break
        kind = min(live, key=lambda k: (opening[k], k))
        start = opening[kind]
        end = closing[kind] + len(pairs[kind][1])
        replaced = replace(text[start:end], kind)
        if replaced is None:
            search = start + 1
            continue
        out.append(text[pos:start])
        out.append(replaced)
        pos = search = end
    out.append(text[pos:])
    return "".join(out)


def unclosed_tag(html_text: str) -> int | None:
    """Where a last `<tag` with no `>` after it starts: the browser never finishes it, so Anki shows nothing
    from there (and regexes or the HTML parser retry it at every later `<`: 40,000 `<img ` took minutes)."""
    found = _TAG_START.search(html_text, html_text.rfind(">") + 1)
    return None if found is None else found.start()


def sub_sounds(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    """`SOUND.sub(replace, text)`, in linear time."""

    def sound(whole: str, kind: int) -> str | None:
        match = SOUND.fullmatch(whole)
        return None if match is None else replace(match)

    return _sub_pairs(text, _SOUND_PAIRS, sound)


def cut_out(text: str, placeholders: list[tuple[str, str]]) -> str:
    """Replace MathJax, sound and LaTeX with placeholders: (Markdown form, form inside code)."""

    def keep(markdown: str, raw: str) -> str:
        placeholders.append((markdown, raw))
        return f"{OPEN}{len(placeholders) - 1}{CLOSE}"

    def math(whole: str, kind: int) -> str:
        inline = kind == 0
        # A raw newline is a space to MathJax; in Markdown it could start a block (a heading, a list).
        content = _SPACES.sub(" ", html.unescape(_TAG.sub("", _BR.sub(" ", whole[2:-2])))).strip()
        raw = html.unescape(_TAG.sub("", whole))
        if not content:
            return keep("", raw)
        return keep(f"${content}$" if inline else f"$${content}$$", raw)

    def sound(match: re.Match[str]) -> str:
        return keep(match.group(0), html.unescape(match.group(0)))

    def latex(whole: str, kind: int) -> str:
        raw = html.unescape(_TAG.sub("", _BR.sub("\n", whole)))
        return keep(literal(raw), raw)

    text = _sub_pairs(text, _LATEX_PAIRS, latex, fold=True)
    text = _sub_pairs(text, _MATH_PAIRS, math)
    return sub_sounds(text, sound)


def paragraphs(markdown: str) -> str:
    """Two or more hard breaks in a row are a blank line: a paragraph break. No trailing breaks."""
    markdown = re.sub(r"(?:\\\n[ \t]*){2,}", "\n\n", markdown)
    markdown = re.sub(r"\\\n(?=\s*(?:\n|$))", "\n", markdown)
    markdown = re.sub(r"(?:\\\n|\\$)\s*$", "", markdown)
    markdown = re.sub(r"(^|\n)[ \t]*\\\n", r"\1", markdown)
    lines = [line.rstrip() for line in markdown.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
