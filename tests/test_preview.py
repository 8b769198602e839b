"""The HTML preview: built packages rendered by the real Anki backend, then opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path

import pytest

from builder.preview import PreviewError, write_preview
from tests.conftest import EPOCH, build_deck

STARTER_ORDER = [
    ("anki-schedules", "Card 1"),
    ("spaced-repetition", "Forward"),
    ("spaced-repetition", "Reverse"),
    ("python-sorted", "Card 1"),
    ("quadratic-formula", "Card 1"),
    ("pipeline-image", "Card 1"),
    ("build-stages", "Cloze 1"),
    ("build-stages", "Cloze 2"),
    ("build-stages", "Cloze 3"),
    ("cloze-table", "Cloze 1"),
    ("cloze-table", "Cloze 2"),
    ("cloze-title", "Cloze 1"),
]

# A deck beside the starter one: an SVG image (what diagrams ship as) and names with the one HTML metacharacter
# names may hold (`<`, `>` and quotes are refused: Anki would put them into the card's HTML as they are).
EXTRA_DECK = """name = "Extra & Co"
id = 1700000000777
version = "1.0.0"
"""
EXTRA_NOTES = """---
deck: Q&A::R&D
tags: [extra]
---

## Which shapes does the flow chart use?
<!-- id: flow-chart
type: reverse -->

![The flow](flow.svg)
"""
FLOW_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120" viewBox="0 0 240 120">
<rect x="10" y="10" width="100" height="60" fill="#2f81f7"/><circle cx="180" cy="60" r="40" fill="#d1242f"/>
</svg>
"""
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
)


class _Page(HTMLParser):
    """What the tests look at: each card item's attributes, its Anki `.card` faces, and every URL attribute."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, str]] = []
        self.faces: list[int] = []
        self.urls: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.diagrams: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = values.get("class", "").split()
        if "pv-item" in classes:
            self.items.append(values)
            self.faces.append(0)
        if "card" in classes:
            self.faces[-1] += 1
        self.urls += [(tag, name, values[name]) for name in ("src", "href", "srcset", "action") if name in values]
        if tag == "img":
            self.images.append(values.get("src", ""))
            if "diagram" in classes:
                self.diagrams.append(values.get("src", ""))


def _build_extra(root: Path) -> Path:
    deck = root / "source" / "extra"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text(EXTRA_DECK, encoding="utf-8")
    (deck / "notes & more.md").write_text(EXTRA_NOTES, encoding="utf-8")
    (root / "media").mkdir()
    (root / "media" / "flow.svg").write_text(FLOW_SVG, encoding="utf-8")
    assert build_deck(root / "source", root / "media", root / "dist") == 0
    return root / "dist" / "extra-1.0.0.apkg"


@pytest.fixture(scope="module")
def extra_apkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        return _build_extra(tmp_path_factory.mktemp("extra"))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def starter_page(starter_apkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_preview([starter_apkg], tmp_path_factory.mktemp("preview") / "preview")


@pytest.fixture(scope="module")
def mixed_page(starter_apkg: Path, extra_apkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_preview([starter_apkg, extra_apkg], tmp_path_factory.mktemp("mixed"))


def test_one_item_per_anki_card_in_deck_and_source_order(starter_page: Path) -> None:
    assert starter_page.name == "index.html"
    page = _Page(starter_page.read_text(encoding="utf-8"))
    assert [(item["data-id"], item["data-template"]) for item in page.items] == STARTER_ORDER
    assert page.faces == [2] * 12, "front and back each sit in an element with class card, as in Anki"
    decks = [item["data-deck"] for item in page.items]
    assert decks == ["Starter Deck::Basics"] * 6 + ["Starter Deck::Clozes"] * 6
    sources = {item["data-id"]: item["data-source"] for item in page.items}
    assert sources["anki-schedules"].endswith("starter/01-basics.md:8")
    assert sources["cloze-title"].endswith("starter/02-clozes.md:22")
    assert page.items[1]["data-tags"] == "fixture topic::basics topic::memory"


def test_cards_are_what_anki_renders(starter_page: Path) -> None:
    html = starter_page.read_text(encoding="utf-8")
    assert html.count("<style>/* Deckforge card stylesheet") == 1, "the notetype CSS is inlined once"
    assert ".nightMode .highlight" in html
    assert '<span class="cloze" data-cloze="Parse" data-ordinal="1">[...]</span>' in html
    assert '<span class="nb">sorted</span>' in html
    assert r"\(a^2 + b^2 = c^2\)" in html, "math stays as MathJax source: no MathJax offline"
    assert "12 of 12 cards" in html, "the count is right before any script runs"


def test_self_contained(starter_page: Path) -> None:
    html = starter_page.read_text(encoding="utf-8")
    page = _Page(html)
    assert page.images and all(src.startswith("data:image/") for src in page.images)
    assert sum(src.startswith("data:image/png;base64,") for src in page.images) == 1
    # Rendered diagrams ship as SVG media; this bites once the starter deck gains a diagram note.
    assert all(src.startswith("data:image/svg+xml;base64,") for src in page.diagrams)
    assert [u for u in page.urls if not u[2].startswith("data:")] == []
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"@import|url\(\s*[\"']?(?:https?:)?//", html, re.IGNORECASE)
    assert "Content-Security-Policy" in html and "default-src &#x27;none&#x27;" in html


def test_svg_media_and_escaping(mixed_page: Path) -> None:
    html = mixed_page.read_text(encoding="utf-8")
    page = _Page(html)
    assert len(page.items) == 14
    extra = [item for item in page.items if item["data-id"] == "flow-chart"]
    assert [item["data-deck"] for item in extra] == ["Extra & Co::Q&A::R&D"] * 2
    assert all(item["data-source"].endswith("extra/notes & more.md:6") for item in extra)
    assert "Q&amp;A::R&amp;D" in html, "names are text, escaped"
    svgs = [src for src in page.images if src.startswith("data:image/svg+xml;base64,")]
    assert len(svgs) == 3, "the reverse note's back: on the forward card's back, on both faces of the reverse card"


def test_deterministic_and_independent_of_package_order(
    starter_apkg: Path, extra_apkg: Path, mixed_page: Path, tmp_path: Path
) -> None:
    again = write_preview([extra_apkg, starter_apkg], tmp_path / "again")
    assert again.read_bytes() == mixed_page.read_bytes()


def test_missing_manifest_is_a_clear_error(starter_apkg: Path, tmp_path: Path) -> None:
    lone = tmp_path / starter_apkg.name
    shutil.copy(starter_apkg, lone)
    with pytest.raises(PreviewError, match=r"starter-0\.3\.0\.json.*manifest"):
        write_preview([lone], tmp_path / "out")
    assert not (tmp_path / "out" / "index.html").exists()


def _chromium() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else shutil.which("chromium")


def _run_browser(jobs: Mapping[str, list[str]], work: Path) -> dict[str, str]:
    """Run several headless Chromium processes at once (each with its own profile); return their stdout."""
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not found (/usr/bin/chromium or chromium on PATH)")
    running = {}
    for name, args in jobs.items():
        profile = work / f"profile-{name}"
        command = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
        running[name] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    outputs = {}
    for name, process in running.items():
        stdout, _ = process.communicate(timeout=60)
        assert process.returncode == 0, f"chromium {name} exited with {process.returncode}"
        outputs[name] = stdout
    return outputs


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _png_rows(data: bytes) -> Iterator[list[tuple[int, int, int]]]:
    """Decode an 8-bit RGB(A), non-interlaced PNG (what Chromium writes) into rows of RGB pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    prior = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if method == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif method == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prior, strict=True))
        elif method == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prior[i]) // 2) & 255
        elif method == 4:
            for i in range(stride):
                left, corner = (line[i - bpp], prior[i - bpp]) if i >= bpp else (0, 0)
                line[i] = (line[i] + _paeth(left, prior[i], corner)) & 255
        prior = line
        yield [(line[x], line[x + 1], line[x + 2]) for x in range(0, stride, bpp)]


