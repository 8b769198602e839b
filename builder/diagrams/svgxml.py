"""SVG as XML: SVG text in, an ElementTree (and back to deterministic SVG text) out."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from builder.diagrams.base import DiagramError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_svg(svg: str, limit: int | None = None) -> ET.Element:
    """The SVG root element; DiagramError for invalid XML, entity declarations, a non-SVG root or > `limit` chars."""
    if limit is not None and len(svg) > limit:
        raise DiagramError(f"the rendered SVG is larger than {limit // 1048576} MB; split or simplify it")
    if re.search(r"<!ENTITY", svg, re.IGNORECASE):
        raise DiagramError("the SVG declares XML entities, which are not allowed")
    # Leading junk (a BOM, warnings some engines print to stdout) before the XML would fail the parse.
    start = svg.find("<")
    try:
        root = ET.fromstring(svg[start:] if start > 0 else svg)
    except ET.ParseError as exc:
        raise DiagramError(f"the engine produced invalid SVG: {exc}") from None
    if root.tag == "svg":
        # Some engines omit xmlns; an <img> would then not render it at all.
        for el in root.iter():
            if isinstance(el.tag, str) and not el.tag.startswith("{"):
                el.tag = f"{{{SVG_NS}}}{el.tag}"
    if root.tag != f"{{{SVG_NS}}}svg":
        raise DiagramError(f"the engine output is not an SVG document (root element {root.tag!r})")
    return root


def split_tag(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def parse_viewbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    numbers = [float(n) for n in _NUMBER.findall(value)]
    if len(numbers) != 4:
        return None
    return numbers[0], numbers[1], numbers[2], numbers[3]


def serialize(root: ET.Element) -> str:
    """Deterministic XML text: attribute order as stored, SVG as the default namespace, xlink declared."""
    parts: list[str] = []
    _write(root, parts, SVG_NS, is_root=True)
    return "".join(parts) + "\n"


def _write(el: ET.Element, parts: list[str], default_ns: str, *, is_root: bool = False) -> None:
    ns, name = split_tag(el.tag)
    attrs: list[str] = []
    if is_root:
        attrs.append(f'xmlns="{SVG_NS}"')
        attrs.append(f'xmlns:xlink="{XLINK_NS}"')
    elif ns is not None and ns != default_ns:
        attrs.append(f'xmlns="{ns}"')
    for key, value in el.attrib.items():
        attr_ns, attr = split_tag(key)
        qualified = {XLINK_NS: "xlink:", XML_NS: "xml:"}.get(attr_ns or "", "") + attr
        attrs.append(f'{qualified}="{_escape_attr(value)}"')
    child_ns = ns or default_ns
    parts.append(f"<{name}" + "".join(" " + a for a in attrs))
    if el.text is None and len(el) == 0:
        parts.append("/>")
    else:
        parts.append(">")
        if el.text:
            parts.append(_escape_text(el.text))
        for child in el:
            _write(child, parts, child_ns)
        parts.append(f"</{name}>")
    if el.tail and not is_root:
        parts.append(_escape_text(el.tail))


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return _escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
