"""Legibility: the size an SVG and its smallest label are drawn at on a phone and a desktop, as Anki sizes them.

The measurements are checked against hand-written SVGs (each CSS rule that engines use), against real renders
of every engine, and against what Chromium itself computes for the same SVGs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from builder.cli import main
from builder.diagrams import ENGINES
from builder.diagrams.legibility import DESKTOP, PHONE, Placement, rendering, scale_on, svg_facts
from builder.diagrams.sanitize import sanitize_svg
from builder.diagrams.svgtext import text_runs
from builder.diagrams.svgxml import parse_svg
from builder.figurelint import legibility_problem
from tests.conftest import REPO
from tests.test_preview import _run_browser

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {vw} {vh}">{body}</svg>'


def _svg(body: str, w: str = "400", h: str = "200", vw: float = 400, vh: float = 200) -> str:
    return SVG.format(w=w, h=h, vw=vw, vh=vh, body=body)


CASCADE_CASES = [
    ('<text font-size="10">a</text><text font-size="14">b</text>', 10.0),
    ('<text style="font-size: 9px" font-size="20">inline style beats the attribute</text>', 9.0),
    ('<style>.e{font-size:8px}</style><text class="e" font-size="20">a rule beats the attribute</text>', 8.0),
    ('<style>.e{font-size:8px}</style><text class="e" style="font-size:13px">inline beats a rule</text>', 13.0),
    ('<style>#r .lbl text{font-size:7px}</style><g id="r"><g class="lbl"><text>descendant</text></g></g>', 7.0),
    ("<style>g > text{font-size:6px}</style><g><g><text>child</text></g></g><text>not a child</text>", 6.0),
    ('<style>.a text{font-size:6px} .a.b text{font-size:12px}</style><g class="a b"><text>x</text></g>', 12.0),
    ('<g font-size="20"><text font-size="0.5em">em of the parent</text></g>', 10.0),
    ('<g style="font-size:24px"><text><tspan font-size="50%">half</tspan></text></g>', 12.0),
    ('<g transform="scale(0.5)"><text font-size="16">scaled group</text></g>', 8.0),
    ('<g transform="translate(5 5) rotate(90) scale(2 0.5)"><text font-size="10">a b</text></g>', 10.0),
    ('<text font-size="9pt">points</text>', 12.0),
    ('<text font-size="0.125in">inches</text><text style="font-size: x-large">keyword</text>', 12.0),
    ('<text font-size="1em">relative to the root</text><text font-size="250%">percent</text>', 16.0),
    ("<text>default 16 px</text>", 16.0),
    ('<defs><text font-size="2">never drawn</text></defs><text font-size="12">drawn</text>', 12.0),
    ('<text font-size="4"> </text><text font-size="12">empty text is no label</text>', 12.0),
    ('<svg x="0" y="0" width="200" height="100" viewBox="0 0 400 200"><text font-size="20">n</text></svg>', 10.0),
]


@pytest.mark.parametrize(("body", "expected"), CASCADE_CASES)
def test_smallest_font_size_follows_the_cascade(body: str, expected: float) -> None:
    facts = svg_facts(_svg(body))
    assert facts.smallest_text == pytest.approx(expected)


def test_root_size_in_points_and_viewbox_units() -> None:
    # Graphviz: width in pt, viewBox in pt, font sizes in pt-sized user units.
    facts = svg_facts(_svg('<text font-size="14">node</text>', w="300pt", h="150pt", vw=300, vh=150))
    assert (facts.width, facts.height) == (pytest.approx(400), pytest.approx(200))
    assert facts.smallest_text == pytest.approx(14 * 4 / 3)
    # A viewBox twice the drawn size halves every font.
    facts = svg_facts(_svg('<text font-size="20">n</text>', w="200", h="100", vw=400, vh=200))
    assert facts.smallest_text == pytest.approx(10)


def test_labels_in_reading_order_with_graphviz_lines_joined() -> None:
    """Rows top to bottom, each left to right, whatever order the engine wrote them in; repeats once."""
    body = (
        '<text x="300" y="20">Model</text><text x="10" y="22">User</text>'  # one row, written right to left
        '<g class="node"><text x="100" y="80">Action group</text><text x="100" y="98">(API via Lambda)</text></g>'
        '<g transform="translate(0 200)"><text x="50" y="0">repeat</text></g><text x="10" y="60">Plan</text>'
        '<text x="60" y="300">repeat</text>'
    )
    facts = svg_facts(f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g>{body}</g></svg>')
    assert facts.labels == ("User", "Model", "Plan", "Action group (API via Lambda)", "repeat")


@pytest.mark.parametrize(
    ("size", "phone", "desktop"),
    [
        ((300, 200), 1.0, 1.0),  # fits: never enlarged
        ((764, 100), 0.5, 1.0),  # twice the phone's 382 px
        ((1600, 100), 382 / 1600, 0.5),  # wider than the 800 px column too
        ((100, 0.95 * 673 * 2), 0.5, 0.95 * 773 / (0.95 * 673 * 2)),  # twice the phone's 95vh
    ],
)
def test_scale_is_the_tightest_of_width_height_and_one(size: tuple[float, float], phone: float, desktop: float) -> None:
    facts = svg_facts(_svg("<text>x</text>", w=str(size[0]), h=str(size[1]), vw=size[0], vh=size[1]))
    assert scale_on(facts, PHONE) == pytest.approx(phone)
    assert scale_on(facts, DESKTOP) == pytest.approx(desktop)
    shot = rendering(facts, PHONE)
    assert shot.smallest_px == pytest.approx(16 * phone)
    assert (shot.width, shot.height) == (pytest.approx(size[0] * phone), pytest.approx(size[1] * phone))


def test_occlusion_images_fill_the_width_or_55vh() -> None:
    tall = svg_facts(_svg("<text>x</text>", w="300", h="800", vw=300, vh=800))
    assert scale_on(tall, PHONE, Placement.CARD) == pytest.approx(0.95 * 673 / 800)
    assert scale_on(tall, PHONE, Placement.OCCLUSION) == pytest.approx(0.55 * 673 / 800)
    # A small occluded image is enlarged, to the width on a phone and to the height cap on a desktop.
    small = svg_facts(_svg("<text>x</text>", w="300", h="200", vw=300, vh=200))
    assert scale_on(small, PHONE, Placement.CARD) == 1.0
    assert scale_on(small, PHONE, Placement.OCCLUSION) == pytest.approx(382 / 300)
    assert scale_on(small, DESKTOP, Placement.OCCLUSION) == pytest.approx(0.55 * 773 / 200)


def test_occlusion_cap_matches_the_deck_stylesheet() -> None:
    css = (REPO / "builder" / "notetypes" / "card.css").read_text()
    rule = re.search(r"#image-occlusion-container\s*\{([^}]*)\}", css)
    assert rule, "the deck's stylesheet sizes the occlusion container"
    cap = re.search(r"max-height:\s*([\d.]+)vh", rule.group(1))
    assert cap and float(cap.group(1)) / 100 == Placement.OCCLUSION.max_height
    assert re.search(r"max-width:\s*min\(100%,\s*800px\)", rule.group(1)), "the column the phone and desktop use"


def test_an_svg_without_a_size_fills_the_card() -> None:
    facts = svg_facts('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50"><text>x</text></svg>')
    assert not facts.sized
    assert scale_on(facts, PHONE) == pytest.approx(3.82)


def test_problem_says_which_limit_shrinks_the_diagram() -> None:
    wide = svg_facts(_svg('<text font-size="14">wide</text>', w="900", h="100", vw=900, vh=100))
    message = legibility_problem(wide, Placement.CARD)
    assert message is not None
    assert "`wide` (14 px)" in message and "5.9 px on a phone (400 px wide), scaled to 0.42" in message
    assert "It is 900 px wide and the phone has 382 px: make it narrower" in message
    assert "desktop" not in message.split(". It is")[0], "800 px of the desktop fit it"

    tall = svg_facts(_svg('<text font-size="14">tall</text>', w="300", h="1400", vw=300, vh=1400))
    message = legibility_problem(tall, Placement.CARD)
    assert message is not None and "on a desktop (1280 px wide)" in message
    assert "It is 1400 px tall and the phone shows at most 639 px: make it shorter" in message

    tiny = svg_facts(_svg('<text font-size="8">tiny</text>'))
    message = legibility_problem(tiny, Placement.CARD)
    assert message is not None and "Make its labels larger" in message

    fine = svg_facts(_svg('<text font-size="16">fine</text>', w="500", h="300", vw=500, vh=300))
    assert legibility_problem(fine, Placement.CARD) is None  # 16 x 382/500 = 12.2 px


#: One small diagram per engine with an edge label, the text that shrinks first.
ENGINE_DIAGRAMS = {
    "dot": (
        'digraph G { node [fontsize=14]; edge [fontsize=10]; a [label="Tokenizer"]; b [label="Sampler"];'
        ' a -> b [label="edge"]; }'
    ),
    "mermaid": "flowchart TD\n  A[Tokenizer] -->|edge| B[Sampler]\n",
    "d2": "a: Tokenizer\nb: Sampler\na -> b: edge\n",
}


def _rendered(lang: str) -> str:
    return sanitize_svg(ENGINES[lang].render(ENGINE_DIAGRAMS[lang], timeout=60), id_prefix="t")


@pytest.mark.parametrize("lang", sorted(ENGINE_DIAGRAMS))
def test_real_engines_are_measured(lang: str) -> None:
    facts = svg_facts(_rendered(lang))
    assert facts.width > 50 and facts.height > 50
    expected = {"dot": 10 * 4 / 3, "mermaid": 16.0, "d2": 16.0}[lang]
    assert facts.smallest_text == pytest.approx(expected)
    assert {"Tokenizer", "Sampler", "edge"} <= set(facts.labels)


_MEASURE = """
<script>
addEventListener("load", () => {
  const svg = document.querySelector("svg");
  const runs = [];
  for (const el of svg.querySelectorAll("text, tspan")) {
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join(" ").trim();
    if (!own || el.closest("defs")) continue;
    const m = el.getScreenCTM();
    runs.push(parseFloat(getComputedStyle(el).fontSize) * Math.sqrt(Math.abs(m.a * m.d - m.b * m.c)));
  }
  const boxes = [...svg.querySelectorAll(".edgeLabel rect")].map(r => {
    const s = getComputedStyle(r);
    return [s.opacity, s.fill];
  });
  const box = svg.getBoundingClientRect();
  document.body.dataset.result = JSON.stringify({runs, boxes, width: box.width, height: box.height});
});
</script>
"""
#: Every cascade case above in one document: Chromium and the builder must agree on each of its texts.
CASCADE = _svg("".join(f"<g>{body}</g>" for body, _ in CASCADE_CASES), w="300pt", h="150pt", vw=400, vh=200)


def test_chromium_agrees_with_the_measurements(tmp_path: Path) -> None:
    """What the browser computes for the same SVGs at their intrinsic size: each text's font size, the size."""
    svgs = {lang: _rendered(lang) for lang in ENGINE_DIAGRAMS} | {"cascade": CASCADE}
    pages: dict[str, list[str]] = {}
    for name, svg in svgs.items():
        page = tmp_path / f"{name}.html"
        page.write_text(f"<!doctype html><html><body style='margin:0'>{svg}{_MEASURE}</body></html>")
        pages[name] = ["--dump-dom", page.as_uri()]
    out = _run_browser(pages, tmp_path)
    for name, dom in out.items():
        found = re.search(r'data-result="([^"]+)"', dom)
        assert found, dom[:500]
        result = json.loads(found.group(1).replace("&quot;", '"'))
        runs = [r.size for r in text_runs(parse_svg(svgs[name]))]
        assert len(runs) >= 3
        assert result["runs"] == pytest.approx(runs, abs=0.05), name
        facts = svg_facts(svgs[name])
        assert (result["width"], result["height"]) == (
            pytest.approx(facts.width, abs=1),
            pytest.approx(facts.height, abs=1),
        )
        if name == "mermaid":
            # Edge labels sit on opaque white, so the edge does not show through the words.
            assert result["boxes"] and all(b == ["1", "rgb(255, 255, 255)"] for b in result["boxes"]), result["boxes"]


