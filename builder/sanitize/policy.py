"""The one content policy: what HTML in notes and what SVG (diagrams and media files) may ship to Anki.

Anki shows cards in a web view with JavaScript enabled, on every device a learner owns, offline. So nothing a
note carries may run script, load anything from the network or reach outside the package. This module is the
allowlist both sanitizers enforce (builder.sanitize.html for note HTML, builder.sanitize.svg for SVG
documents), and it decides how each removal is reported:

- an **error** for what an author wrote that cannot ship: scripts, event handlers, `javascript:`/`data:` and
  other active URLs, embedded documents (`iframe`, `object`, `embed`), page-level tags (`meta`, `base`, `link`,
  `style`, forms), remote references (images, CSS `url()`), inline SVG/MathML in a note;
- a **warning** for what is harmless but has no place on a card and is stripped, its text kept: an unknown
  element or attribute, a CSS property outside the list.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Verdict(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """Something the policy removes: its diagnostic code, severity and message, and where in the input it is."""

    code: str
    verdict: Verdict
    message: str
    #: 1-based line and column in the sanitised text (the caller maps them to the note file).
    line: int = 1
    col: int = 1
    #: What to search for on that line to point the caret at the exact spot (an attribute name), if anything.
    needle: str = ""


#: Codes of the family (docs/authoring.md lists them).
ELEMENT = "E071"  # an element that cannot ship (script, iframe, object, meta, base, style, form, svg, ...)
HANDLER = "E072"  # an event-handler attribute (onload, onerror, ...)
ACTIVE_URL = "E073"  # a javascript:, data:, vbscript: or other non-web URL, a CSS expression()
REMOTE = "E074"  # a remote reference the card would load: an http(s) image, CSS url(), @import
MEDIA_SVG = "E075"  # an SVG file from media/ that cannot be made safe (not SVG, entities, too large)
UNKNOWN_ELEMENT = "W071"  # an unknown element, unwrapped (its text kept)
UNKNOWN_ATTRIBUTE = "W072"  # an unknown attribute or CSS property, removed

# -- HTML in notes -----------------------------------------------------------------------------------------

#: Elements a note may use: everything the Markdown renderer writes, and plain text formatting.
HTML_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code", "col",
        "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt",
        "ruby", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
#: Elements that are an error wherever they appear: they run script, load or embed documents, submit data,
#: change the page (base URL, refresh, styles of every card) or play media from outside the package.
HTML_FORBIDDEN = frozenset(
    {
        "applet", "audio", "base", "basefont", "button", "canvas", "dialog", "embed", "fieldset", "form", "frame",
        "frameset", "iframe", "input", "isindex", "keygen", "link", "meta", "noembed", "noframes", "noscript",
        "object", "option", "param", "picture", "portal", "script", "select", "slot", "source", "style",
        "template", "textarea", "track", "video", "xmp", "plaintext", "math", "svg",
    }
)  # fmt: skip
#: Forbidden elements whose content goes with them (it is script, CSS or an embedded document, not text).
HTML_DROP_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select", "svg", "math"}
)
HTML_ATTRIBUTES: dict[str, frozenset[str]] = {
    "*": frozenset({"class", "id", "title", "lang", "dir", "style"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "td": frozenset({"colspan", "rowspan", "align", "valign"}),
    "th": frozenset({"colspan", "rowspan", "align", "valign", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "ol": frozenset({"start", "type", "reversed"}),
    "ul": frozenset({"type"}),
    "li": frozenset({"value"}),
    "details": frozenset({"open"}),
    "bdo": frozenset({"dir"}),
}
#: CSS properties a `style` attribute may set: text and box appearance, nothing that loads or positions.
CSS_PROPERTIES = frozenset(
    {
        "background-color", "border", "border-bottom", "border-collapse", "border-color", "border-left",
        "border-radius", "border-right", "border-style", "border-top", "border-width", "color", "display",
        "font-family", "font-size", "font-style", "font-variant", "font-weight", "height", "letter-spacing",
        "line-height", "list-style-type", "margin", "margin-bottom", "margin-left", "margin-right", "margin-top",
        "max-height", "max-width", "min-height", "min-width", "padding", "padding-bottom", "padding-left",
        "padding-right", "padding-top", "text-align", "text-decoration", "text-indent", "text-transform",
        "vertical-align", "white-space", "width", "word-break", "word-spacing", "word-wrap",
    }
)  # fmt: skip
#: Attributes (of any element) whose value is a URL a browser would follow or fetch.
URL_ATTRIBUTES = frozenset(
    {
        "action", "archive", "background", "cite", "classid", "codebase", "data", "dynsrc", "formaction",
        "href", "icon", "longdesc", "lowsrc", "manifest", "ping", "poster", "profile", "src", "srcdoc", "srcset",
        "usemap", "xlink:href", "xml:base",
    }
)  # fmt: skip
#: Link targets a card may carry: the web and mail (Anki opens them outside the card).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
#: What URL parsers ignore inside a URL: ASCII tab and newlines anywhere, controls and spaces at the ends.
_URL_IGNORED = re.compile(r"[\t\n\r]")


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in `value` (already entity-decoded), lowercased; None if relative."""
    cleaned = _URL_IGNORED.sub("", value).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11"
        "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    if cleaned.startswith("//") or cleaned.startswith("\\\\"):
        return "//"
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def link_problem(value: str) -> str | None:
    """Why `<a href=value>` cannot ship (an active URL), or None."""
    scheme = url_scheme(value)
    if scheme is None or scheme in LINK_SCHEMES or scheme == "//":
        return None
    return f"a `{scheme}:` link; expected an http(s) or mailto link, because other schemes run script or open documents"