def _colours(png: Path) -> Counter[tuple[int, int, int]]:
    return Counter(pixel for row in _png_rows(png.read_bytes()) for pixel in row)


def _dark_share(colours: Counter[tuple[int, int, int]]) -> float:
    dark = sum(n for (r, g, b), n in colours.items() if 0.2126 * r + 0.7152 * g + 0.0722 * b < 80)
    return dark / colours.total()


def test_chromium_shows_cards_images_and_night_mode(mixed_page: Path, tmp_path: Path) -> None:
    url = mixed_page.resolve().as_uri()
    window = "--window-size=1000,1400"
    out = _run_browser(
        {
            "dom": ["--dump-dom", url],
            "search": ["--dump-dom", f"{url}?q=tag:topic::pipeline%20deck:clozes#night"],
            "light": [f"--screenshot={tmp_path / 'light.png'}", window, url],
            "night": [f"--screenshot={tmp_path / 'night.png'}", window, f"{url}#night"],
        },
        tmp_path,
    )
    loaded = re.search(r'<body[^>]*data-images-loaded="(\d+)/(\d+)"', out["dom"])
    assert loaded, "the page script ran after load"
    assert loaded.group(1) == loaded.group(2) == "4", "the starter PNG and the three SVG faces all decoded"
    assert re.search(r'id="pv-count"[^>]*>14 of 14 cards<', out["dom"])
    assert not re.search(r'class="card card\d nightMode', out["dom"]), "light mode unless asked"

    shown = re.findall(r'<article class="pv-item"(?![^>]*hidden)[^>]*data-id="([^"]*)"', out["search"])
    assert shown == ["build-stages"] * 3
    assert re.search(r'id="pv-count"[^>]*>3 of 14 cards<', out["search"])
    assert len(re.findall(r'class="card card\d nightMode night_mode"', out["search"])) == 2 * 14, "Anki's classes"

    light, night = tmp_path / "light.png", tmp_path / "night.png"
    assert light.read_bytes() != night.read_bytes()
    shots = {shot.name: _colours(shot) for shot in (light, night)}
    for name, colours in shots.items():
        background = colours.most_common(1)[0][1]
        assert len(colours) > 100, f"{name}: too few colours for rendered text and images"
        assert 1 - background / colours.total() > 0.1, f"{name}: almost a single colour"
    assert _dark_share(shots["light.png"]) < 0.2
    assert _dark_share(shots["night.png"]) > 0.8
