"""HTML in notes: a raw HTML fragment → what the policy removes from it; a rendered field → the sanitised field.

Both run on justhtml's HTML5 parser, which reads markup exactly as a browser does (`<img src=x/onerror=...>`,
entity-encoded or newline-split `javascript:`, attributes without quotes), so what is checked is what Anki's
web view would see. `inspect_fragment` reports (validation, with the place in the note); `clean_field`
enforces (rendering, on the whole field, so a construct split over several raw HTML tokens is caught too).
Both follow builder.sanitize.policy.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Literal

from builder.sanitize.policy import (
    ACTIVE_URL,
    CSS_PROPERTIES,
    ELEMENT,
    HANDLER,
    HTML_ATTRIBUTES,
    HTML_DROP_CONTENT,
    HTML_FORBIDDEN,
    HTML_TAGS,
    LINK_SCHEMES,
    REMOTE,
    UNKNOWN_ATTRIBUTE,
    UNKNOWN_ELEMENT,
    URL_ATTRIBUTES,
    Finding,
    Verdict,
    inspect_style,
    link_problem,
    url_scheme,
)

if TYPE_CHECKING:
    # justhtml (an HTML5 parser, a twentieth of a second to import) loads with the first note that has HTML.
    from justhtml import JustHTML, SanitizationPolicy
    from justhtml.dom import Element, Node

#: Why each forbidden element cannot ship, for the message.
_WHY: dict[str, str] = {
    "script": "it runs script on the learner's device",
    "noscript": "it only matters where script runs",
    "iframe": "it embeds another document, which can run script",
    "frame": "it embeds another document, which can run script",
    "frameset": "it embeds other documents, which can run script",
    "object": "it embeds another document or plugin, which can run script",
    "embed": "it embeds a plugin or document, which can run script",
    "applet": "it runs a plugin",
    "meta": "it changes the whole page (a refresh can load a remote page)",
    "base": "it changes where every link and image of the card points",
    "link": "it loads a remote stylesheet or document",
    "style": "it restyles every card on the screen; card styling belongs to the deck's CSS",
    "svg": "inline SVG is not sanitised in a note; save it as a file in media/ and use ![alt](file.svg)",
    "math": "inline MathML is not supported; write math as $...$ (MathJax)",
}
_DEFAULT_WHY = "cards are plain formatted text, images and links; forms, media players and templates cannot ship"


@dataclass
class Inspection:
    """What `inspect_fragment` found: the findings, and every local image (`<img src>`) the fragment uses."""

    findings: list[Finding] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def _parse(html: str) -> JustHTML:
    from justhtml import JustHTML

    return JustHTML(html, fragment=True, sanitize=False, track_node_locations=True)


def inspect_fragment(html: str) -> Inspection:
    """Every element, attribute, URL and style in `html` the policy would remove, with its line and column."""
    found = Inspection()
    _walk(_parse(html).root, found)
    _cross_check(html, found)
    # A fragment parser merges these into the page's own elements (a <body onload> sets the card's handler),
    # so they never appear in the parsed fragment: find the tags themselves.
    for match in _PAGE_TAG.finditer(html):
        line = html.count("\n", 0, match.start()) + 1
        col = match.start() - (html.rfind("\n", 0, match.start()) + 1) + 1
        name = match.group(1).lower()
        found.findings.append(
            Finding(
                ELEMENT, Verdict.ERROR, f"found a `<{name}>` tag; expected none, because it changes the page the "
                "card is shown in (its attributes land on Anki's own page). Remove it", line, col, f"<{name}",
            )
        )  # fmt: skip
    return found


def _cross_check(html: str, found: Inspection) -> None:
    """Anything the enforcing sanitiser would remove where the walk above reported nothing, as a warning.

    The two follow the same tables, so this should find nothing; it makes sure no removal is ever silent.
    """
    from justhtml import JustHTML

    collecting = _policy("collect")
    with _resolving(lambda src: src):
        JustHTML(html, fragment=True, sanitize=True, policy=collecting, track_node_locations=True)
    reported = {(f.line, f.col) for f in found.findings}
    for error in collecting.collected_security_errors():
        where = (error.line or 1, error.column or 1)
        if error.message == "Dropped comment" or where in reported:
            continue  # a comment shows nothing on the card either way
        found.findings.append(
            Finding(
                UNKNOWN_ATTRIBUTE, Verdict.WARNING, f"found markup the content policy removes ({error.message}); "
                "expected plain formatting. Rewrite it so that it shows as intended", *where,
            )
        )  # fmt: skip
        reported.add(where)


_PAGE_TAG = re.compile(r"<(html|head|body)(?=[\s/>])", re.IGNORECASE)


def _children(node: Node) -> Iterator[Node]:
    yield from getattr(node, "children", None) or ()
    content = getattr(node, "template_content", None)
    if content is not None:
        yield from getattr(content, "children", None) or ()


def _walk(node: Node, found: Inspection) -> None:
    from justhtml.dom import Element

    for child in _children(node):
        if not isinstance(child, Element):
            continue
        name = child.name.lower()
        line, col = child.origin_line or 1, child.origin_col or 1
        foreign = child.namespace not in (None, "html")
        if foreign or name in HTML_FORBIDDEN:
            why = _WHY.get(name, _DEFAULT_WHY)
            found.findings.append(
                Finding(
                    ELEMENT, Verdict.ERROR, f"found a `<{name}>` element; expected none, because {why}. Remove it",
                    line, col, f"<{name}",
                )
            )  # fmt: skip
            if foreign or name in HTML_DROP_CONTENT:
                continue
        elif name not in HTML_TAGS:
            found.findings.append(
                Finding(
                    UNKNOWN_ELEMENT, Verdict.WARNING,
                    f"found an unknown element `<{name}>`; it was removed and its text kept. Expected plain "
                    "formatting (b, i, code, table, ...) or Markdown", line, col, f"<{name}",
                )
            )  # fmt: skip
        else:
            _attributes(child, name, line, col, found)
        _walk(child, found)


def _attributes(element: Element, name: str, line: int, col: int, found: Inspection) -> None:
    allowed = HTML_ATTRIBUTES["*"] | HTML_ATTRIBUTES.get(name, frozenset())
    for raw_attr, raw_value in (element.attrs or {}).items():
        attr, value = raw_attr.lower(), raw_value or ""

        def add(code: str, verdict: Verdict, message: str, attr: str = attr) -> None:
            found.findings.append(Finding(code, verdict, message, line, col, attr))

        if attr.startswith("on"):
            add(HANDLER, Verdict.ERROR, f"found the event handler `{attr}` on `<{name}>`; expected no event "
                "handlers, because they run script on the learner's device. Remove it")  # fmt: skip
        elif attr == "style":
            report = inspect_style(value)
            for code, what in report.errors:
                add(code, Verdict.ERROR, f"found {what} on `<{name}>`; expected plain CSS without url(), "
                    "expression() or @import, because a card must not load anything. Remove it")  # fmt: skip
            if report.dropped:
                dropped = ", ".join(report.dropped)
                add(UNKNOWN_ATTRIBUTE, Verdict.WARNING, f"found the CSS {dropped} on `<{name}>`, which was "
                    "removed; expected text and box styles such as color, font-weight or text-align")  # fmt: skip
        elif attr in URL_ATTRIBUTES and (name, attr) not in (("a", "href"), ("img", "src")):
            scheme = url_scheme(value)
            if scheme in ("http", "https", "//"):
                add(REMOTE, Verdict.ERROR, f"found a remote reference in `{attr}` on `<{name}>`; expected nothing "
                    "loaded from the network, because Anki shows cards offline. Remove it")  # fmt: skip
            elif scheme is not None:
                add(ACTIVE_URL, Verdict.ERROR, f"found a `{scheme}:` URL in `{attr}` on `<{name}>`; expected none, "
                    "because such URLs run script or open documents. Remove it")  # fmt: skip
            else:
                add(UNKNOWN_ATTRIBUTE, Verdict.WARNING, f"found the attribute `{attr}` on `<{name}>`, which was "
                    "removed; expected only attributes that format text")  # fmt: skip
        elif name == "a" and attr == "href":
            problem = link_problem(value)
            if problem is not None:
                add(ACTIVE_URL, Verdict.ERROR, f"found {problem}. Remove it or link to a web page")
        elif name == "img" and attr == "src":
            scheme = url_scheme(value)
            if scheme in ("http", "https", "//"):
                add(REMOTE, Verdict.ERROR, f"found the remote image `{value[:80]}`; expected a file inside media/, "
                    "because Anki shows cards offline. Download it into media/ and reference it by name")  # fmt: skip
            elif scheme is not None:
                add(ACTIVE_URL, Verdict.ERROR, f"found a `{scheme}:` image source; expected a file inside media/. "
                    "Save the image into media/ and reference it by name")  # fmt: skip
            else:
                found.images.append(value)
        elif attr not in allowed:
            add(UNKNOWN_ATTRIBUTE, Verdict.WARNING, f"found the attribute `{attr}` on `<{name}>`, which was "
                f"removed; expected only {', '.join(sorted(allowed))}")  # fmt: skip


# -- enforcing ---------------------------------------------------------------------------------------------

#: Maps an `<img src>` of the field being cleaned to its packaged media name (None drops it).
MediaResolver = Callable[[str], "str | None"]
_RESOLVER: contextvars.ContextVar[MediaResolver | None] = contextvars.ContextVar("media_resolver", default=None)


def _url_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        resolve = _RESOLVER.get()
        return resolve(value) if resolve is not None else None
    return value


@cache
def _policy(unsafe_handling: Literal["strip", "collect"]) -> SanitizationPolicy:
    """ "strip" enforces the policy on rendered fields; "collect" is the same policy, reporting what it removes:
    the check that nothing is removed without a diagnostic."""
    from justhtml import SanitizationPolicy, UrlPolicy, UrlRule

    return SanitizationPolicy(
        allowed_tags=sorted(HTML_TAGS),
        allowed_attributes={tag: sorted(attrs) for tag, attrs in HTML_ATTRIBUTES.items()},
        url_policy=UrlPolicy(
            default_handling="strip",
            allow_rules={
                ("a", "href"): UrlRule(allowed_schemes=sorted(LINK_SCHEMES), handling="allow", allow_relative=True),
                ("img", "src"): UrlRule(
                    allowed_schemes=[], handling="allow", allow_relative=True, resolve_protocol_relative=None
                ),
            },
            url_filter=_url_filter,
        ),
        allowed_css_properties=sorted(CSS_PROPERTIES),
        drop_content_tags=sorted(HTML_DROP_CONTENT),
        disallowed_tag_handling="unwrap",
        # Zero-width and bidi characters are the author's text: they stay (the other checks see them).
        strip_invisible_unicode=False,
        unsafe_handling=unsafe_handling,
    )


@contextlib.contextmanager
def _resolving(resolve: MediaResolver) -> Iterator[None]:
    token = _RESOLVER.set(resolve)
    try:
        yield
    finally:
        _RESOLVER.reset(token)


def clean_field(html: str, resolve: MediaResolver) -> str:
    """`html` with everything outside the policy removed; each `<img src>` replaced by `resolve(src)`."""
    from justhtml import JustHTML

    with _resolving(resolve):
        return JustHTML(html, fragment=True, sanitize=True, policy=_policy("strip")).to_html(pretty=False)
