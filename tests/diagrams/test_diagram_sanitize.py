"""The sanitiser removes everything active or external, renames ids deterministically and fixes the root."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from diagram_testkit import SMALL

from builder.diagrams import ENGINES
from builder.diagrams.base import DiagramError
from builder.diagrams.sanitize import BACKGROUND, check_svg_safe, sanitize_svg

NASTY = """<?xml version="1.0"?>
<?xml-stylesheet href="http://evil.example/x.css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:foo="urn:foo"
     width="100%" viewBox="0 0 200 100" onload="alert(1)" style="background: url(http://evil.example/bg.png)">
  <!-- a comment -->
  <script>alert('inline')</script>
  <script xlink:href="http://evil.example/x.js"/>
  <style>@import url("http://evil.example/a.css");
    #a { fill: url(#grad); } #b:hover { fill: #abc } .x { background: url(http://evil.example/t.png); }
    @font-face { font-family: f; src: url("data:font/woff2;base64,AAAA"); }</style>
  <defs>
    <linearGradient id="grad"><stop offset="0" stop-color="#000"/></linearGradient>
    <filter id="f"><feImage xlink:href="http://evil.example/i.png"/></filter>
  </defs>
  <a xlink:href="javascript:alert(1)"><text id="a" x="10" y="20" onclick="steal()">Click <tspan>me</tspan></text></a>
  <a href="https://example.com">before<rect id="b" width="5" height="5" fill="url(#grad)" filter="url(#f)"/></a>after
  <image href="http://evil.example/p.png" width="10" height="10"/>
  <image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>
  <image xlink:href="data:image/svg+xml;base64,PHN2Zz4=" width="10" height="10"/>
  <use xlink:href="#a"/><use href="other.svg#x"/>
  <set attributeName="href" to="javascript:alert(1)"/>
  <animate attributeName="onclick" to="alert(1)"/>
  <foreignObject width="50" height="20"><div xmlns="http://www.w3.org/1999/xhtml" onmouseover="x()">Hi
    <b>there</b><iframe src="http://evil.example"/><img src="http://evil.example/x.png"/><a href="http://x">link</a>
  </div></foreignObject>
  <foo:bar>junk</foo:bar>
  <rect foo:attr="1" id="c" style="fill:url(http://evil.example/p#x); stroke: url(#grad)" aria-labelledby="a b"/>
</svg>
"""


def test_nasty_svg_is_flagged_then_cleaned() -> None:
    problems = check_svg_safe(NASTY)
    joined = "\n".join(problems)
    for expected in ("<script>", "onload", "onclick", "onmouseover", "http://evil.example/x.js", "<iframe>", "@import"):
        assert expected in joined

    out = sanitize_svg(NASTY, id_prefix="n")
    assert check_svg_safe(out) == []
    lowered = out.lower()
    for gone in ("<script", "onload", "onclick", "onmouseover", "evil.example", "javascript:", "<iframe", "<img",
                 "<set", "<animate", "<a ", "<a>", "foo:", "junk", "svg+xml", "@import", "<!--", "<?xml"):  # fmt: skip
        assert gone not in lowered, gone
    # Link text and the harmless parts survive.
    assert "Click <tspan>me</tspan>" in out
    assert "before<rect" in out and "after" in out
    assert re.search(r">link\s*</div>", out) and "<b>there</b>" in out
    assert "data:image/png;base64" in out
    assert 'url("data:font/woff2;base64,AAAA")' in out


def test_ids_and_references_are_renamed_in_document_order() -> None:
    out = sanitize_svg(NASTY, id_prefix="n")
    ids = re.findall(r'\sid="([^"]+)"', out)
    assert ids == ["n-1", "n-2", "n-3", "n-4", "n-5"]  # grad, f, a, b, c
    assert 'fill="url(#n-1)"' in out and 'filter="url(#n-2)"' in out
    assert 'xlink:href="#n-3"' in out
    assert 'aria-labelledby="n-3 n-4"' in out
    assert "stroke: url(#n-1)" in out
    assert "#n-3 { fill: url(#n-1); }" in out
    assert "#n-4:hover { fill: #abc }" in out  # the colour is not an id


def test_output_is_deterministic_and_prefixes_never_clash() -> None:
    raw = ENGINES["mermaid"].render(SMALL["mermaid"], timeout=60)
    one = sanitize_svg(raw, id_prefix="card1-d1")
    assert sanitize_svg(raw, id_prefix="card1-d1") == one
    two = sanitize_svg(raw, id_prefix="card1-d2")
    ids_one = set(re.findall(r'\sid="([^"]+)"', one))
    ids_two = set(re.findall(r'\sid="([^"]+)"', two))
    assert ids_one and all(i.startswith("card1-d1-") for i in ids_one)
    assert not ids_one & ids_two
    assert "my-svg" not in one  # mermaid's fixed id is gone, also from its <style>


@pytest.mark.parametrize("lang", ["dot", "mermaid", "d2"])
def test_root_has_a_size_a_viewbox_and_a_white_backdrop(lang: str) -> None:
    out = sanitize_svg(ENGINES[lang].render(SMALL[lang], timeout=60), id_prefix="r")
    root = ET.fromstring(out)
    box = [float(v) for v in root.attrib["viewBox"].replace(",", " ").split()]
    width = float(re.sub(r"pt$", "", root.attrib["width"]))
    height = float(re.sub(r"pt$", "", root.attrib["height"]))
    assert width / height == pytest.approx(box[2] / box[3], rel=0.01)
    assert "style" not in root.attrib
    backdrop = root[0]
    assert backdrop.tag.endswith("rect") and backdrop.get("fill") == BACKGROUND
    assert [float(backdrop.get(k, "nan")) for k in ("x", "y", "width", "height")] == pytest.approx(box, abs=0.001)


def test_size_limit_is_enforced_after_sanitising() -> None:
    rects = "".join(f'<rect x="{i}" y="0" width="1" height="1"/>' for i in range(60_000))
    big = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">{rects}</svg>'
    with pytest.raises(DiagramError, match="MB"):
        sanitize_svg(big, id_prefix="b")
    assert sanitize_svg(big, id_prefix="b", max_bytes=10 * 1024 * 1024)


@pytest.mark.parametrize(
    "bad",
    [
        '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        "<svg xmlns='http://www.w3.org/2000/svg'><g></svg>",
        "<html><body/></html>",
        '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',  # no viewBox, no size
    ],
)
def test_unusable_svg_is_rejected(bad: str) -> None:
    with pytest.raises(DiagramError):
        sanitize_svg(bad, id_prefix="x")


def test_svg_without_namespace_gets_one() -> None:
    out = sanitize_svg('<svg width="10" height="5"><rect width="1" height="1"/></svg>', id_prefix="x")
    assert out.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'viewBox="0 0 10 5"' in out


def test_bad_prefix_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="id_prefix"):
        sanitize_svg('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>', id_prefix="1 bad")