def test_an_svg_image_from_media_is_checked_where_it_is_referenced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = tmp_path / "source" / "deck"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Images"\nid = 77\nversion = "1.0.0"\n')
    (deck / "notes.md").write_text(
        "## What does the wide chart show?\n<!-- id: wide-chart -->\n\nThe stack: ![stack](wide.svg)\n\n"
        "## What does the small chart show?\n<!-- id: small-chart -->\n\n![small](small.svg)\n\n"
        "## What does the photo show?\n<!-- id: photo -->\n\n![photo](photo.png)\n"
    )
    media = tmp_path / "media"
    media.mkdir()
    (media / "wide.svg").write_text(_svg('<text font-size="14">client</text>', w="1200", h="100", vw=1200, vh=100))
    (media / "small.svg").write_text(_svg('<text font-size="14">fits</text>', w="300", h="100", vw=300, vh=100))
    shutil.copy(REPO / "tests" / "fixtures" / "starter" / "media" / "pipeline.png", media / "photo.png")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "text"]) == 0
    err = capsys.readouterr().err
    warnings = re.findall(r"^(\S+): warning\[L006\]: (.*)$", err, re.MULTILINE)
    assert [where for where, _ in warnings] == ["source/deck/notes.md:4:21"], err
    assert "`client` (14 px), would be 4.5 px on a phone" in warnings[0][1]
    assert main(["check", "--strict", "--format", "text"]) == 1
