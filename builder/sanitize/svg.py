"""SVG sanitiser: SVG text (a diagram engine's output or a file from media/) in, a safe, self-contained, id-prefixed SVG
text out, with what was removed. The allowlist is builder.sanitize.policy's, shared with the HTML sanitiser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from builder.diagrams.base import DiagramError
from builder.diagrams.svgxml import (
    SVG_NS,
    XHTML_NS,
    XLINK_NS,
    XML_NS,
    parse_svg,
    parse_viewbox,
    serialize,
    split_tag,
)
from builder.sanitize.policy import (
    ACTIVE_URL,
    CSS_ACTIVE,
    CSS_URL,
    ELEMENT,
    HANDLER,
    REMOTE,
    SVG_ELEMENTS,
    SVG_FORBIDDEN,
    SVG_HTML_ATTRIBUTES,
    SVG_HTML_ELEMENTS,
    UNKNOWN_ATTRIBUTE,
    UNKNOWN_ELEMENT,
    Verdict,
    css_unescape,
    internal_or_safe_data,
    url_scheme,
)

MAX_BYTES = 2 * 1024 * 1024
BACKGROUND = "#ffffff"

_URL = CSS_URL
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)
_CSS_LEGACY = re.compile(r"(-moz-binding|behavior)\s*:[^;}]*;?", re.IGNORECASE)
_CSS_ID_SELECTOR = re.compile(r"#(-?[A-Za-z_][\w-]*)")
_PREFIX = re.compile(r"[A-Za-z][\w-]*")
_SPACE = re.compile(r"\s+")
_ID_LIST_ATTRS = frozenset({"aria-labelledby", "aria-describedby", "aria-owns", "aria-controls"})


@dataclass(frozen=True)
class SvgRemoval:
    """One thing the sanitiser removed: its code and severity (builder.sanitize.policy) and what it was."""

    code: str
    verdict: Verdict
    what: str


@dataclass(frozen=True)
class CleanSvg:
    text: str
    removed: tuple[SvgRemoval, ...]


def sanitize_svg(svg: str, *, id_prefix: str, max_bytes: int = MAX_BYTES) -> str:
    """The safe version of `svg`; DiagramError if it is not usable (invalid, entities, over `max_bytes`).

    What comes out:

    - No scripts, event handlers, SMIL animation, embedded browsers (`iframe`, `object`, ...), links (`<a>`
      is unwrapped, its content kept) or references to anything outside the document: `href` and `url(...)`
      keep only `#fragment` targets and `data:` URIs of raster images and fonts (D2 embeds its fonts that
      way). HTML inside `<foreignObject>` keeps only plain text formatting elements. Comments, processing
      instructions and the DOCTYPE are dropped; documents that declare XML entities are refused.
    - Every `id` is renamed `{id_prefix}-{n}` (n = 1, 2, ... in document order) together with everything that
      points at it (`href="#id"`, `url(#id)`, `aria-*` id lists, `#id` selectors in `<style>`), so several
      diagrams inlined into one card never share an id.
    - The root has a `viewBox` and a `width`/`height` with the same aspect ratio, so an `<img>` has an
      intrinsic size, scales down on a phone, and Anki's image occlusion can map viewBox fractions onto it.

    Night mode: cards show diagrams as `<img class="diagram">` and the deck's CSS inverts them in night mode
    (`.nightMode img.diagram { filter: invert(1) hue-rotate(180deg); }`). That reads well only if every
    diagram is dark-on-light, so an opaque white rectangle is put behind the whole drawing (engines default to
    a transparent background, which inversion would turn black, losing the picture's edges on a dark card),
    and the engines run with their light default themes (black or dark-grey text and strokes). Inverted, a
    diagram is light text and lines on near-black, with hues kept by the hue rotation. A diagram whose author
    forces a dark theme comes out inverted twice; don't do that.
    """
    return sanitize_svg_report(svg, id_prefix=id_prefix, max_bytes=max_bytes).text


def sanitize_svg_report(svg: str, *, id_prefix: str, max_bytes: int = MAX_BYTES) -> CleanSvg:
    """`sanitize_svg`, and everything it removed (comments, the DOCTYPE and editor metadata aside)."""
    if not _PREFIX.fullmatch(id_prefix):
        raise ValueError(f"id_prefix must be a letter then letters, digits, '-' or '_': {id_prefix!r}")
    root = parse_svg(svg, max_bytes * 8)
    removed: list[SvgRemoval] = []
    try:
        _clean_children(root, removed)
    except RecursionError:
        raise DiagramError("the SVG is nested too deeply to sanitise") from None
    _clean_attributes(root, removed)
    _fix_root(root)
    _rename_ids(root, id_prefix)
    text = serialize(root)
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise DiagramError(
            f"the rendered SVG is {size / 1048576:.1f} MB after sanitising, more than the "
            f"{max_bytes / 1048576:g} MB limit; split or simplify the diagram"
        )
    problems = check_svg_safe(text)
    if problems:
        raise DiagramError("the SVG is still unsafe after sanitising: " + "; ".join(problems))
    return CleanSvg(text, tuple(dict.fromkeys(removed)))


def check_svg_safe(svg: str) -> list[str]:
    """Problems that make `svg` unsafe or not self-contained (scripts, handlers, external references)."""
    try:
        root = parse_svg(svg, None)
    except DiagramError as exc:
        return [exc.message]
    problems: list[str] = []
    for el in root.iter():
        ns, name = split_tag(el.tag)
        if name in SVG_FORBIDDEN or (ns == SVG_NS and name not in SVG_ELEMENTS):
            problems.append(f"forbidden element <{name}>")
        elif ns == XHTML_NS and name not in SVG_HTML_ELEMENTS:
            problems.append(f"HTML element <{name}> inside the SVG")
        for key, value in el.attrib.items():
            attr = split_tag(key)[1]
            if attr.lower().startswith("on"):
                problems.append(f"event handler {attr} on <{name}>")
            elif attr == "href" and not internal_or_safe_data(value):
                problems.append(f"external reference {attr}={value[:60]!r} on <{name}>")
            elif _active(value):
                problems.append(f"active URL in {attr} on <{name}>")
            problems.extend(f"external url({u[:60]}) in {attr} on <{name}>" for u in _external_urls(value))
        if name == "style" and el.text:
            css = css_unescape(el.text)
            problems.extend(f"external url({u[:60]}) in <style>" for u in _external_urls(css))
            if CSS_ACTIVE.search(css):
                problems.append("@import, expression() or a binding in <style>")
    return problems


def _active(value: str) -> bool:
    """Whether an attribute value holds a script URL, however it is spaced out."""
    squeezed = _SPACE.sub("", value).lower()
    return "javascript:" in squeezed or "vbscript:" in squeezed or "data:text/html" in squeezed


# -- cleaning ---------------------------------------------------------------------------------------------


def _element_removal(ns: str | None, name: str) -> SvgRemoval | None:
    """Why an element goes (None: it stays). Elements of editors' own namespaces go quietly."""
    if name in SVG_FORBIDDEN:
        return SvgRemoval(ELEMENT, Verdict.ERROR, f"a <{name}> element (script, animation or embedded content)")
    if ns == SVG_NS and name not in SVG_ELEMENTS:
        return SvgRemoval(UNKNOWN_ELEMENT, Verdict.WARNING, f"an unknown SVG element <{name}>")
    if ns == XHTML_NS and name not in SVG_HTML_ELEMENTS:
        return SvgRemoval(ELEMENT, Verdict.ERROR, f"an HTML <{name}> element inside <foreignObject>")
    return None


def _clean_children(parent: ET.Element, removed: list[SvgRemoval]) -> None:
    index = 0
    while index < len(parent):
        child = parent[index]
        ns, name = split_tag(child.tag)
        if name == "a" and ns in (SVG_NS, XHTML_NS):
            href = child.get("href") or child.get(f"{{{XLINK_NS}}}href") or ""
            if _active(href):
                removed.append(SvgRemoval(ACTIVE_URL, Verdict.ERROR, f"a link to `{href[:60]}`"))
            _unwrap(parent, index)
            continue
        if ns not in (SVG_NS, XHTML_NS):
            _remove(parent, index)
            continue
        why = _element_removal(ns, name)
        if why is not None:
            removed.append(why)
            _remove(parent, index)
            continue
        _clean_children(child, removed)
        _clean_attributes(child, removed)
        if name in ("image", "feImage") and not _has_href(child):
            _remove(parent, index)
            continue
        if name == "style" and child.text:
            cleaned = clean_css(child.text)
            if _neutralise_urls(_CSS_COMMENT.sub("", child.text)) != _CSS_COMMENT.sub("", child.text) or (
                _CSS_IMPORT.search(_CSS_COMMENT.sub("", child.text))
            ):
                removed.append(SvgRemoval(REMOTE, Verdict.ERROR, "a remote url() or @import in <style>"))
            child.text = cleaned
        index += 1


def _attribute_removal(ns: str | None, name: str, attr_ns: str | None, attr: str, value: str) -> SvgRemoval | None:
    """Why an attribute goes, or None if it stays. Attributes of editors' own namespaces go quietly."""
    if attr.lower().startswith("on"):
        return SvgRemoval(HANDLER, Verdict.ERROR, f"the event handler {attr} on <{name}>")
    if attr == "href" and not internal_or_safe_data(value):
        scheme = url_scheme(value)
        if scheme in ("http", "https", "//"):
            return SvgRemoval(REMOTE, Verdict.ERROR, f"the remote reference `{value[:60]}` on <{name}>")
        if scheme is not None:
            return SvgRemoval(ACTIVE_URL, Verdict.ERROR, f"a `{scheme}:` reference on <{name}>")
        return SvgRemoval(REMOTE, Verdict.ERROR, f"the reference to another file `{value[:60]}` on <{name}>")
    if _active(value):
        return SvgRemoval(ACTIVE_URL, Verdict.ERROR, f"a script URL in {attr} on <{name}>")
    if ns == XHTML_NS and attr_ns is None and attr not in SVG_HTML_ATTRIBUTES:
        return SvgRemoval(UNKNOWN_ATTRIBUTE, Verdict.WARNING, f"the attribute {attr} on <{name}>")
    return None


def _clean_attributes(el: ET.Element, removed: list[SvgRemoval]) -> None:
    ns, name = split_tag(el.tag)
    for key in list(el.attrib):
        attr_ns, attr = split_tag(key)
        value = el.attrib[key]
        if attr_ns not in (None, XLINK_NS, XML_NS):
            del el.attrib[key]
            continue
        why = _attribute_removal(ns, name, attr_ns, attr, value)
        if why is not None:
            removed.append(why)
            del el.attrib[key]
        elif "url(" in value.lower():
            kept = _neutralise_urls(value)
            if kept != value:
                removed.append(SvgRemoval(REMOTE, Verdict.ERROR, f"a remote url() in {attr} on <{name}>"))
            el.attrib[key] = kept


def clean_css(css: str) -> str:
    css = _CSS_COMMENT.sub("", css)
    css = _CSS_IMPORT.sub("", css)
    css = _CSS_LEGACY.sub("", css)
    return _neutralise_urls(css)


def _neutralise_urls(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        target = _url_target(match)
        return match.group(0) if internal_or_safe_data(target) else "none"

    return _URL.sub(replace, text)


def _url_target(match: re.Match[str]) -> str:
    return next((g for g in match.groups() if g is not None), "").strip()


def _external_urls(text: str) -> Iterator[str]:
    for match in _URL.finditer(text):
        target = _url_target(match)
        if not internal_or_safe_data(target):
            yield target


def _has_href(el: ET.Element) -> bool:
    return "href" in el.attrib or f"{{{XLINK_NS}}}href" in el.attrib


def _remove(parent: ET.Element, index: int) -> None:
    child = parent[index]
    if child.tail:
        _append_text(parent, index - 1, child.tail)
    del parent[index]


def _unwrap(parent: ET.Element, index: int) -> None:
    """Replace parent[index] by its children, keeping its text and tail where they were."""
    child = parent[index]
    if child.text:
        _append_text(parent, index - 1, child.text)
    grandchildren = list(child)
    if child.tail:
        if grandchildren:
            grandchildren[-1].tail = (grandchildren[-1].tail or "") + child.tail
        else:
            _append_text(parent, index - 1, child.tail)
    del parent[index]
    for offset, grandchild in enumerate(grandchildren):
        parent.insert(index + offset, grandchild)


def _append_text(parent: ET.Element, before: int, text: str) -> None:
    if before >= 0:
        parent[before].tail = (parent[before].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


# -- root geometry ----------------------------------------------------------------------------------------


def _fix_root(root: ET.Element) -> None:
    box = parse_viewbox(root.get("viewBox"))
    if box is None:
        width, height = _length(root.get("width")), _length(root.get("height"))
        if width is None or height is None:
            raise DiagramError("the SVG has neither a viewBox nor a width and height")
        box = (0.0, 0.0, width, height)
        root.set("viewBox", " ".join(fmt(v) for v in box))
    if box[2] <= 0 or box[3] <= 0:
        raise DiagramError("the SVG has an empty viewBox")
    width, height = _length(root.get("width")), _length(root.get("height"))
    if width is None or height is None or abs(width * box[3] - height * box[2]) > 0.01 * width * box[3]:
        # A percentage or missing size gives an <img> no intrinsic size; a size whose aspect differs from
        # the viewBox would shift image-occlusion masks.
        root.set("width", fmt(box[2]))
        root.set("height", fmt(box[3]))
    # Engines put max-width/width/background here; they would override the intrinsic size and the backdrop.
    root.attrib.pop("style", None)
    backdrop = ET.Element(
        f"{{{SVG_NS}}}rect",
        {
            "x": fmt(box[0]),
            "y": fmt(box[1]),
            "width": fmt(box[2]),
            "height": fmt(box[3]),
            "fill": BACKGROUND,
            "stroke": "none",
            # Inline style outranks engine stylesheets with broad `rect` selectors.
            "style": f"fill:{BACKGROUND};stroke:none",
        },
    )
    backdrop.tail = root.text
    root.text = None
    root.insert(0, backdrop)


def _length(value: str | None) -> float | None:
    """A width/height in user units (px); None for percentages and unknown units."""
    if not value:
        return None
    match = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*(px|pt|)\s*", value)
    if not match:
        return None
    number = float(match.group(1))
    return number * 4 / 3 if match.group(2) == "pt" else number


def fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- ids --------------------------------------------------------------------------------------------------


def _rename_ids(root: ET.Element, prefix: str) -> None:
    mapping: dict[str, str] = {}
    for el in root.iter():
        old = el.get("id")
        if old is not None:
            if old not in mapping:
                mapping[old] = f"{prefix}-{len(mapping) + 1}"
            el.set("id", mapping[old])
    if not mapping:
        return

    def url_ref(match: re.Match[str]) -> str:
        target = _url_target(match)
        if target.startswith("#") and target[1:] in mapping:
            return f"url(#{mapping[target[1:]]})"
        return match.group(0)

    for el in root.iter():
        for key, value in list(el.attrib.items()):
            attr = split_tag(key)[1]
            if key == "id":
                continue
            if attr == "href" and value.startswith("#") and value[1:] in mapping:
                el.set(key, "#" + mapping[value[1:]])
            elif attr in _ID_LIST_ATTRS:
                el.set(key, " ".join(mapping.get(token, token) for token in value.split()))
            elif "url(" in value:
                el.set(key, _URL.sub(url_ref, value))
        if split_tag(el.tag)[1] == "style" and el.text:
            el.text = _rename_css_ids(el.text, mapping, url_ref)


def _rename_css_ids(css: str, mapping: dict[str, str], url_ref: Callable[[re.Match[str]], str]) -> str:
    """Rename `#id` in selectors and `url(#id)` in declarations, leaving `#333` colours alone."""
    pieces = re.split(r"([{}])", css)
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if piece in ("{", "}"):
            out.append(piece)
            continue
        followed_by = pieces[i + 1] if i + 1 < len(pieces) else ""
        if followed_by == "{" and not piece.lstrip().startswith("@"):
            out.append(_CSS_ID_SELECTOR.sub(lambda m: "#" + mapping.get(m.group(1), m.group(1)), piece))
        else:
            out.append(_URL.sub(url_ref, piece))
    return "".join(out)
