"""Field HTML → readable Markdown in the project's dialect, and a list of what could not come along.

markdownify does the tree walk and the Markdown shapes (lists, emphasis, links, fences); this module teaches it
Anki's habits and the builder's dialect:

- Anki writes lines as `<div>`s and `<br>`s: a line becomes a hard break (`\\` at the end of a line), an empty
  line a paragraph break.
- MathJax (`\\(...\\)`, `\\[...\\]`) becomes `$...$` / `$$...$$`, `[sound:...]` stays, LaTeX tags stay literal,
  clozes stay as they are. They are cut out of the HTML before parsing (as private-use placeholders), so that
  markup inside them or escaping around them cannot break them.
- Text is escaped only where Markdown would read it as syntax, so the rendered card shows the same text.
- What Markdown cannot say (underline, sub/superscript, colour, a table with merged cells) stays as inline HTML
  from a small allowlist (`allowed_html`, switchable to the project's sanitiser in one place); everything else
  (scripts, event handlers, iframes, fonts, classes, image sizes, remote images) is dropped and reported.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Comment, Tag
from markdownify import MarkdownConverter

from builder import cloze
from builder.importer import htmltree
from builder.importer.textparts import (
    CLOSE,
    OPEN,
    PLACEHOLDER,
    cut_out,
    escape_text,
    literal,
    media_reference,
    paragraphs,
    sub_sounds,
    unclosed_tag,
)
from builder.source import MAX_LINE_LENGTH

__all__ = ["Converted", "FieldContext", "Unconvertible", "convert_field", "escape_text", "literal", "media_reference"]

#: Elements whose content is dropped with them (they run, embed or style something, or collect input).
_DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "applet", "frame", "frameset", "noscript", "template",
        "form", "input", "button", "textarea", "select", "option", "link", "meta", "base", "canvas", "audio",
        "video", "source", "track", "svg", "math", "head", "title",
    }
)  # fmt: skip
#: Elements Markdown has a form for, or that we keep as inline HTML.
_KNOWN = frozenset(
    {
        "p", "div", "br", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "sub", "sup", "small",
        "mark", "code", "kbd", "samp", "tt", "pre", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr",
        "th", "td", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "a", "img", "span",
        "font", "center", "section", "article", "header", "footer", "aside", "main", "nav", "figure",
        "figcaption", "abbr", "cite", "q", "dfn", "var", "wbr", "html", "body", "dl", "dt", "dd", "colgroup",
        "col",
    }
)  # fmt: skip
#: Inline elements kept as HTML because Markdown has no form for them.
_INLINE_HTML = frozenset({"u", "sub", "sup", "ins", "mark", "small", "abbr", "dfn", "var", "cite"})
#: CSS properties that carry meaning a learner sees (emphasis, colour, size); the rest is editor noise.
_KEPT_CSS = ("color", "background-color", "font-size")
_CSS_BOLD = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.IGNORECASE)
_CSS_ITALIC = re.compile(r"font-style\s*:\s*italic", re.IGNORECASE)
_CSS_UNDERLINE = re.compile(r"text-decoration(?:-line)?\s*:[^;]*underline", re.IGNORECASE)
_CSS_STRIKE = re.compile(r"text-decoration(?:-line)?\s*:[^;]*line-through", re.IGNORECASE)
_CSS_VALUE = re.compile(r"^[#(),.%\w\s-]{1,60}$")
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_LANGUAGE_CLASS = re.compile(r"^(?:language|lang)-([\w+#.-]+)$")
_LITERAL_IN_CLOZE = re.compile(r"\{\{(?!\{*c[0-9]+::)")
_ANY_BRACES = re.compile(r"\{\{")
#: What the builder refuses in a note file (E110) and Anki does not show; tab and newline are whitespace.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Past these a field is refused rather than converted: the HTML parser and Markdown writer are not linear in
#: hostile input and recurse once per level of nesting. Real fields stay far below both.
MAX_FIELD_CHARS = 200_000
MAX_DEPTH = 100
#: Long lines are broken below the builder's limit; a new line may start only with what starts no block.
_WRAP_AT = MAX_LINE_LENGTH - 1_000
_SAFE_LINE_START = re.compile(r"[^\W\d_]")


def allowed_html(tag: str, attribute: str | None = None) -> bool:
    """Whether an element (or one of its attributes) may stay as inline HTML in a note.

    The one place to switch to the project's sanitiser once it lands: every element and attribute the
    converter writes as HTML asks here first, and what is refused is reported as dropped.
    """
    if attribute is not None:
        return tag == "span" and attribute == "style"
    return tag in _INLINE_HTML or tag in ("span", "h1", "h2", "h3")


@dataclass
class FieldContext:
    """What the converter needs to know about the deck around a field."""

    #: Media file name in the package → its path under media/ as the note will reference it.
    media: Mapping[str, str]
    #: `### X` headings whose text names a field of the notetype would be read as field sections.
    reserved_headings: frozenset[str] = frozenset()
    #: Whether the note's notetype is a cloze one: elsewhere Anki shows every `{{c1::x}}` as typed.
    cloze: bool = True


class Unconvertible(Exception):
    """A field the converter cannot carry over faithfully; the note is then skipped, with this reason."""


@dataclass
class Converted:
    """A field as Markdown."""

    markdown: str
    #: True when the Markdown is one line of inline content, so it can be a `##` heading.
    inline: bool
    #: What was dropped, e.g. "`<script>` element" or "style `font-family`", with how often.
    dropped: Counter[str] = field(default_factory=Counter)
    #: Media paths (under media/) the Markdown references, in order of first use.
    media: list[str] = field(default_factory=list)


#: markdownify's stubs declare only its public entry points; the conversion hooks we override are untyped.
_Base: Any = MarkdownConverter


class _Converter(_Base):  # type: ignore[misc]
    def __init__(self, ctx: FieldContext, result: Converted, placeholders: list[tuple[str, str]]) -> None:
        super().__init__(
            heading_style="atx",
            newline_style="backslash",
            bullets="-",
            strong_em_symbol="*",
            escape_asterisks=False,
            escape_underscores=False,
            escape_misc=False,
            strip_document="strip",
            # With no width, "wrap" only makes every raw newline a space, as Anki shows it; a newline kept
            # could start a Markdown block (`# x` a heading, `---` a setext line) and hide the text.
            wrap=True,
            wrap_width=None,
        )
        self.ctx = ctx
        self.result = result
        self.placeholders = placeholders

    # Text ---------------------------------------------------------------------------------------------------

    def escape(self, text: str, parent_tags: set[str]) -> str:
        text = escape_text(text, table="td" in parent_tags or "th" in parent_tags)
        # Anki reads only `{{c<digits>::` as a deletion, and only in a cloze notetype; any other `{{` is text,
        # which the builder would read as a (malformed) cloze. `{\{` renders as `{{` and opens nothing.
        return (_LITERAL_IN_CLOZE if self.ctx.cloze else _ANY_BRACES).sub(r"{\\{", text)

    def process_text(self, el: Any, parent_tags: set[str] | None = None) -> str:
        text: str = super().process_text(el, parent_tags=parent_tags)
        raw = bool(parent_tags and "_noformat" in parent_tags)
        before = el.previous_sibling
        if isinstance(before, Tag) and before.name == "br" and not (parent_tags and "pre" in parent_tags):
            # A line starts after `<br>`: the browser drops the space a raw newline there became.
            text = text.lstrip(" ")
        return PLACEHOLDER.sub(lambda m: self.placeholders[int(m.group(1))][1 if raw else 0], text)

    # Inline -------------------------------------------------------------------------------------------------

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        src = str(el.get("src") or "")
        alt = re.sub(r"\s+", " ", str(el.get("alt") or "")).strip()
        path = self.ctx.media.get(html.unescape(src)) or self.ctx.media.get(src)
        if path is None:
            self.result.dropped[f"image `{src[:80]}` (not a file in the package)"] += 1
            return escape_text(alt)
        for attr in ("width", "height"):
            if el.get(attr):
                self.result.dropped[f"image {attr}"] += 1
        if path not in self.result.media:
            self.result.media.append(path)
        return f"![{escape_text(alt)}]({media_reference(path)})"

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        href = str(el.get("href") or "").strip()
        if not text.strip() or "_noformat" in parent_tags:
            return text
        if not _SAFE_LINK.match(href):
            if href:
                self.result.dropped[f"link to `{href[:60]}` (only http, https and mailto links are kept)"] += 1
            return text
        prefix, suffix, inner = _chomp(text)
        destination = href.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")
        return f"{prefix}[{inner}]({destination}){suffix}"

    def convert_span(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self._styled(el, text, parent_tags)

    def convert_font(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self._styled(el, text, parent_tags)

    def _styled(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Inline styling: emphasis becomes Markdown, colour and size stay as a `<span style>`."""
        if "_noformat" in parent_tags or not text.strip():
            return text
        style = str(el.get("style") or "")
        kept = []
        for prop, value in _css_declarations(style):
            if prop in _KEPT_CSS and _CSS_VALUE.match(value):
                kept.append(f"{prop}: {value}")
            elif not re.match(r"font-weight|font-style|text-decoration", prop):
                self.result.dropped[f"style `{prop}`"] += 1
        if el.name == "font":
            if el.get("color") and _CSS_VALUE.match(str(el["color"])):
                kept.append(f"color: {el['color']}")
            for attr in ("face", "size"):
                if el.get(attr):
                    self.result.dropped[f"`<font {attr}>`"] += 1
        prefix, suffix, inner = _chomp(text)
        if _CSS_STRIKE.search(style):
            inner = f"~~{inner}~~"
        if _CSS_UNDERLINE.search(style):
            inner = f"<u>{inner}</u>"
        if _CSS_ITALIC.search(style):
            inner = f"*{inner}*"
        if _CSS_BOLD.search(style):
            inner = f"**{inner}**"
        if kept and allowed_html("span", "style"):
            inner = f'<span style="{html.escape("; ".join(kept))}">{inner}</span>'
        return prefix + inner + suffix

    def _inline_html(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_noformat" in parent_tags or not text.strip():
            return text
        if not allowed_html(el.name):
            self.result.dropped[f"`<{el.name}>` formatting"] += 1
            return text
        prefix, suffix, inner = _chomp(text)
        return f"{prefix}<{el.name}>{inner}</{el.name}>{suffix}"

    convert_u = convert_sub = convert_sup = convert_ins = convert_mark = convert_small = _inline_html
    convert_abbr = convert_dfn = convert_var = convert_cite = _inline_html

    def convert_tt(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self.convert_code(el, text, parent_tags)  # type: ignore[no-any-return]

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_inline" in parent_tags or "_heading" in parent_tags:
            return "<br>"
        return "\\\n"

    # Blocks -------------------------------------------------------------------------------------------------

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        text = re.sub(r"\s+", " ", text.replace("\\\n", " ")).strip()
        if not text:
            return ""
        # `#` and `##` start notes and `### <field>` a field section: those stay HTML headings.
        reserved = n <= 2 or (n == 3 and el.get_text(" ", strip=True) in self.ctx.reserved_headings)
        if reserved and allowed_html(f"h{n}"):
            shown = re.sub(r"\s+", " ", el.get_text(" ", strip=True))
            return f"\n\n<h{n}>{html.escape(shown, quote=False)}</h{n}>\n\n"
        if reserved:
            # As Markdown it would start a note or a field section: keep the text as a paragraph.
            self.result.dropped[f"`<h{n}>` heading"] += 1
            return f"\n\n{text}\n\n"
        return f"\n\n{'#' * min(n, 6)} {text}\n\n"

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        code = el.get_text()
        code = PLACEHOLDER.sub(lambda m: self.placeholders[int(m.group(1))][1], code).strip("\n")
        if not code.strip():
            return ""
        language = _code_language(el)
        fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", code)), default=0) + 1)
        return f"\n\n{fence}{language}\n{code}\n{fence}\n\n"

    def convert_div(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        classes: list[str] = list(el.get("class") or [])
        if "highlight" in classes and el.find("pre") is not None:
            return text
        if classes:
            self.result.dropped["`class` attribute"] += 1
        return super().convert_div(el, text, parent_tags)  # type: ignore[no-any-return]

    convert_center = convert_section = convert_article = convert_header = convert_footer = convert_div
    convert_aside = convert_main = convert_nav = convert_figure = convert_figcaption = convert_div

    def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return "\n\n" + _table(self, el) + "\n\n"

    def convert_caption(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return ""

    def convert_td(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text

    convert_th = convert_tr = convert_thead = convert_tbody = convert_tfoot = convert_td


def _chomp(text: str) -> tuple[str, str, str]:
    prefix = " " if text[:1].isspace() else ""
    suffix = " " if text[-1:].isspace() else ""
    return prefix, suffix, text.strip()


def _css_declarations(style: str) -> list[tuple[str, str]]:
    out = []
    for part in style.split(";"):
        prop, sep, value = part.partition(":")
        if sep and prop.strip():
            out.append((prop.strip().lower(), value.strip()))
    return out


def _code_language(pre: Tag) -> str:
    """`language-x` on the `<pre>`, its `<code>` or a wrapping highlight `<div>` (as the builder writes)."""
    candidates: list[Tag] = [pre]
    code = pre.find("code")
    if isinstance(code, Tag):
        candidates.append(code)
    if isinstance(pre.parent, Tag):
        candidates.append(pre.parent)
    for tag in candidates:
        declared = str(tag.get("data-language") or "")
        if re.fullmatch(r"[\w+#.-]+", declared):
            return declared
        for cls in tag.get("class") or []:
            match = _LANGUAGE_CLASS.match(str(cls))
            if match:
                return match.group(1)
    return ""


def _table(converter: _Converter, table: Tag) -> str:
    """A GFM table: the first row is the header; merged cells are split (and reported), cells are one line."""
    rows: list[list[str]] = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        cells = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            colspan = str(cell.get("colspan", "1"))
            span = int(colspan) if colspan.isdigit() else 1
            if span > 1 or str(cell.get("rowspan", "1")) not in ("", "1"):
                converter.result.dropped["merged table cells"] += 1
            parent = {"td", "_inline"}
            inner = "".join(converter.process_element(child, parent_tags=parent) for child in cell.children)
            inner = re.sub(r"\s*\n\s*", " ", inner).strip() or " "
            cells.extend([inner] + [" "] * (max(1, min(span, 50)) - 1))
        if cells:
            rows.append(cells)
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [" "] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return "\n".join(lines)


def _prepare(soup: BeautifulSoup, result: Converted) -> None:
    """Drop what may not reach a card and record it; normalise Anki's line divs."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        result.dropped["HTML comment"] += 1
        comment.extract()
    in_code = {id(inner) for pre in soup.find_all("pre") for inner in pre.find_all(True)}
    for tag in list(soup.find_all(True)):
        if tag.decomposed or id(tag) in in_code:
            # Gone with a dropped parent; or inside code, which keeps only its text anyway.
            continue
        name = tag.name.lower()
        if name in _DROP_WITH_CONTENT:
            result.dropped[f"`<{name}>` element"] += 1
            tag.decompose()
            continue
        if name not in _KNOWN:
            result.dropped[f"`<{name}>` tag (its text is kept)"] += 1
            tag.unwrap()
            continue
        for attr in list(tag.attrs):
            if attr.lower().startswith("on"):
                result.dropped[f"event handler `{attr}`"] += 1
                del tag.attrs[attr]
            elif attr in ("class", "data-language") and name in ("pre", "code", "div"):
                continue
            elif attr in ("class", "id", "dir", "lang") and name != "img":
                if attr == "class":
                    result.dropped["`class` attribute"] += 1
                del tag.attrs[attr]


def _sound_paths(markdown: str, ctx: FieldContext, result: Converted) -> str:
    """`[sound:name]` names the file in the package; the note names it under media/."""

    def replace(match: re.Match[str]) -> str:
        name = html.unescape(match.group(1))
        path = ctx.media.get(name)
        if path is None:
            result.dropped[f"sound `{name[:80]}` (not a file in the package)"] += 1
            return ""
        if path not in result.media:
            result.media.append(path)
        return f"[sound:{path}]"

    return sub_sounds(markdown, replace)


def _clean(source: str, result: Converted) -> str:
    """What Anki does not show, taken out before parsing: control characters and an unclosed last tag."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(source):
        for char in sorted(set(_CONTROL.findall(source))):
            result.dropped[f"control character U+{ord(char):04X} (Anki shows nothing for it)"] += 1
        source = _CONTROL.sub("", source)
    unclosed = unclosed_tag(source)
    if unclosed is not None:
        result.dropped[f"unclosed tag `{source[unclosed : unclosed + 20]}` at the end"] += 1
        source = source[:unclosed]
    return source


def _keep_clozes_inline(markdown: str) -> str:
    """A deletion across a line break keeps the break as `<br>`: a cloze cannot span Markdown lines."""
    clozes, _ = cloze.scan(markdown)
    for found in reversed(clozes):
        inner = markdown[found.start : found.end]
        if "\n" not in inner:
            continue
        if "\n\n" in inner or "\n" in inner.replace("\\\n", ""):
            raise Unconvertible(
                f"a cloze deletion `{inner[:30]}...` spans paragraphs, a list or a table, which a Markdown cloze "
                "cannot; in Anki it stays as it is"
            )
        markdown = markdown[: found.start] + inner.replace("\\\n", "<br>") + markdown[found.end :]
    return markdown


def _wrap_long_lines(markdown: str) -> str:
    """Lines past the builder's limit broken at spaces before a letter, where Markdown reads a soft break."""
    lines = markdown.split("\n")
    if all(len(line) <= _WRAP_AT for line in lines):
        return markdown
    out = []
    for line in lines:
        while len(line) > _WRAP_AT:
            cut = line.rfind(" ", 0, _WRAP_AT)
            while cut > 0 and not _SAFE_LINE_START.match(line, cut + 1):
                cut = line.rfind(" ", 0, cut)
            if cut <= 0 or line.startswith(("|", "```", "    ")):
                raise Unconvertible(
                    f"a line of {len(line):,} characters that Markdown cannot break (the builder reads lines of "
                    f"at most {MAX_LINE_LENGTH:,} characters)"
                )
            out.append(line[:cut])
            line = line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


def convert_field(source: str, ctx: FieldContext) -> Converted:
    """One field's HTML as Markdown, with what was dropped; Unconvertible when it cannot be carried over."""
    result = Converted("", True)
    if not source.strip():
        return result
    if len(source) > MAX_FIELD_CHARS:
        raise Unconvertible(f"it is {len(source):,} characters long; the importer converts at most {MAX_FIELD_CHARS:,}")
    if OPEN in source or CLOSE in source:
        result.dropped["private-use characters U+E000/U+E001"] += 1
        source = source.replace(OPEN, "").replace(CLOSE, "")
    source = _clean(source, result)
    placeholders: list[tuple[str, str]] = []
    cut = cut_out(source, placeholders)
    soup = BeautifulSoup(cut, "html.parser")
    depth = htmltree.depth(soup)
    if depth > MAX_DEPTH:
        raise Unconvertible(
            f"its HTML nests elements {depth:,} deep; the importer follows at most {MAX_DEPTH} levels, more than "
            "Markdown can show"
        )
    _prepare(soup, result)
    htmltree.lines_to_breaks(soup)
    converter = _Converter(ctx, result, placeholders)
    markdown = converter.convert_soup(soup)
    markdown = markdown.replace("\xa0", " ")
    markdown = _sound_paths(markdown, ctx, result)
    markdown = paragraphs(markdown)
    markdown = _keep_clozes_inline(markdown) if ctx.cloze else markdown
    markdown = _wrap_long_lines(markdown)
    result.markdown = markdown
    result.inline = "\n" not in markdown and not _BLOCK_START.match(markdown)
    return result


#: Markdown that only works at the start of a block: a heading field cannot hold it.
_BLOCK_START = re.compile(r"^(?:\$\$|<h[1-6]>|\||!\[|```)")