# -- CSS --------------------------------------------------------------------------------------------------

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)]*?))\s*\)", re.IGNORECASE | re.DOTALL)
CSS_ACTIVE = re.compile(r"expression\s*\(|-moz-binding|\bbehavior\s*:|javascript\s*:|@import", re.IGNORECASE)


def css_unescape(css: str) -> str:
    """CSS with comments removed and escapes (`\\75 rl(`) decoded: what a browser would read."""
    css = _CSS_COMMENT.sub("", css)
    return _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), css)


@dataclass(frozen=True)
class StyleReport:
    """A `style` attribute's declarations: the ones kept, and what is wrong with the others."""

    kept: str
    errors: tuple[tuple[str, str], ...]  # (code, what was found)
    dropped: tuple[str, ...]  # properties outside CSS_PROPERTIES


def inspect_style(style: str) -> StyleReport:
    kept: list[str] = []
    errors: list[tuple[str, str]] = []
    dropped: list[str] = []
    for declaration in css_unescape(style).split(";"):
        if not declaration.strip():
            continue
        name, sep, value = declaration.partition(":")
        prop = name.strip().lower()
        if CSS_URL.search(value) or CSS_URL.search(prop):
            errors.append((REMOTE, f"`url(...)` in the `{prop}` style"))
        elif CSS_ACTIVE.search(declaration):
            errors.append((ACTIVE_URL, f"`{declaration.strip()[:60]}` in a style"))
        elif not sep or prop not in CSS_PROPERTIES:
            dropped.append(prop or declaration.strip()[:40])
        else:
            kept.append(f"{prop}: {value.strip()}")
    return StyleReport("; ".join(kept), tuple(errors), tuple(dropped))


# -- SVG documents (rendered diagrams and media files) -----------------------------------------------------

#: SVG elements that may ship. Links (`a`) are unwrapped (their content kept), everything else not listed
#: is removed with its content.
SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch", "path", "rect", "circle",
        "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath", "marker", "linearGradient",
        "radialGradient", "stop", "pattern", "clipPath", "mask", "filter", "feBlend", "feColorMatrix",
        "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap",
        "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
        "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence", "image", "foreignObject", "style",
        "font", "font-face", "font-face-src", "font-face-uri", "glyph", "missing-glyph", "hkern", "vkern", "view",
    }
)  # fmt: skip
#: SVG elements that are active (script, animation that can set attributes such as href) or embed documents.
SVG_FORBIDDEN = frozenset(
    {
        "script", "handler", "listener", "set", "animate", "animateMotion", "animateTransform", "animateColor",
        "discard", "iframe", "frame", "frameset", "embed", "object", "applet", "audio", "video", "source",
        "track", "canvas", "link", "meta", "base", "form", "input", "button", "textarea", "select", "option",
        "img", "picture", "portal", "template", "slot", "noscript", "mpath", "cursor",
    }
)  # fmt: skip
#: Plain text formatting allowed inside `<foreignObject>` (Mermaid and D2 labels).
SVG_HTML_ELEMENTS = frozenset(HTML_TAGS - {"a", "img", "details", "summary"} | {"style", "label", "font", "big"})
SVG_HTML_ATTRIBUTES = frozenset(
    {
        "class", "style", "id", "dir", "lang", "title", "colspan", "rowspan", "align", "valign", "width",
        "height", "span", "start", "type", "reversed", "color", "face", "size",
    }
)  # fmt: skip
#: `data:` URIs an SVG may embed: raster images and fonts (D2 embeds its fonts that way). Never documents.
SAFE_DATA = re.compile(
    r"data:(image/(png|jpe?g|gif|webp|avif)|font/(woff2?|ttf|otf|sfnt)"
    r"|application/(font-woff2?|x-font-woff|x-font-ttf|x-font-opentype|font-sfnt|vnd\.ms-fontobject"
    r"|vnd\.ms-opentype))[;,]",
    re.IGNORECASE,
)


def internal_or_safe_data(value: str) -> bool:
    """A reference an SVG may keep: a `#fragment` in the same document or a raster/font `data:` URI."""
    value = _URL_IGNORED.sub("", value).strip()
    return value.startswith("#") or bool(SAFE_DATA.match(value))
