"""Field HTML → Markdown → our renderer: the text a learner reads survives the trip, and the Markdown is readable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from builder.figures import Figures
from builder.importer.html2md import FieldContext, convert_field
from builder.importer.layout import original_visible
from builder.markdown import parser
from builder.media import MediaLibrary
from builder.render import _renderer

TRICKY = [
    "5 * 3 = 15, snake_case, _x_ and __y__",
    "[1] [see](here) &lt;not a tag&gt; &amp;lt; &copy; $5 and $6 $x$",
    "# not a heading<br>1. not a list<br>- nor this<br>+ nor this<br>> nor a quote<br>===<br>---",
    "a\\b \\\\ `tick` ~~strike~~ | pipe",
    "{{c1::Madrid::city}} and {{c2::<b>Spain</b>}}",
    "\\( x < y \\) and \\[ \\frac{a}{b} \\]",
    "<b>bold</b> <i>it</i> <u>under</u> H<sub>2</sub>O x<sup>2</sup> <code>a_b*c</code>",
    "<div>line one</div><div>line two</div><div><br></div><div>new paragraph</div>",
    "<ul><li>a <b>b</b></li><li>c<ul><li>nested</li></ul></li></ul>",
    "<table><tr><td>a | b</td><td>*c*</td></tr><tr><td>1</td><td>2</td></tr></table>",
    "<pre>if (a &lt; b) {\n  return \\(x\\);\n}</pre>",
    '<span style="color: red; font-weight: bold">red</span> <font color="blue">blue</font>',
    "[latex]x_1^2[/latex] and [$]y[/$]",
    "<h1>Title</h1><h2>Sub</h2><h4>Small</h4>text",
    "ending with a hash #",
]


def _render(markdown: str, media: Path) -> str:
    env: dict[str, Any] = {"media": MediaLibrary(media), "used": {}, "figures": Figures(), "path": "x.md"}
    return str(_renderer().render(parser().parse(markdown, env), parser().options, env))


@pytest.mark.parametrize("html", TRICKY)
def test_visible_text_survives(html: str, tmp_path: Path) -> None:
    converted = convert_field(html, FieldContext({}))
    assert not converted.dropped
    assert original_visible(_render(converted.markdown, tmp_path)) == original_visible(html), converted.markdown


def test_markdown_reads_like_markdown() -> None:
    ctx = FieldContext({"pic one.png": "deck/pic-one.png"}, frozenset({"Back Extra"}))
    assert convert_field("<b>bold</b> and <i>it</i>", ctx).markdown == "**bold** and *it*"
    assert convert_field('see <img src="pic one.png">', ctx).markdown == "see ![](deck/pic-one.png)"
    assert convert_field("\\(x^2\\)", ctx).markdown == "$x^2$"
    assert convert_field("<h3>Back Extra</h3>", ctx).markdown == "<h3>Back Extra</h3>", "a field name stays HTML"
    assert convert_field("<h3>Other</h3>", ctx).markdown == "### Other"
    assert convert_field("one<br>two", ctx).markdown == "one\\\ntwo"
    assert convert_field("one<br>two", ctx).inline is False
    assert convert_field("{{c1::x}} y", ctx).inline is True


def test_what_cannot_come_along_is_reported() -> None:
    converted = convert_field(
        '<script>x()</script><iframe src="https://e.com"></iframe><p onclick="y()" class="k">t</p>'
        '<img src="missing.png"><img src="https://e.com/a.png"><a href="javascript:z()">l</a>',
        FieldContext({}),
    )
    assert converted.markdown == "t\n\nl"
    assert set(converted.dropped) == {
        "`<script>` element",
        "`<iframe>` element",
        "event handler `onclick`",
        "`class` attribute",
        "image `missing.png` (not a file in the package)",
        "image `https://e.com/a.png` (not a file in the package)",
        "link to `javascript:z()` (only http, https and mailto links are kept)",
    }
